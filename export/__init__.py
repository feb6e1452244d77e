"""Records requests and production packages: redaction, BagIt/WACZ, load files, offline verifier (issue 5)."""
