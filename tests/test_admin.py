"""The admin API under /_admin (docs/config.md): the admin key, and every endpoint: orgs, apps and their
secrets (D12), users with app- and org-scoped ids (D10), tokens (D11), entitlements, friends, SSO redirect
URIs (D30), reset, snapshot export/import, and the emulator clock (D36)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import (
    ADA_ID,
    ADA_TOKEN,
    ADMIN_KEY,
    APP_ID,
    APP_SECRET,
    APP_TOKEN,
    GRACE_ID,
    LINUS_ID,
    LINUS_TOKEN,
    RIVAL_APP_ID,
    RIVAL_ID,
    UNENTITLED_ID,
    assert_graph_error,
    start_server,
)

ORG_ID = "1000000000000001"
RIVAL_ORG_ID = "2000000000000001"
UNKNOWN_ID = "1999999999999999"
OBJECT_ID = re.compile(r"[0-9]{15,17}")
PROBE = f"/{APP_ID}/leaderboards"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def new_org(admin: httpx.Client, name: str = "New Studio") -> str:
    return str(ok(admin.post("/_admin/orgs", data={"name": name}))["id"])


def new_app(admin: httpx.Client, org_id: str, name: str = "New Game") -> dict[str, Any]:
    return dict(ok(admin.post(f"/_admin/orgs/{org_id}/apps", data={"name": name})))


def new_user(admin: httpx.Client, app_id: str, alias: str, **data: str) -> dict[str, Any]:
    return dict(ok(admin.post(f"/_admin/apps/{app_id}/users", data={"alias": alias, **data})))


def snapshot(admin: httpx.Client) -> dict[str, Any]:
    return dict(ok(admin.get("/_admin/snapshot")))


def submit(http: httpx.Client, user_id: str, score: int) -> httpx.Response:
    return http.post("/leaderboard_submit_entry", headers=bearer(APP_TOKEN),
                     data={"api_name": "best_leaderboard", "score": str(score), "user_id": user_id})


def friends_view(http: httpx.Client, token: str) -> set[str]:
    page = http.get("/leaderboard_entries", headers=bearer(token),
                    params={"api_name": "best_leaderboard", "filter": "FRIENDS", "fields": "user{id}"})
    return {row["user"]["id"] for row in ok(page)["data"]}


# Every endpoint, with a harmless but valid request for it.
ENDPOINTS: list[tuple[str, str, dict[str, str]]] = [
    ("GET", "/_admin/orgs", {}),
    ("POST", "/_admin/orgs", {"name": "Sneaky"}),
    ("POST", f"/_admin/orgs/{ORG_ID}/apps", {"name": "Sneaky"}),
    ("GET", f"/_admin/orgs/{ORG_ID}/redirect_uris", {}),
    ("POST", f"/_admin/orgs/{ORG_ID}/redirect_uris", {"redirect_uri": "https://sneaky.example/cb"}),
    ("GET", f"/_admin/apps/{APP_ID}", {}),
    ("POST", f"/_admin/apps/{APP_ID}/secret", {}),
    ("GET", f"/_admin/apps/{APP_ID}/users", {}),
    ("POST", f"/_admin/apps/{APP_ID}/users", {"alias": "sneaky"}),
    ("GET", f"/_admin/users/{ADA_ID}", {}),
    ("POST", f"/_admin/users/{ADA_ID}/tokens", {}),
    ("POST", f"/_admin/users/{UNENTITLED_ID}/entitlements", {}),
    ("POST", f"/_admin/users/{ADA_ID}/friends", {"friend_id": LINUS_ID}),
    ("POST", "/_admin/reset", {"empty": "true"}),
    ("GET", "/_admin/snapshot", {}),
    ("POST", "/_admin/snapshot", {"version": "1", "tables": "{}"}),
    ("GET", "/_admin/clock", {}),
    ("POST", "/_admin/clock", {"advance_seconds": "5"}),
]


# --- the admin key ---------------------------------------------------------------------------------------
def test_every_endpoint_needs_the_admin_key(http: httpx.Client, admin: httpx.Client) -> None:
    """No key: 401/104; a wrong key (or a Graph token): 403/200; and a refused call changes nothing, not
    even a reset or a snapshot import (which would empty the database)."""
    before = snapshot(admin)
    for method, path, data in ENDPOINTS:
        assert_graph_error(http.request(method, path, data=data or None), 401, 104, "OAuthException")
        for key in (ADMIN_KEY + "x", ADMIN_KEY[:-1], ADMIN_KEY.upper(), APP_TOKEN, ADA_TOKEN):
            refused = http.request(method, path, data={**data, "access_token": key})
            error = assert_graph_error(refused, 403, 200, "OAuthException")
            assert ADMIN_KEY not in error["message"]
        assert_graph_error(http.request(method, path, data=data or None, headers=bearer("nope")), 403, 200)
    assert snapshot(admin) == before
    assert http.get(PROBE, headers=bearer(APP_TOKEN)).status_code == 200


def test_the_admin_key_is_read_like_an_access_token(http: httpx.Client) -> None:
    """D4 applies to the admin key: Bearer or OAuth header, or an access_token parameter."""
    for response in (
        http.get("/_admin/orgs", headers=bearer(ADMIN_KEY)),
        http.get("/_admin/orgs", headers={"Authorization": f"OAuth {ADMIN_KEY}"}),
        http.get("/_admin/orgs", params={"access_token": ADMIN_KEY}),
        http.post("/_admin/orgs", data={"access_token": ADMIN_KEY, "method": "GET"}),
    ):
        assert [org["id"] for org in ok(response)["data"]] == [ORG_ID, RIVAL_ORG_ID]


def test_without_an_admin_key_the_admin_api_is_disabled(tmp_path: Path) -> None:
    """``admin_key=None`` (``--production`` without a key): every admin call is 403, whatever is sent, while
    the Graph API serves as usual."""
    running = start_server(tmp_path, admin_key=None)
    try:
        with running.client() as client:
            for method, path, data in ENDPOINTS:
                for headers in ({}, bearer(ADMIN_KEY), bearer("None")):
                    refused = client.request(method, path, data=data or None, headers=headers or None)
                    error = assert_graph_error(refused, 403, 200, "OAuthException")
                    assert "disabled" in error["message"]
            assert client.get(PROBE, headers=bearer(APP_TOKEN)).status_code == 200
    finally:
        running.stop()


# --- orgs and apps ---------------------------------------------------------------------------------------
def test_orgs_are_created_and_listed(admin: httpx.Client) -> None:
    """Orgs get a D9 id or the one asked for; names are required; ids are unique across every object."""
    listed = ok(admin.get("/_admin/orgs"))["data"]
    assert [(o["id"], o["name"]) for o in listed] == [(ORG_ID, "Doc Studio"), (RIVAL_ORG_ID, "Rival Studio")]
    assert [a["id"] for a in listed[0]["apps"]] == [APP_ID]
    assert listed[0]["sso_redirect_uris"] == ["https://studio.example/auth/callback"]
    made = ok(admin.post("/_admin/orgs", data={"name": "Third Studio"}))
    assert OBJECT_ID.fullmatch(made["id"]) and made["name"] == "Third Studio"
    fixed = ok(admin.post("/_admin/orgs", json={"name": "Fixed", "id": "3000000000000001"}))
    assert fixed == {"id": "3000000000000001", "name": "Fixed"}
    listed = ok(admin.get("/_admin/orgs"))["data"]
    assert {"id": made["id"], "name": "Third Studio", "apps": [], "sso_redirect_uris": []} in listed
    assert len(listed) == 4
    error = assert_graph_error(admin.post("/_admin/orgs", data={}), 400, 100)
    assert "name" in error["message"]
    assert_graph_error(admin.post("/_admin/orgs", data={"name": " "}), 400, 100)
    for taken in ("3000000000000001", APP_ID, ADA_ID):  # D9: one id space for every kind of object
        assert_graph_error(admin.post("/_admin/orgs", data={"name": "Dup", "id": taken}), 400, 100)
    for bad in ("12345", "123456789012345678", "abc", "-100000000000000"):
        assert_graph_error(admin.post("/_admin/orgs", data={"name": "Bad", "id": bad}), 400, 100)
    assert len(ok(admin.get("/_admin/orgs"))["data"]) == 4


def test_an_app_secret_is_shown_once_and_never_again(admin: httpx.Client, http: httpx.Client) -> None:
    """D12: creating an app answers its secret and app token once; no read shows them afterwards."""
    made = new_app(admin, ORG_ID, "Secretive")
    assert set(made) == {"id", "org_id", "name", "secret", "app_access_token"}
    assert made["org_id"] == ORG_ID and OBJECT_ID.fullmatch(made["id"])
    assert made["app_access_token"] == f"OC|{made['id']}|{made['secret']}"
    assert ok(http.get(f"/{made['id']}/leaderboards", headers=bearer(made["app_access_token"]))) == {"data": []}
    shown = admin.get(f"/_admin/apps/{made['id']}")
    assert ok(shown) == {"id": made["id"], "org_id": ORG_ID, "name": "Secretive"}
    for read in (shown, admin.get("/_admin/orgs"), admin.get(f"/_admin/apps/{APP_ID}"),
                 admin.get(f"/_admin/apps/{made['id']}/users")):
        assert made["secret"] not in read.text and APP_SECRET not in read.text
        assert "secret" not in json.dumps(ok(read)).replace("Secretive", "")
    chosen = ok(admin.post(f"/_admin/orgs/{ORG_ID}/apps", data={"name": "Chosen", "secret": "s3cr3t" * 4}))
    assert chosen["secret"] == "s3cr3t" * 4
    for bad in ("short", "has spaces in it here", "x" * 129, "dash-es-are-not-allowed"):
        assert_graph_error(admin.post(f"/_admin/orgs/{ORG_ID}/apps", data={"name": "Bad", "secret": bad}), 400, 100)
    assert_graph_error(admin.post(f"/_admin/orgs/{ORG_ID}/apps", data={}), 400, 100)
    assert_graph_error(admin.post(f"/_admin/orgs/{UNKNOWN_ID}/apps", data={"name": "Orphan"}), 404, 100)
    assert_graph_error(admin.get(f"/_admin/apps/{UNKNOWN_ID}"), 404, 100)
    names = sorted(a["name"] for a in ok(admin.get("/_admin/orgs"))["data"][0]["apps"])
    assert names == ["Chosen", "Doc Game", "Secretive"]


# --- users -----------------------------------------------------------------------------------------------
def test_one_person_has_one_org_scoped_id_per_org(admin: httpx.Client) -> None:
    """D10: the same person in two apps of one org has two app-scoped ids and one org-scoped id; in an app
    of another org a different org-scoped id."""
    org = new_org(admin)
    first, second = new_app(admin, org, "First")["id"], new_app(admin, org, "Second")["id"]
    elsewhere = new_app(admin, new_org(admin, "Other Studio"), "Elsewhere")["id"]
    a = new_user(admin, first, "zed", display_name="Zed", age_category="TN")
    b = new_user(admin, second, "zed")
    c = new_user(admin, elsewhere, "zed")
    assert a["org_scoped_id"] == b["org_scoped_id"] != c["org_scoped_id"]
    assert len({a["id"], b["id"], c["id"], a["org_scoped_id"], c["org_scoped_id"]}) == 5
    for user in (a, b, c):
        assert all(OBJECT_ID.fullmatch(user[k]) for k in ("id", "app_id", "org_scoped_id"))
        assert (user["alias"], user["display_name"], user["age_category"]) == ("zed", "Zed", "TN")  # one person
    assert (a["app_id"], b["app_id"], c["app_id"]) == (first, second, elsewhere)
    assert ok(admin.get(f"/_admin/users/{b['id']}")) == b
    assert [u["id"] for u in ok(admin.get(f"/_admin/apps/{first}/users"))["data"]] == [a["id"]]
    # Joining the same app twice gives the same user back.
    assert new_user(admin, first, "zed") == a
    # The world's users: org-scoped ids exist for them too, and the rival app sees only its own.
    ada = ok(admin.get(f"/_admin/users/{ADA_ID}"))
    assert ada["alias"] == "ada" and OBJECT_ID.fullmatch(ada["org_scoped_id"]) and ada["entitled"] is True
    assert [u["id"] for u in ok(admin.get(f"/_admin/apps/{RIVAL_APP_ID}/users"))["data"]] == [RIVAL_ID]


def test_user_creation_validates_and_leaves_nothing_behind_on_error(admin: httpx.Client) -> None:
    """A refused user creation is a 400/404 naming the parameter and creates no person: a later creation
    with the same alias starts afresh."""
    assert_graph_error(admin.post(f"/_admin/apps/{APP_ID}/users", data={}), 400, 100)
    error = assert_graph_error(admin.post(f"/_admin/apps/{APP_ID}/users", data={"alias": "kid", "age_category":
                                                                                "XX"}), 400, 100)
    assert "age_category" in error["message"]
    assert_graph_error(admin.post(f"/_admin/apps/{APP_ID}/users", data={"alias": "bad alias!"}), 400, 100)
    assert_graph_error(admin.post(f"/_admin/apps/{UNKNOWN_ID}/users", data={"alias": "nobody"}), 404, 100)
    # An id already taken (by an app: D9) refuses the whole request...
    taken = admin.post(f"/_admin/apps/{APP_ID}/users", data={"alias": "ghost", "display_name": "First try",
                                                             "id": APP_ID})
    assert_graph_error(taken, 400, 100)
    # ...so the alias is still free, and the second attempt's profile is the one kept.
    ghost = new_user(admin, APP_ID, "ghost", display_name="Second try", age_category="CH", id="123402235207199")
    assert (ghost["id"], ghost["display_name"], ghost["age_category"]) == ("123402235207199", "Second try", "CH")
    # A fixed org-scoped id must agree with the one the person already has in that org.
    app2 = new_app(admin, ORG_ID, "Second")["id"]
    assert_graph_error(admin.post(f"/_admin/apps/{app2}/users", data={"alias": "ghost",
                                                                     "org_scoped_id": "777777777777777"}), 400, 100)
    assert new_user(admin, app2, "ghost", org_scoped_id=ghost["org_scoped_id"])["org_scoped_id"] == \
        ghost["org_scoped_id"]
    assert_graph_error(admin.get(f"/_admin/users/{UNKNOWN_ID}"), 404, 100)
    assert_graph_error(admin.get("/_admin/users/12"), 404, 100)


def test_minted_tokens_work_and_their_parameters_are_checked(admin: httpx.Client, http: httpx.Client) -> None:
    """D11: a minted token names its user at once; ttl_seconds and a chosen token are validated (an
    absurd ttl is a 400, not a 500)."""
    token = ok(admin.post(f"/_admin/users/{GRACE_ID}/tokens"))["access_token"]
    assert http.get(PROBE, headers=bearer(token)).status_code == 200
    chosen = "OC" + "Chosen1" * 12
    assert ok(admin.post(f"/_admin/users/{GRACE_ID}/tokens", data={"token": chosen})) == {"access_token": chosen}
    assert ok(admin.post(f"/_admin/users/{GRACE_ID}/tokens", data={"token": chosen}))["access_token"] == chosen
    assert http.get(PROBE, headers=bearer(chosen)).status_code == 200
    for data in ({"ttl_seconds": "0"}, {"ttl_seconds": "-5"}, {"ttl_seconds": "soon"},
                 {"ttl_seconds": str(2**63 - 1)}, {"ttl_seconds": str(10**12)},
                 {"token": "XX" + "a" * 90}, {"token": "OCshort"}, {"token": chosen + "!"},
                 {"token": chosen}):  # the last: already the token of another user (GRACE != ADA)
        user = ADA_ID if data.get("token") == chosen else GRACE_ID
        assert_graph_error(admin.post(f"/_admin/users/{user}/tokens", data=data), 400, 100)
    assert_graph_error(admin.post(f"/_admin/users/{UNKNOWN_ID}/tokens"), 404, 100)
    lasting = ok(admin.post(f"/_admin/users/{GRACE_ID}/tokens", data={"ttl_seconds": str(50 * 365 * 86400)}))
    assert http.get(PROBE, headers=bearer(lasting["access_token"])).status_code == 200


def test_granting_an_entitlement_lets_the_user_play(admin: httpx.Client, http: httpx.Client) -> None:
    """An unentitled user's write is 403 (D7, OCApiException); after the grant it succeeds. The grant is
    idempotent and unknown users are 404."""
    assert ok(admin.get(f"/_admin/users/{UNENTITLED_ID}"))["entitled"] is False
    assert_graph_error(submit(http, UNENTITLED_ID, 10), 403, 200, "OCApiException")
    assert ok(admin.post(f"/_admin/users/{UNENTITLED_ID}/entitlements")) == {"success": True}
    assert ok(admin.post(f"/_admin/users/{UNENTITLED_ID}/entitlements")) == {"success": True}
    assert ok(admin.get(f"/_admin/users/{UNENTITLED_ID}"))["entitled"] is True
    assert ok(submit(http, UNENTITLED_ID, 10))["did_update"] is True
    made = new_user(admin, APP_ID, "latecomer", entitled="false")
    assert made["entitled"] is False
    assert_graph_error(submit(http, made["id"], 1), 403, 200)
    assert_graph_error(admin.post(f"/_admin/users/{UNKNOWN_ID}/entitlements"), 404, 100)


def test_friends_are_mutual_and_feed_the_friends_filter(admin: httpx.Client, http: httpx.Client) -> None:
    """D10/D20: a friendship made through the admin API is mutual and shows in ``filter=FRIENDS`` at once."""
    for user_id, score in ((ADA_ID, 30), (GRACE_ID, 20), (LINUS_ID, 10)):
        assert submit(http, user_id, score).status_code == 200
    assert friends_view(http, LINUS_TOKEN) == {LINUS_ID}
    assert friends_view(http, ADA_TOKEN) == {ADA_ID, GRACE_ID}  # the world's friendship
    assert ok(admin.post(f"/_admin/users/{LINUS_ID}/friends", data={"friend_id": ADA_ID})) == {"success": True}
    assert ok(admin.post(f"/_admin/users/{LINUS_ID}/friends", data={"friend_id": ADA_ID})) == {"success": True}
    assert friends_view(http, LINUS_TOKEN) == {LINUS_ID, ADA_ID}
    assert friends_view(http, ADA_TOKEN) == {ADA_ID, GRACE_ID, LINUS_ID}
    assert ok(admin.post(f"/_admin/users/{LINUS_ID}/friends", data={"friend_id": LINUS_ID})) == {"success": True}
    assert_graph_error(admin.post(f"/_admin/users/{LINUS_ID}/friends", data={"friend_id": UNKNOWN_ID}), 404, 100)
    assert_graph_error(admin.post(f"/_admin/users/{UNKNOWN_ID}/friends", data={"friend_id": ADA_ID}), 404, 100)
    assert_graph_error(admin.post(f"/_admin/users/{LINUS_ID}/friends", data={}), 400, 100)
    assert_graph_error(admin.post(f"/_admin/users/{LINUS_ID}/friends", data={"friend_id": "ada"}), 400, 100)


# --- SSO redirect URIs -----------------------------------------------------------------------------------
def test_redirect_uris_are_registered_exactly(admin: httpx.Client) -> None:
    """D30: absolute http(s) URIs with a host and no fragment are stored as given (listed in order,
    without duplicates); anything else is a 400 that changes nothing."""
    path = f"/_admin/orgs/{ORG_ID}/redirect_uris"
    assert ok(admin.get(path)) == {"data": ["https://studio.example/auth/callback"]}
    added = ok(admin.post(path, data={"redirect_uri": "http://localhost:3000/cb?x=1"}))
    assert added == {"data": ["http://localhost:3000/cb?x=1", "https://studio.example/auth/callback"]}
    assert ok(admin.post(path, data={"redirect_uri": "http://localhost:3000/cb?x=1"})) == added
    for bad in ("", "   ", "ftp://files.example/cb", "https://studio.example/cb#frag", "not a uri",
                "https://exa mple.com/cb", "/relative/cb", "https://", "https:///path", "javascript:alert(1)",
                "https://x.example/\ncb", "https://x.example:99999/cb", "https://" + "a" * 2048 + ".example/"):
        assert_graph_error(admin.post(path, data={"redirect_uri": bad}), 400, 100)
    assert ok(admin.get(path)) == added
    assert ok(admin.get(f"/_admin/orgs/{RIVAL_ORG_ID}/redirect_uris")) == {"data": []}  # per organization
    assert_graph_error(admin.get(f"/_admin/orgs/{UNKNOWN_ID}/redirect_uris"), 404, 100)
    assert_graph_error(admin.post(f"/_admin/orgs/{UNKNOWN_ID}/redirect_uris",
                                  data={"redirect_uri": "https://a.example/"}), 404, 100)


# --- reset and snapshots ---------------------------------------------------------------------------------
def stable(users: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Users without their org-scoped ids, which the world leaves to the server to choose."""
    return [{k: v for k, v in u.items() if k != "org_scoped_id"} for u in users]


def test_reset_restores_the_world_and_empty_empties(admin: httpx.Client, http: httpx.Client) -> None:
    """``POST /_admin/reset`` re-applies the world file (clock included); ``empty=true`` leaves nothing."""
    orgs = ok(admin.get("/_admin/orgs"))
    users = stable(ok(admin.get(f"/_admin/apps/{APP_ID}/users"))["data"])
    new_app(admin, new_org(admin))
    ok(admin.post(f"/_admin/apps/{APP_ID}/secret"))
    new_user(admin, APP_ID, "tourist")
    ok(admin.post("/_admin/clock", data={"advance_seconds": "3600"}))
    assert submit(http, ADA_ID, 5).status_code == 401  # the secret was rotated
    assert ok(admin.post("/_admin/reset")) == {"success": True}
    assert ok(admin.get("/_admin/orgs")) == orgs
    assert stable(ok(admin.get(f"/_admin/apps/{APP_ID}/users"))["data"]) == users
    assert ok(admin.get("/_admin/clock"))["offset_seconds"] == 0
    assert ok(submit(http, ADA_ID, 5))["did_update"] is True
    assert ok(admin.post("/_admin/reset", data={"empty": "true"})) == {"success": True}
    assert ok(admin.get("/_admin/orgs")) == {"data": []}
    assert all(rows == [] for rows in snapshot(admin)["tables"].values())
    assert_graph_error(http.get(PROBE, headers=bearer(APP_TOKEN)), 401, 190)
    assert_graph_error(http.get(PROBE, headers=bearer(ADA_TOKEN)), 401, 190)
    assert_graph_error(admin.post("/_admin/reset", data={"empty": "maybe"}), 400, 100)
    assert ok(admin.post("/_admin/reset", data={"empty": "false"})) == {"success": True}
    assert ok(admin.get("/_admin/orgs")) == orgs


def board(http: httpx.Client) -> list[tuple[str, int, int]]:
    page = http.get("/leaderboard_entries", headers=bearer(APP_TOKEN),
                    params={"api_name": "best_leaderboard", "fields": "user{id},rank,score"})
    return [(r["user"]["id"], r["rank"], r["score"]) for r in ok(page)["data"]]


def test_a_snapshot_import_restores_exactly(admin: httpx.Client, http: httpx.Client) -> None:
    """Export, change everything, import: the database, the rank index, the secrets and the clock are as
    they were at the export."""
    ok(admin.post("/_admin/clock", data={"advance_seconds": "500"}))
    for user_id, score in ((ADA_ID, 30), (GRACE_ID, 20), (LINUS_ID, 10)):
        assert submit(http, user_id, score).status_code == 200
    saved = snapshot(admin)
    assert saved["version"] == 1 and saved["tables"]["entries"]
    ranked = board(http)
    # Change every kind of state.
    new_app(admin, new_org(admin))
    extra = new_user(admin, APP_ID, "intruder")
    assert submit(http, extra["id"], 99).status_code == 200
    assert submit(http, GRACE_ID, 50).status_code == 200
    ok(admin.post(f"/_admin/users/{LINUS_ID}/friends", data={"friend_id": ADA_ID}))
    ok(admin.post(f"/_admin/orgs/{ORG_ID}/redirect_uris", data={"redirect_uri": "https://new.example/cb"}))
    new_secret = ok(admin.post(f"/_admin/apps/{APP_ID}/secret"))["secret"]
    ok(admin.post("/_admin/clock", data={"advance_seconds": "7200"}))
    assert snapshot(admin) != saved
    assert friends_view(http, LINUS_TOKEN) == {LINUS_ID, ADA_ID}
    # Import the saved state (as the JSON body the export produced).
    assert ok(admin.post("/_admin/snapshot", json=saved)) == {"success": True}
    assert snapshot(admin) == saved
    assert board(http) == ranked  # the rank index was rebuilt from the imported entries
    assert_graph_error(http.get(PROBE, headers=bearer(f"OC|{APP_ID}|{new_secret}")), 401, 190)
    assert friends_view(http, LINUS_TOKEN) == {LINUS_ID}
    assert 499 <= ok(admin.get("/_admin/clock"))["offset_seconds"] <= 502
    # The form-encoded shape works too (tables as a JSON string).
    assert ok(admin.post("/_admin/snapshot", data={"version": "1", "tables": json.dumps(saved["tables"])}))
    assert snapshot(admin) == saved


def tables_with(saved: dict[str, Any], table: str, row: Any) -> dict[str, Any]:
    tables = json.loads(json.dumps(saved["tables"]))
    tables[table] = [*tables.get(table, []), row]
    return tables


def test_a_malformed_snapshot_is_refused_and_changes_nothing(admin: httpx.Client, http: httpx.Client) -> None:
    """Any snapshot that is not an export of this version is a 400, and the state (database, rank index,
    secrets) is untouched, including when the bad row is the last of a long import."""
    assert submit(http, ADA_ID, 42).status_code == 200
    saved = snapshot(admin)
    ranked = board(http)
    orphan_app = {"id": 3000000000000002, "org_id": 3999999999999999, "name": "Orphan", "secret_hash": "x",
                  "created_at": 0}
    bad_bodies: list[dict[str, Any]] = [
        {"tables": saved["tables"]},  # no version
        {"version": 2, "tables": saved["tables"]},
        {"version": "one", "tables": saved["tables"]},
        {"version": 1},  # no tables
        {"version": 1, "tables": "not json"},
        {"version": 1, "tables": [1, 2, 3]},
        {"version": 1, "tables": {**saved["tables"], "users_v2": []}},
        {"version": 1, "tables": {**saved["tables"], "orgs": "everything"}},
        {"version": 1, "tables": {**saved["tables"], "orgs": [1, 2]}},
        {"version": 1, "tables": tables_with(saved, "orgs", {"id) VALUES (1); --": 1})},
        {"version": 1, "tables": tables_with(saved, "orgs", {"id": 4000000000000001, "colour": "red"})},
        {"version": 1, "tables": tables_with(saved, "apps", orphan_app)},  # foreign key
        {"version": 1, "tables": tables_with(saved, "orgs", saved["tables"]["orgs"][0])},  # duplicate id
        {"version": 1, "tables": tables_with(saved, "entries", {**saved["tables"]["entries"][0],
                                                                "id": 4000000000000009, "extra_data": "zz"})},
    ]
    for body in bad_bodies:
        assert_graph_error(admin.post("/_admin/snapshot", json=body), 400, 100)
        assert snapshot(admin) == saved
    assert board(http) == ranked
    assert http.get(PROBE, headers=bearer(APP_TOKEN)).status_code == 200


# --- the clock -------------------------------------------------------------------------------------------
def test_the_clock_moves_forward_and_to_an_instant(admin: httpx.Client) -> None:
    """D36: ``advance_seconds`` moves forward, ``set`` jumps to an instant (even backwards); exactly one of
    them per call; values that would push time past 2106 are refused rather than breaking later writes."""
    start = ok(admin.get("/_admin/clock"))
    assert start["offset_seconds"] == 0 and abs(start["now"] - time.time()) < 5
    moved = ok(admin.post("/_admin/clock", data={"advance_seconds": "3600"}))
    assert moved["offset_seconds"] == pytest.approx(3600, abs=1) and 3599 <= moved["now"] - start["now"] <= 3602
    assert ok(admin.get("/_admin/clock"))["now"] - start["now"] >= 3599
    assert ok(admin.post("/_admin/clock", data={"set": "2000000000"}))["now"] == 2000000000
    assert ok(admin.post("/_admin/clock", json={"set": 1500000000}))["now"] in (1500000000, 1500000001)
    for data in ({}, {"advance_seconds": "-1"}, {"advance_seconds": "soon"}, {"set": "-5"},
                 {"set": "2000000000", "advance_seconds": "1"}, {"set": str(2**32 + 1)},
                 {"advance_seconds": str(2**62)}, {"advance_seconds": str(2**33)}):
        assert_graph_error(admin.post("/_admin/clock", data=data), 400, 100)
    assert 1500000000 <= ok(admin.get("/_admin/clock"))["now"] <= 1500000005


def test_the_clock_survives_a_restart_and_never_moves_in_production(tmp_path: Path) -> None:
    """D36: a moved clock is stored with the data, so a restart on the same file keeps it; in production
    (``emulator=False``) the clock cannot be moved, a stored offset is ignored, and a snapshot import does
    not move it either."""
    running = start_server(tmp_path)
    try:
        with running.admin() as admin:
            ok(admin.post("/_admin/clock", data={"advance_seconds": "86400"}))
            saved = snapshot(admin)
    finally:
        running.stop()
    running = start_server(tmp_path)
    try:
        with running.admin() as admin:
            assert ok(admin.get("/_admin/clock"))["offset_seconds"] == pytest.approx(86400, abs=1)
    finally:
        running.stop()
    running = start_server(tmp_path, emulator=False)
    try:
        with running.admin() as admin:
            assert ok(admin.get("/_admin/clock"))["offset_seconds"] == 0
            for data in ({"advance_seconds": "10"}, {"set": "2000000000"}):
                error = assert_graph_error(admin.post("/_admin/clock", data=data), 403, 200)
                assert "emulator" in error["message"]
            assert ok(admin.post("/_admin/snapshot", json=saved)) == {"success": True}
            clock = ok(admin.get("/_admin/clock"))
            assert clock["offset_seconds"] == 0 and abs(clock["now"] - time.time()) < 5
    finally:
        running.stop()


def test_a_frozen_clock_stands_still_moves_when_told_and_thaws(admin: httpx.Client) -> None:
    """D36: freeze=true stops the emulator clock at an instant; set/advance move it exactly; freeze=false lets it
    run again from where it stood; a reset thaws it."""
    frozen = ok(admin.post("/_admin/clock", data={"set": "2000000000", "freeze": "true"}))
    assert frozen["now"] == 2_000_000_000 and frozen["frozen"] is True
    time.sleep(1.05)
    assert ok(admin.get("/_admin/clock"))["now"] == 2_000_000_000
    assert ok(admin.post("/_admin/clock", data={"advance_seconds": "59"}))["now"] == 2_000_000_059
    thawed = ok(admin.post("/_admin/clock", data={"freeze": "false"}))
    assert thawed["frozen"] is False and 2_000_000_059 <= thawed["now"] <= 2_000_000_061
    assert_graph_error(admin.post("/_admin/clock", data={"freeze": "maybe"}), 400, 100)
    ok(admin.post("/_admin/clock", data={"freeze": "true"}))
    ok(admin.post("/_admin/reset"))
    assert ok(admin.get("/_admin/clock"))["frozen"] is False
