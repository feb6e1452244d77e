"""Signing keys, RFC 8785 envelopes, the RFC 6962 Merkle log, checkpoints and RFC 3161 time-stamps."""
