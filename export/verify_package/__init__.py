"""The offline verifier of production packages, for auditors: no catalog, no network, few dependencies.

``python -m export.verify_package PACKAGE.zip --keys public-keys.json`` checks, in order: that the zip
is safe to read (no traversal, duplicates, symlinks or bombs; nothing is extracted), the BagIt bag
(every payload file's SHA-256 and SHA-512, the tag manifests, Payload-Oxum), which keys to trust,
the package signature over manifest-sha512.txt, the signed log checkpoint and its RFC 3161
time-stamp, every signed envelope and its inclusion proof, every WARC record's digests against what
the envelopes signed (and that exempt documents' records are absent), and index.csv against it all.

Why the standard library does the BagIt and WARC work here: an auditor should be able to install
``cryptography`` (and ``rfc3161-client`` when a time-stamp is present) and nothing else, so this
package imports only those, the standard library and the stdlib-only parts of ``archiver.integrity``,
``archiver.verify.findings`` and ``archiver.collectors.export_archive_rules`` (archive-path rules) —
no warcio, bagit, SQLAlchemy or httpx, and nothing else from ``export``. A test holds it to that
footprint. The test suite reads the same packages with bagit
and warcio as independent second readers.
"""

from export.verify_package.errors import UnreadableInput
from export.verify_package.report import DocumentResult, PackageReport
from export.verify_package.verify import verify_package
from export.verify_package.zipread import Limits

__all__ = ["DocumentResult", "Limits", "PackageReport", "UnreadableInput", "verify_package"]
