"""Regenerate the committed good and hostile export samples in this directory.

Run from the repository root: ``.venv/bin/python -m tests.data.exports.make_samples``. Output is
deterministic for a given zlib; the samples are committed so tests also cover files we did not
just build in the same process.

* ``good.zip``, ``good.tar.gz`` — a small Mastodon-shaped export (root files, nested media).
* ``truncated.zip`` — ``good.zip`` cut short, as an interrupted download is: no central directory.
* ``traversal.zip`` — a ``../evil.txt`` entry beside a normal one.
* ``absolute.zip`` — an ``/etc/cron.d/arsip-evil`` entry beside a normal one.
* ``bomb.zip`` — one 100 MiB entry of zeros, about 100 KiB compressed (ratio ~1000:1).
* ``symlink.tar.gz`` — ``media/passwd`` is a symbolic link to ``../../../../etc/passwd``.
* ``corrupt.tar.gz`` — a gzip header followed by bytes that are no deflate stream.
* ``truncated.tar.gz`` — a tar.gz cut off in the middle of ``media/video.bin``.
"""

from __future__ import annotations

from pathlib import Path

from tests.support import hostile_archives as build

HERE = Path(__file__).resolve().parent
BOMB_BYTES = 100 * 1024 * 1024


def make_samples(target: Path = HERE) -> list[Path]:
    """Write every sample into ``target`` and return their paths."""
    entries = build.mastodon_like_entries()
    good_zip = build.write_zip(target / "good.zip", entries)
    build.write_files_tar(target / "good.tar.gz", entries)
    truncated = build.write_zip(target / "truncated.zip", entries)
    build.truncate(truncated, good_zip.stat().st_size // 2)
    build.write_zip(target / "traversal.zip", [("outbox.json", b"{}"), ("../evil.txt", b"owned")])
    build.write_zip(target / "absolute.zip", [("outbox.json", b"{}"), ("/etc/cron.d/arsip-evil", b"* * * * *")])
    build.write_zeros_zip(target / "bomb.zip", BOMB_BYTES)
    build.write_tar(target / "symlink.tar.gz", [build.tar_file("outbox.json", b"{}"),
                                                build.tar_link("media/passwd", "../../../../etc/passwd")])
    (target / "corrupt.tar.gz").write_bytes(build.corrupt_gzip_bytes())
    video = build.pseudo_random_bytes(64 * 1024, seed=3)
    tgz = build.write_files_tar(target / "truncated.tar.gz", [("outbox.json", b"{}"), ("media/video.bin", video)])
    build.truncate(tgz, tgz.stat().st_size - 16 * 1024)
    return sorted(target.glob("*.zip")) + sorted(target.glob("*.tar.gz"))


def main() -> None:
    for path in make_samples():
        print(f"{path.name}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
