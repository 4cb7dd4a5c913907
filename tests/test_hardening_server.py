"""What the server does with requests that are not about the API: a request inspector that stays bounded
whatever a request carries, a client that leaves mid-body, and a database that refuses a value, on both
backends (D6, D7, D11)."""

from __future__ import annotations

import logging
import re
import socket
import time
from urllib.parse import urlencode

import httpx
import psycopg
import pytest

from questgraph.server.auth.callers import AppCaller
from questgraph.server.dashboard import inspector as inspector_module
from questgraph.server.dashboard.inspector import (
    MAX_NAME_CHARS,
    MAX_PARAMS,
    MAX_RESPONSE_CHARS,
    MAX_VALUE_CHARS,
    RequestInspector,
)
from questgraph.server.identity.records import App
from tests.conftest import ADA_TOKEN, APP_ID, APP_TOKEN, RunningServer, assert_graph_error

BOARD = "best_leaderboard"
CUT_SUFFIX = len("… (1000000000 chars)")  # what a cut value or name gains


# --- the request inspector ------------------------------------------------------------------------------------
def test_one_inspected_request_is_bounded_whatever_it_carries(qg: RunningServer, http: httpx.Client) -> None:
    """A request with tens of thousands of parameters, names and values of any length (a 10 MiB form body)
    leaves a record of at most MAX_PARAMS parameters (then one saying how many more there were), names cut
    at MAX_NAME_CHARS, values at MAX_VALUE_CHARS and the response at MAX_RESPONSE_CHARS."""
    pairs = [("api_name", BOARD), ("method", "GET"), ("access_token", APP_TOKEN)]
    pairs += [(f"k{n:05d}" + "n" * 300, "v" * 700) for n in range(9000)]
    response = http.post("/leaderboard_entries", content=urlencode(pairs),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200, response.text
    record = qg.server.inspector.recent(int(APP_ID))[0]
    assert record.path == "/leaderboard_entries"
    assert len(record.params) == MAX_PARAMS + 1
    assert record.params[0] == ("api_name", BOARD)
    assert record.params[-1] == ("…", f"{9000 + 2 - MAX_PARAMS} more parameters not kept")
    assert all(len(k) <= MAX_NAME_CHARS + CUT_SUFFIX and len(v) <= MAX_VALUE_CHARS + CUT_SUFFIX
               for k, v in record.params)
    assert record.params[5][0].startswith("k00003nnn") and record.params[5][0].endswith("… (306 chars)")
    assert len(record.response) <= MAX_RESPONSE_CHARS + CUT_SUFFIX
    assert "access_token" not in dict(record.params)


def test_one_apps_ring_is_bounded_in_size_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """Beside the number of records (N), what one app's ring holds is at most MAX_RING_CHARS of kept text:
    the oldest records leave first, the newest one always stays; other apps' rings are their own."""
    monkeypatch.setattr(inspector_module, "MAX_RING_CHARS", 200_000)
    inspector = RequestInspector(size=10_000)
    big = [(f"p{n}", "x" * 600) for n in range(MAX_PARAMS)]  # ~ 60 000 characters per record
    for app_id in (1, 2):
        for n in range(50):
            inspector.record(at_us=n, caller=AppCaller(App(app_id, 1, "a", "h", 0)), method="POST", path=f"/p{n}",
                             params=big, token=APP_TOKEN, token_source="query", status=200, body=b"{}",
                             latency_ms=1.0, trace_id=str(n))
    for app_id in (1, 2):
        kept = inspector.recent(app_id)
        assert [r.path for r in kept] == ["/p49", "/p48", "/p47"]  # 3 × ~60 000 fit in 200 000, 4 do not
        assert sum(inspector_module._chars(r) for r in kept) <= 200_000
    assert inspector._chars == {1: sum(inspector_module._chars(r) for r in inspector.recent(1)),
                                2: sum(inspector_module._chars(r) for r in inspector.recent(2))}
    inspector.clear()
    assert inspector.recent(1) == [] and inspector._chars == {}


# --- a client that leaves mid-body ----------------------------------------------------------------------------
def requests_counted(http: httpx.Client, route: str, status: int) -> float:
    text = http.get("/metrics").text
    line = f'questgraph_requests_total{{method="POST",route="{route}",status="{status}"}} '
    found = re.search("^" + re.escape(line) + r"(\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


@pytest.mark.parametrize(("path", "body"), [("/leaderboard_submit_entry", "form"),
                                            ("/leaderboard_submit_entry", "multipart"),
                                            ("/leaderboard_submit_entry", "chunked"),
                                            ("/sso/login", "form")])  # the SSO page reads its own forms
def test_a_client_that_disconnects_mid_body_is_not_an_internal_error(
        qg: RunningServer, http: httpx.Client, caplog: pytest.LogCaptureFixture, path: str, body: str) -> None:
    """No answer can be sent to it: counted as status 499 (nginx's "client closed request"), never as a
    500, and logged as one line at info, without a traceback."""
    route = "/sso" if path.startswith("/sso") else path  # the SSO pages share one metrics label
    before = {status: requests_counted(http, route, status) for status in (499, 500)}
    head = {"form": "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n",
            "multipart": "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n",
            "chunked": "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n"}[body]
    half = b"api_name=best_leaderboard&score=1&extra=" + b"x" * 20_000
    if body == "chunked":
        half = b"%x\r\n" % len(half) + half + b"\r\n"
    with caplog.at_level(logging.INFO, logger="questgraph"):
        with socket.create_connection(("127.0.0.1", qg.settings.port)) as sock:
            sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {APP_TOKEN}\r\n{head}\r\n"
                         .encode() + half)
            time.sleep(0.2)  # the server has begun reading the body
        deadline = time.monotonic() + 10
        while requests_counted(http, route, 499) == before[499]:
            assert time.monotonic() < deadline, "the disconnect was never counted"
            time.sleep(0.05)
    assert requests_counted(http, route, 499) == before[499] + 1
    assert requests_counted(http, route, 500) == before[500]
    records = [r for r in caplog.records if r.name.startswith("questgraph") and r.levelno >= logging.INFO
               and "access" not in r.name]
    assert [r.levelno for r in records] == [logging.INFO], [r.getMessage() for r in records]
    assert "closed the connection" in records[0].getMessage() and records[0].exc_info is None


# --- a database that refuses a value -------------------------------------------------------------------------
def test_a_value_the_database_refuses_is_not_transient(qg: RunningServer, http: httpx.Client,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A psycopg DataError (PostgreSQL's class 22: a NUL in text, a number out of range) is caused by the
    request's value: retrying cannot help, so it is a 400 code 100 with is_transient false, not the 503 of
    a database failure. (The parameter layer refuses what it knows first; this is what it would miss.)"""
    def refuse(token: str) -> None:
        raise psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")

    monkeypatch.setattr(qg.server.auth, "authenticate", refuse)
    response = http.get("/me", headers={"Authorization": f"Bearer {ADA_TOKEN}"})
    error = assert_graph_error(response, 400, 100, "OCApiException")
    assert error["is_transient"] is False
    assert "database" in error["message"] and "NUL" not in error["message"]


# --- SQLite durability ------------------------------------------------------------------------------------
@pytest.mark.sqlite_only
def test_sqlite_runs_with_full_sync_in_wal_mode(qg: RunningServer) -> None:
    """The storage contract (an answer only for a durable write) holds on SQLite only with synchronous=FULL
    (an fsync at every commit; NORMAL may lose the last commits to a power cut in WAL mode) and the WAL
    journal (readers never block the writer). Read back from the running server's own connection."""
    assert qg.server.db.one("PRAGMA synchronous")[0] == 2  # FULL
    assert str(qg.server.db.one("PRAGMA journal_mode")[0]).lower() == "wal"
