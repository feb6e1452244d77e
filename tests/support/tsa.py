"""A real RFC 3161 time-stamp authority on loopback, so time-stamp tests need no network.

Use it as ``with run_tsa(clock=clock) as tsa:`` and configure the code under test with
``tsa.url`` and ``tsa.root_pem_path(tmp_path)`` (or ``tsa.root_cert``). Set ``tsa.fault`` to a
:class:`TsaFault` — at start or between requests — to make it misbehave in one specific way;
``tsa.requests`` holds the DER of every request it received, including the ones it failed.

The answers are genuine: a CMS SignedData over a DER TSTInfo, signed with ECDSA P-256 by a TSA
certificate (critical extendedKeyUsage = id-kp-timeStamping only) issued by a throw-away root,
with content-type, message-digest and signingCertificateV2 (ESSCertIDv2) signed attributes, as
RFC 3161, RFC 5652 and RFC 5816 describe. Nothing here is for production use.
"""

from __future__ import annotations

import hashlib
import itertools
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from archiver.clock import Clock, SystemClock, utc

# 2.999 is the ITU-T/ISO arc reserved for examples, so this policy can never collide with a real one.
TEST_POLICY_OID = "2.999.3161.1"
QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
_DIGEST_SIZES = {"sha256": 32, "sha384": 48, "sha512": 64}
_MAX_REQUEST_BYTES = 64 * 1024


class TsaFault(StrEnum):
    """One way the test TSA can misbehave; each must make a careful client refuse the answer."""

    HTTP_500 = "http_500"  # answer HTTP 500 instead of a TimeStampResp
    REJECTION = "rejection"  # PKIStatus rejection (badRequest), no token
    WRONG_NONCE = "wrong_nonce"  # echo nonce + 1
    WRONG_IMPRINT = "wrong_imprint"  # sign a TSTInfo over a different hash than requested
    NO_EKU = "no_eku"  # sign with a certificate that lacks extendedKeyUsage
    NOT_YET_VALID = "not_yet_valid"  # sign with a certificate whose notBefore is after genTime
    GRANTED_WITH_MODS = "granted_with_mods"  # a correct token, status grantedWithMods


@dataclass(frozen=True)
class TsaIdentity:
    """A signing key and the certificate that names it."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate


@dataclass(frozen=True)
class TestPki:
    """A root and the TSA certificates it issued: the good one and the two faulty ones."""

    root: TsaIdentity
    tsa: TsaIdentity
    no_eku: TsaIdentity
    not_yet_valid: TsaIdentity

    def signer_for(self, fault: TsaFault | None) -> TsaIdentity:
        if fault is TsaFault.NO_EKU:
            return self.no_eku
        if fault is TsaFault.NOT_YET_VALID:
            return self.not_yet_valid
        return self.tsa


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Arsip test PKI"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _issue(subject: str, issuer: TsaIdentity | None, not_before: datetime, *, ca: bool = False,
           eku: bool = True) -> TsaIdentity:
    """Issue a certificate for a fresh P-256 key; ``issuer=None`` makes it self-signed."""
    key = ec.generate_private_key(ec.SECP256R1())
    signer_key = issuer.key if issuer else key
    builder = (x509.CertificateBuilder()
               .subject_name(_name(subject))
               .issuer_name(issuer.cert.subject if issuer else _name(subject))
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before)
               .not_valid_after(not_before + timedelta(days=3650))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    builder = builder.add_extension(_key_usage(ca), critical=True)
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
    if eku and not ca:
        # RFC 3161 §2.3: critical, and id-kp-timeStamping must be the only purpose.
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    return TsaIdentity(key, builder.sign(signer_key, hashes.SHA256()))


def _key_usage(ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                         encipher_only=False, decipher_only=False)


def make_pki(now: datetime, *, root_name: str = "Arsip Test Root") -> TestPki:
    """A fresh PKI valid from an hour before ``now``; the not-yet-valid certificate starts a day after."""
    start = utc(now) - timedelta(hours=1)
    root = _issue(root_name, None, start, ca=True)
    return TestPki(root=root,
                   tsa=_issue("Arsip Test TSA", root, start),
                   no_eku=_issue("Arsip Test TSA without EKU", root, start, eku=False),
                   not_yet_valid=_issue("Arsip Test TSA not yet valid", root, utc(now) + timedelta(days=1)))


class TimeStampResp(tsp.TimeStampResp):
    """asn1crypto's TimeStampResp with the token optional (RFC 3161 §2.4.2); use it to read rejections."""

    _fields = [("status", tsp.PKIStatusInfo), ("time_stamp_token", cms.ContentInfo, {"optional": True})]


def rejection(status_text: str, fail_info: str) -> bytes:
    """A TimeStampResp with status rejection and the given PKIFailureInfo bit name (e.g. ``bad_alg``)."""
    return cast(bytes, TimeStampResp({
        "status": {"status": "rejection", "status_string": [status_text], "fail_info": {fail_info}},
    }).dump())


def build_response(request_der: bytes, *, signer: TsaIdentity, serial: int, gen_time: datetime,
                   fault: TsaFault | None = None) -> bytes:
    """Answer one DER TimeStampReq the way a TSA would (no HTTP involved)."""
    try:
        request = tsp.TimeStampReq.load(request_der)
        imprint = request["message_imprint"]
        algorithm = imprint["hash_algorithm"]["algorithm"].native
        hashed = imprint["hashed_message"].native
        extensions = request["extensions"].native
    except (ValueError, TypeError, KeyError):
        return rejection("request is not a DER TimeStampReq", "bad_data_format")
    if algorithm not in _DIGEST_SIZES:
        return rejection(f"hash algorithm {algorithm} is not supported", "bad_alg")
    if len(hashed) != _DIGEST_SIZES[algorithm]:
        return rejection("hashedMessage length does not match the hash algorithm", "bad_data_format")
    if extensions:
        return rejection("request extensions are not supported", "unaccepted_extensions")
    if fault is TsaFault.REJECTION:
        return rejection("rejected by test fault switch", "bad_request")
    info = _tst_info(request, signer, serial, gen_time, fault)
    token = _signed_token(info, signer, include_cert=bool(request["cert_req"].native))
    status = "granted_with_mods" if fault is TsaFault.GRANTED_WITH_MODS else "granted"
    return cast(bytes, tsp.TimeStampResp({"status": {"status": status}, "time_stamp_token": token}).dump())


def _tst_info(request: tsp.TimeStampReq, signer: TsaIdentity, serial: int, gen_time: datetime,
              fault: TsaFault | None) -> tsp.TSTInfo:
    imprint = request["message_imprint"]
    hashed: bytes = imprint["hashed_message"].native
    if fault is TsaFault.WRONG_IMPRINT:
        hashed = hashlib.new(imprint["hash_algorithm"]["algorithm"].native, b"not the requested data").digest()
    fields: dict[str, Any] = {
        "version": "v1",
        "policy": TEST_POLICY_OID,
        "message_imprint": {"hash_algorithm": imprint["hash_algorithm"], "hashed_message": hashed},
        "serial_number": serial,
        "gen_time": utc(gen_time),
        "accuracy": {"seconds": 1},
        "tsa": asn1_x509.GeneralName(
            name="directory_name", value=asn1_x509.Name.load(signer.cert.subject.public_bytes())),
    }
    nonce = request["nonce"].native
    if nonce is not None:
        fields["nonce"] = nonce + 1 if fault is TsaFault.WRONG_NONCE else nonce
    return tsp.TSTInfo(fields)


def _signed_token(info: tsp.TSTInfo, signer: TsaIdentity, *, include_cert: bool) -> cms.ContentInfo:
    cert = asn1_x509.Certificate.load(signer.cert.public_bytes(serialization.Encoding.DER))
    attrs = _signed_attributes(hashlib.sha256(info.dump()).digest(), cert)
    # The signature covers the attributes' DER as a SET OF (tag 0x31), not the [0] IMPLICIT form.
    signature = signer.key.sign(attrs.dump(), ec.ECDSA(hashes.SHA256()))
    signer_info = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier(name="issuer_and_serial_number", value={
            "issuer": cert.issuer, "serial_number": cert.serial_number}),
        "digest_algorithm": {"algorithm": "sha256"},
        "signed_attrs": attrs,
        "signature_algorithm": {"algorithm": "sha256_ecdsa"},
        "signature": signature,
    })
    signed: dict[str, Any] = {
        "version": "v3",
        "digest_algorithms": [{"algorithm": "sha256"}],
        "encap_content_info": {"content_type": "tst_info", "content": info},
        "signer_infos": [signer_info],
    }
    if include_cert:
        signed["certificates"] = [cert]
    return cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(signed)})


def _signed_attributes(content_digest: bytes, cert: asn1_x509.Certificate) -> cms.CMSAttributes:
    ess_cert_id = {  # hashAlgorithm left out: it defaults to sha256 and DER omits defaults
        "cert_hash": hashlib.sha256(cert.dump()).digest(),
        "issuer_serial": {"issuer": [asn1_x509.GeneralName(name="directory_name", value=cert.issuer)],
                          "serial_number": cert.serial_number},
    }
    attributes = [
        cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
        cms.CMSAttribute({"type": "message_digest", "values": [content_digest]}),
        cms.CMSAttribute({"type": "signing_certificate_v2", "values": [{"certs": [ess_cert_id]}]}),
    ]
    # DER orders a SET OF by encoding; verifiers re-encode before checking, so we must match.
    return cms.CMSAttributes(sorted(attributes, key=lambda attribute: attribute.dump()))


class TsaServer:
    """A running test TSA. ``fault`` may be changed at any time; it applies to the next request."""

    def __init__(self, pki: TestPki, clock: Clock, fault: TsaFault | None) -> None:
        self.pki = pki
        self.clock = clock
        self.fault = fault
        self.requests: list[bytes] = []
        self.url = ""
        self._serials = itertools.count(1)
        self._lock = threading.Lock()

    @property
    def root_cert(self) -> x509.Certificate:
        return self.pki.root.cert

    @property
    def tsa_cert(self) -> x509.Certificate:
        """The certificate that signs answers under the current ``fault``."""
        return self.pki.signer_for(self.fault).cert

    def root_pem(self) -> bytes:
        return self.root_cert.public_bytes(serialization.Encoding.PEM)

    def root_pem_path(self, directory: Path) -> Path:
        """Write the root certificate as a PEM bundle into ``directory`` and return its path."""
        path = directory / "tsa-roots.pem"
        path.write_bytes(self.root_pem())
        return path

    def answer(self, request_der: bytes) -> bytes:
        """The DER TimeStampResp for one request; serial numbers increase across calls."""
        with self._lock:
            serial = next(self._serials)
        fault = self.fault
        return build_response(request_der, signer=self.pki.signer_for(fault), serial=serial,
                              gen_time=self.clock.now(), fault=fault)


class _Handler(BaseHTTPRequestHandler):
    server_version = "ArsipTestTSA/1.0"

    def do_POST(self) -> None:
        tsa = cast(_Server, self.server).tsa
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= _MAX_REQUEST_BYTES:
            self._reply(413 if length else 411, b"", "text/plain")
            return
        body = self.rfile.read(length)
        tsa.requests.append(body)
        if tsa.fault is TsaFault.HTTP_500:
            self._reply(500, b"test fault: internal server error", "text/plain")
        elif self.headers.get("Content-Type", "").split(";")[0].strip() != QUERY_TYPE:
            self._reply(415, b"expected application/timestamp-query", "text/plain")
        else:
            self._reply(200, tsa.answer(body), REPLY_TYPE)

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request on stderr only clutters test output


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tsa: TsaServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.tsa = tsa


@contextmanager
def run_tsa(*, clock: Clock | None = None, fault: TsaFault | None = None,
            pki: TestPki | None = None) -> Iterator[TsaServer]:
    """Serve a test TSA on 127.0.0.1 and a free port until the block ends.

    ``clock`` supplies genTime (default: the system clock); certificates are made valid around
    its current time unless a ``pki`` from :func:`make_pki` is passed to share one across servers.
    """
    clock = clock or SystemClock()
    tsa = TsaServer(pki or make_pki(clock.now()), clock, fault)
    server = _Server(tsa)
    host, port = server.server_address[:2]
    tsa.url = f"http://{host!s}:{port}/tsa"
    # A short poll interval keeps shutdown fast; the default 0.5 s would dominate every test.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="test-tsa",
                              daemon=True)
    thread.start()
    try:
        yield tsa
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def unreachable_url() -> str:
    """A loopback URL on a port that was free a moment ago, so connecting is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/tsa"
