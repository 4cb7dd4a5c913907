"""Every authentication rule, attacked over real HTTP: app tokens ``OC|app_id|secret`` and user tokens
(D4, D11), the D7 answers to bad ones, secret rotation (D12), token expiry on the emulator clock (D36),
cross-app isolation, and the promise that secrets and tokens are never stored in the clear, never logged
and never echoed (D7, D11), plus the shapes of minted secrets, tokens and object ids (D9, D11)."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import signal
import sqlite3
import string
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import (
    ADA_ID,
    ADA_TOKEN,
    ADMIN_KEY,
    APP_ID,
    APP_SECRET,
    APP_TOKEN,
    GRACE_TOKEN,
    LINUS_TOKEN,
    RIVAL_APP_ID,
    RIVAL_APP_TOKEN,
    RIVAL_TOKEN,
    UNENTITLED_TOKEN,
    WORLD_FILE,
    RunningServer,
    assert_graph_error,
    database_failure,
    free_port,
    start_server,
)

RIVAL_SECRET = RIVAL_APP_TOKEN.rsplit("|", 1)[1]
UNKNOWN_APP_ID = "1999999999999999"
PROBE = f"/{APP_ID}/leaderboards"  # answers 200 to any valid token of the app, app or user
WORLD_SECRETS = [APP_SECRET, RIVAL_SECRET, ADA_TOKEN, GRACE_TOKEN, LINUS_TOKEN, UNENTITLED_TOKEN, RIVAL_TOKEN]
SECRET_SHAPE = re.compile(r"[0-9a-f]{32}")
USER_TOKEN_SHAPE = re.compile(r"OC[A-Za-z0-9]{80,}")
OBJECT_ID_SHAPE = re.compile(r"[0-9]{15,17}")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def random_user_token() -> str:
    return "OC" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(96))


def rotate(admin: httpx.Client, app_id: str = APP_ID, **data: str) -> str:
    response = admin.post(f"/_admin/apps/{app_id}/secret", data=data)
    assert response.status_code == 200, response.text
    return str(response.json()["secret"])


def mint(admin: httpx.Client, user_id: str = ADA_ID, **data: str) -> str:
    response = admin.post(f"/_admin/users/{user_id}/tokens", data=data)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def assert_invalid_token(response: httpx.Response, *never_echoed: str) -> None:
    """401, OAuthException, code 190 (D7), and the message repeats none of the secrets tried."""
    error = assert_graph_error(response, 401, 190, "OAuthException")
    for secret in never_echoed:
        assert secret not in response.text, error


# --- app tokens ------------------------------------------------------------------------------------------
def test_a_valid_app_token_works_in_every_place_a_client_puts_it(http: httpx.Client) -> None:
    """D4: query, body, Bearer and OAuth headers, with ``|`` raw or as %7C. The baseline that makes the
    failures below mean something."""
    encoded = APP_TOKEN.replace("|", "%7C")
    attempts = [
        http.get(PROBE, params={"access_token": APP_TOKEN}),
        http.get(f"{PROBE}?access_token={encoded}"),
        http.post(PROBE, data={"access_token": APP_TOKEN, "method": "GET"}),
        http.get(PROBE, headers=bearer(APP_TOKEN)),
        http.get(PROBE, headers=bearer(encoded)),
        http.get(PROBE, headers={"Authorization": f"OAuth {APP_TOKEN}"}),
    ]
    for response in attempts:
        assert response.status_code == 200, response.text
        assert [b["id"] for b in response.json()["data"]]  # the app's own boards


def test_no_token_is_401_code_104(http: httpx.Client) -> None:
    """D7: a missing token is its own case (104), not a bad token (190)."""
    assert_graph_error(http.get(PROBE), 401, 104, "OAuthException")
    assert_graph_error(http.get(PROBE, headers={"Authorization": "Bearer"}), 401, 104, "OAuthException")
    assert_graph_error(http.get(PROBE, params={"access_token": ""}), 401, 104, "OAuthException")


@pytest.mark.parametrize("token", [
    pytest.param(f"OC|{APP_ID}|{APP_SECRET[:-1]}{'0' if APP_SECRET[-1] != '0' else '1'}", id="wrong-secret"),
    pytest.param(f"OC|{UNKNOWN_APP_ID}|{APP_SECRET}", id="unknown-app"),
    pytest.param(f"OC|{APP_ID}|{RIVAL_SECRET}", id="another-apps-secret"),
    pytest.param(f"OC|{RIVAL_APP_ID}|{APP_SECRET}", id="this-secret-other-app"),
    pytest.param(f"OC|{APP_ID}|{APP_SECRET[:-1]}", id="truncated-secret"),
    pytest.param(f"OC|{APP_ID}|{APP_SECRET[:8]}", id="secret-prefix"),
    pytest.param(f"OC|{APP_ID}|{APP_SECRET}0", id="secret-with-extra-char"),
    pytest.param(f"OC|{APP_ID}|{APP_SECRET.upper()}", id="secret-other-case"),
    pytest.param(f"OC|{APP_ID}|", id="empty-secret"),
    pytest.param(f"OC|{APP_ID}", id="no-secret"),
    pytest.param(f"OC||{APP_SECRET}", id="no-app-id"),
    pytest.param(f"oc|{APP_ID}|{APP_SECRET}", id="lowercase-prefix"),
    pytest.param(f"OC|{APP_ID}|{APP_SECRET}|extra", id="four-parts"),
    pytest.param(f"OC|9999999999999999999|{APP_SECRET}", id="app-id-beyond-int64"),
    pytest.param(f"OC|{'9' * 25}|{APP_SECRET}", id="app-id-too-long"),
])
def test_a_bad_app_token_is_401_code_190(http: httpx.Client, token: str) -> None:
    """D7: malformed, unknown or wrong-secret app tokens are 401/190 (never a 500, never 200), on reads
    and writes alike, and the error does not repeat the secret that was tried."""
    tried_secret = token.rsplit("|", 1)[-1]
    echo = [tried_secret] if len(tried_secret) >= 8 else []
    assert_invalid_token(http.get(PROBE, headers=bearer(token)), *echo, APP_SECRET)
    write = http.post("/leaderboard_submit_entry", headers=bearer(token),
                      data={"api_name": "best_leaderboard", "score": "5", "user_id": ADA_ID})
    assert_invalid_token(write, *echo, APP_SECRET)
    # Nothing was written by the refused call.
    board = http.get("/leaderboard_entries", headers=bearer(APP_TOKEN), params={"api_name": "best_leaderboard"})
    assert board.json()["data"] == []


def test_unknown_app_and_wrong_secret_cannot_be_told_apart(http: httpx.Client) -> None:
    """D7: the answer to a wrong secret must not reveal that the app id exists."""
    unknown = http.get(PROBE, headers=bearer(f"OC|{UNKNOWN_APP_ID}|{APP_SECRET}")).json()["error"]
    wrong = http.get(PROBE, headers=bearer(f"OC|{APP_ID}|{RIVAL_SECRET}")).json()["error"]
    assert (unknown["message"], unknown["code"], unknown["type"]) == (wrong["message"], wrong["code"], wrong["type"])


def test_rotating_a_secret_switches_at_once(http: httpx.Client, admin: httpx.Client) -> None:
    """D12: the new secret works on the very next call and the old one fails on it with 401/190."""
    assert http.get(PROBE, headers=bearer(APP_TOKEN)).status_code == 200
    response = admin.post(f"/_admin/apps/{APP_ID}/secret")
    assert response.status_code == 200, response.text
    body = response.json()
    new_secret = body["secret"]
    assert SECRET_SHAPE.fullmatch(new_secret) and new_secret != APP_SECRET
    assert body["app_access_token"] == f"OC|{APP_ID}|{new_secret}"
    assert http.get(PROBE, headers=bearer(body["app_access_token"])).status_code == 200
    assert_invalid_token(http.get(PROBE, headers=bearer(APP_TOKEN)), APP_SECRET, new_secret)
    # Writes follow the same rule.
    write = {"api_name": "best_leaderboard", "score": "7", "user_id": ADA_ID}
    assert_invalid_token(http.post("/leaderboard_submit_entry", headers=bearer(APP_TOKEN), data=write))
    assert http.post("/leaderboard_submit_entry", headers=bearer(body["app_access_token"]),
                     data=write).status_code == 200
    # A second rotation retires the first new secret just as fast; a chosen secret is honoured.
    chosen = "aBcD" * 8
    assert rotate(admin, secret=chosen) == chosen
    assert_invalid_token(http.get(PROBE, headers=bearer(body["app_access_token"])))
    assert http.get(PROBE, headers=bearer(f"OC|{APP_ID}|{chosen}")).status_code == 200


def test_rotation_touches_only_that_app_secret(http: httpx.Client, admin: httpx.Client) -> None:
    """D12: rotating app A's secret leaves app B's secret and the users' tokens of A valid (a user token
    is not derived from the app secret)."""
    rotate(admin)
    assert http.get(f"/{RIVAL_APP_ID}/leaderboards", headers=bearer(RIVAL_APP_TOKEN)).status_code == 200
    assert http.get(PROBE, headers=bearer(ADA_TOKEN)).status_code == 200


def test_rotation_of_an_unknown_app_is_404(admin: httpx.Client) -> None:
    assert_graph_error(admin.post(f"/_admin/apps/{UNKNOWN_APP_ID}/secret"), 404, 100)


# --- user tokens -----------------------------------------------------------------------------------------
def test_valid_user_tokens_of_both_prefixes_work(http: httpx.Client) -> None:
    """D11: ``OC…`` and ``FRL…`` tokens both name a user of the app."""
    for token in (ADA_TOKEN, GRACE_TOKEN):
        assert http.get(PROBE, headers=bearer(token)).status_code == 200


@pytest.mark.parametrize("token", [
    pytest.param(random_user_token(), id="unknown"),
    pytest.param("XY" + ADA_TOKEN[2:], id="wrong-prefix"),
    pytest.param("oc" + ADA_TOKEN[2:], id="lowercase-prefix"),
    pytest.param("FRL" + ADA_TOKEN[2:], id="other-known-prefix"),
    pytest.param(ADA_TOKEN[3:], id="prefix-cut"),
    pytest.param(ADA_TOKEN[:-1], id="truncated"),
    pytest.param(ADA_TOKEN + "A", id="one-char-longer"),
    pytest.param(ADA_TOKEN.lower(), id="other-case"),
    pytest.param(ADA_TOKEN[:20], id="too-short"),
    pytest.param(ADA_TOKEN + "-", id="bad-character"),
    pytest.param("OC" + "A" * 300, id="too-long"),
])
def test_a_bad_user_token_is_401_code_190(http: httpx.Client, token: str) -> None:
    """D7/D11: only the exact stored token works; near misses are 401/190 and are not echoed."""
    assert_invalid_token(http.get(PROBE, headers=bearer(token)), token, ADA_TOKEN)
    write = http.post("/leaderboard_submit_entry", data={"access_token": token, "api_name": "best_leaderboard",
                                                         "score": "1"})
    assert_invalid_token(write, token, ADA_TOKEN)


def test_a_user_token_expires_exactly_at_its_ttl(http: httpx.Client, admin: httpx.Client) -> None:
    """D36: a token minted with ``ttl_seconds`` works until the emulator clock reaches its expiry, then is
    401/190; the clock moves, nobody sleeps."""
    assert admin.post("/_admin/clock", data={"set": "1900000000"}).status_code == 200
    token = mint(admin, ttl_seconds="100")
    assert http.get(PROBE, headers=bearer(token)).status_code == 200
    assert admin.post("/_admin/clock", data={"advance_seconds": "98"}).status_code == 200
    assert http.get(PROBE, headers=bearer(token)).status_code == 200, "expired too early"
    assert admin.post("/_admin/clock", data={"advance_seconds": "2"}).status_code == 200
    response = http.get(PROBE, headers=bearer(token))
    assert_invalid_token(response, token)
    assert "expired" in response.json()["error"]["message"].lower()
    # The world's tokens (no ttl) and a token minted without ttl do not expire with the clock.
    lasting = mint(admin)
    assert admin.post("/_admin/clock", data={"advance_seconds": str(10 * 365 * 86400)}).status_code == 200
    assert http.get(PROBE, headers=bearer(lasting)).status_code == 200
    assert http.get(PROBE, headers=bearer(ADA_TOKEN)).status_code == 200


def test_tokens_of_one_app_get_nothing_of_another(http: httpx.Client) -> None:
    """D7: a token of app A on app B's path is a 403/200; on an app id that does not exist a 404; and a
    by-name read answers from the token's own app only."""
    for token in (ADA_TOKEN, APP_TOKEN):
        assert_graph_error(http.get(f"/{RIVAL_APP_ID}/leaderboards", headers=bearer(token)), 403, 200,
                           "OAuthException")
        assert_graph_error(http.post(f"/{RIVAL_APP_ID}/leaderboards", headers=bearer(token),
                                     data={"api_name": "stolen", "sort_order": "HIGHER_IS_BETTER"}), 403, 200)
        assert_graph_error(http.get(f"/{UNKNOWN_APP_ID}/leaderboards", headers=bearer(token)), 404, 100)
    assert_graph_error(http.get(PROBE, headers=bearer(RIVAL_TOKEN)), 403, 200, "OAuthException")
    rival_boards = http.get(f"/{RIVAL_APP_ID}/leaderboards", headers=bearer(RIVAL_APP_TOKEN),
                            params={"fields": "id,api_name"}).json()["data"]
    for token in (ADA_TOKEN, APP_TOKEN):
        assert_graph_error(http.get(f"/{rival_boards[0]['id']}", headers=bearer(token)), 403, 200)
        # Both apps have a best_leaderboard; the rival's holds a 999999, ours is empty.
        page = http.get("/leaderboard_entries", headers=bearer(token),
                        params={"api_name": "best_leaderboard", "fields": "score"})
        assert page.status_code == 200 and page.json()["data"] == []
    # The rival board was not written by the attempts above.
    page = http.get("/leaderboard_entries", headers=bearer(RIVAL_APP_TOKEN),
                    params={"api_name": "best_leaderboard", "fields": "score"})
    assert [row["score"] for row in page.json()["data"]] == [999999]
    assert [b["api_name"] for b in rival_boards] == ["best_leaderboard"]


# --- nothing in the clear --------------------------------------------------------------------------------
def make_fresh_secrets(admin: httpx.Client) -> list[str]:
    """A new app's secret, a rotated secret and a minted user token, made through the admin API."""
    made = admin.post("/_admin/orgs/1000000000000001/apps", data={"name": "Fresh"})
    assert made.status_code == 200, made.text
    return [made.json()["secret"], rotate(admin, RIVAL_APP_ID), mint(admin, ttl_seconds="3600"), mint(admin)]


def test_the_snapshot_holds_no_plain_secret_or_token(http: httpx.Client, admin: httpx.Client) -> None:
    """D11: secrets and tokens are stored only as hashes, so an export of the whole database (the admin
    snapshot) contains none of them, neither the world file's nor those made later."""
    fresh = make_fresh_secrets(admin)
    for token in fresh[2:]:
        assert http.get(PROBE, headers=bearer(token)).status_code == 200  # they are real, working tokens
    text = admin.get("/_admin/snapshot").text
    assert APP_ID in text and '"ada"' in text  # the export is the real one
    for secret in WORLD_SECRETS + fresh:
        assert secret not in text
        assert secret.replace("|", "%7C") not in text


@pytest.mark.sqlite_only
def test_the_sqlite_file_holds_no_plain_secret_or_token(tmp_path: Path) -> None:
    """D11: the bytes of the database file (and its WAL) never contain a secret or a token, while the
    server runs and after it stopped."""
    running = start_server(tmp_path)
    try:
        with running.admin() as admin:
            fresh = make_fresh_secrets(admin)
        files = sorted(tmp_path.glob("questgraph.sqlite3*"))
        live = b"".join(path.read_bytes() for path in files)
    finally:
        running.stop()
    stopped = b"".join(path.read_bytes() for path in sorted(tmp_path.glob("questgraph.sqlite3*")))
    for blob in (live, stopped):
        assert b"Doc Studio" in blob and b"Fresh" in blob  # we read the right files
        for secret in WORLD_SECRETS + fresh:
            assert secret.encode() not in blob
            assert secret.encode("utf-16-le") not in blob
    with contextlib.closing(sqlite3.connect(tmp_path / "questgraph.sqlite3")) as conn:
        dump = "\n".join(conn.iterdump())
    for secret in WORLD_SECRETS + fresh:
        assert secret not in dump


# --- nothing in the logs ---------------------------------------------------------------------------------
def test_secrets_and_tokens_never_reach_the_logs(qg: RunningServer, http: httpx.Client, admin: httpx.Client,
                                                 caplog: pytest.LogCaptureFixture,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """D7/D11: at DEBUG, across successes, every kind of refusal, a 500 and a 503, no log record of the
    server (message, arguments or traceback) holds a secret, a token or the admin key.

    The server runs in this process; records of every logger that propagates are captured, and the
    uvicorn error logger is captured too. (uvicorn's own access log is switched off by ``questgraph
    serve``; the subprocess test below checks that command end to end.)"""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="uvicorn.error")
    uvicorn_error = logging.getLogger("uvicorn.error")
    uvicorn_error.addHandler(caplog.handler)
    try:
        new_secret = rotate(admin)
        new_app_token = f"OC|{APP_ID}|{new_secret}"
        minted = mint(admin, ttl_seconds="60")
        sent = [new_secret, minted, ADA_TOKEN, APP_SECRET, ADMIN_KEY]
        for token in (new_app_token, minted, ADA_TOKEN):
            assert http.get(PROBE, params={"access_token": token}).status_code == 200
            assert http.post("/leaderboard_submit_entry", headers=bearer(token),
                             data={"api_name": "best_leaderboard", "score": "3",
                                   **({"user_id": ADA_ID} if token.startswith("OC|") else {})}).status_code == 200
        assert http.get(PROBE, params={"access_token": APP_TOKEN}).status_code == 401  # the rotated-out secret
        assert http.get(PROBE, params={"access_token": APP_TOKEN[:-3]}).status_code == 401
        assert http.get("/no_such_route", params={"access_token": minted}).status_code == 404
        assert http.get(PROBE, params={"access_token": minted}, headers=bearer(ADA_TOKEN)).status_code == 400
        assert http.get("/_admin/orgs", headers=bearer(ADMIN_KEY + "x")).status_code == 403
        assert admin.post("/_admin/clock", data={"advance_seconds": "120"}).status_code == 200
        assert http.get(PROBE, params={"access_token": minted}).status_code == 401  # expired

        def explode(*args: object) -> None:
            raise RuntimeError("the storage exploded")

        def unavailable(*args: object) -> None:
            raise database_failure(qg)

        monkeypatch.setattr(qg.server.identity_store, "get_token_holder", explode)
        failed = http.get(PROBE, headers=bearer(ADA_TOKEN))
        assert_graph_error(failed, 500, 1)
        monkeypatch.setattr(qg.server.identity_store, "get_token_holder", unavailable)
        assert_graph_error(http.get(PROBE, params={"access_token": ADA_TOKEN}), 503, 2)
        monkeypatch.undo()
    finally:
        uvicorn_error.removeHandler(caplog.handler)
    # This test's own HTTP client logs its requests too (httpx, httpcore): those records are not the server's.
    records = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    # The capture worked: the 500 was logged, with its traceback.
    assert any("internal error" in r.getMessage() and r.exc_info for r in records), caplog.text
    formatter = logging.Formatter()
    everything = "\n".join(
        f"{formatter.format(r)} {r.args!r} {r.__dict__!r}" for r in records
    )
    for secret in sent:
        assert secret not in everything
        assert secret.replace("|", "%7C") not in everything


def test_questgraph_serve_logs_no_secret_or_token(tmp_path: Path) -> None:
    """D7/D11, end to end: ``questgraph serve --log-level debug`` (uvicorn included) prints no secret or
    token made after start-up, whether the token came in the query string, the body or a header, and
    whether it was accepted or refused. (The start-up banner prints the world file's own credentials on
    purpose, so only credentials made later are looked for.)"""
    port = free_port()
    key = "serve-admin-key-" + secrets.token_hex(8)
    command = [sys.executable, "-m", "questgraph", "serve", "--config", str(WORLD_FILE),
               "--db", str(tmp_path / "qg.sqlite3"), "--port", str(port), "--log-level", "debug",
               "--admin-key", key]
    log_file = (tmp_path / "serve.log").open("w+b")
    process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, cwd=tmp_path,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{base}/_health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "questgraph serve did not start"
            time.sleep(0.05)
        with httpx.Client(base_url=base, timeout=10) as client:
            admin = {"Authorization": f"Bearer {key}"}
            new_secret = client.post(f"/_admin/apps/{APP_ID}/secret", headers=admin).json()["secret"]
            minted = client.post(f"/_admin/users/{ADA_ID}/tokens", headers=admin).json()["access_token"]
            wrong_secret = secrets.token_hex(16)
            good = f"OC|{APP_ID}|{new_secret}"
            assert client.get(PROBE, params={"access_token": good}).status_code == 200
            assert client.get(PROBE, params={"access_token": minted}).status_code == 200
            assert client.post(PROBE, data={"access_token": minted, "method": "GET"}).status_code == 200
            assert client.get(PROBE, headers=bearer(good)).status_code == 200
            assert client.get(PROBE, params={"access_token": f"OC|{APP_ID}|{wrong_secret}"}).status_code == 401
            assert client.get(PROBE, params={"access_token": minted[:-1]}).status_code == 401
            assert client.get("/nowhere", params={"access_token": minted}).status_code == 404
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    log_file.seek(0)
    output = log_file.read().decode("utf-8", "replace")
    log_file.close()
    assert "questgraph" in output and APP_SECRET in output  # we read the real output (banner included)
    for secret in (new_secret, minted, minted[:-1], wrong_secret):
        assert secret not in output, output[-2000:]


# --- the shapes of what is minted ------------------------------------------------------------------------
def test_minted_secrets_are_32_hex_and_never_repeat(admin: httpx.Client, http: httpx.Client) -> None:
    """D11/D12: Meta-shaped secrets (32 hex characters, 128 bits), fresh every time."""
    made = []
    for n in range(3):
        response = admin.post("/_admin/orgs/1000000000000001/apps", data={"name": f"App {n}"})
        assert response.status_code == 200, response.text
        made.append((response.json()["id"], response.json()["secret"]))
    for _ in range(3):
        made.append((APP_ID, rotate(admin)))
    minted = [secret for _, secret in made]
    assert all(SECRET_SHAPE.fullmatch(s) for s in minted), minted
    assert len(set(minted)) == len(minted)
    for app_id, secret in made[:3]:  # each works with its own app and with no other
        assert http.get(f"/{app_id}/leaderboards", headers=bearer(f"OC|{app_id}|{secret}")).status_code == 200
        assert_invalid_token(http.get(f"/{app_id}/leaderboards", headers=bearer(f"OC|{APP_ID}|{secret}")))


def test_minted_user_tokens_are_long_random_and_name_their_user(admin: httpx.Client, http: httpx.Client) -> None:
    """D11: ``OC`` and 80+ letters or digits, different every time, each naming the user it was minted for."""
    tokens = [mint(admin) for _ in range(5)]
    assert all(USER_TOKEN_SHAPE.fullmatch(t) for t in tokens), tokens
    assert len(set(tokens)) == len(tokens)
    response = http.post("/leaderboard_submit_entry", headers=bearer(tokens[-1]),
                         data={"api_name": "best_leaderboard", "score": "11"})
    assert response.status_code == 200, response.text
    page = http.get("/leaderboard_entries", headers=bearer(APP_TOKEN),
                    params={"api_name": "best_leaderboard", "fields": "user{id},score"})
    assert [(r["user"]["id"], r["score"]) for r in page.json()["data"]] == [(ADA_ID, 11)]


def test_object_ids_are_15_to_17_digit_strings_unique_across_kinds(admin: httpx.Client,
                                                                   http: httpx.Client) -> None:
    """D9: every id the server makes (org, app, app-scoped user, org-scoped user, leaderboard, entry) is a
    decimal string of 15 to 17 digits, and no two objects share one."""
    org = admin.post("/_admin/orgs", data={"name": "Id Studio"}).json()
    app = admin.post(f"/_admin/orgs/{org['id']}/apps", data={"name": "Id Game"}).json()
    user = admin.post(f"/_admin/apps/{app['id']}/users", data={"alias": "idtester"}).json()
    token = f"OC|{app['id']}|{app['secret']}"
    board = http.post(f"/{app['id']}/leaderboards", headers=bearer(token),
                      data={"api_name": "ids", "sort_order": "HIGHER_IS_BETTER"}).json()
    assert http.post("/leaderboard_submit_entry", headers=bearer(token),
                     data={"api_name": "ids", "score": "1", "user_id": user["id"]}).status_code == 200
    entry = http.get("/leaderboard_entries", headers=bearer(token), params={"api_name": "ids"}).json()["data"][0]
    ids = [org["id"], app["id"], app["org_id"], user["id"], user["org_scoped_id"], user["app_id"], board["id"],
           entry["id"]]
    assert all(isinstance(i, str) and OBJECT_ID_SHAPE.fullmatch(i) for i in ids), ids
    assert len({org["id"], app["id"], user["id"], user["org_scoped_id"], board["id"], entry["id"]}) == 6


# --- errors never echo a secret --------------------------------------------------------------------------
def test_error_messages_never_echo_a_secret(http: httpx.Client, admin: httpx.Client) -> None:
    """D7: whatever the error, the message does not repeat the secret, token or key that was sent."""
    wrong_secret = secrets.token_hex(16)
    other_token = random_user_token()
    cases = [
        (http.get(PROBE, headers=bearer(f"OC|{APP_ID}|{wrong_secret}")), [wrong_secret]),
        (http.get(PROBE, params={"access_token": other_token}, headers=bearer(APP_TOKEN)),
         [other_token, APP_SECRET]),  # two different tokens: 400 (D4)
        (http.get("/nowhere", params={"access_token": APP_TOKEN}), [APP_SECRET]),
        (http.get(PROBE, params={"access_token": APP_TOKEN, "fields": "nope"}), [APP_SECRET]),
        (http.get("/_admin/orgs", headers=bearer(f"OC|{APP_ID}|{APP_SECRET}")), [APP_SECRET]),
        (http.get("/_admin/orgs", headers=bearer(ADMIN_KEY[:-1])), [ADMIN_KEY[:-1]]),
        (admin.post(f"/_admin/apps/{APP_ID}/secret", data={"secret": "short-secret!"}), ["short-secret!"]),
        (admin.post("/_admin/orgs/1000000000000001/apps", data={"name": "X", "secret": "no way, jose"}),
         ["no way, jose"]),
        (admin.post(f"/_admin/users/{ADA_ID}/tokens", data={"token": "OCshort"}), ["OCshort"]),
        (admin.post(f"/_admin/users/{ADA_ID}/tokens", data={"token": GRACE_TOKEN}), [GRACE_TOKEN]),
    ]
    for response, sent in cases:
        assert 400 <= response.status_code < 500, response.text
        for secret in sent:
            assert secret not in response.text, response.text
