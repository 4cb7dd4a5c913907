"""What a newcomer meets first: a banner that prints what the database holds (after a rotation, a restart,
an edited world), the root URL in a browser, the admin API's own body limit, grant times and chosen nonces
in the admin API and the world file, and the clock's way back to the wall clock."""

from __future__ import annotations

import json
import logging
import re
import textwrap
import time
import tomllib
from pathlib import Path

import httpx
import pytest

from questgraph.cli import banner
from questgraph.server.app import Server
from questgraph.server.settings import Settings
from questgraph.server.world import World, WorldError
from tests.conftest import (
    ADA_ID,
    ADMIN_KEY,
    APP_ID,
    APP_TOKEN,
    UNENTITLED_ID,
    RunningServer,
    assert_graph_error,
    start_server,
)
from tests.dash_support import csrf, sign_in_emulator

STUDIO = """
[[orgs]]
id = "3000000000000001"
name = "Studio"
  [[orgs.apps]]
  id = "3000000000000002"
  name = "Game"
  secret = "abcdef0123456789abcdef0123456789"
    [[orgs.apps.leaderboards]]
    api_name = "board"
    sort_order = "HIGHER_IS_BETTER"

[[users]]
alias = "ada"
  [[users.apps]]
  app = "3000000000000002"
  id = "300000000000003"
  tokens = ["OCadaToken000000000000000000000000"]

[[users]]
alias = "bob"
  [[users.apps]]
  app = "3000000000000002"
"""
STUDIO_MORE = """
[[users]]
alias = "cy"

[[users]]
alias = "di"
"""
STUDIO_TOKEN = "OC|3000000000000002|abcdef0123456789abcdef0123456789"


def world(text: str, source: str = "world.toml") -> World:
    return World(tomllib.loads(textwrap.dedent(text)), source)


def file_server(path: Path, text: str) -> Server:
    return Server(Settings(database=str(path / "qg.sqlite3"), admin_key=ADMIN_KEY), world(text))


# --- the banner -------------------------------------------------------------------------------------------
@pytest.mark.sqlite_only  # no server: a SQLite file or memory
def test_the_banner_after_a_rotation_and_a_restart_prints_no_dead_secret(tmp_path: Path) -> None:
    """The world's secret works: it is printed, with a curl line. Rotated and restarted: the banner says the
    secret was rotated and how to get a new one, and prints no curl line with a token that answers 401."""
    first = file_server(tmp_path, STUDIO)
    text = banner(first, first.world)
    assert f"app access token: {STUDIO_TOKEN}" in text and f"Bearer {STUDIO_TOKEN}" in text
    first.identity.rotate_secret(3000000000000002)
    first.db.close()
    again = file_server(tmp_path, STUDIO)  # the restart: same database, same world file
    text = banner(again, again.world)
    assert "abcdef0123456789abcdef0123456789" not in text
    assert "rotated" in text and "questgraph apps rotate-secret 3000000000000002" in text
    assert "curl -G" not in text and "no curl line, as no app token is known" in text
    assert "user ada: id 300000000000003  token OCadaToken000000000000000000000000" in text  # still works
    assert "was not applied" not in text  # the same world: nothing to warn about
    again.db.close()


@pytest.mark.sqlite_only  # no server: a SQLite file or memory
def test_the_banner_shows_the_id_the_server_chose(tmp_path: Path) -> None:
    server = file_server(tmp_path, STUDIO)
    bob = next(u for u in server.identity.app_users(3000000000000002) if u.alias == "bob")
    text = banner(server, server.world)
    assert f"  user bob: id {bob.id}" in text.splitlines() and "id ?" not in text
    server.db.close()


@pytest.mark.sqlite_only  # no server: a SQLite file or memory
def test_a_revoked_token_is_not_printed(tmp_path: Path) -> None:
    server = file_server(tmp_path, STUDIO)
    server.db.run("DELETE FROM user_tokens")
    text = banner(server, server.world)
    assert "  user ada: id 300000000000003" in text.splitlines() and "OCadaToken" not in text
    server.db.close()


@pytest.mark.sqlite_only  # no server: a SQLite file or memory
def test_long_lists_are_cut_short_with_the_command_that_lists_them(tmp_path: Path) -> None:
    users = "".join(f'\n[[users]]\nalias = "u{n:02d}"\n  [[users.apps]]\n  app = "3000000000000002"\n'
                    for n in range(25))
    server = file_server(tmp_path, STUDIO + users)
    lines = banner(server, server.world).splitlines()
    assert sum(line.startswith("  user ") for line in lines) == 10
    assert "  … and 17 more users: questgraph users list 3000000000000002" in lines  # 27 users in all
    server.db.close()


@pytest.mark.sqlite_only  # no server: a SQLite file or memory
def test_an_edited_world_is_not_applied_and_the_banner_says_so(tmp_path: Path) -> None:
    """The world is applied to an empty database only: an edited file is named, with the flag that applies it."""
    file_server(tmp_path, STUDIO).db.close()
    edited = STUDIO + '\n[[users]]\nalias = "carol"\n  [[users.apps]]\n  app = "3000000000000002"\n'
    server = file_server(tmp_path, edited)
    assert server.world_not_applied
    text = banner(server, server.world)
    assert "world.toml was not applied" in text and "--reset" in text
    assert "carol" not in text  # the banner shows the database, which has no carol
    server.reset()  # what --reset does at start-up, and POST /_admin/reset: the edited world is applied
    text = banner(server, server.world)
    assert "was not applied" not in text and "user carol: id " in text
    server.db.close()
    assert not file_server(tmp_path, edited).world_not_applied  # the next start knows it was applied


@pytest.mark.sqlite_only  # no server: memory
def test_applying_a_big_world_logs_its_progress(monkeypatch: pytest.MonkeyPatch,
                                                caplog: pytest.LogCaptureFixture) -> None:
    from questgraph.server import world as world_module

    monkeypatch.setattr(world_module, "PROGRESS_EVERY", 2)
    caplog.set_level(logging.INFO)
    Server(Settings(database=":memory:"), world(STUDIO + STUDIO_MORE, "big.toml"))  # 4 users: 2 lines
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("big.toml: users applied")]
    assert [line.split(",")[0] for line in lines] == [
        "big.toml: users applied: [##########----------] 2 of 4 (50%)",
        "big.toml: users applied: [####################] 4 of 4 (100%)"]
    assert lines[-1].endswith("about 0 s left")


# --- the root URL -----------------------------------------------------------------------------------------
def test_a_browser_at_the_root_goes_to_the_dashboard_and_api_clients_get_the_graph_404(qg: RunningServer) -> None:
    with qg.client() as http:
        browser = http.get("/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        assert browser.status_code == 302 and browser.headers["location"] == "/dashboard"
        for headers in ({}, {"Accept": "application/json"}, {"Accept": "*/*"}):
            assert_graph_error(http.get("/", headers=headers), 404, 100)
        assert_graph_error(http.post("/", headers={"Accept": "text/html"}), 404, 100)


def test_the_root_of_a_production_server_is_the_graph_404(tmp_path: Path) -> None:
    running = start_server(tmp_path, emulator=False)
    try:
        with running.client() as http:
            assert_graph_error(http.get("/", headers={"Accept": "text/html"}), 404, 100)
    finally:
        running.stop()


# --- the admin API's body limit ---------------------------------------------------------------------------
def test_a_snapshot_larger_than_the_graph_limit_imports_and_the_limit_names_its_flag(tmp_path: Path) -> None:
    running = start_server(tmp_path, max_body_bytes=4096, max_admin_body_bytes=10 * 1024 * 1024)
    try:
        with running.admin() as admin:
            snapshot = admin.get("/_admin/snapshot").json()
            body = json.dumps(snapshot)
            assert len(body) > 4096  # more than Graph calls may send
            done = admin.post("/_admin/snapshot", content=body, headers={"Content-Type": "application/json"})
            assert done.status_code == 200 and done.json() == {"success": True}
            assert admin.get("/_admin/snapshot").json() == snapshot
            # Without the key in the header, the Graph limit holds, and the answer says how to get the other.
            stranger = httpx.post(f"{running.url}/_admin/snapshot?access_token={ADMIN_KEY}", content=body,
                                  headers={"Content-Type": "application/json"})
            assert_graph_error(stranger, 400, 100)
            assert "Authorization header" in stranger.json()["error"]["message"]
        running.server.settings.max_admin_body_bytes = 1000
        with running.admin() as admin:
            refused = admin.post("/_admin/snapshot", content=body, headers={"Content-Type": "application/json"})
            assert_graph_error(refused, 400, 100)
            assert "--max-admin-body-bytes" in refused.json()["error"]["message"]
    finally:
        running.stop()


def test_the_dashboard_imports_a_snapshot_larger_than_the_graph_limit(tmp_path: Path) -> None:
    """The dashboard's snapshot upload is the admin import in a form: it takes --max-admin-body-bytes, not
    the Graph limit, and a form over its limit is a 413 page naming the flag; other forms keep the Graph
    limit (and name no flag, since none raises it)."""
    running = start_server(tmp_path, max_body_bytes=4096, max_admin_body_bytes=10 * 1024 * 1024)
    try:
        with running.admin() as admin:
            snapshot = admin.get("/_admin/snapshot").json()
        body = json.dumps(snapshot).encode()
        assert len(body) > 4096
        with httpx.Client(base_url=running.url) as browser:
            sign_in_emulator(browser)
            token = csrf(browser.get("/dashboard/emulator").text)
            done = browser.post("/dashboard/emulator/snapshot", data={"csrf_token": token},
                                files={"snapshot": ("s.json", body, "application/json")})
            assert done.status_code == 303 and done.headers["location"] in (
                "/dashboard/emulator?imported=1", "/dashboard/login"), done.text
            with running.admin() as admin:
                after = admin.get("/_admin/snapshot").json()["tables"]
            # Every table is the snapshot's, but the dashboard's own (the import is audited; a session).
            assert {k: v for k, v in after.items() if not k.startswith("dashboard_")} == {
                k: v for k, v in snapshot["tables"].items() if not k.startswith("dashboard_")}
            assert [row["action"] for row in after["dashboard_audit"]] == ["emulator.import"]
            sign_in_emulator(browser)
            token = csrf(browser.get("/dashboard/emulator").text)
            running.server.settings.max_admin_body_bytes = 2000
            refused = browser.post("/dashboard/emulator/snapshot", data={"csrf_token": token},
                                   files={"snapshot": ("s.json", body, "application/json")})
            assert refused.status_code == 413
            assert "2,000 bytes" in refused.text and "--max-admin-body-bytes" in refused.text
            other = browser.post("/dashboard/emulator/clock", data={"csrf_token": token, "advance_seconds": "1",
                                                                    "pad": "x" * 5000})
            assert other.status_code == 413 and "4,096 bytes" in other.text and "--max" not in other.text
    finally:
        running.stop()


@pytest.mark.sqlite_only  # no server: a SQLite file or memory
def test_the_admin_body_limit_flag_reads_sizes_and_refuses_nonsense() -> None:
    from questgraph.server.serve_options import max_admin_body_bytes

    assert max_admin_body_bytes("2G") == 2 * 1024**3 and max_admin_body_bytes("512k") == 512 * 1024
    assert max_admin_body_bytes(" 1000 ") == 1000
    for bad in ("0", "-1", "1T", "lots", "", "65G"):
        with pytest.raises(ValueError, match="number of bytes"):
            max_admin_body_bytes(bad)


# --- grant times ------------------------------------------------------------------------------------------
def test_a_purchase_and_an_entitlement_may_carry_a_past_grant_time(admin: httpx.Client, http: httpx.Client) -> None:
    admin.post(f"/_admin/apps/{APP_ID}/items", data={"sku": "sword", "type": "DURABLE", "name": "Sword"}
               ).raise_for_status()
    now = admin.get("/_admin/clock").json()["now"]
    granted = admin.post(f"/_admin/users/{ADA_ID}/purchases", data={"sku": "sword", "granted_at": now - 86400})
    assert granted.status_code == 200 and granted.json()["granted_at"] == now - 86400
    verify = http.get(f"/{APP_ID}/verify_entitlement", params={"access_token": APP_TOKEN, "user_id": ADA_ID,
                                                                "sku": "sword"})
    assert verify.json() == {"success": True, "grant_time": now - 86400}
    later = admin.post(f"/_admin/users/{ADA_ID}/purchases", data={"sku": "sword", "granted_at": now + 3600})
    assert_graph_error(later, 400, 100)
    assert "granted_at" in later.json()["error"]["message"]
    entitled = admin.post(f"/_admin/users/{UNENTITLED_ID}/entitlements", data={"granted_at": now - 7200})
    assert entitled.json() == {"success": True}
    base = http.get(f"/{APP_ID}/verify_entitlement", params={"access_token": APP_TOKEN, "user_id": UNENTITLED_ID})
    assert base.json() == {"success": True, "grant_time": now - 7200}
    assert_graph_error(admin.post(f"/_admin/users/{ADA_ID}/entitlements", data={"granted_at": now + 60}), 400, 100)


def test_a_subscription_granted_in_the_past_has_renewed_since(admin: httpx.Client) -> None:
    admin.post(f"/_admin/apps/{APP_ID}/items", data={"sku": "pass", "type": "SUBSCRIPTION", "name": "Pass",
                                                    "subscription_term": "WEEKLY"}).raise_for_status()
    now = admin.get("/_admin/clock").json()["now"]
    started = now - 10 * 86400  # ten days ago, weekly: in its second week now
    row = admin.post(f"/_admin/users/{ADA_ID}/purchases", data={"sku": "pass", "granted_at": started}).json()
    assert row["granted_at"] == started and row["is_active"] is True
    from datetime import UTC, datetime

    assert row["period_start_time"] == datetime.fromtimestamp(started + 7 * 86400, UTC).strftime("%Y-%m-%dT%H:%M:%S%z")


@pytest.mark.sqlite_only  # no server: a SQLite file or memory
def test_the_world_file_carries_grant_times_and_refuses_future_ones() -> None:
    text = STUDIO.replace('  id = "300000000000003"\n', '  id = "300000000000003"\n  entitled_at = 1700000000\n'
                          '  purchases = [{ sku = "sword", granted_at = 1700000100 }]\n').replace(
        '    [[orgs.apps.leaderboards]]', '    [[orgs.apps.items]]\n    sku = "sword"\n    type = "DURABLE"\n'
        '    name = "Sword"\n    [[orgs.apps.leaderboards]]', 1)
    server = Server(Settings(database=":memory:"), world(text))
    assert server.identity_store.base_entitlement_time(300000000000003, 3000000000000002) == 1700000000
    assert [p.granted_at for p in server.commerce_store.purchases_of_user(300000000000003)] == [1700000100]
    with pytest.raises(WorldError, match=r"users\[0\] \(ada\)\.apps\[0\]\.purchases\[0\]: .*granted_at"):
        Server(Settings(database=":memory:"), world(text.replace("1700000100", "4000000000")))
    with pytest.raises(WorldError, match="entitled_at must be Unix seconds"):
        world(text.replace("entitled_at = 1700000000", 'entitled_at = "yesterday"'))


# --- chosen nonces ----------------------------------------------------------------------------------------
def test_the_admin_api_mints_a_nonce_with_a_chosen_value(admin: httpx.Client, http: httpx.Client) -> None:
    chosen = "MyChosenNonceForAda-0001"
    minted = admin.post(f"/_admin/users/{ADA_ID}/nonces", data={"nonce": chosen, "ttl_seconds": "60"})
    assert minted.status_code == 200 and minted.json()["nonce"] == chosen
    check = {"access_token": APP_TOKEN, "nonce": chosen, "user_id": ADA_ID}
    assert http.post("/user_nonce_validate", data=check).json() == {"is_valid": True}
    assert http.post("/user_nonce_validate", data=check).json() == {"is_valid": False}
    again = admin.post(f"/_admin/users/{ADA_ID}/nonces", data={"nonce": chosen})  # a used one is still taken
    assert_graph_error(again, 400, 100)
    assert chosen not in again.text
    for bad in ("short", "has spaces in it, sixteen+", "x" * 1025):
        refused = admin.post(f"/_admin/users/{ADA_ID}/nonces", data={"nonce": bad})
        assert_graph_error(refused, 400, 100)
        assert bad not in refused.text


# --- the clock back to the wall clock ---------------------------------------------------------------------
def test_the_clock_returns_to_the_wall_clock(admin: httpx.Client) -> None:
    admin.post("/_admin/clock", data={"set": "2000000000", "freeze": "true"}).raise_for_status()
    assert admin.get("/_admin/clock").json()["frozen"] is True
    back = admin.post("/_admin/clock", data={"wall": "true"}).json()
    assert back["frozen"] is False and abs(back["offset_seconds"]) < 1 and abs(back["now"] - time.time()) < 5
    assert_graph_error(admin.post("/_admin/clock", data={"wall": "true", "advance_seconds": "5"}), 400, 100)


# --- an org-scoped id without an app (D10) ----------------------------------------------------------------
def test_a_person_gets_an_org_scoped_id_in_an_org_without_using_its_apps(admin: httpx.Client) -> None:
    """The admin API gives the person behind a user an org-scoped id in another organization; it is theirs
    there from then on: asked again it is the same, a different one is refused (data unchanged), and when
    they start using an app of that org, that user carries it."""
    rival_org = "2000000000000001"
    chosen = "777000111000111"
    made = admin.post(f"/_admin/users/{ADA_ID}/orgs", data={"org_id": rival_org, "org_scoped_id": chosen})
    assert made.status_code == 200 and made.json() == {"org_id": rival_org, "org_scoped_id": chosen}, made.text
    again = admin.post(f"/_admin/users/{ADA_ID}/orgs", data={"org_id": rival_org})
    assert again.json() == {"org_id": rival_org, "org_scoped_id": "777000111000111"}
    refused = admin.post(f"/_admin/users/{ADA_ID}/orgs", data={"org_id": rival_org, "org_scoped_id": "777000111000112"})
    assert_graph_error(refused, 400, 100)
    assert "777000111000111" in refused.json()["error"]["message"]
    assert_graph_error(admin.post(f"/_admin/users/{ADA_ID}/orgs", data={"org_id": "999999999999999"}), 404, 100)
    assert_graph_error(admin.post(f"/_admin/users/{ADA_ID}/orgs", data={"org_id": "x"}), 400, 100)
    # An id is unique across all objects (D9): another person cannot take it.
    taken = admin.post(f"/_admin/users/{UNENTITLED_ID}/orgs", data={"org_id": rival_org, "org_scoped_id": chosen})
    assert taken.status_code == 400
    rival_app = admin.get("/_admin/orgs").json()["data"]
    app_id = next(a["id"] for o in rival_app if o["id"] == rival_org for a in o["apps"])
    ada = admin.get(f"/_admin/users/{ADA_ID}").json()
    joined = admin.post(f"/_admin/apps/{app_id}/users", data={"alias": ada["alias"]}).json()
    assert joined["org_scoped_id"] == "777000111000111" and joined["id"] != ADA_ID
    assert ada["org_scoped_id"] != "777000111000111"  # the person's id in their first org is another


@pytest.mark.sqlite_only  # no server: a SQLite file or memory
def test_the_world_file_gives_an_org_scoped_id_without_an_app(tmp_path: Path) -> None:
    text = STUDIO + """
[[orgs]]
id = "4000000000000001"
name = "Web shop"
  [[orgs.apps]]
  id = "4000000000000002"
  name = "Later game"

[[users]]
alias = "cleo"
  [[users.orgs]]
  org = "4000000000000001"
  org_scoped_id = "4000000000000009"
"""
    server = file_server(tmp_path, text)
    try:
        person = server.identity.store.find_person_by_alias("cleo")
        assert person is not None
        assert server.identity.store.get_org_scoped_id(4000000000000001, person) == 4000000000000009
        later = server.identity.create_user(4000000000000002, "cleo")
        assert server.identity.org_scoped_id(later) == 4000000000000009
    finally:
        server.db.close()
    for bad, message in (('org = "3000000000000001"\n  org_scoped_id = "x"', "org_scoped_id"),
                         ('org = "3999999999999999"', "declared under [[orgs]]"),
                         ('oops = 1', "unknown key 'oops'")):
        broken = STUDIO + f"""
[[users]]
alias = "dan"
  [[users.orgs]]
  {bad}
"""
        with pytest.raises(WorldError, match=re.escape(message)):
            world(broken)
