"""Plain text from platform HTML for search and display; the HTML itself is kept verbatim as content."""

from __future__ import annotations

from html.parser import HTMLParser

_BREAKS = {"br", "p", "div", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6"}
_SKIP = {"script", "style", "template"}


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skipping += 1
        elif tag in _BREAKS and self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP and self._skipping:
            self._skipping -= 1
        elif tag in ("p", "div", "li", "blockquote"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment. Script and style contents are dropped, never executed;
    ``<script>`` written as *text* by a user arrives escaped and stays visible text."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    lines = [" ".join(line.split()) for line in "".join(collector.parts).splitlines()]
    return "\n".join(line for line in lines if line)
