"""The leaderboard rules of decisions.md (D13–D22), each asserted over HTTP against the running server.

Boards of tests/world.toml: ``best_leaderboard`` (HIGHER_IS_BETTER, CLIENT_AUTHORITATIVE),
``server_board`` (LOWER_IS_BETTER, SERVER_AUTHORITATIVE) and ``MY_NEW_LEADERBOARD`` in the doc app; the rival
app has its own ``best_leaderboard`` with one entry. Ada and Grace are friends; Linus is not; the
"unentitled" user holds no entitlement to the doc app.
"""

from __future__ import annotations

import base64
import json
import random
import sqlite3
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import (
    ADA_ID,
    ADA_TOKEN,
    APP_ID,
    APP_TOKEN,
    GRACE_ID,
    GRACE_TOKEN,
    LINUS_ID,
    LINUS_TOKEN,
    RIVAL_APP_ID,
    RIVAL_APP_TOKEN,
    RIVAL_ID,
    RIVAL_TOKEN,
    UNENTITLED_ID,
    UNENTITLED_TOKEN,
    RunningServer,
    assert_graph_error,
    start_server,
)
from tests.lb_support import (
    bearer,
    board_id,
    entries,
    entries_ok,
    follow,
    json_body,
    make_users,
    ranking,
    state,
    submit,
    submit_ok,
)

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
NOT_RANKED = "You're not yet ranked on this leaderboard."


def advance(admin: httpx.Client, seconds: int) -> int:
    response = admin.post("/_admin/clock", data={"advance_seconds": str(seconds)})
    assert response.status_code == 200, response.text
    return int(response.json()["now"])


def set_clock(admin: httpx.Client, unix_seconds: int) -> None:
    admin.post("/_admin/clock", data={"set": str(unix_seconds)}).raise_for_status()


def now(admin: httpx.Client) -> int:
    return int(admin.get("/_admin/clock").json()["now"])


def token_for(admin: httpx.Client, user_id: str, **params: str) -> str:
    response = admin.post(f"/_admin/users/{user_id}/tokens", data=params)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def create_board(http: httpx.Client, api_name: str, token: str = APP_TOKEN, app_id: str = APP_ID,
                 **params: str) -> httpx.Response:
    return http.post(f"/{app_id}/leaderboards", headers=bearer(token), data={"api_name": api_name, **params})


def metadata(http: httpx.Client, api_name: str) -> dict[str, Any]:
    response = http.get(f"/{APP_ID}/leaderboards", headers=bearer(APP_TOKEN), params={
        "api_name": api_name,
        "fields": "api_name,sort_order,entry_write_policy,entry_count,earliest_allowed_entry_time,"
                  "latest_allowed_entry_time,title",
    })
    assert response.status_code == 200, response.text
    return dict(response.json()["data"][0])


def count(http: httpx.Client, api_name: str, token: str = APP_TOKEN) -> int:
    return int(entries_ok(http, token, api_name, limit=1)["summary"]["total_count"])


def one_entry(http: httpx.Client, api_name: str, user_id: str) -> dict[str, Any]:
    rows = entries_ok(http, APP_TOKEN, api_name, filter="USER_IDS", user_ids=user_id)["data"]
    assert len(rows) == 1, rows
    return dict(rows[0])


def scored(http: httpx.Client, admin: httpx.Client, scores: list[int], api_name: str = "best_leaderboard",
           prefix: str = "p") -> list[str]:
    """New users with the given scores (written in list order); returns their ids."""
    users = make_users(admin, len(scores), prefix)
    for user, score in zip(users, scores, strict=True):
        assert submit_ok(http, APP_TOKEN, api_name, score, user)
    return users


# --- D13: scores are int64, exact ------------------------------------------------------------------------

def test_d13_int64_extremes_as_json_numbers_and_decimal_strings(http: httpx.Client, admin: httpx.Client) -> None:
    """D13: −2^63 and 2^63−1 are accepted both as a JSON number (JSON body, D2) and as a decimal string
    (form), stored and returned exactly, and ordered exactly: 2^63−1 > 2^63−2 > −2^63+1 > −2^63."""
    users = make_users(admin, 4)
    writes = [(users[0], INT64_MAX), (users[1], str(INT64_MAX - 1)), (users[2], INT64_MIN),
              (users[3], str(INT64_MIN + 1))]
    for user, score in writes:
        response = json_body(http, "/leaderboard_submit_entry", APP_TOKEN,
                             {"api_name": "best_leaderboard", "score": score, "user_id": user})
        assert response.json() == {"success": True, "did_update": True, "updated_challenge_ids": []}, response.text
    assert ranking(http, APP_TOKEN, "best_leaderboard") == [
        (users[0], 1, INT64_MAX), (users[1], 2, INT64_MAX - 1), (users[3], 3, INT64_MIN + 1), (users[2], 4, INT64_MIN),
    ]
    # The same values as form strings, on the LOWER_IS_BETTER board.
    for user, score in ((ADA_ID, INT64_MAX), (GRACE_ID, INT64_MIN)):
        assert submit_ok(http, APP_TOKEN, "server_board", str(score), user)
    assert ranking(http, APP_TOKEN, "server_board") == [(GRACE_ID, 1, INT64_MIN), (ADA_ID, 2, INT64_MAX)]
    entry_id = one_entry(http, "server_board", ADA_ID)["id"]
    assert http.get(f"/{entry_id}", headers=bearer(APP_TOKEN), params={"fields": "score,rank"}).json() == {
        "id": entry_id, "score": INT64_MAX, "rank": 2}


def test_d13_scores_one_apart_at_the_extremes_never_merge(http: httpx.Client, admin: httpx.Client) -> None:
    """D13/D14: near ±2^63 a float would merge neighbours (2^63−1 and 2^63−3 are the same double) and
    the write time would then decide. Written worst first, they must still rank by exact score, and a
    submit that is better by 1 must count as better (D15)."""
    top = [INT64_MAX - 2, INT64_MAX - 1, INT64_MAX]  # written worst first
    users = scored(http, admin, top)
    assert ranking(http, APP_TOKEN, "best_leaderboard") == [
        (users[2], 1, INT64_MAX), (users[1], 2, INT64_MAX - 1), (users[0], 3, INT64_MAX - 2)]
    assert submit_ok(http, APP_TOKEN, "best_leaderboard", INT64_MAX - 1, users[0]) is True
    assert submit_ok(http, APP_TOKEN, "best_leaderboard", INT64_MAX - 2, users[1]) is False
    bottom = [INT64_MIN + 2, INT64_MIN + 1, INT64_MIN]
    for user, score in zip(users, bottom, strict=True):
        assert submit_ok(http, APP_TOKEN, "server_board", score, user)
    assert ranking(http, APP_TOKEN, "server_board") == [
        (users[2], 1, INT64_MIN), (users[1], 2, INT64_MIN + 1), (users[0], 3, INT64_MIN + 2)]
    assert submit_ok(http, APP_TOKEN, "server_board", INT64_MIN + 1, users[0]) is True


BAD_SCORES: list[Any] = [
    "9223372036854775808", "-9223372036854775809", "99999999999999999999999", "1.5", "1.0", "1e3", "12abc",
    "", " ", "0x10", "1_000", "NaN", "Infinity", "١٢", "--1", "1 2",
]
BAD_JSON_SCORES: list[Any] = [2**63, -(2**63) - 1, 1.5, 1e3, True, None, [1], {"v": 1}, "12abc"]


@pytest.mark.parametrize("score", BAD_SCORES)
def test_d13_non_int64_score_strings_are_400(http: httpx.Client, score: str) -> None:
    """D13: anything but a signed 64-bit decimal is a 400 code 100 naming ``score``; nothing is written."""
    error = assert_graph_error(submit(http, ADA_TOKEN, "best_leaderboard", score), 400, 100, "OCApiException")
    assert "score" in error["message"]
    assert count(http, "best_leaderboard") == 0


@pytest.mark.parametrize("score", BAD_JSON_SCORES, ids=repr)
def test_d13_non_int64_json_scores_are_400(http: httpx.Client, score: Any) -> None:
    """D13: in a JSON body, out-of-range integers, floats (even integral ones like 1e3), booleans, null,
    arrays and objects are all 400 code 100; nothing is written."""
    response = json_body(http, "/leaderboard_submit_entry", ADA_TOKEN, {"api_name": "best_leaderboard", "score": score})
    assert_graph_error(response, 400, 100, "OCApiException")
    assert count(http, "best_leaderboard") == 0


# --- D14: order, ties, ranks ------------------------------------------------------------------------------

def test_d14_equal_scores_earlier_write_ranks_higher(http: httpx.Client, admin: httpx.Client) -> None:
    """D14: among equal scores the earlier write ranks higher. A forced rewrite is a new write, so it
    moves behind the others; an equal score without force changes nothing (D15) and keeps the place."""
    for token in (ADA_TOKEN, GRACE_TOKEN, LINUS_TOKEN):
        assert submit_ok(http, token, "best_leaderboard", 100)
        advance(admin, 10)
    assert ranking(http, APP_TOKEN, "best_leaderboard") == [(ADA_ID, 1, 100), (GRACE_ID, 2, 100), (LINUS_ID, 3, 100)]
    assert submit_ok(http, ADA_TOKEN, "best_leaderboard", 100, force_update="true") is True
    assert ranking(http, APP_TOKEN, "best_leaderboard") == [(GRACE_ID, 1, 100), (LINUS_ID, 2, 100), (ADA_ID, 3, 100)]
    advance(admin, 10)
    assert submit_ok(http, GRACE_TOKEN, "best_leaderboard", 100) is False
    assert ranking(http, APP_TOKEN, "best_leaderboard")[0] == (GRACE_ID, 1, 100)
    # The same on a LOWER_IS_BETTER board.
    for user in (LINUS_ID, ADA_ID):
        submit_ok(http, APP_TOKEN, "server_board", -5, user)
        advance(admin, 1)
    assert ranking(http, APP_TOKEN, "server_board") == [(LINUS_ID, 1, -5), (ADA_ID, 2, -5)]


def test_d14_same_score_same_instant_lower_entry_id_first(http: httpx.Client, admin: httpx.Client) -> None:
    """D14's last tie-break: equal score and equal write time → the lower entry id ranks higher. Equal
    microsecond write times cannot be produced over HTTP, so the state is built with a snapshot import;
    entry ids are chosen so that id order differs from user order and from write order."""
    for token in (ADA_TOKEN, GRACE_TOKEN, LINUS_TOKEN):
        submit_ok(http, token, "best_leaderboard", 77)
    tables = admin.get("/_admin/snapshot").json()["tables"]
    board = int(board_id(http, "best_leaderboard"))
    new_ids = {int(ADA_ID): 5000000000000003, int(GRACE_ID): 5000000000000001, int(LINUS_ID): 5000000000000002}
    renamed = {}
    for row in tables["entries"]:
        if row["leaderboard_id"] == board:
            renamed[row["id"]] = new_ids[row["user_id"]]
            row["id"] = new_ids[row["user_id"]]
            row["written_us"] = 1_700_000_000_000_000
    for row in tables["objects"]:
        row["id"] = renamed.get(row["id"], row["id"])
    response = admin.post("/_admin/snapshot", data={"version": "1", "tables": json.dumps(tables)})
    assert response.status_code == 200, response.text
    body = entries_ok(http, APP_TOKEN, "best_leaderboard")
    assert [(e["id"], e["user"]["id"], e["rank"]) for e in body["data"]] == [
        ("5000000000000001", GRACE_ID, 1), ("5000000000000002", LINUS_ID, 2), ("5000000000000003", ADA_ID, 3)]
    assert {e["timestamp"] for e in body["data"]} == {1_700_000_000}


def test_d14_ranks_are_distinct_1_based_positions(http: httpx.Client, admin: httpx.Client) -> None:
    """D14: ranks are 1..n positions; tied scores never share a rank."""
    users = scored(http, admin, [50, 50, 40, 40, 40])
    body = entries_ok(http, APP_TOKEN, "best_leaderboard")
    assert [(e["user"]["id"], e["rank"], e["score"]) for e in body["data"]] == [
        (users[0], 1, 50), (users[1], 2, 50), (users[2], 3, 40), (users[3], 4, 40), (users[4], 5, 40)]
    assert body["summary"] == {"total_count": 5}
    for n, entry in enumerate(body["data"]):  # the single-entry read agrees on the global rank
        assert http.get(f"/{entry['id']}", headers=bearer(APP_TOKEN), params={"fields": "rank"}).json()["rank"] == n + 1


def test_d14_filtered_ranks_and_total_count(http: httpx.Client, admin: httpx.Client) -> None:
    """D14: with a filter, ranks are positions within the filtered set and total_count counts that set."""
    users = scored(http, admin, [90, 80, 70, 60, 50])
    assert submit_ok(http, GRACE_TOKEN, "best_leaderboard", 65)
    assert submit_ok(http, ADA_TOKEN, "best_leaderboard", 10)
    body = entries_ok(http, APP_TOKEN, "best_leaderboard", filter="USER_IDS", user_ids=f"{users[4]},{users[2]}")
    assert [(e["user"]["id"], e["rank"]) for e in body["data"]] == [(users[2], 1), (users[4], 2)]
    assert body["summary"] == {"total_count": 2}
    body = entries_ok(http, ADA_TOKEN, "best_leaderboard", filter="FRIENDS")
    assert [(e["user"]["id"], e["rank"]) for e in body["data"]] == [(GRACE_ID, 1), (ADA_ID, 2)]
    assert body["summary"] == {"total_count": 2}
    assert entries_ok(http, APP_TOKEN, "best_leaderboard")["summary"] == {"total_count": 7}


# --- D15: did_update ---------------------------------------------------------------------------------------

def test_d15_first_write_always_lands(http: httpx.Client) -> None:
    """D15: a user's first entry is written whatever the score, even the worst possible one."""
    assert submit_ok(http, ADA_TOKEN, "best_leaderboard", INT64_MIN) is True
    assert submit_ok(http, APP_TOKEN, "server_board", INT64_MAX, ADA_ID) is True
    assert ranking(http, APP_TOKEN, "best_leaderboard") == [(ADA_ID, 1, INT64_MIN)]
    assert ranking(http, APP_TOKEN, "server_board") == [(ADA_ID, 1, INT64_MAX)]


def test_d15_higher_is_better_replacement_rules(http: httpx.Client, admin: httpx.Client) -> None:
    """D15 on a HIGHER_IS_BETTER board: strictly better replaces (score, extra data and timestamp);
    equal or worse answers did_update:false and changes nothing, the timestamp included; force_update
    always replaces, even with a worse or equal score. One entry per user: the id never changes."""
    assert submit_ok(http, ADA_TOKEN, "best_leaderboard", 100, extra_data_base64="AQ==")
    first = one_entry(http, "best_leaderboard", ADA_ID)
    advance(admin, 50)
    assert submit_ok(http, ADA_TOKEN, "best_leaderboard", 150, extra_data_base64="Ag==") is True
    better = one_entry(http, "best_leaderboard", ADA_ID)
    assert (better["id"], better["score"], better["extra_data_base64"]) == (first["id"], 150, "Ag==")
    assert better["timestamp"] >= first["timestamp"] + 50
    advance(admin, 50)
    assert submit_ok(http, ADA_TOKEN, "best_leaderboard", 150, extra_data_base64="Aw==") is False
    assert submit_ok(http, ADA_TOKEN, "best_leaderboard", 149, extra_data_base64="Aw==") is False
    assert submit_ok(http, ADA_TOKEN, "best_leaderboard", 120, force_update="false") is False
    assert one_entry(http, "best_leaderboard", ADA_ID) == better
    advance(admin, 50)
    assert submit_ok(http, ADA_TOKEN, "best_leaderboard", 3, force_update="true", extra_data_base64="BA==") is True
    forced = one_entry(http, "best_leaderboard", ADA_ID)
    assert (forced["id"], forced["score"], forced["extra_data_base64"]) == (first["id"], 3, "BA==")
    assert forced["timestamp"] >= better["timestamp"] + 100
    advance(admin, 50)
    assert submit_ok(http, ADA_TOKEN, "best_leaderboard", 3, force_update="TRUE") is True
    assert one_entry(http, "best_leaderboard", ADA_ID)["timestamp"] >= forced["timestamp"] + 50
    assert count(http, "best_leaderboard") == 1


def test_d15_lower_is_better_replacement_rules(http: httpx.Client, admin: httpx.Client) -> None:
    """D15 on a LOWER_IS_BETTER board: a lower score is better; equal or higher is did_update:false."""
    assert submit_ok(http, APP_TOKEN, "server_board", 100, LINUS_ID) is True
    assert submit_ok(http, APP_TOKEN, "server_board", 90, LINUS_ID) is True
    stamp = one_entry(http, "server_board", LINUS_ID)["timestamp"]
    advance(admin, 30)
    assert submit_ok(http, APP_TOKEN, "server_board", 95, LINUS_ID) is False
    assert submit_ok(http, APP_TOKEN, "server_board", 90, LINUS_ID) is False
    assert (one_entry(http, "server_board", LINUS_ID)["score"], one_entry(http, "server_board", LINUS_ID)
            ["timestamp"]) == (90, stamp)
    assert submit_ok(http, APP_TOKEN, "server_board", 89, LINUS_ID) is True
    assert submit_ok(http, APP_TOKEN, "server_board", 500, LINUS_ID, force_update="1") is True
    assert one_entry(http, "server_board", LINUS_ID)["score"] == 500


# --- D16: who may write ------------------------------------------------------------------------------------

def test_d16_server_authoritative_refuses_user_tokens(http: httpx.Client, admin: httpx.Client) -> None:
    """D16/D7: a user token on a SERVER_AUTHORITATIVE board is 403 OAuthException code 200; the app
    token with user_id writes; the user may still read the board."""
    assert_graph_error(submit(http, ADA_TOKEN, "server_board", 5), 403, 200, "OAuthException")
    assert_graph_error(submit(http, ADA_TOKEN, "server_board", 5, force_update="true"), 403, 200, "OAuthException")
    assert count(http, "server_board") == 0
    assert submit_ok(http, APP_TOKEN, "server_board", 5, ADA_ID)
    assert ranking(http, ADA_TOKEN, "server_board") == [(ADA_ID, 1, 5)]


def test_d16_app_token_needs_user_id(http: httpx.Client) -> None:
    """D16: an app token without user_id (absent or empty) is 400 code 100 naming user_id, on both kinds of
    board."""
    for board in ("best_leaderboard", "server_board"):
        for extra in ({}, {"user_id": ""}):
            error = assert_graph_error(submit(http, APP_TOKEN, board, 5, **extra), 400, 100, "OCApiException")
            assert "user_id" in error["message"]
        assert count(http, board) == 0


@pytest.mark.parametrize("user_id", [ADA_ID, GRACE_ID, "123"])
def test_d16_user_token_with_user_id_is_400(http: httpx.Client, user_id: str) -> None:
    """D16: ``user_id`` with a user token is a 400, even when it names the token's own user."""
    error = assert_graph_error(submit(http, ADA_TOKEN, "best_leaderboard", 5, user_id), 400, 100, "OCApiException")
    assert "user_id" in error["message"]
    assert count(http, "best_leaderboard") == 0


def test_d16_unentitled_user_is_403_ocapiexception(http: httpx.Client) -> None:
    """D16/D7: a user without an entitlement to the app cannot be written for: 403 OCApiException code
    200, with the user's own token and with the app token."""
    assert_graph_error(submit(http, UNENTITLED_TOKEN, "best_leaderboard", 5), 403, 200, "OCApiException")
    assert_graph_error(submit(http, APP_TOKEN, "best_leaderboard", 5, UNENTITLED_ID), 403, 200, "OCApiException")
    assert_graph_error(submit(http, APP_TOKEN, "server_board", 5, UNENTITLED_ID), 403, 200, "OCApiException")
    assert count(http, "best_leaderboard") == 0 and count(http, "server_board") == 0


@pytest.mark.parametrize("user_id", [RIVAL_ID, "100000000000999", "0"])
def test_d16_user_id_of_another_app_or_nobody_is_400(http: httpx.Client, user_id: str) -> None:
    """D16/D7: a user id of the rival app (app-scoped ids are per app) or of nobody is an invalid
    parameter: 400 code 100 "invalid user id" (the SDK's message); nothing written on either app."""
    error = assert_graph_error(submit(http, APP_TOKEN, "best_leaderboard", 5, user_id), 400, 100, "OCApiException")
    assert "invalid user id" in error["message"] and "user_id" in error["message"]
    assert count(http, "best_leaderboard") == 0
    assert count(http, "best_leaderboard", RIVAL_APP_TOKEN) == 1


# --- D17: time windows -------------------------------------------------------------------------------------

@pytest.mark.parametrize("earliest_offset, latest_offset", [(100, 100), (200, 100), (0, -1)])
def test_d17_window_must_be_ordered_on_create(http: httpx.Client, admin: httpx.Client, earliest_offset: int,
                                              latest_offset: int) -> None:
    """D17: earliest >= latest is a 400 code 100 and no board is created."""
    base = now(admin)
    response = create_board(http, "windowed", sort_order="HIGHER_IS_BETTER",
                            earliest_allowed_entry_time=str(base + earliest_offset),
                            latest_allowed_entry_time=str(base + latest_offset))
    assert_graph_error(response, 400, 100, "OCApiException")
    assert_graph_error(http.get(f"/{APP_ID}/leaderboards", headers=bearer(APP_TOKEN),
                                params={"api_name": "windowed"}), 404, 100, "GraphMethodException")


def test_d17_window_must_stay_ordered_on_update(http: httpx.Client, admin: httpx.Client) -> None:
    """D17: an update that would leave earliest >= latest (one bound changed, the other stored) is a 400
    and leaves the board as it was."""
    base = now(admin)
    assert create_board(http, "windowed", sort_order="HIGHER_IS_BETTER", earliest_allowed_entry_time=str(base),
                        latest_allowed_entry_time=str(base + 1000)).status_code == 200
    before = metadata(http, "windowed")
    assert_graph_error(create_board(http, "windowed", latest_allowed_entry_time=str(base)), 400, 100)
    assert_graph_error(create_board(http, "windowed", earliest_allowed_entry_time=str(base + 5000)), 400, 100)
    assert metadata(http, "windowed") == before


def test_d17_writes_outside_the_window_are_too_early_or_too_late(http: httpx.Client, admin: httpx.Client) -> None:
    """D17/D36: before earliest → 400 "too early", after latest → 400 "too late", both naming the
    leaderboard's allowed time window; the bounds themselves are inside; rejected writes store nothing,
    forced or not, and reads still work outside the window."""
    start = now(admin) + 1000
    end = start + 1000
    created = create_board(http, "windowed", sort_order="HIGHER_IS_BETTER",
                           earliest_allowed_entry_time=str(start), latest_allowed_entry_time=str(end))
    assert created.status_code == 200, created.text
    for token, extra in ((ADA_TOKEN, {}), (ADA_TOKEN, {"force_update": "true"})):
        error = assert_graph_error(submit(http, token, "windowed", 1, **extra), 400, 100, "OCApiException")
        assert "too early" in error["message"] and "allowed time window" in error["message"]
    error = assert_graph_error(submit(http, APP_TOKEN, "windowed", 1, GRACE_ID), 400, 100)
    assert "too early" in error["message"]
    assert count(http, "windowed") == 0

    set_clock(admin, start)
    assert submit_ok(http, ADA_TOKEN, "windowed", 1)
    set_clock(admin, end)
    assert submit_ok(http, GRACE_TOKEN, "windowed", 2)
    set_clock(admin, end + 1)
    error = assert_graph_error(submit(http, LINUS_TOKEN, "windowed", 3), 400, 100, "OCApiException")
    assert "too late" in error["message"] and "allowed time window" in error["message"]
    error = assert_graph_error(submit(http, ADA_TOKEN, "windowed", 99, force_update="true"), 400, 100)
    assert "too late" in error["message"]
    assert ranking(http, LINUS_TOKEN, "windowed") == [(GRACE_ID, 1, 2), (ADA_ID, 2, 1)]


# --- D18: extra_data_base64 --------------------------------------------------------------------------------

@pytest.mark.parametrize("sent, returned", [
    ("T2N1bHVzIQ==", "T2N1bHVzIQ=="),  # standard, padded
    ("T2N1bHVzIQ", "T2N1bHVzIQ=="),  # padding optional
    ("+/8=", "+/8="),  # standard alphabet
    ("-_8=", "+/8="),  # URL-safe alphabet, returned standard
    ("-_8", "+/8="),  # URL-safe without padding
    ("", ""),  # empty extra data
])
def test_d18_base64_forms_accepted_and_returned_standard(http: httpx.Client, sent: str, returned: str) -> None:
    """D18: standard or URL-safe base64, padding optional; an empty string stores empty extra data; the
    value comes back as standard padded base64."""
    assert submit_ok(http, ADA_TOKEN, "best_leaderboard", 1, extra_data_base64=sent)
    assert one_entry(http, "best_leaderboard", ADA_ID)["extra_data_base64"] == returned


def test_d18_size_limit_is_2048_decoded_bytes(http: httpx.Client) -> None:
    """D18: exactly 2048 decoded bytes is accepted and returned intact; 2049 is a 400 that stores nothing
    (not even a truncated value)."""
    payload = bytes(range(256)) * 8
    assert len(payload) == 2048
    assert submit_ok(http, ADA_TOKEN, "best_leaderboard", 1, extra_data_base64=base64.b64encode(payload).decode())
    assert base64.b64decode(one_entry(http, "best_leaderboard", ADA_ID)["extra_data_base64"]) == payload
    too_big = base64.b64encode(payload + b"!").decode()
    error = assert_graph_error(submit(http, GRACE_TOKEN, "best_leaderboard", 1, extra_data_base64=too_big), 400, 100)
    assert "extra_data_base64" in error["message"]
    error = assert_graph_error(submit(http, ADA_TOKEN, "best_leaderboard", 5, extra_data_base64=too_big,
                                      force_update="true"), 400, 100)
    assert one_entry(http, "best_leaderboard", ADA_ID)["score"] == 1
    assert count(http, "best_leaderboard") == 1


def test_d18_raw_plus_signs_from_curl_survive_form_decoding(http: httpx.Client) -> None:
    """D18 with the documented client: ``curl -d "extra_data_base64=+/8+AQ=="`` sends "+" unencoded, which
    form decoding turns into spaces. Base64 has no spaces, so they are read back as "+": standard base64
    works through curl as the page shows it, and comes back unchanged."""
    body = b"api_name=best_leaderboard&score=1&extra_data_base64=+/8+AQ=="
    response = http.post("/leaderboard_submit_entry", content=body,
                         headers={**bearer(ADA_TOKEN), "Content-Type": "application/x-www-form-urlencoded"})
    assert response.json() == {"success": True, "did_update": True, "updated_challenge_ids": []}, response.text
    assert one_entry(http, "best_leaderboard", ADA_ID)["extra_data_base64"] == "+/8+AQ=="


@pytest.mark.parametrize("garbage", ["!!!!", "a", "T2N1$bHVz", "T2N1 bHVz", "====", "T2==bHVz", "T2N1bHVz===="])
def test_d18_garbage_is_400(http: httpx.Client, garbage: str) -> None:
    """D18/D7: a value that is not base64 is 400 code 100 naming extra_data_base64; nothing stored."""
    error = assert_graph_error(submit(http, ADA_TOKEN, "best_leaderboard", 1, extra_data_base64=garbage), 400, 100)
    assert "extra_data_base64" in error["message"]
    assert count(http, "best_leaderboard") == 0


# --- D19: create / update ----------------------------------------------------------------------------------

def test_d19_upsert_returns_the_same_id_and_updates(http: httpx.Client) -> None:
    """D19: create/update is an upsert by api_name answering the same id each time; the update changes
    only what it names; entry_write_policy defaults to CLIENT_AUTHORITATIVE; sort_order is not needed
    to update."""
    first = create_board(http, "upserted", sort_order="LOWER_IS_BETTER")
    assert first.status_code == 200, first.text
    board = first.json()["id"]
    assert first.json() == {"id": board}
    assert metadata(http, "upserted")["entry_write_policy"] == "CLIENT_AUTHORITATIVE"
    again = create_board(http, "upserted", entry_write_policy="SERVER_AUTHORITATIVE")
    assert again.json() == {"id": board}
    assert metadata(http, "upserted") == {"id": board, "api_name": "upserted", "sort_order": "LOWER_IS_BETTER",
                                          "entry_write_policy": "SERVER_AUTHORITATIVE", "entry_count": 0}
    assert create_board(http, "upserted", sort_order="LOWER_IS_BETTER").json() == {"id": board}
    assert create_board(http, "best_leaderboard").json() == {"id": board_id(http, "best_leaderboard")}
    other = create_board(http, "upserted2", sort_order="LOWER_IS_BETTER").json()["id"]
    assert other != board


def test_d19_sort_order_required_on_create(http: httpx.Client) -> None:
    """D19: creating without sort_order (absent or empty) is 400 code 100 naming it; no board appears."""
    for extra in ({}, {"sort_order": ""}, {"entry_write_policy": "SERVER_AUTHORITATIVE"}):
        error = assert_graph_error(create_board(http, "unsorted", **extra), 400, 100, "OCApiException")
        assert "sort_order" in error["message"]
    listing = http.get(f"/{APP_ID}/leaderboards", headers=bearer(APP_TOKEN)).json()["data"]
    assert len(listing) == 3


@pytest.mark.parametrize("api_name", ["a" * 65, "a b", "a/b", "ä", "a$", "a+b", "a,b", "a{b}", "a\tb", "名前"])
def test_d19_bad_api_names_are_400(http: httpx.Client, api_name: str) -> None:
    """D19: api_name is 1–64 characters of [A-Za-z0-9_.-]; anything else is a 400 naming api_name."""
    error = assert_graph_error(create_board(http, api_name, sort_order="HIGHER_IS_BETTER"), 400, 100)
    assert "api_name" in error["message"]
    assert len(http.get(f"/{APP_ID}/leaderboards", headers=bearer(APP_TOKEN)).json()["data"]) == 3


def test_d19_api_name_limits_and_case(http: httpx.Client) -> None:
    """D19: 64 characters and every allowed character class work; api_name is case-sensitive, so
    ``Best_Leaderboard`` is another board, and ``BEST_LEADERBOARD`` names none (404)."""
    longest = "A" * 32 + "z9_.-" + "b" * 27
    assert len(longest) == 64
    response = create_board(http, longest, sort_order="HIGHER_IS_BETTER")
    assert response.status_code == 200, response.text
    assert metadata(http, longest)["api_name"] == longest
    submit_ok(http, ADA_TOKEN, "best_leaderboard", 5)
    other = create_board(http, "Best_Leaderboard", sort_order="LOWER_IS_BETTER").json()["id"]
    assert other != board_id(http, "best_leaderboard")
    assert metadata(http, "best_leaderboard")["sort_order"] == "HIGHER_IS_BETTER"
    assert count(http, "Best_Leaderboard") == 0 and count(http, "best_leaderboard") == 1
    assert_graph_error(entries(http, APP_TOKEN, "BEST_LEADERBOARD"), 404, 100, "GraphMethodException")
    assert_graph_error(submit(http, ADA_TOKEN, "BEST_LEADERBOARD", 5), 404, 100, "GraphMethodException")


# --- D20: reading entries ----------------------------------------------------------------------------------

def test_d20_limit_defaults_to_25_and_is_capped_at_100(http: httpx.Client, admin: httpx.Client) -> None:
    """D20: no limit → 25 rows; a limit above 100 is served as 100 (not an error)."""
    scored(http, admin, list(range(105, 0, -1)))
    body = entries_ok(http, APP_TOKEN, "best_leaderboard")
    assert [e["rank"] for e in body["data"]] == list(range(1, 26))
    assert "next" in body["paging"]
    for limit in ("100", "101", "1000", str(INT64_MAX)):
        rows = entries_ok(http, APP_TOKEN, "best_leaderboard", limit=limit)["data"]
        assert [e["rank"] for e in rows] == list(range(1, 101)), limit
    assert len(entries_ok(http, APP_TOKEN, "best_leaderboard", limit="7")["data"]) == 7


def test_d20_default_projection_is_ids_only(http: httpx.Client, admin: httpx.Client) -> None:
    """D5/D20: without ``fields`` each entry row is ``{"id"}`` only (Graph's default, no default is documented
    for leaderboard_entries); a nested selection returns only what it names, plus the ids."""
    scored(http, admin, [2, 1])
    rows = http.get("/leaderboard_entries", headers=bearer(APP_TOKEN), params={"api_name": "best_leaderboard"})
    assert [set(row) for row in rows.json()["data"]] == [{"id"}, {"id"}]
    assert "summary" not in rows.json()
    nested = http.get("/leaderboard_entries", headers=bearer(APP_TOKEN),
                      params={"api_name": "best_leaderboard", "fields": "user{alias},score"}).json()["data"]
    assert [(set(row), set(row["user"])) for row in nested] == [({"id", "user", "score"}, {"id", "alias"})] * 2


def test_d20_offset(http: httpx.Client, admin: httpx.Client) -> None:
    """D20: start_at=OFFSET skips ``offset`` entries (0-based); ranks stay board positions; past the end
    is an empty page with the true total; OFFSET without offset is a 400."""
    scored(http, admin, [60, 50, 40, 30, 20, 10])
    body = entries_ok(http, APP_TOKEN, "best_leaderboard", start_at="OFFSET", offset="3", limit="2")
    assert [(e["rank"], e["score"]) for e in body["data"]] == [(4, 30), (5, 20)]
    assert [e["rank"] for e in entries_ok(http, APP_TOKEN, "best_leaderboard", start_at="OFFSET",
                                           offset="0")["data"]] == [1, 2, 3, 4, 5, 6]
    past = entries_ok(http, APP_TOKEN, "best_leaderboard", start_at="OFFSET", offset="6")
    assert past["data"] == [] and past["summary"] == {"total_count": 6}
    assert_graph_error(entries(http, APP_TOKEN, "best_leaderboard", start_at="OFFSET"), 400, 100)


def _viewer_board(http: httpx.Client, admin: httpx.Client) -> None:
    """19 other entries scored 1000, 990, … 820; Ada is placed among them by her score."""
    scored(http, admin, [1000 - 10 * n for n in range(19)])


@pytest.mark.parametrize("ada_score, limit, expected_ranks", [
    (2000, 5, [1, 2, 3, 4, 5]),  # top: nothing above exists
    (915, 5, [8, 9, 10, 11, 12]),  # middle: floor(4/2) = 2 above
    (915, 4, [9, 10, 11, 12]),  # floor(3/2) = 1 above
    (915, 2, [10, 11]),  # floor(1/2) = 0 above
    (915, 1, [10]),
    (995, 5, [1, 2, 3, 4, 5]),  # rank 2: only one exists above
    (0, 5, [18, 19, 20]),  # bottom: 2 above, nothing below
    (0, 25, list(range(8, 21))),  # floor(24/2) = 12 above
])
def test_d20_centered_on_viewer_puts_floor_half_above(http: httpx.Client, admin: httpx.Client, ada_score: int,
                                                      limit: int, expected_ranks: list[int]) -> None:
    """D20: a centred page starts floor((limit-1)/2) entries above the viewer where that many exist, at
    the top, in the middle and at the bottom; VIEWER is an alias of CENTERED_ON_VIEWER."""
    _viewer_board(http, admin)
    submit_ok(http, ADA_TOKEN, "best_leaderboard", ada_score)
    for start_at in ("CENTERED_ON_VIEWER", "VIEWER", "CENTERED_ON_VIEWER_OR_TOP", "VIEWER_OR_TOP"):
        body = entries_ok(http, ADA_TOKEN, "best_leaderboard", start_at=start_at, limit=str(limit))
        assert [e["rank"] for e in body["data"]] == expected_ranks, start_at
        assert ADA_ID in [e["user"]["id"] for e in body["data"]]
        assert body["summary"] == {"total_count": 20}


def test_d20_not_ranked_viewer(http: httpx.Client, admin: httpx.Client) -> None:
    """D20: CENTERED_ON_VIEWER (or VIEWER) without a viewer entry is 404 code 12074 "You're not yet
    ranked on this leaderboard."; the _OR_TOP forms fall back to the top page."""
    _viewer_board(http, admin)
    for start_at in ("CENTERED_ON_VIEWER", "VIEWER"):
        response = entries(http, GRACE_TOKEN, "best_leaderboard", start_at=start_at)
        assert response.status_code == 404, response.text
        error = response.json()["error"]
        assert (error["code"], error["message"]) == (12074, NOT_RANKED)
    for start_at in ("CENTERED_ON_VIEWER_OR_TOP", "VIEWER_OR_TOP"):
        rows = entries_ok(http, GRACE_TOKEN, "best_leaderboard", start_at=start_at, limit="3")["data"]
        assert [e["rank"] for e in rows] == [1, 2, 3]


@pytest.mark.parametrize("params", [
    {"start_at": "CENTERED_ON_VIEWER"}, {"start_at": "CENTERED_ON_VIEWER_OR_TOP"}, {"start_at": "VIEWER"},
    {"start_at": "VIEWER_OR_TOP"}, {"filter": "FRIENDS"}, {"filter": "FRIENDS", "start_at": "TOP"},
])
def test_d20_viewer_options_need_a_user_token(http: httpx.Client, admin: httpx.Client, params: dict[str, str]) -> None:
    """D20/D7: viewer-centred starts and FRIENDS with an app token are 403 OAuthException code 200, also
    when a cursor is given (a cursor does not make a viewer)."""
    _viewer_board(http, admin)
    assert_graph_error(entries(http, APP_TOKEN, "best_leaderboard", **params), 403, 200, "OAuthException")
    cursor = entries_ok(http, APP_TOKEN, "best_leaderboard", limit="2")["paging"]["cursors"]
    for key in ("after", "before"):
        response = entries(http, APP_TOKEN, "best_leaderboard", **params, **{key: cursor[key]})
        assert_graph_error(response, 403, 200, "OAuthException")


def test_d20_friends_are_friends_plus_viewer(http: httpx.Client, admin: httpx.Client) -> None:
    """D20: FRIENDS is the viewer's friends and the viewer; a new mutual follow joins the set; a
    friend without an entry is simply absent."""
    scored(http, admin, [500, 400])
    submit_ok(http, ADA_TOKEN, "best_leaderboard", 10)
    submit_ok(http, LINUS_TOKEN, "best_leaderboard", 30)
    assert ranking(http, ADA_TOKEN, "best_leaderboard", filter="FRIENDS") == [(ADA_ID, 1, 10)]
    submit_ok(http, GRACE_TOKEN, "best_leaderboard", 20)
    assert ranking(http, ADA_TOKEN, "best_leaderboard", filter="FRIENDS") == [(GRACE_ID, 1, 20), (ADA_ID, 2, 10)]
    assert ranking(http, GRACE_TOKEN, "best_leaderboard", filter="FRIENDS") == [(GRACE_ID, 1, 20), (ADA_ID, 2, 10)]
    assert ranking(http, LINUS_TOKEN, "best_leaderboard", filter="FRIENDS") == [(LINUS_ID, 1, 30)]
    admin.post(f"/_admin/users/{ADA_ID}/friends", data={"friend_id": LINUS_ID}).raise_for_status()
    assert ranking(http, ADA_TOKEN, "best_leaderboard", filter="FRIENDS") == [
        (LINUS_ID, 1, 30), (GRACE_ID, 2, 20), (ADA_ID, 3, 10)]
    centred = ranking(http, ADA_TOKEN, "best_leaderboard", filter="FRIENDS", start_at="CENTERED_ON_VIEWER",
                      limit="1")
    assert centred == [(ADA_ID, 3, 10)]


@pytest.mark.parametrize("form", ["json", "json-strings", "comma", "comma-spaces", "repeated"])
def test_d20_user_ids_forms(http: httpx.Client, admin: httpx.Client, form: str) -> None:
    """D20: user_ids as a JSON array (numbers or strings), a comma list, or repeated; with a user token
    the viewer is always included, with an app token only the listed users are."""
    users = scored(http, admin, [50, 40, 30, 20])
    submit_ok(http, ADA_TOKEN, "best_leaderboard", 35)
    listed = [users[3], users[1]]
    value: Any = {
        "json": json.dumps([int(u) for u in listed]),
        "json-strings": json.dumps(listed),
        "comma": ",".join(listed),
        "comma-spaces": " , ".join(listed),
        "repeated": listed,
    }[form]
    app_view = ranking(http, APP_TOKEN, "best_leaderboard", filter="USER_IDS", user_ids=value)
    assert app_view == [(users[1], 1, 40), (users[3], 2, 20)]
    user_view = ranking(http, ADA_TOKEN, "best_leaderboard", filter="USER_IDS", user_ids=value)
    assert user_view == [(users[1], 1, 40), (ADA_ID, 2, 35), (users[3], 3, 20)]


def test_d20_user_ids_paging_keeps_every_id(http: httpx.Client, admin: httpx.Client) -> None:
    """D20/D21: following ``paging.next`` of a USER_IDS read keeps the filter whole, whichever form the ids
    came in (a repeated parameter included): the second page holds the rest of the listed users only."""
    users = scored(http, admin, [90, 80, 70, 60, 50, 40])
    listed = [users[0], users[2], users[4], users[5]]
    for value in (listed, ",".join(listed), json.dumps(listed)):
        body = entries_ok(http, APP_TOKEN, "best_leaderboard", filter="USER_IDS", user_ids=value, limit="2")
        rows = body["data"]
        page = follow(http, body["paging"]["next"])
        rows += page["data"]
        assert "next" not in page.get("paging", {})
        assert [(e["user"]["id"], e["rank"]) for e in rows] == [(u, n + 1) for n, u in enumerate(listed)], value
        assert page["summary"] == {"total_count": 4}


# --- D21: keyset paging ------------------------------------------------------------------------------------

def _walk(http: httpx.Client, body: dict[str, Any], direction: str = "next") -> list[dict[str, Any]]:
    pages = [body]
    while direction in pages[-1].get("paging", {}):
        pages.append(follow(http, pages[-1]["paging"][direction]))
    return pages


def test_d21_following_next_and_previous_covers_the_board_once(http: httpx.Client, admin: httpx.Client) -> None:
    """D21: next/previous are absolute URLs on this server repeating the request, access_token included;
    following next visits every entry once, in order; the first page has no previous and the last no
    next; following previous back from the last page visits the same pages in reverse."""
    users = scored(http, admin, [100 - n for n in range(10)])
    first = entries_ok(http, ADA_TOKEN, "best_leaderboard", limit="3")
    assert "previous" not in first["paging"]
    base = str(http.base_url).rstrip("/")
    assert first["paging"]["next"].startswith(f"{base}/leaderboard_entries?")
    for part in ("api_name=best_leaderboard", "limit=3", "summary=true", f"access_token={ADA_TOKEN}"):
        assert part in first["paging"]["next"]
    forward = _walk(http, first)
    assert [len(p["data"]) for p in forward] == [3, 3, 3, 1]
    assert [e["user"]["id"] for p in forward for e in p["data"]] == users
    assert [e["rank"] for p in forward for e in p["data"]] == list(range(1, 11))
    backward = _walk(http, forward[-1], "previous")
    assert [e["user"]["id"] for p in reversed(backward) for e in p["data"]] == users
    assert "previous" not in backward[-1]["paging"]


def test_d21_paging_through_interleaved_writes_never_repeats_or_skips(http: httpx.Client,
                                                                     admin: httpx.Client) -> None:
    """D21: between page reads, entries are inserted above and below, one already-read entry is deleted
    and one moves up from the unread part. Every entry that did not move is seen exactly once, in order
    (a row-count offset would repeat or skip)."""
    users = scored(http, admin, [1000 - 100 * n for n in range(10)])  # 1000, 900, … 100
    first = entries_ok(http, APP_TOKEN, "best_leaderboard", limit="3")  # 1000, 900, 800
    seen = [e["user"]["id"] for e in first["data"]]
    newcomers = make_users(admin, 3, "late")
    submit_ok(http, APP_TOKEN, "best_leaderboard", 5000, newcomers[0])  # above the cursor
    submit_ok(http, APP_TOKEN, "best_leaderboard", 850, newcomers[1])  # in the part already read
    http.delete(f"/{first['data'][0]['id']}", headers=bearer(APP_TOKEN)).raise_for_status()  # an entry read
    page = follow(http, first["paging"]["next"])
    seen += [e["user"]["id"] for e in page["data"]]
    submit_ok(http, APP_TOKEN, "best_leaderboard", 950, users[9])  # 100 → 950: moves into the read part
    submit_ok(http, APP_TOKEN, "best_leaderboard", 1, newcomers[2])  # below everything
    while "next" in page.get("paging", {}):
        page = follow(http, page["paging"]["next"])
        seen += [e["user"]["id"] for e in page["data"]]
    unmoved = users[:9]
    assert [u for u in seen if u in unmoved] == unmoved
    assert newcomers[2] in seen and newcomers[0] not in seen and newcomers[1] not in seen


def test_d21_paging_during_concurrent_writes(qg: RunningServer, http: httpx.Client, admin: httpx.Client) -> None:
    """D21 under real concurrency: while one client pages with limit 4, another keeps rewriting a set
    of "movers" with forced random scores across the whole range. Every stable entry is seen exactly once
    and in order."""
    stable = scored(http, admin, [10_000 - 100 * n for n in range(40)], prefix="stable")
    movers = scored(http, admin, [5_000 + n for n in range(6)], prefix="mover")
    stop = threading.Event()
    failures: list[str] = []

    def churn() -> None:
        rng = random.Random(7)
        with qg.client() as writer:
            while not stop.is_set():
                response = submit(writer, APP_TOKEN, "best_leaderboard", rng.randrange(-100, 12_000),
                                  rng.choice(movers), force_update="true")
                if response.status_code != 200:
                    failures.append(response.text)

    thread = threading.Thread(target=churn)
    thread.start()
    try:
        for _ in range(3):
            seen: list[str] = []
            pages = _walk(http, entries_ok(http, APP_TOKEN, "best_leaderboard", limit="4"))
            for page in pages:
                seen += [e["user"]["id"] for e in page["data"]]
            assert [u for u in seen if u in stable] == stable
    finally:
        stop.set()
        thread.join()
    assert failures == []


def test_d21_cursor_works_with_another_limit(http: httpx.Client, admin: httpx.Client) -> None:
    """D21: a cursor names a position, not a row count, so it stays valid with a different limit, and
    ``before`` works the same way."""
    scored(http, admin, [100 - n for n in range(12)])
    first = entries_ok(http, APP_TOKEN, "best_leaderboard", limit="3")
    after = first["paging"]["cursors"]["after"]
    assert [e["rank"] for e in entries_ok(http, APP_TOKEN, "best_leaderboard", limit="5", after=after)["data"]] == [
        4, 5, 6, 7, 8]
    assert [e["rank"] for e in entries_ok(http, APP_TOKEN, "best_leaderboard", limit="1", after=after)["data"]] == [4]
    deep = entries_ok(http, APP_TOKEN, "best_leaderboard", start_at="OFFSET", offset="9", limit="3")
    before = deep["paging"]["cursors"]["before"]
    assert [e["rank"] for e in entries_ok(http, APP_TOKEN, "best_leaderboard", limit="4", before=before)["data"]] == [
        6, 7, 8, 9]
    assert [e["rank"] for e in entries_ok(http, APP_TOKEN, "best_leaderboard", limit="50", before=before)["data"]] == (
        list(range(1, 10)))
    last = entries_ok(http, APP_TOKEN, "best_leaderboard", after=deep["paging"]["cursors"]["after"])
    assert last["data"] == [] and last["summary"] == {"total_count": 12}


@pytest.mark.parametrize("key", ["after", "before"])
@pytest.mark.parametrize("cursor", [
    "garbage!", "QVFIUlliZ", "AAAA", "AQ", "%%%", "1234", "1",
    base64.urlsafe_b64encode(b"\x02" + bytes(24)).decode().rstrip("="),  # right size, wrong version
    base64.urlsafe_b64encode(b"\x01" + bytes(23)).decode().rstrip("="),  # right version, too short
])
def test_d21_garbage_cursor_is_400(http: httpx.Client, admin: httpx.Client, key: str, cursor: str) -> None:
    """D21/D7: a cursor the server did not make is a 400 code 100 naming the parameter."""
    scored(http, admin, [3, 2, 1])
    error = assert_graph_error(entries(http, APP_TOKEN, "best_leaderboard", **{key: cursor}), 400, 100)
    assert key in error["message"]


# --- metadata, listing, re-sorting, wiping, deleting ---------------------------------------------------------

def test_leaderboard_metadata_fields(http: httpx.Client, admin: httpx.Client) -> None:
    """§1.3: every metadata field, through ``/{app_id}/leaderboards`` and ``/{leaderboard_id}``; entry_count
    follows writes and deletes."""
    base = now(admin)
    created = create_board(http, "meta", sort_order="LOWER_IS_BETTER", entry_write_policy="SERVER_AUTHORITATIVE",
                           earliest_allowed_entry_time=str(base - 10), latest_allowed_entry_time=str(base + 10_000),
                           title_locale_map='{"en_US":"Soccer","en_GB":"Football"}')
    board = created.json()["id"]
    expected = {"id": board, "api_name": "meta", "sort_order": "LOWER_IS_BETTER",
                "entry_write_policy": "SERVER_AUTHORITATIVE", "entry_count": 0,
                "earliest_allowed_entry_time": base - 10, "latest_allowed_entry_time": base + 10_000,
                "title": "Soccer"}
    assert metadata(http, "meta") == expected
    fields = ",".join(k for k in expected if k != "id")
    assert http.get(f"/{board}", headers=bearer(APP_TOKEN), params={"fields": fields}).json() == expected
    for user in (ADA_ID, GRACE_ID, LINUS_ID):
        submit_ok(http, APP_TOKEN, "meta", 1, user)
    assert metadata(http, "meta")["entry_count"] == 3
    http.delete(f"/{one_entry(http, 'meta', GRACE_ID)['id']}", headers=bearer(APP_TOKEN)).raise_for_status()
    assert metadata(http, "meta")["entry_count"] == 2
    only = http.get(f"/{APP_ID}/leaderboards", headers=bearer(APP_TOKEN),
                    params={"api_name": "meta", "fields": "entry_count"}).json()
    assert only == {"data": [{"id": board, "entry_count": 2}]}


def test_listing_returns_ids_only_by_default(http: httpx.Client) -> None:
    """§1.3/D5: without fields, ``GET /{app_id}/leaderboards`` lists every board of the app as ``{"id"}``
    only, and never a rival app's board."""
    listing = http.get(f"/{APP_ID}/leaderboards", headers=bearer(APP_TOKEN)).json()
    assert set(listing) == {"data"}
    ids = {board_id(http, name) for name in ("best_leaderboard", "server_board", "MY_NEW_LEADERBOARD")}
    assert all(set(row) == {"id"} for row in listing["data"])
    assert {row["id"] for row in listing["data"]} == ids and len(listing["data"]) == 3
    assert board_id(http, "best_leaderboard", RIVAL_APP_TOKEN, RIVAL_APP_ID) not in ids
    single = http.get(f"/{APP_ID}/leaderboards", headers=bearer(APP_TOKEN), params={"api_name": "server_board"})
    assert single.json() == {"data": [{"id": board_id(http, "server_board")}]}


def test_changing_sort_order_resorts_the_board(http: httpx.Client, admin: httpx.Client) -> None:
    """D19/D14: switching sort_order of a board re-sorts its entries at once (ranks, entry reads,
    cursors) and later submits compare the new way (D15)."""
    users = scored(http, admin, [10, 30, 20])
    assert ranking(http, APP_TOKEN, "best_leaderboard") == [(users[1], 1, 30), (users[2], 2, 20), (users[0], 3, 10)]
    assert create_board(http, "best_leaderboard", sort_order="LOWER_IS_BETTER").status_code == 200
    assert ranking(http, APP_TOKEN, "best_leaderboard") == [(users[0], 1, 10), (users[2], 2, 20), (users[1], 3, 30)]
    entry = one_entry(http, "best_leaderboard", users[1])
    assert http.get(f"/{entry['id']}", headers=bearer(APP_TOKEN), params={"fields": "rank"}).json()["rank"] == 3
    assert submit_ok(http, APP_TOKEN, "best_leaderboard", 25, users[1]) is True
    assert submit_ok(http, APP_TOKEN, "best_leaderboard", 15, users[0]) is False
    pages = _walk(http, entries_ok(http, APP_TOKEN, "best_leaderboard", limit="1"))
    assert [e["score"] for p in pages for e in p["data"]] == [10, 20, 25]
    assert create_board(http, "best_leaderboard", sort_order="HIGHER_IS_BETTER").status_code == 200
    assert [s for _, _, s in ranking(http, APP_TOKEN, "best_leaderboard")] == [25, 20, 10]


def test_remove_all_entries(http: httpx.Client, admin: httpx.Client) -> None:
    """§1.6: remove_all empties one board: its entries' ids become 404, counts drop to 0, other boards
    keep theirs, and the board takes new entries afterwards (first write always lands, D15)."""
    users = scored(http, admin, [3, 2, 1])
    submit_ok(http, APP_TOKEN, "server_board", 9, ADA_ID)
    ids = [e["id"] for e in entries_ok(http, APP_TOKEN, "best_leaderboard")["data"]]
    response = http.post("/leaderboard_remove_all_entries", headers=bearer(APP_TOKEN),
                         data={"api_name": "best_leaderboard"})
    assert response.json() == {"success": True}
    for entry_id in ids:
        assert_graph_error(http.get(f"/{entry_id}", headers=bearer(APP_TOKEN)), 404, 100, "GraphMethodException")
    assert metadata(http, "best_leaderboard")["entry_count"] == 0
    assert count(http, "server_board") == 1
    assert submit_ok(http, APP_TOKEN, "best_leaderboard", 0, users[0]) is True
    assert ranking(http, APP_TOKEN, "best_leaderboard") == [(users[0], 1, 0)]
    again = http.post("/leaderboard_remove_all_entries", headers=bearer(APP_TOKEN),
                      data={"api_name": "MY_NEW_LEADERBOARD"})
    assert again.json() == {"success": True}  # an empty board is fine


def test_delete_board_then_everything_about_it_is_404(http: httpx.Client, admin: httpx.Client) -> None:
    """§1.7/D7: after DELETE /{leaderboard_id}: the id, its entries' ids and its api_name (read, write,
    wipe, list) are 404; creating the api_name again makes a new, empty board with a new id."""
    scored(http, admin, [5, 4])
    old = board_id(http, "best_leaderboard")
    ids = [e["id"] for e in entries_ok(http, APP_TOKEN, "best_leaderboard")["data"]]
    assert http.delete(f"/{old}", headers=bearer(APP_TOKEN)).json() == {"success": True}
    for object_id in (old, *ids):
        assert_graph_error(http.get(f"/{object_id}", headers=bearer(APP_TOKEN)), 404, 100, "GraphMethodException", 33)
        assert_graph_error(http.delete(f"/{object_id}", headers=bearer(APP_TOKEN)), 404, 100, "GraphMethodException")
    assert_graph_error(entries(http, APP_TOKEN, "best_leaderboard"), 404, 100, "GraphMethodException")
    assert_graph_error(submit(http, ADA_TOKEN, "best_leaderboard", 1), 404, 100, "GraphMethodException")
    assert_graph_error(http.post("/leaderboard_remove_all_entries", headers=bearer(APP_TOKEN),
                                 data={"api_name": "best_leaderboard"}), 404, 100, "GraphMethodException")
    assert_graph_error(http.get(f"/{APP_ID}/leaderboards", headers=bearer(APP_TOKEN),
                                params={"api_name": "best_leaderboard"}), 404, 100, "GraphMethodException")
    new = create_board(http, "best_leaderboard", sort_order="HIGHER_IS_BETTER").json()["id"]
    assert new != old and count(http, "best_leaderboard") == 0
    assert count(http, "best_leaderboard", RIVAL_APP_TOKEN) == 1  # the rival's namesake is untouched


# --- app isolation -------------------------------------------------------------------------------------------

def test_rival_app_can_never_touch_the_first_apps_boards(http: httpx.Client, admin: httpx.Client) -> None:
    """D7/D16: the rival app's tokens (app and user) can neither read, write, wipe, delete nor count the
    doc app's boards and entries: by api_name they resolve to the rival's own boards (404 where it has
    none), by id they are 403 (another app's object), by path app id 403. The doc app's state is
    byte-for-byte unchanged."""
    scored(http, admin, [30, 20, 10])
    submit_ok(http, APP_TOKEN, "server_board", 1, ADA_ID)
    submit_ok(http, APP_TOKEN, "MY_NEW_LEADERBOARD", 1, ADA_ID)
    ours = {name: board_id(http, name) for name in ("best_leaderboard", "server_board", "MY_NEW_LEADERBOARD")}
    entry_ids = [e["id"] for e in entries_ok(http, APP_TOKEN, "best_leaderboard")["data"]]
    before = state(http, admin)
    for token in (RIVAL_APP_TOKEN, RIVAL_TOKEN):
        headers = bearer(token)
        for name in ("server_board", "MY_NEW_LEADERBOARD"):
            assert_graph_error(entries(http, token, name), 404, 100, "GraphMethodException")
            assert_graph_error(submit(http, token, name, 1, RIVAL_ID if token == RIVAL_APP_TOKEN else None),
                               404, 100, "GraphMethodException")
            assert_graph_error(http.post("/leaderboard_remove_all_entries", headers=headers, data={"api_name": name}),
                               404 if token == RIVAL_APP_TOKEN else 403, 100 if token == RIVAL_APP_TOKEN else 200)
        for object_id in (*ours.values(), *entry_ids):
            assert_graph_error(http.get(f"/{object_id}", headers=headers), 403, 200, "OAuthException")
            assert_graph_error(http.delete(f"/{object_id}", headers=headers), 403, 200, "OAuthException")
        assert_graph_error(http.get(f"/{APP_ID}/leaderboards", headers=headers,
                                    params={"fields": "entry_count"}), 403, 200, "OAuthException")
        assert_graph_error(create_board(http, "best_leaderboard", token, APP_ID, sort_order="LOWER_IS_BETTER"),
                           403, 200, "OAuthException")
        # By api_name, the rival's namesake board is the one read: one entry, never ours.
        body = entries_ok(http, token, "best_leaderboard", limit="100")
        assert [e["user"]["id"] for e in body["data"]] == [RIVAL_ID] and body["summary"] == {"total_count": 1}
    # The rival app token cannot write for the doc app's users either.
    assert_graph_error(submit(http, RIVAL_APP_TOKEN, "best_leaderboard", 1, ADA_ID), 400, 100, "OCApiException")
    # A rival-side wipe of its own namesake board leaves ours alone.
    assert http.post("/leaderboard_remove_all_entries", headers=bearer(RIVAL_APP_TOKEN),
                     data={"api_name": "best_leaderboard"}).json() == {"success": True}
    after = state(http, admin)
    rival_board = board_id(http, "best_leaderboard", RIVAL_APP_TOKEN, RIVAL_APP_ID)
    rival_entries = {r["id"] for r in before["entries"] if r["leaderboard_id"] == int(rival_board)}
    assert len(rival_entries) == 1
    for snapshot in (before, after):
        snapshot["entries"] = [r for r in snapshot["entries"] if r["id"] not in rival_entries]
        snapshot["objects"] = [r for r in snapshot["objects"] if r["id"] not in rival_entries]
        snapshot["served"].pop(rival_board)
    assert after == before


# --- D22: rank reads stay cheap at depth -----------------------------------------------------------------------

@pytest.mark.sqlite_only
def test_d22_deep_reads_are_exact_on_a_large_board(tmp_path: Path) -> None:
    """D22: on a board of 20 000 entries (loaded straight into the database, then indexed at start-up),
    reads at the bottom are exact: global rank of the last entry, an OFFSET page at the end, a centred
    page around a bottom viewer, a keyset page. How long they take is measured in bench/, not here."""
    server = start_server(tmp_path)
    with server.client() as client:
        board = int(board_id(client, "best_leaderboard"))
    server.stop()
    size = 20_000
    db = sqlite3.connect(server.settings.database)
    with db:
        first_person = db.execute("SELECT COALESCE(MAX(id), 0) FROM persons").fetchone()[0] + 1
        db.executemany("INSERT INTO persons (id, alias, display_name, profile_url, age_category) "
                       "VALUES (?, ?, ?, ?, 'AD')",
                       ((first_person + n, f"bulk{n}", f"bulk{n}", "https://x.invalid/p.png") for n in range(size)))
        user0, entry0 = 300_000_000_000_000, 400_000_000_000_000
        db.executemany("INSERT INTO app_users (id, app_id, person_id) VALUES (?, ?, ?)",
                       ((user0 + n, int(APP_ID), first_person + n) for n in range(size)))
        db.executemany("INSERT INTO objects (id, kind) VALUES (?, ?)",
                       [(user0 + n, "user") for n in range(size)] + [(entry0 + n, "entry") for n in range(size)])
        db.executemany("INSERT INTO entries (id, leaderboard_id, user_id, score, extra_data, written_us) "
                       "VALUES (?, ?, ?, ?, x'', ?)",
                       ((entry0 + n, board, user0 + n, 10 * (size - n), 1_600_000_000_000_000) for n in range(size)))
    db.close()
    restarted = start_server(tmp_path)  # the same database file: not empty, so the world is not re-applied
    try:
        with restarted.client() as client:
            assert entries_ok(client, APP_TOKEN, "best_leaderboard", limit="1")["summary"] == {"total_count": size}
            last_id = str(entry0 + size - 1)
            single = client.get(f"/{last_id}", headers=bearer(APP_TOKEN), params={"fields": "rank,score"}).json()
            assert single == {"id": last_id, "rank": size, "score": 10}
            submit_ok(client, APP_TOKEN, "best_leaderboard", 15, ADA_ID)  # between the last two
            viewer = entries_ok(client, ADA_TOKEN, "best_leaderboard", start_at="CENTERED_ON_VIEWER", limit="3")
            assert [(e["rank"], e["score"]) for e in viewer["data"]] == [(size - 1, 20), (size, 15), (size + 1, 10)]
            body = entries_ok(client, APP_TOKEN, "best_leaderboard", limit="10")
            assert body["data"][0]["rank"] == 1
            body = entries_ok(client, APP_TOKEN, "best_leaderboard",
                              start_at="OFFSET", offset=str(size - 9), limit="10")
            assert [e["rank"] for e in body["data"]] == list(range(size - 8, size + 2))
            assert [e["score"] for e in body["data"]] == [90, 80, 70, 60, 50, 40, 30, 20, 15, 10]
            cursor = body["paging"]["cursors"]["before"]
            body = entries_ok(client, APP_TOKEN, "best_leaderboard", before=cursor, limit="5")
            assert [e["rank"] for e in body["data"]] == list(range(size - 13, size - 8))
            assert [e["score"] for e in body["data"]] == [140, 130, 120, 110, 100]
    finally:
        restarted.stop()
