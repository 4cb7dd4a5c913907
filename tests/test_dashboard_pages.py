"""The dashboard over plain HTTP: the overview's tokens and curl lines (by role), every id parsed by the Graph
API's rule (a 404 or 400 page, never a 500), a sign-in's ``next`` that cannot break the answer, search and
paging of users, the inspector and the audit log, every action answering a redirect (post/redirect/get), and
the account-linking demo callback page."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from questgraph.server.world import World
from tests.conftest import ADA_ID, APP_ID, APP_SECRET, APP_TOKEN, RunningServer
from tests.dash_support import DOC_ORG_ID, add_member, csrf, sign_in_emulator, sign_in_password

PAST_INT64 = "9223372036854775808"  # 2**63: 19 ASCII digits, one past int64
SUPERSCRIPT = "²"  # str.isdigit() says yes, int() says no
CALLBACK = "/dashboard/sso/callback-demo"


@pytest.fixture
def browser_client(qg: RunningServer) -> Iterator[httpx.Client]:
    with qg.client(follow_redirects=False) as client:
        yield client


def _token(client: httpx.Client) -> str:
    return csrf(client.get("/dashboard/org").text)


def _curl(text: str, element_id: str) -> str:
    found = re.search(rf'<pre id="{re.escape(element_id)}">(.*?)</pre>', text, re.S)
    assert found is not None, element_id
    return re.sub(r"<[^>]+>", "", found.group(1)).replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&")


# --- the overview ---------------------------------------------------------------------------------------
def test_overview_shows_an_admin_the_real_token_and_header_curl_lines(qg: RunningServer,
                                                                      browser_client: httpx.Client) -> None:
    """The landing page after sign-in: the server's addresses, each app with its app token (the world file's
    real secret, in emulator mode), and curl lines that send it in the Authorization header and work as
    pasted."""
    sign_in_emulator(browser_client)
    assert browser_client.get("/dashboard").headers["location"] == "/dashboard/overview"
    page = browser_client.get("/dashboard/overview").text
    assert f'<code id="app-token-{APP_ID}">{APP_TOKEN}</code>' in page
    assert f"{qg.url}/_admin" in page and f"{qg.url}/dashboard" in page and "Emulator (" in page
    for area in ("users", "leaderboards", "achievements", "iap", "inspector"):
        assert f'href="/dashboard/apps/{APP_ID}/{area}"' in page
    read = _curl(page, f"curl-read-{APP_ID}")
    assert f'-H "Authorization: Bearer {APP_TOKEN}"' in read and "access_token=" not in read
    submit = _curl(page, f"curl-submit-{APP_ID}")
    assert "-d score=100 -d user_id=" in submit and f'-H "Authorization: Bearer {APP_TOKEN}"' in submit
    if shutil.which("curl") is not None:  # as pasted into a shell
        for line, wanted in ((read, '"api_name":"best_leaderboard"'), (submit, '"did_update":true')):
            done = subprocess.run(["bash", "-c", line.replace("\\\n", " ") + " --silent --fail"],
                                  capture_output=True, text=True, timeout=20)
            assert done.returncode == 0 and wanted in done.stdout, (line, done.stdout, done.stderr)
    # The API page's curl line is the header form too, with the same real token.
    api = _curl(browser_client.get(f"/dashboard/apps/{APP_ID}").text, "curl")
    assert f'-H "Authorization: Bearer {APP_TOKEN}"' in api and "access_token" not in api


def test_overview_hides_the_secret_from_developers_and_after_rotation(qg: RunningServer, admin: httpx.Client,
                                                                      browser_client: httpx.Client) -> None:
    """A developer never sees a secret (the role table); after a rotation only a hash is kept, so an admin's
    curl lines say $APP_SECRET too."""
    add_member(admin, "dev@studio.example", "developer", "correct horse battery")
    with qg.client(follow_redirects=False) as developer:
        assert sign_in_password(developer, "dev@studio.example", "correct horse battery").status_code == 303
        page = developer.get("/dashboard/overview").text
        assert APP_SECRET not in page and f"OC|{APP_ID}|$APP_SECRET" in page
        assert APP_SECRET not in developer.get(f"/dashboard/apps/{APP_ID}").text
    sign_in_emulator(browser_client)
    rotated = browser_client.post(f"/dashboard/apps/{APP_ID}/secret",
                                  data={"csrf_token": _token(browser_client), "confirm": "yes"})
    assert rotated.status_code == 200
    page = browser_client.get("/dashboard/overview").text
    assert APP_SECRET not in page and f"OC|{APP_ID}|$APP_SECRET" in page


# --- ids: one rule, never a 500 -------------------------------------------------------------------------
def test_every_id_route_answers_404_for_an_id_past_int64(qg: RunningServer, browser_client: httpx.Client) -> None:
    """Every dashboard route with an id in its path, GET and POST: 2**63 is no object (404 page), never a 500
    (it used to reach the database and overflow)."""
    sign_in_emulator(browser_client)
    token = _token(browser_client)
    routes = [(r.method, "/" + "/".join(PAST_INT64 if s.startswith("{") else s for s in r.segments))
              for r in qg.server.dashboard_pages.private.routes if any(s.startswith("{") for s in r.segments)]
    assert len(routes) > 20
    for method, path in routes:
        answer = browser_client.request(method, path, data={"csrf_token": token} if method == "POST" else None)
        assert answer.status_code == 404, (method, path, answer.status_code)
        assert "There is no such object in your organization." in answer.text


@pytest.mark.parametrize("value", [SUPERSCRIPT, "٣", PAST_INT64, "1" * 30, "-1", "1e3"])
def test_ids_and_numbers_in_forms_and_queries_are_400_or_404_pages(value: str, qg: RunningServer,
                                                                   browser_client: httpx.Client) -> None:
    """Each id or number a dashboard form or query carries, with a value str.isdigit() accepts but int64 does
    not hold (or no number at all): an answer saying what is wrong, never a 500."""
    # Before sign-in: the emulator's one-click form.
    page = browser_client.get("/dashboard/login").text
    refused = browser_client.post("/dashboard/login/emulator", data={"csrf_token": csrf(page), "org_id": value})
    assert refused.status_code == 400 and "Choose an organization." in refused.text
    sign_in_emulator(browser_client)
    token = _token(browser_client)
    board = qg.server.leaderboards.find_board(int(APP_ID), "best_leaderboard")
    assert board is not None
    gets = [f"/dashboard/apps/{APP_ID}/users?page={value}", f"/dashboard/apps/{APP_ID}/inspector?page={value}",
            f"/dashboard/apps/{APP_ID}/leaderboards/{board.id}?page={value}", f"/dashboard/audit?before={value}",
            f"/dashboard/audit?since={value}"]
    for path in gets:
        answer = browser_client.get(path)
        assert answer.status_code == 400 and "Not done" in answer.text and "Param " in answer.text, path
    # Values that name a user (an id or an alias) find none: a page that says so.
    for path in (f"/dashboard/apps/{APP_ID}/inspector?user={value}",
                 f"/dashboard/apps/{APP_ID}/leaderboards/{board.id}?user={value}"):
        assert browser_client.get(path).status_code == 200, path
    posts = [(f"/dashboard/users/{ADA_ID}/friends", {"friend_id": value}, "Choose a user of the same app"),
             ("/dashboard/emulator/clock", {"set": value}, "Param set"),
             ("/dashboard/emulator/clock", {"advance_seconds": value}, "Param advance_seconds"),
             *([] if value == "-1" else [(f"/dashboard/apps/{APP_ID}/leaderboards/{board.id}/entries",
                                          {"entry_user": "ada", "score": value}, "Param score")]),
             (f"/dashboard/apps/{APP_ID}/leaderboards/{board.id}/entries",
              {"entry_user": value, "score": "1"}, "No user")]
    for path, data, message in posts:
        answer = browser_client.post(path, data={"csrf_token": token, **data})
        assert answer.status_code == 400 and message in answer.text, (path, data, answer.status_code)


# --- next: never a broken answer ------------------------------------------------------------------------
@pytest.mark.parametrize("target", ["/dashboard/org\r\nSet-Cookie: planted=1", "/dashboard/org\nx", "/dashboard/org\r",
                                    "/dashboard/org\x00", "/dashboard/org\t", "/dashboard/ünï", "/dashboard/org x",
                                    "//evil.example/", "/dashboard.evil/", "https://evil.example/dashboard/",
                                    "/dashboard/\\evil"])
def test_sign_in_with_a_bad_next_lands_on_the_overview(target: str, qg: RunningServer, admin: httpx.Client,
                                                       browser_client: httpx.Client) -> None:
    """A CR, LF, NUL, tab, space or non-ASCII letter in ``next`` (or another site) is not put in the Location
    header: the sign-in goes to the overview and the session cookie arrives (it used to be a dropped answer)."""
    add_member(admin, "boss@studio.example", "admin", "a long passphrase")
    page = browser_client.get("/dashboard/login").text
    answer = browser_client.post("/dashboard/login", data={
        "csrf_token": csrf(page), "email": "boss@studio.example", "password": "a long passphrase", "next": target})
    assert answer.status_code == 303 and answer.headers["location"] == "/dashboard/overview"
    assert "qg_dash_session=" in answer.headers["set-cookie"] and "planted" not in answer.headers["set-cookie"]
    assert "boss@studio.example" in browser_client.get("/dashboard/overview").text
    with qg.client(follow_redirects=False) as other:  # the one-click sign-in reads next the same way
        form = other.get("/dashboard/login").text
        one_click = other.post("/dashboard/login/emulator", data={"csrf_token": csrf(form), "org_id": DOC_ORG_ID,
                                                                  "next": target})
        assert one_click.status_code == 303 and one_click.headers["location"] == "/dashboard/overview"


def test_a_good_next_is_kept(browser_client: httpx.Client) -> None:
    page = browser_client.get("/dashboard/login", params={"next": f"/dashboard/apps/{APP_ID}/users?q=ad"}).text
    answer = browser_client.post("/dashboard/login/emulator", data={
        "csrf_token": csrf(page), "org_id": DOC_ORG_ID, "next": f"/dashboard/apps/{APP_ID}/users?q=ad"})
    assert answer.headers["location"] == f"/dashboard/apps/{APP_ID}/users?q=ad"


# --- search and paging --------------------------------------------------------------------------------
def _rows(html: str) -> list[str]:
    body = html[html.index("<tbody>"):html.index("</tbody>")] if "<tbody>" in html else ""
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


def test_users_search_and_paging(qg: RunningServer, browser_client: httpx.Client) -> None:
    """45 users more than the world's: 25 a page, Next and Previous, a search by alias, name or id that keeps
    its query across pages."""
    for n in range(45):
        qg.server.identity.create_user(int(APP_ID), f"pilot{n:02d}", display_name=f"Pilot Number {n}")
    total = len(qg.server.identity.app_users(int(APP_ID)))
    sign_in_emulator(browser_client)
    base = f"/dashboard/apps/{APP_ID}/users"
    first = browser_client.get(base).text
    assert len(_rows(first)) == 25 and f"Page 1 of {(total + 24) // 25} · {total} users" in first
    assert f'href="{base}?page=2"' in first and 'rel="prev"' not in first
    last = browser_client.get(base, params={"page": (total + 24) // 25}).text
    assert len(_rows(last)) == total - 25 * ((total - 1) // 25) and 'rel="next"' not in last
    found = browser_client.get(base, params={"q": "PILOT1"}).text  # any case: pilot10..pilot19
    assert len(_rows(found)) == 10 and "pilot15" in found and "pilot20" not in found
    by_name = browser_client.get(base, params={"q": "number 3"}).text  # 3, 30..39
    assert len(_rows(by_name)) == 11
    paged = browser_client.get(base, params={"q": "pilot"}).text
    assert f'href="{base}?q=pilot&amp;page=2"' in paged and "Page 1 of 2 · 45 users" in paged
    second = browser_client.get(base, params={"q": "pilot", "page": "2"}).text
    assert len(_rows(second)) == 20 and "pilot44" in second and "pilot00" not in second
    by_id = browser_client.get(base, params={"q": ADA_ID}).text
    assert len(_rows(by_id)) == 1 and ">ada</a>" in by_id
    assert "No user matches." in browser_client.get(base, params={"q": "nobody-like-this"}).text
    # The search runs in SQL (one page read, not the whole list): LIKE's wildcards in a query are letters.
    qg.server.identity.create_user(int(APP_ID), "under_score", display_name="Hundred % Sure")
    for query, wanted in (("_", 1), ("%", 1), ("r_s", 1), ("100", 0), ("\\", 0), ("9" * 30, 0)):
        rows = _rows(browser_client.get(base, params={"q": query}).text)
        assert len(rows) == wanted, (query, rows)


def test_inspector_paging_keeps_its_filters(qg: RunningServer, browser_client: httpx.Client) -> None:
    """60 requests: 25 a page, newest first, and a filtered list pages within the filter."""
    for n in range(60):
        httpx.get(f"{qg.url}/{APP_ID}/leaderboards" if n % 2 else f"{qg.url}/{APP_ID}/achievement_definitions",
                  params={"access_token": APP_TOKEN})
    sign_in_emulator(browser_client)
    base = f"/dashboard/apps/{APP_ID}/inspector"
    first = browser_client.get(base).text
    assert len(_rows(first)) == 25 and "Page 1 of 3 · 60 requests" in first
    third = browser_client.get(base, params={"page": "3"}).text
    assert len(_rows(third)) == 10
    filtered = browser_client.get(base, params={"endpoint": "achievement_definitions"}).text
    assert "Page 1 of 2 · 30 requests" in filtered
    assert f'href="{base}?endpoint=achievement_definitions&amp;page=2"' in filtered
    rest = browser_client.get(base, params={"endpoint": "achievement_definitions", "page": "2"}).text
    assert len(_rows(rest)) == 5 and f"<code>/{APP_ID}/leaderboards</code>" not in rest
    assert len(_rows(browser_client.get(base, params={"page": "4"}).text)) == 0


def test_audit_log_filters_and_pages(qg: RunningServer, browser_client: httpx.Client) -> None:
    """Filters by what the action and the actor contain (any case) and by time; 50 a page with Older."""
    service = qg.server.dashboard
    org = int(DOC_ORG_ID)
    for n in range(60):
        service.audit(org, "robot@studio.example" if n % 3 else "Carol@Studio.example", "user.create", f"user {n}")
    service.audit(org, "carol@studio.example", "iap.create_item", "app 1")
    sign_in_emulator(browser_client)  # a session.sign_in event too
    first = browser_client.get("/dashboard/audit").text
    assert len(_rows(first)) == 50 and "iap.create_item" in first and "session.sign_in" in first
    older = re.search(r'href="/dashboard/audit\?before=(\d+)"', first)
    assert older is not None
    rest = browser_client.get("/dashboard/audit", params={"before": older.group(1)}).text
    assert len(_rows(rest)) == 12 and "user 0<" in rest and "Newest" in rest
    carol = browser_client.get("/dashboard/audit", params={"actor": "CAROL"}).text
    assert len(_rows(carol)) == 21 and "robot@" not in carol
    created_by_carol = browser_client.get("/dashboard/audit", params={"actor": "carol", "action": "create_item"}).text
    assert len(_rows(created_by_carol)) == 1 and "iap.create_item" in created_by_carol
    robots = browser_client.get("/dashboard/audit", params={"actor": "robot"}).text
    assert len(_rows(robots)) == 40 and 'href="/dashboard/audit?actor=robot&amp;before=' not in robots
    assert "No action matches." in browser_client.get("/dashboard/audit", params={"action": "100%_"}).text
    now = qg.server.clock.now()
    assert len(_rows(browser_client.get("/dashboard/audit", params={"until": str(now - 3600)}).text)) == 0
    assert len(_rows(browser_client.get("/dashboard/audit", params={"since": str(now - 3600),
                                                                    "action": "user.create"}).text)) == 50


# --- post, then redirect ------------------------------------------------------------------------------------
def test_actions_answer_redirects(qg: RunningServer, admin: httpx.Client, browser_client: httpx.Client) -> None:
    """Every action that changes something answers 303 to a page (a reload of that page posts nothing again),
    and the change is there: submit, unlock, reset one, refund, freeze."""
    httpx.post(f"{qg.url}/{APP_ID}/achievement_definitions", data={
        "access_token": APP_TOKEN, "api_name": "FIRST_WIN", "achievement_type": "SIMPLE", "title": "First win",
        "description": "Win a race",
        "achievement_write_policy": "SERVER_AUTHORITATIVE"}).raise_for_status()
    admin.post(f"/_admin/apps/{APP_ID}/items", data={"sku": "hat", "type": "DURABLE", "name": "Hat"}).raise_for_status()
    sign_in_emulator(browser_client)
    token = _token(browser_client)
    board = qg.server.leaderboards.find_board(int(APP_ID), "best_leaderboard")
    assert board is not None
    board_page = f"/dashboard/apps/{APP_ID}/leaderboards/{board.id}"
    user_page = f"/dashboard/users/{ADA_ID}"
    steps = [
        (f"{board_page}/entries", {"entry_user": "ada", "score": "77", "extra_data_base64": "cmVkIGNhcg=="},
         f"{board_page}?user=ada&submitted=updated"),
        (f"{board_page}/entries", {"entry_user": "ada", "score": "5"}, f"{board_page}?user=ada&submitted=kept"),
        (f"{user_page}/achievements/unlock", {"api_name": "FIRST_WIN"}, f"{user_page}#achievements"),
        (f"{user_page}/purchases", {"sku": "hat"}, user_page),
        (f"{user_page}/purchases/refund", {"sku": "hat"}, f"{user_page}#purchases"),
        ("/dashboard/emulator/clock", {"freeze": "true"}, "/dashboard/emulator"),
    ]
    for path, data, location in steps:
        answer = browser_client.post(path, data={"csrf_token": token, **data})
        assert answer.status_code == 303 and answer.headers["location"] == location, (path, answer.text[:300])
    shown = browser_client.get(f"{board_page}?user=ada&submitted=kept").text
    assert "it was kept" in shown and "<strong>77</strong>" in shown and "red car" in shown
    entries = httpx.get(f"{qg.url}/leaderboard_entries", params={
        "access_token": APP_TOKEN, "api_name": "best_leaderboard", "fields": "score,extra_data_base64"}).json()["data"]
    assert [(e["score"], e["extra_data_base64"]) for e in entries] == [(77, "cmVkIGNhcg==")]
    progress = httpx.get(f"{qg.url}/{ADA_ID}/achievements", params={"access_token": APP_TOKEN,
                                                                    "fields": "api_name,is_unlocked"}).json()["data"]
    assert [(p["api_name"], p["is_unlocked"]) for p in progress] == [("FIRST_WIN", True)]
    owned = httpx.get(f"{qg.url}/{APP_ID}/verify_entitlement", params={
        "access_token": APP_TOKEN, "user_id": ADA_ID, "sku": "hat"}).json()
    assert owned["success"] is False
    assert "refunded" in browser_client.get(user_page).text
    clock = admin.get("/_admin/clock").json()
    assert clock["frozen"] is True
    reset = browser_client.post(f"{user_page}/achievements/reset_one", data={"csrf_token": token,
                                                                             "api_name": "FIRST_WIN"})
    assert reset.status_code == 303
    assert httpx.get(f"{qg.url}/{ADA_ID}/achievements", params={"access_token": APP_TOKEN}).json()["data"] == []
    thawed = browser_client.post("/dashboard/emulator/clock", data={"csrf_token": token, "freeze": "false"})
    assert thawed.status_code == 303 and admin.get("/_admin/clock").json()["frozen"] is False


def test_a_resent_rotation_does_not_rotate_again(qg: RunningServer, browser_client: httpx.Client) -> None:
    """The rotation's answer shows the new secret once, so it is not a redirect: the form names the secret it
    replaces, and sending the same form again (a reload) is refused and keeps the secret just shown."""
    sign_in_emulator(browser_client)
    page = browser_client.get(f"/dashboard/apps/{APP_ID}").text
    current = re.search(r'name="current" value="([0-9a-f]{16})"', page)
    assert current is not None
    form = {"csrf_token": csrf(page), "confirm": "yes", "current": current.group(1)}
    first = browser_client.post(f"/dashboard/apps/{APP_ID}/secret", data=form)
    secret = re.search(r'<code id="new-secret">([0-9a-f]{32})</code>', first.text)
    assert first.status_code == 200 and secret is not None
    again = browser_client.post(f"/dashboard/apps/{APP_ID}/secret", data=form)
    assert again.status_code == 400 and "already rotated" in again.text and "new-secret" not in again.text
    works = httpx.get(f"{qg.url}/{APP_ID}/leaderboards", params={"access_token": f"OC|{APP_ID}|{secret.group(1)}"})
    assert works.status_code == 200


# --- the account-linking demo callback ------------------------------------------------------------------
def test_the_demo_world_registers_the_callback_page() -> None:
    """The demo's linking flow ends on the emulator's callback page on serve-demo's address (and the old
    studio address stays registered)."""
    uris = World.demo().data["orgs"][0]["sso_redirect_uris"]
    assert "http://127.0.0.1:8080" + CALLBACK in uris and "http://localhost:3000/auth/meta/callback" in uris


def test_the_callback_page_shows_the_exchange(qg: RunningServer) -> None:
    """Public (a login URL is); on this machine in emulator mode its exchange line carries the real app token."""
    with qg.client(follow_redirects=False) as anyone:
        page = anyone.get(CALLBACK)
        script = anyone.get("/dashboard/static/callback.js")
    assert page.status_code == 200 and "Account-linking callback (demo)" in page.text
    exchange = _curl(page.text, f"exchange-{APP_ID}")
    assert f'-H "Authorization: Bearer {APP_TOKEN}"' in exchange and f"{qg.url}/sso_authorize_code" in exchange
    assert 'src="/dashboard/static/callback.js"' in page.text
    assert script.headers["content-type"].startswith("text/javascript") and "atob" in script.text


@pytest.mark.parametrize("field", ["email", "password"])
def test_a_nul_in_a_form_is_a_400_page_on_every_backend(field: str, qg: RunningServer,
                                                       browser_client: httpx.Client) -> None:
    """The Graph layer's text rule (D2) on the dashboard's forms: PostgreSQL cannot store a NUL and used to
    answer it as an outage (503 "The database is unavailable"); SQLite stored it. Now both refuse it."""
    page = browser_client.get("/dashboard/login").text
    values = {"csrf_token": csrf(page), "email": "boss@studio.example", "password": "a long passphrase",
              "next": "/dashboard/overview"}
    body = "&".join(f"{key}={'a%00b' if key == field else quote(value, safe='')}" for key, value in values.items())
    answer = browser_client.post("/dashboard/login", content=body.encode(),
                                 headers={"content-type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 400, answer.text
    assert "Not done" in answer.text and field in answer.text
    assert "qg_dash_session=" not in answer.headers.get("set-cookie", "")
