"""Build one production of a records request: one zip holding a signed BagIt 1.0 bag.

Records are read and written one family at a time (a post and its comments in the production), so
memory stays bounded by the largest thread, not the production. The bag is built in a private
staging directory next to the output and the zip is renamed into place only when complete; any
failure leaves nothing at the destination. The layout is documented in the package's README.txt
and in docs/requests.md, and checked by ``export.verify_package``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import platform
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import Any, BinaryIO

from archiver import __version__
from archiver.clock import isoformat_z
from archiver.db.queries import VersionLocation, record_detail, version_locations
from archiver.db.retention_rows import StoredVersionRef, version_refs
from archiver.store.streams import hash_file
from archiver.wiring import Archive
from export.bag import make_bag, write_tag_manifest
from export.errors import ExportError
from export.production.content import RecordContent, record_content
from export.production.files import INDEX_COLUMNS, WITHHOLDING_COLUMNS, CsvRegister, WarcSeries, readme, write_json
from export.production.loadfiles import LoadDocument, LoadFileWriter
from export.production.plan import PlannedDocument, plan
from export.production.proofs import ProofWriter, write_key_files
from export.production.record_pdf import (
    BatesFormat,
    Marker,
    RecordView,
    RenderedPdf,
    ThreadItem,
    VersionLine,
    render_record,
)
from export.production.wacz import WaczPage, WaczWriter
from export.redaction.burn import assert_absent
from export.requests.case import Case
from export.transfer_source import EnvelopeBatches, stored_members

SIGNATURE_FILE = "arsip-signature.json"
SIGNATURE_FORMAT = "arsip.package-signature/1"
PACKAGE_FORMAT = "arsip.production/1"
_STORED = (".gz", ".pdf", ".wacz", ".zip")
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ProductionOptions:
    out_dir: Path
    bates_prefix: str | None = None  # default: from the request number, e.g. "FOIA2024001-"
    bates_width: int = 6
    bates_start: int | None = None  # default: after the last number of the request's earlier productions
    pdf: bool = True
    wacz: bool = False
    only: tuple[str, ...] = ()
    progress: Progress | None = None


@dataclass
class BuiltProduction:
    id: str
    sequence: int
    path: Path
    records: list[str]
    first_bates: str
    last_bates: str
    last_number: int
    sha256: str
    bytes: int
    counts: dict[str, int] = field(default_factory=dict)


def next_production(case: Case) -> tuple[int, str]:
    sequence = len(case.productions) + 1
    return sequence, f"{case.number}-P{sequence:03d}"


def default_bates_prefix(number: str) -> str:
    return (re.sub(r"[^A-Za-z0-9]", "", number).upper()[:12] or "ARSIP") + "-"


def build_production(archive: Archive, case: Case, options: ProductionOptions, *, actor: str) -> BuiltProduction:
    """Write the next production of ``case`` as ``<out_dir>/<number>-Pnnn.zip``; the caller records it."""
    sequence, production_id = next_production(case)
    target = options.out_dir / f"{production_id}.zip"
    if os.path.lexists(target):
        raise ExportError(f"{target} already exists; move it away or choose another --out", code="target_exists")
    if not options.out_dir.is_dir():
        raise ExportError(f"output directory {options.out_dir} does not exist", code="target_parent_missing")
    bates = BatesFormat(prefix=options.bates_prefix or default_bates_prefix(case.number), width=options.bates_width)
    documents = plan(archive, case, only=options.only)
    staging = Path(tempfile.mkdtemp(prefix=f".{production_id}.partial-", dir=options.out_dir))
    try:
        built = _Builder(archive, case, options, bates, production_id, staging, actor).run(documents)
        summary = _finish_bag(archive, case, staging, production_id, built)
        partial = options.out_dir / f".{production_id}.zip.partial"
        digest, size = _zip(staging, partial)
        if os.path.lexists(target):
            raise ExportError(f"{target} appeared while the package was being built", code="target_exists")
        os.rename(partial, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        (options.out_dir / f".{production_id}.zip.partial").unlink(missing_ok=True)
    return BuiltProduction(id=production_id, sequence=sequence, path=target, records=[d.record_id for d in documents],
                           first_bates=built.first_bates, last_bates=built.last_bates, last_number=built.next - 1,
                           sha256=digest, bytes=size, counts={**built.counts, "files": summary})


@dataclass(frozen=True)
class _Stored:
    locations: list[VersionLocation]  # each version's log leaf and envelope batch
    refs: list[StoredVersionRef]  # each version's WARC records (released documents only)


@dataclass(frozen=True)
class _Written:
    paths: dict[str, str]  # native, text, pdf: bag paths ("" when absent)
    native_sha256: str
    native_bytes: int
    text_bytes: int
    image_bytes: int


class _Builder:
    """Writes the payload (``data/``) document by document."""

    def __init__(self, archive: Archive, case: Case, options: ProductionOptions, bates: BatesFormat,
                 production_id: str, root: Path, actor: str) -> None:
        self.archive, self.case, self.options, self.bates = archive, case, options, bates
        self.production_id, self.actor = production_id, actor
        self.data = root
        for sub in ("documents", "warc", "proofs", "loadfiles"):
            (root / sub).mkdir()
        self.next = options.bates_start or max((p.last_number for p in case.productions), default=0) + 1
        self.first_bates = self.last_bates = ""
        self.counts: dict[str, int] = {"produced": 0, "redacted": 0, "withheld": 0, "versions": 0, "pages": 0}
        self.envelopes = EnvelopeBatches(archive.store)
        self.proofs = ProofWriter(archive)
        self.created = archive.clock.now()

    def run(self, documents: Sequence[PlannedDocument]) -> _Builder:
        warcs = WarcSeries(self.data / "warc", self.production_id)
        index = CsvRegister(self.data / "index.csv", INDEX_COLUMNS)
        log = CsvRegister(self.data / "withholding-log.csv", WITHHOLDING_COLUMNS)
        wacz = self._wacz()
        try:
            with open(self.data / "proofs" / "envelopes.jsonl", "xb") as envelopes, \
                    open(self.data / "proofs" / "inclusion.jsonl", "xb") as inclusion, \
                    LoadFileWriter(self.data / "loadfiles", name=self.production_id) as loads:
                done = 0
                for _family, members in groupby(documents, key=lambda d: d.family):
                    family = list(members)
                    contents, stored = self._contents(family)
                    self._family(contents, stored, warcs, index, log, loads, envelopes, inclusion, wacz)
                    done += len(family)
                    if self.options.progress:
                        self.options.progress(done, len(documents))
            if wacz is not None:
                wacz.close()
        finally:
            warcs.close()
            index.close()
            log.close()
        write_key_files(self.archive, self.data / "proofs", self.proofs.checkpoint)
        return self

    def _wacz(self) -> WaczWriter | None:
        if not self.options.wacz:
            return None
        (self.data / "wacz").mkdir()
        return WaczWriter(self.data / "wacz" / f"{self.production_id}.wacz",
                          title=f"Records request {self.case.number}, production {self.production_id}",
                          description="Web archive of the released records, for replay in standard players.",
                          created=self.created, software=f"Arsip {__version__}", signer=self.archive.signer())

    def _contents(self, family: Sequence[PlannedDocument]) -> tuple[list[RecordContent], dict[str, _Stored]]:
        """The family's records and, from the same catalog transaction, where their envelopes and (for
        released records) WARC records are."""
        with self.archive.catalog.read() as conn:
            details = [record_detail(conn, d.record_id) for d in family]
            stored = {d.record_id: _Stored(version_locations(conn, d.record_id),
                                           list(version_refs(conn, [d.record_id])) if d.status == "produced" else [])
                      for d in family}
        return [record_content(self.archive, self.case, detail, d.status)
                for d, detail in zip(family, details, strict=True)], stored

    def _family(self, contents: list[RecordContent], stored: dict[str, _Stored], warcs: WarcSeries,
                index: CsvRegister, log: CsvRegister, loads: LoadFileWriter, envelopes: BinaryIO,
                inclusion: BinaryIO, wacz: WaczWriter | None) -> None:
        rendered = []
        for position, content in enumerate(contents):
            doc_id = self.bates.number(self.next)
            thread = contents if position == 0 else [content]
            pdf = render_record(self._view(doc_id, content, thread), bates=self.bates, first_page=self.next) \
                if self.options.pdf else None
            pages = pdf.pages if pdf else 1
            rendered.append((doc_id, content, pdf, [self.bates.number(self.next + i) for i in range(pages)]))
            self.next += pages
        family_first, family_last = rendered[0][3][0], rendered[-1][3][-1]
        self.first_bates = self.first_bates or family_first
        self.last_bates = family_last
        parent_id = rendered[0][0]
        for doc_id, content, pdf, page_bates in rendered:
            written = self._write_document(doc_id, content, pdf)
            paths = written.paths
            self._evidence(content, stored[content.detail.record.id], warcs, envelopes, inclusion, wacz)
            record = content.detail.record
            index.add({"doc_id": doc_id, "beg_bates": page_bates[0], "end_bates": page_bates[-1],
                       "record_id": record.id, "platform": record.platform, "platform_id": record.platform_id,
                       "kind": record.kind, "account": record.account_id, "status": content.status,
                       "versions": len(content.versions), **paths})
            self._withholding(log, doc_id, page_bates, content)
            latest = content.versions[-1]
            loads.add(LoadDocument(
                doc_id=doc_id, beg_bates=page_bates[0], end_bates=page_bates[-1], beg_attach=family_first,
                end_attach=family_last, parent_doc_id=None if doc_id == parent_id else parent_id, pages=len(page_bates),
                custodian=record.account_id, author=str(latest.released.get("author") or ""),
                platform=record.platform, kind=record.kind, record_id=record.id, state=latest.version.state,
                date_created=isoformat_z(record.posted_at) if record.posted_at else "",
                date_captured=isoformat_z(latest.version.captured_at),
                sha256=written.native_sha256, native_path=paths["native"], text_path=paths["text"],
                image_path=paths["pdf"], native_bytes=written.native_bytes, text_bytes=written.text_bytes,
                image_bytes=written.image_bytes, redacted=content.status == "redacted",
                withheld=content.status == "withheld"), page_bates)
            self.counts[content.status] += 1
            self.counts["versions"] += len(content.versions)
            self.counts["pages"] += len(page_bates) if pdf else 0

    def _view(self, doc_id: str, content: RecordContent, thread: Sequence[RecordContent]) -> RecordView:
        record = content.detail.record
        latest = content.versions[-1]
        items = []
        for member in thread:
            last = member.versions[-1]
            depth = 0 if member is content else 1 + (member.detail.parent_platform_id is not None
                                                     and member.detail.parent_platform_id != record.platform_id)
            items.append(ThreadItem(
                depth=depth, author=str(last.released.get("author") or member.detail.record.author or ""),
                posted_at=isoformat_z(member.detail.record.posted_at) if member.detail.record.posted_at else "",
                text=last.text, markers=tuple(Marker(s, e, c) for s, e, c in last.markers),
                state=last.version.state, reason=last.version.reason,
                withheld_code=self.case.withheld[member.detail.record.id].code
                if member.status == "withheld" else None))
        versions = tuple(VersionLine(number=v.version.number, state=v.version.state,
                                     captured_at=isoformat_z(v.version.captured_at), summary=v.text[:300],
                                     markers=tuple(Marker(s, e, c) for s, e, c in v.markers if e <= 300))
                         for v in content.versions)
        provenance = (("Record", record.id), ("Capture run", latest.version.run_id),
                      ("WARC", f"{latest.version.warc_key} @ {latest.version.warc_offset}"),
                      ("Content SHA-256", latest.version.content_sha256),
                      ("Envelope SHA-256", latest.version.envelope_sha256), ("Signing key", latest.version.key_id))
        return RecordView(doc_id=doc_id, record_id=record.id, platform=record.platform, platform_id=record.platform_id,
                          kind=record.kind, account=record.account_id, url=content.detail.url or "",
                          thread=tuple(items), versions=versions, provenance=provenance,
                          request_number=self.case.number, production_id=self.production_id, created=self.created)

    def _write_document(self, doc_id: str, content: RecordContent, pdf: RenderedPdf | None) -> _Written:
        """The document's folder; returns its bag paths and what the load files say of its files
        (native = the latest released JSON)."""
        folder = self.data / "documents" / doc_id
        folder.mkdir()
        outputs: list[bytes] = []
        if content.status == "withheld":
            native = folder / "withheld.json"
            body = _json_bytes(content.versions[-1].released)
            native.write_bytes(body)
            outputs.append(body)
        else:
            sub = folder / ("versions" if content.status == "produced" else "redacted")
            sub.mkdir()
            for released in content.versions:
                body = released.original if released.original is not None else _json_bytes(released.released)
                native = sub / f"v{released.version.number:04d}.json"
                native.write_bytes(body)
                outputs.append(body)
        text = "".join(f"--- version {v.version.number} ({v.version.state}, captured "
                       f"{isoformat_z(v.version.captured_at)}) ---\n{v.text}\n\n" for v in content.versions)
        text_bytes = text.encode()
        (folder / "text.txt").write_bytes(text_bytes)
        outputs.append(text_bytes)
        paths = {"native": _bag(native, self.data), "text": _bag(folder / "text.txt", self.data), "pdf": ""}
        if pdf is not None:
            (folder / "record.pdf").write_bytes(pdf.data)
            paths["pdf"] = _bag(folder / "record.pdf", self.data)
        if content.secrets:
            assert_absent(outputs, content.secrets)  # the last guard: burned means gone
        return _Written(paths=paths, native_sha256=hashlib.sha256(body).hexdigest(), native_bytes=len(body),
                        text_bytes=len(text_bytes), image_bytes=len(pdf.data) if pdf is not None else 0)

    def _evidence(self, content: RecordContent, stored: _Stored, warcs: WarcSeries, envelopes: BinaryIO,
                  inclusion: BinaryIO, wacz: WaczWriter | None) -> None:
        """Envelopes and inclusion proofs for every document; WARC records only for unredacted ones."""
        for at in stored.locations:
            envelopes.write(self.envelopes.line(at.batch_key, at.log_index - at.batch_first_index).rstrip(b"\n")
                            + b"\n")
            inclusion.write(self.proofs.line(at.log_index, at.leaf_sha256))
        if stored.refs:
            members = stored_members(self.archive.store, stored.refs)
            warcs.add(members)
            if wacz is not None:
                record = content.detail.record
                wacz.add_records(members, page=WaczPage(
                    url=content.detail.url or f"urn:arsip:{record.id}",
                    ts=isoformat_z(record.posted_at or content.versions[-1].version.captured_at),
                    title=f"{record.platform} {record.kind} {record.platform_id}", id=record.id))

    def _withholding(self, log: CsvRegister, doc_id: str, page_bates: Sequence[str], content: RecordContent) -> None:
        base = {"doc_id": doc_id, "beg_bates": page_bates[0], "end_bates": page_bates[-1], "pages": len(page_bates),
                "record_id": content.detail.record.id}
        held = self.case.withheld.get(content.detail.record.id)
        if content.status == "withheld" and held is not None:
            log.add({**base, "version": "all", "field": "", "decision": "withheld in full", "code": held.code,
                     "reason": held.reason, "reviewer": held.reviewer, "decided_at": held.decided_at})
            return
        if content.status == "redacted":
            for decision in self.case.redactions_for(content.detail.record.id):
                log.add({**base, "version": decision.version, "field": decision.field, "decision": "redacted",
                         "code": decision.code, "reason": decision.reason, "reviewer": decision.reviewer,
                         "decided_at": decision.decided_at})


def _bag(path: Path, data: Path) -> str:
    return "data/" + path.relative_to(data).as_posix()


def _json_bytes(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=1).encode() + b"\n"


def _finish_bag(archive: Archive, case: Case, root: Path, production_id: str, built: _Builder) -> int:
    """package.json, README, chain of custody; then the bag, its signature and tag manifests."""
    created = isoformat_z(built.created)
    documents = sum(built.counts[s] for s in ("produced", "redacted", "withheld"))
    bates = {"prefix": built.bates.prefix, "width": built.bates.width, "first": built.first_bates,
             "last": built.last_bates}
    write_json(root / "package.json", {"format": PACKAGE_FORMAT, "request": case.number, "production": production_id,
                                       "created": created, "software": f"Arsip {__version__}", "bates": bates,
                                       "documents": documents, "counts": built.counts,
                                       "checkpoint_size": built.proofs.size})
    write_json(root / "chain-of-custody.json", {
        "request": {"number": case.number, "jurisdiction": case.jurisdiction, "received": case.received.isoformat(),
                    "requester": case.requester},
        "production": production_id, "built_by": built.actor, "built_at": created,
        "software": {"name": "Arsip", "version": __version__, "python": platform.python_version()},
        "archive": {"store": archive.store.url, "log_origin": archive.origin, "checkpoint_size": built.proofs.size},
        "searches": case.searches, "counts": built.counts,
        "options": {"pdf": built.options.pdf, "wacz": built.options.wacz, "bates": bates}})
    key_ids = [info.key_id for info in archive.keyring.list()]
    (root / "README.txt").write_text(readme(request=case.number, production=production_id, documents=documents,
                                            first_bates=built.first_bates, last_bates=built.last_bates,
                                            key_ids=key_ids), encoding="utf-8")
    summary = make_bag(root, bag_info={
        "External-Identifier": case.number, "Bagging-Date": built.created.date().isoformat(),
        "Arsip-Production-Id": production_id, "Bag-Software-Agent": f"Arsip {__version__} (bagit-python)",
        "External-Description": f"Production {production_id} of records request {case.number}: {documents} "
                                f"documents, Bates {built.first_bates} to {built.last_bates}"})
    _sign(archive, root)
    return summary.files


def _sign(archive: Archive, root: Path) -> None:
    """Sign manifest-sha512.txt (which hashes every payload file), then re-seal the tag manifests."""
    manifest = (root / "manifest-sha512.txt").read_bytes()
    signer = archive.signer()
    write_json(root / SIGNATURE_FILE, {"format": SIGNATURE_FORMAT, "signed_file": "manifest-sha512.txt",
                                       "sha512": hashlib.sha512(manifest).hexdigest(), "key_id": signer.key_id,
                                       "signature": base64.b64encode(signer.sign(manifest)).decode()})
    for algorithm in ("sha256", "sha512"):
        write_tag_manifest(root, algorithm)


def _zip(root: Path, target: Path) -> tuple[str, int]:
    """Zip the bag (paths relative to its root; compressed formats stored) and return its SHA-256 and size."""
    with zipfile.ZipFile(target, "x", allowZip64=True) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                method = zipfile.ZIP_STORED if path.name.endswith(_STORED) else zipfile.ZIP_DEFLATED
                archive.write(path, path.relative_to(root).as_posix(), compress_type=method)
    return hash_file(target), target.stat().st_size
