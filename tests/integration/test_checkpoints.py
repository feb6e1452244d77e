"""Checkpoints after every capture run: signed, RFC 3161 time-stamped when configured, and checked."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from archiver.accounts import add_account, new_account
from archiver.capture.service import run_capture
from archiver.clock import SystemClock
from archiver.integrity.checkpoint import Checkpoint, sign_checkpoint
from archiver.integrity.publish import checkpoint_key
from archiver.model import Platform
from archiver.simulator.synthetic import SyntheticCollector, SyntheticPlan
from archiver.verify.archive import verify_archive
from archiver.wiring import Archive, init_archive
from tests.conftest import make_settings
from tests.support.tsa import TsaFault, run_tsa


def capture(archive: Archive, versions: int, host: str = "social.example.gov"):  # type: ignore[no-untyped-def]
    with archive.catalog.read() as conn:
        existing = archive.catalog.accounts(conn)
    account = existing[0] if existing else add_account(
        archive, new_account(Platform.MASTODON, handle=f"cityhall@{host}", url=f"https://{host}/@cityhall",
                             clock=archive.clock), actor="test")
    return run_capture(archive, account, SyntheticCollector(SyntheticPlan(versions=versions, host=host)))


def test_checkpoints_are_time_stamped_and_the_tokens_verify(tmp_path: Path) -> None:
    with run_tsa() as tsa:
        roots = tsa.root_pem_path(tmp_path)
        home = tmp_path / "home"
        home.mkdir(mode=0o700)
        archive = init_archive(make_settings(home, tsa_url=tsa.url, tsa_roots=str(roots)), clock=SystemClock())
        first = capture(archive, 40)
        assert first.checkpoint_size == 40 and first.timestamp_problem is None
        assert archive.store.head("log/checkpoints/000000000040.tsr") is not None

        tsa.fault = TsaFault.HTTP_500
        second = capture(archive, 80)
        assert second.checkpoint_size == 80
        assert second.timestamp_problem and "HTTP 500" in second.timestamp_problem
        assert archive.store.head("log/checkpoints/000000000080.tsr") is None  # signed, not stamped

    report = verify_archive(archive.store, origin=archive.origin, catalog=archive.catalog, tsa_roots=roots)
    assert report.ok and report.checked["timestamps"] == 1 and report.checked["checkpoints"] == 2

    token = home / "objects" / "log" / "checkpoints" / "000000000040.tsr"
    data = bytearray(token.read_bytes())
    data[len(data) // 2] ^= 0x01
    token.write_bytes(bytes(data))
    tampered = verify_archive(archive.store, origin=archive.origin, tsa_roots=roots)
    assert [f.code for f in tampered.findings] == ["bad_timestamp"]
    archive.close()


def test_a_forked_checkpoint_is_caught_even_with_a_valid_signature(archive: Archive) -> None:
    """Someone with the signing key rewrites history and signs a new checkpoint for it: the
    signature verifies, but the log it commits to is not the one the store holds."""
    capture(archive, 40)
    forged = Checkpoint(origin=archive.origin, size=20, root_hash=b"\x11" * 32)
    note = sign_checkpoint(forged, archive.origin, archive.signer())
    archive.store.put_bytes(checkpoint_key(20), note.encode())
    report = verify_archive(archive.store, origin=archive.origin, catalog=archive.catalog)
    assert [(f.code, f.subject) for f in report.findings] == [("checkpoint_mismatch", checkpoint_key(20))]


def test_checkpoint_signed_by_an_unknown_key_is_refused(archive: Archive, tmp_path: Path) -> None:
    from archiver.integrity.keys import Signer

    capture(archive, 10)
    stranger = Signer.from_seed(b"\x07" * 32)
    note = sign_checkpoint(Checkpoint(origin=archive.origin, size=5, root_hash=b"\x00" * 32), archive.origin, stranger)
    archive.store.put_bytes(checkpoint_key(5), note.encode())
    report = verify_archive(archive.store, origin=archive.origin)
    assert [f.code for f in report.findings] == ["bad_checkpoint"]


def test_no_new_checkpoint_when_nothing_new_was_logged(archive: Archive) -> None:
    capture(archive, 10)
    again = capture(archive, 10)
    assert again.checkpoint_size is None
    assert len(list(archive.store.list("log/checkpoints/"))) == 1


def test_old_signatures_verify_after_key_rotation(archive: Archive) -> None:
    capture(archive, 10)
    archive.keyring.rotate()
    from archiver.integrity.publish import publish_public_keys

    publish_public_keys(archive.store, archive.catalog, archive.keyring)
    rotated = replace(archive, _signer=None)
    capture(rotated, 20)
    report = verify_archive(archive.store, origin=archive.origin, catalog=archive.catalog)
    assert report.ok and report.checked["public_keys"] == 2
