"""Write a WACZ 1.1.1 from stored WARC members: streamed, indexed in CDXJ, optionally signed with Arsip's key.

Each stored member (one gzip member holding one WARC 1.0/1.1 record) is inflated once to prove it is
whole and to read its headers, then copied byte for byte to ``archive/data.warc.gz`` in a temporary
file beside the target. Nothing grows with the archive in memory except the index, and that only up
to a budget: beyond it sorted runs spill to temporary files and are merged at the end. ``close``
writes ``<name>.partial`` and renames it over the target, so a WACZ that exists is complete; an
exception inside ``with`` removes every temporary file and leaves nothing at the target. The bytes
depend only on the inputs and ``created`` (zip entry times included), so the same production always
gives the same file.

Decisions a verifier or a player needs to know:

* **Signature (Ed25519, not authsign's ECDSA).** WACZ signing 0.1.0 signs the ASCII string
  ``sha256:<hex of datapackage.json>`` with ECDSA P-256/P-384, anonymously or with a domain
  certificate and an RFC 3161 token. Arsip signs with its own Ed25519 archive key instead, the key
  that already signs every record envelope and log checkpoint, so one published key list verifies
  everything and no domain certificate or TSA is needed at export time. ``signedData`` keeps the
  anonymous-variant fields (``hash``, ``created``, ``software``, ``version`` = the signing spec
  version ``0.1.0``, ``signature`` = base64 Ed25519 signature over the ASCII hash string,
  ``publicKey`` = base64 of the raw 32-byte key, as Arsip's public key export writes it) and adds
  ``keyId`` and ``algorithm: "ed25519"``. To verify: check every resource hash, check ``hash``
  against ``datapackage.json``, check the signature with the public key, and check ``keyId``/
  ``publicKey`` against Arsip's exported key list. ``created`` equals the datapackage's ``created``
  (py-wacz's validator requires it). ReplayWeb.page tries to import ``publicKey`` as ECDSA, fails,
  logs a warning and replays normally; ``wacz validate`` checks the hashes and skips the signature.
* **recordDigest** in each CDXJ line is the SHA-256 of the stored gzip member exactly as it sits in
  ``data.warc.gz`` (py-wacz's meaning): ReplayWeb.page hashes the range it fetched and compares, so
  a WARC-Block-Digest there would mark every record as failing verification. The block digest stays
  in the record's own header.
* **Index keys** follow warcio.js ``getSurt`` (what ReplayWeb.page computes for a lookup): lowercase,
  leading ``www.`` dropped, host reversed with commas, non-default port, ``)``, path, query arguments
  sorted. Other URIs (``urn:arsip:...``) are their own key. Anything that could split a CDXJ line
  (spaces, controls, non-ASCII) is percent-encoded in the key; the JSON is ASCII-escaped.
* Only ``response``, ``resource`` and ``revisit`` records are indexed; ``request``, ``metadata`` and
  ``warcinfo`` records are archived but not looked up. The index is one plain ``index.cdxj``, which
  players load whole: fine for productions of up to a few hundred thousand records.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import heapq
import json
import os
import re
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol
from urllib.parse import urlsplit

from archiver.clock import isoformat_z, parse_timestamp, utc
from export.errors import ExportError

WACZ_VERSION = "1.1.1"
SIGNING_VERSION = "0.1.0"
ARCHIVE_NAME = "data.warc.gz"
ARCHIVE_PATH = f"archive/{ARCHIVE_NAME}"
INDEX_PATH = "indexes/index.cdxj"
PAGES_PATH = "pages/pages.jsonl"
DATAPACKAGE_PATH = "datapackage.json"
DIGEST_PATH = "datapackage-digest.json"
PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}
INDEXED_TYPES = frozenset({"response", "resource", "revisit"})
GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 256 * 1024
MAX_HEAD = 1024 * 1024
INDEX_BUFFER_BYTES = 16 * 1024 * 1024
_LINE_OVERHEAD = 64  # a str object and its list slot, roughly, on top of its characters
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})")
_WWW = re.compile(r"^www\d*\.")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PATH_UNSAFE = frozenset(' "<>`{}')
_QUERY_UNSAFE = frozenset(" \"<>'")
_COMPACT = (",", ":")


class WaczError(ExportError):
    """A WACZ could not be written: a member is not one whole WARC record, a page is malformed, or
    the writer was used out of order."""

    code = "wacz_invalid"


class WaczSigner(Protocol):
    """What signs the package: Arsip's :class:`archiver.integrity.keys.Signer` fits."""

    @property
    def key_id(self) -> str: ...

    @property
    def public_key_bytes(self) -> bytes: ...

    def sign(self, data: bytes) -> bytes: ...


@dataclass(frozen=True)
class WaczPage:
    """One entry of ``pages/pages.jsonl``: where replay starts for a group of records."""

    url: str
    ts: str  # RFC 3339
    title: str
    id: str


@dataclass(frozen=True)
class WaczSummary:
    """What was written, for the production log."""

    path: Path
    records: int
    indexed: int
    pages: int
    size: int  # bytes of the .wacz file
    datapackage_hash: str
    key_id: str | None


@dataclass(frozen=True)
class _Head:
    fields: dict[str, str]  # lowercased field name -> first value
    http_status: str | None
    http_mime: str | None
    record_length: int  # header, block and the closing CRLF CRLF


class WaczWriter:
    """Build one WACZ file; use as a context manager, add records, then :meth:`close`."""

    def __init__(self, path: Path, *, title: str, description: str, created: datetime, software: str,
                 signer: WaczSigner | None = None, index_buffer_bytes: int = INDEX_BUFFER_BYTES) -> None:
        self.path = Path(path)
        self.title, self.description, self.software = title, description, software
        self.created = isoformat_z(utc(created))
        self._zip_time = utc(created).timetuple()[:6]
        self.signer = signer
        self.summary: WaczSummary | None = None
        self._state = "open"
        self._records = self._indexed = self._pages = 0
        self._offset = 0
        self._main_page: WaczPage | None = None
        directory = self.path.parent
        fd, name = tempfile.mkstemp(dir=directory, prefix=f".{self.path.name}.", suffix=".warc.gz.tmp")
        self._data_path = Path(name)
        self._data: IO[bytes] = os.fdopen(fd, "wb")
        self._page_lines: IO[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed by _discard
            max_size=1024 * 1024, dir=str(directory))
        self._index = _LineSorter(directory, index_buffer_bytes)

    def __enter__(self) -> WaczWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is not None:
            self._discard()
        elif self._state == "open":
            self.close()

    def add_records(self, members: Iterable[bytes], *, page: WaczPage | None = None) -> None:
        """Append stored members (each one gzip member, one record) and, optionally, their page."""
        self._require_open()
        try:
            page_line = _page_line(page) if page is not None else None
            for member in members:
                self._add_member(member)
            if page_line is not None:
                self._page_lines.write(page_line)
                self._pages += 1
                self._main_page = self._main_page or page
        except BaseException:
            # Part of this group may already be in the archive; a package missing part of a group is wrong.
            self._state = "failed"
            raise

    def _add_member(self, member: bytes) -> None:
        if not isinstance(member, bytes | bytearray | memoryview):
            raise WaczError(f"record {self._records + 1}: expected the stored member's bytes, "
                            f"got {type(member).__name__}", code="wacz_member")
        member = bytes(member)
        try:
            head = _read_head(member)
        except WaczError as exc:
            raise WaczError(f"record {self._records + 1}: {exc}; re-read it from the store and check its "
                            "digest before exporting", code=exc.code) from None
        self._data.write(member)
        line = _index_line(head, self._offset, len(member), "sha256:" + hashlib.sha256(member).hexdigest())
        if line is not None:
            self._index.add(line)
            self._indexed += 1
        self._offset += len(member)
        self._records += 1

    def close(self) -> WaczSummary:
        """Finish the zip as ``<name>.partial``, then rename it to the target path."""
        self._require_open()
        if self._records == 0:
            self._discard()
            raise WaczError("no records were added; a WACZ must archive at least one record", code="wacz_empty")
        partial = self.path.with_suffix(".partial")
        try:
            self._data.close()
            with open(partial, "wb") as handle:
                digest = self._write_zip(handle)
                handle.flush()
                os.fsync(handle.fileno())
            size = partial.stat().st_size
            os.replace(partial, self.path)
        except BaseException:
            partial.unlink(missing_ok=True)
            self._discard()
            raise
        self._discard()
        self._state = "closed"
        _fsync_directory(self.path.parent)
        key_id = self.signer.key_id if self.signer else None
        self.summary = WaczSummary(self.path, self._records, self._indexed, self._pages, size, digest, key_id)
        return self.summary

    def _write_zip(self, handle: IO[bytes]) -> str:
        with zipfile.ZipFile(handle, "w", allowZip64=True) as archive:
            with open(self._data_path, "rb") as data:
                resources = [self._copy(archive, ARCHIVE_PATH, data, self._offset, zipfile.ZIP_STORED)]
            resources.append(self._write_index(archive))
            pages_size = self._page_lines.tell()
            self._page_lines.seek(0)
            header = json.dumps(PAGES_HEADER, separators=_COMPACT).encode() + b"\n"
            pages = _Chained(header, self._page_lines)
            resources.append(self._copy(archive, PAGES_PATH, pages, len(header) + pages_size, zipfile.ZIP_DEFLATED))
            datapackage = json.dumps(self._datapackage(resources), indent=2, ensure_ascii=False).encode()
            digest = "sha256:" + hashlib.sha256(datapackage).hexdigest()
            archive.writestr(self._entry(DATAPACKAGE_PATH, zipfile.ZIP_DEFLATED), datapackage)
            document: dict[str, Any] = {"path": DATAPACKAGE_PATH, "hash": digest}
            if self.signer is not None:
                document["signedData"] = self._signed_data(digest)
            archive.writestr(self._entry(DIGEST_PATH, zipfile.ZIP_DEFLATED), json.dumps(document, indent=2).encode())
        return digest

    def _write_index(self, archive: zipfile.ZipFile) -> dict[str, Any]:
        info = self._entry(INDEX_PATH, zipfile.ZIP_DEFLATED)
        info.file_size = self._index.size  # lets zipfile choose ZIP64 for a huge index
        digest, size, buffer = hashlib.sha256(), 0, bytearray()
        with archive.open(info, "w") as out:
            for line in self._index.sorted_lines():
                buffer += line.encode("ascii") + b"\n"
                if len(buffer) >= CHUNK:
                    digest.update(buffer)
                    out.write(buffer)
                    size += len(buffer)
                    buffer.clear()
            digest.update(buffer)
            out.write(buffer)
            size += len(buffer)
        return _resource(INDEX_PATH, digest.hexdigest(), size)

    def _copy(self, archive: zipfile.ZipFile, name: str, source: IO[bytes] | _Chained, size: int,
              compression: int) -> dict[str, Any]:
        info = self._entry(name, compression)
        info.file_size = size
        digest, copied = hashlib.sha256(), 0
        with archive.open(info, "w") as out:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                copied += len(chunk)
        if copied != size:
            raise WaczError(f"{name} changed while it was being packaged ({copied} bytes, expected {size})",
                            code="wacz_io")
        return _resource(name, digest.hexdigest(), copied)

    def _entry(self, name: str, compression: int) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=self._zip_time)
        info.compress_type = compression
        info.create_system = 3  # unix, so external_attr means the same on every platform
        info.external_attr = 0o100644 << 16
        return info

    def _datapackage(self, resources: list[dict[str, Any]]) -> dict[str, Any]:
        package: dict[str, Any] = {
            "profile": "data-package", "wacz_version": WACZ_VERSION, "title": self.title,
            "description": self.description, "created": self.created, "modified": self.created,
            "software": self.software,
        }
        if self._main_page is not None:
            package["mainPageUrl"] = self._main_page.url
            package["mainPageDate"] = self._main_page.ts
        package["resources"] = resources
        return package

    def _signed_data(self, digest: str) -> dict[str, str]:
        assert self.signer is not None
        signature = self.signer.sign(digest.encode("ascii"))
        return {
            "hash": digest, "created": self.created, "software": self.software, "version": SIGNING_VERSION,
            "signature": base64.b64encode(signature).decode("ascii"),
            "publicKey": base64.b64encode(self.signer.public_key_bytes).decode("ascii"),
            "keyId": self.signer.key_id, "algorithm": "ed25519",
        }

    def _require_open(self) -> None:
        if self._state == "failed":
            raise WaczError("an earlier add_records call failed, so this package is incomplete; "
                            "start a new WaczWriter", code="wacz_state")
        if self._state != "open":
            raise WaczError(f"{self.path.name} is already {self._state}; start a new WaczWriter", code="wacz_state")

    def _discard(self) -> None:
        """Remove every temporary file (idempotent); the target path is only ever written by rename."""
        if self._state == "open":
            self._state = "discarded"
        self._data.close()
        self._data_path.unlink(missing_ok=True)
        self._page_lines.close()
        self._index.close()


class _Chained:
    """A header line followed by a file, read as one stream."""

    def __init__(self, first: bytes, rest: IO[bytes]) -> None:
        self._first, self._rest = first, rest

    def read(self, size: int) -> bytes:
        if self._first:
            chunk, self._first = self._first, b""
            return chunk
        return self._rest.read(size)


class _LineSorter:
    """Sorts ASCII lines within a memory budget: full buffers are sorted and spilled as runs, then merged."""

    def __init__(self, directory: Path, budget: int) -> None:
        self._directory, self._budget = directory, budget
        self._lines: list[str] = []
        self._held = 0
        self._runs: list[IO[str]] = []
        self.size = 0  # bytes of the finished index, newlines included

    def add(self, line: str) -> None:
        self._lines.append(line)
        self._held += len(line) + _LINE_OVERHEAD
        self.size += len(line) + 1
        if self._held >= self._budget:
            run = tempfile.TemporaryFile(  # noqa: SIM115 - closed by close()
                "w+", encoding="ascii", newline="\n", dir=self._directory)
            self._lines.sort()
            run.writelines(line + "\n" for line in self._lines)
            run.seek(0)
            self._runs.append(run)
            self._lines, self._held = [], 0

    def sorted_lines(self) -> Iterator[str]:
        self._lines.sort()
        runs = [(line.rstrip("\n") for line in run) for run in self._runs]
        return heapq.merge(self._lines, *runs)

    def close(self) -> None:
        for run in self._runs:
            run.close()
        self._runs, self._lines = [], []


def _resource(path: str, hexdigest: str, size: int) -> dict[str, Any]:
    return {"name": path.rsplit("/", 1)[-1], "path": path, "hash": "sha256:" + hexdigest, "bytes": size}


def _page_line(page: WaczPage) -> bytes:
    if not page.url:
        raise WaczError(f"page {page.id!r} has no url", code="wacz_page")
    try:
        parse_timestamp(page.ts)
    except (TypeError, ValueError) as exc:
        raise WaczError(f"page {page.id!r}: ts {page.ts!r} is not an RFC 3339 timestamp with a zone ({exc})",
                        code="wacz_page") from None
    entry = {"id": page.id, "url": page.url, "ts": page.ts, "title": page.title}
    return json.dumps(entry, separators=_COMPACT).encode("ascii") + b"\n"


def _read_head(member: bytes) -> _Head:
    """Inflate ``member`` completely (it must be exactly one gzip member) and parse its heads."""
    if not member.startswith(GZIP_MAGIC):
        raise WaczError("stored member is not gzip-compressed", code="wacz_member")
    start, total = bytearray(), 0
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    pending = member
    try:
        while not inflater.eof:
            data = inflater.decompress(pending, CHUNK)
            pending = inflater.unconsumed_tail
            total += len(data)
            if len(start) < MAX_HEAD:
                start += data[:MAX_HEAD - len(start)]
            if not data and not pending:
                break
    except zlib.error as exc:
        raise WaczError(f"gzip data is corrupt ({exc})", code="wacz_member") from None
    if not inflater.eof:
        raise WaczError("gzip member is truncated", code="wacz_member")
    if inflater.unused_data:
        raise WaczError("more than one gzip member (one record per stored member expected)", code="wacz_member")
    head = _parse_head(bytes(start))
    if total != head.record_length:
        raise WaczError(f"the member inflates to {total} bytes but its record is {head.record_length} "
                        "(one record per stored member, Content-Length exact)", code="wacz_member")
    return head


def _parse_head(data: bytes) -> _Head:
    end = data.find(b"\r\n\r\n")
    if not data.startswith((b"WARC/1.0\r\n", b"WARC/1.1\r\n")) or end < 0:
        raise WaczError("not a WARC/1.0 or WARC/1.1 record with a complete header", code="wacz_member")
    fields = _fields(data[:end].decode("utf-8", "replace").split("\r\n")[1:])
    length = fields.get("content-length", "")
    if not length.isdigit():
        raise WaczError(f"Content-Length {length!r} is not a number of octets", code="wacz_member")
    status = mime = None
    if fields.get("warc-type") in ("response", "revisit") and fields.get("content-type", "").startswith(
            "application/http"):
        block = data[end + 4:]
        http_end = block.find(b"\r\n\r\n")
        if block.startswith(b"HTTP/") and http_end > 0:
            lines = block[:http_end].decode("latin-1").split("\r\n")
            code = lines[0].split(" ", 2)[1] if lines[0].count(" ") else ""
            status = code if len(code) == 3 and code.isdigit() else None
            mime = _fields(lines[1:], strict=False).get("content-type")
    return _Head(fields, status, mime, end + 4 + int(length) + 4)


def _fields(lines: list[str], *, strict: bool = True) -> dict[str, str]:
    """Header fields by lowercased name (first value wins); HTTP heads are parsed leniently."""
    fields: dict[str, str] = {}
    last = None
    for line in lines:
        if line[:1] in (" ", "\t") and last is not None:
            fields[last] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        if not colon:
            if not strict:
                continue
            raise WaczError(f"malformed header line {line[:80]!r}", code="wacz_member")
        last = name.strip().lower()
        if last in fields:
            last = None  # repeated fields (WARC-Concurrent-To) are not needed for the index
        else:
            fields[last] = value.strip()
    return fields


def _index_line(head: _Head, offset: int, length: int, record_digest: str) -> str | None:
    fields = head.fields
    kind = fields.get("warc-type", "")
    url = fields.get("warc-target-uri", "")
    if url.startswith("<") and url.endswith(">"):
        url = url[1:-1]  # some WARC 1.0 writers bracket the URI
    url = url.replace(" ", "%20")  # as warcio reads it back, so a player's record/index URL check agrees
    if kind not in INDEXED_TYPES or not url:
        return None
    moment = _DATE.match(fields.get("warc-date", ""))
    if moment is None:
        raise WaczError(f"WARC-Date {fields.get('warc-date')!r} is not a W3C-DTF UTC timestamp", code="wacz_member")
    entry = {"url": url}
    if kind == "revisit":
        mime = "warc/revisit"
    else:
        mime = (head.http_mime if kind == "response" else fields.get("content-type")) or ""
    if essence := mime.split(";")[0].split():
        entry["mime"] = essence[0]
    status = "200" if kind == "resource" else head.http_status
    if status:
        entry["status"] = status
    digest = fields.get("warc-payload-digest") or (fields.get("warc-block-digest") if kind == "resource" else None)
    if digest:
        entry["digest"] = digest
    entry.update(length=str(length), offset=str(offset), filename=ARCHIVE_NAME, recordDigest=record_digest)
    return f"{surt(url)} {''.join(moment.groups())} {json.dumps(entry, separators=_COMPACT)}"


def surt(url: str) -> str:
    """The CDXJ lookup key for ``url``, as warcio.js ``getSurt`` computes it, safe to put in a CDXJ line."""
    lowered = url.lower()
    if not lowered.startswith(("http:", "https:")):
        return _escape(url, frozenset())
    try:
        parts = urlsplit(lowered)
        port = parts.port
    except ValueError:
        return _escape(url, frozenset())
    host = _WWW.sub("", parts.hostname or "")
    if not host.isascii():
        with contextlib.suppress(UnicodeError):  # an invalid international name is percent-encoded below
            host = host.encode("idna").decode("ascii")
    key = _escape(",".join(reversed(host.split("."))), _PATH_UNSAFE)
    if port is not None and port != _DEFAULT_PORTS[parts.scheme]:
        key += f":{port}"
    key += ")" + _escape(parts.path or "/", _PATH_UNSAFE)
    if parts.query:
        key += "?" + "&".join(sorted(_escape(parts.query, _QUERY_UNSAFE).split("&")))
    return key


def _escape(text: str, unsafe: frozenset[str]) -> str:
    if text.isascii() and text.isprintable() and " " not in text and not unsafe.intersection(text):
        return text
    return "".join(
        char if char.isascii() and char.isprintable() and char != " " and char not in unsafe
        else "".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
        for char in text)


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # not supported here (Windows); the rename itself is still atomic
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

