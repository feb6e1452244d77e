"""Alembic migrations for the catalog; the database URL comes from Arsip's settings."""
