"""Every field Meta's docs name for each node type and public clients request (docs/fidelity.md, "Node
fields"), over real HTTP on both backends: the documented shape for each, and the D5 400 for names Meta does
not have. The User fields without live data (presence, presence_status, profile_url_small, D10) are answered
on every User node type: ``/{user_id}``, ``/me``, entries' ``user{}`` and subscriptions' ``owner{}``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.commerce_support import grant, stock
from tests.conftest import ADA_ID, ADA_TOKEN, APP_ID, APP_TOKEN, GRACE_ID, assert_graph_error

APP_AUTH = {"Authorization": f"Bearer {APP_TOKEN}"}
USER_FIELDS = "id,alias,display_name,profile_url,org_scoped_id,presence,presence_status,profile_url_small"
NESTED_USER_FIELDS = "id,alias,display_name,profile_url,presence,presence_status,profile_url_small"
BOARD_FIELDS = ("id,api_name,sort_order,entry_write_policy,entry_count,earliest_allowed_entry_time,"
                "latest_allowed_entry_time,title_locale_map")
ENTRY_FIELDS = f"id,user{{{NESTED_USER_FIELDS}}},rank,score,timestamp,extra_data_base64"
SUBSCRIPTION_FIELDS = (f"id,owner{{{NESTED_USER_FIELDS}}},sku,period_start_time,period_end_time,next_renewal_time,"
                       "is_trial,trial_type,is_active,current_price_term{term,currency,price}")


def get(http: httpx.Client, path: str, fields: str, token: str = APP_TOKEN, **params: str) -> httpx.Response:
    return http.get(path, params={"access_token": token, "fields": fields, **params})


def assert_offline_user(user: dict[str, Any], user_id: str, alias: str) -> None:
    """D10: the fields questgraph has no live data for, with their documented values."""
    assert user["id"] == user_id and user["alias"] == alias
    assert user["presence"] == "" and user["presence_status"] == "OFFLINE"
    assert isinstance(user["profile_url"], str) and user["profile_url_small"] == user["profile_url"]


def test_user_node_answers_every_documented_field(http: httpx.Client) -> None:
    """H-ROOM's User fields and the REST ones, at /{user_id} (app token) and /me (user token)."""
    for response in (get(http, f"/{ADA_ID}", USER_FIELDS), get(http, "/me", USER_FIELDS, ADA_TOKEN)):
        assert response.status_code == 200, response.text
        body = response.json()
        assert list(body) == USER_FIELDS.split(",")  # every field asked for, id first
        assert_offline_user(body, ADA_ID, "ada")
        assert body["org_scoped_id"].isdigit() and body["display_name"]
    only = get(http, f"/{GRACE_ID}", "presence_status").json()
    assert only == {"id": GRACE_ID, "presence_status": "OFFLINE"}


def test_entry_user_answers_the_same_user_fields(http: httpx.Client) -> None:
    """D-LB's entry fields with the nested user asking for every User field of §1."""
    for user_id, score in ((ADA_ID, 10), (GRACE_ID, 20)):
        http.post("/leaderboard_submit_entry", headers=APP_AUTH,
                  data={"api_name": "best_leaderboard", "score": str(score), "user_id": user_id}).raise_for_status()
    response = get(http, "/leaderboard_entries", ENTRY_FIELDS, api_name="best_leaderboard")
    assert response.status_code == 200, response.text
    rows = response.json()["data"]
    assert [(r["rank"], r["score"]) for r in rows] == [(1, 20), (2, 10)]
    assert all(set(r) == {"id", "user", "rank", "score", "timestamp", "extra_data_base64"} for r in rows)
    assert_offline_user(rows[0]["user"], GRACE_ID, "grace")
    assert_offline_user(rows[1]["user"], ADA_ID, "ada")
    assert rows[0]["extra_data_base64"] == "" and isinstance(rows[0]["timestamp"], int)


def test_leaderboard_node_answers_every_documented_field(http: httpx.Client) -> None:
    """D-LB's metadata fields; fields without a value (no time window, no title) are left out (D5)."""
    response = get(http, f"/{APP_ID}/leaderboards", BOARD_FIELDS)
    assert response.status_code == 200, response.text
    by_name = {row["api_name"]: row for row in response.json()["data"]}
    assert by_name["best_leaderboard"] == {"id": by_name["best_leaderboard"]["id"], "api_name": "best_leaderboard",
                                           "sort_order": "HIGHER_IS_BETTER",
                                           "entry_write_policy": "CLIENT_AUTHORITATIVE", "entry_count": 0}


def test_subscription_owner_answers_the_same_user_fields(http: httpx.Client, admin: httpx.Client) -> None:
    """D-SUB's fields, the owner asking for every User field of §1."""
    stock(admin)
    grant(admin, ADA_ID, "subs-bronze")
    response = get(http, "/application/subscriptions", SUBSCRIPTION_FIELDS, owner_id=ADA_ID)
    assert response.status_code == 200, response.text
    (row,) = response.json()["data"]
    assert_offline_user(row["owner"], ADA_ID, "ada")
    assert row["sku"] == "subs-bronze" and row["is_active"] is True
    assert set(row["current_price_term"]) == {"term", "currency", "price"}
    assert row["current_price_term"]["currency"] == "USD"


@pytest.mark.parametrize(("path", "fields", "node", "token", "params"), [
    # SDK accessor names and Facebook-style names that no Meta REST doc has (docs/fidelity.md)
    (f"/{ADA_ID}", "id,oculus_id", "User", APP_TOKEN, {}),
    (f"/{ADA_ID}", "small_image_url", "User", APP_TOKEN, {}),
    ("/me", "id,name,email", "User", ADA_TOKEN, {}),
    ("/leaderboard_entries", "rank,user{name}", "User", APP_TOKEN, {"api_name": "best_leaderboard"}),
    ("/leaderboard_entries", "display_score", "LeaderboardEntry", APP_TOKEN, {"api_name": "best_leaderboard"}),
    ("/leaderboard_entries", "user{org_scoped_id}", "User", APP_TOKEN, {"api_name": "best_leaderboard"}),
    (f"/{APP_ID}/leaderboards", "api_name,score_type", "Leaderboard", APP_TOKEN, {}),
    (f"/{APP_ID}/leaderboards", "destination", "Leaderboard", APP_TOKEN, {}),
    (f"/{APP_ID}/leaderboards", "entries{rank}", "Leaderboard", APP_TOKEN, {}),
    ("/application/subscriptions", "owner{email}", "User", APP_TOKEN, {}),
    (f"/{APP_ID}/viewer_purchases", "developer_payload", "Purchase", APP_TOKEN, {"user_id": ADA_ID}),
])
def test_fields_meta_does_not_have_stay_a_400(http: httpx.Client, path: str, fields: str, node: str, token: str,
                                              params: dict[str, str]) -> None:
    """D5: Meta's message naming the field and the node type, whichever node it is on."""
    error = assert_graph_error(get(http, path, fields, token, **params), 400, 100)
    assert error["message"].startswith("Tried accessing nonexisting field (")
    assert error["message"].endswith(f"on node type ({node})")
