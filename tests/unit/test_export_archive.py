"""Export archives: formats by magic bytes, good exports read back intact in bounded memory, damage refused,
and the spool never outlives the archive. Hostile names, types and bombs are in test_export_archive_hostile."""

from __future__ import annotations

import hashlib
import stat
import tarfile
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from archiver.collectors.export_archive import (
    ArchiveLimitError,
    CorruptArchiveError,
    ExportArchive,
    ExportFormatError,
    MemberNotFoundError,
    UnsafeEntryError,
    open_export,
)
from archiver.errors import InputError
from tests.support import hostile_archives as build
from tests.support.hostile_archives import assert_refused as refused
from tests.support.hostile_archives import write_zip_and_tar as zip_and_tar

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "exports"
BIG = 20 * 1024 * 1024
MIB = 1024 * 1024


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    """A parent for spool directories, so tests can see what is left behind."""
    path = tmp_path / "spool"
    path.mkdir()
    return path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_refusals_are_input_errors_with_the_documented_codes() -> None:
    codes = {cls: cls.code for cls in (UnsafeEntryError, ArchiveLimitError, CorruptArchiveError)}
    assert codes == {UnsafeEntryError: "unsafe_archive_entry", ArchiveLimitError: "archive_limit",
                     CorruptArchiveError: "corrupt_archive"}
    assert all(issubclass(cls, InputError) for cls in (*codes, ExportFormatError, MemberNotFoundError))


# --- format -------------------------------------------------------------------------------


def test_text_file_named_zip_is_refused_as_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    path.write_bytes(b'{"not": "an archive"}')
    with pytest.raises(ExportFormatError) as excinfo:
        open_export(path)
    message = refused(excinfo, ExportFormatError, "unknown_archive_format", "export.zip")
    assert "is neither a zip nor a tar.gz archive" in message
    assert "pass the file the platform gave you" in message


def test_empty_file_is_refused_as_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "empty.tar.gz"
    path.write_bytes(b"")
    with pytest.raises(ExportFormatError):
        open_export(path)


def test_format_comes_from_magic_bytes_not_extension(tmp_path: Path, spool: Path) -> None:
    zip_path = build.write_zip(tmp_path / "looks-like.tar.gz", [("a.txt", b"zip")])
    tar_path = build.write_files_tar(tmp_path / "looks-like.zip", [("a.txt", b"tgz")])
    plain = build.write_files_tar(tmp_path / "plain.bin", [("a.txt", b"tar")], compress=False)
    with open_export(zip_path) as a, open_export(tar_path, spool_dir=spool) as b, \
            open_export(plain, spool_dir=spool) as c:
        assert (a.format, b.format, c.format) == ("zip", "tar", "tar")
        assert [x.read_bytes("a.txt", 10) for x in (a, b, c)] == [b"zip", b"tgz", b"tar"]


def test_empty_zip_opens_with_no_members(tmp_path: Path) -> None:
    path = build.write_zip(tmp_path / "empty.zip", [])
    assert path.read_bytes()[:4] == b"PK\x05\x06"
    with open_export(path) as archive:
        assert archive.names() == []


# --- good archives ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_good_export_with_20mb_entry_reads_back_identically_in_bounded_memory(
        tmp_path: Path, spool: Path, kind: str) -> None:
    entries = build.mastodon_like_entries(big=build.pseudo_random_bytes(BIG, seed=42))
    expected = {name: sha256(data) for name, data in entries}
    path = (build.write_zip(tmp_path / "x.zip", entries) if kind == "zip"
            else build.write_files_tar(tmp_path / "x.tar.gz", entries))
    del entries
    tracemalloc.start()
    try:
        with open_export(path, spool_dir=spool) as archive:
            actual = {name: _stream_sha256(archive, name) for name in archive.names()}
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert actual == expected
    assert peak < BIG // 4, f"peak {peak} bytes while reading a {BIG}-byte entry"


def _stream_sha256(archive: ExportArchive, name: str) -> str:
    digest = hashlib.sha256()
    with archive.open(name) as stream:
        while chunk := stream.read(MIB):
            digest.update(chunk)
    return digest.hexdigest()


@pytest.mark.parametrize("sample", ["good.zip", "good.tar.gz"])
def test_archive_sha256_matches_hashlib_over_the_file(sample: str, spool: Path) -> None:
    path = SAMPLES / sample
    with open_export(path, spool_dir=spool) as archive:
        assert archive.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert archive.path == path


def test_committed_good_samples_hold_the_same_files(spool: Path) -> None:
    with open_export(SAMPLES / "good.zip") as z, open_export(SAMPLES / "good.tar.gz", spool_dir=spool) as t:
        assert z.names() == t.names() == [name for name, _ in build.mastodon_like_entries()]
        assert all(z.read_bytes(n, MIB) == t.read_bytes(n, MIB) for n in z.names())


def test_tar_names_are_normalised_and_directories_left_out(tmp_path: Path, spool: Path) -> None:
    path = build.write_tar(tmp_path / "x.tar.gz", [
        build.tar_dir("."), build.tar_dir("./media"), build.tar_file("./media//a.jpg", b"a"),
        build.tar_file("./outbox.json", b"{}")])
    with open_export(path, spool_dir=spool) as archive:
        assert archive.names() == ["media/a.jpg", "outbox.json"]


def test_find_prefers_root_then_one_directory_down(tmp_path: Path) -> None:
    path = build.write_zip(tmp_path / "x.zip", [
        ("b-wrapper/outbox.json", b"b"), ("a-wrapper/outbox.json", b"a"), ("x/y/actor.json", b"deep"),
        ("data/tweets.js", b"t")])
    with open_export(path) as archive:
        assert archive.find("outbox.json") == "a-wrapper/outbox.json"
        assert archive.find("actor.json") is None
        assert archive.find("data/tweets.js") == "data/tweets.js"
        assert archive.find("../outbox.json") is None
    root = build.write_zip(tmp_path / "y.zip", [("w/outbox.json", b"w"), ("outbox.json", b"root")])
    with open_export(root) as archive:
        assert archive.find("outbox.json") == "outbox.json"


def test_resolve_maps_export_paths_to_members(tmp_path: Path) -> None:
    with open_export(build.write_zip(tmp_path / "x.zip", build.mastodon_like_entries())) as archive:
        ref = "/media_attachments/files/110/222/333/original/map.jpg"
        assert archive.resolve(ref) == ref[1:]
        assert archive.resolve("media_attachments/./files/110/222/333/original/map.jpg") == ref[1:]
        assert archive.resolve("/media_attachments/files/missing.jpg") is None


@pytest.mark.parametrize("ref", ["/../../etc/passwd", "../etc/passwd", "media/../../x", "media/../etc/passwd",
                                 "etc\\passwd", "C:/etc/passwd", "/etc/passwd\x00.jpg", ""])
def test_resolve_never_escapes_even_when_a_lookalike_member_exists(tmp_path: Path, ref: str) -> None:
    path = build.write_zip(tmp_path / "x.zip", [("etc/passwd", b"inside"), ("x", b"inside"),
                                                 ("media/a.jpg", b"a")])
    with open_export(path) as archive:
        assert archive.resolve(ref) is None


# --- corrupt and truncated ----------------------------------------------------------------------


def test_committed_truncated_zip_is_refused_as_corrupt() -> None:
    with pytest.raises(CorruptArchiveError) as excinfo:
        open_export(SAMPLES / "truncated.zip")
    refused(excinfo, CorruptArchiveError, "corrupt_archive", "truncated.zip", "central directory",
            "fresh export")


def test_zip_entry_with_damaged_data_fails_on_read_naming_the_entry(tmp_path: Path) -> None:
    payload = b"the original bytes of an official post " * 10
    path = build.write_zip(tmp_path / "x.zip", [("post.json", payload)], method=zipfile.ZIP_STORED)
    build.flip_byte(path, path.read_bytes().index(payload) + 50)
    with open_export(path) as archive, pytest.raises(CorruptArchiveError) as excinfo:
        archive.read_bytes("post.json", MIB)
    refused(excinfo, CorruptArchiveError, "corrupt_archive", "x.zip", "'post.json'")


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_zip_that_understates_an_entry_size_never_yields_more_than_declared(tmp_path: Path, method: int) -> None:
    path = build.write_zip(tmp_path / "x.zip", [("liar.bin", build.pseudo_random_bytes(300_000))], method=method)
    build.patch_central_directory(path, "liar.bin", file_size=1000)
    with open_export(path) as archive, archive.open("liar.bin") as stream:
        received = b""
        with pytest.raises(CorruptArchiveError) as excinfo:
            while chunk := stream.read(100):
                received += chunk
    assert len(received) <= 1000
    refused(excinfo, CorruptArchiveError, "corrupt_archive", "'liar.bin'")


def test_zip_entries_sharing_compressed_bytes_are_refused(tmp_path: Path) -> None:
    path = build.write_zip(tmp_path / "x.zip", [("a.bin", bytes(5000)), ("b.bin", bytes(5000))])
    build.patch_central_directory(path, "b.bin", header_offset=0)
    with pytest.raises(CorruptArchiveError) as excinfo:
        open_export(path)
    refused(excinfo, CorruptArchiveError, "corrupt_archive", "overlaps another entry")


def test_committed_corrupt_gzip_is_refused_and_leaves_no_spool(spool: Path) -> None:
    with pytest.raises(CorruptArchiveError) as excinfo:
        open_export(SAMPLES / "corrupt.tar.gz", spool_dir=spool)
    refused(excinfo, CorruptArchiveError, "corrupt_archive", "corrupt.tar.gz", "before its first entry")
    assert list(spool.iterdir()) == []


def test_gzip_that_holds_no_tar_is_refused_as_corrupt(tmp_path: Path, spool: Path) -> None:
    path = tmp_path / "outbox.json.gz"
    path.write_bytes(build.gzip_bytes(b'{"orderedItems": []}' * 50))
    with pytest.raises(CorruptArchiveError) as excinfo:
        open_export(path, spool_dir=spool)
    refused(excinfo, CorruptArchiveError, "corrupt_archive", "outbox.json.gz", "before its first entry")


def test_committed_truncated_tar_gz_is_refused_naming_the_entry(spool: Path) -> None:
    with pytest.raises(CorruptArchiveError) as excinfo:
        open_export(SAMPLES / "truncated.tar.gz", spool_dir=spool)
    refused(excinfo, CorruptArchiveError, "corrupt_archive", "truncated.tar.gz", "'media/video.bin'")
    assert list(spool.iterdir()) == []


def test_gzip_crc_damage_is_caught_although_tarfile_would_not_notice(tmp_path: Path, spool: Path) -> None:
    path = build.write_files_tar(tmp_path / "x.tar.gz", [("a.txt", b"a" * 1000)])
    build.flip_byte(path, path.stat().st_size - 6)  # inside the CRC32 of the gzip trailer
    with pytest.raises(CorruptArchiveError) as excinfo:
        open_export(path, spool_dir=spool)
    refused(excinfo, CorruptArchiveError, "corrupt_archive", "x.tar.gz", "after entry 'a.txt'")


def test_damaged_tar_header_is_refused_where_tarfile_would_end_quietly(tmp_path: Path, spool: Path) -> None:
    path = build.write_files_tar(tmp_path / "x.tar", [("a.txt", b"a"), ("b.txt", b"b")], compress=False)
    build.flip_byte(path, 2 * 512 + 148)  # the checksum field of b.txt's header, after a.txt's header and data
    with tarfile.open(path) as plain:
        assert plain.getnames() == ["a.txt"]  # the damage tarfile alone would hide
    with pytest.raises(CorruptArchiveError) as excinfo:
        open_export(path, spool_dir=spool)
    refused(excinfo, CorruptArchiveError, "corrupt_archive", "after entry 'a.txt'", "header")


@pytest.mark.parametrize(("tail", "why"), [(b"\x00" * 1024 + b"MZ", "after the end-of-archive marker"),
                                            (None, "missing tar header")])
def test_tar_with_trailing_data_or_no_end_marker_is_refused(
        tmp_path: Path, spool: Path, tail: bytes | None, why: str) -> None:
    data = build.tar_bytes([build.tar_file("a.txt", b"a")], fmt=tarfile.USTAR_FORMAT)
    path = tmp_path / "x.tar"
    path.write_bytes(data.rstrip(b"\x00") + b"\x00" * 511 if tail is None else data + tail)
    with pytest.raises(CorruptArchiveError) as excinfo:
        open_export(path, spool_dir=spool)
    refused(excinfo, CorruptArchiveError, "corrupt_archive", "x.tar", why)


# --- spool and lifetime -------------------------------------------------------------------------


def test_spool_is_private_index_named_and_removed_on_close(tmp_path: Path, spool: Path) -> None:
    path = build.write_files_tar(tmp_path / "x.tar.gz", build.mastodon_like_entries())
    archive = open_export(path, spool_dir=spool)
    (private,) = spool.iterdir()
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    files = sorted(private.iterdir())
    assert [f.name for f in files] == [f"{i:08d}" for i in range(4)]
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    archive.close()
    archive.close()
    assert list(spool.iterdir()) == []


def test_spool_is_removed_when_the_with_block_raises(tmp_path: Path, spool: Path) -> None:
    path = build.write_files_tar(tmp_path / "x.tar.gz", [("a.txt", b"a")])
    with pytest.raises(RuntimeError), open_export(path, spool_dir=spool) as archive:
        assert len(list(spool.iterdir())) == 1
        raise RuntimeError("importer failed")
    assert archive.closed
    assert list(spool.iterdir()) == []


def test_default_spool_is_removed_on_close(tmp_path: Path) -> None:
    path = build.write_files_tar(tmp_path / "x.tar.gz", [("a.txt", b"a")])
    with open_export(path) as archive, archive.open("a.txt") as stream:
        private = Path(stream.name).parent
        assert private.is_dir()
    assert not private.exists()


def test_spool_is_removed_when_an_archive_is_dropped_unclosed(tmp_path: Path, spool: Path) -> None:
    path = build.write_files_tar(tmp_path / "x.tar.gz", [("a.txt", b"a")])
    archive: ExportArchive | None = open_export(path, spool_dir=spool)
    assert list(spool.iterdir())
    archive = None  # noqa: F841 — dropping the last reference runs the finalizer
    assert list(spool.iterdir()) == []


@pytest.mark.parametrize("sample", ["good.zip", "good.tar.gz"])
def test_closed_archive_refuses_to_open_members(sample: str, spool: Path) -> None:
    archive = open_export(SAMPLES / sample, spool_dir=spool)
    archive.close()
    with pytest.raises(ValueError, match="closed"):
        archive.open("outbox.json")


def test_unknown_member_is_refused_with_a_coded_error(tmp_path: Path) -> None:
    with open_export(build.write_zip(tmp_path / "x.zip", [("a.txt", b"a")])) as archive, \
            pytest.raises(MemberNotFoundError) as excinfo:
        archive.open("../a.txt")
    refused(excinfo, MemberNotFoundError, "archive_member_missing", "'../a.txt'")


def test_member_streams_support_partial_reads_and_close(tmp_path: Path, spool: Path) -> None:
    data = build.pseudo_random_bytes(3 * MIB + 17, seed=5)
    for path in zip_and_tar(tmp_path, [("v.bin", data)]):
        with open_export(path, spool_dir=spool) as archive, archive.open("v.bin") as stream:
            assert stream.read(10) == data[:10]
            assert stream.readable()
            assert stream.read() == data[10:]
