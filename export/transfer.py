"""NARA transfer packages: a BagIt 1.0 bag of WARC 1.0 files, signed envelopes and a 2015-04 metadata CSV.

Layout of the bag at ``directory``::

    bagit.txt, bag-info.txt, manifest-sha256.txt, manifest-sha512.txt, tagmanifest-*.txt
    data/warc/<identifier>-00001.warc.gz ...   WARC 1.0, one gzip member per record, warcinfo first
    data/envelopes/<identifier>.jsonl          the signed envelope line of every transferred version
    data/metadata.csv                          pipe-delimited, NARA Bulletin 2015-04 elements

The package is built in a hidden staging directory next to ``directory`` and renamed into place only
once the bag is complete (its Payload-Oxum checks out), so a failure (a corrupt stored record, a full
disk) leaves nothing at ``directory``. Checksums are not recomputed a second time after bagit has just
computed them; a full ``validate_bag`` is the receiver's (or a test's) step. A crash of the whole
process can leave a ``.<name>.partial-*`` directory behind; it is never mistaken for a package and
can be deleted.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from archiver import __version__
from export.bag import make_bag
from export.errors import ExportError
from export.transfer_model import TransferPackage, TransferRecord
from export.transfer_payload import PayloadSpec, write_payload

__all__ = ["IDENTIFIER_PATTERN", "TransferPackage", "TransferRecord", "write_transfer_package"]

# The identifier names the package's files, so it must be a plain file-name fragment: no separators,
# no leading dot (hidden files), nothing that needs percent-encoding in a BagIt manifest.
IDENTIFIER_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def write_transfer_package(directory: Path, *, identifier: str, source_organization: str, bagging_date: date,
                           records: Iterable[TransferRecord], max_warc_bytes: int = 1_000_000_000,
                           description: str = "") -> TransferPackage:
    """Write and validate the transfer bag for ``records`` (streamed, one at a time) at ``directory``.

    ``directory`` must not exist yet. Every stored WARC member is converted to WARC 1.0 with its
    block digest checked on the way (see ``export.transfer_warc``); every envelope must parse, hash
    to its recorded SHA-256 and name its record. Any problem raises ExportError (naming the record)
    and leaves no package. The staging and final directories are private to the user (mode 0700).
    """
    directory = Path(directory)
    _check_arguments(directory, identifier, source_organization, max_warc_bytes)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.partial-", dir=directory.parent))
    except OSError as exc:
        raise ExportError(f"cannot create a directory next to {directory}: {exc}", code="io_error") from None
    try:
        spec = PayloadSpec(identifier=identifier, organization=source_organization.strip(),
                           bagging_date=bagging_date, max_warc_bytes=max_warc_bytes)
        payload = write_payload(staging, spec, records)
        summary = make_bag(staging, bag_info={
            "External-Identifier": identifier, "Source-Organization": spec.organization,
            "Bagging-Date": bagging_date.isoformat(), "Bag-Software-Agent": f"Arsip {__version__} (bagit-python)",
            "External-Description": _description(description, identifier, payload.records, payload.versions)})
        _publish(staging, directory)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ExportError(f"could not write the transfer package {directory}: {exc}", code="io_error") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return TransferPackage(path=directory, identifier=identifier, files=summary.files,
                           payload_bytes=summary.payload_bytes, payload_oxum=summary.payload_oxum,
                           warc_files=payload.warc_files)


def _check_arguments(directory: Path, identifier: str, organization: str, max_warc_bytes: int) -> None:
    if not isinstance(identifier, str) or not IDENTIFIER_PATTERN.fullmatch(identifier):
        raise ExportError("transfer identifier must be 1-100 characters of A-Z, a-z, 0-9, '.', '_' or '-', "
                          "starting with a letter or digit", code="invalid_identifier")
    if not organization.strip() or _CONTROL.search(organization):
        raise ExportError("source_organization must be one non-empty line", code="invalid_argument")
    if max_warc_bytes <= 0:
        raise ExportError("max_warc_bytes must be positive", code="invalid_argument")
    if os.path.lexists(directory):
        raise ExportError(f"{directory} already exists; a transfer package is written only to a new directory",
                          code="target_exists")
    if not directory.parent.is_dir():
        raise ExportError(f"parent directory {directory.parent} does not exist", code="target_parent_missing")


def _description(given: str, identifier: str, records: int, versions: int) -> str:
    # bag-info values are single lines; a multi-line description is folded rather than refused.
    text = " ".join(_CONTROL.sub(" ", given).split())
    return text or (f"Transfer {identifier}: {records} permanent records ({versions} versions) as WARC 1.0 "
                    "with their signed version envelopes and NARA Bulletin 2015-04 metadata in data/metadata.csv.")


def _publish(staging: Path, directory: Path) -> None:
    # rename() would silently replace an empty directory created meanwhile; check once more first.
    if os.path.lexists(directory):
        raise ExportError(f"{directory} appeared while the package was being written; nothing was replaced",
                          code="target_exists")
    os.rename(staging, directory)
