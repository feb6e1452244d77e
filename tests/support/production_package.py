"""Synthetic but fully valid production packages, for the offline verifier's tests and for tamper tests.

``build_package(tmp_path, documents=3, versions=2, redacted=(1,), withheld=(2,))`` writes a zip that
``python -m export.verify_package`` accepts, made with the project's real pieces: WARC members written
by ``archiver.warc.writer.WarcFile`` (one gzip member per record, sha256 digests) into an "archive"
WARC whose members are then copied unchanged into the package, Ed25519-signed envelopes
(``archiver.integrity.envelope``), RFC 6962 inclusion proofs against a signed C2SP checkpoint, the bag
made by ``export.bag.make_bag`` (bagit-python), ``arsip-signature.json`` over manifest-sha512.txt and
re-sealed tag manifests, and optionally an RFC 3161 token from the local test TSA.

The log holds a few unrelated leaves before and after the package's envelopes, and log indices
interleave documents (version 1 of every record, then version 2 ...) while envelopes.jsonl lists
them document by document, as a real production does. Documents are numbered from 0: ``doc_id(0)``
is ``ABC000001``. Everything but a time-stamp is deterministic, so two builds are byte-identical.

Helpers for tampering: :func:`read_entries`, :func:`replace_entries` (change bytes, leave the
manifests stale), :func:`rebag` (change bytes and re-seal and re-sign the bag, so only the deeper
checks can notice), :func:`edit_warc_member` and :func:`flip`.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import itertools
import json
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from archiver.clock import FixedClock
from archiver.integrity.checkpoint import Checkpoint, sign_checkpoint
from archiver.integrity.envelope import Envelope, SignedEnvelope, WarcRef, sign_envelope
from archiver.integrity.keys import EXPORT_FORMAT, KeyStatus, PublicKeyInfo, Signer
from archiver.integrity.merkle import MerkleFrontier, leaf_hash, node_hash
from archiver.warc.exchange import HttpExchange, write_exchange
from archiver.warc.writer import WarcFile, WrittenRecord
from export.bag import make_bag

ORIGIN = "test.example/arsip"
REQUEST = "FOIA-2025-0042"
PRODUCTION = "FOIA-2025-0042-P001"
BATES_PREFIX = "ABC"
CAPTURED = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CREATED = "2025-03-02T09:00:00.000000Z"
ARCHIVE_KEY = "warc/2025/03/01/run-0001.warc.gz"
DEFAULT_SEED = b"\x01" * 32
OTHER_SEED = b"\x02" * 32
LEAVES_BEFORE, LEAVES_AFTER = 3, 2
INDEX_COLUMNS = ("doc_id", "beg_bates", "end_bates", "record_id", "platform", "platform_id", "kind", "account",
                 "status", "versions", "pdf", "native", "text")
_STORED = (".gz", ".pdf", ".wacz", ".zip")
_ZIP_TIME = (2025, 3, 2, 9, 0, 0)


def doc_id(position: int) -> str:
    return f"{BATES_PREFIX}{position + 1:06d}"


def record_id(position: int) -> str:
    return f"rec-{position + 1:06d}"


def version_path(position: int, version: int) -> str:
    return f"data/documents/{doc_id(position)}/versions/v{version:04d}.json"


@dataclass
class _Version:
    number: int
    body: bytes
    document: WrittenRecord
    response: WrittenRecord
    request: WrittenRecord
    signed: SignedEnvelope | None = None


@dataclass
class _Document:
    position: int
    status: str
    versions: list[_Version] = field(default_factory=list)

    @property
    def doc_id(self) -> str:
        return doc_id(self.position)

    @property
    def record_id(self) -> str:
        return record_id(self.position)

    @property
    def folder(self) -> str:
        return f"documents/{self.doc_id}"


def build_package(tmp_path: Path, *, documents: int = 3, versions: int = 2, redacted: Iterable[int] = (),
                  withheld: Iterable[int] = (), with_tst: bool = False, signer_seed: bytes = DEFAULT_SEED,
                  leak_exempt_warc: bool = False, tst_data: bytes | None = None) -> Path:
    """Write a valid package into a fresh directory under ``tmp_path`` and return the zip's path.

    ``redacted`` and ``withheld`` are document positions (0-based). ``leak_exempt_warc`` copies the
    exempt documents' WARC records into the package too (a leak the verifier must name);
    ``tst_data`` time-stamps those bytes instead of checkpoint.note (a token over other bytes).
    """
    signer = Signer.from_seed(signer_seed)
    work = Path(tempfile.mkdtemp(prefix="package-", dir=tmp_path))
    bag = work / "bag"
    bag.mkdir()
    statuses = {**{i: "redacted" for i in redacted}, **{i: "withheld" for i in withheld}}
    docs = [_Document(i, statuses.get(i, "produced")) for i in range(documents)]
    archive = _capture(work / "archive.warc.gz", docs, versions)
    size = _sign(docs, signer)
    note = _proofs(bag / "proofs", docs, size, signer)
    if with_tst or tst_data is not None:
        _timestamp(bag / "proofs", tst_data if tst_data is not None else note)
    _warc_files(bag / "warc", docs, archive, leak_exempt_warc)
    _documents(bag, docs)
    _registers(bag, docs, size)
    make_bag(bag, bag_info={"External-Identifier": REQUEST, "Arsip-Production-Id": PRODUCTION,
                            "Bagging-Date": "2025-03-02", "Bag-Software-Agent": "Arsip test (bagit-python)"})
    _seal(bag, signer)
    return write_entries(work / f"{PRODUCTION}.zip", _directory_entries(bag))


# -- capture: the archive's WARC, as capture writes it -------------------------------------------------


def _capture(path: Path, docs: list[_Document], versions: int) -> bytes:
    counter = itertools.count(1)
    warc = WarcFile(path, version="1.1", date=CAPTURED,
                    record_ids=lambda: f"<urn:uuid:00000000-0000-4000-8000-{next(counter):012d}>")
    for number in range(1, versions + 1):
        for doc in docs:
            captured = CAPTURED + timedelta(minutes=number)
            body = json.dumps({"id": str(1000 + doc.position), "account": "acct-1", "version": number,
                               "text": f"Pengumuman {doc.position + 1}, versi {number} / notice, version {number}"},
                              sort_keys=True, separators=(",", ":")).encode()
            url = f"https://social.example.gov/api/v1/statuses/{1000 + doc.position}"
            exchange = HttpExchange(method="GET", url=url, request_headers=(("Host", "social.example.gov"),),
                                    request_body=b"", http_version="HTTP/1.1", status=200, reason="OK",
                                    response_headers=(("Content-Type", "application/json"),), body=body,
                                    body_path=None, started_at=captured)
            written = write_exchange(warc, exchange)
            document = warc.write_resource(f"urn:arsip:record:{doc.record_id}:version:{number}", body,
                                           date=captured, content_type="application/json",
                                           concurrent_to=[written.response.record_id])
            doc.versions.append(_Version(number, body, document, written.response, written.request))
    warc.close()
    return path.read_bytes()


def _ref(written: WrittenRecord) -> WarcRef:
    return WarcRef(key=ARCHIVE_KEY, offset=written.offset, length=written.length, record_id=written.record_id,
                   digest=written.block_digest)


def _sign(docs: list[_Document], signer: Signer) -> int:
    """Sign every version; log indices interleave documents. Returns the log size."""
    count = len(docs)
    for doc in docs:
        previous: str | None = None
        for version in doc.versions:
            envelope = Envelope(
                log_index=LEAVES_BEFORE + (version.number - 1) * count + doc.position, record_id=doc.record_id,
                platform="mastodon", platform_id=str(1000 + doc.position), account_id="acct-1", kind="post",
                version=version.number, state="present" if version.number == 1 else "edited", reason=None,
                detection=None, content_sha256=hashlib.sha256(version.body).hexdigest(),
                captured_at=CAPTURED + timedelta(minutes=version.number), run_id=f"run-{version.number:04d}",
                source="api", version_ref=_ref(version.document),
                evidence=(_ref(version.response), _ref(version.request)), previous=previous)
            version.signed = sign_envelope(envelope, signer)
            previous = version.signed.sha256
    return LEAVES_BEFORE + sum(len(d.versions) for d in docs) + LEAVES_AFTER


# -- proofs -------------------------------------------------------------------------------------------


def tree_levels(leaf_hashes: list[bytes]) -> list[list[bytes]]:
    """The RFC 6962 tree level by level: an odd last node moves up unchanged (never duplicated)."""
    levels = [leaf_hashes]
    while len(levels[-1]) > 1:
        below = levels[-1]
        above = [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
        if len(below) % 2:
            above.append(below[-1])
        levels.append(above)
    return levels


def audit_path(levels: list[list[bytes]], index: int) -> list[bytes]:
    """RFC 6962 PATH(index) from the leaf up, in O(log n) (merkle.inclusion_proof re-hashes the log)."""
    path = []
    for level in levels[:-1]:
        if index ^ 1 < len(level):
            path.append(level[index ^ 1])
        index //= 2
    return path


def _proofs(directory: Path, docs: list[_Document], size: int, signer: Signer) -> bytes:
    directory.mkdir(parents=True)
    data = [hashlib.sha256(f"another record {i}".encode()).digest() for i in range(size)]
    signed = [v.signed for d in docs for v in d.versions if v.signed is not None]
    for envelope in signed:
        data[envelope.envelope.log_index] = envelope.leaf_data
    levels = tree_levels([leaf_hash(d) for d in data])
    frontier = MerkleFrontier()
    frontier.extend_leaf_hashes(levels[0])
    assert frontier.root() == levels[-1][0], "test support tree disagrees with archiver.integrity.merkle"
    note = sign_checkpoint(Checkpoint(ORIGIN, size, levels[-1][0]), ORIGIN, signer).encode()
    (directory / "checkpoint.note").write_bytes(note)
    with open(directory / "envelopes.jsonl", "wb") as envelopes, open(directory / "inclusion.jsonl", "wb") as proofs:
        for envelope in signed:
            envelopes.write(envelope.to_line())
            index = envelope.envelope.log_index
            proofs.write(json.dumps({"log_index": index, "leaf_sha256": envelope.sha256, "tree_size": size,
                                     "path": [p.hex() for p in audit_path(levels, index)]},
                                    separators=(",", ":")).encode() + b"\n")
    (directory / "public-keys.json").write_bytes(public_keys_document(signer))
    return note


def public_keys_document(signer: Signer) -> bytes:
    """The ``arsip keys export`` document for one key, as an auditor would be handed it."""
    info = PublicKeyInfo(signer.key_id, signer.public_key_bytes, CAPTURED - timedelta(days=30), None,
                         KeyStatus.ACTIVE)
    return json.dumps({"format": EXPORT_FORMAT, "keys": [info.to_json()]}, indent=2).encode() + b"\n"


def key_file(directory: Path, seed: bytes = DEFAULT_SEED) -> Path:
    path = directory / f"public-keys-{Signer.from_seed(seed).key_id}.json"
    path.write_bytes(public_keys_document(Signer.from_seed(seed)))
    return path


def _timestamp(directory: Path, data: bytes) -> None:
    """Stamp ``data`` with the local test TSA (over HTTP, as capture does) and ship its root."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from archiver.integrity.tsa_client import TimestampClient
    from tests.support.tsa import run_tsa

    with run_tsa(clock=FixedClock(CAPTURED + timedelta(hours=1))) as tsa:
        token = TimestampClient(tsa.url, roots=[tsa.root_cert]).stamp(data)
        (directory / "tsa-roots.pem").write_bytes(tsa.root_cert.public_bytes(Encoding.PEM))
    (directory / "checkpoint.tsr").write_bytes(token.der)


# -- payload files ------------------------------------------------------------------------------------


def _warc_files(directory: Path, docs: list[_Document], archive: bytes, leak_exempt: bool) -> None:
    """Members copied unchanged from the archive WARC; even documents in file 1, odd ones in file 2."""
    directory.mkdir()
    files: dict[str, list[bytes]] = {}
    for doc in docs:
        if doc.status != "produced" and not leak_exempt:
            continue
        name = f"{PRODUCTION}-{1 + doc.position % 2:05d}.warc.gz"
        for version in doc.versions:
            for written in (version.response, version.request, version.document):
                files.setdefault(name, []).append(archive[written.offset:written.offset + written.length])
    for name, members in sorted(files.items()):
        (directory / name).write_bytes(b"".join(members))


def _pdf(text: str) -> bytes:
    return f"%PDF-1.4\n% synthetic record page: {text}\n%%EOF\n".encode()


def _documents(bag: Path, docs: list[_Document]) -> None:
    for doc in docs:
        folder = bag / doc.folder
        folder.mkdir(parents=True)
        (folder / "record.pdf").write_bytes(_pdf(f"{doc.doc_id} {doc.status}"))
        if doc.status == "withheld":
            notice = {"doc_id": doc.doc_id, "record_id": doc.record_id, "withheld": True, "code": "b6",
                      "reason": "personal privacy"}
            (folder / "withheld.json").write_text(json.dumps(notice, indent=1, sort_keys=True) + "\n")
            continue
        sub = folder / ("versions" if doc.status == "produced" else "redacted")
        sub.mkdir()
        for version in doc.versions:
            body = version.body if doc.status == "produced" else \
                json.dumps({"id": str(1000 + doc.position), "text": "[REDACTED b6]"}, indent=1).encode() + b"\n"
            (sub / f"v{version.number:04d}.json").write_bytes(body)
        text = "".join(f"--- version {v.number} ---\n{json.loads(v.body)['text'] if doc.status == 'produced' else ''}\n"
                       for v in doc.versions)
        (folder / "text.txt").write_text(text, encoding="utf-8")


def _index_row(doc: _Document) -> dict[str, str | int]:
    latest = doc.versions[-1].number
    native = {"produced": f"versions/v{latest:04d}.json", "redacted": f"redacted/v{latest:04d}.json",
              "withheld": "withheld.json"}[doc.status]
    return {"doc_id": doc.doc_id, "beg_bates": doc.doc_id, "end_bates": doc.doc_id, "record_id": doc.record_id,
            "platform": "mastodon", "platform_id": str(1000 + doc.position), "kind": "post", "account": "acct-1",
            "status": doc.status, "versions": len(doc.versions), "pdf": f"data/{doc.folder}/record.pdf",
            "native": f"data/{doc.folder}/{native}",
            "text": "" if doc.status == "withheld" else f"data/{doc.folder}/text.txt"}


def _csv(path: Path, columns: Iterable[str], rows: Iterable[Mapping[str, object]]) -> None:
    with open(path, "x", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)


def _registers(bag: Path, docs: list[_Document], size: int) -> None:
    _csv(bag / "index.csv", INDEX_COLUMNS, (_index_row(d) for d in docs))
    _csv(bag / "withholding-log.csv", ("doc_id", "record_id", "decision", "code", "reason"),
         ({"doc_id": d.doc_id, "record_id": d.record_id, "decision": f"{d.status} in full", "code": "b6",
           "reason": "personal privacy"} for d in docs if d.status != "produced"))
    counts = {s: sum(1 for d in docs if d.status == s) for s in ("produced", "redacted", "withheld")}
    bates = {"prefix": BATES_PREFIX, "width": 6, "first": doc_id(0) if docs else "",
             "last": doc_id(len(docs) - 1) if docs else ""}
    meta = {"format": "arsip.production/1", "request": REQUEST, "production": PRODUCTION, "created": CREATED,
            "software": "Arsip test", "bates": bates, "documents": len(docs), "counts": counts,
            "checkpoint_size": size}
    (bag / "package.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    custody = {"request": {"number": REQUEST}, "production": PRODUCTION, "built_by": "tester", "built_at": CREATED,
               "archive": {"log_origin": ORIGIN, "checkpoint_size": size}}
    (bag / "chain-of-custody.json").write_text(json.dumps(custody, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (bag / "README.txt").write_text(f"Production {PRODUCTION} for records request {REQUEST} (synthetic test "
                                    "package).\n", encoding="utf-8")
    (bag / "loadfiles").mkdir()
    (bag / "loadfiles" / f"{PRODUCTION}.dat").write_text(
        "".join(f"\u00fe{d.doc_id}\u00fe\x14\u00fe{d.doc_id}\u00fe\r\n" for d in docs), encoding="utf-8")


# -- sealing and zipping ------------------------------------------------------------------------------


def signature_document(manifest: bytes, signer: Signer) -> bytes:
    document = {"format": "arsip.package-signature/1", "signed_file": "manifest-sha512.txt",
                "sha512": hashlib.sha512(manifest).hexdigest(), "key_id": signer.key_id,
                "signature": base64.b64encode(signer.sign(manifest)).decode()}
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True).encode() + b"\n"


def tag_manifest(files: Mapping[str, bytes], algorithm: str) -> bytes:
    """export.bag's tag manifest logic: every top-level tag file but the tag manifests, sorted."""
    names = sorted(n for n in files if "/" not in n and not n.startswith("tagmanifest-"))
    return "".join(f"{hashlib.new(algorithm, files[n]).hexdigest()} {n}\n" for n in names).encode()


def _seal(bag: Path, signer: Signer) -> None:
    (bag / "arsip-signature.json").write_bytes(signature_document((bag / "manifest-sha512.txt").read_bytes(), signer))
    top = {p.name: p.read_bytes() for p in bag.iterdir() if p.is_file()}
    for algorithm in ("sha256", "sha512"):
        (bag / f"tagmanifest-{algorithm}.txt").write_bytes(tag_manifest(top, algorithm))


def _directory_entries(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def write_entries(path: Path, entries: Mapping[str, bytes]) -> Path:
    """A deterministic zip of ``entries`` in name order (compressed formats stored, others deflated)."""
    with zipfile.ZipFile(path, "w", allowZip64=True) as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_STORED if name.endswith(_STORED) else zipfile.ZIP_DEFLATED
            archive.writestr(info, entries[name])
    return path


def read_entries(package: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(package) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}


def _next_to(package: Path, label: str) -> Path:
    for n in itertools.count(1):
        candidate = package.with_name(f"{package.stem}-{label}{n}.zip")
        if not candidate.exists():
            return candidate
    raise AssertionError("unreachable")


def replace_entries(package: Path, changes: Mapping[str, bytes | None]) -> Path:
    """A copy of ``package`` with entries replaced, added or (``None``) removed; manifests left stale."""
    entries = read_entries(package)
    for name, data in changes.items():
        if data is None:
            entries.pop(name, None)
        else:
            entries[name] = data
    return write_entries(_next_to(package, "changed"), entries)


def rebag(package: Path, changes: Mapping[str, bytes | None] | None = None, *,
          signer_seed: bytes = DEFAULT_SEED) -> Path:
    """Apply ``changes``, then recompute both manifests, Payload-Oxum, the signature and the tag manifests:
    the bag is consistent again, so only the checks beneath it can notice the change."""
    entries = read_entries(replace_entries(package, changes or {}))
    payload = {n: d for n, d in entries.items() if n.startswith("data/")}
    for algorithm in ("sha256", "sha512"):
        entries[f"manifest-{algorithm}.txt"] = "".join(
            f"{hashlib.new(algorithm, payload[n]).hexdigest()}  {_encode(n)}\n" for n in sorted(payload)).encode()
    oxum = f"Payload-Oxum: {sum(len(d) for d in payload.values())}.{len(payload)}"
    entries["bag-info.txt"] = "\n".join(oxum if line.startswith("Payload-Oxum:") else line
                                        for line in entries["bag-info.txt"].decode().split("\n")).encode()
    entries["arsip-signature.json"] = signature_document(entries["manifest-sha512.txt"], Signer.from_seed(signer_seed))
    for algorithm in ("sha256", "sha512"):
        entries[f"tagmanifest-{algorithm}.txt"] = tag_manifest(entries, algorithm)
    return write_entries(_next_to(package, "rebagged"), entries)


def _encode(path: str) -> str:
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def flip(data: bytes, old: bytes, new: bytes) -> bytes:
    """``data`` with the first ``old`` replaced by ``new`` (which must differ and be present)."""
    assert old != new and old in data, f"{old!r} is not in the data"
    return data.replace(old, new, 1)


def edit_warc_member(data: bytes, warc_record_id: str, edit: Callable[[bytes], bytes]) -> bytes:
    """A .warc.gz with the member holding ``warc_record_id`` decompressed, edited and recompressed."""
    out, found = io.BytesIO(), False
    while data:
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        member = inflater.decompress(data) + inflater.flush()
        if f"WARC-Record-ID: {warc_record_id}\r\n".encode() in member:
            member, found = edit(member), True
        compressor = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        out.write(compressor.compress(member) + compressor.flush())
        data = inflater.unused_data
    assert found, f"no WARC record {warc_record_id}"
    return out.getvalue()


def warc_record_ids(package: Path, position: int) -> dict[str, str]:
    """The WARC-Record-IDs of one document's first version: ``document``, ``response``, ``request``."""
    for line in read_entries(package)["data/proofs/envelopes.jsonl"].splitlines():
        envelope = json.loads(line)["envelope"]
        if envelope["record"]["id"] == record_id(position) and envelope["version"] == 1:
            evidence = [ref["record_id"] for ref in envelope["evidence"]]
            return {"document": envelope["warc"]["record_id"], "response": evidence[0], "request": evidence[1]}
    raise AssertionError(f"no envelope for document {position}")
