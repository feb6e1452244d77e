"""Verification an auditor can trust: recompute every digest, signature and proof from the store."""
