"""The client's achievements group (graph-api.md §2; D23–D26), sync and async, against the shared real
server: definition upserts with multipart icons, queries with fields and paging, progress writes with
``just_unlocked`` (D24), progress reads with ``definition{…}``, remove_all, the error rows and app isolation."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from questgraph import AsyncClient, Client, InvalidParameter, NotEntitled, NotFound, PermissionDenied
from questgraph.client import AchievementDefinition, AchievementWrite, AdminClient
from tests.conftest import (
    ADA_ID,
    ADA_TOKEN,
    ADMIN_KEY,
    APP_ID,
    APP_SECRET,
    GRACE_ID,
    GRACE_TOKEN,
    RIVAL_APP_TOKEN,
    RIVAL_ID,
    UNENTITLED_ID,
    RunningServer,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"client-icon-bytes"
GIF = b"GIF89a" + b"locked-icon"


@pytest.fixture
def client(qg: RunningServer) -> Iterator[Client]:
    with Client(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url) as c:
        yield c


def define_three(client: Client) -> dict[str, str]:
    ach = client.achievements
    return {
        "first_win": ach.create_or_update("first_win", achievement_type="SIMPLE", title="First win",
                                          description="Win once", unlocked_image=PNG, locked_image=GIF),
        "ten_laps": ach.create_or_update("ten_laps", achievement_type="COUNT", target=3, title="Laps",
                                         description="Drive laps", write_policy="SERVER_AUTHORITATIVE"),
        "explorer": ach.create_or_update("explorer", achievement_type="BITFIELD", target=2, bitfield_length=4,
                                         title_locale_map={"en_US": "Explorer", "fr_FR": "Explorateur"},
                                         description="Visit places", is_secret=True),
    }


def test_definitions_upsert_query_fields_paging_and_images(client: Client, qg: RunningServer) -> None:
    """D23 upsert (same id; unsent parameters kept); icons go multipart and are served back byte for byte;
    fields selection fills only what was asked (D5); the iterator follows paging (D21)."""
    ids = define_three(client)
    assert all(i.isdigit() and 15 <= len(i) <= 17 for i in ids.values())
    assert client.achievements.create_or_update("ten_laps", description="Drive more laps") == ids["ten_laps"]
    laps = client.achievements.get_definition(int(ids["ten_laps"]))
    assert (laps.achievement_type, laps.target, laps.title, laps.description, laps.achievement_write_policy) == (
        "COUNT", 3, "Laps", "Drive more laps", "SERVER_AUTHORITATIVE")
    assert laps.bitfield_length is None  # left out for non-BITFIELD definitions
    every = list(client.achievements.definitions(limit=1))
    assert [d.api_name for d in every] == ["first_win", "ten_laps", "explorer"]
    explorer = every[2]
    assert explorer.title == "Explorer" and explorer.title_locale_map == {"en_US": "Explorer", "fr_FR": "Explorateur"}
    assert explorer.bitfield_length == 4 and explorer.is_secret is True
    first = every[0]
    assert first.target is None and first.unlocked_image_uri and first.locked_image_uri
    with httpx.Client() as raw:
        assert raw.get(first.unlocked_image_uri).content == PNG
        assert raw.get(first.locked_image_uri).content == GIF
    only = client.achievements.definitions_page(api_names=["explorer", "nope"], fields=["id", "api_name"])
    assert only.data == [AchievementDefinition(id=ids["explorer"], api_name="explorer")] and not only.has_next
    page = client.achievements.definitions_page(limit=2)
    assert len(page.data) == 2 and page.has_next and page.after and "access_token" not in repr(page)
    rest = client.achievements.definitions_page(limit=2, after=page.after)
    assert [d.api_name for d in rest.data] == ["explorer"] and rest.has_previous
    client.achievements.create_or_update("first_win", is_archived=True)
    assert [d.api_name for d in client.achievements.definitions()] == ["ten_laps", "explorer"]
    assert "first_win" in {d.api_name for d in client.achievements.definitions(include_archived=True)}


def test_progress_writes_reads_and_remove_all(client: Client) -> None:
    """D23/D24: add_count and add_bits accumulate and unlock at the target, just_unlocked once; force_unlock;
    progress rows with definition{…}; a user token reads its own progress; remove_all empties it."""
    define_three(client)
    ach = client.achievements
    assert ach.add_count(ADA_ID, "ten_laps", 2) == AchievementWrite(ADA_ID, "ten_laps", False)
    assert ach.add_count(int(ADA_ID), "ten_laps", 1).just_unlocked is True
    assert ach.add_count(ADA_ID, "ten_laps", 5).just_unlocked is False
    assert ach.add_bits(ADA_ID, "explorer", "1000").just_unlocked is False
    assert ach.add_bits(ADA_ID, "explorer", "0010").just_unlocked is True
    assert ach.force_unlock(ADA_ID, "first_win").just_unlocked is True
    assert ach.force_unlock(ADA_ID, "first_win").just_unlocked is False
    rows = {p.api_name: p for p in ach.progress(ADA_ID, limit=2)}
    assert set(rows) == {"first_win", "ten_laps", "explorer"}
    laps = rows["ten_laps"]
    assert laps.is_unlocked and laps.count_progress == 8 and laps.target == 3 and laps.unlock_time
    assert laps.definition is not None and laps.definition.title == "Laps"
    assert rows["explorer"].bitfield_progress == "1010"
    picked = ach.progress_page(ADA_ID, api_names=["explorer"], fields=["api_name", "definition"],
                               definition_fields=["achievement_type"]).data
    assert len(picked) == 1 and picked[0].is_unlocked is None
    assert picked[0].definition == AchievementDefinition(id=picked[0].definition.id if picked[0].definition else "",
                                                         achievement_type="BITFIELD")
    # A user token reads its own progress and writes a CLIENT_AUTHORITATIVE achievement (D25).
    grace = client.as_user(GRACE_TOKEN).achievements
    assert grace.add_bits(GRACE_ID, "explorer", "11").just_unlocked is True
    assert [p.api_name for p in grace.progress(GRACE_ID)] == ["explorer"]
    ach.remove_all(ADA_ID)
    assert list(ach.progress(ADA_ID)) == []
    with AdminClient(client.base_url, admin_key=ADMIN_KEY) as admin:
        assert [r.api_name for r in admin.user_achievements(GRACE_ID)] == ["explorer"]
        assert admin.user_achievements(ADA_ID) == []


def test_achievement_errors_map_to_the_tree(client: Client) -> None:
    """D23 (a write that does not fit the type), D25 (user token on SERVER_AUTHORITATIVE), entitlement (403
    OCApiException), unknown api_name (404), a user token's include_archived or another user's progress."""
    define_three(client)
    ach = client.achievements
    with pytest.raises(InvalidParameter) as wrong_type:
        ach.add_count(ADA_ID, "first_win", 1)
    assert wrong_type.value.code == 100 and wrong_type.value.status == 400
    with pytest.raises(InvalidParameter):
        ach.add_bits(ADA_ID, "explorer", "10201")
    with pytest.raises(InvalidParameter, match="achievement_type"):
        ach.create_or_update("no_type", title="x", description="y")
    with pytest.raises(InvalidParameter, match="image"):
        ach.create_or_update("bad_icon", achievement_type="SIMPLE", title="x", description="y",
                             unlocked_image=b"not an image")
    with pytest.raises(NotFound):
        ach.force_unlock(ADA_ID, "no_such_achievement")
    with pytest.raises(NotEntitled):
        ach.force_unlock(UNENTITLED_ID, "first_win")
    ada = client.as_user(ADA_TOKEN).achievements
    with pytest.raises(PermissionDenied) as policy:
        ada.add_count(ADA_ID, "ten_laps", 1)
    assert (policy.value.status, policy.value.code) == (403, 200)
    with pytest.raises(PermissionDenied):
        ada.progress_page(GRACE_ID)
    with pytest.raises(TypeError):
        ach.add_count(ADA_ID, "ten_laps", True)
    assert list(ach.progress(ADA_ID)) == []  # nothing above wrote anything


def test_another_app_cannot_read_or_write_our_achievements(client: Client, qg: RunningServer) -> None:
    """One app never sees another's definitions or users' progress (D7: 403 for a foreign id)."""
    ids = define_three(client)
    client.achievements.force_unlock(ADA_ID, "first_win")
    with Client(access_token=RIVAL_APP_TOKEN, base_url=qg.url) as rival:
        assert list(rival.achievements.definitions()) == []
        with pytest.raises(PermissionDenied):
            rival.achievements.get_definition(ids["first_win"])
        with pytest.raises(PermissionDenied):
            rival.achievements.progress_page(ADA_ID)
        with pytest.raises((PermissionDenied, NotFound)):
            rival.achievements.force_unlock(ADA_ID, "first_win")
        with pytest.raises(InvalidParameter):
            rival.achievements.remove_all(ADA_ID)
        rival.achievements.create_or_update("first_win", achievement_type="COUNT", target=9, title="R",
                                            description="r")
        assert rival.achievements.add_count(RIVAL_ID, "first_win", 9).just_unlocked
    assert [p.is_unlocked for p in client.achievements.progress(ADA_ID)] == [True]
    assert client.achievements.get_definition(ids["first_win"]).achievement_type == "SIMPLE"


def test_async_achievements_every_method(qg: RunningServer) -> None:
    """The AsyncClient twin: the same calls and answers, awaited."""

    async def run() -> None:
        async with AsyncClient(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url) as c:
            ach = c.achievements
            simple = await ach.create_or_update("a_simple", achievement_type="SIMPLE", title="S", description="s",
                                                unlocked_image=("icon.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 ",
                                                                "image/webp"))
            assert await ach.create_or_update("a_simple", title="S2") == simple
            await ach.create_or_update("a_count", achievement_type="COUNT", target=2, title="C", description="c")
            await ach.create_or_update("a_bits", achievement_type="BITFIELD", target=1, bitfield_length=2,
                                       title="B", description="b")
            assert (await ach.get_definition(simple)).title == "S2"
            assert [d.api_name async for d in ach.definitions(limit=2)] == ["a_simple", "a_count", "a_bits"]
            assert (await ach.definitions_page(api_names=["a_bits"])).data[0].bitfield_length == 2
            assert not (await ach.add_count(ADA_ID, "a_count", 1)).just_unlocked
            assert (await ach.add_count(ADA_ID, "a_count", 1)).just_unlocked
            assert (await ach.add_bits(ADA_ID, "a_bits", "01")).just_unlocked
            assert (await ach.force_unlock(ADA_ID, "a_simple")).just_unlocked
            rows = [p async for p in ach.progress(ADA_ID, limit=1)]
            assert sorted(p.api_name or "" for p in rows) == ["a_bits", "a_count", "a_simple"]
            assert all(p.is_unlocked and p.definition is not None for p in rows)
            assert len((await ach.progress_page(ADA_ID, api_names=["a_count"])).data) == 1
            await ach.remove_all(ADA_ID)
            assert [p async for p in ach.progress(ADA_ID)] == []
            with pytest.raises(NotEntitled):
                await ach.force_unlock(UNENTITLED_ID, "a_simple")

    asyncio.run(run())
