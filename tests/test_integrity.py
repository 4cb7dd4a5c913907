"""Platform integrity (graph-api.md A.4) over real HTTP, on both backends: attestation tokens minted by the
admin API and checked by ``GET /platform_integrity/verify``; device bans (ban, lift, status, the list of
ban ids) running out on the server clock; bad input and cross-app isolation."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from tests.ach_support import bearer
from tests.commerce_support import advance
from tests.conftest import (
    ADA_TOKEN,
    APP_ID,
    APP_TOKEN,
    RIVAL_APP_ID,
    RIVAL_APP_TOKEN,
    RunningServer,
    assert_graph_error,
)

VERIFY = "/platform_integrity/verify"
BAN = "/platform_integrity/device_ban"
BAN_IDS = "/platform_integrity/device_ban_ids"
STATUS = "/platform_integrity/device_ban_status"


def mint(admin: httpx.Client, app_id: str = APP_ID, **claims: str) -> dict[str, Any]:
    response = admin.post(f"/_admin/apps/{app_id}/attestation_tokens", data=claims)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"token", "unique_id", "expires_at", "claims"}
    return body


def verify(http: httpx.Client, token: str, access_token: str = APP_TOKEN) -> dict[str, Any]:
    response = http.get(VERIFY, params={"token": token, "access_token": access_token})
    assert response.status_code == 200, response.text  # a refused token is a 200 too (A.4)
    body: dict[str, Any] = response.json()
    return body


def claims_of(body: dict[str, Any]) -> dict[str, Any]:
    assert body["data"][0]["message"] == "success", body
    assert set(body["data"][0]) == {"message", "claims"}
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body["data"][0]["claims"]))
    return claims


def ban(http: httpx.Client, access_token: str = APP_TOKEN, **params: str) -> httpx.Response:
    return http.post(BAN, data={"access_token": access_token, **params})


def banned(http: httpx.Client, unique_id: str, minutes: int = 12) -> str:
    response = ban(http, unique_id=unique_id, is_banned="true", remaining_time_in_minute=str(minutes))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"message", "ban_id"} and body["message"] == "Success" and body["ban_id"]
    return str(body["ban_id"])


def status(http: httpx.Client, access_token: str = APP_TOKEN, **params: str) -> httpx.Response:
    return http.get(STATUS, params={"access_token": access_token, **params})


def ban_ids(http: httpx.Client, access_token: str = APP_TOKEN, **params: str) -> list[str]:
    response = http.get(BAN_IDS, params={"access_token": access_token, **params})
    assert response.status_code == 200, response.text
    rows = response.json()["data"]
    assert len(rows) == 1 and rows[0]["message"] == "Success"
    return [row["ban_id"] for row in rows[0]["all_ban_ids"]]


def tamper(segment: str) -> str:
    """The segment with its first character changed, still base64url."""
    return ("B" if segment[0] != "B" else "C") + segment[1:]


# --- the documented examples, host changed ------------------------------------------------------------------

def test_documented_examples_replayed(http: httpx.Client, admin: httpx.Client) -> None:
    """A.4's calls as Meta's documentation writes them: verify with query parameters; device_ban as a plain
    URL carrying ``method=POST``; device_ban_ids and device_ban_status as GETs."""
    minted = mint(admin)
    unique_id = minted["unique_id"]
    body = http.get(f"{VERIFY}?token={minted['token']}&access_token={APP_TOKEN}").json()
    assert claims_of(body) == minted["claims"]
    response = http.get(f"{BAN}?unique_id={unique_id}&is_banned=true&remaining_time_in_minute=12&method=POST"
                        f"&access_token={APP_TOKEN}")
    assert response.status_code == 200, response.text
    ban_id = response.json()["ban_id"]
    assert response.json() == {"message": "Success", "ban_id": ban_id}
    # like Meta's "NjIxMzI3MTc0MTgzMzkzNw": base64 of a 16-digit number, unpadded
    assert base64.b64decode(ban_id + "==").decode().isdigit() and len(ban_id) == 22
    listing = http.get(f"{BAN_IDS}?access_token={APP_TOKEN}").json()
    assert listing["data"] == [{"message": "Success", "all_ban_ids": [
        {"ban_id": ban_id, "creation_date": listing["data"][0]["all_ban_ids"][0]["creation_date"]}]}]
    assert len(listing["data"][0]["all_ban_ids"][0]["creation_date"]) == 10  # YYYY-MM-DD
    assert http.get(f"{STATUS}?ban_id={ban_id}&access_token={APP_TOKEN}").json() == {
        "data": [{"message": "Success", "is_banned": True, "remaining_time_in_minute": 12}]}
    lifted = http.get(f"{BAN}?ban_id={ban_id}&is_banned=false&method=POST&access_token={APP_TOKEN}")
    assert lifted.json() == {"message": "Success", "ban_id": ""}


# --- attestation tokens ---------------------------------------------------------------------------------

def test_minted_claims_round_trip(http: httpx.Client, admin: httpx.Client) -> None:
    nonce = "bm9uY2Utb2YtdGhlLXRlc3QtMTIzNDU2"
    minted = mint(admin, unique_id="device-under-test-1", nonce=nonce, app_integrity_state="notrecognized",
                  device_integrity_state="Basic", package_id="com.studio.game", version="2.3.1",
                  package_cert_sha256_digest='["AB12cd"]', ttl_seconds="600")
    claims = claims_of(verify(http, minted["token"]))
    assert claims == minted["claims"]
    details = claims["request_details"]
    assert details["nonce"] == nonce and details["exp"] == details["timestamp"] + 600 == minted["expires_at"]
    assert claims["app_state"] == {"app_integrity_state": "NotRecognized", "package_cert_sha256_digest": ["ab12cd"],
                                   "package_id": "com.studio.game", "version": "2.3.1"}
    assert claims["device_state"] == {"device_integrity_state": "Basic", "unique_id": "device-under-test-1"}
    assert "device_ban" not in claims


def test_default_claims(http: httpx.Client, admin: httpx.Client) -> None:
    minted = mint(admin)
    claims = claims_of(verify(http, minted["token"]))
    assert claims["app_state"]["app_integrity_state"] == "StoreRecognized"
    assert claims["device_state"]["device_integrity_state"] == "Advanced"
    assert claims["device_state"]["unique_id"] == minted["unique_id"]
    assert claims["request_details"]["exp"] - claims["request_details"]["timestamp"] == 24 * 3600
    assert 22 <= len(claims["request_details"]["nonce"]) <= 172
    assert mint(admin)["unique_id"] != minted["unique_id"]


def test_tampered_tokens_are_invalid_signatures(http: httpx.Client, admin: httpx.Client) -> None:
    token = mint(admin)["token"]
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["device_state"]["device_integrity_state"] = "Advanced"
    claims["app_state"]["app_integrity_state"] = "StoreRecognized"
    claims["request_details"]["exp"] += 10**6
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    for bad in (f"{header}.{forged}.{signature}", f"{header}.{payload}.{tamper(signature)}",
                f"{tamper(header)}.{payload}.{signature}", f"{header}.{payload}.", f"{header}.{payload}",
                f"{token}.x", "not-a-token", "a.b.c", "é.é.é", "x" * 20000, f"{header}.{payload}.{signature}%%"):
        assert verify(http, bad) == {"data": [{"message": "invalid signature"}]}, bad
    assert claims_of(verify(http, token))  # the original still verifies


def test_token_of_another_app_is_invalid_signature(http: httpx.Client, admin: httpx.Client) -> None:
    """Each app signs with its own key, so the rival's token is no token of ours, and ours none of theirs."""
    ours, theirs = mint(admin)["token"], mint(admin, RIVAL_APP_ID)["token"]
    assert verify(http, theirs) == {"data": [{"message": "invalid signature"}]}
    assert verify(http, ours, RIVAL_APP_TOKEN) == {"data": [{"message": "invalid signature"}]}
    assert claims_of(verify(http, theirs, RIVAL_APP_TOKEN))["device_state"]["unique_id"]


def test_token_expires_on_the_server_clock(http: httpx.Client, admin: httpx.Client) -> None:
    # Frozen (D36), so 119 s is exactly 119 s: on a running clock a slow request crosses a second
    # boundary and the token is already at its 120th second (a flake CI hit).
    admin.post("/_admin/clock", data={"freeze": "true"}).raise_for_status()
    token = mint(admin, ttl_seconds="120")["token"]
    advance(admin, 119)
    assert claims_of(verify(http, token))
    advance(admin, 1)
    assert verify(http, token) == {"data": [{"message": "token expired"}]}


def test_device_ban_claim_while_banned(http: httpx.Client, admin: httpx.Client) -> None:
    minted = mint(admin)
    banned(http, minted["unique_id"], minutes=30)
    claims = claims_of(verify(http, minted["token"]))
    assert claims["device_ban"] == {"is_banned": True, "remaining_ban_time": 30}
    assert {k: v for k, v in claims.items() if k != "device_ban"} == minted["claims"]
    advance(admin, 30 * 60)  # the ban runs out
    assert "device_ban" not in claims_of(verify(http, minted["token"]))


def test_verify_needs_a_token_and_an_app_token(http: httpx.Client, admin: httpx.Client) -> None:
    token = mint(admin)["token"]
    assert "token" in assert_graph_error(http.get(VERIFY, params={"access_token": APP_TOKEN}), 400, 100)["message"]
    assert_graph_error(http.get(VERIFY, params={"access_token": APP_TOKEN, "token": "  "}), 400, 100)
    assert_graph_error(http.get(VERIFY, params={"token": token}), 401, 104)
    assert_graph_error(http.get(VERIFY, params={"token": token}, headers=bearer(ADA_TOKEN)), 403, 200)


@pytest.mark.parametrize("params", [
    {"unique_id": "short"}, {"unique_id": "has space in it"}, {"unique_id": "x" * 129},
    {"nonce": "too-short"}, {"nonce": "not base64url but long enough!!"}, {"app_integrity_state": "Trusted"},
    {"device_integrity_state": "Strong"}, {"ttl_seconds": "0"}, {"ttl_seconds": "abc"},
    {"ttl_seconds": str(31 * 24 * 3600)}, {"package_cert_sha256_digest": "[1, 2]"},
    {"package_cert_sha256_digest": "not hex"}, {"package_id": "p" * 300},
])
def test_mint_bad_input(admin: httpx.Client, params: dict[str, str]) -> None:
    before = admin.get("/_admin/snapshot").json()["tables"]
    response = admin.post(f"/_admin/apps/{APP_ID}/attestation_tokens", data=params)
    assert_graph_error(response, 400, 100)
    assert admin.get("/_admin/snapshot").json()["tables"] == before


def test_mint_for_unknown_app_and_a_unique_id_of_another_app(admin: httpx.Client) -> None:
    assert_graph_error(admin.post("/_admin/apps/1999999999999999/attestation_tokens"), 404, 100)
    mint(admin, RIVAL_APP_ID, unique_id="rival-device-0001")
    response = admin.post(f"/_admin/apps/{APP_ID}/attestation_tokens", data={"unique_id": "rival-device-0001"})
    assert "another app" in assert_graph_error(response, 400, 100)["message"]
    assert mint(admin, RIVAL_APP_ID, unique_id="rival-device-0001")["unique_id"] == "rival-device-0001"


def test_signing_key_never_leaves_the_server(http: httpx.Client, admin: httpx.Client) -> None:
    """The key is in no answer: not the mint's, not verify's, not the admin ban list's (only the whole-state
    snapshot carries it, so that a restored snapshot still verifies the tokens minted before)."""
    minted = mint(admin)
    texts = [json.dumps(minted), json.dumps(verify(http, minted["token"])),
             admin.get(f"/_admin/apps/{APP_ID}/device_bans").text]
    tables = admin.get("/_admin/snapshot").json()["tables"]
    secrets = [row["secret"] for row in tables.get("attestation_keys", [])]
    assert len(secrets) == 1 and len(secrets[0]) == 64  # 32 random bytes, as hex in the snapshot
    raw = bytes.fromhex(secrets[0])
    encodings = (secrets[0], base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode().rstrip("="))
    assert all(e not in t for e in encodings for t in texts)


# --- device bans -------------------------------------------------------------------------------------

def test_ban_status_and_lift_by_ban_id(http: httpx.Client, admin: httpx.Client) -> None:
    unique_id = mint(admin)["unique_id"]
    assert status(http, unique_id=unique_id).json()["data"] == [
        {"message": "Success", "is_banned": False, "remaining_time_in_minute": 0}]
    ban_id = banned(http, unique_id, minutes=60)
    for params in ({"ban_id": ban_id}, {"unique_id": unique_id}):
        assert status(http, **params).json()["data"] == [
            {"message": "Success", "is_banned": True, "remaining_time_in_minute": 60}]
    # banning again changes the time left and keeps the ban_id; by ban_id too
    assert banned(http, unique_id, minutes=5) == ban_id
    response = ban(http, ban_id=ban_id, is_banned="true", remaining_time_in_minute="7")
    assert response.json() == {"message": "Success", "ban_id": ban_id}
    assert status(http, unique_id=unique_id).json()["data"][0]["remaining_time_in_minute"] == 7
    assert ban_ids(http) == [ban_id]
    assert ban(http, ban_id=ban_id, is_banned="false").json() == {"message": "Success", "ban_id": ""}
    assert ban_ids(http) == []
    assert status(http, unique_id=unique_id).json()["data"][0]["is_banned"] is False
    # the lifted ban_id is gone (A.4)
    assert_graph_error(status(http, ban_id=ban_id), 400, -1, "OCApiException", 1614033)
    assert_graph_error(ban(http, ban_id=ban_id, is_banned="false"), 400, -1, "OCApiException", 1614033)
    # a new ban of the device is a new ban_id
    assert banned(http, unique_id) != ban_id


def test_lift_by_unique_id_and_ban_id_wins(http: httpx.Client, admin: httpx.Client) -> None:
    first, second = mint(admin)["unique_id"], mint(admin)["unique_id"]
    first_ban, second_ban = banned(http, first), banned(http, second)
    # both given: the ban_id decides which device is lifted
    assert ban(http, unique_id=first, ban_id=second_ban, is_banned="false").json()["ban_id"] == ""
    assert ban_ids(http) == [first_ban]
    assert ban(http, unique_id=first, is_banned="false").json() == {"message": "Success", "ban_id": ""}
    assert ban_ids(http) == []
    # lifting a device that is not banned is a success that changes nothing
    assert ban(http, unique_id=first, is_banned="false").json() == {"message": "Success", "ban_id": ""}


def test_ban_runs_out_on_the_server_clock(http: httpx.Client, admin: httpx.Client) -> None:
    unique_id = mint(admin)["unique_id"]
    ban_id = banned(http, unique_id, minutes=10)
    advance(admin, 9 * 60 + 1)
    assert status(http, ban_id=ban_id).json()["data"][0] == {
        "message": "Success", "is_banned": True, "remaining_time_in_minute": 1}
    advance(admin, 59)
    assert status(http, unique_id=unique_id).json()["data"][0] == {
        "message": "Success", "is_banned": False, "remaining_time_in_minute": 0}
    assert_graph_error(status(http, ban_id=ban_id), 400, -1, subcode=1614033)
    assert ban_ids(http) == []
    assert admin.get(f"/_admin/apps/{APP_ID}/device_bans").json() == {"data": []}
    # the device can be banned again, under a new ban_id
    assert banned(http, unique_id) != ban_id


def test_a_zero_minute_ban_is_over_at_once(http: httpx.Client, admin: httpx.Client) -> None:
    unique_id = mint(admin)["unique_id"]
    banned(http, unique_id, minutes=0)
    assert status(http, unique_id=unique_id).json()["data"][0]["is_banned"] is False
    assert ban_ids(http) == []


def test_longest_ban(http: httpx.Client, admin: httpx.Client) -> None:
    unique_id = mint(admin)["unique_id"]
    banned(http, unique_id, minutes=52560000)
    assert status(http, unique_id=unique_id).json()["data"][0]["remaining_time_in_minute"] == 52560000


def test_ban_ids_pages_with_cursors(http: httpx.Client, admin: httpx.Client) -> None:
    made = [banned(http, mint(admin)["unique_id"]) for _ in range(5)]
    body = http.get(BAN_IDS, params={"access_token": APP_TOKEN, "limit": "2", "pretty": "1"}).json()
    assert [row["ban_id"] for row in body["data"][0]["all_ban_ids"]] == made[:2]
    paging = body["paging"]
    assert set(paging["cursors"]) == {"before", "after"} and "previous" not in paging
    assert "pretty=1" in paging["next"] and "limit=2" in paging["next"] and APP_TOKEN.split("|")[2] in paging["next"]
    second = http.get(paging["next"]).json()
    assert [row["ban_id"] for row in second["data"][0]["all_ban_ids"]] == made[2:4]
    last = http.get(second["paging"]["next"]).json()
    assert [row["ban_id"] for row in last["data"][0]["all_ban_ids"]] == made[4:]
    assert "next" not in last["paging"]
    back = http.get(last["paging"]["previous"]).json()
    assert [row["ban_id"] for row in back["data"][0]["all_ban_ids"]] == made[2:4]
    # a lifted ban leaves the list; the cursors around it still work
    ban(http, ban_id=made[2], is_banned="false")
    assert ban_ids(http, limit="2", after=paging["cursors"]["after"]) == made[3:5]


def test_ban_ids_page_size_is_500(http: httpx.Client, qg: RunningServer) -> None:
    """A page holds at most 500 (graph-api.md §0.8), whatever ``limit`` asks. The 501 bans are written
    straight into the database: a thousand admin and Graph calls would only make the test slow."""
    now = int(qg.server.clock.now())
    devices = [(f"bulk-device-{n:04d}", int(APP_ID), now) for n in range(501)]
    qg.server.db.many("INSERT INTO integrity_devices (unique_id, app_id, created_at) VALUES (?, ?, ?)", devices)
    qg.server.db.many("INSERT INTO device_bans (ban_id, app_id, unique_id, created_at, expires_at) "
                      "VALUES (?, ?, ?, ?, ?)",
                      [(f"QnVsaw{n:04d}", int(APP_ID), d[0], now, now + 3600) for n, d in enumerate(devices)])
    for params in ({}, {"limit": "1000"}):
        body = http.get(BAN_IDS, params={"access_token": APP_TOKEN, **params}).json()
        assert [row["ban_id"] for row in body["data"][0]["all_ban_ids"]] == [f"QnVsaw{n:04d}" for n in range(500)]
        rest = http.get(body["paging"]["next"]).json()
        assert [row["ban_id"] for row in rest["data"][0]["all_ban_ids"]] == ["QnVsaw0500"]
    assert status(http, unique_id="bulk-device-0500").json()["data"][0]["is_banned"] is True


def test_ban_ids_empty(http: httpx.Client) -> None:
    assert http.get(BAN_IDS, params={"access_token": APP_TOKEN}).json() == {
        "data": [{"message": "Success", "all_ban_ids": []}]}


# --- bad input: a Graph error and nothing changed ---------------------------------------------------------

@pytest.mark.parametrize(("params", "code", "subcode"), [
    ({"unique_id": "no-such-device-1", "is_banned": "true", "remaining_time_in_minute": "5"}, 1, 1614026),
    ({"unique_id": "DEVICE", "is_banned": "true", "remaining_time_in_minute": "-1"}, 1, 1614028),
    ({"unique_id": "DEVICE", "is_banned": "true", "remaining_time_in_minute": "52560001"}, 1, 1614028),
    ({"unique_id": "DEVICE", "is_banned": "true", "remaining_time_in_minute": "ten"}, 1, 1614028),
    ({"unique_id": "DEVICE", "is_banned": "true", "remaining_time_in_minute": "1.5"}, 1, 1614028),
    ({"unique_id": "DEVICE", "is_banned": "true"}, 1, 1614028),
    ({"unique_id": "DEVICE", "is_banned": "false", "remaining_time_in_minute": "x"}, 1, 1614028),
    ({"unique_id": "DEVICE", "remaining_time_in_minute": "5"}, 100, None),
    ({"unique_id": "DEVICE", "is_banned": "maybe", "remaining_time_in_minute": "5"}, 100, None),
    ({"is_banned": "true", "remaining_time_in_minute": "5"}, 100, None),
    ({"ban_id": "Tm9TdWNoQmFu", "is_banned": "true", "remaining_time_in_minute": "5"}, -1, 1614033),
    ({"ban_id": "x" * 5000, "is_banned": "false"}, -1, 1614033),
    ({"unique_id": "y" * 5000, "is_banned": "false"}, 1, 1614026),
])
def test_device_ban_bad_input(http: httpx.Client, admin: httpx.Client, params: dict[str, str], code: int,
                              subcode: int | None) -> None:
    unique_id = mint(admin)["unique_id"]
    banned(http, unique_id, minutes=3)
    params = {k: (unique_id if v == "DEVICE" else v) for k, v in params.items()}
    before = admin.get("/_admin/snapshot").json()["tables"]
    assert_graph_error(ban(http, **params), 400, code, "OCApiException", subcode)
    assert admin.get("/_admin/snapshot").json()["tables"] == before


@pytest.mark.parametrize(("params", "code", "subcode"), [
    ({}, 100, None),
    ({"unique_id": "no-such-device-1"}, 1, 1614026),
    ({"ban_id": "Tm9TdWNoQmFu"}, -1, 1614033),
])
def test_status_bad_input(http: httpx.Client, params: dict[str, str], code: int, subcode: int | None) -> None:
    assert_graph_error(status(http, **params), 400, code, "OCApiException", subcode)


@pytest.mark.parametrize("params", [{"limit": "-1"}, {"limit": "many"}, {"after": "not-a-cursor"},
                                    {"after": "YTE6MTox"}, {"before": "!!"}])
def test_ban_ids_bad_input(http: httpx.Client, params: dict[str, str]) -> None:
    assert_graph_error(http.get(BAN_IDS, params={"access_token": APP_TOKEN, **params}), 400, 100)


# --- one app never reads or writes another's bans --------------------------------------------------------

def test_cross_app_isolation(http: httpx.Client, admin: httpx.Client) -> None:
    ours = mint(admin)["unique_id"]
    our_ban = banned(http, ours)
    theirs = mint(admin, RIVAL_APP_ID)["unique_id"]
    their_ban = ban(http, RIVAL_APP_TOKEN, unique_id=theirs, is_banned="true",
                    remaining_time_in_minute="9").json()["ban_id"]
    before = admin.get("/_admin/snapshot").json()["tables"]
    assert ban_ids(http) == [our_ban] and ban_ids(http, RIVAL_APP_TOKEN) == [their_ban]
    # the rival cannot read, lift or extend our ban, by ban_id or unique_id; nor we theirs
    for token, unique_id, ban_id in ((RIVAL_APP_TOKEN, ours, our_ban), (APP_TOKEN, theirs, their_ban)):
        assert_graph_error(status(http, token, ban_id=ban_id), 400, -1, subcode=1614036)
        assert_graph_error(status(http, token, unique_id=unique_id), 400, 1, subcode=1614027)
        assert_graph_error(ban(http, token, ban_id=ban_id, is_banned="false"), 400, -1, subcode=1614036)
        assert_graph_error(ban(http, token, unique_id=unique_id, is_banned="true", remaining_time_in_minute="1"),
                           400, 1, subcode=1614027)
    assert admin.get("/_admin/snapshot").json()["tables"] == before
    assert [b["ban_id"] for b in admin.get(f"/_admin/apps/{RIVAL_APP_ID}/device_bans").json()["data"]] == [their_ban]


def test_user_tokens_are_refused(http: httpx.Client, admin: httpx.Client) -> None:
    unique_id = mint(admin)["unique_id"]
    assert_graph_error(http.get(BAN_IDS, headers=bearer(ADA_TOKEN)), 403, 200)
    assert_graph_error(http.get(STATUS, params={"unique_id": unique_id}, headers=bearer(ADA_TOKEN)), 403, 200)
    assert_graph_error(http.post(BAN, data={"unique_id": unique_id, "is_banned": "true",
                                            "remaining_time_in_minute": "1"}, headers=bearer(ADA_TOKEN)), 403, 200)
    assert ban_ids(http) == []


def test_admin_ban_list(http: httpx.Client, admin: httpx.Client) -> None:
    unique_id = mint(admin)["unique_id"]
    ban_id = banned(http, unique_id, minutes=2)
    rows = admin.get(f"/_admin/apps/{APP_ID}/device_bans").json()["data"]
    assert [(r["ban_id"], r["unique_id"], r["expires_at"] - r["created_at"]) for r in rows] == [
        (ban_id, unique_id, 120)]
    assert_graph_error(admin.get("/_admin/apps/1999999999999999/device_bans"), 404, 100)


def test_admin_endpoints_need_the_admin_key(http: httpx.Client, admin: httpx.Client) -> None:
    """No key: 401/104; an app token or a wrong key: 403/200; nothing minted."""
    before = admin.get("/_admin/snapshot").json()["tables"]
    for method, path in (("POST", f"/_admin/apps/{APP_ID}/attestation_tokens"),
                         ("GET", f"/_admin/apps/{APP_ID}/device_bans")):
        assert_graph_error(http.request(method, path), 401, 104, "OAuthException")
        for key in (APP_TOKEN, "test-admin-keyx"):
            assert_graph_error(http.request(method, path, headers=bearer(key)), 403, 200, "OAuthException")
    assert admin.get("/_admin/snapshot").json()["tables"] == before


def test_dashboard_lists_the_apps_bans_only(http: httpx.Client, admin: httpx.Client, qg: RunningServer) -> None:
    """The dashboard's read-only ban list: this app's bans with their time left, not another app's, and no
    page for another organization's app."""
    from tests.dash_support import sign_in_emulator

    ours = mint(admin, unique_id="dashboard-device-1")["unique_id"]
    our_ban = banned(http, ours, minutes=45)
    theirs = mint(admin, RIVAL_APP_ID, unique_id="rival-dash-device")["unique_id"]
    ban(http, RIVAL_APP_TOKEN, unique_id=theirs, is_banned="true", remaining_time_in_minute="9")
    with qg.client() as browser:
        sign_in_emulator(browser)
        page = browser.get(f"/dashboard/apps/{APP_ID}/integrity")
        assert page.status_code == 200, page.text
        assert our_ban in page.text and "dashboard-device-1" in page.text and "<td>45</td>" in page.text
        assert "rival-dash-device" not in page.text
        assert f'href="/dashboard/apps/{APP_ID}/integrity"' in browser.get(f"/dashboard/apps/{APP_ID}").text
        assert browser.get(f"/dashboard/apps/{RIVAL_APP_ID}/integrity").status_code == 404
        ban(http, ban_id=our_ban, is_banned="false")
        assert "No device is banned." in browser.get(f"/dashboard/apps/{APP_ID}/integrity").text


def test_tokens_and_bans_survive_a_snapshot_round_trip(http: httpx.Client, admin: httpx.Client) -> None:
    """A snapshot carries the signing key and the bans: restored, a token minted before still verifies and
    the device is still banned; after an empty reset the same token is no token of ours."""
    minted = mint(admin)
    ban_id = banned(http, minted["unique_id"], minutes=20)
    snapshot = admin.get("/_admin/snapshot").json()
    assert admin.post("/_admin/reset", data={"empty": "true"}).status_code == 200
    assert admin.get("/_admin/snapshot").json()["tables"]["attestation_keys"] == []
    restored = admin.post("/_admin/snapshot", json=snapshot)
    assert restored.status_code == 200, restored.text
    assert claims_of(verify(http, minted["token"]))["device_ban"]["is_banned"] is True
    assert ban_ids(http) == [ban_id]
    admin.post("/_admin/reset").raise_for_status()
    assert verify(http, minted["token"]) == {"data": [{"message": "invalid signature"}]}
