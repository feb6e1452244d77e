"""Raw evidence a capture records before parsing: an HTTP exchange, or one entry of a data export."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from archiver.warc.exchange import HttpExchange, write_exchange
from archiver.warc.writer import WarcFile, WrittenRecord


class RawEvidence(Protocol):
    """Something received from a platform, written to WARC exactly as received."""

    @property
    def captured_at(self) -> datetime: ...

    @property
    def uri(self) -> str: ...

    @property
    def size(self) -> int:
        """Body bytes, for batch sizing."""
        ...

    def write_to(self, warc: WarcFile) -> tuple[WrittenRecord, ...]:
        """Write the evidence; the first record is the one derived records point at."""
        ...

    def release(self) -> None:
        """Free local resources (a spooled media body) once the evidence is committed."""
        ...


@dataclass(frozen=True)
class ExchangeEvidence:
    """A live API exchange: a response record and its request record."""

    exchange: HttpExchange

    @property
    def captured_at(self) -> datetime:
        return self.exchange.started_at

    @property
    def uri(self) -> str:
        return self.exchange.url

    @property
    def size(self) -> int:
        return self.exchange.body_length

    def write_to(self, warc: WarcFile) -> tuple[WrittenRecord, ...]:
        written = write_exchange(warc, self.exchange)
        return (written.response, written.request)

    def release(self) -> None:
        if self.exchange.body_path is not None:
            self.exchange.body_path.unlink(missing_ok=True)


@dataclass(frozen=True)
class ExportEntry:
    """One item or file from a platform's data export, kept as a resource record.

    ``fields`` become extra WARC header fields naming the export file and its SHA-256, so the
    provenance says the content came from an export and not from a live capture.
    """

    uri: str
    body: bytes
    content_type: str
    captured_at: datetime
    fields: Mapping[str, str] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.body)

    def write_to(self, warc: WarcFile) -> tuple[WrittenRecord, ...]:
        record = warc.write("resource", self.uri, self.body, date=self.captured_at,
                            content_type=self.content_type, headers=self.fields)
        return (record,)

    def release(self) -> None:
        pass  # held in memory only
