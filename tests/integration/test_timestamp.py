"""RFC 3161 time-stamping against a real local TSA: round trip, offline re-verification, every failure."""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from asn1crypto import tsp
from cryptography.hazmat.primitives.serialization import Encoding

from archiver.clock import FixedClock
from archiver.errors import ArchiverError, ConfigError
from archiver.integrity.timestamp import (
    TimestampError,
    TimestampToken,
    TimestampUnavailable,
    load_roots,
    verify_token,
)
from archiver.integrity.tsa_client import TimestampClient
from tests.support.tsa import QUERY_TYPE, TimeStampResp, TsaFault, TsaServer, make_pki, run_tsa, unreachable_url

CHECKPOINT = b"test.example/arsip\n42\nq6ySBYTabmMtLT4zjK5ye7g6OxXcRBr5vb0NpVlD5kE=\n"


@pytest.fixture
def tsa(clock: FixedClock) -> Iterator[TsaServer]:
    with run_tsa(clock=clock) as server:
        yield server


@pytest.fixture
def token(tsa: TsaServer) -> TimestampToken:
    return TimestampClient(tsa.url, roots=[tsa.root_cert]).stamp(CHECKPOINT)


def _flip(der: bytes, index: int) -> bytes:
    changed = bytearray(der)
    changed[index] ^= 0x01
    return bytes(changed)


def test_stamp_returns_token_with_tsa_time_and_name(tsa: TsaServer, token: TimestampToken,
                                                    clock: FixedClock) -> None:
    assert token.gen_time == clock.now()
    assert token.gen_time.tzinfo is not None
    assert token.serial_number == 1
    assert token.tsa_name is not None and "CN=Arsip Test TSA" in token.tsa_name
    assert len(tsa.requests) == 1


def test_request_carries_sha256_imprint_nonce_and_cert_request(tsa: TsaServer, token: TimestampToken) -> None:
    request = tsp.TimeStampReq.load(tsa.requests[0])
    assert request["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha256"
    assert request["message_imprint"]["hashed_message"].native == hashlib.sha256(CHECKPOINT).digest()
    assert request["cert_req"].native is True
    nonce = request["nonce"].native
    assert nonce is not None
    reply = tsp.TimeStampResp.load(token.der)
    assert reply["status"]["status"].native == "granted"
    assert reply["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed["nonce"].native == nonce


def test_every_request_gets_a_fresh_nonce_and_a_higher_serial(tsa: TsaServer) -> None:
    client = TimestampClient(tsa.url, roots=[tsa.root_cert])
    first, second = client.stamp(CHECKPOINT), client.stamp(CHECKPOINT)
    assert second.serial_number > first.serial_number
    nonces = {tsp.TimeStampReq.load(der)["nonce"].native for der in tsa.requests}
    assert len(nonces) == 2


def test_stored_token_verifies_offline_with_roots_from_pem(tsa: TsaServer, token: TimestampToken,
                                                          tmp_path: Path) -> None:
    roots = load_roots(tsa.root_pem_path(tmp_path))
    assert verify_token(token.der, CHECKPOINT, roots) == token


def test_token_stays_verifiable_after_the_tsa_certificate_expires() -> None:
    # Certificates from make_pki last ten years; a 2001 token is checked at its genTime, not today.
    old_clock = FixedClock(datetime(2001, 5, 1, 9, 30, tzinfo=UTC))
    with run_tsa(clock=old_clock) as old_tsa:
        token = TimestampClient(old_tsa.url, roots=[old_tsa.root_cert]).stamp(CHECKPOINT)
    assert old_tsa.tsa_cert.not_valid_after_utc < datetime.now(UTC)
    assert verify_token(token.der, CHECKPOINT, [old_tsa.root_cert]).gen_time == old_clock.now()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_stored_token_passes_openssl_ts_verify(tmp_path: Path) -> None:
    """An independent RFC 3161 implementation accepts what we store, so auditors can use it too."""
    with run_tsa() as live_tsa:  # system clock: openssl checks certificates at the current time
        token = TimestampClient(live_tsa.url, roots=[live_tsa.root_cert]).stamp(CHECKPOINT)
        roots = live_tsa.root_pem_path(tmp_path)
    (tmp_path / "checkpoint").write_bytes(CHECKPOINT)
    (tmp_path / "token.tsr").write_bytes(token.der)
    result = subprocess.run(["openssl", "ts", "-verify", "-data", str(tmp_path / "checkpoint"),
                             "-in", str(tmp_path / "token.tsr"), "-CAfile", str(roots)],
                            capture_output=True, text=True, timeout=30, check=False)
    assert "Verification: OK" in result.stdout, result.stderr


@pytest.mark.parametrize(("fault", "error", "code", "fragment"), [
    (TsaFault.HTTP_500, TimestampUnavailable, "tsa_unavailable", "answered HTTP 500"),
    (TsaFault.REJECTION, TimestampUnavailable, "tsa_unavailable", r"declined to stamp: PKIStatus 2 \(rejection\)"),
    (TsaFault.WRONG_NONCE, TimestampError, "timestamp_error", "nonce"),
    (TsaFault.WRONG_IMPRINT, TimestampError, "timestamp_error", "message imprint does not match"),
    (TsaFault.NO_EKU, TimestampError, "timestamp_error", "no extendedKeyUsage"),
    (TsaFault.NOT_YET_VALID, TimestampError, "timestamp_error", "outside the validity"),
])
def test_misbehaving_tsa_is_refused_with_a_named_reason(clock: FixedClock, fault: TsaFault,
                                                       error: type[ArchiverError], code: str, fragment: str) -> None:
    with run_tsa(clock=clock, fault=fault) as faulty:
        with pytest.raises(error, match=fragment) as caught:
            TimestampClient(faulty.url, roots=[faulty.root_cert]).stamp(CHECKPOINT)
        assert len(faulty.requests) == 1
    assert caught.value.code == code
    if error is TimestampUnavailable:
        assert faulty.url in str(caught.value)


def test_granted_with_mods_token_is_accepted_and_reverifies(tsa: TsaServer) -> None:
    tsa.fault = TsaFault.GRANTED_WITH_MODS
    token = TimestampClient(tsa.url, roots=[tsa.root_cert]).stamp(CHECKPOINT)
    assert tsp.TimeStampResp.load(token.der)["status"]["status"].native == "granted_with_mods"
    assert verify_token(token.der, CHECKPOINT, [tsa.root_cert]) == token
    with pytest.raises(TimestampError, match="signature"):
        verify_token(_flip(token.der, len(token.der) - 1), CHECKPOINT, [tsa.root_cert])


def test_token_verified_against_other_data_fails(tsa: TsaServer, token: TimestampToken) -> None:
    with pytest.raises(TimestampError, match="imprint does not match"):
        verify_token(token.der, CHECKPOINT + b"\n", [tsa.root_cert])


def test_flipped_byte_in_signed_gen_time_fails(tsa: TsaServer, token: TimestampToken) -> None:
    where = token.der.find(b"20250301120000Z")  # genTime as the clock fixture sets it, in DER
    assert where > 0
    one_second_later = _flip(token.der, where + 13)  # the last seconds digit: 0 -> 1, still in validity
    with pytest.raises(TimestampError, match="signature"):
        verify_token(one_second_later, CHECKPOINT, [tsa.root_cert])


def test_flipped_byte_in_signature_value_fails(tsa: TsaServer, token: TimestampToken) -> None:
    # The SignerInfo signature is the last field of the reply, so the last byte is part of it.
    with pytest.raises(TimestampError, match="signature"):
        verify_token(_flip(token.der, len(token.der) - 1), CHECKPOINT, [tsa.root_cert])


def test_truncated_token_fails_as_malformed(tsa: TsaServer, token: TimestampToken) -> None:
    with pytest.raises(TimestampError, match="not a DER TimeStampResp"):
        verify_token(token.der[:-10], CHECKPOINT, [tsa.root_cert])


def test_root_with_same_name_but_other_key_is_not_trusted(tsa: TsaServer, token: TimestampToken,
                                                          clock: FixedClock) -> None:
    impostor = make_pki(clock.now()).root.cert
    assert impostor.subject == tsa.root_cert.subject
    with pytest.raises(TimestampError, match="not issued by any configured root"):
        verify_token(token.der, CHECKPOINT, [impostor])
    with pytest.raises(TimestampError, match="not issued by any configured root"):
        TimestampClient(tsa.url, roots=[impostor]).stamp(CHECKPOINT)


def test_unreachable_tsa_raises_unavailable_quickly() -> None:
    url = unreachable_url()
    started = time.monotonic()
    with pytest.raises(TimestampUnavailable, match="could not be reached") as caught:
        TimestampClient(url, roots=[make_pki(datetime.now(UTC)).root.cert], timeout=1.0).stamp(CHECKPOINT)
    assert time.monotonic() - started < 2.0
    assert url in str(caught.value)


def test_silent_tsa_times_out_with_a_clear_message() -> None:
    with socket.socket() as silent:  # accepts connections via the backlog but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/tsa"
        started = time.monotonic()
        with pytest.raises(TimestampUnavailable, match=r"did not answer within 0\.3 s"):
            TimestampClient(url, roots=[make_pki(datetime.now(UTC)).root.cert], timeout=0.3).stamp(CHECKPOINT)
    assert time.monotonic() - started < 3.0


def test_credentials_in_the_tsa_url_never_reach_the_message() -> None:
    url = unreachable_url().replace("http://", "http://stamper:s3cret-pass@")
    with pytest.raises(TimestampUnavailable) as caught:
        TimestampClient(url, roots=[make_pki(datetime.now(UTC)).root.cert], timeout=1.0).stamp(CHECKPOINT)
    assert "s3cret-pass" not in str(caught.value)
    assert "127.0.0.1" in str(caught.value)


def _client_answering(status: int, body: bytes, content_type: str) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Content-Type"] == QUERY_TYPE
        return httpx.Response(status, content=body, headers={"Content-Type": content_type})
    return httpx.Client(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(("body", "content_type", "error", "fragment"), [
    (b"<html>login</html>", "text/html", TimestampUnavailable, "Content-Type 'text/html'"),
    (b"\x00" * (2 << 20), "application/timestamp-reply", TimestampUnavailable, "more than"),
    (b"not asn.1 at all", "application/timestamp-reply", TimestampError, "not a DER TimeStampResp"),
])
def test_reply_that_is_not_a_time_stamp_is_refused(body: bytes, content_type: str, error: type[Exception],
                                                   fragment: str) -> None:
    root = make_pki(datetime.now(UTC)).root.cert
    with _client_answering(200, body, content_type) as http, pytest.raises(error, match=fragment):
        TimestampClient("https://tsa.example/", roots=[root], http=http).stamp(CHECKPOINT)


def test_test_tsa_rejects_unknown_hash_algorithm_with_bad_alg(tsa: TsaServer) -> None:
    request = tsp.TimeStampReq({
        "version": "v1",
        "message_imprint": {"hash_algorithm": {"algorithm": "sha1"},
                            "hashed_message": hashlib.sha1(CHECKPOINT).digest()},
        "cert_req": True,
    })
    reply = httpx.post(tsa.url, content=request.dump(), headers={"Content-Type": QUERY_TYPE}, timeout=5)
    status = TimeStampResp.load(reply.content)["status"]
    assert reply.headers["Content-Type"] == "application/timestamp-reply"
    assert status["status"].native == "rejection"
    assert "bad_alg" in status["fail_info"].native


def test_client_refuses_missing_roots_and_non_http_urls(tsa: TsaServer) -> None:
    with pytest.raises(ConfigError, match="ARSIP_TSA_ROOTS"):
        TimestampClient(tsa.url, roots=[])
    with pytest.raises(ConfigError, match="not http"):
        TimestampClient("file:///etc/passwd", roots=[tsa.root_cert])
    with pytest.raises(ConfigError, match="ARSIP_TSA_ROOTS"):
        verify_token(b"", CHECKPOINT, [])


def test_load_roots_reads_every_certificate_in_the_bundle(tsa: TsaServer, tmp_path: Path,
                                                          clock: FixedClock) -> None:
    other = make_pki(clock.now() - timedelta(days=1)).root
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(tsa.root_pem() + b"\n" + other.cert.public_bytes(Encoding.PEM))
    assert load_roots(bundle) == [tsa.root_cert, other.cert]


@pytest.mark.parametrize(("content", "fragment"), [
    (None, "does not exist"),
    (b"", "holds no PEM certificate"),
    (b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n", "not a valid PEM"),
])
def test_load_roots_refuses_missing_empty_or_malformed_files(tmp_path: Path, content: bytes | None,
                                                             fragment: str) -> None:
    path = tmp_path / "roots.pem"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError, match=fragment) as caught:
        load_roots(path)
    assert str(path) in str(caught.value)
