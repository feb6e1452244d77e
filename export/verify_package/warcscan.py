"""Stream the package's .warc.gz files with the standard library: every gzip member, every digest.

Arsip stores one WARC record per gzip member and the package copies members unchanged, so a file is
read member by member (``zlib.decompressobj(wbits=31)``; ``unused_data`` is where the next member
starts). Each member must hold exactly one WARC/1.0 or WARC/1.1 record: its header, ``Content-Length``
bytes of block, and CRLF CRLF. The block is hashed as it streams (a media response is never held in
memory) and compared with ``WARC-Block-Digest``; for a ``resource`` record the payload is the block,
so ``WARC-Payload-Digest`` must match too. Record ids, digests and types are collected for the
envelope cross-check; problems are collected as data and reported with the documents they touch.

warcio is not used because the offline verifier must run with only ``cryptography`` installed; the
test suite reads the same files with warcio as an independent second reader.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import zlib
from dataclasses import dataclass, field

from export.verify_package.zipread import Limits, inflate

MAX_HEADER_BYTES = 256 * 1024
_FIRST_WINDOW = 4096
_SMALL_OUTPUT = 256 * 1024  # below Limits.ratio_floor, so the one-call path needs no ratio check
_MAX_WINDOW = 1 << 20
_END_OF_HEADER = b"\r\n\r\n"
_VERSIONS = ("WARC/1.1", "WARC/1.0")
_WANTED = frozenset({"warc-record-id", "warc-type", "content-length", "warc-block-digest", "warc-payload-digest",
                     "warc-target-uri"})
_SHA256_HEX = re.compile(r"sha256:[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class WarcRecord:
    """One record as found in the package."""

    record_id: str
    file: str
    offset: int  # of its gzip member in the file
    warc_type: str
    block_digest: str | None  # as declared, normalised to "sha256:<lowercase hex>" when it is SHA-256
    payload_digest: str | None
    intact: bool  # the declared digests match the bytes
    target_uri: str | None


@dataclass(frozen=True, slots=True)
class WarcProblem:
    code: str
    file: str
    offset: int
    record_id: str | None
    message: str

    @property
    def subject(self) -> str:
        where = f"{self.file} member at offset {self.offset}"
        return f"{where} (record {self.record_id})" if self.record_id else where


@dataclass
class WarcIndex:
    """Every record of every WARC file in the package, by WARC-Record-ID."""

    limits: Limits = field(default_factory=Limits)
    records: dict[str, WarcRecord] = field(default_factory=dict)
    problems: list[WarcProblem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    duplicates: int = 0  # identical copies of one record (a shared exchange copied for two documents)

    def scanner(self, name: str) -> WarcFileScanner:
        self.files.append(name)
        return WarcFileScanner(name, self)

    def add(self, record: WarcRecord) -> None:
        seen = self.records.get(record.record_id)
        if seen is None:
            self.records[record.record_id] = record
        elif seen.block_digest == record.block_digest and seen.intact and record.intact:
            self.duplicates += 1  # the same stored member twice: an exchange two documents share
        else:
            self.problems.append(WarcProblem("warc_duplicate_record", record.file, record.offset, record.record_id,
                                             f"this WARC-Record-ID is also used by different bytes in {seen.file} "
                                             f"at offset {seen.offset}"))


def parse_digest(value: str | None) -> str | None:
    """``sha256:<hex>`` (or base32, as some tools write) as ``sha256:<lowercase hex>``; else unchanged."""
    if value is None or _SHA256_HEX.fullmatch(value):
        return value
    label, _, encoded = value.strip().partition(":")
    if label.lower() != "sha256":
        return value
    try:
        raw = bytes.fromhex(encoded) if len(encoded) == 64 else base64.b32decode(encoded.upper())
    except (ValueError, binascii.Error):
        return value
    return "sha256:" + raw.hex() if len(raw) == 32 else value


class _Member:
    """One gzip member's WARC record, parsed as its bytes arrive."""

    def __init__(self, offset: int) -> None:
        self.offset = offset
        self.head = bytearray()
        self.fields: dict[str, str] | None = None
        self.remaining = 0
        self.block = hashlib.sha256()
        self.tail = bytearray()
        self.output = 0

    def feed(self, data: bytes) -> str | None:
        """Consume decompressed bytes; returns what is wrong once something is."""
        self.output += len(data)
        if self.fields is not None:
            return self._block(memoryview(data))
        if not self.head:  # the usual case: the whole header arrives at once, parsed without copying
            end = data.find(_END_OF_HEADER)
            if end >= 0:
                return self._parse_header(data[:end]) or self._block(memoryview(data)[end + len(_END_OF_HEADER):])
        search_from = max(len(self.head) - 3, 0)
        self.head += data
        end = self.head.find(_END_OF_HEADER, search_from)
        if end < 0:
            return f"has a WARC header longer than {MAX_HEADER_BYTES} bytes" \
                if len(self.head) > MAX_HEADER_BYTES else None
        head, self.head = bytes(self.head), bytearray()
        return self._parse_header(head[:end]) or self._block(memoryview(head)[end + len(_END_OF_HEADER):])

    def _block(self, view: memoryview) -> str | None:
        take = min(self.remaining, len(view))
        if take:
            self.block.update(view[:take])
            self.remaining -= take
        if take < len(view):
            self.tail += view[take:]
            if len(self.tail) > len(_END_OF_HEADER):
                return "holds more than one WARC record or bytes after the record's CRLF CRLF"
        return None

    def _parse_header(self, head: bytes) -> str | None:
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError:
            return "has a WARC header that is not UTF-8"
        version, _, rest = text.partition("\r\n")
        if version not in _VERSIONS:
            return f"does not start with WARC/1.1 or WARC/1.0 but {version[:40]!r}"
        # Only the fields the checks use are kept (warcio, in the test suite, reads the rest).
        fields: dict[str, str] = {}
        last = ""
        for line in rest.split("\r\n"):
            if line[:1] in (" ", "\t"):
                if last in fields:
                    fields[last] = f"{fields[last]} {line.strip()}"
                continue
            name, colon, value = line.partition(":")
            last = name.strip().lower()
            if not colon or not last:
                return f"has a malformed WARC header line {line[:80]!r}"
            if last in _WANTED:
                if last in fields:
                    return f"has two {name.strip()} headers"
                fields[last] = value.strip()
        for required in ("warc-record-id", "warc-type", "content-length"):
            if required not in fields:
                return f"has no {required} header"
        if not fields["content-length"].isdigit():
            return f"has a Content-Length that is not a number: {fields['content-length'][:40]!r}"
        self.fields = fields
        self.remaining = int(fields["content-length"])
        return None

    def finish(self, file: str) -> tuple[WarcRecord | None, list[tuple[str, str]]]:
        """The record, and (code, message) problems: a cut-short record, a digest that does not match."""
        if self.fields is None:
            return None, [("warc_record_malformed", "ends before the end of its WARC header")]
        if self.remaining or self.tail != _END_OF_HEADER:
            return None, [("warc_record_malformed", "ends before its Content-Length bytes and CRLF CRLF")]
        f = self.fields
        computed = "sha256:" + self.block.hexdigest()
        block_digest = parse_digest(f.get("warc-block-digest"))
        payload_digest = parse_digest(f.get("warc-payload-digest"))
        problems: list[tuple[str, str]] = []
        if block_digest is None:
            problems.append(("warc_digest_missing", "has no WARC-Block-Digest"))
        elif block_digest != computed:
            problems.append(("warc_block_digest_mismatch", f"block hashes to {computed}, but WARC-Block-Digest "
                                                           f"says {block_digest}"))
        if f["warc-type"] == "resource" and payload_digest is not None and payload_digest != computed:
            problems.append(("warc_payload_digest_mismatch", f"payload hashes to {computed}, but "
                                                             f"WARC-Payload-Digest says {payload_digest}"))
        record = WarcRecord(record_id=f["warc-record-id"], file=file, offset=self.offset, warc_type=f["warc-type"],
                            block_digest=block_digest, payload_digest=payload_digest, intact=not problems,
                            target_uri=f.get("warc-target-uri"))
        return record, problems


class WarcFileScanner:
    """Fed one .warc.gz file's bytes in chunks, in order; ``close`` at the end."""

    def __init__(self, name: str, index: WarcIndex) -> None:
        self.name = name
        self._index = index
        self._inflater: zlib._Decompress | None = None
        self._member: _Member | None = None
        self._offset = 0  # of the current member
        self._fed = 0  # compressed bytes of the current member so far
        self._dead = False
        self._members = 0
        self._window = _FIRST_WINDOW

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self._dead:
            if self._inflater is None:
                used = self._small_member(view)
                if used:
                    view = view[used:]
                    continue
                self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
                self._member = _Member(self._offset)
                self._fed = 0
                self._window = _FIRST_WINDOW
            # A member ends inside whatever it is given and zlib copies the rest to unused_data, so it
            # is given a small window first (most members are a few hundred bytes), doubling as it grows:
            # feeding whole chunks would copy a megabyte per record.
            piece = view[:self._window]
            self._window = min(self._window * 2, _MAX_WINDOW)
            if not self._inflate(piece):
                return
            used = len(piece) - len(self._inflater.unused_data) if self._inflater.eof else len(piece)
            self._fed += used
            view = view[used:]
            if self._inflater.eof and self._member is not None:
                self._end_member(self._member)

    def _small_member(self, view: memoryview) -> int:
        """A member that fits in the first window, in one call (most records): the compressed bytes it
        used, or 0 to take the general path (a larger member, or one zlib refuses: that path says why)."""
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        piece = view[:_FIRST_WINDOW]
        try:
            out = inflater.decompress(piece, _SMALL_OUTPUT)
        except zlib.error:
            return 0
        if not inflater.eof:
            return 0
        member = _Member(self._offset)
        problem = member.feed(out)
        self._fed = len(piece) - len(inflater.unused_data)
        if problem:
            self._fail("warc_record_malformed", problem, member)
        else:
            self._end_member(member)
        return self._fed

    def _inflate(self, piece: memoryview) -> bool:
        inflater, member = self._inflater, self._member
        assert inflater is not None and member is not None
        try:
            for out in inflate(inflater, piece):
                problem = member.feed(out)
                if problem:
                    self._fail("warc_record_malformed", problem, member)
                    return False
                if self._too_large(member, self._fed + len(piece) - len(inflater.unconsumed_tail)):
                    self._fail("warc_unreadable", f"inflates more than {self._index.limits.max_ratio}:1 "
                                                  "(a gzip bomb?)", member)
                    return False
        except zlib.error as exc:
            self._fail("warc_unreadable", f"is not valid gzip data ({exc})", member)
            return False
        return True

    def close(self) -> None:
        if self._dead:
            return
        if self._inflater is not None and self._member is not None:
            self._fail("warc_unreadable", "ends inside a gzip member: the file is truncated", self._member)
        elif not self._members:
            self._index.problems.append(WarcProblem("warc_unreadable", self.name, 0, None, "holds no WARC record"))

    def _too_large(self, member: _Member, compressed: int) -> bool:
        limits = self._index.limits
        return member.output > max(compressed * limits.max_ratio, limits.ratio_floor)

    def _end_member(self, member: _Member) -> None:
        record, problems = member.finish(self.name)
        record_id = record.record_id if record else _declared_id(member)
        for code, message in problems:
            self._index.problems.append(WarcProblem(code, self.name, member.offset, record_id, message))
        if record is not None:
            self._index.add(record)
        self._members += 1
        self._offset += self._fed
        self._inflater = self._member = None

    def _fail(self, code: str, message: str, member: _Member) -> None:
        self._index.problems.append(WarcProblem(code, self.name, member.offset, _declared_id(member),
                                                f"{message}; the rest of the file is not checked"))
        self._dead = True


def _declared_id(member: _Member) -> str | None:
    return member.fields.get("warc-record-id") if member.fields else None
