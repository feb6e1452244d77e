"""RFC 3161 time-stamps for log checkpoints: ask a time-stamp authority, check its answer, re-check it offline.

A time-stamp token is third-party evidence that the checkpoint bytes existed no later than the TSA's
genTime, so an archive operator cannot quietly back-date or rewrite the log. We store the whole DER
``TimeStampResp`` next to the checkpoint because that is what an auditor's tools (``openssl ts
-verify``, rfc3161-client) take as input.

Checks (RFC 3161 §2.4.2, standards.md §1.4): status granted or grantedWithMods; the imprint is the
SHA-256 of our bytes; the nonce we sent is echoed (only knowable when stamping); the CMS signature
verifies; the TSA certificate has a critical extendedKeyUsage that is exactly id-kp-timeStamping and
chains to a configured root; genTime lies inside the certificate's validity. Parsing and the CMS
signature and chain check are rfc3161-client's; the checks that must name what failed are ours.

Every certificate in the roots bundle is trusted (intermediates included); certificates a token
carries are never trusted, only used to find the signer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtendedKeyUsageOID
from rfc3161_client import (
    PKIStatus,
    TimeStampResponse,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

from archiver.clock import utc
from archiver.errors import ArchiverError, ConfigError, IntegrityError

SHA256_OID = x509.ObjectIdentifier("2.16.840.1.101.3.4.2.1")
GRANTED = (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS)


class TimestampError(IntegrityError):
    """A time-stamp token is malformed or fails one of the RFC 3161 client checks."""

    code = "timestamp_error"


class TimestampUnavailable(ArchiverError):
    """The time-stamp authority could not be reached, answered an HTTP error, or declined to stamp."""

    code = "tsa_unavailable"


@dataclass(frozen=True)
class TimestampToken:
    """A verified time-stamp: ``der`` is the whole TimeStampResp as received, the bytes to store."""

    der: bytes
    gen_time: datetime
    serial_number: int
    tsa_name: str | None


def verify_token(der: bytes, data: bytes, roots: Sequence[x509.Certificate]) -> TimestampToken:
    """Re-verify a stored TimeStampResp over ``data`` offline: every check except the nonce."""
    if not roots:
        raise ConfigError("no trusted roots to verify the time-stamp token against; set ARSIP_TSA_ROOTS")
    response = decode_response(der, "the stored time-stamp token")
    if response.status not in GRANTED:
        raise TimestampError(f"the stored time-stamp reply is not a granted token: {status_text(response)}")
    return check_granted(der, response, data, list(roots), nonce=None)


def load_roots(path: Path) -> list[x509.Certificate]:
    """Read the PEM bundle of certificates a time-stamp authority must chain to."""
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"TSA roots file {path} does not exist; set ARSIP_TSA_ROOTS to a PEM file with "
                          "the time-stamp authority's root certificate(s)") from None
    except OSError as exc:
        raise ConfigError(f"cannot read TSA roots file {path}: {exc.strerror}; check its permissions") from exc
    if b"-----BEGIN CERTIFICATE-----" not in text:
        raise ConfigError(f"TSA roots file {path} holds no PEM certificate; put the time-stamp authority's "
                          "root certificate(s) in it, each between BEGIN/END CERTIFICATE lines")
    try:
        return x509.load_pem_x509_certificates(text)
    except ValueError as exc:
        raise ConfigError(f"TSA roots file {path} is not a valid PEM certificate bundle ({exc}); "
                          "replace it with the certificates your TSA publishes") from exc


def decode_response(der: bytes, what: str) -> TimeStampResponse:
    try:
        return decode_timestamp_response(der)
    except ValueError as exc:
        raise TimestampError(f"{what} is not a DER TimeStampResp ({exc})") from exc


def status_text(response: TimeStampResponse) -> str:
    try:
        name = PKIStatus(response.status).name.lower()
    except ValueError:
        name = "unknown"
    detail = "; ".join(response.status_string)
    return f"PKIStatus {response.status} ({name})" + (f": {detail}" if detail else "")


def check_granted(der: bytes, response: TimeStampResponse, data: bytes, roots: list[x509.Certificate],
                   *, nonce: int | None) -> TimestampToken:
    """Run checks 2-6 on a granted reply, cheapest and most specific first, the CMS signature last."""
    try:
        info = response.tst_info
        imprint = info.message_imprint
        gen_time = utc(info.gen_time)
        if imprint.hash_algorithm != SHA256_OID:
            raise TimestampError(f"the time-stamp token hashes with {imprint.hash_algorithm.dotted_string}, "
                                 "not SHA-256 as requested; it was not issued for this request")
        if imprint.message != hashlib.sha256(data).digest():
            raise TimestampError("the time-stamp token's message imprint does not match the SHA-256 of the "
                                 "data: the token was issued for other bytes, or the data changed since")
        if nonce is not None and info.nonce != nonce:
            echoed = "omits the nonce" if info.nonce is None else f"echoes nonce {info.nonce}"
            raise TimestampError(f"the time-stamp reply {echoed}, not the {nonce} we sent; "
                                 "it may be a replayed or misrouted reply")
        cert = _signer_certificate(response)
        _check_certificate(cert, gen_time, roots)
        _verify_signature(response, imprint.message, roots)
        return TimestampToken(der=der, gen_time=gen_time, serial_number=info.serial_number,
                              tsa_name=_tsa_name(response))
    except ValueError as exc:  # rfc3161-client parses the token's inner parts lazily
        raise TimestampError(f"the time-stamp token is malformed ({exc})") from exc


def _signer_certificate(response: TimeStampResponse) -> x509.Certificate:
    signers = list(response.signed_data.signer_infos)
    if len(signers) != 1:
        raise TimestampError(f"the time-stamp token has {len(signers)} signers; RFC 3161 requires exactly one")
    signer = signers[0]
    for raw in response.signed_data.certificates:
        cert = x509.load_der_x509_certificate(raw)
        if cert.issuer == signer.issuer and cert.serial_number == signer.serial_number:
            return cert
    raise TimestampError("the time-stamp token does not carry its signer's certificate although certReq "
                         "was set; without it the TSA cannot be checked")


def _check_certificate(cert: x509.Certificate, gen_time: datetime, roots: list[x509.Certificate]) -> None:
    subject = cert.subject.rfc4514_string()
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        raise TimestampError(f"TSA certificate {subject!r} has no extendedKeyUsage extension; RFC 3161 "
                             "requires a critical one with id-kp-timeStamping only") from None
    if not eku.critical or list(eku.value) != [ExtendedKeyUsageOID.TIME_STAMPING]:
        raise TimestampError(f"TSA certificate {subject!r} does not have a critical extendedKeyUsage of exactly "
                             "id-kp-timeStamping, so it is not authorised to issue time-stamps")
    if not cert.not_valid_before_utc <= gen_time <= cert.not_valid_after_utc:
        raise TimestampError(
            f"time-stamp genTime {gen_time.isoformat()} lies outside the validity of TSA certificate {subject!r} "
            f"({cert.not_valid_before_utc.isoformat()} to {cert.not_valid_after_utc.isoformat()})")
    if not any(_issued_by(cert, root) for root in roots):
        raise TimestampError(f"TSA certificate {subject!r} (issuer {cert.issuer.rfc4514_string()!r}) was not "
                             "issued by any configured root; add its root to ARSIP_TSA_ROOTS only if you trust it")


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _verify_signature(response: TimeStampResponse, digest: bytes, roots: list[x509.Certificate]) -> None:
    """CMS signature, message-digest attribute and chain at genTime, by rfc3161-client (OpenSSL)."""
    if response.status == PKIStatus.GRANTED_WITH_MODS:
        # rfc3161-client only verifies status 0; the token itself is the same either way.
        response = decode_timestamp_response(_granted_wrapper(response.time_stamp_token()))
    try:
        VerifierBuilder(roots=list(roots)).build().verify(response, digest)
    except VerificationError as exc:
        raise TimestampError(f"the time-stamp token's signature or certificate chain does not verify ({exc})") from exc


def _granted_wrapper(token: bytes) -> bytes:
    """DER ``TimeStampResp { status {granted}, token }`` around an existing token."""
    return _der_sequence(_der_sequence(b"\x02\x01\x00") + token)


def _der_sequence(body: bytes) -> bytes:
    size = len(body)
    if size < 0x80:
        return b"\x30" + bytes([size]) + body
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return b"\x30" + bytes([0x80 | len(length)]) + length + body


def _tsa_name(response: TimeStampResponse) -> str | None:
    try:
        name = response.tst_info.name
    except ValueError:  # the tsa field is optional, and absent names raise here
        return None
    value = name.value
    return value.rfc4514_string() if isinstance(value, x509.Name) else str(value)
