"""``questgraph conformance`` (issue 18, part 3), with no internet: two questgraph servers on the same world
stand for the target and the questgraph. Identical ones differ nowhere; a test-only ASGI wrapper around the
second one's app injects one difference (a key renamed or removed, a type changed, a status or error code
changed, paging dropped), and the run must report exactly that difference, nothing more.

An injection is any callable that changes the second server for the run and returns an undo: a rewrite of
its answers, or a rule of its own fault injection through the admin API."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

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
    assert result.differences == [], [(r.step.name, r.differences) for r in result.results if r.differences]
    # Every default step ran, with real answers: successes where the call is fine, Graph errors where not.
    assert [r.step.name for r in result.results] == [s.name for s in read_steps()]
    assert all(r.skipped is None for r in result.results), [(r.step.name, r.skipped) for r in result.results]
    by_name = {r.step.name: r for r in result.results}
    assert by_name["leaderboards.list"].local.body["data"][0]["api_name"]  # type: ignore[union-attr]
    first = by_name["leaderboard_entries.first_page"].local
    assert first is not None and len(first.body["data"]) == 1 and first.body["paging"]["next"]
    assert by_name["leaderboard_entries.next_page"].local.body["data"][0]["score"] == 200  # type: ignore[union-attr]
    assert by_name["me"].target.body["id"] == ADA_ID  # type: ignore[union-attr]
    for name, code in (("error.bad_token", 190), ("error.unknown_field", 100), ("error.bad_param", 100)):
        assert by_name[name].target.error()[1] == code, name  # type: ignore[union-attr, index]
    assert by_name["error.no_token"].target.status in (400, 401)  # type: ignore[union-attr, operator]
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


def _fault(**rule: str) -> Callable[[RunningServer], Callable[[], None]]:
    """A fault rule of the server's own fault injection (docs/fault-injection.md), removed by the undo."""
    def inject(server: RunningServer) -> Callable[[], None]:
        with server.admin() as admin:
            admin.post("/_admin/faults", data=rule).raise_for_status()

        def undo() -> None:
            with server.admin() as admin:
                admin.delete("/_admin/faults").raise_for_status()
        return undo
    return inject


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
    # The server's own fault injection (issue 18): a Meta-shaped 503 on one route is found there only.
    ("injected 503", _fault(route="GET /{app_id}/achievement_definitions", status="503"),
     # An error where the target answered data: its status, its error, and the shape it lacks, on that one
     # step and no other.
     {("achievement_definitions", "status", "status"), ("achievement_definitions", "error", "type/code/subcode"),
      ("achievement_definitions", "shape", "$.error"), ("achievement_definitions", "shape", "$.data"),
      ("achievement_definitions", "paging", "$.paging")}),
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


# --- the writing steps ----------------------------------------------------------------------------------------
def _boards(server: RunningServer) -> list[str]:
    with server.client(headers={"Authorization": f"Bearer OC|{APP_ID}|{APP_SECRET}"}) as http:
        boards = http.get(f"/{APP_ID}/leaderboards", params={"fields": "api_name"}).json()["data"]
        return [b["api_name"] for b in boards]


def _unlocked(server: RunningServer) -> list[str]:
    with server.client(headers={"Authorization": f"Bearer OC|{APP_ID}|{APP_SECRET}"}) as http:
        rows = http.get(f"/{ADA_ID}/achievements", params={"fields": "api_name,is_unlocked"}).json()["data"]
        return [r["api_name"] for r in rows if r["is_unlocked"]]


def test_the_writing_steps_run_only_when_asked_and_clean_up(pair: tuple[RunningServer, RunningServer]) -> None:
    target, local = pair
    before = [_boards(s) for s in pair]
    with pytest.raises(ValueError, match="--test-app"):
        run(_side(target), _side(local), write=True)  # no test app named
    with pytest.raises(ValueError, match="--test-app"):
        run(_side(target), _side(local), write=True, test_app="999")  # not the target's app

    result = run(_side(target, achievement="FIRST_WIN"), _side(local, achievement="FIRST_WIN"), write=True,
                 test_app=APP_ID)
    assert result.differences == [] and result.cleanup_problems == []
    writes = {r.step.name: r for r in result.results if r.step.name.startswith("write.")}
    assert len(writes) == 7 and all(r.skipped is None for r in writes.values())
    assert all(r.local.status == 200 for r in writes.values()), {  # type: ignore[union-attr]
        n: r.local.body for n, r in writes.items()}  # type: ignore[union-attr]
    read = writes["write.read_entries"].local.body  # type: ignore[union-attr]
    assert [(e["score"], e["user"]["id"]) for e in read["data"]] == [(42, ADA_ID)]
    assert writes["write.achievement_read"].local.body["data"][0]["is_unlocked"] is True  # type: ignore[union-attr]
    # Cleaned up: the scratch board is gone and the achievement is locked again, on both.
    assert [_boards(s) for s in pair] == before
    assert _unlocked(target) == _unlocked(local) == []


def _refusing(app: App, applies: Callable[[Scope], bool], times: int) -> App:
    """``app`` answering the first ``times`` requests ``applies`` picks with a 500 itself: they never arrive."""
    left = [times]

    async def wrapped(scope: Scope, receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]],
                      ) -> None:
        if scope["type"] == "http" and applies(scope) and left[0] > 0:
            left[0] -= 1
            raw = b'{"error":{"message":"injected","type":"OAuthException","code":1}}'
            await send({"type": "http.response.start", "status": 500,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(raw)).encode())]})
            await send({"type": "http.response.body", "body": raw})
            return
        await app(scope, receive, send)
    return wrapped


def test_a_failed_delete_is_cleaned_up_in_finally(pair: tuple[RunningServer, RunningServer]) -> None:
    target, local = pair
    before = _boards(local)
    config = local._uvicorn.config
    original = config.loaded_app
    config.loaded_app = _refusing(original, lambda scope: scope["method"] == "DELETE", times=1)
    try:
        result = run(_side(target), _side(local), write=True, test_app=APP_ID)
    finally:
        config.loaded_app = original
    # The injected 500's envelope is a thin one, so its shape differs too; only that step differs.
    assert {(d.step, d.kind) for d in result.differences} == {("write.leaderboard_delete", "status"),
                                                             ("write.leaderboard_delete", "error"),
                                                             ("write.leaderboard_delete", "shape")}
    skipped = {r.step.name for r in result.results if r.skipped}
    assert skipped == {"write.achievement_unlock", "write.achievement_read"}  # no achievement named
    assert result.cleanup_problems == [] and _boards(local) == before


# --- the report and the command ------------------------------------------------------------------------------
def _argv(target: RunningServer, local: RunningServer, *extra: str) -> list[str]:
    argv = ["conformance", "--target", target.url, "--against", local.url]
    for side in ("target", "local"):
        argv += [f"--{side}-app-id", APP_ID, f"--{side}-app-secret", APP_SECRET, f"--{side}-user-token", ADA_TOKEN,
                 f"--{side}-leaderboard", "best_leaderboard"]
    return argv + list(extra)


def test_the_command_json_report_and_exit_codes(pair: tuple[RunningServer, RunningServer], tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    target, local = pair
    out = tmp_path / "report.json"
    assert main(_argv(target, local, "--json", "--out", str(out))) == 0
    printed = capsys.readouterr().out
    report = json.loads(printed)
    assert json.loads(out.read_text()) == report
    summary = report["summary"]
    assert set(summary) == {"date", "target", "questgraph", "questgraph_version", "writing_steps", "steps",
                            "compared", "skipped", "steps_differing", "differences", "cleanup_problems"}
    assert (summary["target"], summary["questgraph"], summary["writing_steps"]) == (target.url, local.url, False)
    assert summary["steps"] == summary["compared"] == len(read_steps()) and summary["differences"] == 0
    assert summary["date"].endswith("Z") and len(summary["date"]) == 20
    step = report["steps"][0]
    assert set(step) == {"name", "method", "path", "outcome", "skipped", "target_status", "questgraph_status",
                         "differences"}
    assert {s["outcome"] for s in report["steps"]} == {"same"}

    undo = INJECTIONS[0][1](local)
    try:
        assert main(_argv(target, local)) == 1  # differences: exit 1, and the table says where
    finally:
        undo()
    table = capsys.readouterr().out
    assert "1 difference(s) in 1 step(s)" in table
    assert [line.split()[:3] for line in table.splitlines() if " shape " in line] == [["user.node", "shape", "$.alias"]]

    assert main(["conformance", "--target", target.url, "--against", local.url]) == 2  # no credentials
    assert "missing --target-app-id, --target-app-secret, --target-user-token" in capsys.readouterr().err
    assert main(_argv(target, local, "--write")) == 2
    assert "--test-app" in capsys.readouterr().err
    assert main(_argv(target, local, "--against", "127.0.0.1:8080")) == 2
    assert "'127.0.0.1:8080' is not a base URL" in capsys.readouterr().err


def test_no_secret_is_ever_in_the_report(pair: tuple[RunningServer, RunningServer], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Even a server that puts the caller's token and secret in its keys (so in the paths the report names)
    does not get them printed or written: the table and the JSON name them [redacted]."""
    target, local = pair

    def leak(status: int, body: Any) -> tuple[int, Any]:
        body[ADA_TOKEN] = APP_SECRET
        body[f"OC|{APP_ID}|{APP_SECRET}"] = 1
        return status, body

    undo = _inject(local, _route("/me"), leak)
    try:
        for flag in ("--json", "--no-json"):
            out = tmp_path / f"report{flag}"
            argv = _argv(target, local, "--out", str(out)) + (["--json"] if flag == "--json" else [])
            assert main(argv) == 1
            printed = capsys.readouterr().out
            for text in (printed, out.read_text()):
                assert "[redacted]" in text
                assert APP_SECRET not in text and ADA_TOKEN not in text and "OC|" not in text
    finally:
        undo()
    result = run(_side(target), _side(local))  # paging links hold the token (D21): never reported either
    for text in (render_table(result, []), render_json(result, [])):
        assert APP_SECRET not in text and ADA_TOKEN not in text


def test_a_target_that_does_not_answer_is_a_transport_difference(pair: tuple[RunningServer, RunningServer]) -> None:
    from tests.conftest import free_port

    _, local = pair
    result = run(Side(f"http://127.0.0.1:{free_port()}", APP_ID, APP_SECRET, ADA_TOKEN,
                      leaderboard="best_leaderboard", user_id=ADA_ID), _side(local), timeout=2)
    assert {d.kind for d in result.differences} == {"transport"}
    assert {d.target for d in result.differences} == {"ConnectError"}
