"""Every example request of Meta's "Leaderboard Server-to-Server APIs" page (seed 003), replayed against
questgraph with only the host changed, first as printed and then corrected.

The world (tests/world.toml) holds the page's app id 1234757621998335, its secret, the doc user
123402235207175 and that user's token ``OC1234OYRx…``, and the boards ``best_leaderboard`` and
``MY_NEW_LEADERBOARD``, so the examples that are right work verbatim. Several are not: a path app id
(12347576219) that is not the token's app, a secret missing its last character, a Bearer token without the
app id, a token with its pipes dropped, ``curl -d "OC|…"`` without ``access_token=``, the
``/leaderboards_submit_entry`` typo, placeholder ids (12345, 12345567893), and a 2016 time window. For each,
the test asserts what a faithful server answers (the D7 row), that nothing changed, and then replays the
corrected request and checks the documented response shape exactly.
"""

from __future__ import annotations

import re

import httpx

from tests.conftest import ADA_ID, ADA_TOKEN, APP_ID, APP_TOKEN, assert_graph_error
from tests.lb_support import (
    bearer,
    board_id,
    entries_ok,
    follow,
    make_users,
    replay_curl,
    replay_raw,
    state,
    submit_ok,
)

# --- the examples, verbatim from the page -----------------------------------------------------------------

CREATE_RAW = """
POST /12347576219/leaderboards/?api_name=best_leaderboard& sort_order=HIGHER_IS_BETTER&entry_write_policy=CLIENT_AUTHORITATIVE& earliest_allowed_entry_time=1463875200&latest_allowed_entry_time=1464480000 HTTP/1.1
Host: graph.oculus.com
Authorization: Bearer OC|1234757621998335|1234f7a788b0c0b270f9691d0a06d5a5
"""  # noqa: E501

CREATE_CURL = """
$ curl ^
-d "access_token=OC|1234757621998335|1234f7a788b0c0b270f9691d0a06d5a" ^
-d "api_name=best_leaderboard" ^
-d "sort_order=HIGHER_IS_BETTER" ^
-d "entry_write_policy=CLIENT_AUTHORITATIVE" ^
-d "earliest_allowed_entry_time=1463875200"  ^
-d "latest_allowed_entry_time=1464480000" ^
https://graph.oculus.com/12347576219/leaderboards
"""

SUBMIT_RAW = """
POST /leaderboards_submit_entry/?api_name=best_leaderboard&score=12345&extra_data_base64=T271bHVz&force_update=true&user_id=123402235207175
HTTP/1.1
Host: graph.oculus.com
Authorization: Bearer OC|1234757621998335|1234f7a788b0c0b270f9691d0a06d5a5
"""  # noqa: E501

SUBMIT_CURL = """
$ curl -d "access_token=OC1234OYRxTfgiFehJN4PrZBx4PH1D5SfGWn7z1ix06dpsZAhHPhN9z1F" ^
-d "api_name=best_leaderboard" -d "score=12345" -d "extra_data_base64=T271bHVz" -d "force_update=true" ^
https://graph.oculus.com/leaderboard_submit_entry
"""

METADATA_RAW = """
GET /12347576219/leaderboards/?api_name=best_leaderboard
 &fields=sort_order,entry_write_policy,entry_count
Host: graph.oculus.com
Authorization: Bearer OC|1234f7a788b0c0b270f9691d0a06d5a5
"""

# The "Retrieve Data about a Leaderboard" section prints this entries request as its curl example.
METADATA_CURL = """
curl -G -d "access_token=OC1234OYRxTfgiFehJN4PrZBx4PH1D5SfGWn7z1ix06dpsZAhHPhN9z1F" ^
-d "api_name=best_leaderboard" ^
-d "filter=NONE" -d "start_at=OFFSET" -d "offset=10" -d "summary=true" -d "limit=2" ^
-d "fields=user{id,alias,profile_url},rank,score,timestamp,extra_data_base64" ^
https://graph.oculus.com/leaderboard_entries
"""

ENTRIES_RAW = """
GET /leaderboard_entries/?api_name=best_leaderboard&fields=user{id, alias, profile_url}, rank, score, timestamp, extra_data_base64&filter=NONE&start_at=OFFSET&offset=10&summary=true&limit=2
Host: graph.oculus.com
Authorization: Bearer OC1234OYRxTfgiFehJN4PrZBx4PH1D5SfGWn7z1ix06dpsZAhHPhN9z1F
"""  # noqa: E501

ENTRIES_CURL = """
$ curl -G -d "access_token=OC1234OYRxTfgiFehJN4PrZBx4PH1D5SfGWn7z1ix06dpsZAhHPhN9z1F" ^
-d "api_name=best_leaderboard" ^
-d "filter=NONE" -d "start_at=OFFSET" -d "offset=10" -d "summary=true" ^
-d "limit=2" ^
-d "fields=user{id,alias,profile_url},rank,score,timestamp,extra_data_base64" ^
https://graph.oculus.com/leaderboard_entries
"""

DELETE_ENTRY_RAW = """
DELETE /12345 HTTP/1.1
Host: graph.oculus.com
Authorization: Bearer OC1234757621998335f7a788b0c0b270f9691d0a06d5a5
"""

DELETE_ENTRY_CURL = """
$ curl -X DELETE -d "OC1234757621998335f7a788b0c0b270f9691d0a06d5a5" ^
https://graph.oculus.com/12345
"""

REMOVE_ALL_RAW = """
POST /leaderboard_remove_all_entries?api_name=MY_NEW_LEADERBOARD
Host: graph.oculus.com
Authorization: Bearer OC|1234757621998335|1234f7a788b0c0b270f9691d0a06d5a5
"""

REMOVE_ALL_CURL = """
$ curl -d "OC|1234757621998335|1234f7a788b0c0b270f9691d0a06d5a5" ^
-d "api_name=MY_NEW_LEADERBOARD" ^
https://graph.oculus.com/leaderboard_remove_all_entries
"""

DELETE_BOARD_RAW = """
DELETE /12345567893
Host: graph.oculus.com
Authorization: Bearer OC|1234757621998335|1234f7a788b0c0b270f9691d0a06d5a5
"""

DELETE_BOARD_CURL = """
$ curl -X "DELETE" ^
-d "access_token=OC|1234757621998335|1234f7a788b0c0b270f9691d0a06d5a5" ^
https://graph.oculus.com/12345567893
"""

DOC_PATH_APP_ID = "12347576219"
WINDOW = (1463875200, 1464480000)  # 2016-05-22 .. 2016-05-29, from the create example
OBJECT_ID = re.compile(r"[0-9]{15,17}")  # D9
ENTRY_KEYS = {"id", "user", "rank", "score", "timestamp", "extra_data_base64"}


def _fix(example: str, *replacements: tuple[str, str]) -> str:
    for old, new in replacements:
        assert old in example, old
        example = example.replace(old, new)
    return example


def _set_clock(admin: httpx.Client, unix_seconds: int) -> None:
    response = admin.post("/_admin/clock", data={"set": str(unix_seconds)})
    assert response.status_code == 200, response.text
    assert response.json()["now"] in (unix_seconds, unix_seconds + 1)


def _metadata(http: httpx.Client, api_name: str) -> dict[str, object]:
    response = http.get(f"/{APP_ID}/leaderboards", headers=bearer(APP_TOKEN), params={
        "api_name": api_name,
        "fields": "api_name,sort_order,entry_write_policy,entry_count,earliest_allowed_entry_time,"
                  "latest_allowed_entry_time",
    })
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert len(data) == 1
    return dict(data[0])


def _populate(http: httpx.Client, admin: httpx.Client, count: int, api_name: str = "best_leaderboard") -> list[str]:
    """``count`` entries with scores 1000, 990, …: user n gets rank n + 1."""
    users = make_users(admin, count)
    for n, user in enumerate(users):
        assert submit_ok(http, APP_TOKEN, api_name, 1000 - 10 * n, user, extra_data_base64="T2N1bHVz")
    return users


# --- Create or Update a Leaderboard ---------------------------------------------------------------------

def test_create_raw_example_as_printed_is_404_for_the_unknown_path_app_id(http: httpx.Client,
                                                                         admin: httpx.Client) -> None:
    """The raw create example puts app id 12347576219 in the path while its token is app
    1234757621998335's. 12347576219 is no app at all, so the path names an unknown object: 404
    GraphMethodException code 100 subcode 33 (D7); the token's own board is not touched."""
    before = state(http, admin)
    response = replay_raw(http, CREATE_RAW)
    error = assert_graph_error(response, 404, 100, "GraphMethodException", 33)
    assert DOC_PATH_APP_ID in error["message"]
    assert state(http, admin) == before


def test_create_raw_example_corrected_upserts_the_existing_board(http: httpx.Client, admin: httpx.Client) -> None:
    """With the path app id corrected, the create example is an upsert of the world's best_leaderboard:
    200 ``{"id": …}`` with the board's existing id (D19), and the 2016 window is stored (D17)."""
    existing = board_id(http, "best_leaderboard")
    response = replay_raw(http, _fix(CREATE_RAW, (f"/{DOC_PATH_APP_ID}/", f"/{APP_ID}/")))
    assert response.status_code == 200, response.text
    assert response.json() == {"id": existing}
    assert OBJECT_ID.fullmatch(existing)
    assert _metadata(http, "best_leaderboard") == {
        "id": existing, "api_name": "best_leaderboard", "sort_order": "HIGHER_IS_BETTER",
        "entry_write_policy": "CLIENT_AUTHORITATIVE", "entry_count": 0,
        "earliest_allowed_entry_time": WINDOW[0], "latest_allowed_entry_time": WINDOW[1],
    }


def test_create_curl_example_as_printed_is_401_for_the_truncated_secret(http: httpx.Client,
                                                                       admin: httpx.Client) -> None:
    """The curl create example's secret lacks its last character ("…0d5a" for "…0d5a5"): the token does
    not authenticate, 401 OAuthException code 190 (D7), checked before the path; the message does not
    echo the secret; nothing changes."""
    before = state(http, admin)
    response = replay_curl(http, CREATE_CURL)
    error = assert_graph_error(response, 401, 190, "OAuthException")
    assert "1234f7a788b0c0b270f9691d0a06d5a" not in error["message"]
    assert "1234f7a788b0c0b270f9691d0a06d5a" not in response.text
    assert state(http, admin) == before


def test_create_curl_example_corrected_then_the_2016_window_governs_writes(http: httpx.Client,
                                                                          admin: httpx.Client) -> None:
    """Corrected (full secret, token's app id in the path), the curl create answers the board's id. Its
    window is 2016-05-22..2016-05-29, so a write today is 400 "too late"; with the emulator clock
    before the window it is 400 "too early"; inside it the write succeeds (D17, D36)."""
    existing = board_id(http, "best_leaderboard")
    corrected = _fix(CREATE_CURL, ('d0a06d5a"', 'd0a06d5a5"'),
                     (f"/{DOC_PATH_APP_ID}/leaderboards", f"/{APP_ID}/leaderboards"))
    response = replay_curl(http, corrected)
    assert response.status_code == 200, response.text
    assert response.json() == {"id": existing}

    late = replay_curl(http, SUBMIT_CURL)
    error = assert_graph_error(late, 400, 100, "OCApiException")
    assert "too late" in error["message"]
    _set_clock(admin, WINDOW[0] - 60)
    early = replay_curl(http, SUBMIT_CURL)
    assert "too early" in assert_graph_error(early, 400, 100, "OCApiException")["message"]
    assert _metadata(http, "best_leaderboard")["entry_count"] == 0

    _set_clock(admin, WINDOW[0] + 3600)
    assert replay_curl(http, SUBMIT_CURL).json() == {"success": True, "did_update": True,
                                                     "updated_challenge_ids": []}
    row = entries_ok(http, APP_TOKEN, "best_leaderboard")["data"][0]
    assert WINDOW[0] + 3600 <= row["timestamp"] <= WINDOW[0] + 3602
    assert (row["user"]["id"], row["score"]) == (ADA_ID, 12345)


# --- Create or Update a Leaderboard Entry ---------------------------------------------------------------

def test_submit_raw_example_as_printed_is_404_for_the_typo_path(http: httpx.Client, admin: httpx.Client) -> None:
    """The raw submit example posts to ``/leaderboards_submit_entry`` (extra "s"; the URL line says
    ``leaderboard_submit_entry``). No such route: 404 GraphMethodException code 100 subcode 33 (D7), and
    no entry is written."""
    before = state(http, admin)
    response = replay_raw(http, SUBMIT_RAW)
    error = assert_graph_error(response, 404, 100, "GraphMethodException", 33)
    assert "leaderboards_submit_entry" in error["message"]
    assert state(http, admin) == before


def test_submit_raw_example_corrected_writes_for_the_user_id(http: httpx.Client) -> None:
    """Corrected path: an app token with ``user_id`` writes for that user (D16; best_leaderboard is
    client-authoritative, where app tokens may write too). The body is exactly the D15 shape; the entry
    reads back with the score, the doc user and the extra data as standard base64 (D18)."""
    response = replay_raw(http, _fix(SUBMIT_RAW, ("/leaderboards_submit_entry/", "/leaderboard_submit_entry/")))
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True, "did_update": True, "updated_challenge_ids": []}
    body = entries_ok(http, APP_TOKEN, "best_leaderboard")
    assert [(e["user"]["id"], e["rank"], e["score"], e["extra_data_base64"]) for e in body["data"]] == [
        (ADA_ID, 1, 12345, "T271bHVz")
    ]
    assert body["summary"] == {"total_count": 1}


def test_submit_curl_example_works_verbatim_and_force_update_rewrites(http: httpx.Client,
                                                                     admin: httpx.Client) -> None:
    """The client-authoritative curl example is correct as printed: the doc user's token, no user_id.
    It answers the current doc's shape ``{"success":true,"did_update":true,"updated_challenge_ids":[]}``
    (D15; the old doc's two-key shape is not used). Replayed later with the same score it still writes,
    because it sends ``force_update=true`` (D15): the timestamp moves."""
    first = replay_curl(http, SUBMIT_CURL)
    assert first.status_code == 200, first.text
    assert first.json() == {"success": True, "did_update": True, "updated_challenge_ids": []}
    stamp = entries_ok(http, APP_TOKEN, "best_leaderboard")["data"][0]["timestamp"]
    admin.post("/_admin/clock", data={"advance_seconds": "100"}).raise_for_status()
    again = replay_curl(http, SUBMIT_CURL)
    assert again.json() == {"success": True, "did_update": True, "updated_challenge_ids": []}
    row = entries_ok(http, APP_TOKEN, "best_leaderboard")["data"][0]
    assert row["timestamp"] >= stamp + 100
    assert (row["user"]["id"], row["score"], row["extra_data_base64"]) == (ADA_ID, 12345, "T271bHVz")
    without_force = replay_curl(http, _fix(SUBMIT_CURL, (' -d "force_update=true"', "")))
    assert without_force.json() == {"success": True, "did_update": False, "updated_challenge_ids": []}


# --- Retrieve Data about a Leaderboard ------------------------------------------------------------------

def test_metadata_raw_example_as_printed_is_401_for_the_token_without_app_id(http: httpx.Client) -> None:
    """The raw metadata example's token is ``OC|<secret>``, the app id missing: not a token, 401
    OAuthException code 190 (D7), before the path app id 12347576219 is even looked at."""
    response = replay_raw(http, METADATA_RAW)
    assert_graph_error(response, 401, 190, "OAuthException")
    assert "1234f7a788b0c0b270f9691d0a06d5a5" not in response.text


def test_metadata_raw_example_with_only_the_token_fixed_is_404_for_the_path(http: httpx.Client) -> None:
    """With a valid token, the example's path app id 12347576219 still names no app: 404 (D7)."""
    response = replay_raw(http, _fix(METADATA_RAW, ("Bearer OC|", f"Bearer OC|{APP_ID}|")))
    assert_graph_error(response, 404, 100, "GraphMethodException", 33)


def test_metadata_raw_example_corrected_answers_the_documented_shape(http: httpx.Client,
                                                                    admin: httpx.Client) -> None:
    """Corrected token and path: ``{"data":[{"id","sort_order","entry_write_policy","entry_count"}]}``,
    exactly those keys, with the live entry count (§1.3, D19)."""
    _populate(http, admin, 3)
    corrected = _fix(METADATA_RAW, ("Bearer OC|", f"Bearer OC|{APP_ID}|"), (f"/{DOC_PATH_APP_ID}/", f"/{APP_ID}/"))
    response = replay_raw(http, corrected)
    assert response.status_code == 200, response.text
    assert response.json() == {"data": [{
        "id": board_id(http, "best_leaderboard"), "sort_order": "HIGHER_IS_BETTER",
        "entry_write_policy": "CLIENT_AUTHORITATIVE", "entry_count": 3,
    }]}


def test_metadata_curl_example_is_really_an_entries_read(http: httpx.Client, admin: httpx.Client) -> None:
    """The page prints a ``leaderboard_entries`` request as the metadata curl example. It is a valid
    entries read and is answered as one (entries, summary), not as leaderboard metadata."""
    _populate(http, admin, 13)
    body = replay_curl(http, METADATA_CURL).json()
    assert [e["rank"] for e in body["data"]] == [11, 12]
    assert body["summary"] == {"total_count": 13}
    assert "entry_count" not in body["data"][0] and "sort_order" not in body["data"][0]


# --- Retrieve Data about a User's Leaderboard Entry or Entries ------------------------------------------

def test_entries_examples_on_an_empty_board(http: httpx.Client) -> None:
    """Both entries examples are valid as printed (the doc user's token, spaces in ``fields`` allowed by
    D5). On the world's empty board, offset 10 gives no rows, a zero count, and no paging (D21)."""
    for response in (replay_raw(http, ENTRIES_RAW), replay_curl(http, ENTRIES_CURL)):
        assert response.status_code == 200, response.text
        assert response.json() == {"data": [], "summary": {"total_count": 0}}


def test_entries_examples_answer_the_entry_level_shape(http: httpx.Client, admin: httpx.Client) -> None:
    """With 13 entries, offset 10 limit 2 returns ranks 11 and 12 (ranks are board positions, D14/D20)
    in the entry-level shape (graph-api.md contradiction 1): id, user{id,alias,profile_url}, rank,
    score, timestamp, extra_data_base64 beside each other, never inside ``user``; ``summary.total_count``;
    ``paging`` with cursors, next and previous. Raw and curl forms answer the same rows."""
    users = _populate(http, admin, 13)
    raw = replay_raw(http, ENTRIES_RAW)
    curl = replay_curl(http, ENTRIES_CURL)
    assert raw.status_code == curl.status_code == 200
    body = raw.json()
    assert set(body) == {"data", "summary", "paging"}
    assert body["data"] == curl.json()["data"]
    assert body["summary"] == {"total_count": 13}
    for n, entry in enumerate(body["data"]):
        assert set(entry) == ENTRY_KEYS
        assert OBJECT_ID.fullmatch(entry["id"])
        assert set(entry["user"]) == {"id", "alias", "profile_url"}
        assert entry["user"]["id"] == users[10 + n]
        assert entry["user"]["alias"] == f"player{10 + n}"
        assert isinstance(entry["user"]["profile_url"], str) and entry["user"]["profile_url"]
        assert entry["rank"] == 11 + n
        assert entry["score"] == 1000 - 10 * (10 + n)
        assert isinstance(entry["timestamp"], int)
        assert entry["extra_data_base64"] == "T2N1bHVz"
    paging = body["paging"]
    assert set(paging) == {"cursors", "next", "previous"}
    assert set(paging["cursors"]) == {"before", "after"}
    # The paging URLs repeat the request on this server, token included (D21).
    assert paging["next"].startswith(str(http.base_url).rstrip("/") + "/leaderboard_entries")
    assert ADA_TOKEN in paging["next"]
    following = follow(http, paging["next"])
    assert [e["rank"] for e in following["data"]] == [13]
    assert "next" not in following.get("paging", {})
    preceding = follow(http, paging["previous"])
    assert [e["rank"] for e in preceding["data"]] == [9, 10]


# --- Delete a Single User's Leaderboard Entry -----------------------------------------------------------

def test_delete_entry_raw_example_as_printed_is_401(http: httpx.Client, admin: httpx.Client) -> None:
    """The raw delete example's token ``OC1234757621998335f7a788…`` is the app id and secret run together
    without pipes: it parses as no app token and is no user token anyone holds, so 401 OAuthException
    code 190 (D7), whatever the id; nothing is deleted."""
    _populate(http, admin, 2)
    before = state(http, admin)
    assert_graph_error(replay_raw(http, DELETE_ENTRY_RAW), 401, 190, "OAuthException")
    assert state(http, admin) == before


def test_delete_entry_curl_example_as_printed_has_no_access_token(http: httpx.Client, admin: httpx.Client) -> None:
    """``curl -X DELETE -d "OC1234…"`` sends the token as a bare form key, not as ``access_token``: the
    request carries no token at all, 401 OAuthException code 104 (D7)."""
    _populate(http, admin, 2)
    before = state(http, admin)
    assert_graph_error(replay_curl(http, DELETE_ENTRY_CURL), 401, 104, "OAuthException")
    assert state(http, admin) == before


def test_delete_entry_examples_corrected(http: httpx.Client, admin: httpx.Client) -> None:
    """With the app token, the placeholder id 12345 names no object: 404 code 100 subcode 33 (D7). With a
    real entry id taken from an entries read (the page says so), ``{"success":true}``; the entry is then
    gone from reads, ``GET``/``DELETE`` of its id are 404, and ranks close up (D14)."""
    _populate(http, admin, 3)
    good_raw = _fix(DELETE_ENTRY_RAW, ("OC1234757621998335f7a788b0c0b270f9691d0a06d5a5", APP_TOKEN))
    assert_graph_error(replay_raw(http, good_raw), 404, 100, "GraphMethodException", 33)
    good_curl = _fix(DELETE_ENTRY_CURL, ('-d "OC1234757621998335f7a788b0c0b270f9691d0a06d5a5"',
                                         f'-d "access_token={APP_TOKEN}"'))
    assert_graph_error(replay_curl(http, good_curl), 404, 100, "GraphMethodException", 33)

    rows = entries_ok(http, APP_TOKEN, "best_leaderboard")["data"]
    first, second = rows[0]["id"], rows[1]["id"]
    response = replay_raw(http, _fix(good_raw, ("/12345 ", f"/{first} ")))
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}
    response = replay_curl(http, _fix(good_curl, ("/12345", f"/{second}")))
    assert response.json() == {"success": True}
    body = entries_ok(http, APP_TOKEN, "best_leaderboard")
    assert [(e["id"], e["rank"]) for e in body["data"]] == [(rows[2]["id"], 1)]
    assert body["summary"] == {"total_count": 1}
    for gone in (first, second):
        assert_graph_error(http.get(f"/{gone}", headers=bearer(APP_TOKEN)), 404, 100, "GraphMethodException", 33)
        assert_graph_error(http.delete(f"/{gone}", headers=bearer(APP_TOKEN)), 404, 100, "GraphMethodException")


# --- Delete All Leaderboard Entries ---------------------------------------------------------------------

def test_remove_all_raw_example_works_verbatim(http: httpx.Client, admin: httpx.Client) -> None:
    """The raw remove-all example is valid as printed: ``{"success":true}``; MY_NEW_LEADERBOARD is empty
    but still exists, and the other board's entries are untouched."""
    _populate(http, admin, 4, "MY_NEW_LEADERBOARD")
    submit_ok(http, ADA_TOKEN, "best_leaderboard", 7)
    response = replay_raw(http, REMOVE_ALL_RAW)
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}
    assert entries_ok(http, APP_TOKEN, "MY_NEW_LEADERBOARD") == {"data": [], "summary": {"total_count": 0}}
    assert _metadata(http, "MY_NEW_LEADERBOARD")["entry_count"] == 0
    assert entries_ok(http, APP_TOKEN, "best_leaderboard")["summary"] == {"total_count": 1}


def test_remove_all_curl_example_as_printed_has_no_access_token(http: httpx.Client, admin: httpx.Client) -> None:
    """``-d "OC|…"`` without ``access_token=`` sends no token: 401 code 104 (D7), and the irreversible
    wipe does not happen. Corrected, it answers ``{"success":true}`` and the board is empty."""
    _populate(http, admin, 4, "MY_NEW_LEADERBOARD")
    before = state(http, admin)
    assert_graph_error(replay_curl(http, REMOVE_ALL_CURL), 401, 104, "OAuthException")
    assert state(http, admin) == before
    corrected = replay_curl(http, _fix(REMOVE_ALL_CURL, ('-d "OC|', '-d "access_token=OC|')))
    assert corrected.json() == {"success": True}
    assert entries_ok(http, APP_TOKEN, "MY_NEW_LEADERBOARD")["summary"] == {"total_count": 0}


# --- Delete a Leaderboard -------------------------------------------------------------------------------

def test_delete_board_examples_as_printed_are_404(http: httpx.Client, admin: httpx.Client) -> None:
    """Both delete-board examples use the placeholder id 12345567893, which names no object: 404
    GraphMethodException code 100 subcode 33 (D7); every board survives."""
    before = state(http, admin)
    for response in (replay_raw(http, DELETE_BOARD_RAW), replay_curl(http, DELETE_BOARD_CURL)):
        error = assert_graph_error(response, 404, 100, "GraphMethodException", 33)
        assert "12345567893" in error["message"]
    assert state(http, admin) == before


def test_delete_board_examples_corrected(http: httpx.Client, admin: httpx.Client) -> None:
    """With the id returned by the create call: ``{"success":true}``. Afterwards the board id, its entries'
    ids and its api_name are all 404 (D7), the list no longer holds it, and the other boards are intact;
    the curl form deletes a second board the same way."""
    created = replay_raw(http, _fix(CREATE_RAW, (f"/{DOC_PATH_APP_ID}/", f"/{APP_ID}/"),
                                    ("best_leaderboard", "doomed")))
    doomed = created.json()["id"]
    users = make_users(admin, 2)
    for user in users:
        submit_ok(http, APP_TOKEN, "MY_NEW_LEADERBOARD", 5, user)
    _set_clock(admin, WINDOW[0] + 10)
    for user in users:
        submit_ok(http, APP_TOKEN, "doomed", 5, user)
    entry_ids = [e["id"] for e in entries_ok(http, APP_TOKEN, "doomed")["data"]]
    assert len(entry_ids) == 2

    response = replay_raw(http, _fix(DELETE_BOARD_RAW, ("/12345567893", f"/{doomed}")))
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}
    assert_graph_error(http.get(f"/{doomed}", headers=bearer(APP_TOKEN)), 404, 100, "GraphMethodException", 33)
    for entry_id in entry_ids:
        assert_graph_error(http.get(f"/{entry_id}", headers=bearer(APP_TOKEN)), 404, 100, "GraphMethodException")
    assert_graph_error(http.get("/leaderboard_entries", headers=bearer(APP_TOKEN), params={"api_name": "doomed"}),
                       404, 100, "GraphMethodException")
    assert_graph_error(http.get(f"/{APP_ID}/leaderboards", headers=bearer(APP_TOKEN),
                                params={"api_name": "doomed"}), 404, 100, "GraphMethodException")
    listing = http.get(f"/{APP_ID}/leaderboards", headers=bearer(APP_TOKEN)).json()["data"]
    assert doomed not in [b["id"] for b in listing] and len(listing) == 3
    assert entries_ok(http, APP_TOKEN, "MY_NEW_LEADERBOARD")["summary"] == {"total_count": 2}

    server_board = board_id(http, "server_board")
    response = replay_curl(http, _fix(DELETE_BOARD_CURL, ("/12345567893", f"/{server_board}")))
    assert response.json() == {"success": True}
    listing = http.get(f"/{APP_ID}/leaderboards", headers=bearer(APP_TOKEN)).json()["data"]
    assert sorted(b["id"] for b in listing) == sorted([board_id(http, "best_leaderboard"),
                                                       board_id(http, "MY_NEW_LEADERBOARD")])


def test_documented_examples_in_sequence(http: httpx.Client, admin: httpx.Client) -> None:
    """The page read top to bottom, each example corrected where it must be and fed the ids of the
    previous responses: create → submit (server, then client) → metadata → entries → delete entry →
    remove all → delete board. Every step answers its documented shape."""
    create = replay_raw(http, _fix(CREATE_RAW, (f"/{DOC_PATH_APP_ID}/", f"/{APP_ID}/"),
                                   ("api_name=best_leaderboard", "api_name=doc_walkthrough"),
                                   ("& earliest_allowed_entry_time=1463875200&latest_allowed_entry_time=1464480000",
                                    "")))
    assert create.status_code == 200, create.text
    new_id = create.json()["id"]
    assert set(create.json()) == {"id"} and OBJECT_ID.fullmatch(new_id)

    server_side = _fix(SUBMIT_RAW, ("/leaderboards_submit_entry/", "/leaderboard_submit_entry/"),
                       ("api_name=best_leaderboard", "api_name=doc_walkthrough"), ("score=12345", "score=500"))
    assert replay_raw(http, server_side).json() == {"success": True, "did_update": True, "updated_challenge_ids": []}
    walker = make_users(admin, 1, "walker")[0]
    other = replay_raw(http, _fix(server_side, (f"user_id={ADA_ID}", f"user_id={walker}"), ("score=500", "score=9")))
    assert other.json()["did_update"] is True
    client_side = replay_curl(http, _fix(SUBMIT_CURL, ("api_name=best_leaderboard", "api_name=doc_walkthrough"),
                                         ("force_update=true", "force_update=false")))
    assert client_side.json() == {"success": True, "did_update": True, "updated_challenge_ids": []}

    metadata = replay_raw(http, _fix(METADATA_RAW, ("Bearer OC|", f"Bearer OC|{APP_ID}|"),
                                     (f"/{DOC_PATH_APP_ID}/", f"/{APP_ID}/"),
                                     ("api_name=best_leaderboard", "api_name=doc_walkthrough")))
    assert metadata.json() == {"data": [{"id": new_id, "sort_order": "HIGHER_IS_BETTER",
                                         "entry_write_policy": "CLIENT_AUTHORITATIVE", "entry_count": 2}]}

    read = replay_curl(http, _fix(ENTRIES_CURL, ("api_name=best_leaderboard", "api_name=doc_walkthrough"),
                                  ("offset=10", "offset=0")))
    rows = read.json()["data"]
    assert [(e["user"]["id"], e["rank"], e["score"]) for e in rows] == [(ADA_ID, 1, 12345), (walker, 2, 9)]

    good_token = ("OC1234757621998335f7a788b0c0b270f9691d0a06d5a5", APP_TOKEN)
    deleted = replay_raw(http, _fix(DELETE_ENTRY_RAW, good_token, ("/12345 ", f"/{rows[1]['id']} ")))
    assert deleted.json() == {"success": True}
    remove_all = replay_raw(http, _fix(REMOVE_ALL_RAW, ("MY_NEW_LEADERBOARD", "doc_walkthrough")))
    assert remove_all.json() == {"success": True}
    assert entries_ok(http, APP_TOKEN, "doc_walkthrough") == {"data": [], "summary": {"total_count": 0}}
    gone = replay_curl(http, _fix(DELETE_BOARD_CURL, ("/12345567893", f"/{new_id}")))
    assert gone.json() == {"success": True}
    assert_graph_error(http.get(f"/{new_id}", headers=bearer(APP_TOKEN)), 404, 100, "GraphMethodException", 33)
