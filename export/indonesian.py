"""Indonesian dates in words, as an official berita acara spells them ("tiga belas bulan Januari tahun ...")."""

from __future__ import annotations

from datetime import datetime

DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
          "November", "Desember")
_UNITS = ("", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan", "sepuluh", "sebelas")


def terbilang(number: int) -> str:
    """``number`` (0 to 999,999) in Indonesian words: 2025 -> "dua ribu dua puluh lima"."""
    if not 0 <= number < 1_000_000:
        raise ValueError(f"terbilang supports 0..999999, not {number}")
    return _words(number) if number else "nol"


def _words(n: int) -> str:
    if n < 12:
        return _UNITS[n]
    if n < 20:
        return f"{_words(n - 10)} belas"
    if n < 100:
        return _join(f"{_words(n // 10)} puluh", n % 10)
    if n < 200:
        return _join("seratus", n - 100)
    if n < 1000:
        return _join(f"{_words(n // 100)} ratus", n % 100)
    if n < 2000:
        return _join("seribu", n - 1000)
    return _join(f"{_words(n // 1000)} ribu", n % 1000)


def _join(head: str, rest: int) -> str:
    return f"{head} {_words(rest)}" if rest else head


def date_in_words(moment: datetime) -> str:
    """'hari Senin, tanggal tiga belas bulan Januari tahun dua ribu dua puluh lima'."""
    return (f"hari {DAYS[moment.weekday()]}, tanggal {terbilang(moment.day)} bulan {MONTHS[moment.month - 1]} "
            f"tahun {terbilang(moment.year)}")


def short_date(moment: datetime) -> str:
    """'13 Januari 2025'."""
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"
