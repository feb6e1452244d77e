"""The index documents both backends build, from one record entry: same tokens, same keys, same values.

Each record becomes one *record document* (every version's text, separated by a run of
``GAP_TOKEN`` longer than the widest proximity a query may ask for, so a phrase or ``w/N`` never
spans two versions) and one *version document* per version (its own text, and the dates it was
current, for ``as-of``). Text goes to the engines already analysed, as space-separated tokens
(:mod:`search.analysis` never produces a token containing a space): building per-token objects
for an engine costs more than the whole analysis. Default searches run on
record documents, so hits are records and counts are record counts; ``as-of`` searches run on
version documents, where at most one version of a record is current on a date.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from search.analysis import analyze, fold
from search.entries import RecordEntry, VersionEntry

MAX_DISTANCE = 100  # the widest w/N, NEAR/N or "…"~N a query may use
GAP_TOKEN = "\u2400"  # ␀: a symbol, so analysis never emits it from text
VERSION_GAP = " " + " ".join([GAP_TOKEN] * (MAX_DISTANCE + 1)) + " "
EPOCH_OFFSET = 1 << 34  # seconds; makes pre-1970 dates sort as unsigned
TIE_BITS = 29
OPEN_END = (1 << 63) - 1  # valid_to of a current version, in epoch seconds


@dataclass
class IndexDocument:
    """One document as both backends store it. Dates are UTC epoch seconds (whole days are
    compared by the query compilers as [start of day, start of next day))."""

    doc_types: list[str]  # "record", "version", or both for a record with a single version
    record_id: str
    log_index: int  # the version's, or the record's first version's
    exact: str = ""  # space-separated exact tokens
    stems: str = ""  # space-separated stems, position for position
    keywords: dict[str, list[str]] = field(default_factory=dict)
    posted: int = 0
    captured: list[int] = field(default_factory=list)
    valid_from: int = 0
    valid_to: int = OPEN_END
    date_key: int = 0
    numbers: list[int] = field(default_factory=list)  # version numbers in this document

    def fields(self) -> dict[str, object]:
        """Field name -> value or list of values, as both engines' document builders take them."""
        return {"doc_type": self.doc_types, "record_id": self.record_id, "log_index": self.log_index,
                "numbers": self.numbers, "exact": self.exact, "stems": self.stems, "posted": self.posted,
                "captured": self.captured, "valid_from": self.valid_from, "valid_to": self.valid_to,
                "date_key": self.date_key, **self.keywords}


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def day_start(day: date) -> int:
    return int(datetime.combine(day, time(), tzinfo=UTC).timestamp())


def date_key(posted: int, first_log_index: int) -> int:
    """A unique, unsigned sort key for date order: posted second, then the record's first log index.

    Two records tie only when posted in the same second with first log indexes 2^29 apart; search-after
    could then skip one of them, which the tests accept as the documented limit of a 64-bit key.
    """
    return ((posted + EPOCH_OFFSET) << TIE_BITS) | (first_log_index & ((1 << TIE_BITS) - 1))


def documents(record: RecordEntry) -> Iterator[IndexDocument]:
    """The record document, then one document per version. A record with one version (most of
    them) gets a single document serving as both, which halves the engine's work."""
    analysed = [analyze(v.text, v.lang) for v in record.versions]
    exact = [" ".join(tokens.exact) for tokens in analysed]
    stems = [" ".join(tokens.stems) for tokens in analysed]
    posted = epoch(record.posted_at or record.versions[0].captured_at)
    key = date_key(posted, record.first_log_index)
    year = str(datetime.fromtimestamp(posted, UTC).year)
    shared = {"platform": [record.platform], "kind": [record.kind], "year": [year],
              "account": _names(record.account_id) + _names(record.account_handle),
              "account_handle": [fold(record.account_handle)]}
    own = [_version_keywords(version, text) for version, text in zip(record.versions, exact, strict=True)]
    singles = [IndexDocument(doc_types=["version"], record_id=record.record_id, log_index=version.log_index,
                             exact=exact[index], stems=stems[index], keywords={**shared, **own[index]},
                             posted=posted, captured=[epoch(version.captured_at)],
                             valid_from=epoch(version.captured_at),
                             valid_to=OPEN_END if version.valid_to is None else epoch(version.valid_to),
                             date_key=key, numbers=[version.number])
               for index, version in enumerate(record.versions)]
    if len(singles) == 1:
        singles[0].doc_types.insert(0, "record")
        yield singles[0]
        return
    merged: dict[str, list[str]] = dict(shared)
    for keywords in own:
        for name, values in keywords.items():
            merged[name] = list(dict.fromkeys(merged.get(name, []) + values))
    yield IndexDocument(doc_types=["record"], record_id=record.record_id, log_index=record.first_log_index,
                        exact=VERSION_GAP.join(exact), stems=VERSION_GAP.join(stems), keywords=merged,
                        posted=posted, captured=[d.captured[0] for d in singles], date_key=key,
                        numbers=[v.number for v in record.versions])
    yield from singles


TAG = re.compile(r"(?:^| )#(\S+)")


def _version_keywords(version: VersionEntry, exact: str) -> dict[str, list[str]]:
    """A version's own keyword values, folded (tags from its hashtag tokens)."""
    return {
        "state": [version.state],
        "author": _names(version.author or ""),
        "reason": [version.reason] if version.reason else [],
        "lang": [fold(version.lang).split("-")[0]] if version.lang else [],
        "tag": list(dict.fromkeys(TAG.findall(exact))) if "#" in exact else [],
        "has": ["media"] if version.media_count else [],
    }


def _names(name: str) -> list[str]:
    """A handle matches as written and by its local part (``cityhall`` for ``cityhall@host``)."""
    folded = fold(name).lstrip("@")
    if not folded:
        return []
    local = folded.split("@", 1)[0]
    return [folded] if local == folded else [folded, local]
