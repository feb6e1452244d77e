"""The catalog: SQLAlchemy models and the queries the rest of Arsip uses (derived from the object store)."""
