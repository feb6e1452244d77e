"""Hostile exports: unsafe names and entry types, bombs and limits, each refused with its exact code and
a one-line message that names the archive and the entry (or skipped and reported with strict=False)."""

from __future__ import annotations

import shutil
import stat
import tarfile
import unicodedata
import zipfile
from pathlib import Path

import pytest

from archiver.collectors import export_archive_tar
from archiver.collectors.export_archive import (
    ArchiveLimitError,
    ExportLimits,
    UnsafeEntryError,
    open_export,
)
from archiver.collectors.export_archive_rules import Meter
from tests.support import hostile_archives as build
from tests.support.hostile_archives import assert_refused as refused
from tests.support.hostile_archives import write_zip_and_tar as zip_and_tar

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "exports"
MIB = 1024 * 1024


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    """A parent for spool directories, so tests can see what is left behind."""
    path = tmp_path / "spool"
    path.mkdir()
    return path


# --- unsafe names and types ---------------------------------------------------------------------


@pytest.mark.parametrize(("sample", "entry", "reason"), [
    ("traversal.zip", "../evil.txt", "'..' segment"),
    ("absolute.zip", "/etc/cron.d/arsip-evil", "absolute path"),
    ("symlink.tar.gz", "media/passwd", "symbolic link to '../../../../etc/passwd'"),
])
def test_committed_hostile_sample_is_refused_naming_the_entry(
        sample: str, entry: str, reason: str, spool: Path) -> None:
    with pytest.raises(UnsafeEntryError) as excinfo:
        open_export(SAMPLES / sample, spool_dir=spool)
    refused(excinfo, UnsafeEntryError, "unsafe_archive_entry", sample, f"'{entry}'", reason)
    assert excinfo.value.entry == entry
    assert list(spool.iterdir()) == []


@pytest.mark.parametrize(("name", "reason"), [
    ("../evil.txt", "'..' segment"),
    ("media/../../evil.txt", "'..' segment"),
    ("/etc/passwd", "absolute path"),
    ("media\\..\\evil.txt", "backslash"),
    ("C:/Windows/evil.txt", "drive letter"),
    ("c:evil.txt", "drive letter"),
    ("bell\x07.txt", "control character"),
    ("line\nbreak.txt", "control character"),
])
@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_unsafe_name_is_refused_in_both_formats(tmp_path: Path, spool: Path, kind: str, name: str,
                                                 reason: str) -> None:
    entries = [("outbox.json", b"{}"), (name, b"x")]
    path = zip_and_tar(tmp_path, entries)[0 if kind == "zip" else 1]
    with pytest.raises(UnsafeEntryError) as excinfo:
        open_export(path, spool_dir=spool)
    message = refused(excinfo, UnsafeEntryError, "unsafe_archive_entry", path.name, reason)
    shown = name.replace("\x07", "\\x07").replace("\n", "\\x0a")
    assert f"'{shown}'" in message


def test_nul_byte_in_zip_name_is_refused(tmp_path: Path) -> None:
    path = build.write_zip(tmp_path / "x.zip", [("evil.txt?.jpg", b"x")])
    build.replace_bytes(path, b"evil.txt?.jpg", b"evil.txt\x00.jpg")
    with pytest.raises(UnsafeEntryError) as excinfo:
        open_export(path)
    refused(excinfo, UnsafeEntryError, "unsafe_archive_entry", "'evil.txt\\x00.jpg'", "control character")


def test_bidi_override_in_name_is_escaped_in_the_message(tmp_path: Path) -> None:
    path = build.write_zip(tmp_path / "x.zip", [("../gpj.\u202eexe", b"x")])
    with pytest.raises(UnsafeEntryError) as excinfo:
        open_export(path)
    assert "\u202e" not in str(excinfo.value)
    assert "\\u202e" in str(excinfo.value)


def test_tar_name_that_is_not_utf8_is_refused(tmp_path: Path, spool: Path) -> None:
    data = build.tar_bytes([build.tar_file("caf\udce9.jpg", b"x")], fmt=tarfile.GNU_FORMAT)
    assert b"caf\xe9.jpg" in data
    path = tmp_path / "x.tar.gz"
    path.write_bytes(build.gzip_bytes(data))
    with pytest.raises(UnsafeEntryError) as excinfo:
        open_export(path, spool_dir=spool)
    refused(excinfo, UnsafeEntryError, "unsafe_archive_entry", "'caf\\udce9.jpg'", "not valid UTF-8")


@pytest.mark.parametrize(("first", "second"), [
    ("media/a.jpg", "media/./a.jpg"),
    ("media/a.jpg", "media//a.jpg"),
    (unicodedata.normalize("NFC", "café.jpg"), unicodedata.normalize("NFD", "café.jpg")),
])
@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_names_equal_after_normalisation_are_refused_as_duplicates(
        tmp_path: Path, spool: Path, kind: str, first: str, second: str) -> None:
    path = zip_and_tar(tmp_path, [(first, b"one"), (second, b"two")])[0 if kind == "zip" else 1]
    with pytest.raises(UnsafeEntryError) as excinfo:
        open_export(path, spool_dir=spool)
    refused(excinfo, UnsafeEntryError, "unsafe_archive_entry", "duplicate name")


@pytest.mark.parametrize(("entry", "reason"), [
    (build.tar_link("media/passwd", "/etc/passwd"), "symbolic link to '/etc/passwd'"),
    (build.tar_link("media/inside", "outbox.json"), "symbolic link"),
    (build.tar_link("media/hard", "../../etc/shadow", hard=True), "hard link to '../../etc/shadow'"),
    (build.tar_special("dev/sda", tarfile.BLKTYPE), "device file"),
    (build.tar_special("dev/tty", tarfile.CHRTYPE), "device file"),
    (build.tar_special("pipe", tarfile.FIFOTYPE), "FIFO"),
    (build.tar_special("volume", b"V"), "unsupported entry type"),
    (build.tar_dir("../outside"), "'..' segment"),
])
def test_tar_links_devices_fifos_and_escaping_directories_are_refused(
        tmp_path: Path, spool: Path, entry: build.TarEntry, reason: str) -> None:
    path = build.write_tar(tmp_path / "x.tar.gz", [build.tar_file("outbox.json", b"{}"), entry])
    with pytest.raises(UnsafeEntryError) as excinfo:
        open_export(path, spool_dir=spool)
    refused(excinfo, UnsafeEntryError, "unsafe_archive_entry", f"'{entry[0].name}'", reason)
    assert list(spool.iterdir()) == []


@pytest.mark.parametrize(("mode", "reason"), [
    (stat.S_IFLNK | 0o777, "symbolic link"), (stat.S_IFIFO | 0o644, "not a regular file"),
    (stat.S_IFCHR | 0o644, "not a regular file")])
def test_zip_entries_marked_as_links_or_special_files_are_refused(tmp_path: Path, mode: int, reason: str) -> None:
    path = build.write_zip_infos(tmp_path / "x.zip", [(build.zip_info("media/link", mode=mode), b"/etc/passwd")])
    with pytest.raises(UnsafeEntryError) as excinfo:
        open_export(path)
    refused(excinfo, UnsafeEntryError, "unsafe_archive_entry", "'media/link'", reason)


def test_encrypted_zip_entry_is_refused(tmp_path: Path) -> None:
    path = build.write_zip(tmp_path / "x.zip", [("outbox.json", b"{}"), ("secret.json", b"{}")])
    build.patch_central_directory(path, "secret.json", flag_bits=0x1)
    with pytest.raises(UnsafeEntryError) as excinfo:
        open_export(path)
    refused(excinfo, UnsafeEntryError, "unsafe_archive_entry", "'secret.json'", "encrypted")


def test_zip_entry_with_unknown_compression_is_refused(tmp_path: Path) -> None:
    path = build.write_zip(tmp_path / "x.zip", [("odd.bin", b"x" * 100)])
    build.patch_central_directory(path, "odd.bin", method=99)
    with pytest.raises(UnsafeEntryError) as excinfo:
        open_export(path)
    refused(excinfo, UnsafeEntryError, "unsafe_archive_entry", "'odd.bin'", "compression method 99")


def test_non_strict_open_skips_and_reports_unsafe_entries(tmp_path: Path, spool: Path) -> None:
    path = build.write_tar(tmp_path / "x.tar.gz", [
        build.tar_file("outbox.json", b"{}"), build.tar_file("../evil.txt", b"x"),
        build.tar_link("media/passwd", "/etc/passwd"), build.tar_file("media/a.jpg", b"1"),
        build.tar_file("media/./a.jpg", b"2"), build.tar_file("media/b.jpg", b"b")])
    with open_export(path, spool_dir=spool, strict=False) as archive:
        assert archive.names() == ["outbox.json", "media/b.jpg"]
        assert archive.resolve("media/a.jpg") is None
        assert archive.problems == [
            ("../evil.txt", "'..' segment climbs out of the archive"),
            ("media/passwd", "symbolic link to '/etc/passwd'"),
            ("media/./a.jpg", "duplicate name; every copy is skipped"),
            ("media/a.jpg", "duplicate name; every copy is skipped")]
        assert archive.read_bytes("media/b.jpg", 10) == b"b"


def test_non_strict_zip_reports_names_escaped(tmp_path: Path) -> None:
    path = build.write_zip(tmp_path / "x.zip", [("ok.json", b"{}"), ("bad\n.json", b"{}")])
    with open_export(path, strict=False) as archive:
        assert archive.names() == ["ok.json"]
        assert archive.problems == [("bad\\x0a.json", "control character in the name")]


# --- limits and bombs ---------------------------------------------------------------------------


def test_committed_zip_bomb_is_refused_before_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *a, **k: pytest.fail("a member was read"))
    with pytest.raises(ArchiveLimitError) as excinfo:
        open_export(SAMPLES / "bomb.zip")
    refused(excinfo, ArchiveLimitError, "archive_limit", "bomb.zip", "'zeros.bin'", "decompression bomb")


def test_tar_gz_bomb_is_caught_by_ratio_while_spooling(tmp_path: Path, spool: Path) -> None:
    path = build.write_zeros_tar_gz(tmp_path / "bomb.tar.gz", 64 * MIB)
    assert path.stat().st_size < 200 * 1024
    with pytest.raises(ArchiveLimitError) as excinfo:
        open_export(path, spool_dir=spool)
    refused(excinfo, ArchiveLimitError, "archive_limit", "'zeros.bin'", "decompression bomb")
    assert list(spool.iterdir()) == []


def test_ratio_limit_spares_small_entries_that_compress_well(tmp_path: Path, spool: Path) -> None:
    entries = [("outbox.json", b" " * (MIB - 1))]
    for path in zip_and_tar(tmp_path, entries):
        with open_export(path, spool_dir=spool) as archive:
            assert archive.read_bytes("outbox.json", MIB) == entries[0][1]


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_entry_declared_over_the_member_limit_is_refused(tmp_path: Path, spool: Path, kind: str) -> None:
    path = zip_and_tar(tmp_path, [("small.txt", b"x"), ("big.bin", build.pseudo_random_bytes(5000))])
    with pytest.raises(ArchiveLimitError) as excinfo:
        open_export(path[0 if kind == "zip" else 1], spool_dir=spool, limits=ExportLimits(max_member_bytes=4096))
    refused(excinfo, ArchiveLimitError, "archive_limit", "'big.bin'", "declares 5000 bytes", "max_member_bytes")


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_archive_over_the_total_limit_is_refused(tmp_path: Path, spool: Path, kind: str) -> None:
    entries = [(f"part{i}.bin", build.pseudo_random_bytes(60_000, seed=i)) for i in range(4)]
    path = zip_and_tar(tmp_path, entries)[0 if kind == "zip" else 1]
    with pytest.raises(ArchiveLimitError) as excinfo:
        open_export(path, spool_dir=spool, limits=ExportLimits(max_total_bytes=200_000))
    refused(excinfo, ArchiveLimitError, "archive_limit", "'part3.bin'", "max_total_bytes")


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_too_many_members_are_refused_at_open(tmp_path: Path, spool: Path, kind: str) -> None:
    path = zip_and_tar(tmp_path, [(f"{i}.json", b"{}") for i in range(6)])[0 if kind == "zip" else 1]
    with pytest.raises(ArchiveLimitError) as excinfo:
        open_export(path, spool_dir=spool, limits=ExportLimits(max_members=5))
    refused(excinfo, ArchiveLimitError, "archive_limit", path.name, "max_members")


def test_zip_declaring_too_many_entries_is_refused_before_zipfile_parses_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = build.patch_declared_entry_count(build.write_zip(tmp_path / "x.zip", [("a", b"a")]), 60_000)
    monkeypatch.setattr(zipfile, "ZipFile", lambda *a, **k: pytest.fail("zipfile parsed the directory"))
    with pytest.raises(ArchiveLimitError) as excinfo:
        open_export(path, limits=ExportLimits(max_members=1000))
    refused(excinfo, ArchiveLimitError, "archive_limit", "declares 60000 entries")


def test_tar_stream_is_capped_where_no_member_declares_the_bytes(tmp_path: Path, spool: Path) -> None:
    data = build.tar_bytes([build.tar_file("a.txt", b"a")]) + bytes(4 * MIB)
    path = tmp_path / "padded.tar.gz"
    path.write_bytes(build.gzip_bytes(data))
    with pytest.raises(ArchiveLimitError) as excinfo:
        open_export(path, spool_dir=spool, limits=ExportLimits(max_total_bytes=MIB))
    refused(excinfo, ArchiveLimitError, "archive_limit", "padded.tar.gz", "max_total_bytes")


def test_oversized_tar_extended_header_is_refused(tmp_path: Path, spool: Path) -> None:
    path = build.write_tar(tmp_path / "x.tar.gz", [build.tar_file("ok.json", b"{}"),
                                                   build.tar_file("n" * 100_000, b"x")])
    with pytest.raises(ArchiveLimitError) as excinfo:
        open_export(path, spool_dir=spool)
    refused(excinfo, ArchiveLimitError, "archive_limit", "extended header after entry 'ok.json'")


def test_meter_refuses_real_bytes_past_the_member_limit_whatever_was_declared(tmp_path: Path) -> None:
    meter = Meter(tmp_path / "x.zip", "liar.bin", ExportLimits(max_member_bytes=100), lambda: 1000)
    meter.add(100)
    with pytest.raises(ArchiveLimitError) as excinfo:
        meter.add(1)
    refused(excinfo, ArchiveLimitError, "archive_limit", "'liar.bin'", "expands past the 100-byte limit")


def test_meter_refuses_real_ratio_past_the_limit_once_past_one_mib(tmp_path: Path) -> None:
    meter = Meter(tmp_path / "x.zip", "bomb.bin", ExportLimits(max_ratio=10), lambda: 1000)
    meter.add(MIB)  # 1048:1, but still under the 1 MiB floor
    with pytest.raises(ArchiveLimitError) as excinfo:
        meter.add(1)
    refused(excinfo, ArchiveLimitError, "archive_limit", "'bomb.bin'", "decompression bomb")


def test_read_bytes_refuses_a_member_larger_than_asked(tmp_path: Path) -> None:
    with open_export(build.write_zip(tmp_path / "x.zip", [("a.json", b"0123456789")])) as archive:
        assert archive.read_bytes("a.json", 10) == b"0123456789"
        with pytest.raises(ArchiveLimitError) as excinfo:
            archive.read_bytes("a.json", 9)
    refused(excinfo, ArchiveLimitError, "archive_limit", "'a.json'", "larger than the 9 bytes")


def test_spooling_refuses_an_entry_the_disk_cannot_hold(
        tmp_path: Path, spool: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = build.write_files_tar(tmp_path / "x.tar.gz", [("video.mp4", b"v" * 1000)])
    full = shutil.disk_usage(spool)._replace(free=export_archive_tar.SPOOL_RESERVE_BYTES)
    monkeypatch.setattr(export_archive_tar.shutil, "disk_usage", lambda _: full)
    with pytest.raises(ArchiveLimitError) as excinfo:
        open_export(path, spool_dir=spool)
    refused(excinfo, ArchiveLimitError, "archive_limit", "'video.mp4'", "spool space")
    assert list(spool.iterdir()) == []
