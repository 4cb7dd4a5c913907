"""Attacks on account linking, each a test (D30-D36). None may redirect anywhere but a registered URI, and
none may leak a code or a token: every answer body and Location header is checked."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from tests.conftest import APP_TOKEN, RIVAL_APP_TOKEN, RunningServer, assert_graph_error, run_sql
from tests.sso_support import (
    CODE,
    OAUTH_TOKEN,
    ORG_ID,
    REDIRECT_URI,
    RIVAL_ORG_ID,
    csrf_of,
    exchange,
    form,
    granted,
    link,
    page_url,
    refresh,
    sign_in,
    user_radio_value,
)


def assert_no_secrets(response: httpx.Response, *secrets: str) -> None:
    """Neither the body nor the Location header holds a code, refresh code or oauth_token."""
    seen = response.text + response.headers.get("location", "")
    for secret in secrets:
        assert secret not in seen
    assert not OAUTH_TOKEN.search(seen)
    assert "#" not in response.headers.get("location", "")


def assert_refused_page(response: httpx.Response, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "location" not in response.headers
    assert not CODE.search(response.text.replace(csrf_free(response.text), ""))


def csrf_free(html: str) -> str:
    """Only the csrf token may look like 64 characters of hex in a page."""
    try:
        return csrf_of(html)
    except AssertionError:
        return "\0"


# --- redirect_uri (D30) -----------------------------------------------------------------------------------
BAD_REDIRECTS = {
    "other scheme": "http://studio.example/auth/callback",
    "other host": "https://evil.example/auth/callback",
    "sub-domain": "https://evil.studio.example/auth/callback",
    "host suffix": "https://studio.example.evil.example/auth/callback",
    "other port": "https://studio.example:8443/auth/callback",
    "other path": "https://studio.example/auth/other",
    "path prefix": "https://studio.example/auth/callback/extra",
    "trailing slash": "https://studio.example/auth/callback/",
    "dot segments": "https://studio.example/auth/callback/../callback",
    "extra query": "https://studio.example/auth/callback?next=https://evil.example",
    "empty query": "https://studio.example/auth/callback?",
    "fragment": "https://studio.example/auth/callback#https://evil.example",
    "userinfo": "https://evil.example@studio.example/auth/callback",
    "userinfo host": "https://studio.example@evil.example/auth/callback",
    "encoded slash": "https://studio.example%2Fauth%2Fcallback",
    "encoded path": "https://studio.example/auth%2Fcallback",
    "encoded at": "https://studio.example%40evil.example/auth/callback",
    "backslash": "https://studio.example\\@evil.example/auth/callback",
    "protocol relative": "//studio.example/auth/callback",
    "javascript": "javascript:alert(1)//studio.example/auth/callback",
    "data": "data:text/html,<script>alert(1)</script>",
    "relative": "/auth/callback",
    "whitespace": " https://studio.example/auth/callback",
    "newline": "https://studio.example/auth/callback\r\nLocation: https://evil.example",
    "unicode host": "https://studio.exаmple/auth/callback",
    "another org's": "https://rival.example/cb",
}


@pytest.mark.parametrize("uri", list(BAD_REDIRECTS.values()), ids=list(BAD_REDIRECTS))
def test_redirect_uri_variants_are_refused(http: httpx.Client, uri: str) -> None:
    """D30: anything but an exactly registered URI shows an error page and redirects nowhere, at every step."""
    answer = http.get(page_url(redirect_uri=uri))
    assert_refused_page(answer)
    assert ("redirect_uri" in answer.text and "not a login URL registered" in answer.text) or "no redirect_uri" in \
        answer.text
    # Signed in with a valid session, consent for the bad URI is refused the same way (never a code).
    consent = sign_in(http, "ada")
    posted = http.post("/sso/consent", data=form(ORG_ID, uri, csrf_of(consent), decision="link"))
    assert_refused_page(posted)


def test_registered_uri_matches_case_insensitive_host_and_default_port(http: httpx.Client) -> None:
    """D30: the same destination written with an upper-case host or the explicit default port is the registered
    URI, and the redirect goes to the URI as registered."""
    for spelling in ("https://STUDIO.example/auth/callback", "https://studio.example:443/auth/callback"):
        linked = link(http, "ada", redirect_uri=spelling)
        assert linked.location.startswith(REDIRECT_URI + "#")


def test_redirect_uri_of_another_org_is_refused(qg: RunningServer, http: httpx.Client, admin: httpx.Client) -> None:
    """D30: a URI registered by another organization is not this organization's."""
    admin.post(f"/_admin/orgs/{RIVAL_ORG_ID}/redirect_uris", data={"redirect_uri": "https://rival.example/cb"})
    assert_refused_page(http.get(page_url(ORG_ID, "https://rival.example/cb")))
    assert http.get(page_url(RIVAL_ORG_ID, "https://rival.example/cb")).status_code == 200


@pytest.mark.parametrize("org_id", ["", "abc", "999999999999999", "1" * 30, "-1"])
def test_bad_organization_is_an_error_page(http: httpx.Client, org_id: str) -> None:
    """D30: a missing, malformed or unknown organization_id says so and redirects nowhere."""
    answer = http.get(page_url(org_id=org_id))
    assert_refused_page(answer)
    assert "organization" in answer.text.lower()


def test_missing_parameters_say_what_is_wrong(http: httpx.Client) -> None:
    assert "no organization_id" in http.get("/sso/?redirect_uri=" + quote(REDIRECT_URI)).text
    assert "no redirect_uri" in http.get(f"/sso/?organization_id={ORG_ID}").text


def test_error_page_escapes_what_it_shows(http: httpx.Client) -> None:
    answer = http.get(page_url(org_id="<script>alert(1)</script>"))
    assert "<script>" not in answer.text


# --- codes (D32) ------------------------------------------------------------------------------------------
def test_code_reuse_fails_and_revokes_what_it_issued(http: httpx.Client) -> None:
    """D32: the second exchange is a 400 and the first exchange's token and refresh code stop working."""
    linked = link(http)
    first = exchange(http, APP_TOKEN, linked.code, linked.org_scoped_id)
    grant = first.json()
    second = exchange(http, APP_TOKEN, linked.code, linked.org_scoped_id)
    assert_graph_error(second, 400, 100)
    assert_no_secrets(second, linked.code, grant["oauth_token"], grant["refresh_code"])
    assert_graph_error(http.get(f"/me?access_token={grant['oauth_token']}"), 401, 190)
    assert_graph_error(refresh(http, APP_TOKEN, linked.org_scoped_id, grant["refresh_code"]), 400, 100)


def test_code_of_another_organization_is_refused(http: httpx.Client) -> None:
    """D32: an app of another organization cannot exchange the code; the code stays good for its own org."""
    linked = link(http)
    stolen = exchange(http, RIVAL_APP_TOKEN, linked.code, linked.org_scoped_id)
    assert_graph_error(stolen, 400, 100)
    assert_no_secrets(stolen, linked.code)
    granted(exchange(http, APP_TOKEN, linked.code, linked.org_scoped_id), linked.org_scoped_id)


def test_any_app_of_the_organization_may_exchange(http: httpx.Client, admin: httpx.Client) -> None:
    """D32: 'an app token of an app in that organization': a second app of the same org works."""
    made = admin.post(f"/_admin/orgs/{ORG_ID}/apps", data={"name": "Second Game"}).json()
    linked = link(http)
    granted(exchange(http, made["app_access_token"], linked.code, linked.org_scoped_id), linked.org_scoped_id)


def test_refresh_by_another_organization_is_refused_and_revokes_nothing(http: httpx.Client) -> None:
    linked = link(http)
    grant = exchange(http, APP_TOKEN, linked.code, linked.org_scoped_id).json()
    stolen = refresh(http, RIVAL_APP_TOKEN, linked.org_scoped_id, grant["refresh_code"])
    assert_graph_error(stolen, 400, 100)
    assert_no_secrets(stolen, grant["refresh_code"], grant["oauth_token"])
    assert http.get(f"/me?access_token={grant['oauth_token']}").status_code == 200
    granted(refresh(http, APP_TOKEN, linked.org_scoped_id, grant["refresh_code"]), linked.org_scoped_id)


def test_wrong_org_scoped_id_is_refused(qg: RunningServer, http: httpx.Client) -> None:
    """D32: the code is bound to the org-scoped id: grace's id with ada's code fails; the code survives."""
    ada = link(http, "ada")
    with qg.client() as other:
        grace = link(other, "grace")
    wrong = exchange(http, APP_TOKEN, ada.code, grace.org_scoped_id)
    assert_graph_error(wrong, 400, 100)
    assert "org_scoped_id" in wrong.json()["error"]["message"]
    granted(exchange(http, APP_TOKEN, ada.code, ada.org_scoped_id), ada.org_scoped_id)


def test_code_bound_to_redirect_uri_when_sent(http: httpx.Client) -> None:
    """D32: a redirect_uri sent with the exchange must be the one the code was issued for."""
    linked = link(http)
    answer = http.post("/sso_authorize_code", params={"code": linked.code, "access_token": APP_TOKEN,
                                                      "org_scoped_id": linked.org_scoped_id,
                                                      "redirect_uri": "https://evil.example/cb"})
    assert_graph_error(answer, 400, 100)
    answer = http.post("/sso_authorize_code", params={"code": linked.code, "access_token": APP_TOKEN,
                                                      "org_scoped_id": linked.org_scoped_id,
                                                      "redirect_uri": REDIRECT_URI})
    granted(answer, linked.org_scoped_id)


def test_expired_code(http: httpx.Client, admin: httpx.Client) -> None:
    """D32, D36: a code is good for 10 minutes of server clock, then expired. The emulator clock keeps
    running between requests, so the test keeps a margin on each side of the 600 s line."""
    early = link(http)
    late = link(http)
    admin.post("/_admin/clock", data={"advance_seconds": 590}).raise_for_status()
    granted(exchange(http, APP_TOKEN, early.code, early.org_scoped_id), early.org_scoped_id)
    admin.post("/_admin/clock", data={"advance_seconds": 11}).raise_for_status()
    expired = exchange(http, APP_TOKEN, late.code, late.org_scoped_id)
    error = assert_graph_error(expired, 400, 100)
    assert "expired" in error["message"]
    assert_no_secrets(expired, late.code)


def test_forged_or_unknown_code(http: httpx.Client) -> None:
    linked = link(http)
    for code in ("A" * 64, linked.code[:-1] + ("a" if linked.code[-1] != "a" else "b"), linked.code.lower() + "x"):
        assert_graph_error(exchange(http, APP_TOKEN, code, linked.org_scoped_id), 400, 100)


# --- refresh (D34) ----------------------------------------------------------------------------------------
def test_refresh_reuse_revokes_every_token_of_the_link(http: httpx.Client) -> None:
    """D34: the old refresh code stops at once; presenting it again revokes the link (new tokens included)."""
    linked = link(http)
    grant = exchange(http, APP_TOKEN, linked.code, linked.org_scoped_id).json()
    rotated = refresh(http, APP_TOKEN, linked.org_scoped_id, grant["refresh_code"]).json()
    assert http.get(f"/me?access_token={rotated['oauth_token']}").status_code == 200
    reuse = refresh(http, APP_TOKEN, linked.org_scoped_id, grant["refresh_code"])
    assert_graph_error(reuse, 400, 100)
    assert_no_secrets(reuse, grant["refresh_code"], rotated["refresh_code"])
    for token in (grant["oauth_token"], rotated["oauth_token"]):
        assert_graph_error(http.get(f"/me?access_token={token}"), 401, 190)
    assert_graph_error(refresh(http, APP_TOKEN, linked.org_scoped_id, rotated["refresh_code"]), 400, 100)


def test_refresh_with_wrong_org_scoped_id(qg: RunningServer, http: httpx.Client) -> None:
    ada = link(http, "ada")
    with qg.client() as other:
        grace = link(other, "grace")
    grant = exchange(http, APP_TOKEN, ada.code, ada.org_scoped_id).json()
    assert_graph_error(refresh(http, APP_TOKEN, grace.org_scoped_id, grant["refresh_code"]), 400, 100)
    granted(refresh(http, APP_TOKEN, ada.org_scoped_id, grant["refresh_code"]), ada.org_scoped_id)


def test_unknown_oauth_token_is_401(http: httpx.Client) -> None:
    assert_graph_error(http.get("/me?access_token=OCAe" + "x" * 96), 401, 190)


# --- CSRF and sessions ------------------------------------------------------------------------------------
def test_forged_csrf_token_is_refused(http: httpx.Client) -> None:
    """Consent with a forged, missing or another session's CSRF token: 403 page, no redirect, no code."""
    consent = sign_in(http, "ada")
    real = csrf_of(consent)
    tampered = real[:-1] + ("1" if real[-1] == "0" else "0")  # one character changed, never the real one
    for token in ("0" * 64, "", tampered, real.upper()):
        answer = http.post("/sso/consent", data=form(ORG_ID, REDIRECT_URI, token, decision="link"))
        assert_refused_page(answer, 403)
    missing = http.post("/sso/consent", data={"organization_id": ORG_ID, "redirect_uri": REDIRECT_URI,
                                              "decision": "link"})
    assert_refused_page(missing, 403)


def test_csrf_token_of_another_session_is_refused(qg: RunningServer, http: httpx.Client) -> None:
    """An attacker's own valid token does not work with the victim's session cookie."""
    with qg.client() as attacker:
        attacker_token = csrf_of(sign_in(attacker, "grace"))
    sign_in(http, "ada")
    answer = http.post("/sso/consent", data=form(ORG_ID, REDIRECT_URI, attacker_token, decision="link"))
    assert_refused_page(answer, 403)


def test_cross_site_post_without_cookie_is_refused(qg: RunningServer) -> None:
    """A form posted from another site arrives without the SameSite=Lax cookie: refused, for login too."""
    with qg.client() as victim:
        token = csrf_of(victim.get(page_url()).text)
    with qg.client() as blank:
        login = blank.post("/sso/login", data=form(ORG_ID, REDIRECT_URI, token, org_scoped_id="1"))
        assert_refused_page(login, 403)
        assert_refused_page(blank.post("/sso/consent", data=form(ORG_ID, REDIRECT_URI, token, decision="link")),
                            403)


def test_sign_in_starts_a_new_session(http: httpx.Client) -> None:
    """Session fixation: the cookie set before sign-in is worthless after it."""
    before = http.get(page_url())
    planted = http.cookies.get("qg_sso_session")
    chosen = user_radio_value(before.text, "ada")
    login = http.post("/sso/login", data=form(ORG_ID, REDIRECT_URI, csrf_of(before.text), org_scoped_id=chosen))
    assert login.status_code == 303
    assert http.cookies.get("qg_sso_session") != planted
    with httpx.Client(base_url=str(http.base_url), cookies={"qg_sso_session": planted or ""}) as attacker:
        page = attacker.get(page_url())
        assert "Link account" not in page.text  # the planted session is not signed in


def test_test_user_of_another_org_cannot_sign_in(http: httpx.Client, admin: httpx.Client) -> None:
    """Emulator sign-in accepts only an org-scoped id of this organization."""
    page = http.get(page_url())
    rival = admin.get("/_admin/apps/2000000000000002/users").json()["data"][0]["org_scoped_id"]
    answer = http.post("/sso/login", data=form(ORG_ID, REDIRECT_URI, csrf_of(page.text), org_scoped_id=rival))
    assert answer.status_code == 400 and "location" not in answer.headers


def test_logout_ends_the_session(http: httpx.Client) -> None:
    consent = sign_in(http, "ada")
    out = http.post("/sso/logout", data=form(ORG_ID, REDIRECT_URI, csrf_of(consent)))
    assert out.status_code == 303 and out.headers["location"].startswith("/sso/?")
    assert "Link account" not in http.get(out.headers["location"]).text


def test_cancel_shares_nothing(http: httpx.Client) -> None:
    consent = sign_in(http, "ada")
    answer = http.post("/sso/consent", data=form(ORG_ID, REDIRECT_URI, csrf_of(consent), decision="cancel"))
    assert answer.status_code == 200 and "location" not in answer.headers and "not linked" in answer.text
    assert not CODE.search(answer.text.replace(csrf_free(answer.text), ""))


# --- children (D35) ---------------------------------------------------------------------------------------
def test_under_13_user_is_refused_without_redirect(http: httpx.Client, admin: httpx.Client) -> None:
    """D35: a CH user sees a clear page (403), no redirect, and a direct consent POST issues no code."""
    admin.post("/_admin/apps/1234757621998335/users", data={"alias": "kiddo", "age_category": "CH"}
               ).raise_for_status()
    page = sign_in(http, "kiddo")
    assert "under 13" in page and "Link account" not in page
    answer = http.post("/sso/consent", data=form(ORG_ID, REDIRECT_URI, csrf_of(page), decision="link"))
    assert_refused_page(answer, 403)
    assert "under 13" in answer.text


def test_under_13_exchange_is_403(qg: RunningServer, http: httpx.Client) -> None:
    """D35: a code exchange for a user under 13 is a 403 (a code issued before the age changed)."""
    linked = link(http, "linus")
    # The admin API has no age change; emulate one in the database (either backend).
    assert run_sql(qg, "UPDATE persons SET age_category = 'CH' WHERE alias = 'linus'") == 1
    assert_graph_error(exchange(http, APP_TOKEN, linked.code, linked.org_scoped_id), 403, 200)
