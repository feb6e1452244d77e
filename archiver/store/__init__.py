"""Object stores chosen by URL scheme: file:// (default), s3://, memory:// (unit tests)."""
