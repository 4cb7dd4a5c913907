"""Helpers of the IAP and subscription tests: a catalogue made through the admin API, grants, clock moves and a
whole-state probe (the commerce tables of an admin snapshot)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import APP_ID, RIVAL_APP_ID

DAY = 86_400
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000"

# The catalogue most tests use: one of each kind, with Meta's example skus and prices.
CATALOGUE: list[dict[str, str]] = [
    {"sku": "EXAMPLE1", "type": "DURABLE", "name": "Sword", "description": "A sharp sword", "price": "299"},
    {"sku": "gems_100", "type": "CONSUMABLE", "name": "100 gems", "description": "A pouch", "price": "99"},
    {"sku": "subs-bronze", "type": "SUBSCRIPTION", "name": "Bronze", "description": "Monthly perks",
     "price": "199", "subscription_term": "MONTHLY", "trial_type": "FREE_TRIAL", "trial_term": "WEEKLY"},
    {"sku": "subs-gold", "type": "SUBSCRIPTION", "name": "Gold", "description": "Yearly perks", "price": "1999",
     "subscription_term": "ANNUAL", "trial_type": "INTRO_OFFER", "trial_term": "MONTHLY",
     "trial_max_term_count": "3", "trial_price": "99"},
]
RIVAL_CATALOGUE: list[dict[str, str]] = [
    {"sku": "EXAMPLE1", "type": "DURABLE", "name": "Rival sword", "price": "500"},
    {"sku": "rival_only", "type": "CONSUMABLE", "name": "Rival gem", "price": "10"},
]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def create_item(admin: httpx.Client, app_id: str = APP_ID, **fields: str) -> dict[str, Any]:
    response = admin.post(f"/_admin/apps/{app_id}/items", data=fields)
    assert response.status_code == 200, response.text
    return dict(response.json())


def stock(admin: httpx.Client) -> dict[str, str]:
    """Both catalogues; returns sku → item id of the first app's."""
    ids = {item["sku"]: create_item(admin, **item)["id"] for item in CATALOGUE}
    for item in RIVAL_CATALOGUE:
        create_item(admin, RIVAL_APP_ID, **item)
    return ids


def grant(admin: httpx.Client, user_id: str, sku: str, **params: str) -> dict[str, Any]:
    response = admin.post(f"/_admin/users/{user_id}/purchases", data={"sku": sku, **params})
    assert response.status_code == 200, response.text
    return dict(response.json())


def history(admin: httpx.Client, user_id: str) -> list[dict[str, Any]]:
    response = admin.get(f"/_admin/users/{user_id}/purchases")
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def now(admin: httpx.Client) -> int:
    return int(admin.get("/_admin/clock").json()["now"])


def advance(admin: httpx.Client, seconds: int) -> int:
    response = admin.post("/_admin/clock", data={"advance_seconds": str(seconds)})
    assert response.status_code == 200, response.text
    return int(response.json()["now"])


def commerce_state(admin: httpx.Client) -> dict[str, Any]:
    """Every stored row a commerce request could change (catalogue, purchases, subscriptions, object ids)."""
    snapshot = admin.get("/_admin/snapshot")
    assert snapshot.status_code == 200, snapshot.text
    tables = snapshot.json()["tables"]
    return {name: sorted(tables[name], key=lambda r: str(r.get("id")))
            for name in ("iap_items", "purchases", "subscriptions", "entitlements", "objects")}


def verify(http: httpx.Client, token: str, sku: str | None = None, user_id: str | None = None,
           app_id: str | None = APP_ID, method: str = "POST") -> httpx.Response:
    data = {k: v for k, v in (("sku", sku), ("user_id", user_id)) if v is not None}
    path = f"/{app_id}/verify_entitlement" if app_id else "/verify_entitlement"
    if method == "GET":
        return http.get(path, params={**data, "access_token": token})
    return http.post(path, data={**data, "access_token": token})


def owns(http: httpx.Client, token: str, sku: str | None, user_id: str | None = None,
         app_id: str | None = APP_ID) -> bool:
    """verify_entitlement, asserting the exact D28 shapes."""
    response = verify(http, token, sku, user_id, app_id)
    assert response.status_code == 200, response.text
    body = response.json()
    if body["success"]:
        assert set(body) == {"success", "grant_time"} and isinstance(body["grant_time"], int), body
        return True
    assert body == {"success": False}
    return False
