"""Redaction: personal-data suggestions for reviewers and burned-in redacted copies of version documents."""
