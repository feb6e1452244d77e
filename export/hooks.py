"""Render what a disposition leaves behind (registered as ``arsip.after_disposition``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from archiver.wiring import Archive
from export.certificate_pdf import render_certificate_pdf
from export.errors import ExportError


def certificate_pdf(archive: Archive, signed: Mapping[str, Any]) -> list[str]:
    """Put the certificate's PDF (certificate of destruction / berita acara) next to its signed JSON.

    The signed JSON and its record list are the proof; the PDF is their human-readable rendering,
    so a failure here is a warning, never a failed disposition.
    """
    body = signed["certificate"]
    listed = body["list"]["key"]
    records = (json.loads(line) for line in archive.store.get_bytes(listed).splitlines() if line.strip())
    key = listed.rsplit("/", 1)[0] + "/certificate.pdf"
    try:
        archive.store.put_bytes(key, render_certificate_pdf(signed, records), content_type="application/pdf")
    except ExportError as exc:
        return [f"certificate PDF not written: {exc}"]
    return []
