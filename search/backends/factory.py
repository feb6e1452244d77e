"""Open the configured backend (imports the engine only when it is chosen)."""

from __future__ import annotations

from pathlib import Path

from search.backends.base import SearchBackend
from search.errors import SearchError


def open_backend(name: str, directory: Path) -> SearchBackend:
    if name == "tantivy":
        from search.backends.tantivy_index import TantivyBackend

        return TantivyBackend(directory)
    if name == "whoosh":
        from search.backends.whoosh_index import WhooshBackend

        return WhooshBackend(directory)
    raise SearchError(f"unknown search backend {name!r}; use tantivy or whoosh", code="unknown_backend")
