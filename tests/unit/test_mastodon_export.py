"""The simulated Mastodon account archive: both container forms and the §1.7 layout of its JSON and media."""

from __future__ import annotations

import json
import re
import tarfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from archiver.clock import FixedClock
from archiver.simulator.mastodon import MastodonInstance, MediaSpec, SimulatorError
from archiver.simulator.mastodon_demo import tiny_png
from archiver.simulator.mastodon_export import write_account_archive

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
CITY = "https://social.example.gov/users/cityhall"
RESIDENT = "https://social.example.gov/users/resident"
MAP = tiny_png(8, 6, (200, 0, 0), (255, 255, 255))
AVATAR = tiny_png(4, 4, (0, 0, 200), (255, 255, 255))


class Archive:
    """Reads either container form by name, so every assertion runs against both."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.name.endswith(".zip"):
            with zipfile.ZipFile(path) as opened:
                self.files = {name: opened.read(name) for name in opened.namelist()}
        else:
            with tarfile.open(path, "r:gz") as opened:
                self.files = {m.name: _read_member(opened, m) for m in opened.getmembers() if m.isfile()}

    def json(self, name: str) -> Any:
        return json.loads(self.files[name])

    def notes(self) -> dict[str, dict[str, Any]]:
        items = self.json("outbox.json")["orderedItems"]
        return {i["object"]["content"]: i for i in items if i["type"] == "Create"}


def _read_member(opened: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = opened.extractfile(member)
    assert handle is not None
    return handle.read()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2025, 3, 1, 15, 4, 5, tzinfo=UTC))


@pytest.fixture
def scene(clock: FixedClock) -> tuple[MastodonInstance, dict[str, str]]:
    inst = MastodonInstance(clock=clock)
    city = inst.add_account("cityhall", "City Hall", avatar=MediaSpec(AVATAR), header=MediaSpec(MAP))
    resident = inst.add_account("resident", "A Resident")
    ids = {"city": city, "resident": resident}
    ids["public"] = inst.post(city, "<p>public</p>", media=[MediaSpec(MAP, "Detour map")], spoiler_text="roads")
    ids["unlisted"] = inst.post(city, "<p>unlisted</p>", visibility="unlisted")
    ids["private"] = inst.post(city, "<p>private</p>", visibility="private")
    ids["direct"] = inst.post(city, "<p>direct</p>", visibility="direct", mentions=[resident])
    ids["comment"] = inst.post(resident, "<p>comment</p>", in_reply_to_id=ids["public"])
    ids["answer"] = inst.post(city, "<p>answer</p>", in_reply_to_id=ids["comment"])
    ids["deleted"] = inst.post(city, "<p>deleted</p>")
    inst.delete(ids["deleted"])
    ids["theirs"] = inst.post(resident, "<p>theirs</p>")
    ids["boost"] = inst.boost(city, ids["theirs"])
    inst.favourite(city, ids["theirs"])
    inst.bookmark(city, ids["theirs"])
    clock.advance(600)
    inst.edit(ids["unlisted"], html_content="<p>unlisted v2</p>")
    return inst, ids


@pytest.fixture(params=["zip", "tar.gz"])
def archive(request, scene, tmp_path) -> Archive:
    inst, ids = scene
    return Archive(write_account_archive(inst, ids["city"], tmp_path, fmt=request.param))


def test_archive_is_named_like_mastodon_and_opens_as_its_format(scene, tmp_path):
    inst, ids = scene
    for fmt in ("zip", "tar.gz"):
        path = write_account_archive(inst, ids["city"], tmp_path, fmt=fmt)
        assert re.fullmatch(rf"archive-20250301151405-[0-9a-f]{{32}}\.{re.escape(fmt)}", path.name)
        opener = zipfile.is_zipfile if fmt == "zip" else tarfile.is_tarfile
        assert opener(path)


def test_outbox_is_an_ordered_collection_of_activities_without_item_context(archive):
    outbox = archive.json("outbox.json")
    assert outbox["id"] == "outbox.json" and outbox["type"] == "OrderedCollection"
    assert "https://www.w3.org/ns/activitystreams" in outbox["@context"]
    assert outbox["totalItems"] == len(outbox["orderedItems"]) == 6
    for item in outbox["orderedItems"]:
        assert set(item) == {"id", "type", "actor", "published", "to", "cc", "object"}
        assert item["actor"] == CITY


def test_deleted_statuses_and_other_peoples_replies_are_absent(archive):
    contents = set(archive.notes())
    assert contents == {"<p>public</p>", "<p>unlisted v2</p>", "<p>private</p>", "<p>direct</p>", "<p>answer</p>"}


def test_to_and_cc_follow_visibility(archive):
    notes = archive.notes()
    followers = f"{CITY}/followers"
    assert (notes["<p>public</p>"]["to"], notes["<p>public</p>"]["cc"]) == ([PUBLIC], [followers])
    assert (notes["<p>unlisted v2</p>"]["to"], notes["<p>unlisted v2</p>"]["cc"]) == ([followers], [PUBLIC])
    assert (notes["<p>private</p>"]["to"], notes["<p>private</p>"]["cc"]) == ([followers], [])
    assert (notes["<p>direct</p>"]["to"], notes["<p>direct</p>"]["cc"]) == ([RESIDENT], [])
    for item in notes.values():
        assert (item["object"]["to"], item["object"]["cc"]) == (item["to"], item["cc"])


def test_note_carries_latest_revision_and_updated_only_when_edited(archive):
    notes = archive.notes()
    edited = notes["<p>unlisted v2</p>"]["object"]
    assert edited["updated"] == "2025-03-01T15:14:05Z"
    assert edited["contentMap"] == {"en": "<p>unlisted v2</p>"}
    assert edited["published"] == "2025-03-01T15:04:05Z"
    assert all("updated" not in item["object"] for text, item in notes.items() if text != "<p>unlisted v2</p>")
    first = notes["<p>public</p>"]["object"]
    assert first["type"] == "Note" and first["summary"] == "roads" and first["sensitive"] is True
    assert first["inReplyTo"] is None and first["attributedTo"] == CITY


def test_reply_points_at_the_parent_uri(archive, scene):
    _, ids = scene
    answer = archive.notes()["<p>answer</p>"]["object"]
    assert answer["inReplyTo"] == f"{RESIDENT}/statuses/{ids['comment']}"
    assert {"type": "Mention", "href": RESIDENT, "name": "@resident"} in answer["tag"]


def test_boost_is_an_announce_whose_object_is_a_uri(archive, scene):
    _, ids = scene
    announces = [i for i in archive.json("outbox.json")["orderedItems"] if i["type"] == "Announce"]
    assert [a["object"] for a in announces] == [f"{RESIDENT}/statuses/{ids['theirs']}"]


def test_attachment_urls_resolve_inside_the_archive_after_stripping_the_leading_slash(archive):
    attachment = archive.notes()["<p>public</p>"]["object"]["attachment"][0]
    assert attachment["url"].startswith("/media_attachments/files/")
    assert re.fullmatch(r"/media_attachments/files/\d{3}/\d{3}/\d{3}/original/[^/]+\.png", attachment["url"])
    assert archive.files[attachment["url"].lstrip("/")] == MAP
    assert attachment["type"] == "Document" and attachment["mediaType"] == "image/png"
    assert (attachment["name"], attachment["width"], attachment["height"]) == ("Detour map", 8, 6)


def test_local_storage_style_drops_the_system_prefix_without_a_leading_slash(scene, tmp_path):
    inst, ids = scene
    exported = Archive(write_account_archive(inst, ids["city"], tmp_path, media_url_style="local"))
    url = exported.notes()["<p>public</p>"]["object"]["attachment"][0]["url"]
    assert url.startswith("media_attachments/files/")
    assert exported.files[url] == MAP


def test_actor_points_at_files_inside_the_archive(archive):
    actor = archive.json("actor.json")
    assert actor["type"] == "Person" and actor["id"] == CITY and actor["preferredUsername"] == "cityhall"
    assert actor["outbox"] == "outbox.json"
    assert actor["icon"]["url"] == "avatar.png" and actor["image"]["url"] == "header.png"
    assert archive.files["avatar.png"] == AVATAR and archive.files["header.png"] == MAP


def test_likes_and_bookmarks_list_uris_and_only_the_tar_form_counts_them(archive, scene):
    _, ids = scene
    uri = f"{RESIDENT}/statuses/{ids['theirs']}"
    for name in ("likes.json", "bookmarks.json"):
        collection = archive.json(name)
        assert collection["type"] == "OrderedCollection" and collection["orderedItems"] == [uri]
        assert ("totalItems" in collection) == archive.path.name.endswith(".tar.gz")


def test_unknown_format_is_refused(scene, tmp_path):
    inst, ids = scene
    with pytest.raises(SimulatorError, match="unknown"):
        write_account_archive(inst, ids["city"], tmp_path, fmt="rar")  # type: ignore[arg-type]
