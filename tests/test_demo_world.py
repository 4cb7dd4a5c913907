"""The demo world (``questgraph serve --demo``, docs/config.md) shows every feature: one documented request
per feature, sent as docs/api.md writes it, answers as documented against it — leaderboards, achievements
(SIMPLE, COUNT, BITFIELD with progress), entitlements and IAP (durable, consumable, subscription with a
trial), subscriptions, users, and a declared user proof nonce (D8, D23–D29, D36)."""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from questgraph.cli import banner
from questgraph.server.world import World
from tests.conftest import RunningServer, skip_or_fail, start_server

APP_ID = "1234757621998335"
APP_TOKEN = f"OC|{APP_ID}|1234f7a788b0c0b270f9691d0a06d5a5"  # Meta's example secret, kept in the demo
ADA, GRACE, LINUS = "123402235207175", "123402235207176", "123402235207177"
ADA_TOKEN = "OC1234OYRxTfgiFehJN4PrZBx4PH1D5SfGWn7z1ix06dpsZAhHPhN9z1F"
GRACE_TOKEN = "FRL12342GhFccWvUBxPMR4KXzM5s2ZCMp0mlWGq0ZBrOMXyjh4EmuAPvaXiMCAMV9okNm9DXdUA2EWNplrQ"
DEMO_NONCE = "DemoUserProofNonceForAda0000000000000000"


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[RunningServer]:
    running = start_server(tmp_path, World.demo())
    yield running
    running.stop()


@pytest.fixture
def http(demo: RunningServer) -> Iterator[httpx.Client]:
    with demo.client() as client:
        yield client


def test_meta_s2s_basics_unlock_example_verbatim(http: httpx.Client) -> None:
    """§2.3, the S2S basics example: ``curl -d "access_token=OC|$APP_ID|$APP_SECRET" -d
    "api_name=MY_SIMPLE_ACHIEVEMENT" -d "force_unlock=true" …/$USER_ID/achievements`` unlocks once (D24)."""
    data = {"access_token": APP_TOKEN, "api_name": "MY_SIMPLE_ACHIEVEMENT", "force_unlock": "true"}
    first = http.post(f"/{ADA}/achievements", data=data)
    assert first.status_code == 200
    assert first.json() == {"id": ADA, "api_name": "MY_SIMPLE_ACHIEVEMENT", "just_unlocked": True}
    assert http.post(f"/{ADA}/achievements", data=data).json()["just_unlocked"] is False


def test_achievement_definitions_of_every_type(http: httpx.Client) -> None:
    """§2.2: the demo defines a SIMPLE, a COUNT and a BITFIELD achievement (D23)."""
    response = http.get(f"/{APP_ID}/achievement_definitions", params={
        "access_token": APP_TOKEN,
        "fields": "api_name,achievement_type,achievement_write_policy,target,bitfield_length"})
    assert response.status_code == 200
    assert {d["api_name"]: (d["achievement_type"], d.get("target"), d.get("bitfield_length"))
            for d in response.json()["data"]} == {
        "MY_SIMPLE_ACHIEVEMENT": ("SIMPLE", None, None),
        "LAPS_100": ("COUNT", 100, None),
        "VISIT_3_CONTINENTS": ("BITFIELD", 3, 7),
    }


def test_achievement_progress_of_the_demo_users(http: httpx.Client) -> None:
    """§2.4 with a user's own token: ada has COUNT and BITFIELD progress below target; grace has both her
    achievements unlocked (a COUNT at its target unlocks, D23)."""
    fields = "api_name,is_unlocked,count_progress,bitfield_progress"
    ada = http.get(f"/{ADA}/achievements", params={"access_token": ADA_TOKEN, "fields": fields}).json()["data"]
    assert {p["api_name"]: (p["is_unlocked"], p["count_progress"], p["bitfield_progress"]) for p in ada} == {
        "LAPS_100": (False, 42, ""), "VISIT_3_CONTINENTS": (False, 0, "1001000")}
    grace = http.get(f"/{GRACE}/achievements", params={"access_token": APP_TOKEN, "fields": fields}).json()["data"]
    assert {p["api_name"]: p["is_unlocked"] for p in grace} == {"MY_SIMPLE_ACHIEVEMENT": True, "LAPS_100": True}
    # One more continent for ada (SERVER_AUTHORITATIVE: the app token writes it) reaches the target of 3.
    done = http.post(f"/{ADA}/achievements", data={"access_token": APP_TOKEN, "api_name": "VISIT_3_CONTINENTS",
                                                   "add_bits": "0000001"})
    assert done.json() == {"id": ADA, "api_name": "VISIT_3_CONTINENTS", "just_unlocked": True}


def test_verify_entitlement_of_the_demo_grants(http: httpx.Client) -> None:
    """§3.1: ada owns the durable EXAMPLE1 (D27, D28); grace does not; the base app is owned by both."""
    owned = http.get(f"/{APP_ID}/verify_entitlement",
                     params={"access_token": APP_TOKEN, "user_id": ADA, "sku": "EXAMPLE1"})
    assert owned.status_code == 200 and owned.json()["success"] is True
    assert isinstance(owned.json()["grant_time"], int)
    not_owned = http.post(f"/{APP_ID}/verify_entitlement",
                          data={"access_token": APP_TOKEN, "user_id": GRACE, "sku": "EXAMPLE1"})
    assert not_owned.json() == {"success": False}
    assert http.get("/verify_entitlement", params={"access_token": GRACE_TOKEN}).json()["success"] is True


def test_consume_the_demo_consumable_once(http: httpx.Client) -> None:
    """§3.2: ada's gems_100 is consumed exactly once; then verify is false (D28)."""
    data = {"access_token": APP_TOKEN, "user_id": ADA, "sku": "gems_100"}
    assert http.post(f"/{APP_ID}/consume_entitlement", data=data).json() == {"success": True}
    assert http.post(f"/{APP_ID}/consume_entitlement", data=data).json() == {"success": False}
    assert http.post(f"/{APP_ID}/verify_entitlement", data=data).json() == {"success": False}


def test_viewer_purchases_and_the_catalogue(http: httpx.Client) -> None:
    """§3.3 and §3.4: ada's purchases (durable, consumable, subscription), and the whole catalogue with its
    prices and the subscription's monthly plan with a free trial week (D29)."""
    mine = http.get(f"/{APP_ID}/viewer_purchases", params={
        "access_token": ADA_TOKEN, "fields": "id,grant_time,expiration_time,item{sku,id}"}).json()["data"]
    assert sorted(p["item"]["sku"] for p in mine) == ["EXAMPLE1", "OPTIONAL_SUBSCRIPTION", "gems_100"]
    assert {p["item"]["sku"]: p["expiration_time"] == 0 for p in mine} == {
        "EXAMPLE1": True, "gems_100": True, "OPTIONAL_SUBSCRIPTION": False}  # a subscription ends its period
    catalogue = http.get("/application/available_purchases", params={
        "access_token": APP_TOKEN,
        "fields": "sku,current_offer{price},billing_plans{paid_offer{subscription_term},trial_offers{trial_type,"
                  "trial_term}}"}).json()["data"]
    assert [(i["sku"], i["current_offer"]["price"]["formatted"]) for i in catalogue] == [
        ("EXAMPLE1", "$2.99"), ("OPTIONAL_SUBSCRIPTION", "$1.99"), ("gems_100", "$0.99")]
    plan = catalogue[1]["billing_plans"][0]
    assert plan["paid_offer"]["subscription_term"] == "MONTHLY"
    assert [(t["trial_type"], t["trial_term"]) for t in plan["trial_offers"]] == [("FREE_TRIAL", "WEEKLY")]
    # Linus owns nothing: his token sees everything for sale; ada's sees nothing she already owns.
    linus = "OCdemoLinusToken0000000000000000000000000000000000000000000000000000000000000000000"
    for_linus = http.get("/application/available_purchases", params={"access_token": linus, "fields": "sku"})
    assert [i["sku"] for i in for_linus.json()["data"]] == ["EXAMPLE1", "OPTIONAL_SUBSCRIPTION", "gems_100"]
    for_ada = http.get("/application/available_purchases", params={"access_token": ADA_TOKEN, "fields": "sku"})
    assert for_ada.json()["data"] == []


def test_refund_the_demo_durable(http: httpx.Client) -> None:
    """§3.5: the durable can be refunded with the app token; then it is not owned."""
    refund = http.post(f"/{APP_ID}/refund_iap_entitlement", data={
        "access_token": APP_TOKEN, "user_id": ADA, "sku": "EXAMPLE1", "reason": "customer_support"})
    assert refund.json() == {"success": True}
    assert http.get(f"/{APP_ID}/verify_entitlement", params={
        "access_token": APP_TOKEN, "user_id": ADA, "sku": "EXAMPLE1"}).json() == {"success": False}


def test_subscriptions_paid_and_in_trial(demo: RunningServer, http: httpx.Client) -> None:
    """§6.1: ada pays for OPTIONAL_SUBSCRIPTION, grace is in its free trial week; after the week (server
    clock, D36) grace's subscription renews as paid."""
    fields = "sku,owner{id},is_active,is_trial,trial_type,current_price_term{term,currency,price}"
    rows = http.get("/application/subscriptions", params={"access_token": APP_TOKEN, "fields": fields}).json()["data"]
    by_owner = {r["owner"]["id"]: r for r in rows}
    assert set(by_owner) == {ADA, GRACE}
    assert by_owner[ADA]["is_trial"] is False and by_owner[ADA]["is_active"] is True
    assert by_owner[ADA]["current_price_term"] == {"term": "MONTHLY", "currency": "USD", "price": "1.99"}
    assert by_owner[GRACE]["is_trial"] is True and by_owner[GRACE]["trial_type"] == "FREE_TRIAL"
    with demo.admin() as admin:
        assert admin.post("/_admin/clock", data={"advance_seconds": str(8 * 86400)}).status_code == 200
    after = http.get("/application/subscriptions", params={"access_token": GRACE_TOKEN, "fields": fields}).json()
    assert [(r["is_active"], r["is_trial"]) for r in after["data"]] == [(True, False)]


def test_users_and_the_demo_nonce(http: httpx.Client) -> None:
    """§4.2 ``GET /{user_id}`` and §4.1 ``user_nonce_validate`` with the demo's declared nonce: true once,
    then false (D8)."""
    user = http.get(f"/{LINUS}", params={"access_token": APP_TOKEN, "fields": "id,alias,display_name"})
    assert user.json() == {"id": LINUS, "alias": "linus", "display_name": "Linus"}
    data = {"access_token": APP_TOKEN, "nonce": DEMO_NONCE, "user_id": ADA}
    assert http.post("/user_nonce_validate", data=data).json() == {"is_valid": True}
    assert http.post("/user_nonce_validate", data=data).json() == {"is_valid": False}


def test_the_demo_nonce_lives_30_days(demo: RunningServer, http: httpx.Client) -> None:
    """The demo nonce is declared with ttl_seconds = 30 days, so a newcomer can try it long after start."""
    with demo.admin() as admin:
        admin.post("/_admin/clock", data={"advance_seconds": str(29 * 86400)})
    data = {"access_token": APP_TOKEN, "nonce": DEMO_NONCE, "user_id": ADA}
    assert http.post("/user_nonce_validate", data=data).json() == {"is_valid": True}


def test_the_demo_leaderboard_example_still_answers(http: httpx.Client) -> None:
    """§1.4 with Meta's user token, as before the demo gained its other features."""
    body = http.get("/leaderboard_entries", params={
        "access_token": ADA_TOKEN, "api_name": "best_leaderboard", "summary": "true",
        "fields": "user{id,alias},rank,score"}).json()
    assert [(r["user"]["alias"], r["rank"]) for r in body["data"]][:2] == [("grace", 1), ("ada", 2)]
    assert body["summary"] == {"total_count": 4}


def test_the_banner_points_to_the_api_reference(demo: RunningServer) -> None:
    """The start-up banner still lists the demo's app and users, and now names docs/api.md."""
    text = banner(demo.server, World.demo())
    assert f"app access token: {APP_TOKEN}" in text
    assert f"user ada: id {ADA}  token {ADA_TOKEN}" in text
    assert "Every endpoint, its parameters and answers: docs/api.md" in text.splitlines()


CONFIG_MD = Path(__file__).resolve().parent.parent / "docs" / "config.md"


def demo_section() -> str:
    text = CONFIG_MD.read_text(encoding="utf-8")
    start = text.index("### The demo world")
    return text[start:text.index("\n### ", start + 1)]


def test_the_documented_demo_world_is_the_file() -> None:
    """docs/config.md shows the demo world's file as it is (the same data, comments aside)."""
    section = demo_section()
    block = section[section.index("```toml\n") + 8:]
    assert tomllib.loads(block[:block.index("```")]) == World.demo().data


def test_the_documented_demo_requests_answer_as_documented(demo: RunningServer) -> None:
    """Each curl line of the demo section, pasted into a shell with ``QG`` set, answers what its comment says."""
    if shutil.which("curl") is None:
        skip_or_fail("curl is not installed")
    section = demo_section()
    block = section[section.index("APP='OC|"):]
    lines = block[:block.index("```")].splitlines()
    setup, commands, command = lines[0], [], ""
    for line in lines[1:]:
        if line.startswith("#"):
            continue
        command += line.rstrip("\\").strip() + " "
        if not line.endswith("\\"):
            commands.append(command.strip())
            command = ""
    answers = []
    for command in commands:
        done = subprocess.run(["bash", "-c", f"{setup}; QG={demo.url}; {command} --silent --show-error --fail"],
                              capture_output=True, text=True, timeout=20)
        assert done.returncode == 0, (command, done.stderr)
        answers.append(json.loads(done.stdout))
    unlock, progress, verify, consume, catalogue, subscriptions, nonce = answers
    assert unlock == {"id": ADA, "api_name": "MY_SIMPLE_ACHIEVEMENT", "just_unlocked": True}
    assert {p["api_name"]: (p["count_progress"], p["bitfield_progress"]) for p in progress["data"]
            if p["api_name"] != "MY_SIMPLE_ACHIEVEMENT"} == {"LAPS_100": (42, ""), "VISIT_3_CONTINENTS": (0, "1001000")}
    assert verify["success"] is True and isinstance(verify["grant_time"], int)
    assert consume == {"success": True}
    assert [i["sku"] for i in catalogue["data"]] == ["EXAMPLE1", "OPTIONAL_SUBSCRIPTION", "gems_100"]
    assert sorted((r["owner"]["id"], r["is_trial"]) for r in subscriptions["data"]) == [(ADA, False), (GRACE, True)]
    assert nonce == {"is_valid": True}
