"""Search engines behind one protocol: tantivy (default) and whoosh (pure Python, small archives)."""
