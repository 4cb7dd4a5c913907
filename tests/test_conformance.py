"""``questgraph conformance`` (issue 18, part 3), with no internet: two questgraph servers on the same world
stand for the target and the questgraph. Identical ones differ nowhere; a test-only ASGI wrapper around the
second one's app injects one difference (a key renamed or removed, a type changed, a status or error code
changed, paging dropped), and the run must report exactly that difference, nothing more.

To add a variant (fault injection through the admin API, say), append to INJECTIONS: an injection is any
callable that changes the second server for the run and returns an undo."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from questgraph.cli import main
from questgraph.conformance.report import render_json, render_table
from questgraph.conformance.scenario import Side, read_steps, run
from tests.conftest import ADA_ID, ADA_TOKEN, APP_ID, APP_SECRET, GRACE_ID, LINUS_ID, RunningServer, start_server

Scope = MutableMapping[str, Any]
App = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]
Rewrite = Callable[[int, Any], tuple[int, Any]]


def _populate(server: RunningServer) -> None:
    """The same data on both: three entries (so the first page of one pages on) and an achievement."""
    with server.client(headers={"Authorization": f"Bearer OC|{APP_ID}|{APP_SECRET}"}) as http:
        for user, score in ((ADA_ID, 300), (GRACE_ID, 200), (LINUS_ID, 100)):
            http.post("/leaderboard_submit_entry", data={"api_name": "best_leaderboard", "score": score,
                                                         "user_id": user}).raise_for_status()
        http.post(f"/{APP_ID}/achievement_definitions", data={
            "api_name": "FIRST_WIN", "achievement_type": "SIMPLE", "title": "First win",
            "description": "Win once"}).raise_for_status()


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[tuple[RunningServer, RunningServer]]:
    servers = tuple(start_server(tmp_path_factory.mktemp(f"conf-{name}-{backend}"), backend=backend)
                    for name in ("target", "local"))
    for server in servers:
        _populate(server)
    yield servers[0], servers[1]
    for server in servers:
        server.stop()


def _side(server: RunningServer, **extra: str) -> Side:
    # The board is named: ids are random, so "the first listed" may be another board on each server.
    return Side(server.url, APP_ID, APP_SECRET, ADA_TOKEN, leaderboard="best_leaderboard", **extra)


def _snapshot(server: RunningServer) -> Any:
    with server.admin() as admin:
        state = admin.get("/_admin/snapshot")
        state.raise_for_status()
        return state.json()


def test_identical_servers_differ_nowhere_and_nothing_changes(pair: tuple[RunningServer, RunningServer]) -> None:
    target, local = pair
    before = (_snapshot(target), _snapshot(local))
    result = run(_side(target), _side(local))
    assert result.differences == [], [(r.step.name, r.target and r.target.body, r.local and r.local.body) for r in result.results if r.differences]
    # Every default step ran, with real answers: successes where the call is fine, Graph errors where not.
    assert [r.step.name for r in result.results] == [s.name for s in read_steps()]
    assert all(r.skipped is None for r in result.results), [(r.step.name, r.skipped, r.local and r.local.body) for r in result.results]
    by_name = {r.step.name: r for r in result.results}
    assert by_name["leaderboards.list"].local.body["data"][0]["api_name"]  # type: ignore[union-attr]
    first = by_name["leaderboard_entries.first_page"].local
    assert first is not None and len(first.body["data"]) == 1 and first.body["paging"]["next"]
    assert by_name["leaderboard_entries.next_page"].local.body["data"][0]["score"] == 200  # type: ignore[union-attr]
    assert by_name["me"].target.body["id"] == ADA_ID  # type: ignore[union-attr]
    for name, code in (("error.bad_token", 190), ("error.unknown_field", 100), ("error.bad_param", 100)):
        assert by_name[name].target.error()[1] == code, name  # type: ignore[union-attr, index]
    assert by_name["error.no_token"].target.status in (400, 401)  # type: ignore[union-attr]
    assert by_name["error.unknown_leaderboard"].target.error() is not None  # type: ignore[union-attr]
    # Read-only: neither server's state changed.
    assert (_snapshot(target), _snapshot(local)) == before


# --- injected differences -------------------------------------------------------------------------------------
def _rewriting(app: App, applies: Callable[[Scope], bool], rewrite: Rewrite) -> App:
    """``app`` with the JSON answers of the requests ``applies`` picks rewritten (status and body)."""
    async def wrapped(scope: Scope, receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]],
                      ) -> None:
        if scope["type"] != "http" or not applies(scope):
            await app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def keep(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            status, body = rewrite(start["status"], json.loads(b"".join(chunks)))
            raw = json.dumps(body).encode()
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            await send({"type": "http.response.start", "status": status,
                        "headers": [*headers, (b"content-length", str(len(raw)).encode())]})
            await send({"type": "http.response.body", "body": raw})

        await app(scope, receive, keep)
    return wrapped


def _inject(server: RunningServer, applies: Callable[[Scope], bool], rewrite: Rewrite) -> Callable[[], None]:
    """Wrap the running server's app; uvicorn reads ``config.loaded_app`` for each new connection, and the
    run opens new ones. Returns the undo."""
    config = server._uvicorn.config
    original = config.loaded_app
    config.loaded_app = _rewriting(original, applies, rewrite)

    def undo() -> None:
        config.loaded_app = original
    return undo


def _route(path: str, query: str = "") -> Callable[[Scope], bool]:
    return lambda scope: scope["path"] == path and query in scope.get("query_string", b"").decode()


def _edit_data(edit: Callable[[dict[str, Any]], None]) -> Rewrite:
    def rewrite(status: int, body: Any) -> tuple[int, Any]:
        for row in body.get("data", []):
            edit(row)
        return status, body
    return rewrite


def _without(key: str) -> Rewrite:
    def rewrite(status: int, body: Any) -> tuple[int, Any]:
        body.pop(key, None)
        return status, body
    return rewrite


def _error_code(code: int) -> Rewrite:
    def rewrite(status: int, body: Any) -> tuple[int, Any]:
        body["error"]["code"] = code
        return status, body
    return rewrite


Injection = Callable[[RunningServer], Callable[[], None]]
INJECTIONS: list[tuple[str, Injection, set[tuple[str, str, str]]]] = [
    ("key removed from the user node", lambda s: _inject(s, _route(f"/{ADA_ID}"), _without("alias")),
     {("user.node", "shape", "$.alias")}),
    ("key renamed in the leaderboard list",
     lambda s: _inject(s, _route(f"/{APP_ID}/leaderboards", "entry_write_policy"),
                       _edit_data(lambda row: row.update(policy=row.pop("entry_write_policy")))),
     {("leaderboards.list", "shape", "$.data[].entry_write_policy"),
      ("leaderboards.list", "shape", "$.data[].policy")}),
    ("score as a string", lambda s: _inject(s, _route("/leaderboard_entries", "summary=true"),
                                            _edit_data(lambda row: row.update(score=str(row["score"])))),
     {("leaderboard_entries.first_page", "shape", "$.data[].score")}),
    ("error code changed", lambda s: _inject(s, lambda scope: scope["path"] == f"/{APP_ID}/leaderboards" and any(
        k.lower() == b"authorization" and v.endswith(b"0" * 32) for k, v in scope["headers"]), _error_code(102)),
     {("error.bad_token", "error", "type/code/subcode")}),
    ("status changed", lambda s: _inject(s, _route(f"/{APP_ID}/achievement_definitions"),
                                         lambda status, body: (203, body)),
     {("achievement_definitions", "status", "status")}),
    ("paging dropped", lambda s: _inject(s, _route("/leaderboard_entries", "summary=true"), _without("paging")),
     # Only the missing object itself: what it would have held is not a difference of its own. The next
     # page has no cursor on one side, so that step is skipped on both, not a difference.
     {("leaderboard_entries.first_page", "paging", "$.paging")}),
]


@pytest.mark.parametrize(("injection", "expected"), [pytest.param(i, e, id=name) for name, i, e in INJECTIONS])
def test_an_injected_difference_is_found_exactly(pair: tuple[RunningServer, RunningServer], injection: Injection,
                                                expected: set[tuple[str, str, str]]) -> None:
    target, local = pair
    undo = injection(local)
    try:
        result = run(_side(target), _side(local))
    finally:
        undo()
    assert {(d.step, d.kind, d.detail) for d in result.differences} == expected
