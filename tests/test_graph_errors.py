"""The error envelope (D6) and the status/type/code table (D7) on every kind of failure, over real HTTP,
including the 500 and 503 answers of a server whose internals are made to fail."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import (
    ADA_ID,
    ADA_TOKEN,
    ADMIN_KEY,
    APP_ID,
    APP_TOKEN,
    GRACE_TOKEN,
    RIVAL_APP_TOKEN,
    UNENTITLED_ID,
    RunningServer,
    assert_graph_error,
    database_failure,
    start_server,
)

BOARD = "best_leaderboard"
APP_AUTH = {"Authorization": f"Bearer {APP_TOKEN}"}
ENVELOPE_KEYS = {"message", "type", "code", "error_subcode", "is_transient", "error_data", "fbtrace_id"}
MAX_BODY = 4096


def assert_envelope(response: httpx.Response, status: int, code: int, type_: str, subcode: int | None = None,
                    transient: bool = False) -> dict[str, Any]:
    """D6: exactly the documented envelope, as JSON (never HTML), with the trace id in the header too."""
    error = assert_graph_error(response, status, code, type_, subcode)
    assert set(response.json()) == {"error"}
    assert set(error) <= ENVELOPE_KEYS, error
    assert {"message", "type", "code", "is_transient", "fbtrace_id"} <= set(error)
    if subcode is None:
        assert "error_subcode" not in error, error
    assert error["is_transient"] is transient
    assert error["fbtrace_id"].isalnum()
    assert "<html" not in response.text.lower() and "<!doctype" not in response.text.lower()
    assert "Traceback" not in response.text
    return error


# --- D6/D7 on the shared server: every client-side failure ----------------------------------------------------
NOT_FOUND = (404, 100, "GraphMethodException", 33)
NOT_ALLOWED = (405, 100, "GraphMethodException", None)
BAD_PARAM = (400, 100, "OCApiException", None)
NO_TOKEN = (401, 104, "OAuthException", None)
BAD_TOKEN = (401, 190, "OAuthException", None)
FORBIDDEN = (403, 200, "OAuthException", None)
NOT_ENTITLED = (403, 200, "OCApiException", None)

CASES: list[tuple[str, str, str, dict[str, Any], tuple[int, int, str, int | None]]] = [
    ("unknown route", "GET", "/no_such_edge", {"headers": APP_AUTH}, NOT_FOUND),
    ("unknown route without token", "GET", "/no_such_edge", {}, NOT_FOUND),
    ("unknown route, POST", "POST", "/leaderboard_submit_entries", {"headers": APP_AUTH}, NOT_FOUND),
    ("unknown edge of an id", "GET", f"/{APP_ID}/no_such_edge", {"headers": APP_AUTH}, NOT_FOUND),
    ("deep unknown path", "GET", "/a/b/c/d/e", {"headers": APP_AUTH}, NOT_FOUND),
    ("root", "GET", "/", {"headers": APP_AUTH}, NOT_FOUND),
    ("non-ascii path", "GET", "/%FF%FE", {"headers": APP_AUTH}, NOT_FOUND),
    ("unknown id", "GET", "/999999999999999", {"headers": APP_AUTH}, NOT_FOUND),
    ("unknown id, DELETE", "DELETE", "/999999999999998", {"headers": APP_AUTH}, NOT_FOUND),
    ("unknown api_name", "GET", "/leaderboard_entries", {"headers": APP_AUTH, "params": {"api_name": "nope"}},
     NOT_FOUND),
    ("unknown app in path", "GET", "/999999999999997/leaderboards", {"headers": APP_AUTH}, NOT_FOUND),
    ("PUT on a route", "PUT", "/leaderboard_entries", {"headers": APP_AUTH}, NOT_ALLOWED),
    ("PATCH on a route", "PATCH", "/leaderboard_submit_entry", {"headers": APP_AUTH}, NOT_ALLOWED),
    ("PUT on an id", "PUT", f"/{ADA_ID}", {"headers": APP_AUTH}, NOT_ALLOWED),
    ("PATCH on an edge", "PATCH", f"/{APP_ID}/leaderboards", {"headers": APP_AUTH}, NOT_ALLOWED),
    ("DELETE on a read", "DELETE", "/leaderboard_entries", {"headers": APP_AUTH}, NOT_ALLOWED),
    ("GET on a write", "GET", "/leaderboard_submit_entry", {"headers": APP_AUTH}, NOT_ALLOWED),
    ("POST on an id", "POST", "/999999999999999", {"headers": APP_AUTH}, NOT_ALLOWED),
    ("OPTIONS", "OPTIONS", "/leaderboard_entries", {}, NOT_ALLOWED),
    ("405 without token", "PUT", "/leaderboard_entries", {}, NOT_ALLOWED),
    ("missing parameter", "GET", "/leaderboard_entries", {"headers": APP_AUTH}, BAD_PARAM),
    ("malformed score", "POST", "/leaderboard_submit_entry",
     {"headers": APP_AUTH, "data": {"api_name": BOARD, "score": "12abc", "user_id": ADA_ID}}, BAD_PARAM),
    ("malformed JSON", "POST", "/leaderboard_submit_entry",
     {"headers": {**APP_AUTH, "Content-Type": "application/json"}, "content": b'{"api_name": '}, BAD_PARAM),
    ("JSON array body", "POST", "/leaderboard_submit_entry",
     {"headers": {**APP_AUTH, "Content-Type": "application/json"}, "content": b"[1, 2]"}, BAD_PARAM),
    ("JSON null body", "POST", "/leaderboard_submit_entry",
     {"headers": {**APP_AUTH, "Content-Type": "application/json"}, "content": b"null"}, BAD_PARAM),
    ("JSON not UTF-8", "POST", "/leaderboard_submit_entry",
     {"headers": {**APP_AUTH, "Content-Type": "application/json"}, "content": b'{"a": "\xff"}'}, BAD_PARAM),
    ("form not UTF-8", "POST", "/leaderboard_submit_entry",
     {"headers": {**APP_AUTH, "Content-Type": "application/x-www-form-urlencoded"}, "content": b"api_name=\xff"},
     BAD_PARAM),
    ("multipart without boundary", "POST", "/leaderboard_submit_entry",
     {"headers": {**APP_AUTH, "Content-Type": "multipart/form-data"}, "content": b"api_name=x"}, BAD_PARAM),
    ("malformed multipart", "POST", "/leaderboard_submit_entry",
     {"headers": {**APP_AUTH, "Content-Type": "multipart/form-data; boundary=zz"}, "content": b"not multipart"},
     BAD_PARAM),
    ("bad method override", "POST", "/leaderboard_entries", {"headers": APP_AUTH, "data": {"method": "PUT"}},
     BAD_PARAM),
    ("two tokens", "GET", "/leaderboard_entries",
     {"headers": APP_AUTH, "params": {"api_name": BOARD, "access_token": ADA_TOKEN}}, BAD_PARAM),
    ("bad cursor", "GET", "/leaderboard_entries", {"headers": APP_AUTH, "params": {"api_name": BOARD, "after": "!"}},
     BAD_PARAM),
    ("no token", "GET", "/leaderboard_entries", {"params": {"api_name": BOARD}}, NO_TOKEN),
    ("no token on an id", "DELETE", "/999999999999999", {}, NO_TOKEN),
    ("malformed token", "GET", "/leaderboard_entries",
     {"headers": {"Authorization": "Bearer not-a-token"}, "params": {"api_name": BOARD}}, BAD_TOKEN),
    ("wrong app secret", "GET", "/leaderboard_entries",
     {"params": {"api_name": BOARD, "access_token": f"OC|{APP_ID}|00000000000000000000000000000000"}}, BAD_TOKEN),
    ("another app's path", "GET", f"/{APP_ID}/leaderboards",
     {"headers": {"Authorization": f"Bearer {RIVAL_APP_TOKEN}"}}, FORBIDDEN),
    ("user token on a server-authoritative board", "POST", "/leaderboard_submit_entry",
     {"headers": {"Authorization": f"Bearer {GRACE_TOKEN}"}, "data": {"api_name": "server_board", "score": "1"}},
     FORBIDDEN),
    ("user token creating a board", "POST", f"/{APP_ID}/leaderboards",
     {"headers": {"Authorization": f"Bearer {ADA_TOKEN}"}, "data": {"api_name": "x", "sort_order": "HIGHER_IS_BETTER"}},
     FORBIDDEN),
    ("unentitled user", "POST", "/leaderboard_submit_entry",
     {"headers": APP_AUTH, "data": {"api_name": BOARD, "score": "1", "user_id": UNENTITLED_ID}}, NOT_ENTITLED),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_envelope_and_status(http: httpx.Client, method: str, path: str, kwargs: dict[str, Any],
                                   expected: tuple[int, int, str, int | None]) -> None:
    """D6/D7: each failure answers its D7 row inside the D6 envelope with an x-fb-trace-id header."""
    status, code, type_, subcode = expected
    response = http.request(method, path, **kwargs)
    assert_envelope(response, status, code, type_, subcode)


def test_trace_ids_are_fresh_per_request(http: httpx.Client) -> None:
    """D6: every answer carries its own trace id (successes too), never a constant."""
    seen = {http.get("/no_such_edge").headers["x-fb-trace-id"] for _ in range(5)}
    ok = http.get("/leaderboard_entries", headers=APP_AUTH, params={"api_name": BOARD})
    assert ok.status_code == 200
    seen.add(ok.headers["x-fb-trace-id"])
    assert len(seen) == 6
    assert all(len(t) == 23 for t in seen)


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "FOO"])
def test_any_other_http_method_is_a_json_405(http: httpx.Client, method: str) -> None:
    """D6: an HTTP method the server has no use for still gets the JSON envelope, not a framework body."""
    assert_envelope(http.request(method, "/leaderboard_entries", headers=APP_AUTH), *NOT_ALLOWED)


@pytest.mark.parametrize(("raw", "status"), [
    (b"GET /me HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n", 400),  # a malformed header
    (b"GET /me HTTP/9\r\n\r\n", 400),  # a malformed request line
    (b"FOO /me HTTP/1.1\r\nHost: x\r\n\r\n", 405),  # a method the C parser does not know
])
def test_a_request_the_http_parser_refuses_still_gets_the_envelope(qg: RunningServer, raw: bytes, status: int) -> None:
    """D6: what uvicorn's parser refuses before questgraph's code runs is answered in the Graph envelope too
    (server/http_protocol.py), never uvicorn's plain-text 400."""
    host, port = qg.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(raw)
        answer = b""
        while chunk := sock.recv(65536):  # the server closes the connection after its answer
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0].startswith(f"HTTP/1.1 {status} ")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    assert headers["content-type"].startswith("application/json")
    error = json.loads(body)["error"]
    assert error["code"] == 100 and error["type"] == ("GraphMethodException" if status == 405 else "OCApiException")
    assert len(error["fbtrace_id"]) == 23 and headers["x-fb-trace-id"] == error["fbtrace_id"]
    assert ("foo" in error["message"]) == (status == 405)  # a refused method is named, as every 405 does


def test_405_names_the_method(http: httpx.Client) -> None:
    """D6/D7: the 405 message says which method was refused."""
    error = assert_envelope(http.put("/leaderboard_entries"), *NOT_ALLOWED)
    assert "put" in error["message"].lower()


def test_404_message_names_the_id_and_the_path(http: httpx.Client) -> None:
    """D7: an unknown id's message names the id; an unknown route's names the path."""
    error = assert_envelope(http.get("/999999999999999", headers=APP_AUTH), *NOT_FOUND)
    assert "999999999999999" in error["message"]
    error = assert_envelope(http.get("/no_such_edge", headers=APP_AUTH), *NOT_FOUND)
    assert "no_such_edge" in error["message"]


def test_head_of_an_error_has_the_trace_header(http: httpx.Client) -> None:
    """D6: even a body-less HEAD error carries the JSON content type and the trace header."""
    response = http.head("/leaderboard_entries")
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("application/json")
    assert len(response.headers["x-fb-trace-id"]) == 23


def test_errors_never_echo_a_secret(http: httpx.Client) -> None:
    """D7: messages never echo a secret, whatever part of the request carried it."""
    secret = "5ecret5ecret5ecret5ecret5ecret99"
    response = http.get("/leaderboard_entries", params={"api_name": BOARD, "access_token": f"OC|{APP_ID}|{secret}"})
    assert_envelope(response, *BAD_TOKEN)
    assert secret not in response.text
    response = http.get("/leaderboard_entries", headers={"Authorization": f"Bearer {APP_TOKEN}"},
                        params={"api_name": BOARD, "access_token": f"OC|{APP_ID}|{secret}"})
    assert_envelope(response, *BAD_PARAM)
    assert secret not in response.text and APP_TOKEN not in response.text


def test_admin_and_health_paths_use_the_envelope(http: httpx.Client) -> None:
    """D6: the admin API and unknown health checks answer errors in the same envelope."""
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    assert_envelope(http.get("/_admin/no_such_thing", headers=admin), *NOT_FOUND)
    assert_envelope(http.get("/_admin/orgs"), *NO_TOKEN)
    assert_envelope(http.get("/_admin/orgs", headers={"Authorization": "Bearer wrong-key"}), *FORBIDDEN)
    assert_envelope(http.get("/_health/no_such_check"), *NOT_FOUND)


# --- D6/D7 on a private server whose internals fail -------------------------------------------------------------
@pytest.fixture(scope="module")
def private(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("errors"), max_body_bytes=MAX_BODY, backend=backend)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def client(private: RunningServer) -> Iterator[httpx.Client]:
    with private.client(headers=APP_AUTH) as c:
        yield c


def boom(*args: object, **kwargs: object) -> Any:
    raise RuntimeError("internal detail sk_live_do_not_leak")


def assert_internal_error(response: httpx.Response) -> None:
    """D7: 500, OCApiException, code 1, transient, and no internal detail leaks."""
    error = assert_envelope(response, 500, 1, "OCApiException", transient=True)
    assert "sk_live_do_not_leak" not in response.text
    assert "RuntimeError" not in response.text
    assert error["message"]


def test_500_from_a_feature_service(private: RunningServer, client: httpx.Client,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """D6/D7: an unexpected exception in a handler's service becomes the 500 envelope."""
    monkeypatch.setattr(private.server.leaderboards, "entries", boom)
    assert_internal_error(client.get("/leaderboard_entries", params={"api_name": BOARD}))
    monkeypatch.setattr(private.server.leaderboards, "submit", boom)
    assert_internal_error(client.post("/leaderboard_submit_entry",
                                      data={"api_name": BOARD, "score": "1", "user_id": ADA_ID}))


def test_500_from_object_dispatch(private: RunningServer, client: httpx.Client,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """D6/D7: a failure while dispatching GET/DELETE /{id} is a 500 envelope too."""
    monkeypatch.setattr(private.server.ids, "object_kind", boom)
    assert_internal_error(client.get("/999999999999999"))
    assert_internal_error(client.delete("/999999999999999"))


def test_500_from_authentication(private: RunningServer, client: httpx.Client,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """D6/D7: a bug while checking a token is a 500, not a 401 and not a framework page: on a route that reads
    the token for each trip and on one that takes its caller from the process's cache (issue 14)."""
    monkeypatch.setattr(private.server.auth, "_read_caller", boom)
    private.server.auth._cached.clear()
    assert_internal_error(client.get("/leaderboard_entries", params={"api_name": BOARD}))
    assert_internal_error(client.get(f"/{APP_ID}/leaderboards"))


def test_500_when_the_response_cannot_be_serialised(private: RunningServer, client: httpx.Client,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """D6: a handler result that is not JSON-serialisable still ends in the 500 envelope."""

    def unserialisable(*args: object, **kwargs: object) -> Any:
        return {"data": [object()]}

    monkeypatch.setattr(private.server.leaderboards, "boards", unserialisable)
    response = client.get(f"/{APP_ID}/leaderboards")
    assert_envelope(response, 500, 1, "OCApiException", transient=True)


def test_500_is_followed_by_normal_service(private: RunningServer, client: httpx.Client,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """D6: a 500 leaves the server healthy: once the fault is gone the same call succeeds."""
    with monkeypatch.context() as patch:
        patch.setattr(private.server.leaderboards, "entries", boom)
        assert_internal_error(client.get("/leaderboard_entries", params={"api_name": BOARD}))
    response = client.get("/leaderboard_entries", params={"api_name": BOARD})
    assert response.status_code == 200, response.text


def test_503_when_the_database_fails(private: RunningServer, client: httpx.Client,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """D7: a database error is 503, OCApiException, code 2, transient."""

    def locked(*args: object, **kwargs: object) -> Any:
        raise database_failure(private)

    monkeypatch.setattr(private.server.leaderboards, "entries", locked)
    response = client.get("/leaderboard_entries", params={"api_name": BOARD})
    error = assert_envelope(response, 503, 2, "OCApiException", transient=True)
    assert str(database_failure(private)) not in error["message"]  # the driver's text is not shown


def test_503_while_the_rank_index_is_not_ready(private: RunningServer, client: httpx.Client) -> None:
    """D7: while the rank index is being (re)built, Graph calls are 503 code 2 transient; health says so."""
    private.server.ready.clear()
    try:
        for response in (client.get("/leaderboard_entries", params={"api_name": BOARD}),
                         client.post("/leaderboard_submit_entry",
                                     data={"api_name": BOARD, "score": "1", "user_id": ADA_ID}),
                         client.get("/no_such_edge")):
            assert_envelope(response, 503, 2, "OCApiException", transient=True)
        health = client.get("/_health/ready")
        assert health.status_code == 503
        assert health.json()["status"] == "starting"
    finally:
        private.server.ready.set()
    assert client.get("/leaderboard_entries", params={"api_name": BOARD}).status_code == 200


@pytest.mark.parametrize("kind", ["form", "json", "multipart", "chunked"])
def test_body_over_the_limit_is_a_400(client: httpx.Client, kind: str) -> None:
    """D6/D7: a body larger than the configured limit is a 400 envelope, whatever its encoding, with or
    without a Content-Length."""
    big = "x" * (MAX_BODY + 100)
    if kind == "form":
        response = client.post("/leaderboard_submit_entry", data={"api_name": big})
    elif kind == "json":
        response = client.post("/leaderboard_submit_entry", content=json.dumps({"api_name": big}).encode(),
                               headers={"Content-Type": "application/json"})
    elif kind == "multipart":
        response = client.post("/leaderboard_submit_entry", data={"api_name": BOARD},
                               files={"icon": ("icon.png", big.encode(), "image/png")})
    else:
        def stream() -> Iterator[bytes]:
            for _ in range(4):
                yield b"api_name=" + b"y" * (MAX_BODY // 2)

        response = client.post("/leaderboard_submit_entry", content=stream(),
                               headers={"Content-Type": "multipart/form-data; boundary=zz"})
        assert "content-length" not in response.request.headers
    error = assert_envelope(response, 400, 100, "OCApiException")
    assert str(MAX_BODY) in error["message"]


def test_unknown_kind_of_object_is_404(client: httpx.Client) -> None:
    """D9/D7: an existing id of a kind with no GET /{id} view (here an organization) is 404 (33), like an
    unknown id: the id namespace is shared but not every kind is readable."""
    response = client.get("/1000000000000001")
    assert_envelope(response, *NOT_FOUND)
