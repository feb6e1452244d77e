"""Export's part in disposition: the certificate PDF (``arsip.after_disposition``) and the transfer
package (``arsip.transfer_packages``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from archiver.plugins import TransferRequest, TransferSummary
from archiver.wiring import Archive
from export.certificate_pdf import render_certificate_pdf
from export.errors import ExportError
from export.transfer import write_transfer_package
from export.transfer_source import archive_records
from export.verify_package.cli import main as verify_main


def certificate_pdf(archive: Archive, signed: Mapping[str, Any]) -> list[str]:
    """Put the certificate's PDF (certificate of destruction / berita acara) next to its signed JSON.

    The signed JSON and its record list are the proof; the PDF is their human-readable rendering,
    so a failure here is a warning, never a failed disposition.
    """
    body = signed["certificate"]
    listed = body["list"]["key"]
    key = listed.rsplit("/", 1)[0] + "/certificate.pdf"
    with archive.store.open(listed) as lines:  # streamed: the list of a large disposition is tens of MB
        records = (json.loads(line) for line in lines if line.strip())
        try:
            pdf = render_certificate_pdf(signed, records)
        except ExportError as exc:
            return [f"certificate PDF not written: {exc}"]
    archive.store.put_bytes(key, pdf, content_type="application/pdf")
    return []


def transfer_package(archive: Archive, request: TransferRequest) -> TransferSummary:
    """Write a transfer or accession batch's NARA package: BagIt 1.0, WARC 1.0, metadata.csv."""
    package = write_transfer_package(request.directory, identifier=request.identifier,
                                     source_organization=archive.settings.agency or archive.origin,
                                     bagging_date=archive.clock.now().date(),
                                     records=archive_records(archive, request.rights),
                                     description=request.description)
    tag_files = tuple(sorted(p.name for p in package.path.iterdir() if p.is_file()))
    return TransferSummary(files=package.files, payload_bytes=package.payload_bytes,
                           payload_oxum=package.payload_oxum, tag_files=tag_files)


def verify_package(package: Path, keys: Path | None, tsa_roots: Path | None, as_json: bool) -> int:
    """`arsip verify PACKAGE.zip`: the offline verifier's own command line, run in this process."""
    argv = [str(package), *(["--keys", str(keys)] if keys else []),
            *(["--tsa-roots", str(tsa_roots)] if tsa_roots else []), *(["--json"] if as_json else [])]
    return verify_main(argv)
