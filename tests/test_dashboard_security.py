"""The dashboard tries to be broken into (issue 7), over plain HTTP: roles, CSRF, other organizations' objects,
session cookies, open redirects, and secrets or tokens on any page or inspector entry. Every refusal is also
checked to have changed nothing (the old app token still works)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import (
    ADA_ID,
    ADA_TOKEN,
    APP_ID,
    APP_SECRET,
    APP_TOKEN,
    GRACE_ID,
    RIVAL_APP_ID,
    RIVAL_APP_TOKEN,
    RunningServer,
    start_server,
)
from tests.dash_support import DOC_ORG_ID, add_member, csrf, sign_in_emulator, sign_in_password

ROTATE = f"/dashboard/apps/{APP_ID}/secret"


@pytest.fixture
def browser_client(qg: RunningServer) -> Iterator[httpx.Client]:
    with qg.client(follow_redirects=False) as client:
        yield client


def _app_token_works(qg: RunningServer, token: str = APP_TOKEN, app_id: str = APP_ID) -> bool:
    return httpx.get(f"{qg.url}/{app_id}/leaderboards", params={"access_token": token}).status_code == 200


def test_developer_cannot_see_or_rotate_a_secret(qg: RunningServer, admin: httpx.Client,
                                                 browser_client: httpx.Client) -> None:
    """Issue 7: a developer's app page offers no rotation, and a hand-made rotation post is refused (403)."""
    add_member(admin, "dev@studio.example", "developer", "correct horse battery")
    assert sign_in_password(browser_client, "dev@studio.example", "correct horse battery").status_code == 303
    page = browser_client.get(f"/dashboard/apps/{APP_ID}")
    assert page.status_code == 200
    assert "Rotate app secret" not in page.text and "Only organization admins" in page.text
    answer = browser_client.post(ROTATE, data={"csrf_token": csrf(page.text), "confirm": "yes"})
    assert answer.status_code == 403
    assert APP_SECRET not in answer.text and "New app secret" not in answer.text
    assert _app_token_works(qg)
    # Nor may a developer manage members (a self-promotion to admin).
    promoted = browser_client.post("/dashboard/org/members", data={
        "csrf_token": csrf(page.text), "email": "dev@studio.example", "role": "admin"})
    assert promoted.status_code == 403
    members = admin.get(f"/_admin/orgs/{DOC_ORG_ID}/members").json()["data"]
    assert [m["role"] for m in members] == ["developer"]


def test_admin_rotation_shows_the_secret_once(qg: RunningServer, browser_client: httpx.Client) -> None:
    """Issue 7, D12: the new secret is in the POST's answer (no-store) and on no later page; the old token dies."""
    sign_in_emulator(browser_client)
    page = browser_client.get(f"/dashboard/apps/{APP_ID}")
    answer = browser_client.post(ROTATE, data={"csrf_token": csrf(page.text), "confirm": "yes"})
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    secret = re.search(r'<code id="new-secret">([0-9a-f]{32})</code>', answer.text)
    assert secret is not None
    assert not _app_token_works(qg)
    assert _app_token_works(qg, f"OC|{APP_ID}|{secret.group(1)}")
    again = browser_client.get(f"/dashboard/apps/{APP_ID}")
    assert secret.group(1) not in again.text


def test_forged_form_posts_are_refused(qg: RunningServer, browser_client: httpx.Client) -> None:
    """Issue 7: without the session's CSRF token (missing, made up, or another session's), nothing changes."""
    sign_in_emulator(browser_client)
    with qg.client(follow_redirects=False) as other:
        sign_in_emulator(other)
        other_token = csrf(other.get("/dashboard/org").text)
    for token in (None, "0" * 64, other_token):
        data = {"confirm": "yes"} if token is None else {"confirm": "yes", "csrf_token": token}
        answer = browser_client.post(ROTATE, data=data)
        assert answer.status_code == 403 and "refused" in answer.text
    assert _app_token_works(qg)
    # A cross-site sign-in attempt (login CSRF): no pre-session cookie, or a token of another browser.
    with qg.client(follow_redirects=False) as attacker:
        refused = attacker.post("/dashboard/login/emulator", data={"csrf_token": "0" * 64, "org_id": DOC_ORG_ID})
        assert refused.status_code == 403 and "qg_dash_session" not in refused.headers.get("set-cookie", "")


def test_other_organizations_objects_are_invisible(qg: RunningServer, browser_client: httpx.Client,
                                                   admin: httpx.Client) -> None:
    """Issue 7: an admin of Doc Studio gets 404 for Rival Studio's app, users and inspector, and cannot rotate
    its secret."""
    sign_in_emulator(browser_client)
    token = csrf(browser_client.get("/dashboard/org").text)
    rival_user = admin.get(f"/_admin/apps/{RIVAL_APP_ID}/users").json()["data"][0]["id"]
    for path in (f"/dashboard/apps/{RIVAL_APP_ID}", f"/dashboard/apps/{RIVAL_APP_ID}/users",
                 f"/dashboard/apps/{RIVAL_APP_ID}/inspector", f"/dashboard/users/{rival_user}"):
        assert browser_client.get(path).status_code == 404, path
    assert browser_client.post(f"/dashboard/apps/{RIVAL_APP_ID}/secret",
                               data={"csrf_token": token, "confirm": "yes"}).status_code == 404
    assert browser_client.post(f"/dashboard/users/{rival_user}/token", data={"csrf_token": token}).status_code == 404
    assert _app_token_works(qg, RIVAL_APP_TOKEN, RIVAL_APP_ID)
    assert "Rival Game" not in browser_client.get("/dashboard/org").text


def test_session_cookie_and_sign_in_rules(qg: RunningServer, admin: httpx.Client,
                                          browser_client: httpx.Client) -> None:
    """Issue 7: HttpOnly SameSite=Strict cookie scoped to /dashboard; wrong passwords refused; no open redirect;
    signed-out pages redirect, signed-out posts are refused."""
    assert browser_client.get("/dashboard/org").headers["location"].startswith("/dashboard/login")
    assert browser_client.post(ROTATE, data={"confirm": "yes"}).status_code == 403
    add_member(admin, "boss@studio.example", "admin", "a long passphrase")
    assert sign_in_password(browser_client, "boss@studio.example", "wrong passphrase").status_code == 401
    assert sign_in_password(browser_client, "nobody@studio.example", "a long passphrase").status_code == 401
    page = browser_client.get("/dashboard/login", params={"next": "//evil.example/"})
    answer = browser_client.post("/dashboard/login", data={
        "csrf_token": csrf(page.text), "email": "boss@studio.example", "password": "a long passphrase",
        "next": "//evil.example/"})
    assert answer.status_code == 303 and answer.headers["location"] == "/dashboard/overview"
    cookie = answer.headers["set-cookie"]
    assert "qg_dash_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Path=/dashboard" in cookie and "Secure" not in cookie  # plain HTTP on localhost
    assert "boss@studio.example" in browser_client.get("/dashboard/org").text
    # The members API never shows a password hash.
    listed = admin.get(f"/_admin/orgs/{DOC_ORG_ID}/members").json()["data"][0]
    assert listed["has_password"] is True and "scrypt" not in str(listed)


def test_no_page_or_inspector_entry_shows_a_full_secret_or_token(qg: RunningServer, admin: httpx.Client,
                                                                 browser_client: httpx.Client) -> None:
    """Issue 7, D11: after Graph calls that carry the app token, a user token, a nonce and a password-like
    parameter, no GET page of the dashboard (inspector entries included) holds any of them."""
    nonce = admin.post(f"/_admin/users/{ADA_ID}/nonces").json()["nonce"]
    httpx.post(f"{qg.url}/leaderboard_submit_entry", data={
        "access_token": APP_TOKEN, "api_name": "best_leaderboard", "score": "7", "user_id": ADA_ID})
    httpx.get(f"{qg.url}/me", headers={"Authorization": f"Bearer {ADA_TOKEN}"})
    httpx.post(f"{qg.url}/user_nonce_validate", data={"access_token": APP_TOKEN, "nonce": nonce, "user_id": ADA_ID,
                                                      "password": "hunter2hunter2"})
    sign_in_emulator(browser_client)
    minted = browser_client.post(f"/dashboard/users/{ADA_ID}/token",
                                 data={"csrf_token": csrf(browser_client.get("/dashboard/org").text)})
    assert minted.status_code == 303 and minted.headers["location"] == f"/dashboard/users/{ADA_ID}"
    user_token = re.search(r'<code id="new-user-token">([^<]+)</code>',
                           browser_client.get(minted.headers["location"]).text)
    assert user_token is not None
    inspector = browser_client.get(f"/dashboard/apps/{APP_ID}/inspector").text
    entries = re.findall(rf'href="(/dashboard/apps/{APP_ID}/inspector/\d+)"', inspector)
    assert len(entries) == 3
    # The overview and the API page show an admin the app token with the world file's secret, in emulator
    # mode only (test_app_tokens_on_the_overview); no page shows any other secret or token.
    shows_app_token = {"/dashboard/overview", f"/dashboard/apps/{APP_ID}"}
    pages = [*shows_app_token, f"/dashboard/users/{ADA_ID}", f"/dashboard/apps/{APP_ID}/users",
             "/dashboard/audit", "/dashboard/org", f"/dashboard/apps/{APP_ID}/inspector", *entries]
    for path in pages:
        text = browser_client.get(path).text
        for secret in (APP_SECRET, ADA_TOKEN, nonce, user_token.group(1), "hunter2hunter2"):
            if secret == APP_SECRET and path in shows_app_token:
                continue
            assert secret not in text, (path, secret[:6])
    entry = browser_client.get(entries[0]).text  # the newest: the nonce validation
    assert f"OC|{APP_ID}|••••" in entry and nonce[:4] + "••••" in entry and "hunter2" not in entry


def test_admin_api_calls_are_audited_without_values(qg: RunningServer, admin: httpx.Client) -> None:
    """Issue 7: every changing admin API call lands in the durable audit log, with parameter names only."""
    admin.post(f"/_admin/users/{ADA_ID}/password", data={"password": "s3cret-passphrase"}).raise_for_status()
    events = admin.get("/_admin/audit").json()["data"]
    latest = events[0]
    assert latest["action"] == "POST /_admin/users/{id}/password" and latest["actor"] == "admin API (admin key)"
    assert latest["detail"] == "params: password" and "s3cret" not in str(events)


def test_production_mode_refuses_one_click_and_keeps_no_requests(tmp_path: Path, backend: str) -> None:
    """Issue 7: with --production the one-click sign-in is refused and the inspector is off by default."""
    server = start_server(tmp_path, emulator=False)
    try:
        with server.client(follow_redirects=False) as client:
            page = client.get("/dashboard/login")
            assert "Sign in as admin of" not in page.text
            refused = client.post("/dashboard/login/emulator", data={"csrf_token": csrf(page.text),
                                                                     "org_id": DOC_ORG_ID})
            assert refused.status_code == 403
        httpx.get(f"{server.url}/{APP_ID}/leaderboards", params={"access_token": APP_TOKEN}).raise_for_status()
        assert server.server.inspector.recent(int(APP_ID)) == []
    finally:
        server.stop()


def test_the_overview_of_a_production_server_shows_no_secret_and_no_emulator(tmp_path: Path, backend: str) -> None:
    """Issue 17: in production mode the overview never prints a real secret, even to an organization admin
    (only a hash is kept of any secret a deployment did not print itself), says it is production, and offers
    neither the emulator controls nor the demo callback."""
    server = start_server(tmp_path, emulator=False)
    try:
        with server.admin() as admin:
            add_member(admin, "boss@studio.example", "admin", "correct horse battery")
        with server.client(follow_redirects=False) as boss:
            assert sign_in_password(boss, "boss@studio.example", "correct horse battery").status_code == 303
            page = boss.get("/dashboard/overview")
            assert page.status_code == 200
            text = page.text
            assert "<dt>Mode</dt><dd>Production</dd>" in text
            assert APP_SECRET not in text and f"OC|{APP_ID}|$APP_SECRET" in text
            assert "rotate it on the" in text  # an admin is told where a new secret comes from
            assert 'href="/dashboard/emulator"' not in text and "demo callback" not in text
            assert boss.get("/dashboard/emulator").status_code in (403, 404)
    finally:
        server.stop()


def test_a_minted_token_or_nonce_is_shown_once_after_a_redirect(qg: RunningServer, browser_client: httpx.Client,
                                                                http: httpx.Client) -> None:
    """Issue 17 (PRG): minting answers a redirect, the user's page then shows the value once (a cookie of a
    short life carries it there and that page clears it), and a reload neither mints again nor shows it
    again; another user's page never shows it."""
    sign_in_emulator(browser_client)
    page = f"/dashboard/users/{ADA_ID}"
    for action, element in (("token", "new-user-token"), ("nonce", "new-nonce")):
        minted = browser_client.post(f"{page}/{action}", data={"csrf_token": csrf(browser_client.get(page).text)})
        assert minted.status_code == 303 and minted.headers["location"] == page
        assert "max-age=120" in minted.headers["set-cookie"].lower()
        if action == "token":  # another user's page: not shown there, and the value is spent
            elsewhere = browser_client.get(f"/dashboard/users/{GRACE_ID}").text
            assert 'id="new-user-token"' not in elsewhere
            assert 'id="new-user-token"' not in browser_client.get(page).text
            minted = browser_client.post(f"{page}/{action}", data={"csrf_token": csrf(browser_client.get(page).text)})
        shown = browser_client.get(page).text
        found = re.search(rf'<code id="{element}">([^<]+)</code>', shown)
        assert found is not None, action
        value = found.group(1)
        again = browser_client.get(page).text  # the reload
        assert value not in again and f'id="{element}"' not in again
        if action == "token":
            me = http.get("/me", params={"access_token": value, "fields": "id"})
            assert me.json() == {"id": ADA_ID}
        else:
            valid = http.post("/user_nonce_validate", data={"access_token": APP_TOKEN, "nonce": value,
                                                             "user_id": ADA_ID})
            assert valid.json() == {"is_valid": True}
    # A forged cookie shows nothing and breaks nothing.
    browser_client.cookies.set("qg_dash_once", "not base64 !", path="/dashboard")
    assert browser_client.get(page).status_code == 200
