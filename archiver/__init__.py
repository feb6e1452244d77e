"""Arsip's evidence core: capture, signing, the Merkle log, storage and the catalog."""

__version__ = "0.1.0.dev0"
