"""Entitlements and in-app purchases (graph-api.md §3; D27–D29): the documented requests replayed with only the
host changed, then the rules of verify, consume, viewer_purchases, available_purchases and refund."""

from __future__ import annotations

import re
import threading
from typing import Any

import httpx

from tests.commerce_support import (
    DAY,
    advance,
    commerce_state,
    create_item,
    grant,
    history,
    now,
    owns,
    stock,
    verify,
)
from tests.conftest import (
    ADA_ID,
    ADA_TOKEN,
    APP_ID,
    APP_TOKEN,
    GRACE_ID,
    GRACE_TOKEN,
    LINUS_ID,
    RIVAL_APP_TOKEN,
    RIVAL_ID,
    UNENTITLED_ID,
    UNENTITLED_TOKEN,
    RunningServer,
    assert_graph_error,
)

AVAILABLE_FIELDS = (
    "sku,current_offer{description,price{currency,amount_in_hundredths,formatted},name},"
    "billing_plans{paid_offer{description,name,price{currency,amount_in_hundredths,formatted},subscription_term},"
    "trial_offers{max_term_count,trial_type,trial_term,description,name,price{currency,amount_in_hundredths,"
    "formatted}}}"
)


# --- the documented examples, host changed -------------------------------------------------------------------
def test_s2s_basics_verify_example_verbatim(http: httpx.Client, admin: httpx.Client) -> None:
    """Seed 000 (S2S basics): ``curl -X POST -d https://graph.oculus.com/$APPID/verify_entitlement?sku=$SKU-TO-CHECK
    &access_token=$USER-ACCESS-TOKEN``. curl sends the URL as the form body, and the query string carries the sku
    and the user token (D2, D27: no user_id with a user token). Not owned → false (D8), owned → grant_time."""
    stock(admin)
    url = f"/{APP_ID}/verify_entitlement?sku=EXAMPLE1&access_token={ADA_TOKEN}"
    body = f"https://graph.oculus.com/{APP_ID}/verify_entitlement?sku=EXAMPLE1"
    form = {"content-type": "application/x-www-form-urlencoded"}
    response = http.post(url, content=body, headers=form)
    assert response.status_code == 200, response.text
    assert response.json() == {"success": False}
    granted = grant(admin, ADA_ID, "EXAMPLE1")
    response = http.post(url, content=body, headers=form)
    assert response.json() == {"success": True, "grant_time": granted["granted_at"]}


def test_iap_doc_requests(http: httpx.Client, admin: httpx.Client) -> None:
    """D-IAP: verify, consume, viewer_purchases, available_purchases and refund as the page's curl lines send them
    (form fields, app token, user_id), with the documented answers."""
    stock(admin)
    granted = grant(admin, ADA_ID, "gems_100")
    advance(admin, 5)
    grant(admin, ADA_ID, "EXAMPLE1")
    app = {"access_token": APP_TOKEN, "user_id": ADA_ID}
    response = http.post(f"/{APP_ID}/verify_entitlement", data={**app, "sku": "gems_100"})
    assert response.json() == {"success": True, "grant_time": granted["granted_at"]}
    listing = http.get(f"/{APP_ID}/viewer_purchases",
                       params={**app, "fields": "id,grant_time,expiration_time,item{sku,id}", "limit": "200"})
    assert listing.status_code == 200, listing.text
    rows = listing.json()["data"]
    assert [r["item"]["sku"] for r in rows] == ["gems_100", "EXAMPLE1"]
    assert set(rows[0]) == {"id", "grant_time", "expiration_time", "item"}
    assert rows[0]["expiration_time"] == 0 and set(rows[0]["item"]) == {"sku", "id"}
    assert http.post(f"/{APP_ID}/consume_entitlement", data={**app, "sku": "gems_100"}).json() == {"success": True}
    assert http.post(f"/{APP_ID}/verify_entitlement", data={**app, "sku": "gems_100"}).json() == {"success": False}
    refund = http.post(f"/{APP_ID}/refund_iap_entitlement",
                       data={**app, "sku": "EXAMPLE1", "reason": "customer_support"})
    assert refund.json() == {"success": True}
    catalogue = http.get("/application/available_purchases", params={"access_token": APP_TOKEN,
                                                                      "fields": AVAILABLE_FIELDS})
    assert catalogue.status_code == 200, catalogue.text
    by_sku = {row["sku"]: row for row in catalogue.json()["data"]}
    assert by_sku["EXAMPLE1"]["current_offer"] == {
        "id": by_sku["EXAMPLE1"]["current_offer"]["id"], "description": "A sharp sword", "name": "Sword",
        "price": {"currency": "USD", "amount_in_hundredths": 299, "formatted": "$2.99"},
    }


def test_verify_get_and_without_app_id(http: httpx.Client, admin: httpx.Client) -> None:
    """D27: GET and POST, with and without the app id in the path; the app then comes from the token."""
    stock(admin)
    grant(admin, ADA_ID, "EXAMPLE1")
    for method in ("GET", "POST"):
        for app_id in (APP_ID, None):
            for token, user in ((ADA_TOKEN, None), (ADA_TOKEN, ADA_ID), (APP_TOKEN, ADA_ID)):
                response = verify(http, token, "EXAMPLE1", user, app_id, method)
                assert response.status_code == 200, (method, app_id, response.text)
                assert response.json()["success"] is True
            response = http.request(method, f"/{APP_ID}/consume_entitlement" if app_id else "/consume_entitlement",
                                    params={"access_token": GRACE_TOKEN, "sku": "gems_100"})
            assert response.json() == {"success": False}


def test_verify_base_app_without_sku(http: httpx.Client, admin: httpx.Client) -> None:
    """D27: no sku checks the base app (the identity entitlement); an unentitled user gets success:false."""
    assert owns(http, ADA_TOKEN, None)
    assert owns(http, APP_TOKEN, None, ADA_ID)
    assert not owns(http, UNENTITLED_TOKEN, None)
    assert not owns(http, APP_TOKEN, None, UNENTITLED_ID)
    admin.post(f"/_admin/users/{UNENTITLED_ID}/entitlements").raise_for_status()
    assert owns(http, UNENTITLED_TOKEN, None)


def test_user_id_rules(http: httpx.Client, admin: httpx.Client) -> None:
    """D27: user_id required with an app token; absent or the token's own user with a user token; a user of
    another app or a malformed id is a 400 code 100."""
    stock(admin)
    assert_graph_error(verify(http, APP_TOKEN, "EXAMPLE1"), 400, 100, "OCApiException")
    assert_graph_error(verify(http, ADA_TOKEN, "EXAMPLE1", GRACE_ID), 400, 100, "OCApiException")
    assert_graph_error(verify(http, APP_TOKEN, "EXAMPLE1", RIVAL_ID), 400, 100)
    assert_graph_error(verify(http, APP_TOKEN, "EXAMPLE1", "12ab"), 400, 100)
    assert_graph_error(verify(http, APP_TOKEN, "EXAMPLE1", "999999999999999"), 400, 100)


# --- consume ----------------------------------------------------------------------------------------------------
def test_consume_then_verify_false_and_grant_again(http: httpx.Client, admin: httpx.Client) -> None:
    """D28: consuming an owned consumable succeeds once; verify is then false; the item can be granted again, and
    the history keeps both grants with the consume time of the first."""
    admin.post("/_admin/clock", data={"freeze": "true"}).raise_for_status()  # D36: exact grant times below
    stock(admin)
    first = grant(admin, ADA_ID, "gems_100")
    consume = {"access_token": ADA_TOKEN, "sku": "gems_100"}
    assert http.post(f"/{APP_ID}/consume_entitlement", data=consume).json() == {"success": True}
    assert not owns(http, ADA_TOKEN, "gems_100")
    assert http.post(f"/{APP_ID}/consume_entitlement", data=consume).json() == {"success": False}
    advance(admin, 60)
    second = grant(admin, ADA_ID, "gems_100")
    assert second["id"] != first["id"] and second["granted_at"] == first["granted_at"] + 60
    response = verify(http, ADA_TOKEN, "gems_100")
    assert response.json() == {"success": True, "grant_time": second["granted_at"]}
    rows = history(admin, ADA_ID)
    assert [(r["id"], r["consumed_at"] is not None, r["owned"]) for r in rows] == [
        (first["id"], True, False), (second["id"], False, True)]


def test_consume_refusals(http: httpx.Client, admin: httpx.Client) -> None:
    """D28: a durable or a subscription is a 400 and stays owned; an unknown or unowned sku is success:false;
    a missing sku is a 400."""
    stock(admin)
    grant(admin, ADA_ID, "EXAMPLE1")
    grant(admin, ADA_ID, "subs-bronze")
    before = commerce_state(admin)
    for sku in ("EXAMPLE1", "subs-bronze"):
        response = http.post(f"/{APP_ID}/consume_entitlement", data={"access_token": ADA_TOKEN, "sku": sku})
        assert_graph_error(response, 400, 100, "OCApiException")
        assert owns(http, ADA_TOKEN, sku)
    for sku in ("gems_100", "no_such_sku"):
        response = http.post(f"/{APP_ID}/consume_entitlement", data={"access_token": ADA_TOKEN, "sku": sku})
        assert response.json() == {"success": False}
    assert_graph_error(http.post(f"/{APP_ID}/consume_entitlement", data={"access_token": ADA_TOKEN}), 400, 100)
    assert commerce_state(admin) == before


def test_parallel_consumes_succeed_exactly_once(qg: RunningServer, admin: httpx.Client) -> None:
    """D28: 24 threads consume one consumable over HTTP at once; exactly one gets success:true."""
    stock(admin)
    grant(admin, ADA_ID, "gems_100")
    results: list[Any] = []
    barrier = threading.Barrier(24)

    def consume() -> None:
        with qg.client() as client:
            barrier.wait()
            response = client.post(f"/{APP_ID}/consume_entitlement",
                                   data={"access_token": APP_TOKEN, "user_id": ADA_ID, "sku": "gems_100"})
            results.append(response.json())

    threads = [threading.Thread(target=consume) for _ in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r["success"] for r in results) == [False] * 23 + [True]
    assert sum(r["consumed_at"] is not None for r in history(admin, ADA_ID)) == 1


# --- expiry -----------------------------------------------------------------------------------------------------
def test_expired_grant_is_not_owned(http: httpx.Client, admin: httpx.Client) -> None:
    """D28, D36: a grant with expires_at is owned until then (expiration_time shows it), false after, and may be
    granted again."""
    stock(admin)
    expires = now(admin) + DAY
    grant(admin, ADA_ID, "EXAMPLE1", expires_at=str(expires))
    rows = http.get(f"/{APP_ID}/viewer_purchases",
                    params={"access_token": ADA_TOKEN, "fields": "expiration_time"}).json()["data"]
    assert [r["expiration_time"] for r in rows] == [expires]
    # The emulator clock keeps running between requests: keep a margin on each side of expires_at.
    advance(admin, DAY - 30)
    assert owns(http, ADA_TOKEN, "EXAMPLE1")
    advance(admin, 31)
    assert not owns(http, ADA_TOKEN, "EXAMPLE1")
    assert http.get(f"/{APP_ID}/viewer_purchases", params={"access_token": ADA_TOKEN}).json()["data"] == []
    grant(admin, ADA_ID, "EXAMPLE1")
    assert owns(http, ADA_TOKEN, "EXAMPLE1")


# --- viewer_purchases ---------------------------------------------------------------------------------------------
def test_viewer_purchases_paging_and_defaults(http: httpx.Client, admin: httpx.Client) -> None:
    """§3.3, D5, D21: ids only without fields; limit pages with keyset cursors and absolute next/previous links
    that carry the token; every owned item exactly once, consumed ones left out."""
    skus = [f"item_{n}" for n in range(5)]
    for sku in skus:
        create_item(admin, sku=sku, type="DURABLE", name=sku, price="100")
        grant(admin, GRACE_ID, sku)
        advance(admin, 1)
    create_item(admin, sku="gem", type="CONSUMABLE", name="gem")
    grant(admin, GRACE_ID, "gem")
    http.post(f"/{APP_ID}/consume_entitlement", data={"access_token": GRACE_TOKEN, "sku": "gem"}).raise_for_status()
    plain = http.get(f"/{APP_ID}/viewer_purchases", params={"access_token": GRACE_TOKEN}).json()
    assert all(set(row) == {"id"} for row in plain["data"]) and len(plain["data"]) == 5
    page = http.get(f"/{APP_ID}/viewer_purchases",
                    params={"access_token": APP_TOKEN, "user_id": GRACE_ID, "fields": "item{sku}", "limit": "2"}).json()
    assert "previous" not in page["paging"]
    seen = []
    while True:
        seen.extend(row["item"]["sku"] for row in page["data"])
        next_url = page["paging"].get("next")
        if not next_url:
            break
        assert next_url.startswith("http://") and "access_token=" in next_url and "user_id=" in next_url
        page = http.get(next_url).json()
    assert seen == skus
    back = http.get(page["paging"]["previous"]).json()
    assert [row["item"]["sku"] for row in back["data"]] == skus[2:4]


def test_viewer_purchases_includes_active_subscription(http: httpx.Client, admin: httpx.Client) -> None:
    """§3.3: an active subscription is owned until its period end (expiration_time), verify follows it."""
    stock(admin)
    sub = grant(admin, ADA_ID, "subs-bronze")
    rows = http.get(f"/{APP_ID}/viewer_purchases",
                    params={"access_token": ADA_TOKEN, "fields": "id,expiration_time,item{sku}"}).json()["data"]
    assert [(r["id"], r["expiration_time"], r["item"]["sku"]) for r in rows] == [
        (sub["id"], sub["granted_at"] + 7 * DAY, "subs-bronze")]
    assert owns(http, ADA_TOKEN, "subs-bronze")


# --- available_purchases --------------------------------------------------------------------------------------------
def test_available_purchases_shapes(http: httpx.Client, admin: httpx.Client) -> None:
    """§3.4, D29: price objects, billing plans with the paid offer's term, a FREE_TRIAL without max_term_count and
    an INTRO_OFFER with it; durables have no billing plan."""
    stock(admin)
    response = http.get("/application/available_purchases",
                        params={"access_token": APP_TOKEN, "fields": AVAILABLE_FIELDS})
    assert response.status_code == 200, response.text
    rows = {row["sku"]: row for row in response.json()["data"]}
    assert list(rows) == ["EXAMPLE1", "gems_100", "subs-bronze", "subs-gold"]
    assert rows["EXAMPLE1"]["billing_plans"] == []
    bronze = rows["subs-bronze"]["billing_plans"]
    assert len(bronze) == 1 and bronze[0]["paid_offer"]["subscription_term"] == "MONTHLY"
    assert bronze[0]["paid_offer"]["price"] == {"currency": "USD", "amount_in_hundredths": 199, "formatted": "$1.99"}
    trial = bronze[0]["trial_offers"][0]
    assert {k: v for k, v in trial.items() if k != "id"} == {
        "trial_type": "FREE_TRIAL", "trial_term": "WEEKLY", "description": "Monthly perks", "name": "Bronze",
        "price": {"currency": "USD", "amount_in_hundredths": 0, "formatted": "$0.00"}}
    intro = rows["subs-gold"]["billing_plans"][0]["trial_offers"][0]
    assert intro["trial_type"] == "INTRO_OFFER" and intro["max_term_count"] == 3
    assert intro["price"]["formatted"] == "$0.99"
    plain = http.get("/application/available_purchases", params={"access_token": APP_TOKEN}).json()["data"]
    assert all(set(row) == {"id"} for row in plain)


def test_available_purchases_for_a_user_leaves_out_what_they_own(http: httpx.Client, admin: httpx.Client) -> None:
    """§3.4: a user token lists what that user can buy: an owned durable, an unconsumed consumable and an active
    subscription are left out; a consumed consumable is back."""
    stock(admin)
    for sku in ("EXAMPLE1", "gems_100", "subs-bronze"):
        grant(admin, ADA_ID, sku)

    def skus(token: str) -> list[str]:
        response = http.get("/application/available_purchases", params={"access_token": token, "fields": "sku"})
        assert response.status_code == 200, response.text
        return [row["sku"] for row in response.json()["data"]]

    assert skus(ADA_TOKEN) == ["subs-gold"]
    assert skus(GRACE_TOKEN) == ["EXAMPLE1", "gems_100", "subs-bronze", "subs-gold"]
    http.post(f"/{APP_ID}/consume_entitlement", data={"access_token": ADA_TOKEN, "sku": "gems_100"})
    assert skus(ADA_TOKEN) == ["gems_100", "subs-gold"]


# --- refund -------------------------------------------------------------------------------------------------------
def test_refund_rules(http: httpx.Client, admin: httpx.Client) -> None:
    """§3.5: a durable and an unconsumed consumable can be refunded (then not owned, history keeps time and
    reason); a consumed consumable, an unowned item and a subscription cannot (400, nothing changed)."""
    stock(admin)
    grant(admin, ADA_ID, "EXAMPLE1")
    grant(admin, ADA_ID, "gems_100")
    grant(admin, GRACE_ID, "gems_100")
    grant(admin, GRACE_ID, "subs-bronze")
    http.post(f"/{APP_ID}/consume_entitlement", data={"access_token": GRACE_TOKEN, "sku": "gems_100"})

    def refund(user_id: str, sku: str, **extra: str) -> httpx.Response:
        data = {"access_token": APP_TOKEN, "user_id": user_id, "sku": sku, "reason": "customer_support", **extra}
        return http.post(f"/{APP_ID}/refund_iap_entitlement", data=data)

    before = commerce_state(admin)
    for user_id, sku in ((GRACE_ID, "gems_100"), (GRACE_ID, "EXAMPLE1"), (GRACE_ID, "subs-bronze"),
                         (ADA_ID, "no_such_sku")):
        assert_graph_error(refund(user_id, sku), 400, 100, "OCApiException")
    assert_graph_error(refund(ADA_ID, "EXAMPLE1", reason=""), 400, 100)
    assert_graph_error(refund(ADA_ID, "EXAMPLE1", reason="x" * 257), 400, 100)
    user_refund = http.post(f"/{APP_ID}/refund_iap_entitlement",
                            data={"access_token": ADA_TOKEN, "sku": "EXAMPLE1", "reason": "other"})
    assert_graph_error(user_refund, 403, 200, "OAuthException")
    assert commerce_state(admin) == before
    assert refund(ADA_ID, "EXAMPLE1").json() == {"success": True}
    assert refund(ADA_ID, "gems_100", reason="unable_to_fulfill").json() == {"success": True}
    assert not owns(http, ADA_TOKEN, "EXAMPLE1") and not owns(http, ADA_TOKEN, "gems_100")
    assert_graph_error(refund(ADA_ID, "EXAMPLE1"), 400, 100)  # already refunded
    rows = {r["sku"]: r for r in history(admin, ADA_ID)}
    assert rows["EXAMPLE1"]["refund_reason"] == "customer_support" and rows["EXAMPLE1"]["refunded_at"]
    assert rows["gems_100"]["refund_reason"] == "unable_to_fulfill" and rows["gems_100"]["consumed_at"] is None


# --- isolation ------------------------------------------------------------------------------------------------------
def test_cross_app_isolation(http: httpx.Client, admin: httpx.Client) -> None:
    """D7: the rival app never sees nor changes the first app's items or purchases, even with the same sku."""
    stock(admin)
    grant(admin, ADA_ID, "EXAMPLE1")
    grant(admin, ADA_ID, "gems_100")
    before = commerce_state(admin)
    rival = {"access_token": RIVAL_APP_TOKEN, "user_id": ADA_ID, "sku": "gems_100"}
    for path in ("verify_entitlement", "consume_entitlement"):
        assert_graph_error(http.post(f"/{APP_ID}/{path}", data=rival), 403, 200, "OAuthException")
        assert_graph_error(http.post(f"/{path}", data=rival), 400, 100)  # ada is no user of the rival app
    assert_graph_error(http.get(f"/{APP_ID}/viewer_purchases", params=rival), 403, 200)
    refund = {**rival, "reason": "other", "sku": "EXAMPLE1"}
    assert_graph_error(http.post(f"/{APP_ID}/refund_iap_entitlement", data=refund), 403, 200)
    # The rival's own user and catalogue: its EXAMPLE1 is another item, not owned.
    assert http.post("/verify_entitlement", data={"access_token": RIVAL_APP_TOKEN, "user_id": RIVAL_ID,
                                                  "sku": "EXAMPLE1"}).json() == {"success": False}
    skus = http.get("/application/available_purchases",
                    params={"access_token": RIVAL_APP_TOKEN, "fields": "sku,name"}).json()["data"]
    assert [(r["sku"], r["name"]) for r in skus] == [("EXAMPLE1", "Rival sword"), ("rival_only", "Rival gem")]
    # The first app's token on the rival's sku sees nothing of it.
    assert not owns(http, APP_TOKEN, "rival_only", ADA_ID)
    assert_graph_error(http.post("/99999999999999/verify_entitlement", data={"access_token": APP_TOKEN,
                                                                             "user_id": ADA_ID}), 404, 100)
    assert commerce_state(admin) == before


# --- bad input ------------------------------------------------------------------------------------------------------
def test_bad_input_every_parameter(http: httpx.Client, admin: httpx.Client) -> None:
    """D7: each malformed parameter is a 400 code 100 naming it (or the D7 token row), and nothing changes."""
    stock(admin)
    grant(admin, ADA_ID, "gems_100")
    before = commerce_state(admin)
    app = {"access_token": APP_TOKEN, "user_id": ADA_ID}
    cases: list[tuple[str, str, dict[str, str], str]] = [
        ("POST", f"/{APP_ID}/consume_entitlement", {**app, "sku": "gems_100", "user_id": "ada"}, "user_id"),
        ("POST", f"/{APP_ID}/consume_entitlement", {**app, "sku": "gems_100", "user_id": ""}, "user_id"),
        ("POST", f"/{APP_ID}/consume_entitlement", {**app, "sku": ""}, "sku"),
        ("POST", f"/{APP_ID}/consume_entitlement", {"access_token": ADA_TOKEN, "sku": "gems_100",
                                                    "user_id": GRACE_ID}, "user_id"),
        ("GET", f"/{APP_ID}/viewer_purchases", {**app, "limit": "-1"}, "limit"),
        ("GET", f"/{APP_ID}/viewer_purchases", {**app, "limit": "ten"}, "limit"),
        ("GET", f"/{APP_ID}/viewer_purchases", {**app, "after": "garbage"}, "after"),
        ("GET", f"/{APP_ID}/viewer_purchases", {**app, "before": "QVFIUlliZ"}, "before"),
        ("GET", f"/{APP_ID}/viewer_purchases", {**app, "fields": "id,price"}, "price"),
        ("GET", f"/{APP_ID}/viewer_purchases", {**app, "fields": "item{cost}"}, "cost"),
        ("GET", "/application/available_purchases", {"access_token": APP_TOKEN, "fields": "current_offer{x}"}, "x"),
        ("GET", "/application/available_purchases", {"access_token": APP_TOKEN, "after": "%%%"}, "after"),
        ("POST", f"/{APP_ID}/refund_iap_entitlement", {**app, "reason": "other"}, "sku"),
        ("POST", f"/{APP_ID}/refund_iap_entitlement", {**app, "sku": "gems_100"}, "reason"),
        ("POST", f"/{APP_ID}/refund_iap_entitlement", {"access_token": APP_TOKEN, "sku": "gems_100",
                                                       "reason": "other"}, "user_id"),
    ]
    for method, path, params, name in cases:
        response = http.request(method, path, params=params) if method == "GET" else http.post(path, data=params)
        error = assert_graph_error(response, 400, 100, "OCApiException")
        assert name in error["message"], (path, params, error)
    assert_graph_error(http.post(f"/{APP_ID}/consume_entitlement", data={"sku": "gems_100"}), 401, 104)
    assert_graph_error(http.post(f"/{APP_ID}/consume_entitlement",
                                 data={"access_token": "OC|1234757621998335|wrong", "sku": "gems_100"}), 401, 190)
    assert commerce_state(admin) == before
    assert owns(http, ADA_TOKEN, "gems_100")


# --- control plane --------------------------------------------------------------------------------------------------
def test_admin_catalogue_and_grant_errors(admin: httpx.Client) -> None:
    """D29: the admin API checks every item field and refuses to grant what the user still owns; nothing is
    stored by a refused call."""
    stock(admin)
    before = commerce_state(admin)
    bad_items = [
        {"type": "DURABLE", "name": "x"},  # no sku
        {"sku": "a b", "type": "DURABLE", "name": "x"},
        {"sku": "EXAMPLE1", "type": "DURABLE", "name": "dup"},
        {"sku": "t", "type": "GADGET", "name": "x"},
        {"sku": "t", "type": "DURABLE"},
        {"sku": "t", "type": "DURABLE", "name": "x", "price": "-1"},
        {"sku": "t", "type": "DURABLE", "name": "x", "price": "1.5"},
        {"sku": "t", "type": "DURABLE", "name": "x", "currency": "dollars"},
        {"sku": "t", "type": "DURABLE", "name": "x", "subscription_term": "MONTHLY"},
        {"sku": "t", "type": "SUBSCRIPTION", "name": "x"},
        {"sku": "t", "type": "SUBSCRIPTION", "name": "x", "subscription_term": "DAILY"},
        {"sku": "t", "type": "SUBSCRIPTION", "name": "x", "subscription_term": "MONTHLY", "trial_type": "FREE_TRIAL"},
        {"sku": "t", "type": "SUBSCRIPTION", "name": "x", "subscription_term": "MONTHLY", "trial_type": "FREE_TRIAL",
         "trial_term": "WEEKLY", "trial_price": "10"},
        {"sku": "t", "type": "SUBSCRIPTION", "name": "x", "subscription_term": "MONTHLY", "trial_term": "WEEKLY"},
    ]
    for fields in bad_items:
        assert_graph_error(admin.post(f"/_admin/apps/{APP_ID}/items", data=fields), 400, 100)
    assert_graph_error(admin.post("/_admin/apps/999999999999999/items",
                                  data={"sku": "t", "type": "DURABLE", "name": "x"}), 404, 100)
    assert commerce_state(admin) == before
    grant(admin, ADA_ID, "EXAMPLE1")
    grant(admin, ADA_ID, "subs-bronze")
    before = commerce_state(admin)
    for user_id, params in [(ADA_ID, {"sku": "EXAMPLE1"}), (ADA_ID, {"sku": "subs-bronze"}),
                            (ADA_ID, {"sku": "rival_only"}), (GRACE_ID, {"sku": "gems_100", "trial": "true"}),
                            (GRACE_ID, {"sku": "subs-bronze", "expires_at": "4000000000"}),
                            (GRACE_ID, {"sku": "gems_100", "expires_at": "1"}), (LINUS_ID, {})]:
        assert_graph_error(admin.post(f"/_admin/users/{user_id}/purchases", data=params), 400, 100)
    assert_graph_error(admin.post("/_admin/users/999999999999999/purchases", data={"sku": "EXAMPLE1"}), 404, 100)
    assert commerce_state(admin) == before
    listing = admin.get(f"/_admin/apps/{APP_ID}/items").json()["data"]
    assert [i["sku"] for i in listing] == ["EXAMPLE1", "gems_100", "subs-bronze", "subs-gold"]
    assert listing[3]["trial_max_term_count"] == 3 and listing[3]["trial_price"] == 99


def test_ids_are_global_objects(http: httpx.Client, admin: httpx.Client) -> None:
    """D9: item, offer and purchase ids are 15–17 digit strings, unique across kinds."""
    ids = stock(admin)
    purchase = grant(admin, ADA_ID, "EXAMPLE1")
    offer = http.get("/application/available_purchases",
                     params={"access_token": APP_TOKEN, "fields": "current_offer"}).json()["data"][0]["current_offer"]
    every = [*ids.values(), purchase["id"], offer["id"]]
    assert all(re.fullmatch(r"[0-9]{15,17}", i) for i in every) and len(set(every)) == len(every)
