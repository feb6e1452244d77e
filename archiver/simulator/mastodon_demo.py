"""A scripted city-government Mastodon account for ``arsip demo``: three weeks of posts, then a second act.

Act one (``scripted_demo_instance``) is history: about 25 public posts in English and Indonesian,
two images, citizen comments, an agency answer, and one hostile comment whose HTML carries a raw
``<script>`` element. A real Mastodon would sanitize that away; the simulator deliberately plays a
misbehaving server so the archive's own escaping is exercised. Act two (``DemoScript.advance``)
is what the next capture run should notice: an edit, a new comment, a deleted comment and a
deleted agency post.
"""

from __future__ import annotations

import html
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from archiver.clock import Clock, utc
from archiver.simulator.mastodon_state import MastodonInstance, MediaSpec, SimulatorError

HOSTILE_TEXT = "<script>alert(1)</script>"
# (days after the start, hour, language, text, hashtags); index 0 and 9 carry the two images.
_POSTS: tuple[tuple[float, int, str, str, tuple[str, ...]], ...] = (
    (
        0,
        8,
        "en",
        "Main St between 3rd and 5th Ave is closed for water main repair until 6pm today. Use Oak Ave.",
        ("roads",),
    ),
    (
        0,
        9,
        "id",
        "Jalan Merdeka ditutup sampai pukul 18.00 karena perbaikan pipa air. Gunakan Jalan Sudirman.",
        ("jalan",),
    ),
    (
        1,
        10,
        "en",
        "The Eastside Health Clinic is open 8am-4pm on weekdays this month. Walk-ins until 3pm.",
        ("health",),
    ),
    (1, 11, "id", "Klinik Kesehatan Timur buka Senin-Jumat pukul 08.00-16.00 selama bulan ini.", ("kesehatan",)),
    (
        2,
        9,
        "en",
        "Building permit applications can now be filed online. Paper forms still accepted at window 4.",
        ("permits",),
    ),
    (2, 10, "id", "Permohonan izin mendirikan bangunan kini bisa diajukan secara daring.", ("izin",)),
    (3, 16, "en", "Reminder: street sweeping on the north side Tuesday mornings. Move parked cars by 7am.", ()),
    (4, 12, "en", "City Council meets Thursday at 6pm in Chamber B. Agenda: park budget, bus shelters.", ("council",)),
    (4, 13, "id", "Rapat Dewan Kota hari Kamis pukul 18.00. Agenda: anggaran taman dan halte bus.", ()),
    (6, 9, "en", "Free flu shots Saturday 9am-1pm at the Central Library parking lot.", ("health",)),
    (6, 10, "id", "Vaksin flu gratis hari Sabtu pukul 09.00-13.00 di parkiran Perpustakaan Pusat.", ()),
    (8, 15, "en", "Heavy rain expected tonight. Report blocked storm drains to 311.", ("weather",)),
    (8, 16, "id", "Hujan lebat diperkirakan malam ini. Laporkan saluran air yang tersumbat ke 311.", ()),
    (9, 9, "en", "The recycling center is closed Monday for the public holiday. Regular hours resume Tuesday.", ()),
    (9, 10, "id", "Pusat daur ulang tutup hari Senin karena libur nasional.", ()),
    (11, 11, "en", "Summer job applications for ages 16-21 open Friday. Deadline: end of the month.", ("jobs",)),
    (12, 8, "en", "Bus route 12 detours via Pine St this weekend for the street fair.", ("transit",)),
    (12, 9, "id", "Rute bus 12 dialihkan lewat Jalan Pinus akhir pekan ini karena bazar jalanan.", ()),
    (14, 14, "en", "Last quarter's water quality report is published. All samples met state standards.", ()),
    (14, 15, "id", "Laporan kualitas air triwulan lalu sudah terbit. Semua sampel memenuhi standar.", ()),
    (16, 8, "en", "Pothole repairs on Elm St continue this week, 9am-3pm. Expect short delays.", ("roads",)),
    (16, 9, "id", "Perbaikan jalan berlubang di Jalan Elm berlanjut minggu ini, pukul 09.00-15.00.", ()),
    (18, 10, "en", "Dog license renewals are due by the 31st. Renew online or at window 2.", ()),
    (19, 9, "en", "The public pool opens for the season on Saturday at 10am.", ()),
    (19, 10, "id", "Kolam renang umum dibuka hari Sabtu pukul 10.00.", ()),
)
# (citizen, index of the post answered, hours later, language, text)
_COMMENTS: tuple[tuple[str, int, float, str, str], ...] = (
    ("sari", 0, 1.0, "en", "Is the Oak Ave detour OK for delivery trucks?"),
    ("budi", 1, 2.0, "id", "Terima kasih infonya!"),
    ("jess", 2, 3.0, "en", "Are you open on the holiday Monday?"),
    ("jess", 7, 1.5, "en", "Will the meeting be streamed?"),
    ("budi", 11, 0.5, "en", "The drain on 4th St is already blocked."),
    ("sari", 16, 4.0, "en", "Does the detour skip the Pine St stop?"),
)
_CITIZENS = {
    "sari": ("sari_w", "Sari Wulandari"),
    "budi": ("budi_h", "Budi Hartono"),
    "jess": ("jmorales", "Jess Morales"),
    "prank": ("xss_tester", "Totally Legit"),
}


@dataclass(frozen=True)
class DemoChanges:
    """What act two changed, so the demo can point at each change in the archive."""

    edited: tuple[str, ...]
    added: tuple[str, ...]
    deleted: tuple[str, ...]


@dataclass
class DemoScript:
    """Ids of the scripted records and the second act; ``advance`` runs once."""

    instance: MastodonInstance
    agency_id: str
    citizen_ids: dict[str, str]
    post_ids: list[str]
    comment_ids: list[str]
    agency_reply_id: str
    hostile_comment_id: str
    edit_target_id: str
    comment_to_delete_id: str
    post_to_delete_id: str
    new_reply_id: str | None = None
    changes: list[DemoChanges] = field(default_factory=list)

    def advance(self) -> DemoChanges:
        """Act two, at the clock's current time: edit a post, add a comment, delete a comment and a post."""
        if self.changes:
            raise SimulatorError("the demo script has only one more act; build a new demo instance to replay it")
        inst = self.instance
        inst.edit(
            self.edit_target_id,
            html_content=_html(
                inst, "Update: work is taking longer. Main St is closed until 8pm. Use Oak Ave.", tags=("roads",)
            ),
        )
        self.new_reply_id = inst.post(
            self.citizen_ids["sari"],
            _html(inst, "Still closed at 7pm here, is 8pm the final time?", mention="cityhall"),
            in_reply_to_id=self.edit_target_id,
        )
        inst.delete(self.comment_to_delete_id)
        inst.delete(self.post_to_delete_id)
        change = DemoChanges(
            edited=(self.edit_target_id,),
            added=(self.new_reply_id,),
            deleted=(self.comment_to_delete_id, self.post_to_delete_id),
        )
        self.changes.append(change)
        return change


def scripted_demo_instance(clock: Clock, *, days: int = 21) -> tuple[MastodonInstance, DemoScript]:
    """Build act one: history spread over the ``days`` before ``clock.now()``."""
    inst = MastodonInstance(clock=clock)
    start = utc(clock.now()).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days)
    agency, citizens = _people(inst, start)
    images = {
        0: MediaSpec(tiny_png(64, 48, (200, 60, 40), (255, 255, 255)), "Detour map: Main St closed, use Oak Ave"),
        9: MediaSpec(tiny_png(40, 40, (40, 120, 200), (255, 255, 255)), "Flu shot poster, Saturday 9am-1pm"),
    }
    posts = [_post(inst, agency, start, i, spec, images.get(i)) for i, spec in enumerate(_POSTS)]
    comments = [
        _comment(inst, citizens[who], posts[n], start, _POSTS[n], hours, lang, text)
        for who, n, hours, lang, text in _COMMENTS
    ]
    agency_reply = inst.post(
        agency,
        _html(inst, "Yes, trucks under 10 tons can use Oak Ave.", mention="sari_w"),
        in_reply_to_id=comments[0],
        created_at=_at(start, _POSTS[0]) + timedelta(hours=1.5),
    )
    hostile = inst.post(
        citizens["prank"],
        f"<p>nice poster {HOSTILE_TEXT}</p>",
        in_reply_to_id=posts[9],
        created_at=_at(start, _POSTS[9]) + timedelta(hours=2),
    )
    script = DemoScript(
        inst,
        agency,
        citizens,
        posts,
        comments,
        agency_reply,
        hostile,
        edit_target_id=posts[0],
        comment_to_delete_id=comments[4],
        post_to_delete_id=posts[13],
    )
    return inst, script


def _people(inst: MastodonInstance, start: datetime) -> tuple[str, dict[str, str]]:
    agency = inst.add_account(
        "cityhall",
        "City of Example",
        note="<p>Official account of the City of Example. Not monitored 24/7; for emergencies call 112.</p>",
        avatar=MediaSpec(tiny_png(48, 48, (20, 70, 140), (240, 200, 40)), None, "image/png"),
        header=MediaSpec(tiny_png(150, 50, (30, 110, 60), (250, 250, 250)), None, "image/png"),
        followers_count=1280,
        created_at=start - timedelta(days=400),
    )
    citizens = {key: inst.add_account(name, shown, created_at=start) for key, (name, shown) in _CITIZENS.items()}
    return agency, citizens


def _at(start: datetime, spec: tuple[float, int, str, str, tuple[str, ...]]) -> datetime:
    return start + timedelta(days=spec[0], hours=spec[1])


def _post(
    inst: MastodonInstance,
    agency: str,
    start: datetime,
    index: int,
    spec: tuple[float, int, str, str, tuple[str, ...]],
    image: MediaSpec | None,
) -> str:
    _, _, language, text, tags = spec
    return inst.post(
        agency,
        _html(inst, text, tags=tags),
        language=language,
        tags=tags,
        media=[image] if image else [],
        created_at=_at(start, spec) + timedelta(minutes=index),
    )


def _comment(
    inst: MastodonInstance,
    citizen: str,
    parent: str,
    start: datetime,
    spec: tuple[float, int, str, str, tuple[str, ...]],
    hours: float,
    language: str,
    text: str,
) -> str:
    return inst.post(
        citizen,
        _html(inst, text, mention="cityhall"),
        language=language,
        in_reply_to_id=parent,
        created_at=_at(start, spec) + timedelta(hours=hours),
    )


def _html(inst: MastodonInstance, text: str, *, mention: str | None = None, tags: Sequence[str] = ()) -> str:
    """Escape the text and add Mastodon's mention and hashtag markup."""
    parts = []
    if mention:
        parts.append(
            f'<span class="h-card" translate="no"><a href="https://{inst.host}/@{mention}" '
            f'class="u-url mention">@<span>{mention}</span></a></span>'
        )
    parts.append(html.escape(text, quote=False))
    parts.extend(
        f'<a href="https://{inst.host}/tags/{tag}" class="mention hashtag" rel="tag">#<span>{tag}</span></a>'
        for tag in tags
    )
    return f"<p>{' '.join(parts)}</p>"


def tiny_png(width: int, height: int, ink: tuple[int, int, int], paper: tuple[int, int, int]) -> bytes:
    """A valid RGB PNG with a diagonal stripe, small enough to build in code for the demo."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type None for every scanline
        for x in range(width):
            rows.extend(ink if abs(x * height - y * width) < width * 3 else paper)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows)))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
