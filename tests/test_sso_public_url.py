"""D30: the SSO page on a public base URL of its own (``--sso-public-url``), here behind a proxy that serves it
at another host and under a path prefix. Every link, form and redirect of the page to itself must use that
base (a relative ``/sso/login`` would hit the proxy's root and miss the server), the session cookie must be
scoped to the prefix and Secure on https, and the code from the fragment must still exchange."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from questgraph.cli import main
from questgraph.server.serve_options import sso_public_url
from tests.conftest import APP_TOKEN, RunningServer, start_server
from tests.sso_support import ORG_ID, REDIRECT_URI, csrf_of, decode_fragment, form, granted, user_radio_value

PUBLIC = "https://accounts.example.test/link"  # the proxy strips /link and forwards to the server's /sso/…


class PrefixProxy(httpx.BaseTransport):
    """A reverse proxy in the client: https://accounts.example.test/link/X is sent to the server as /X (with
    the public Host, as a proxy keeps it). Any other URL is a bug of the page and fails the test."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.inner = httpx.HTTPTransport()
        self.seen: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.seen.append(url)
        assert url.startswith(PUBLIC + "/sso"), f"the page sent the browser to {url}"
        forwarded = httpx.Request(request.method, self.server_url + url[len(PUBLIC):],
                                  headers=request.headers, content=request.read())
        return self.inner.handle_request(forwarded)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def behind_proxy(tmp_path: Path) -> Iterator[RunningServer]:
    server = start_server(tmp_path, sso_public_url=PUBLIC)
    yield server
    server.stop()


def _actions(html: str) -> list[str]:
    return re.findall(r'(?:action|href)="([^"]+)"', html)


def test_page_links_forms_and_redirects_use_the_sso_public_url(behind_proxy: RunningServer) -> None:
    """D30: the whole flow through the public base; the browser never sees the bind address or a bare /sso."""
    proxy = PrefixProxy(behind_proxy.url)
    with httpx.Client(transport=proxy, follow_redirects=False) as browser:
        page = browser.get(f"{PUBLIC}/sso/", params={"redirect_uri": REDIRECT_URI, "organization_id": ORG_ID})
        assert page.status_code == 200, page.text
        own = [u for u in _actions(page.text) if "sso" in u]
        assert f"{PUBLIC}/sso/static/sso.css" in own and f"{PUBLIC}/sso/login" in own
        assert not any(u.startswith("/sso") for u in _actions(page.text))
        assert behind_proxy.url not in page.text
        cookie = page.headers["set-cookie"]
        assert "Path=/link/sso" in cookie and "Secure" in cookie and "HttpOnly" in cookie
        login = browser.post(f"{PUBLIC}/sso/login", data=form(ORG_ID, REDIRECT_URI, csrf_of(page.text),
                                                              org_scoped_id=user_radio_value(page.text, "ada")))
        assert login.status_code == 303
        assert login.headers["location"].startswith(f"{PUBLIC}/sso/?")
        consent = browser.get(login.headers["location"])
        assert "Link account" in consent.text
        assert f'action="{PUBLIC}/sso/consent"' in consent.text and f'action="{PUBLIC}/sso/logout"' in consent.text
        answer = browser.post(f"{PUBLIC}/sso/consent", data=form(ORG_ID, REDIRECT_URI, csrf_of(consent.text),
                                                                 decision="link"))
        assert answer.status_code == 303
        location = answer.headers["location"]
        assert location.startswith(REDIRECT_URI + "#")  # after consent: the studio's URI, as registered
        # A stale form's "start again" link points at the public page too.
        stale = browser.post(f"{PUBLIC}/sso/consent", data=form(ORG_ID, REDIRECT_URI, "0" * 64, decision="link"))
        assert stale.status_code == 403 and f'href="{PUBLIC}/sso/?' in stale.text
    assert all(u.startswith(PUBLIC) for u in proxy.seen)
    data = decode_fragment(location)
    exchanged = httpx.post(f"{behind_proxy.url}/sso_authorize_code", params={
        "access_token": APP_TOKEN, "code": data["code"], "org_scoped_id": data["org_scoped_id"],
        "redirect_uri": REDIRECT_URI})
    granted(exchanged, data["org_scoped_id"])


def test_the_bind_address_still_serves_the_page(behind_proxy: RunningServer) -> None:
    """D30: the setting changes the URLs the page writes, not where the server listens."""
    page = httpx.get(f"{behind_proxy.url}/sso/", params={"redirect_uri": REDIRECT_URI, "organization_id": ORG_ID})
    assert page.status_code == 200 and f'action="{PUBLIC}/sso/login"' in page.text


def test_without_the_setting_links_stay_relative(qg: RunningServer) -> None:
    """D30 default: no absolute URL to itself, so any host the browser used keeps working."""
    page = httpx.get(f"{qg.url}/sso/", params={"redirect_uri": REDIRECT_URI, "organization_id": ORG_ID})
    assert 'action="/sso/login"' in page.text and 'href="/sso/static/sso.css"' in page.text
    assert "Path=/sso" in page.headers["set-cookie"] and "Secure" not in page.headers["set-cookie"]


def test_dashboard_shows_the_public_page_url(behind_proxy: RunningServer) -> None:
    """D30: the dashboard tells the studio where to send players: the public page, not the bind address."""
    from tests.dash_support import sign_in_emulator

    with behind_proxy.client(follow_redirects=False) as browser:
        sign_in_emulator(browser)
        page = browser.get("/dashboard/sso")
        assert f'<code id="sso-page-url">{PUBLIC}/sso/?organization_id={ORG_ID}' in page.text


@pytest.mark.parametrize("bad", ["ftp://accounts.example", "accounts.example", "https://", "https://a.example/x?y=1",
                                 "https://user:pw@a.example", "https://a.example/sso", "https://a.example/#f",
                                 "https://a example"])
def test_bad_sso_public_url_is_refused_by_the_command_line(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    """D30: a URL the page could not be served behind is refused before anything starts, saying why."""
    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--memory", "--sso-public-url", bad])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "--sso-public-url" in err and "for example https://" in err


def test_sso_public_url_is_kept_without_trailing_slash() -> None:
    assert sso_public_url(" https://Accounts.example.com/link/ ") == "https://Accounts.example.com/link"
    assert sso_public_url("http://127.0.0.1:9000") == "http://127.0.0.1:9000"
