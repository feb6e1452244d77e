"""The query language: one parser producing one AST, compiled by each backend."""
