"""The SSO page in a real browser (D30, D31, D35): Playwright drives Debian's chromium (never a downloaded one)
through sign-in and consent, follows the redirect to a small studio site whose page decodes the fragment
with JavaScript and whose server exchanges the code (the app secret stays on the studio's server), then
reads /me. Screenshots are kept under test-artifacts/sso/; with QG_UPDATE_DOC_IMAGES=1 the docs' ones are
copied to docs/images/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tests.conftest import APP_TOKEN, RunningServer, free_port, import_or_skip, skip_or_fail
from tests.sso_support import ORG_ID

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "sso"
DOC_IMAGES = ROOT / "docs" / "images"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]
_apt_updated = False

CALLBACK_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Studio: signed in</title>
<style>body{font:16px system-ui;margin:3rem;color:#1c2b33} code{word-break:break-all}</style></head>
<body><h1>Studio login callback</h1>
<p>org_scoped_id: <code id="org-scoped-id">…</code></p>
<p>code: <code id="code">…</code></p>
<p>Linked alias: <strong id="alias">…</strong></p>
<script>
// What a studio's login page does (public client code): read the fragment, atob, JSON.parse.
const data = JSON.parse(atob(location.hash.slice(1)));
document.getElementById("org-scoped-id").textContent = data.org_scoped_id;
document.getElementById("code").textContent = data.code.slice(0, 6) + "… (64 characters)";
fetch("/exchange", {method: "POST", headers: {"content-type": "application/json"},
                    body: JSON.stringify({code: data.code, org_scoped_id: data["org-scoped_id"]})})
  .then(r => r.json())
  .then(me => { document.getElementById("alias").textContent = me.alias; document.body.dataset.done = "1"; });
</script></body></html>
"""


def _chromium() -> Path:
    """Debian's chromium; installed with apt-get when missing and we are root, else the test is skipped
    (under CI it fails: CI has chromium)."""
    global _apt_updated
    if CHROMIUM.exists():
        return CHROMIUM
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        skip_or_fail("/usr/bin/chromium is missing and we cannot install it (not root or no apt-get); "
                    "install Debian's chromium package to run the browser tests")
    if not _apt_updated:
        subprocess.run(["apt-get", "update"], check=True, capture_output=True, timeout=600)
        _apt_updated = True
    subprocess.run(["apt-get", "install", "-y", "chromium"], check=True, capture_output=True, timeout=1200,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    if not CHROMIUM.exists():
        skip_or_fail("apt-get install chromium did not provide /usr/bin/chromium")
    return CHROMIUM


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = import_or_skip("playwright.sync_api", "the playwright package is not installed")
    executable = _chromium()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(executable), args=LAUNCH_ARGS)
        yield launched
        launched.close()


class Studio:
    """The studio's website: its login callback page and the server side that exchanges the code."""

    def __init__(self, questgraph_url: str) -> None:
        self.port = free_port()
        self.exchanges: list[dict[str, Any]] = []
        studio = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                body = CALLBACK_PAGE.encode()
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                sent = json.loads(self.rfile.read(int(self.headers["content-length"])))
                with httpx.Client(base_url=questgraph_url) as client:
                    grant = client.post("/sso_authorize_code", params={
                        "code": sent["code"], "access_token": APP_TOKEN, "org_scoped_id": sent["org_scoped_id"]})
                    me = client.get("/me", params={"access_token": grant.json().get("oauth_token", ""),
                                                   "fields": "id,alias"})
                studio.exchanges.append({"grant_status": grant.status_code, "me": me.json()})
                body = json.dumps(me.json()).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def callback(self) -> str:
        return f"http://127.0.0.1:{self.port}/auth/callback"

    def __enter__(self) -> Studio:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _shot(page: Any, name: str, docs: bool = False) -> None:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if docs and os.environ.get("QG_UPDATE_DOC_IMAGES"):  # a test run must not rewrite tracked files
        DOC_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOC_IMAGES / f"sso-{name}.png")


def test_link_in_a_real_browser(qg: RunningServer, admin: httpx.Client, browser: Any) -> None:
    """D30, D31: click through sign-in and consent; the studio page decodes the fragment with JavaScript and
    its server exchanges the code; /me then names the user who signed in."""
    with Studio(qg.url) as studio:
        admin.post(f"/_admin/orgs/{ORG_ID}/redirect_uris", data={"redirect_uri": studio.callback}).raise_for_status()
        context = browser.new_context(viewport={"width": 900, "height": 900})
        page = context.new_page()
        page.goto(f"{qg.url}/sso/?" + urlencode({"redirect_uri": studio.callback, "organization_id": ORG_ID}))
        assert page.get_by_role("heading", level=1).inner_text() == "Sign in"
        _shot(page, "1-sign-in", docs=True)
        page.get_by_label("Grace").check()  # the label names the test user (display name, @alias)
        page.get_by_role("button", name="Continue").click()
        page.wait_for_selector("text=Link your account")
        assert "Doc Studio" in page.inner_text("main")
        _shot(page, "2-consent", docs=True)
        page.get_by_role("button", name="Link account").click()
        page.wait_for_selector("body[data-done='1']", timeout=15_000)
        assert page.url.startswith(studio.callback + "#")
        assert page.inner_text("#alias") == "grace"
        _shot(page, "3-studio-callback", docs=True)
        context.close()
    assert studio.exchanges == [{"grant_status": 200, "me": {"id": page_osid(studio), "alias": "grace"}}]


def page_osid(studio: Studio) -> str:
    return str(studio.exchanges[0]["me"]["id"])


def test_keyboard_only_sign_in(qg: RunningServer, browser: Any) -> None:
    """Accessibility: the sign-in works with the keyboard alone, and focus is visible on the focused control."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{qg.url}/sso/?" + urlencode({"redirect_uri": "https://studio.example/auth/callback",
                                             "organization_id": ORG_ID}))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "org_scoped_id"
    outline = page.evaluate("getComputedStyle(document.activeElement.nextElementSibling).outlineStyle")
    assert outline == "solid"  # the label of the focused radio shows the focus ring
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Continue"
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Link your account")
    context.close()


def test_refusal_pages_in_a_browser(qg: RunningServer, admin: httpx.Client, browser: Any) -> None:
    """D30, D35: the unregistered-URI page and the under-13 page, as a browser shows them; neither leaves."""
    admin.post("/_admin/apps/1234757621998335/users", data={"alias": "kiddo", "display_name": "Kiddo",
                                                            "age_category": "CH"}).raise_for_status()
    context = browser.new_context(viewport={"width": 900, "height": 700})
    page = context.new_page()
    bad = f"{qg.url}/sso/?" + urlencode({"redirect_uri": "https://evil.example/steal", "organization_id": ORG_ID})
    answer = page.goto(bad)
    assert answer.status == 400 and page.url == bad
    assert page.get_by_role("heading", level=1).inner_text() == "Unregistered return address"
    _shot(page, "4-unregistered-redirect", docs=True)
    page.goto(f"{qg.url}/sso/?" + urlencode({"redirect_uri": "https://studio.example/auth/callback",
                                             "organization_id": ORG_ID}))
    page.get_by_label("Kiddo").check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_selector("text=This account can't be linked")
    assert page.url.startswith(qg.url + "/sso/")
    _shot(page, "5-under-13", docs=True)
    context.close()
