"""A small hand-made corpus whose right answers are known, for the search conformance suite."""

from __future__ import annotations

from datetime import UTC, datetime

from search.entries import RecordEntry, VersionEntry

CITY = ("acct-city", "cityhall@social.example.gov")
KOTA = ("acct-kota", "kota@bsky.example.go.id")


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC) if "T" in day else \
        datetime.fromisoformat(day + "T12:00:00").replace(tzinfo=UTC)


def record(record_id: str, platform: str, account: tuple[str, str], kind: str, posted: str,
           versions: list[tuple[str, str, str]], *, lang: str | None = "en", author: str = "cityhall",
           reason: str | None = None, media: int = 0, first_log_index: int = 0) -> RecordEntry:
    """``versions``: (state, captured day, text) in order."""
    entries = []
    for number, (state, captured, text) in enumerate(versions, start=1):
        following = versions[number][1] if number < len(versions) else None
        entries.append(VersionEntry(log_index=first_log_index + number - 1, number=number, state=state,
                                    reason=reason if state in ("deleted", "hidden") else None, lang=lang,
                                    author=author, captured_at=at(captured),
                                    valid_to=at(following) if following else None, text=text,
                                    media_count=media))
    return RecordEntry(record_id=record_id, platform=platform, account_id=account[0], account_handle=account[1],
                       kind=kind, posted_at=at(posted), versions=tuple(entries))


def corpus() -> list[RecordEntry]:
    return [
        record("r1", "mastodon", CITY, "post", "2024-03-05", [
            ("present", "2024-03-05", "The city council approved the road closure budget for Main Street."),
            ("edited", "2024-06-01", "The city council approved the budget for Main Street.")],
            first_log_index=10),
        record("r2", "mastodon", CITY, "comment", "2024-02-10", [
            ("present", "2024-02-10", "Jalan Merdeka ditutup sampai pukul delapan, warga diminta melaporkan "
                                      "banjir #Banjir @walikota@kota.example.go.id")],
            lang="id", author="warga1@town.example", media=1, first_log_index=20),
        record("r3", "bluesky", KOTA, "post", "2023-12-31", [
            ("present", "2023-12-31", "Pemerintah kota memperbaiki pipa air di jalan utama "
                                      "https://kota.example.go.id/info.")],
            lang="id", author="kota", first_log_index=30),
        record("r4", "facebook", CITY, "comment", "2025-01-15", [
            ("present", "2025-01-15", "Budgets for roads: budgeting is hard. Road work continues near the bridge"),
            ("deleted", "2025-02-01", "")],
            author="resident7", reason="author_deleted", first_log_index=40),
        record("r5", "x", CITY, "post", "2024-07-07", [
            ("present", "2024-07-07", "Flooding near the bridge🌊please keep drains clear"),
            ("hidden", "2024-07-08", "")],
            reason="agency_removed", first_log_index=50),
        record("r6", "youtube", CITY, "media", "2018-05-05", [
            ("present", "2018-05-05", "Vaccination schedule for children updated")], media=1, first_log_index=60),
        record("r7", "rss", CITY, "post", "2024-09-09", [
            ("present", "2024-09-09", "Café opening: Résumé workshop at the library")], first_log_index=70),
        record("r8", "mastodon", CITY, "post", "2024-03-06", [
            ("present", "2024-03-06", "road one two three closure")], first_log_index=80),
        record("r9", "mastodon", CITY, "post", "2024-03-07", [
            ("present", "2024-03-07", "closure then later the road")], first_log_index=90),
        record("r10", "mastodon", KOTA, "post", "2024-03-08", [
            ("present", "2024-03-08", "Pelayanan puskesmas dibuka kembali; perbaikan jalan selesai")],
            lang="id", author="kota", first_log_index=100),
    ]


# query -> the records it must find, on every backend
EXPECTED: dict[str, set[str]] = {
    "budget": {"r1", "r4"},  # "Budgets" and "budgeting" stem to budget
    "=budget": {"r1"},  # exact form only
    "budg*": {"r1", "r4"},
    "b?dget": {"r1"},
    "b*get": {"r1"},
    "road": {"r1", "r4", "r8", "r9"},
    '"road closure"': {"r1"},  # only r1's first version has the phrase
    '"closure budget"': {"r1"},
    "road w/4 closure": {"r1", "r8", "r9"},
    "road w/3 closure": {"r1"},
    "road NEAR/2 closure": {"r1"},
    "closure w/4 road": {"r1", "r8", "r9"},
    "road w/1 closure": {"r1"},
    '"road closure"~3': {"r1", "r8"},
    "road AND bridge": {"r4"},
    "road && bridge": {"r4"},
    "road OR flooding": {"r1", "r4", "r5", "r8", "r9"},
    "road || flooding": {"r1", "r4", "r5", "r8", "r9"},
    "road NOT closure": {"r4"},
    "road -closure": {"r4"},
    "(road OR bridge) AND NOT budget": {"r5", "r8", "r9"},
    "-road": {"r2", "r3", "r5", "r6", "r7", "r10"},
    "baik": {"r3", "r10"},  # memperbaiki and perbaikan stem to baik
    "memperbaiki": {"r3", "r10"},
    "buka": {"r10"},
    "tutup": {"r2"},
    "#banjir": {"r2"},
    "tag:banjir": {"r2"},
    "@walikota@kota.example.go.id": {"r2"},
    "https://kota.example.go.id/info": {"r3"},
    "cafe resume": {"r7"},
    "CAFÉ": {"r7"},
    "bridge flooding": {"r5"},
    "please": {"r5"},
    "platform:bluesky": {"r3"},
    "platform:mastodon kind:comment": {"r2"},
    "account:kota": {"r3", "r10"},
    "account:cityhall@social.example.gov kind:media": {"r6"},
    "author:resident7": {"r4"},
    "state:deleted": {"r4"},
    "state:hidden": {"r5"},
    "state:edited": {"r1"},
    "reason:author_deleted": {"r4"},
    "reason:agency_removed": {"r5"},
    "lang:id": {"r2", "r3", "r10"},
    "has:media": {"r2", "r6"},
    "date:[2024-03-05 TO 2024-03-07]": {"r1", "r8", "r9"},
    "date:2018": {"r6"},
    "date:[* TO 2023-12-31]": {"r3", "r6"},
    "date:2024-02": {"r2"},
    "captured:[2024-06-01 TO 2024-06-01]": {"r1"},
    "captured:[2025-02-01 TO *]": {"r4"},
    "state:deleted bridge": {"r4"},  # a tombstone carries the text it took away
    "budget as-of:2024-05-01": {"r1"},
    "closure as-of:2024-05-01": {"r1", "r8", "r9"},
    "closure as-of:2024-07-01": {"r8", "r9"},  # r1's edit removed "closure"
    "road as-of:2024-01-01": set(),
    "state:present as-of:2025-01-20": {"r2", "r3", "r4", "r6", "r7", "r8", "r9", "r10"},
    "state:deleted as-of:2025-03-01": {"r4"},
}
EXPECTED.update({
    "budget w/2 budgeting": set(),  # one shared stem is not two words near each other
    "road w/9 roads": {"r4"},  # "roads ... Road": two occurrences of the stem, 7 words apart
})
