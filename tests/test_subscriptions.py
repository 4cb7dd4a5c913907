"""Subscriptions (graph-api.md §6; D29, D36): status with filters and paging, cancel, extend, and trials, renewals
and lapses driven by the emulator clock."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from questgraph.server.world import World, WorldError
from tests.commerce_support import DAY, ISO, advance, commerce_state, grant, history, owns, stock
from tests.conftest import (
    ADA_ID,
    ADA_TOKEN,
    APP_ID,
    APP_SECRET,
    APP_TOKEN,
    GRACE_ID,
    GRACE_TOKEN,
    LINUS_ID,
    RIVAL_APP_ID,
    RIVAL_APP_TOKEN,
    RIVAL_ID,
    RIVAL_TOKEN,
    assert_graph_error,
    start_server,
)

ALL_FIELDS = ("id,owner{id},sku,period_start_time,period_end_time,cancellation_time,next_renewal_time,is_trial,"
              "trial_type,is_active,current_price_term{term,currency,price},next_price_term{term,currency,price}")
JAN_31 = 1738281600  # 2025-01-31T00:00:00Z: month ends test the calendar arithmetic


def at(admin: httpx.Client, instant: int) -> None:
    """Stop the clock at ``instant`` (D36): renewals and lapses are then checked to the second."""
    admin.post("/_admin/clock", data={"set": str(instant), "freeze": "true"}).raise_for_status()


def status(http: httpx.Client, token: str = APP_TOKEN, **params: str) -> list[dict[str, Any]]:
    response = http.get("/application/subscriptions", params={"access_token": token, "fields": ALL_FIELDS, **params})
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def one(http: httpx.Client, owner: str = ADA_ID, sku: str = "subs-bronze") -> dict[str, Any]:
    rows = [r for r in status(http, owner_id=owner) if r["sku"] == sku]
    assert len(rows) >= 1
    return rows[-1]


def post(http: httpx.Client, path: str, **data: str) -> httpx.Response:
    return http.post(f"/application/{path}", data={"access_token": APP_TOKEN, **data})


# --- documented requests ------------------------------------------------------------------------------------
def test_sub_doc_requests(http: httpx.Client, admin: httpx.Client) -> None:
    """D-SUB: status with the documented field list and the default projection (sku, owner{id}, is_active);
    cancel with form fields; extend with a JSON body (the page shows JSON request bodies). ISO-8601 times."""
    stock(admin)
    grant(admin, ADA_ID, "subs-bronze", trial="false")
    default = http.get(f"/application/subscriptions?access_token=OC|{APP_ID}|{APP_SECRET}")
    assert default.status_code == 200, default.text
    row = default.json()["data"][0]
    assert set(row) == {"id", "sku", "owner", "is_active"}
    assert row["sku"] == "subs-bronze" and row["owner"] == {"id": ADA_ID} and row["is_active"] is True
    assert "cursors" in default.json()["paging"]
    full = status(http)[0]
    for key in ("period_start_time", "period_end_time", "next_renewal_time"):
        assert re.fullmatch(ISO, full[key]), full
    assert full["current_price_term"] == {"price": "1.99", "term": "MONTHLY", "currency": "USD"}
    assert full["is_trial"] is False and "trial_type" not in full and "cancellation_time" not in full
    cancel = http.post("/application/cancel_subscription",
                       data={"access_token": APP_TOKEN, "owner_id": ADA_ID, "sku": "subs-bronze", "cancel_reason": "0"})
    assert cancel.json() == {"success": True}
    extend = http.post("/application/extend_subscription", headers={"Authorization": f"Bearer {APP_TOKEN}"},
                       json={"owner_id": ADA_ID, "sku": "subs-bronze", "number_of_days": 30})
    assert extend.json() == {"success": True}


# --- the clock drives trials, renewals and lapses (D36) -------------------------------------------------------
def test_trial_then_renewals_follow_the_clock(http: httpx.Client, admin: httpx.Client) -> None:
    """A FREE_TRIAL of one week, then monthly periods counted from the trial end; the price terms change."""
    stock(admin)
    at(admin, JAN_31)
    grant(admin, ADA_ID, "subs-bronze")
    row = one(http)
    assert row["is_trial"] is True and row["trial_type"] == "FREE_TRIAL" and row["is_active"] is True
    assert row["period_start_time"] == "2025-01-31T00:00:00+0000"
    assert row["period_end_time"] == row["next_renewal_time"] == "2025-02-07T00:00:00+0000"
    assert row["current_price_term"] == {"term": "", "currency": "USD", "price": "0.00"}
    assert row["next_price_term"] == {"term": "MONTHLY", "currency": "USD", "price": "1.99"}
    advance(admin, 7 * DAY - 1)
    assert one(http)["is_trial"] is True
    advance(admin, 1)
    row = one(http)
    assert row["is_trial"] is False and "trial_type" not in row
    assert (row["period_start_time"], row["period_end_time"]) == ("2025-02-07T00:00:00+0000",
                                                                  "2025-03-07T00:00:00+0000")
    assert row["current_price_term"]["price"] == "1.99"
    advance(admin, 60 * DAY)
    row = one(http)
    assert (row["period_start_time"], row["period_end_time"]) == ("2025-04-07T00:00:00+0000",
                                                                  "2025-05-07T00:00:00+0000")
    assert row["is_active"] is True and owns(http, ADA_TOKEN, "subs-bronze")


def test_monthly_periods_do_not_drift(http: httpx.Client, admin: httpx.Client) -> None:
    """Months are counted from the anchor with the day clamped: Jan 31 → Feb 28 → Mar 31 → Apr 30."""
    stock(admin)
    at(admin, JAN_31)
    grant(admin, ADA_ID, "subs-bronze", trial="false")
    ends = []
    for _ in range(3):
        row = one(http)
        ends.append(row["period_end_time"][:10])
        advance(admin, (int(_epoch(row["period_end_time"])) - _now(admin)))
    assert ends == ["2025-02-28", "2025-03-31", "2025-04-30"]


def test_intro_offer_lasts_its_terms(http: httpx.Client, admin: httpx.Client) -> None:
    """INTRO_OFFER: max_term_count terms of trial_term at the intro price, then the paid term."""
    stock(admin)
    at(admin, JAN_31)
    grant(admin, GRACE_ID, "subs-gold")
    row = one(http, GRACE_ID, "subs-gold")
    assert row["trial_type"] == "INTRO_OFFER" and row["period_end_time"] == "2025-04-30T00:00:00+0000"
    assert row["current_price_term"] == {"term": "MONTHLY", "currency": "USD", "price": "0.99"}
    assert row["next_price_term"] == {"term": "ANNUAL", "currency": "USD", "price": "19.99"}
    at(admin, _epoch("2025-04-30T00:00:00+0000"))
    row = one(http, GRACE_ID, "subs-gold")
    assert row["is_trial"] is False and row["period_end_time"] == "2026-04-30T00:00:00+0000"


def test_cancel_keeps_access_to_period_end_then_lapses(http: httpx.Client, admin: httpx.Client) -> None:
    """§6.2: cancelling turns renewal off (no next_renewal_time, no next price); the subscription stays active to
    the period end, then is_active false, verify false, and it can be bought again (without a second trial)."""
    stock(admin)
    at(admin, JAN_31)
    grant(admin, ADA_ID, "subs-bronze", trial="false")
    advance(admin, DAY)
    assert post(http, "cancel_subscription", owner_alias="ada", sku="subs-bronze", cancel_reason="4").json() == \
        {"success": True}
    row = one(http)
    assert row["cancellation_time"] == "2025-02-01T00:00:00+0000"
    assert "next_renewal_time" not in row and "next_price_term" not in row and row["is_active"] is True
    again = post(http, "cancel_subscription", owner_id=ADA_ID, sku="subs-bronze", cancel_reason="1")
    assert again.json() == {"success": True}
    assert one(http)["cancellation_time"] == "2025-02-01T00:00:00+0000"
    assert [r["cancel_reason"] for r in history(admin, ADA_ID)] == [4]
    at(admin, _epoch("2025-02-28T00:00:00+0000") - 1)
    assert owns(http, ADA_TOKEN, "subs-bronze")
    advance(admin, 1)
    row = one(http)
    assert row["is_active"] is False and row["period_end_time"] == "2025-02-28T00:00:00+0000"
    assert not owns(http, ADA_TOKEN, "subs-bronze")
    assert_graph_error(post(http, "cancel_subscription", owner_id=ADA_ID, sku="subs-bronze"), 400, 100)
    assert_graph_error(post(http, "extend_subscription", owner_id=ADA_ID, sku="subs-bronze",
                            number_of_days="5"), 400, 100)
    renewed = grant(admin, ADA_ID, "subs-bronze")
    assert renewed["is_trial"] is False and renewed["is_active"] is True


def test_extend_moves_renewal_and_is_bounded(http: httpx.Client, admin: httpx.Client) -> None:
    """§6.3: number_of_days 1–365 per call, at most 3650 in total; next_renewal_time includes the extension and
    later periods follow the term from the new end."""
    stock(admin)
    at(admin, JAN_31)
    grant(admin, ADA_ID, "subs-bronze", trial="false")
    assert post(http, "extend_subscription", owner_id=ADA_ID, sku="subs-bronze", number_of_days="10").json() == \
        {"success": True}
    row = one(http)
    assert row["period_end_time"] == row["next_renewal_time"] == "2025-03-10T00:00:00+0000"
    assert row["period_start_time"] == "2025-01-31T00:00:00+0000"
    at(admin, _epoch("2025-03-10T00:00:00+0000"))
    assert one(http)["period_end_time"] == "2025-04-10T00:00:00+0000"
    before = commerce_state(admin)
    for days in ("0", "366", "-1", "ten", "1.5", ""):
        assert_graph_error(post(http, "extend_subscription", owner_id=ADA_ID, sku="subs-bronze",
                                number_of_days=days), 400, 100)
    assert commerce_state(admin) == before
    for _ in range(9):
        post(http, "extend_subscription", owner_id=ADA_ID, sku="subs-bronze", number_of_days="365").raise_for_status()
    post(http, "extend_subscription", owner_id=ADA_ID, sku="subs-bronze", number_of_days="355").raise_for_status()
    before = commerce_state(admin)
    error = assert_graph_error(post(http, "extend_subscription", owner_id=ADA_ID, sku="subs-bronze",
                                    number_of_days="1"), 400, 100)
    assert "3650" in error["message"]
    assert commerce_state(admin) == before


# --- listing ----------------------------------------------------------------------------------------------------
def test_filters_paging_and_token_kinds(http: httpx.Client, admin: httpx.Client) -> None:
    """§6.1: app token → every user, paged with cursors; user token → only its own; owner_id only with an app
    token; is_active, is_trial and skus (comma list or JSON array) filter."""
    stock(admin)
    grant(admin, ADA_ID, "subs-bronze")
    advance(admin, 10)
    grant(admin, GRACE_ID, "subs-bronze", trial="false")
    advance(admin, 10)
    grant(admin, LINUS_ID, "subs-gold")
    advance(admin, 10)
    grant(admin, ADA_ID, "subs-gold", trial="false")
    post(http, "cancel_subscription", owner_id=GRACE_ID, sku="subs-bronze").raise_for_status()

    def owners(token: str = APP_TOKEN, **params: str) -> list[tuple[str, str]]:
        return [(r["owner"]["id"], r["sku"]) for r in status(http, token, **params)]

    every = [(ADA_ID, "subs-bronze"), (GRACE_ID, "subs-bronze"), (LINUS_ID, "subs-gold"), (ADA_ID, "subs-gold")]
    assert owners() == every
    assert owners(ADA_TOKEN) == [(ADA_ID, "subs-bronze"), (ADA_ID, "subs-gold")]
    assert owners(owner_id=ADA_ID) == [(ADA_ID, "subs-bronze"), (ADA_ID, "subs-gold")]
    assert owners(is_trial="true") == [(ADA_ID, "subs-bronze"), (LINUS_ID, "subs-gold")]
    assert owners(skus="subs-gold") == [(LINUS_ID, "subs-gold"), (ADA_ID, "subs-gold")]
    assert owners(skus='["subs-bronze"]', is_trial="false") == [(GRACE_ID, "subs-bronze")]
    advance(admin, 40 * DAY)  # grace's cancelled month ends; the others renew
    assert owners(is_active="false") == [(GRACE_ID, "subs-bronze")]
    assert owners(is_active="TRUE") == [e for e in every if e[0] != GRACE_ID]
    page = http.get("/application/subscriptions", params={"access_token": APP_TOKEN, "limit": "1"}).json()
    seen = []
    while True:
        seen.extend((r["owner"]["id"], r["sku"]) for r in page["data"])
        if "next" not in page["paging"]:
            break
        page = http.get(page["paging"]["next"]).json()
    assert seen == every
    assert_graph_error(http.get("/application/subscriptions", params={"access_token": ADA_TOKEN,
                                                                       "owner_id": ADA_ID}), 400, 100)


def test_cross_app_isolation(http: httpx.Client, admin: httpx.Client) -> None:
    """D7: the rival app sees no subscription of the first app and cannot cancel or extend one; a user token
    cannot cancel or extend at all."""
    stock(admin)
    grant(admin, ADA_ID, "subs-bronze")
    before = commerce_state(admin)
    assert status(http, RIVAL_APP_TOKEN) == [] and status(http, RIVAL_TOKEN) == []
    assert_graph_error(http.get("/application/subscriptions", params={"access_token": RIVAL_APP_TOKEN,
                                                                       "owner_id": ADA_ID}), 400, 100)
    for path, extra in (("cancel_subscription", {}), ("extend_subscription", {"number_of_days": "5"})):
        rival = {"access_token": RIVAL_APP_TOKEN, "sku": "subs-bronze", **extra}
        assert_graph_error(http.post(f"/application/{path}", data={**rival, "owner_id": ADA_ID}), 400, 100)
        assert_graph_error(http.post(f"/application/{path}", data={**rival, "owner_alias": "ada"}), 400, 100)
        assert_graph_error(http.post(f"/application/{path}", data={**rival, "owner_id": RIVAL_ID}), 400, 100)
        user = {"access_token": ADA_TOKEN, "owner_id": ADA_ID, "sku": "subs-bronze", **extra}
        assert_graph_error(http.post(f"/application/{path}", data=user), 403, 200, "OAuthException")
    assert commerce_state(admin) == before
    assert one(http)["next_renewal_time"]


def test_bad_input_changes_nothing(http: httpx.Client, admin: httpx.Client) -> None:
    """D7: every malformed parameter of the three endpoints is a 400 code 100 naming it; nothing changes."""
    stock(admin)
    grant(admin, ADA_ID, "subs-bronze")
    before = commerce_state(admin)
    listing = [({"is_active": "maybe"}, "is_active"), ({"is_trial": "2"}, "is_trial"), ({"skus": "[1,2]"}, "skus"),
               ({"owner_id": "ada"}, "owner_id"), ({"limit": "-5"}, "limit"), ({"after": "x"}, "after"),
               ({"fields": "owner{email}"}, "email"), ({"fields": "price"}, "price")]
    for params, name in listing:
        response = http.get("/application/subscriptions", params={"access_token": APP_TOKEN, **params})
        assert name in assert_graph_error(response, 400, 100, "OCApiException")["message"]
    writes = [("cancel_subscription", {"sku": "subs-bronze"}, "owner"),
              ("cancel_subscription", {"owner_id": ADA_ID}, "sku"),
              ("cancel_subscription", {"owner_id": ADA_ID, "sku": "subs-gold"}, "sku"),
              ("cancel_subscription", {"owner_id": ADA_ID, "sku": "subs-bronze", "cancel_reason": "6"}, "reason"),
              ("cancel_subscription", {"owner_id": ADA_ID, "sku": "subs-bronze", "cancel_reason": "x"}, "reason"),
              ("cancel_subscription", {"owner_id": ADA_ID, "owner_alias": "grace", "sku": "subs-bronze"}, "owner"),
              ("cancel_subscription", {"owner_alias": "nobody", "sku": "subs-bronze"}, "owner_alias"),
              ("cancel_subscription", {"owner_id": "12x", "sku": "subs-bronze"}, "owner_id"),
              ("extend_subscription", {"owner_id": ADA_ID, "sku": "subs-bronze"}, "number_of_days"),
              ("extend_subscription", {"owner_id": ADA_ID, "sku": "EXAMPLE1", "number_of_days": "3"}, "sku")]
    for path, params, name in writes:
        error = assert_graph_error(post(http, path, **params), 400, 100, "OCApiException")
        assert name in error["message"], (path, params, error)
    assert commerce_state(admin) == before


# --- the world file ---------------------------------------------------------------------------------------------
WORLD: dict[str, Any] = {
    "orgs": [{"name": "Shop", "apps": [{
        "id": "3000000000000001", "name": "Shop Game", "secret": "abcdefabcdefabcdef0123",
        "items": [
            {"sku": "sword", "type": "durable", "name": "Sword", "price": 299},
            {"sku": "gem", "type": "CONSUMABLE", "name": "Gem", "price": 99, "currency": "EUR"},
            {"sku": "vip", "type": "SUBSCRIPTION", "name": "VIP", "price": 499, "subscription_term": "ANNUAL",
             "trial_type": "FREE_TRIAL", "trial_term": "MONTHLY"},
        ],
    }]}],
    "users": [{"alias": "buyer", "apps": [{
        "app": "3000000000000001", "id": "300000000000002",
        "tokens": ["OCbuyerToken00000000000000000000000000"],
        "purchases": ["sword", {"sku": "vip", "trial": False}],
    }]}],
}


def test_world_file_catalogue_and_grants(tmp_path: Path) -> None:
    """docs/config.md: [[orgs.apps.items]] and purchases of [[users.apps]] are applied with the world."""
    server = start_server(tmp_path, world=World(data=json.loads(json.dumps(WORLD)), source="test"))
    try:
        with server.client() as http:
            token = "OCbuyerToken00000000000000000000000000"
            assert owns(http, token, "sword", app_id=None) and owns(http, token, "vip", app_id=None)
            assert not owns(http, token, "gem", app_id=None)
            rows = http.get("/application/available_purchases",
                            params={"access_token": "OC|3000000000000001|abcdefabcdefabcdef0123",
                                    "fields": "sku,current_offer{price}"}).json()["data"]
            assert rows[0]["current_offer"]["price"] == {"currency": "EUR", "amount_in_hundredths": 99,
                                                         "formatted": "€0.99"}
            sub = http.get("/application/subscriptions",
                           params={"access_token": token, "fields": "is_trial,current_price_term"}).json()["data"]
            assert sub[0]["is_trial"] is False and sub[0]["current_price_term"]["term"] == "ANNUAL"
    finally:
        server.stop()


@pytest.mark.parametrize(("change", "message"), [
    (lambda w: w["orgs"][0]["apps"][0]["items"][0].update(type="GADGET"), "type"),
    (lambda w: w["orgs"][0]["apps"][0]["items"][0].update(colour="red"), "colour"),
    (lambda w: w["orgs"][0]["apps"][0]["items"][1].update(sku="sword"), "already declared"),
    (lambda w: w["orgs"][0]["apps"][0]["items"][2].pop("subscription_term"), "subscription_term"),
    (lambda w: w["orgs"][0]["apps"][0]["items"][0].update(price="2.99"), "price"),
    (lambda w: w["users"][0]["apps"][0]["purchases"].append("shield"), "shield"),
    (lambda w: w["users"][0]["apps"][0]["purchases"].append({"sku": "gem", "trial": "yes"}), "trial"),
])
def test_world_file_errors(change: Any, message: str) -> None:
    """A bad catalogue or grant is refused at load, naming the item at fault."""
    data = json.loads(json.dumps(WORLD))
    change(data)
    with pytest.raises(WorldError, match=message):
        World(data=data, source="test")


def _epoch(text: str) -> int:
    from datetime import datetime
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z").timestamp())


def _now(admin: httpx.Client) -> int:
    return int(admin.get("/_admin/clock").json()["now"])


def test_grace_is_unaffected_by_ada(http: httpx.Client, admin: httpx.Client) -> None:
    """Cancelling one owner's subscription leaves another owner's subscription to the same sku renewing."""
    stock(admin)
    grant(admin, ADA_ID, "subs-bronze")
    grant(admin, GRACE_ID, "subs-bronze")
    post(http, "cancel_subscription", owner_id=ADA_ID, sku="subs-bronze").raise_for_status()
    assert one(http, GRACE_ID)["next_renewal_time"] and "next_renewal_time" not in one(http, ADA_ID)
    assert status(http, GRACE_TOKEN)[0]["owner"]["id"] == GRACE_ID
    assert RIVAL_APP_ID not in json.dumps(status(http))
