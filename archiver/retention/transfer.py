"""Transfer and accession: the package sent to the receiving archive, and the receipt that lets the
records go from here.

A transfer batch runs in two steps. Executing it writes the package (BagIt 1.0 with WARC 1.0 and a
NARA metadata CSV, by the installed export package) under ``<home>/transfers/<batch>`` and keeps its
tag files (bag-info, manifests) in the store as the archive's own record of what it sent; nothing is
deleted. Only when a records officer confirms the receiving archive's receipt are the records
disposed of here, through the same re-checked, certified path as a destruction.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from archiver.plugins import TransferRequest, transfer_package
from archiver.retention.batches import DispositionError
from archiver.retention.certificate import batch_key
from archiver.wiring import Archive
from retention_policies.model import Decision, ScheduleSet

SENT_MANIFEST = "manifest-sha256.txt"
PACKAGED = "packaged.jsonl"  # the records a written package holds, next to the batch in the store


def package_directory(archive: Archive, batch_id: str, parent: Path | None) -> Path:
    return (parent or archive.settings.home / "transfers") / batch_id


def write_package(archive: Archive, batch_id: str, due: Sequence[Decision], schedules: ScheduleSet,
                  directory: Path) -> dict[str, Any]:
    """Write the package of ``due`` at ``directory`` and keep its tag files in the store; returns what
    the batch and, later, the certificate record about it."""
    if directory.exists():
        raise DispositionError(f"{directory} already exists; move it away or choose another --out",
                               code="package_exists")
    directory.parent.mkdir(parents=True, exist_ok=True)
    rights = {d.record_id: schedules.item(d.item_id).security_class for d in due}
    items = sorted({d.item_id for d in due})
    summary = transfer_package(archive, TransferRequest(
        identifier=batch_id, directory=directory, rights=rights,
        description=f"Disposition batch {batch_id} ({len(due)} records) under schedule items {', '.join(items)}"))
    kept = {}
    for name in summary.tag_files:
        put = archive.store.put_file(batch_key(batch_id, f"transfer/{name}"), directory / name,
                                     content_type="text/plain; charset=utf-8")
        kept[name] = put.sha256
    return {"identifier": batch_id, "path": str(directory), "files": summary.files,
            "payload_bytes": summary.payload_bytes, "payload_oxum": summary.payload_oxum, "tag_files": kept}


def discard_package(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)


def check_returned_manifest(archive: Archive, batch_id: str, returned: bytes) -> None:
    """The receiving archive's copy of the payload manifest must list exactly the files and digests sent
    (line order and line endings aside): anything else means it did not receive this package intact."""
    sent = _manifest_lines(archive.store.get_bytes(batch_key(batch_id, f"transfer/{SENT_MANIFEST}")))
    got = _manifest_lines(returned)
    if sent == got:
        return
    missing, extra = sorted(sent - got), sorted(got - sent)
    example = (f"not received: {missing[0]}" if missing else f"not sent: {extra[0]}")[:200]
    raise DispositionError(f"the returned manifest differs from the one sent for batch {batch_id} "
                           f"({len(missing)} lines missing, {len(extra)} unexpected; {example}); nothing was "
                           "deleted: resend the package or cancel the batch", code="receipt_mismatch")


def _manifest_lines(body: bytes) -> set[str]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise DispositionError("the returned manifest is not UTF-8 text; give the receiving archive's "
                               f"{SENT_MANIFEST}", code="receipt_manifest_format") from None
    return {" ".join(line.split()) for line in text.splitlines() if line.strip()}


def receipt_record(package: Mapping[str, Any], *, reference: str, confirmed_by: str, confirmed_at: str,
                   returned_manifest: bytes | None) -> dict[str, Any]:
    """What the certificate says about the transfer: the package as sent and the receipt that closed it."""
    return {"package": dict(package),
            "receipt": {"reference": reference, "confirmed_by": confirmed_by, "confirmed_at": confirmed_at,
                        "returned_manifest_sha256": hashlib.sha256(returned_manifest).hexdigest()
                        if returned_manifest is not None else None}}
