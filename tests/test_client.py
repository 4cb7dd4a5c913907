"""The sync and async clients against a real questgraph server (the shared ``qg`` server, reset to
tests/world.toml before each test): every leaderboard method, the D7 error rows, app isolation, paging
(D21) and secrets kept out of repr and exception text."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from questgraph import (
    AdminClient,
    AsyncClient,
    AuthError,
    Client,
    InvalidParameter,
    NotEntitled,
    NotFound,
    NotRanked,
    PermissionDenied,
    QuestGraphError,
)
from questgraph.client import EntriesPage, Leaderboard, LeaderboardEntry, SubmitResult
from tests.conftest import (
    ADA_ID,
    ADA_TOKEN,
    ADMIN_KEY,
    APP_ID,
    APP_SECRET,
    APP_TOKEN,
    GRACE_ID,
    GRACE_TOKEN,
    LINUS_ID,
    RIVAL_APP_TOKEN,
    UNENTITLED_ID,
    RunningServer,
)


@pytest.fixture
def client(qg: RunningServer) -> Iterator[Client]:
    with Client(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url) as c:
        yield c


def seed(client: Client) -> None:
    """Ada 300 (extra b"car=red"), Grace 200, Linus 100 on best_leaderboard."""
    client.leaderboards.submit_entry("best_leaderboard", 300, user_id=ADA_ID, extra_data=b"car=red")
    client.leaderboards.submit_entry("best_leaderboard", 200, user_id=int(GRACE_ID))
    client.leaderboards.submit_entry("best_leaderboard", 100, user_id=LINUS_ID)


def test_create_update_list_get_and_delete_board(client: Client) -> None:
    """D19: the upsert answers the same id each time; list/get/get_by_id show the properties; delete removes it."""
    board_id = client.leaderboards.create_or_update(
        "laps", sort_order="LOWER_IS_BETTER", entry_write_policy="SERVER_AUTHORITATIVE",
        earliest_allowed_entry_time=1000, latest_allowed_entry_time=4_000_000_000, title_locale_map={"en_US": "Laps"})
    assert board_id.isdigit() and 15 <= len(board_id) <= 17
    assert client.leaderboards.create_or_update("laps", title_locale_map={"en_US": "Fast laps"}) == board_id
    board = client.leaderboards.get("laps")
    assert board == Leaderboard(id=board_id, api_name="laps", sort_order="LOWER_IS_BETTER",
                                entry_write_policy="SERVER_AUTHORITATIVE", entry_count=0,
                                earliest_allowed_entry_time=1000, latest_allowed_entry_time=4_000_000_000,
                                title="Fast laps", title_locale_map={"en_US": "Fast laps"})
    assert client.leaderboards.get_by_id(int(board_id)) == board
    names = {b.api_name for b in client.leaderboards.list()}
    assert names == {"best_leaderboard", "server_board", "MY_NEW_LEADERBOARD", "laps"}
    assert [b.id for b in client.leaderboards.list(fields=["id"])][-1:] != []
    assert all(b.api_name is None for b in client.leaderboards.list(fields=["id"]))
    client.leaderboards.delete(board_id)
    with pytest.raises(NotFound):
        client.leaderboards.get("laps")
    with pytest.raises(NotFound):
        client.leaderboards.get_by_id(board_id)


def test_submit_entries_and_single_entry(client: Client) -> None:
    """D15 keep-best and force_update; D18 extra data is bytes both ways; entries carry rank/user/score."""
    seed(client)
    assert client.leaderboards.submit_entry("best_leaderboard", 250, user_id=ADA_ID) == SubmitResult(True, False, [])
    assert client.leaderboards.submit_entry("best_leaderboard", 250, user_id=ADA_ID, force_update=True).did_update
    page = client.leaderboards.entries_page("best_leaderboard", summary=True)
    assert [(e.rank, e.user.alias if e.user else None, e.score) for e in page.entries] == [
        (1, "ada", 250), (2, "grace", 200), (3, "linus", 100)]
    assert page.total_count == 3 and not page.has_next and not page.has_previous
    assert page.entries[0].extra_data == b""  # the forced write replaced the whole entry (D15)
    client.leaderboards.submit_entry("best_leaderboard", 999, user_id=GRACE_ID, extra_data=b"\x00\xffbin")
    top = client.leaderboards.entries_page("best_leaderboard", limit=1).entries[0]
    assert top.user is not None and top.user.id == GRACE_ID and top.extra_data == b"\x00\xffbin"
    assert client.leaderboards.get_entry(top.id) == top
    client.leaderboards.delete_entry(int(top.id))
    with pytest.raises(NotFound):
        client.leaderboards.get_entry(top.id)
    assert [e.score for e in client.leaderboards.entries("best_leaderboard")] == [250, 100]


def test_entries_iterator_follows_paging(client: Client, qg: RunningServer) -> None:
    """D21: the iterator follows paging.next page after page, without repeats or gaps, with the token in a header."""
    with qg.admin() as admin:
        ids = [admin.post(f"/_admin/apps/{APP_ID}/users", data={"alias": f"p{n}"}).json()["id"] for n in range(7)]
    for n, user_id in enumerate(ids):
        client.leaderboards.submit_entry("best_leaderboard", n * 10, user_id=user_id)
    scores = [e.score for e in client.leaderboards.entries("best_leaderboard", limit=2)]
    assert scores == [60, 50, 40, 30, 20, 10, 0]
    ranks = [e.rank for e in client.leaderboards.entries("best_leaderboard", start_at="OFFSET", offset=3, limit=3)]
    assert ranks == [4, 5, 6, 7]
    first = client.leaderboards.entries_page("best_leaderboard", limit=3)
    assert first.has_next and first.after is not None and "access_token" not in repr(first)
    second = client.leaderboards.entries_page("best_leaderboard", limit=3, after=first.after)
    assert [e.rank for e in second.entries] == [4, 5, 6] and second.has_previous
    back = client.leaderboards.entries_page("best_leaderboard", limit=3, before=second.before)
    assert [e.rank for e in back.entries] == [1, 2, 3]


def test_filters_and_viewer_reads(client: Client) -> None:
    """D20: USER_IDS (ints or strings), FRIENDS and CENTERED_ON_VIEWER with a user token via as_user."""
    seed(client)
    picked = client.leaderboards.entries_page("best_leaderboard", user_ids=[int(LINUS_ID), ADA_ID], summary=True)
    assert [e.user.id for e in picked.entries if e.user] == [ADA_ID, LINUS_ID] and picked.total_count == 2
    ada = client.as_user(ADA_TOKEN)
    friends = ada.leaderboards.entries_page("best_leaderboard", filter="FRIENDS")
    assert [e.rank for e in friends.entries] == [1, 2]  # ranks within the filtered set (D14)
    centered = client.as_user(GRACE_TOKEN).leaderboards.entries_page("best_leaderboard",
                                                                    start_at="CENTERED_ON_VIEWER", limit=1)
    assert [e.user.alias for e in centered.entries if e.user] == ["grace"]
    with pytest.raises(PermissionDenied) as denied:
        client.leaderboards.entries_page("best_leaderboard", filter="FRIENDS")
    assert denied.value.status == 403 and denied.value.code == 200
    client.leaderboards.remove_all("best_leaderboard")
    assert list(client.leaderboards.entries("best_leaderboard")) == []
    with pytest.raises(NotRanked) as unranked:
        ada.leaderboards.entries_page("best_leaderboard", start_at="CENTERED_ON_VIEWER")
    assert unranked.value.code == 12074 and unranked.value.status == 404


def test_user_token_submit_and_fields_selection(client: Client) -> None:
    """D16: a user token writes its own entry on a client-authoritative board; fields limits what is filled."""
    ada = client.as_user(ADA_TOKEN)
    assert ada.leaderboards.submit_entry("best_leaderboard", 42).did_update
    entry = client.leaderboards.entries_page("best_leaderboard", fields=["id", "score"]).entries[0]
    assert entry == LeaderboardEntry(id=entry.id, score=42)
    only_alias = client.leaderboards.entries_page("best_leaderboard", fields=["user"], user_fields=["alias"])
    assert only_alias.entries[0].user is not None and only_alias.entries[0].user.alias == "ada"
    assert only_alias.entries[0].rank is None


def test_error_mapping_for_each_d7_row(client: Client, qg: RunningServer) -> None:
    """D7: each server error row becomes its class, with status, code, subcode, type and fbtrace_id."""
    with Client(base_url=qg.url, app_id=APP_ID) as anonymous, pytest.raises(AuthError) as missing:
        anonymous.leaderboards.list()
    assert (missing.value.status, missing.value.code, missing.value.type) == (401, 104, "OAuthException")
    with Client(app_id=APP_ID, app_secret="0" * 32, base_url=qg.url) as wrong, pytest.raises(AuthError) as bad:
        wrong.leaderboards.list()
    assert bad.value.code == 190 and len(bad.value.fbtrace_id or "") == 23
    with pytest.raises(PermissionDenied) as kind:
        client.as_user(ADA_TOKEN).leaderboards.create_or_update("x", sort_order="HIGHER_IS_BETTER")
    assert (kind.value.status, kind.value.code, kind.value.type) == (403, 200, "OAuthException")
    assert not isinstance(kind.value, NotEntitled)
    with pytest.raises(NotEntitled) as entitled:
        client.leaderboards.submit_entry("best_leaderboard", 1, user_id=UNENTITLED_ID)
    assert (entitled.value.status, entitled.value.type) == (403, "OCApiException")
    with pytest.raises(InvalidParameter) as invalid:
        client.leaderboards.create_or_update("x", sort_order="SIDEWAYS")  # type: ignore[arg-type]
    assert (invalid.value.status, invalid.value.code) == (400, 100) and "sort_order" in invalid.value.message
    with pytest.raises(NotFound) as unknown:
        client.leaderboards.entries_page("no_such_board")
    assert (unknown.value.status, unknown.value.code) == (404, 100)
    with pytest.raises(NotFound) as unknown_id:
        client.leaderboards.get_entry("999999999999999")
    assert unknown_id.value.subcode == 33 and unknown_id.value.type == "GraphMethodException"
    assert isinstance(unknown_id.value, QuestGraphError)


def test_one_app_cannot_touch_another_apps_board(client: Client, qg: RunningServer) -> None:
    """D7: another app's board id is a 403; its api_name reads only its own board."""
    board = client.leaderboards.get("best_leaderboard")
    with Client(access_token=RIVAL_APP_TOKEN, base_url=qg.url) as rival:
        with pytest.raises(PermissionDenied):
            rival.leaderboards.get_by_id(board.id)
        with pytest.raises(PermissionDenied):
            rival.leaderboards.delete(board.id)
        assert [e.score for e in rival.leaderboards.entries("best_leaderboard")] == [999999]
    assert client.leaderboards.get("best_leaderboard").id == board.id


def test_secrets_never_in_repr_or_errors(qg: RunningServer) -> None:
    """Tokens and secrets are kept out of repr(client) and the text of every error."""
    secret = APP_SECRET
    with Client(app_id=APP_ID, app_secret=secret, base_url=qg.url) as c:
        assert secret not in repr(c) and APP_TOKEN not in repr(c) and "app token" in repr(c)
        assert ADA_TOKEN not in repr(c.as_user(ADA_TOKEN))
        with pytest.raises(QuestGraphError) as err:
            c.as_user(ADA_TOKEN).leaderboards.remove_all("best_leaderboard")
        assert secret not in str(err.value) and ADA_TOKEN not in str(err.value) + repr(err.value)
    with Client(app_id=APP_ID, app_secret=secret, base_url="http://someone:pw0rd@127.0.0.1:9", timeout=0.5) as dead:
        with pytest.raises(QuestGraphError) as down:
            dead.leaderboards.entries_page("best_leaderboard")
        # The host and port, to say where the connection failed; never the rest of the URL (user info, query).
        assert "cannot connect to 127.0.0.1:9" in str(down.value)
        assert secret not in str(down.value) and "pw0rd" not in str(down.value) and "someone" not in str(down.value)
        assert "access_token" not in str(down.value)
    with pytest.raises(ValueError, match="decimal id"):
        Client(app_id=APP_ID, app_secret=secret, base_url=qg.url).leaderboards.get_entry("12; DROP")


def test_async_client_every_method(qg: RunningServer) -> None:
    """The AsyncClient twin: the same calls and answers as the sync client, awaited."""

    async def run() -> None:
        async with AsyncClient(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url) as c:
            lb = c.leaderboards
            board_id = await lb.create_or_update("async_board", sort_order="HIGHER_IS_BETTER")
            assert await lb.create_or_update("async_board") == board_id
            assert (await lb.get("async_board")).id == board_id
            assert (await lb.get_by_id(board_id)).api_name == "async_board"
            assert "async_board" in {b.api_name for b in await lb.list()}
            assert (await lb.submit_entry("async_board", 5, user_id=ADA_ID, extra_data=b"x")).did_update
            assert not (await lb.submit_entry("async_board", 4, user_id=ADA_ID)).did_update
            assert (await c.as_user(GRACE_TOKEN).leaderboards.submit_entry("async_board", 9)).did_update
            page = await lb.entries_page("async_board", summary=True, limit=1)
            assert isinstance(page, EntriesPage) and page.total_count == 2 and page.has_next
            entries = [e async for e in lb.entries("async_board", limit=1)]
            assert [(e.rank, e.score, e.extra_data) for e in entries] == [(1, 9, b""), (2, 5, b"x")]
            assert (await lb.get_entry(entries[1].id)).score == 5
            await lb.delete_entry(entries[1].id)
            assert [e.score async for e in lb.entries("async_board")] == [9]
            await lb.remove_all("async_board")
            assert [e async for e in lb.entries("async_board")] == []
            await lb.delete(board_id)
            with pytest.raises(NotFound):
                await lb.get("async_board")
            with pytest.raises(NotEntitled):
                await lb.submit_entry("best_leaderboard", 1, user_id=UNENTITLED_ID)

    asyncio.run(run())


def test_users_group_sync_and_async(client: Client, qg: RunningServer) -> None:
    """§4: GET /{user_id}, /me with a user token, and single-use nonce validation (D8: a spent nonce is False)."""
    ada = client.users.get(int(ADA_ID))
    assert ada.id == ADA_ID and ada.alias == "ada" and ada.org_scoped_id is not None
    assert client.as_user(ADA_TOKEN).users.me().alias == "ada"
    with AdminClient(qg.url, admin_key=ADMIN_KEY) as admin:
        nonce = admin.mint_nonce(ADA_ID)
    assert client.users.validate_nonce(nonce, ADA_ID) is True
    assert client.users.validate_nonce(nonce, ADA_ID) is False
    with pytest.raises(PermissionDenied):
        client.as_user(ADA_TOKEN).users.validate_nonce(nonce, ADA_ID)

    async def run() -> None:
        async with AsyncClient(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url) as c:
            assert (await c.users.get(GRACE_ID)).alias == "grace"
            assert (await c.as_user(GRACE_TOKEN).users.me()).id == GRACE_ID
            assert await c.users.validate_nonce("not-a-nonce", GRACE_ID) is False

    asyncio.run(run())
