"""Account linking over real HTTP, the guide's steps with only the host changed (graph-api.md §5, D30-D36):
the SSO page, the redirect fragment, the code exchange, /me with the oauth_token, refresh, expiry on the
server clock, the admin API of links, production sign-in with passwords, and the page's cookie."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from questgraph.server.world import World, WorldError
from tests.conftest import (
    ADA_ID,
    ADMIN_KEY,
    APP_TOKEN,
    RunningServer,
    assert_graph_error,
    dump_database,
    start_server,
)
from tests.sso_support import (
    CODE,
    OAUTH_TOKEN,
    ORG_ID,
    REDIRECT_URI,
    csrf_of,
    decode_fragment,
    exchange,
    form,
    granted,
    link,
    page_url,
    refresh,
)

DAY = 24 * 3600


def test_guide_flow_end_to_end(qg: RunningServer, http: httpx.Client) -> None:
    """D31-D34: page → fragment → sso_authorize_code → /me → sso_authorize_refresh_code, as the guide writes
    them (every parameter in the query string of a POST, the app token raw with its '|')."""
    linked = link(http, "ada")
    assert linked.location.startswith(REDIRECT_URI + "#")
    data = decode_fragment(linked.location)
    assert set(data) == {"code", "org_scoped_id", "org-scoped_id"}  # D31: both spellings
    assert CODE.fullmatch(data["code"])
    answer = exchange(http, APP_TOKEN, linked.code, linked.org_scoped_id)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"oauth_token", "refresh_code"}
    assert OAUTH_TOKEN.fullmatch(body["oauth_token"]) and CODE.fullmatch(body["refresh_code"])  # D11
    me = http.get(f"/me?access_token={body['oauth_token']}&fields=id,alias")
    assert me.status_code == 200, me.text
    assert me.json() == {"id": linked.org_scoped_id, "alias": "ada"}  # D33: the org-scoped id
    refreshed = refresh(http, APP_TOKEN, linked.org_scoped_id, body["refresh_code"])
    assert refreshed.status_code == 200, refreshed.text
    fresh = refreshed.json()
    assert set(fresh) == {"oauth_token", "refresh_code"}
    assert fresh["oauth_token"] != body["oauth_token"] and fresh["refresh_code"] != body["refresh_code"]
    again = http.get("/me", params={"fields": "id,alias"}, headers={"Authorization": f"OAuth {fresh['oauth_token']}"})
    assert again.json() == {"id": linked.org_scoped_id, "alias": "ada"}


def test_org_scoped_id_is_the_admin_api_one_and_stable(qg: RunningServer, http: httpx.Client,
                                                      admin: httpx.Client) -> None:
    """D10: the fragment's id is the person's one org-scoped id, the same on every link."""
    first = link(http, "ada")
    with qg.client() as other:
        second = link(other, "ada")
    assert first.org_scoped_id == second.org_scoped_id
    assert first.code != second.code
    assert admin.get(f"/_admin/users/{ADA_ID}").json()["org_scoped_id"] == first.org_scoped_id


def test_form_body_and_json_body_work_too(http: httpx.Client) -> None:
    """D2: the same exchange with a form body, and refresh with a JSON body and a Bearer app token."""
    linked = link(http)
    answer = http.post("/sso_authorize_code", data={"code": linked.code, "access_token": APP_TOKEN,
                                                     "org_scoped_id": linked.org_scoped_id})
    first = granted(answer, linked.org_scoped_id)
    refreshed = http.post("/sso_authorize_refresh_code/", json={"org_scoped_id": linked.org_scoped_id,
                                                                "refresh_code": first["refresh_code"]},
                          headers={"Authorization": f"Bearer {APP_TOKEN}"})
    assert granted(refreshed, linked.org_scoped_id)["oauth_token"] != first["oauth_token"]


def test_token_lives_thirty_days_on_the_server_clock(http: httpx.Client, admin: httpx.Client) -> None:
    """D33, D36: valid one second before 30 days, 401 code 190 at 30 days; refresh then gives a working one."""
    linked = link(http)
    grant = exchange(http, APP_TOKEN, linked.code, linked.org_scoped_id).json()
    admin.post("/_admin/clock", data={"advance_seconds": 30 * DAY - 2}).raise_for_status()
    assert http.get(f"/me?access_token={grant['oauth_token']}").status_code == 200
    admin.post("/_admin/clock", data={"advance_seconds": 2}).raise_for_status()
    expired = http.get(f"/me?access_token={grant['oauth_token']}")
    error = assert_graph_error(expired, 401, 190, "OAuthException")
    assert grant["oauth_token"] not in expired.text and "expired" in error["message"]
    fresh = refresh(http, APP_TOKEN, linked.org_scoped_id, grant["refresh_code"]).json()
    assert http.get(f"/me?access_token={fresh['oauth_token']}").json()["alias"] == "ada"


def test_oauth_token_only_opens_me(http: httpx.Client) -> None:
    """D33: any other Graph call with an SSO oauth_token is a 403 (code 200)."""
    linked = link(http)
    token = exchange(http, APP_TOKEN, linked.code, linked.org_scoped_id).json()["oauth_token"]
    answer = http.get(f"/leaderboard_entries?api_name=best_leaderboard&access_token={token}")
    assert_graph_error(answer, 403, 200, "OAuthException")
    # An oauth_token is no app token for the exchange endpoints either.
    assert_graph_error(refresh(http, token, linked.org_scoped_id, "x" * 64), 403, 200)


def test_me_rejects_other_fields_with_an_oauth_token(http: httpx.Client) -> None:
    """D33: with an SSO oauth_token, fields may only name id and alias."""
    linked = link(http)
    token = exchange(http, APP_TOKEN, linked.code, linked.org_scoped_id).json()["oauth_token"]
    assert_graph_error(http.get(f"/me?access_token={token}&fields=id,profile_url"), 400, 100)


def test_exchange_needs_an_app_token(http: httpx.Client) -> None:
    """D32: no token 401/104; a user token 403/200; the code survives both."""
    from tests.conftest import ADA_TOKEN

    linked = link(http)
    answer = http.post(f"/sso_authorize_code?code={linked.code}&org_scoped_id={linked.org_scoped_id}")
    assert_graph_error(answer, 401, 104)
    assert_graph_error(exchange(http, ADA_TOKEN, linked.code, linked.org_scoped_id), 403, 200)
    granted(exchange(http, APP_TOKEN, linked.code, linked.org_scoped_id), linked.org_scoped_id)


@pytest.mark.parametrize("params", [
    {},
    {"code": "", "org_scoped_id": "1"},
    {"code": "abc"},
    {"org_scoped_id": "123"},
    {"code": "x", "org_scoped_id": "12a"},
    {"code": "x", "org_scoped_id": "99999999999999999999999"},
])
def test_exchange_bad_parameters_are_400(http: httpx.Client, params: dict[str, str]) -> None:
    """D7: a missing or malformed parameter is 400 code 100 and changes nothing (the real code still works)."""
    linked = link(http)
    answer = http.post("/sso_authorize_code", params={**params, "access_token": APP_TOKEN})
    assert_graph_error(answer, 400, 100, "OCApiException")
    granted(exchange(http, APP_TOKEN, linked.code, linked.org_scoped_id), linked.org_scoped_id)


def test_refresh_bad_parameters_are_400(http: httpx.Client) -> None:
    linked = link(http)
    grant = exchange(http, APP_TOKEN, linked.code, linked.org_scoped_id).json()
    for params in ({}, {"org_scoped_id": linked.org_scoped_id}, {"refresh_code": grant["refresh_code"]},
                   {"org_scoped_id": "x", "refresh_code": grant["refresh_code"]},
                   {"org_scoped_id": linked.org_scoped_id, "refresh_code": "nope"}):
        answer = http.post("/sso_authorize_refresh_code", params={**params, "access_token": APP_TOKEN})
        assert_graph_error(answer, 400, 100)
        assert grant["refresh_code"] not in answer.text
    granted(refresh(http, APP_TOKEN, linked.org_scoped_id, grant["refresh_code"]), linked.org_scoped_id)


def test_admin_lists_and_revokes_links(http: httpx.Client, admin: httpx.Client) -> None:
    """Admin API: a user's links, by app-scoped id and by org-scoped id; revoking kills tokens and refresh."""
    linked = link(http)
    grant = exchange(http, APP_TOKEN, linked.code, linked.org_scoped_id).json()
    by_user = admin.get(f"/_admin/users/{ADA_ID}/links").json()["data"]
    by_org_id = admin.get(f"/_admin/users/{linked.org_scoped_id}/links").json()["data"]
    assert by_user == by_org_id and len(by_user) == 1
    row = by_user[0]
    assert row["org_id"] == ORG_ID and row["org_scoped_id"] == linked.org_scoped_id and row["alias"] == "ada"
    assert row["revoked"] is False and row["live_tokens"] == 1
    assert grant["oauth_token"] not in str(by_user) and grant["refresh_code"] not in str(by_user)
    revoked = admin.delete(f"/_admin/links/{row['id']}")
    assert revoked.status_code == 200 and revoked.json()["link"]["revoked"] is True
    assert_graph_error(http.get(f"/me?access_token={grant['oauth_token']}"), 401, 190)
    assert_graph_error(refresh(http, APP_TOKEN, linked.org_scoped_id, grant["refresh_code"]), 400, 100)
    assert admin.get(f"/_admin/users/{ADA_ID}/links").json()["data"][0]["revoked"] is True
    assert_graph_error(admin.delete("/_admin/links/1234567890123456"), 404, 100)
    assert_graph_error(admin.get("/_admin/users/1234567890123456/links"), 404, 100)


def test_secrets_are_stored_hashed(qg: RunningServer, http: httpx.Client) -> None:
    """D11: neither the code, the oauth_token, the refresh code nor the session cookie is in the database."""
    linked = link(http)
    grant = exchange(http, APP_TOKEN, linked.code, linked.org_scoped_id).json()
    cookie = http.cookies.get("qg_sso_session")
    assert cookie
    dump = dump_database(qg)
    for secret in (linked.code, grant["oauth_token"], grant["refresh_code"], cookie):
        assert secret not in dump


def test_session_cookie_flags_over_http(http: httpx.Client) -> None:
    """The session cookie is HttpOnly, SameSite=Lax, scoped to /sso, and not Secure over plain HTTP."""
    answer = http.get(page_url())
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax") and "Path=/sso" in cookie
    assert "Secure" not in cookie
    assert answer.headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in answer.headers[
        "content-security-policy"]
    assert answer.headers["cache-control"] == "no-store"


def test_session_cookie_is_secure_over_https(tmp_path: Path) -> None:
    """Served over HTTPS (here: a public https URL), the cookie is Secure as well."""
    server = start_server(tmp_path, public_url="https://accounts.example")
    try:
        with server.client() as client:
            cookie = client.get(page_url()).headers["set-cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie
    finally:
        server.stop()


def test_the_page_without_javascript_has_labels_and_one_h1(http: httpx.Client) -> None:
    """Accessibility basics of every step: lang, one h1, a main landmark, labelled controls, no script."""
    pages = [http.get(page_url()).text]
    page = pages[0]
    chosen = re.search(r'name="org_scoped_id" value="([0-9]+)"', page)
    assert chosen
    login = http.post("/sso/login", data=form(ORG_ID, REDIRECT_URI, csrf_of(page), org_scoped_id=chosen.group(1)))
    pages.append(http.get(login.headers["location"]).text)
    for html in pages:
        assert '<html lang="en">' in html and html.count("<h1") == 1 and "<main" in html
        assert "<script" not in html
        for control in re.findall(r'<input[^>]*type="(?:radio|text|password)"[^>]*id="([^"]+)"', html):
            assert f'for="{control}"' in html
    assert "Link account" in pages[1] and "Doc Studio" in pages[1]
    css = http.get("/sso/static/sso.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert ":focus-visible" in css.text


def test_emulator_lists_only_the_organizations_users(http: httpx.Client) -> None:
    """Emulator sign-in lists the people with an org-scoped id in that org: not the rival org's user."""
    html = http.get(page_url()).text
    for alias in ("ada", "grace", "linus", "unentitled"):
        assert f"@{alias} " in html
    assert "@rival " not in html


def test_unknown_pages_and_methods_are_html(http: httpx.Client) -> None:
    """Pages under /sso never answer with a framework body or JSON: 404 and 405 are HTML pages."""
    missing = http.get("/sso/nope")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    wrong = http.put("/sso/consent")
    assert wrong.status_code == 405 and "<h1>" in wrong.text


WORLD = {
    "orgs": [{"id": "1000000000000001", "name": "Doc Studio",
              "sso_redirect_uris": ["https://studio.example/auth/callback"],
              "apps": [{"id": "1234757621998335", "name": "Doc Game", "secret": "1234f7a788b0c0b270f9691d0a06d5a5"}]}],
    "users": [{"alias": "ada", "password": "correct horse battery",
               "apps": [{"app": "1234757621998335"}]},
              {"alias": "kid", "password": "kids-password", "age_category": "CH",
               "apps": [{"app": "1234757621998335"}]}],
}


@pytest.fixture
def production(tmp_path: Path) -> RunningServer:
    server = start_server(tmp_path, world=World(data=WORLD, source="test"), emulator=False)
    yield server  # type: ignore[misc]
    server.stop()


def _password_login(client: httpx.Client, alias: str, password: str) -> httpx.Response:
    page = client.get(page_url())
    assert 'type="password"' in page.text and "@ada" not in page.text  # no list of users in production
    return client.post("/sso/login", data=form(ORG_ID, REDIRECT_URI, csrf_of(page.text), alias=alias,
                                               password=password))


def test_production_sign_in_with_password(production: RunningServer) -> None:
    """Production mode: username and password (world file `password`), then consent, code and exchange."""
    with production.client() as client:
        assert _password_login(client, "ada", "wrong password").status_code == 400
        login = _password_login(client, "ada", "correct horse battery")
        assert login.status_code == 303
        consent = client.get(login.headers["location"]).text
        answer = client.post("/sso/consent", data=form(ORG_ID, REDIRECT_URI, csrf_of(consent), decision="link"))
        data = decode_fragment(answer.headers["location"])
        granted(exchange(client, APP_TOKEN, data["code"], data["org_scoped_id"]), data["org_scoped_id"])
    dump = dump_database(production)
    assert "correct horse battery" not in dump and "scrypt$" in dump  # memory-hard hash only


def test_production_sign_in_is_rate_limited(production: RunningServer) -> None:
    """Five failures for a username lock it for 15 minutes (429 page), even with the right password next (the
    production clock cannot be moved, so the window itself is covered in emulator mode below)."""
    with production.client() as client:
        for _ in range(5):
            failed = _password_login(client, "ada", "not the password")
            assert failed.status_code == 400 and "not right" in failed.text
        locked = _password_login(client, "ada", "correct horse battery")
        assert locked.status_code == 429 and "location" not in locked.headers
        # The lock is per username (and per client address at a higher threshold): another user still signs in.
        assert _password_login(client, "kid", "kids-password").status_code == 303
    # The failures are kept server-side: a new browser (no cookie) is still locked out.
    with production.client() as client:
        assert _password_login(client, "ada", "correct horse battery").status_code == 429


def test_admin_sets_a_password(production: RunningServer) -> None:
    """POST /_admin/users/{id}/password sets the sign-in password (8+ characters, else 400)."""
    with production.admin() as admin:
        users = admin.get("/_admin/apps/1234757621998335/users").json()["data"]
        ada = next(u for u in users if u["alias"] == "ada")
        assert_graph_error(admin.post(f"/_admin/users/{ada['id']}/password", data={"password": "short"}), 400, 100)
        assert admin.post(f"/_admin/users/{ada['id']}/password", data={"password": "a new password"}).json() == {
            "success": True}
    with production.client() as client:
        assert _password_login(client, "ada", "correct horse battery").status_code == 400
        assert _password_login(client, "ada", "a new password").status_code == 303


def test_world_password_is_checked_and_never_echoed() -> None:
    data = {"users": [{"alias": "x", "password": "sh0rt"}]}
    with pytest.raises(WorldError) as raised:
        World(data=data, source="test")
    assert "password" in str(raised.value) and "sh0rt" not in str(raised.value)


def test_admin_key_protects_link_admin(qg: RunningServer) -> None:
    with qg.client() as client:
        assert_graph_error(client.get(f"/_admin/users/{ADA_ID}/links"), 401, 104)
        assert client.get(f"/_admin/users/{ADA_ID}/links", headers={"Authorization": f"Bearer {ADMIN_KEY}"}
                          ).status_code == 200


def test_rate_limit_window_ends(tmp_path: Path) -> None:
    """The lock lasts 15 minutes of server clock (D36): an emulator server in production sign-in mode is not
    possible, so the window is checked on the service with a moved clock."""
    from questgraph.server.app import Server
    from questgraph.server.settings import Settings
    from questgraph.server.sso.service import LinkRefused

    server = Server(Settings(database=str(tmp_path / "db.sqlite3")), World(data=WORLD, source="test"))
    try:
        for _ in range(5):
            with pytest.raises(LinkRefused):
                server.sso.sign_in_password("ada", "nope-nope", "203.0.113.9")
        with pytest.raises(LinkRefused) as locked:
            server.sso.sign_in_password("ada", "correct horse battery", "203.0.113.9")
        assert locked.value.status == 429
        server.clock.advance(15 * 60 + 1)
        assert server.sso.sign_in_password("ada", "correct horse battery", "203.0.113.9").alias == "ada"
    finally:
        server.db.close()


@pytest.mark.parametrize("field", ["alias", "password"])
def test_a_nul_in_a_sign_in_field_is_a_400_page_naming_it(production: RunningServer, field: str) -> None:
    """D2 on the SSO page (which reads its own forms): a NUL is refused as every Graph parameter's is, a 400
    page naming the field on both backends; never the 503 "temporarily unavailable" page PostgreSQL's
    refusal of a NUL in text would give, and no sign-in failure is counted for it."""
    values = {"alias": "ada", "password": "correct horse battery"}
    values[field] += "\x00"
    with production.client() as client:
        for _ in range(6):  # more than the 5 failures that would lock the username, had they been counted
            page = client.get(page_url())
            answer = client.post("/sso/login", data=form(ORG_ID, REDIRECT_URI, csrf_of(page.text), **values))
            assert answer.status_code == 400, answer.text
            assert answer.headers["content-type"].startswith("text/html")
            assert f"Param {field} holds a NUL character" in answer.text
        assert _password_login(client, "ada", "correct horse battery").status_code == 303


@pytest.mark.parametrize(("query", "problem"), [
    ("redirect_uri=https%3A%2F%2Fstudio.example%2Fauth%2Fcallback%00&organization_id=1000000000000001",
     "Param redirect_uri holds a NUL character"),
    ("redirect_uri=https%3A%2F%2Fstudio.example%2Fcaf%E9&organization_id=1000000000000001",
     "Param redirect_uri holds invalid UTF-8 (a lone surrogate)"),
])
def test_the_page_checks_its_query_as_graph_does(http: httpx.Client, query: str, problem: str) -> None:
    """The page's query fields are read with the same rule (D2): not replaced by U+FFFD, not handed on."""
    answer = http.get(f"/sso/?{query}")
    assert answer.status_code == 400, answer.text
    assert problem in answer.text and "location" not in answer.headers


def test_a_body_that_is_not_utf8_is_a_400_page(http: httpx.Client) -> None:
    page = http.get(page_url())
    body = form(ORG_ID, REDIRECT_URI, csrf_of(page.text), org_scoped_id="1")
    answer = http.post("/sso/login", content="&".join(f"{k}={v}" for k, v in body.items()).encode() + b"\xff",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 400, answer.text
    assert "The request body is not valid UTF-8" in answer.text
