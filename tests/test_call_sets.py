"""Calls as sets on PostgreSQL + Redis (issue 14; server/call_sets.py, ``SetRunner`` in server/executor.py).

A trip's leaderboard submits run as one set: one query reads every target, one statement writes every
winning entry (``LeaderboardService.submit_set``). A trip's page reads too: one query for every board and
viewer's entry, one Redis round trip for every page, one query for every page's rows (``entries_set``).
Each answer must be the one the same request gets alone: the same errors in the same order of checks,
keep-best per entry, a second submit for an entry run after the set, force_update, both sort orders, every
start_at, cursors and fields; the rank index must follow; and a cached caller made stale by a rotation is
refused by a set as by a lone call."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import APP_ID, APP_TOKEN, RunningServer, start_server
from tests.lb_support import make_users
from tests.redis_support import drop_prefix, redis_url, require_redis

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def pg(tmp_path: Path) -> Any:
    require_redis()
    prefix = f"qgtest-{secrets.token_hex(6)}"
    # One lane: every request of a burst waits for the same trip, so the burst is one set.
    server = start_server(tmp_path, backend="postgres", rank_index=redis_url(prefix=prefix), domain_lanes=1)
    try:
        yield server
    finally:
        server.stop()
        drop_prefix(prefix)


def board(server: RunningServer, api_name: str, **params: Any) -> None:
    with server.client() as client:
        made = client.post(f"/{APP_ID}/leaderboards", data={"access_token": APP_TOKEN, "api_name": api_name,
                                                             "sort_order": "HIGHER_IS_BETTER", **params})
        assert made.status_code == 200, made.text


def burst(server: RunningServer, forms: list[dict[str, str]], read: bool = False) -> list[httpx.Response]:
    """Every submit (or page read) sent at once, on its own connection: the server queues them together."""

    async def main() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server.url, timeout=30,
                                     limits=httpx.Limits(max_connections=len(forms))) as client:
            return list(await asyncio.gather(*(
                client.get("/leaderboard_entries", params=form) if read
                else client.post("/leaderboard_submit_entry", data=form) for form in forms)))

    return asyncio.run(main())


def alone(server: RunningServer, form: dict[str, str]) -> httpx.Response:
    with server.client() as client:
        return client.post("/leaderboard_submit_entry", data=form)


def answer(response: httpx.Response) -> tuple[int, Any]:
    """Status and body, without the per-request trace id."""
    body = response.json()
    if "error" in body:
        body["error"].pop("fbtrace_id", None)
    return response.status_code, body


def scores(server: RunningServer, api_name: str) -> dict[str, int]:
    rows = server.server.db.all("SELECT e.user_id, e.score FROM entries e JOIN leaderboards b "
                                "ON b.id = e.leaderboard_id WHERE b.api_name = ?", (api_name,))
    return {str(r[0]): int(r[1]) for r in rows}


def form(api_name: str, score: int | str, user_id: str | None = None, token: str = APP_TOKEN,
         **extra: str) -> dict[str, str]:
    data = {"access_token": token, "api_name": api_name, "score": str(score), **extra}
    if user_id is not None:
        data["user_id"] = user_id
    return data


def test_a_burst_of_submits_answers_each_as_it_would_alone(pg: RunningServer) -> None:
    with pg.admin() as admin:
        users = make_users(admin, 12, prefix="setter")
        outsider = make_users(admin, 1, prefix="outsider", entitled=False)[0]
    board(pg, "hi")
    board(pg, "lo", sort_order="LOWER_IS_BETTER")
    board(pg, "closed", latest_allowed_entry_time="1")
    assert answer(alone(pg, form("hi", 1000, users[0])))[1]["did_update"] is True  # kept: burst's is worse
    assert answer(alone(pg, form("hi", 100, users[11])))[1]["did_update"] is True  # forced below
    sent = [form("hi", 10 + n, users[n]) for n in range(1, 10)]  # new entries
    sent += [form("lo", 50 - n, users[n]) for n in range(10)]  # the other direction
    sent += [form("hi", 5, users[0]),  # worse than the stored 1000: no write
             form("hi", 3, users[11], force_update="true"),  # forced: written though worse
             form("hi", 5, users[10]), form("hi", 9, users[10]), form("hi", 7, users[10])]  # one entry, thrice
    errors = [form("nope", 1, users[1]),  # no such board
              form("hi", 1, outsider),  # not entitled
              form("hi", 1),  # an app token without user_id
              form("hi", 1, "not-an-id"),
              form("hi", "many", users[2]),
              form("closed", 1, users[2]),  # after the board's window
              form("hi", 1, users[2], token=f"OC|{APP_ID}|{'0' * 32}"),  # a wrong secret
              {"api_name": "hi", "score": "1", "user_id": users[2]}]  # no token at all
    expected_errors = [answer(alone(pg, f)) for f in errors]
    assert all(status >= 400 for status, _ in expected_errors) and len({str(e) for e in expected_errors}) == 8
    before = pg.server.executor.in_sets

    answers = [answer(r) for r in burst(pg, sent + errors)]

    assert pg.server.executor.in_sets - before >= len(sent) - 2  # answered by the set, not one by one
    ok, failed = answers[:len(sent)], answers[len(sent):]
    assert failed == expected_errors  # the same status, code, type and message as alone
    assert all(status == 200 and body["success"] is True and body["updated_challenge_ids"] == []
               for status, body in ok)
    did = [body["did_update"] for _, body in ok]
    assert did[:19] == [True] * 19  # every new entry, on both boards
    assert did[19:21] == [False, True]  # worse than stored: kept; forced: written
    assert 1 <= sum(did[21:]) <= 3  # the same entry thrice: which ones improved depends on arrival
    assert scores(pg, "hi") == {users[0]: 1000, **{users[n]: 10 + n for n in range(1, 10)}, users[10]: 9,
                                users[11]: 3}
    assert scores(pg, "lo") == {users[n]: 50 - n for n in range(10)}
    # The rank index followed every write: pages in rank order, the same entries as the database.
    with pg.client() as client:
        for api_name, best_first in (("hi", True), ("lo", False)):
            page = client.get("/leaderboard_entries", params={
                "access_token": APP_TOKEN, "api_name": api_name, "limit": 50, "fields": "rank,score,user{id}"})
            rows = page.json()["data"]
            stored = scores(pg, api_name)
            assert {row["user"]["id"]: row["score"] for row in rows} == stored
            assert [row["score"] for row in rows] == sorted(stored.values(), reverse=best_first)
            assert [row["rank"] for row in rows] == list(range(1, len(stored) + 1))
    # Every write recorded its pending index row (D22), and each names an entry of the burst's boards.
    pending = {int(r[0]) for r in pg.server.db.all("SELECT entry_id FROM index_pending")}
    entries = {int(r[0]) for r in pg.server.db.all("SELECT id FROM entries")}
    assert pending <= entries


def test_a_set_refuses_a_secret_rotated_since_its_callers_were_cached(pg: RunningServer) -> None:
    """The burst's callers come from the process's cache; a rotation (through the admin API) replaces the
    cache version, so the next burst with the old secret is refused whole (401 code 190) and writes nothing,
    and the new secret's burst is answered by a set."""
    with pg.admin() as admin:
        users = make_users(admin, 6, prefix="rotated")
        board(pg, "rot")
        assert all(r.status_code == 200 for r in burst(pg, [form("rot", 1, u) for u in users]))
        rotated = admin.post(f"/_admin/apps/{APP_ID}/secret")
        assert rotated.status_code == 200, rotated.text
        new_token = f"OC|{APP_ID}|{rotated.json()['secret']}"
    refused = [answer(r) for r in burst(pg, [form("rot", 50, u) for u in users])]
    assert {(status, body["error"]["code"]) for status, body in refused} == {(401, 190)}
    assert scores(pg, "rot") == {u: 1 for u in users}
    before = pg.server.executor.in_sets
    taken = [answer(r) for r in burst(pg, [form("rot", 60, u, token=new_token) for u in users])]
    assert [body["did_update"] for _, body in taken] == [True] * len(users)
    assert scores(pg, "rot") == {u: 60 for u in users}
    assert pg.server.executor.in_sets > before


def test_a_burst_of_page_reads_answers_each_as_it_would_alone(pg: RunningServer) -> None:
    """Every kind of whole-board read, and the errors a read can meet, sent at once: each answer is exactly
    the one the same read gets alone (rows, ranks, paging cursors and URLs, summary); filtered reads run
    alone beside the set."""
    with pg.admin() as admin:
        users = make_users(admin, 30, prefix="reader")
        tokens = {}
        for user in users[:4] + users[-1:]:
            minted = admin.post(f"/_admin/users/{user}/tokens")
            assert minted.status_code == 200, minted.text
            tokens[user] = minted.json()["access_token"]
    board(pg, "page")
    for n, user in enumerate(users[:-1]):  # the last user is never ranked
        assert answer(alone(pg, form("page", (n * 7) % 23, user)))[0] == 200

    def read(token: str = APP_TOKEN, **params: str) -> dict[str, str]:
        return {"access_token": token, "api_name": "page", "fields": "rank,score,user{id}", "limit": "5", **params}

    first = answer(alone_read(pg, read()))[1]
    reads = [read(tokens[u], start_at="CENTERED_ON_VIEWER") for u in users[:4]]
    reads += [read(), read(summary="true"), read(start_at="OFFSET", offset="20"), read(limit="50"),
              read(fields="id,rank,score,timestamp,extra_data_base64,user{id,alias,profile_url}"),
              read(after=first["paging"]["cursors"]["after"]),
              read(before=first["paging"]["cursors"]["after"]),
              read(tokens[users[-1]], start_at="CENTERED_ON_VIEWER_OR_TOP"),
              read(tokens[users[0]], filter="USER_IDS", user_ids=f"[{users[5]},{users[6]}]"),  # alone, filtered
              read(start_at="VIEWER", **{"access_token": tokens[users[1]]})]
    errors = [read(tokens[users[-1]], start_at="CENTERED_ON_VIEWER"),  # not ranked
              read(start_at="CENTERED_ON_VIEWER"),  # an app token has no viewer
              read(api_name="nope"),
              read(fields="rank,nonsense"),
              read(limit="-3"),
              read(start_at="SIDEWAYS"),
              read(token=f"OC|{APP_ID}|{'0' * 32}"),
              read(summary="perhaps")]
    expected = [answer(alone_read(pg, r)) for r in reads + errors]
    assert [status for status, _ in expected[:len(reads)]] == [200] * len(reads)
    assert all(status >= 400 for status, _ in expected[len(reads):])
    assert users[0] in {row["user"]["id"] for row in expected[0][1]["data"]} and "summary" in expected[5][1]
    before = pg.server.executor.in_sets

    got = [answer(r) for r in burst(pg, reads + errors, read=True)]

    assert got == expected
    assert pg.server.executor.in_sets - before >= len(reads) - 1  # answered by sets, not one by one


def alone_read(server: RunningServer, params: dict[str, str]) -> httpx.Response:
    with server.client() as client:
        return client.get("/leaderboard_entries", params=params)
