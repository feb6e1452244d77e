"""Steps 3-5: which keys to trust, the package signature, the signed log checkpoint and its time-stamp.

Keys handed over out of band (``--keys``) are the point of an offline check; keys read from the
package only prove the package agrees with itself, so using them is allowed but always flagged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from archiver.clock import isoformat_z
from archiver.errors import ArchiverError
from archiver.integrity.checkpoint import Checkpoint, NoteVerifierKey, verify_checkpoint
from archiver.integrity.keys import PublicKeyInfo, public_keys_from_export, verify_signature
from export.verify_package.errors import UnreadableInput
from export.verify_package.report import Findings

PUBLIC_KEYS = "data/proofs/public-keys.json"
SIGNATURE_FILE = "arsip-signature.json"
SIGNATURE_FORMAT = "arsip.package-signature/1"
SIGNED_FILE = "manifest-sha512.txt"
CHECKPOINT = "data/proofs/checkpoint.note"
TIMESTAMP = "data/proofs/checkpoint.tsr"
TSA_ROOTS = "data/proofs/tsa-roots.pem"
PEM_CERTIFICATE = b"-----BEGIN CERTIFICATE-----"


@dataclass(frozen=True)
class TrustedKeys:
    keys: dict[str, PublicKeyInfo]
    source: str  # "file" (--keys) or "package"


def read_key_file(path: Path) -> list[PublicKeyInfo]:
    """The public keys an auditor was handed (``arsip keys export``); unreadable is a usage error."""
    try:
        document = json.loads(path.read_bytes())
        infos = public_keys_from_export(document)
    except OSError as exc:
        raise UnreadableInput(f"cannot read keys file {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UnreadableInput(f"keys file {path} is not JSON ({exc}); pass the agency's public-key export") from None
    except ArchiverError as exc:
        raise UnreadableInput(f"keys file {path}: {exc}") from None
    if not infos:
        raise UnreadableInput(f"keys file {path} lists no keys; pass the agency's public-key export")
    return infos


def read_roots(data: bytes, where: str) -> list[x509.Certificate]:
    if PEM_CERTIFICATE not in data:
        raise ValueError(f"{where} holds no PEM certificate")
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise ValueError(f"{where} is not a valid PEM certificate bundle ({exc})") from None


def read_roots_file(path: Path) -> list[x509.Certificate]:
    """The TSA roots an auditor trusts (read with cryptography alone: no time-stamp library is loaded
    unless the package carries a token)."""
    try:
        return read_roots(path.read_bytes(), f"TSA roots file {path}")
    except OSError as exc:
        raise UnreadableInput(f"cannot read TSA roots file {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UnreadableInput(str(exc)) from None


def trusted_keys(from_file: list[PublicKeyInfo] | None, package_document: bytes | None,
                 findings: Findings) -> TrustedKeys:
    listed = _package_keys(package_document, findings, required=from_file is None)
    if from_file is not None:
        trusted = {info.key_id: info for info in from_file}
        for info in listed:
            known = trusted.get(info.key_id)
            if known is None or known.public_key_bytes != info.public_key_bytes:
                findings.warning("package_key_untrusted", PUBLIC_KEYS, f"lists key {info.key_id}, which is not in "
                                 "the --keys file; nothing signed by it is trusted")
        return TrustedKeys(trusted, "file")
    trusted = {info.key_id: info for info in listed}
    if trusted:
        findings.warning("keys_from_package", PUBLIC_KEYS, f"trusted key(s) {', '.join(sorted(trusted))} were read "
                         "from the package itself, so it only vouches for itself: compare them with the public keys "
                         "the agency publishes, or pass --keys FILE obtained from the agency")
    else:
        findings.error("keys_missing", PUBLIC_KEYS, "no key to verify signatures with; pass --keys FILE with the "
                                                    "agency's public-key export")
    return TrustedKeys(trusted, "package")


def _package_keys(document: bytes | None, findings: Findings, *, required: bool) -> list[PublicKeyInfo]:
    if document is None:
        if required:
            findings.error("required_file_missing", PUBLIC_KEYS, "is missing and no --keys FILE was given")
        return []
    try:
        return public_keys_from_export(json.loads(document))
    except (ValueError, ArchiverError) as exc:
        findings.error("keys_invalid", PUBLIC_KEYS, f"is not an Arsip public-key export ({exc})")
        return []


def check_package_signature(signature: bytes | None, manifest: bytes | None, keys: TrustedKeys,
                            findings: Findings) -> None:
    """arsip-signature.json: a trusted key's Ed25519 signature over manifest-sha512.txt's exact bytes."""
    if signature is None:
        findings.error("package_signature_missing", SIGNATURE_FILE, "is missing: nothing vouches for the manifests")
        return
    if manifest is None:
        return  # reported as a missing manifest
    fields = _signature_fields(signature)
    if isinstance(fields, str):
        findings.error("package_signature_malformed", SIGNATURE_FILE, fields)
        return
    key_id, raw, recorded = fields
    info = keys.keys.get(key_id)
    if info is None:
        findings.error("package_signature_invalid", SIGNATURE_FILE, f"is signed by key {key_id}, which is not a "
                       f"trusted key ({', '.join(sorted(keys.keys)) or 'none'})")
    elif not verify_signature(info.public_key_bytes, raw, manifest):
        findings.error("package_signature_invalid", SIGNATURE_FILE, f"signature by key {key_id} does not verify "
                       f"over {SIGNED_FILE}: the manifest or the signature was changed after signing")
    elif recorded != hashlib.sha512(manifest).hexdigest():
        findings.error("package_signature_malformed", SIGNATURE_FILE, f"records a SHA-512 of {SIGNED_FILE} that "
                       "is not the file's, although the signature verifies")
    else:
        findings.count("package_signatures")


def _signature_fields(data: bytes) -> tuple[str, bytes, str] | str:
    """(key id, signature, recorded sha512), or what is wrong with the file."""
    try:
        document: Any = json.loads(data)
    except ValueError as exc:
        return f"is not JSON ({exc})"
    if not isinstance(document, dict) or document.get("format") != SIGNATURE_FORMAT:
        return f"is not an {SIGNATURE_FORMAT} document"
    if document.get("signed_file") != SIGNED_FILE:
        return f"signs {document.get('signed_file')!r}, not {SIGNED_FILE}"
    key_id, signature, recorded = (document.get(k) for k in ("key_id", "signature", "sha512"))
    if not (isinstance(key_id, str) and isinstance(signature, str) and isinstance(recorded, str)):
        return "needs key_id, signature and sha512 strings"
    try:
        raw = base64.b64decode(signature, validate=True)
    except (ValueError, binascii.Error):
        return "has a signature that is not base64"
    return key_id, raw, recorded


def check_checkpoint(note: bytes | None, keys: TrustedKeys, findings: Findings) -> Checkpoint | None:
    """The checkpoint, once a trusted key's signature verifies; its origin is its own first line."""
    if note is None:
        return None  # reported as a missing required file
    try:
        text = note.decode("utf-8")
        origin = text.split("\n", 1)[0]
        verifiers = [NoteVerifierKey(origin, info.public_key_bytes) for info in keys.keys.values()]
        checkpoint = verify_checkpoint(text, verifiers, origin=origin)
    except UnicodeDecodeError:
        findings.error("checkpoint_invalid", CHECKPOINT, "is not UTF-8 text")
        return None
    except ArchiverError as exc:
        findings.error("checkpoint_invalid", CHECKPOINT, str(exc))
        return None
    findings.count("checkpoint_signatures")
    return checkpoint


def check_timestamp(token: bytes | None, note: bytes | None, roots: list[x509.Certificate] | None,
                    package_roots: bytes | None, findings: Findings) -> dict[str, Any] | None:
    """The RFC 3161 token over the exact checkpoint.note bytes, against the auditor's roots if given."""
    if token is None:
        if roots is not None:
            findings.warning("timestamp_missing", TIMESTAMP, "--tsa-roots was given, but the package carries no "
                                                             "time-stamp token for its checkpoint")
        return None
    if note is None:
        return None
    if roots is None:
        roots = _package_roots(package_roots, findings)
        if roots is None:
            return None
    # Imported here: it loads rfc3161-client, which a package without a time-stamp never needs.
    from archiver.integrity.timestamp import verify_token

    try:
        stamp = verify_token(token, note, roots)
    except ArchiverError as exc:
        findings.error("timestamp_invalid", TIMESTAMP, f"{exc}")
        return None
    findings.count("timestamps")
    return {"gen_time": isoformat_z(stamp.gen_time), "tsa": stamp.tsa_name, "serial": stamp.serial_number}


def _package_roots(data: bytes | None, findings: Findings) -> list[x509.Certificate] | None:
    if data is None:
        findings.error("tsa_roots_missing", TIMESTAMP, "cannot be checked: no --tsa-roots FILE was given and the "
                                                       f"package has no {TSA_ROOTS}")
        return None
    try:
        roots = read_roots(data, TSA_ROOTS)
    except ValueError as exc:
        findings.error("tsa_roots_invalid", TSA_ROOTS, str(exc))
        return None
    findings.warning("tsa_roots_from_package", TSA_ROOTS, "the time-stamp was checked against TSA roots read from "
                     "the package itself; pass --tsa-roots FILE with the TSA's published root to rely on it")
    return roots
