"""Helpers of the account-linking tests (D30-D35): drive the SSO page with a plain HTTP client the way a
browser would (GET the page, pick a user, POST consent with the CSRF token) and read the redirect."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

ORG_ID = "1000000000000001"  # "Doc Studio" of tests/world.toml, owner of APP_ID
RIVAL_ORG_ID = "2000000000000001"
REDIRECT_URI = "https://studio.example/auth/callback"
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')
OAUTH_TOKEN = re.compile(r"OCAe[A-Za-z0-9]{96}")
CODE = re.compile(r"[A-Za-z0-9]{64}")


def page_url(org_id: str = ORG_ID, redirect_uri: str = REDIRECT_URI) -> str:
    return "/sso/?" + urlencode({"redirect_uri": redirect_uri, "organization_id": org_id})


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, html
    return found.group(1)


def user_radio_value(html: str, alias: str) -> str:
    """The org-scoped id behind the radio button of ``alias`` in the emulator's list of test users."""
    found = re.search(r'name="org_scoped_id" value="([0-9]+)"[^>]*><label[^>]*>(?:(?!</label>).)*@'
                      + re.escape(alias) + r" ", html, re.S)
    assert found, f"no test user {alias} in the page"
    return found.group(1)


def form(org_id: str, redirect_uri: str, csrf: str, **extra: str) -> dict[str, str]:
    return {"organization_id": org_id, "redirect_uri": redirect_uri, "csrf_token": csrf, **extra}


def sign_in(client: httpx.Client, alias: str, org_id: str = ORG_ID, redirect_uri: str = REDIRECT_URI) -> str:
    """Emulator sign-in as ``alias``; returns the consent page's HTML."""
    page = client.get(page_url(org_id, redirect_uri))
    assert page.status_code == 200, page.text
    if 'name="org_scoped_id"' not in page.text and f"Signed in as @{alias}<" in page.text:
        return page.text  # this browser is signed in already: the page is the consent step
    chosen = user_radio_value(page.text, alias)
    login = client.post("/sso/login", data=form(org_id, redirect_uri, csrf_of(page.text), org_scoped_id=chosen))
    assert login.status_code == 303, login.text
    assert login.headers["location"].startswith("/sso/?")
    consent = client.get(login.headers["location"])
    return consent.text


def decode_fragment(location: str) -> dict[str, str]:
    _, _, fragment = location.partition("#")
    data: dict[str, str] = json.loads(base64.b64decode(fragment, validate=True))
    return data


@dataclass
class Linked:
    code: str
    org_scoped_id: str
    location: str


def link(client: httpx.Client, alias: str = "ada", org_id: str = ORG_ID, redirect_uri: str = REDIRECT_URI) -> Linked:
    """The whole page flow; returns the code and org-scoped id from the redirect fragment (D31)."""
    consent = sign_in(client, alias, org_id, redirect_uri)
    assert "Link account" in consent, consent
    answer = client.post("/sso/consent", data=form(org_id, redirect_uri, csrf_of(consent), decision="link"))
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    data = decode_fragment(location)
    assert data["org_scoped_id"] == data["org-scoped_id"]
    return Linked(data["code"], data["org_scoped_id"], location)


def exchange(client: httpx.Client, app_token: str, code: str, org_scoped_id: str) -> httpx.Response:
    """Step 4 of the guide, verbatim: every parameter in the query string of a POST."""
    return client.post(f"/sso_authorize_code?code={code}&access_token={app_token}&org_scoped_id={org_scoped_id}")


def refresh(client: httpx.Client, app_token: str, org_scoped_id: str, refresh_code: str) -> httpx.Response:
    return client.post(f"/sso_authorize_refresh_code?access_token={app_token}&org_scoped_id={org_scoped_id}"
                       f"&refresh_code={refresh_code}")


def granted(response: httpx.Response, org_scoped_id: str) -> dict[str, str]:
    """A successful exchange or refresh (D32-D34): exactly a well-formed oauth_token and refresh_code (D11),
    and the token opens ``/me`` as ``org_scoped_id`` (D33). Returns the body."""
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    assert set(body) == {"oauth_token", "refresh_code"}, body
    assert OAUTH_TOKEN.fullmatch(body["oauth_token"]) and CODE.fullmatch(body["refresh_code"]), body
    me = httpx.get(str(response.request.url.copy_with(path="/me", query=None)),
                   headers={"Authorization": f"OAuth {body['oauth_token']}"})
    assert me.status_code == 200, me.text
    assert me.json()["id"] == org_scoped_id
    return body
