"""The arsip command line: thin wrappers over typed functions."""
