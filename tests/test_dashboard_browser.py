"""The dashboard in a real browser (issue 7): Playwright drives Debian's chromium (never a downloaded one, set
up as in tests/test_sso_browser.py) through each page's main flow, and checks the results over the Graph
API. Screenshots go to test-artifacts/dashboard/; with QG_UPDATE_DOC_IMAGES=1 the docs' ones are copied to
docs/images/dashboard-*.png.
One browser per module keeps the runtime down."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import ADA_ID, APP_ID, APP_TOKEN, GRACE_ID, RunningServer, import_or_skip
from tests.test_sso_browser import LAUNCH_ARGS, ROOT, _chromium

ARTIFACTS = ROOT / "test-artifacts" / "dashboard"
DOC_IMAGES = ROOT / "docs" / "images"
LAPTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = import_or_skip("playwright.sync_api", "the playwright package is not installed")
    executable = _chromium()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(executable), args=LAUNCH_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(qg: RunningServer, browser: Any) -> Iterator[Any]:
    """A signed-in page: the emulator's one-click sign-in as an admin of Doc Studio."""
    context = browser.new_context(viewport=LAPTOP)
    tab = context.new_page()
    tab.goto(f"{qg.url}/dashboard")
    assert tab.get_by_role("heading", level=1).inner_text() == "Sign in to the dashboard"
    _shot(tab, "sign-in")
    tab.get_by_role("button", name="Sign in as admin of Doc Studio").click()
    tab.wait_for_url("**/dashboard/overview")
    yield tab
    context.close()


def _shot(page: Any, name: str, docs: bool = True) -> None:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    # docs/dashboard.md shows these; a plain run changes no tracked file
    if docs and os.environ.get("QG_UPDATE_DOC_IMAGES"):
        DOC_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOC_IMAGES / f"dashboard-{name}.png")


def _graph_error_code(response: httpx.Response) -> int | None:
    return response.json().get("error", {}).get("code") if response.status_code >= 400 else None


def test_rotate_secret_in_the_browser(qg: RunningServer, page: Any) -> None:
    """Issue 7, D12: rotating on the API page shows the new secret once; the old app token is then refused
    over the Graph API (401, code 190) and the new one works."""
    page.goto(f"{qg.url}/dashboard/org")
    assert "Doc Game" in page.inner_text("main")
    _shot(page, "org")
    page.get_by_role("link", name="API").first.click()
    assert page.inner_text("#app-id") == APP_ID
    # Emulator mode, an admin: the curl line carries the world file's secret, in the Authorization header.
    assert f'-H "Authorization: Bearer {APP_TOKEN}"' in page.inner_text("#curl")
    page.get_by_label("I understand the old secret stops working").check()
    page.get_by_role("button", name="Rotate app secret").click()
    page.wait_for_selector("#new-secret")
    secret = page.inner_text("#new-secret")
    assert len(secret) == 32 and page.inner_text("#new-token") == f"OC|{APP_ID}|{secret}"
    _shot(page, "rotated-secret")
    old = httpx.get(f"{qg.url}/{APP_ID}/leaderboards", params={"access_token": APP_TOKEN})
    assert old.status_code == 401 and _graph_error_code(old) == 190
    new = httpx.get(f"{qg.url}/{APP_ID}/leaderboards", params={"access_token": f"OC|{APP_ID}|{secret}"})
    assert new.status_code == 200
    page.reload()  # a reload re-sends nothing: the secret is gone for good
    assert secret not in page.content()


def test_users_tokens_nonces_and_friends(qg: RunningServer, page: Any) -> None:
    """Issue 7: create a teen test user, befriend, mint a user token and use it on /me, mint a nonce and
    validate it with the app token."""
    page.goto(f"{qg.url}/dashboard/apps/{APP_ID}/users")
    page.get_by_label("Alias").fill("zoe")
    page.get_by_label("Display name").fill("Zoe Q")
    page.get_by_label("Age category").select_option("TN")
    page.get_by_role("button", name="Create user").click()
    page.wait_for_selector("text=Tokens for testing")
    assert "Teen (13-17)" in page.inner_text("main")
    user_id = page.url.rsplit("/", 1)[1]
    page.get_by_label("Add a friend").select_option(ADA_ID)
    page.get_by_role("button", name="Add friend").click()
    page.wait_for_selector("text=Tokens for testing")
    assert "ada" in page.locator("section", has_text="Friends").inner_text()
    page.get_by_role("button", name="Mint a user access token").click()
    token = page.inner_text("#new-user-token")
    _shot(page, "user")
    me = httpx.get(f"{qg.url}/me", params={"access_token": token, "fields": "id,alias"})
    assert me.json() == {"id": user_id, "alias": "zoe"}
    page.get_by_role("button", name="Mint a user proof nonce").click()
    nonce = page.inner_text("#new-nonce")
    valid = httpx.post(f"{qg.url}/user_nonce_validate",
                       data={"access_token": APP_TOKEN, "nonce": nonce, "user_id": user_id})
    assert valid.json() == {"is_valid": True}


def test_submit_appears_in_the_inspector_and_links_to_its_board(qg: RunningServer, page: Any) -> None:
    """Issue 7: a Graph submit shows in the inspector (token masked), its page links to the leaderboard,
    whose page ranks, searches, charts, deletes an entry and removes all."""
    for user_id, score in ((ADA_ID, 120), (GRACE_ID, 340)):
        httpx.post(f"{qg.url}/leaderboard_submit_entry", data={
            "access_token": APP_TOKEN, "api_name": "best_leaderboard", "score": str(score), "user_id": user_id,
        }).raise_for_status()
    failed = httpx.post(f"{qg.url}/leaderboard_submit_entry", data={
        "access_token": APP_TOKEN, "api_name": "no_such_board", "score": "1", "user_id": ADA_ID})
    assert failed.status_code == 404
    page.goto(f"{qg.url}/dashboard/apps/{APP_ID}/inspector")
    rows = page.locator("tbody tr")
    assert rows.count() == 3 and "404" in rows.nth(0).inner_text()
    page.get_by_label("Status (200, 4xx, error)").fill("error")
    page.get_by_role("button", name="Filter").click()
    assert page.locator("tbody tr").count() == 1
    page.get_by_label("Status (200, 4xx, error)").fill("")
    page.get_by_label("User (alias or id)").fill("grace")
    page.get_by_role("button", name="Filter").click()
    assert page.locator("tbody tr").count() == 1
    _shot(page, "inspector")
    page.locator("tbody tr a").first.click()
    main = page.inner_text("main")
    assert "/leaderboard_submit_entry" in main and f"OC|{APP_ID}|••••" in main and APP_TOKEN not in page.content()
    _shot(page, "inspector-request")
    page.get_by_role("link", name="Leaderboard best_leaderboard").click()
    page.wait_for_selector("text=Score distribution")
    ranks = page.locator("tbody tr")
    assert ranks.count() == 2 and "grace" in ranks.nth(0).inner_text() and "340" in ranks.nth(0).inner_text()
    assert page.locator("svg[role=img] rect").count() >= 1
    _shot(page, "leaderboard")
    page.get_by_label("Find a user (alias or id)").fill("ada")
    page.get_by_role("button", name="Search").click()
    assert page.locator("tbody tr").count() == 1 and "120" in page.locator("tbody tr").inner_text()
    page.get_by_role("button", name="Delete the entry of ada").click()
    page.wait_for_selector("text=Score distribution")
    board = httpx.get(f"{qg.url}/{APP_ID}/leaderboards", params={"access_token": APP_TOKEN,
                                                                  "api_name": "best_leaderboard"})
    assert board.status_code == 200
    entries = httpx.get(f"{qg.url}/leaderboard_entries", params={
        "access_token": APP_TOKEN, "api_name": "best_leaderboard", "fields": "score,user{id}"}).json()["data"]
    assert [e["user"]["id"] for e in entries] == [GRACE_ID]
    page.get_by_label("Remove every entry").check()
    page.get_by_role("button", name="Remove all entries").click()
    page.wait_for_selector("text=No entries yet")
    assert httpx.get(f"{qg.url}/leaderboard_entries", params={"access_token": APP_TOKEN,
                                                              "api_name": "best_leaderboard"}).json()["data"] == []


def test_create_and_edit_a_leaderboard_with_a_time_window(qg: RunningServer, page: Any) -> None:
    """Issue 7, D19: create a board with a window on the dashboard; the Graph API sees the same board."""
    page.goto(f"{qg.url}/dashboard/apps/{APP_ID}/leaderboards")
    page.get_by_label("API name").fill("weekly_cup")
    page.get_by_label("Sort order").select_option("LOWER_IS_BETTER")
    page.get_by_label("Opens (UTC)").fill("2030-01-01T00:00")
    page.get_by_label("Closes (UTC)").fill("2030-01-08T00:00")
    page.get_by_role("button", name="Create leaderboard").click()
    page.wait_for_selector("text=Score distribution")
    board = httpx.get(f"{qg.url}/{APP_ID}/leaderboards", params={
        "access_token": APP_TOKEN, "api_name": "weekly_cup",
        "fields": "sort_order,earliest_allowed_entry_time,latest_allowed_entry_time"}).json()["data"][0]
    assert board["sort_order"] == "LOWER_IS_BETTER"
    assert board["earliest_allowed_entry_time"] == 1893456000 and board["latest_allowed_entry_time"] == 1894060800
    page.get_by_label("Closes (UTC)").fill("2030-02-01T00:00")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_selector("text=Score distribution")
    assert "2030-02-01 00:00:00 UTC" in page.inner_text("main")


def test_iap_achievements_sso_and_audit(qg: RunningServer, page: Any) -> None:
    """Issue 7: add an IAP item and grant it (purchase history), see achievements, add a redirect URI; every
    change is in the audit log with who did it."""
    page.goto(f"{qg.url}/dashboard/apps/{APP_ID}/iap")
    page.get_by_label("SKU").fill("sword_1")
    page.get_by_label("Name").fill("Sword")
    page.get_by_role("button", name="Add item").click()
    page.wait_for_selector("text=sword_1")
    _shot(page, "iap")
    page.goto(f"{qg.url}/dashboard/users/{ADA_ID}")
    page.get_by_label("Grant an item").select_option("sword_1")
    page.get_by_role("button", name="Grant").click()
    page.wait_for_selector("text=Tokens for testing")
    assert "sword_1" in page.locator("section", has_text="Purchase history").inner_text()
    page.get_by_role("button", name="Reset all achievements").click()
    page.wait_for_selector("text=Tokens for testing")
    page.goto(f"{qg.url}/dashboard/apps/{APP_ID}/achievements")
    assert page.get_by_role("heading", level=1).inner_text() == "Doc Game: achievements"
    page.goto(f"{qg.url}/dashboard/sso")
    page.get_by_label("Add a redirect URI").fill("https://studio.example/other/callback")
    page.get_by_role("button", name="Add").click()
    page.wait_for_selector("text=https://studio.example/other/callback")
    _shot(page, "sso")
    page.goto(f"{qg.url}/dashboard/audit")
    log = page.inner_text("main")
    for action in ("iap.create_item", "user.grant", "user.reset_achievements", "sso.add_redirect_uri"):
        assert action in log
    assert "localhost admin (emulator)" in log
    _shot(page, "audit")


def test_emulator_clock_snapshot_and_reset(qg: RunningServer, page: Any, tmp_path: Any) -> None:
    """Issue 7, D36: advance the clock, export a snapshot, change state, import it back, then reset."""
    page.goto(f"{qg.url}/dashboard/emulator")
    before = httpx.get(f"{qg.url}/_admin/clock", headers={"Authorization": "Bearer test-admin-key"}).json()["now"]
    page.get_by_label("Advance by (seconds)").fill("86400")
    page.get_by_role("button", name="Advance").click()
    page.wait_for_selector("text=Server time")
    after = httpx.get(f"{qg.url}/_admin/clock", headers={"Authorization": "Bearer test-admin-key"}).json()["now"]
    assert after - before >= 86400
    _shot(page, "emulator")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export snapshot (JSON)").click()
    saved = tmp_path / "snapshot.json"
    download.value.save_as(saved)
    assert '"version": 1' in saved.read_text()
    httpx.post(f"{qg.url}/leaderboard_submit_entry", data={
        "access_token": APP_TOKEN, "api_name": "best_leaderboard", "score": "5", "user_id": ADA_ID}).raise_for_status()
    page.get_by_label("Snapshot file to import").set_input_files(str(saved))
    page.get_by_role("button", name="Import (replaces everything)").click()
    page.wait_for_selector("text=Snapshot imported")
    entries = httpx.get(f"{qg.url}/leaderboard_entries", params={"access_token": APP_TOKEN,
                                                                 "api_name": "best_leaderboard"}).json()["data"]
    assert entries == []
    page.get_by_label("Delete all state, this session included").check()
    page.get_by_role("button", name="Reset the emulator").click()
    page.wait_for_url("**/dashboard/login")
    restored = httpx.get(f"{qg.url}/_admin/clock", headers={"Authorization": "Bearer test-admin-key"}).json()
    assert restored["offset_seconds"] == 0


def test_phone_layout_and_keyboard(qg: RunningServer, browser: Any) -> None:
    """Issue 7: on a phone nothing overflows sideways; the skip link is the first Tab stop and is visible."""
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    tab = context.new_page()
    tab.goto(f"{qg.url}/dashboard/login")
    tab.get_by_role("button", name="Sign in as admin of Doc Studio").click()
    tab.wait_for_url("**/dashboard/overview")
    httpx.post(f"{qg.url}/leaderboard_submit_entry", data={
        "access_token": APP_TOKEN, "api_name": "best_leaderboard", "score": "9", "user_id": ADA_ID}).raise_for_status()
    for path in ("/dashboard/overview", "/dashboard/org", f"/dashboard/apps/{APP_ID}",
                 f"/dashboard/apps/{APP_ID}/inspector", f"/dashboard/users/{ADA_ID}", "/dashboard/audit"):
        tab.goto(qg.url + path)
        assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path
    _shot(tab, "phone")
    tab.keyboard.press("Tab")
    assert tab.evaluate("document.activeElement.textContent") == "Skip to content"
    assert tab.evaluate("document.activeElement.getBoundingClientRect().left >= 0")
    context.close()


def _audited(qg: RunningServer, action: str) -> int:
    """How many times the audit log holds ``action``: a reload that posted again would log it twice."""
    events = httpx.get(f"{qg.url}/_admin/audit", headers={"Authorization": "Bearer test-admin-key"}).json()["data"]
    return sum(e["action"] == action for e in events)


def test_overview_is_the_landing_page(qg: RunningServer, page: Any) -> None:
    """Sign-in lands on the overview: the server's addresses, the app's real token (emulator, admin), a curl
    line in the header form, and links into each area."""
    assert page.get_by_role("heading", level=1).inner_text() == "Overview"
    assert page.inner_text(f"#app-token-{APP_ID}") == APP_TOKEN
    read = page.inner_text(f"#curl-read-{APP_ID}")
    assert f'-H "Authorization: Bearer {APP_TOKEN}"' in read and "access_token" not in read
    assert qg.url + "/_admin" in page.inner_text("main")
    _shot(page, "overview")
    page.locator("section.app-summary").get_by_role("link", name="Leaderboards").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Doc Game: leaderboards"


def test_every_action_in_the_browser(qg: RunningServer, page: Any) -> None:
    """Submit (keep-best, then forced) and delete a score, unlock and reset one achievement, grant and refund
    an item, freeze and thaw the clock: each checked over the Graph or admin API, and each page reloaded once
    without posting again (post/redirect/get)."""
    httpx.post(f"{qg.url}/{APP_ID}/achievement_definitions", data={
        "access_token": APP_TOKEN, "api_name": "FIRST_WIN", "achievement_type": "SIMPLE", "title": "First win",
        "description": "Win a race"}).raise_for_status()
    httpx.post(f"{qg.url}/_admin/apps/{APP_ID}/items", headers={"Authorization": "Bearer test-admin-key"},
               data={"sku": "hat", "type": "DURABLE", "name": "Hat"}).raise_for_status()

    def entries() -> list[tuple[int, str]]:
        data = httpx.get(f"{qg.url}/leaderboard_entries", params={
            "access_token": APP_TOKEN, "api_name": "best_leaderboard",
            "fields": "score,extra_data_base64"}).json()["data"]
        return [(e["score"], e["extra_data_base64"]) for e in data]

    page.goto(f"{qg.url}/dashboard/apps/{APP_ID}/leaderboards")
    page.get_by_role("link", name="best_leaderboard").click()
    page.get_by_label("User (alias or id)", exact=True).fill("ada")
    page.get_by_label("Score", exact=True).fill("321")
    page.get_by_label("Extra data (base64)").fill("cmVkIGNhcg==")
    page.get_by_role("button", name="Submit score").click()
    page.wait_for_selector("text=Score submitted")
    assert entries() == [(321, "cmVkIGNhcg==")]
    assert "red car" in page.locator("tbody tr").first.inner_text()
    page.reload()
    assert _audited(qg, "leaderboard.submit") == 1
    page.get_by_label("User (alias or id)", exact=True).fill("ada")
    page.get_by_label("Score", exact=True).fill("12")
    page.get_by_role("button", name="Submit score").click()
    page.wait_for_selector("text=it was kept")
    assert entries() == [(321, "cmVkIGNhcg==")]
    page.get_by_label("User (alias or id)", exact=True).fill("ada")
    page.get_by_label("Score", exact=True).fill("12")
    page.get_by_label("Replace even if not better").check()
    page.get_by_role("button", name="Submit score").click()
    page.wait_for_selector("text=Score submitted")
    assert entries() == [(12, "")]
    _shot(page, "leaderboard-submit", docs=False)
    page.get_by_role("button", name="Delete the entry of ada").click()
    page.wait_for_selector("text=Score distribution")
    assert entries() == []

    page.goto(f"{qg.url}/dashboard/users/{ADA_ID}")
    page.get_by_role("button", name="Unlock FIRST_WIN").click()
    page.wait_for_selector("button[aria-label='Reset FIRST_WIN']")
    progress = httpx.get(f"{qg.url}/{ADA_ID}/achievements", params={
        "access_token": APP_TOKEN, "fields": "api_name,is_unlocked"}).json()["data"]
    assert [(p["api_name"], p["is_unlocked"]) for p in progress] == [("FIRST_WIN", True)]
    page.reload()
    assert _audited(qg, "user.unlock_achievement") == 1
    page.get_by_role("button", name="Reset FIRST_WIN").click()
    page.wait_for_selector("button[aria-label='Unlock FIRST_WIN']")
    assert httpx.get(f"{qg.url}/{ADA_ID}/achievements", params={"access_token": APP_TOKEN}).json()["data"] == []
    page.get_by_label("Grant an item").select_option("hat")
    page.get_by_role("button", name="Grant").click()
    page.get_by_role("button", name="Refund hat").click()
    page.wait_for_selector("#purchases >> text=refunded")
    owned = httpx.get(f"{qg.url}/{APP_ID}/verify_entitlement", params={
        "access_token": APP_TOKEN, "user_id": ADA_ID, "sku": "hat"}).json()
    assert owned == {"success": False}
    page.reload()
    assert _audited(qg, "user.refund") == 1
    _shot(page, "user-actions", docs=False)

    page.goto(f"{qg.url}/dashboard/emulator")
    page.get_by_role("button", name="Freeze the clock").click()
    page.wait_for_selector("#clock-state >> text=frozen")
    clock = httpx.get(f"{qg.url}/_admin/clock", headers={"Authorization": "Bearer test-admin-key"}).json()
    assert clock["frozen"] is True
    page.reload()
    assert _audited(qg, "emulator.clock") == 1
    page.get_by_role("button", name="Let the clock run").click()
    page.wait_for_selector("#clock-state >> text=running")
    clock = httpx.get(f"{qg.url}/_admin/clock", headers={"Authorization": "Bearer test-admin-key"}).json()
    assert clock["frozen"] is False


def test_search_and_paging_in_the_browser(qg: RunningServer, page: Any) -> None:
    """45 more users: the users page pages with Next, and a search finds by alias across pages."""
    for n in range(45):
        qg.server.identity.create_user(int(APP_ID), f"pilot{n:02d}", display_name=f"Pilot {n}")
    page.goto(f"{qg.url}/dashboard/apps/{APP_ID}/users")
    assert page.locator("tbody tr").count() == 25
    page.get_by_role("link", name="Next").click()
    assert page.locator("tbody tr").count() == 24 and "Page 2 of 2" in page.inner_text("main")
    page.get_by_label("Search users").fill("pilot4")
    page.get_by_role("button", name="Search").click()
    assert page.locator("tbody tr").count() == 5  # pilot40..44
    assert "Page 1 of 1 · 5 users" in page.inner_text("main")
    _shot(page, "users-search", docs=False)


def test_sso_demo_flow_lands_on_the_callback_page(qg: RunningServer, page: Any) -> None:
    """The whole demo flow with no studio site: register the emulator's callback page on the SSO page, start
    the flow from there, sign in and consent as grace; the callback page decodes the fragment and shows the
    exchange, which works as copied (the code, the org-scoped id and the app token filled in)."""
    page.goto(f"{qg.url}/dashboard/sso")
    page.get_by_role("button", name="Register the demo callback").click()
    page.get_by_role("link", name="Try it: link a test account").click()
    page.get_by_label("Grace").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Link account").click()
    page.wait_for_selector("body[data-decoded='1']", timeout=15_000)
    assert page.url.startswith(f"{qg.url}/dashboard/sso/callback-demo#")
    code, osid = page.inner_text("#code"), page.inner_text("#org-scoped-id")
    assert len(code) == 64 and osid.isdigit()
    exchange = page.inner_text(f"#exchange-{APP_ID}")
    assert f'"code={code}"' in exchange and f'"org_scoped_id={osid}"' in exchange and APP_TOKEN in exchange
    _shot(page, "callback-demo")
    if shutil.which("curl") is not None:  # run it as a person would paste it
        done = subprocess.run(["bash", "-c", exchange.replace("\\\n", " ") + " --silent --fail"],
                              capture_output=True, text=True, timeout=20)
        assert done.returncode == 0, done.stderr
        grant = httpx.Response(200, content=done.stdout.encode()).json()
    else:
        grant = httpx.post(f"{qg.url}/sso_authorize_code", headers={"Authorization": f"Bearer {APP_TOKEN}"},
                           data={"code": code, "org_scoped_id": osid}).json()
    me = httpx.get(f"{qg.url}/me", headers={"Authorization": f"Bearer {grant['oauth_token']}"},
                   params={"fields": "id,alias"}).json()
    assert me == {"id": osid, "alias": "grace"}
