"""WARC writing and reading: raw exchanges, normalized versions, one gzip member per record."""
