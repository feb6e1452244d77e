"""Legal search over the archive: one query language, tantivy (default) and whoosh backends (issue 4)."""
