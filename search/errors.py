"""The root of every error the search package raises, each with a stable code."""

from __future__ import annotations


class SearchError(Exception):
    """A search problem the user can act on; the message says what to do."""

    code: str = "search_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class QuerySyntaxError(SearchError):
    """The query text does not parse. ``position`` is the 0-based character offset of the problem."""

    code = "query_syntax"

    def __init__(self, message: str, *, position: int, query: str) -> None:
        pointer = f"{query}\n{' ' * position}^"
        super().__init__(f"query syntax error at position {position + 1}: {message}\n{pointer}")
        self.position = position
        self.reason = message


class SearchIndexError(SearchError):
    """The index is missing, locked by another writer, or out of step with the catalog."""

    code = "index_error"
