"""Challenges (graph-api.md A.1; deprecated by Meta, still served): the documented examples replayed with
only the host changed, the date windows and visibility rules, ``updated_challenge_ids`` exactly, bad input
(a Graph error and nothing changed) and cross-app isolation, on both backends."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

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
    assert_graph_error,
)
from tests.lb_support import bearer, board_id, replay_curl, replay_raw, submit

DOC_NOW = 1594767504  # 2020-07-14T22:58:24Z: the create example's start_date
DAY = 86400

# --- the examples of "Challenges Server to Server APIs" (D-CH), verbatim ---------------------------------
CREATE_RAW = """
POST /1234757621998335/challenges/?api_name=leaderboard_api_name=hello_friends&creation_type=DEVELOPER_CREATED&visibility=PRIVATE&title=sample_challenge
Host: graph.oculus.com
Authorization: Bearer OC|1234f7a788b0c0b270f9691d0a06d5a5
"""  # noqa: E501
CREATE_CURL = ('curl -X POST https://graph.oculus.com/$APP_ID/challenges -d "access_token=OC|$APP_ID|$APP_SECRET" '
               '-d "leaderboard_api_name=sample_leaderboard" -d "creation_type=DEVELOPER_CREATED" '
               '-d "visibility=PRIVATE" -d "title=sample_challenge"')
UPDATE_RAW = """
POST /{challenge_id}?visibility=INVITE_ONLY
Host: graph.oculus.com
Authorization: Bearer OC|1234757621998335|1234f7a788b0c0b270f9691d0a06d5a5
"""


def set_clock(admin: httpx.Client, seconds: int) -> None:
    admin.post("/_admin/clock", data={"set": str(seconds), "freeze": "true"}).raise_for_status()


def create(http: httpx.Client, token: str = APP_TOKEN, app_id: str = APP_ID, **params: str) -> httpx.Response:
    data = {"leaderboard_api_name": "best_leaderboard", "creation_type": "DEVELOPER_CREATED",
            "visibility": "PUBLIC", **params}
    return http.post(f"/{app_id}/challenges", headers=bearer(token), data=data)


def create_ok(http: httpx.Client, **params: str) -> str:
    response = create(http, **params)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def get(http: httpx.Client, challenge_id: str, token: str = APP_TOKEN, **params: str) -> httpx.Response:
    return http.get(f"/{challenge_id}", headers=bearer(token), params=params)


def listed(http: httpx.Client, token: str = APP_TOKEN, **params: str) -> list[str]:
    response = http.get(f"/{APP_ID}/challenges", headers=bearer(token), params=params)
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["data"]]


def submitted(http: httpx.Client, score: int, user_id: str = ADA_ID, api_name: str = "best_leaderboard",
              **params: str) -> dict[str, Any]:
    response = submit(http, APP_TOKEN, api_name, score, user_id, **params)
    assert response.status_code == 200, response.text
    body = dict(response.json())
    assert set(body) == {"success", "did_update", "updated_challenge_ids"}
    return body


def entries(http: httpx.Client, challenge_id: str, token: str = APP_TOKEN, **params: str) -> httpx.Response:
    query = {"fields": "id,challenge,user{id},rank,score,timestamp,extra_data", **params}
    return http.get(f"/{challenge_id}/entries", headers=bearer(token), params=query)


def ranking(http: httpx.Client, challenge_id: str, token: str = APP_TOKEN, **params: str) -> list[tuple[str, int, int]]:
    response = entries(http, challenge_id, token, **params)
    assert response.status_code == 200, response.text
    return [(e["user"]["id"], e["rank"], e["score"]) for e in response.json()["data"]]


def snapshot(admin: httpx.Client) -> dict[str, Any]:
    tables = admin.get("/_admin/snapshot").json()["tables"]
    return {t: tables[t] for t in ("challenges", "challenge_entries", "entries", "objects")}


# --- the documented examples -------------------------------------------------------------------------------
def test_create_example_as_printed_is_refused_and_corrected_answers_the_documented_shape(
        http: httpx.Client, admin: httpx.Client) -> None:
    set_clock(admin, DOC_NOW)
    before = snapshot(admin)
    # As printed: the Bearer token lacks the app id (a bad token) and the query is malformed.
    assert_graph_error(replay_raw(http, CREATE_RAW), 401, 190, "OAuthException")
    # The curl example names sample_leaderboard, which this app does not have.
    curl = CREATE_CURL.replace("$APP_SECRET", APP_SECRET).replace("$APP_ID", APP_ID)
    assert_graph_error(replay_curl(http, curl), 404, 100)
    assert snapshot(admin) == before
    # Corrected to a board of the app: the documented answer, dates included (start = now, end = +3 days).
    response = replay_curl(http, curl.replace("sample_leaderboard", "best_leaderboard"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {"id": body["id"], "title": "sample_challenge", "start_date": "2020-07-14T22:58:24+0000",
                    "end_date": "2020-07-17T22:58:24+0000", "leaderboard": {"id": board_id(http, "best_leaderboard")}}
    assert body["id"].isdigit()
    # The raw example with its token and query fixed.
    fixed = CREATE_RAW.replace("OC|1234f7", f"OC|{APP_ID}|1234f7").replace(
        "api_name=leaderboard_api_name=hello_friends", "leaderboard_api_name=best_leaderboard")
    response = replay_raw(http, fixed)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"id", "title", "start_date", "end_date", "leaderboard"}


def test_update_example_changes_visibility_and_answers_success(http: httpx.Client) -> None:
    challenge = create_ok(http, visibility="PRIVATE", title="t")
    response = replay_raw(http, UPDATE_RAW.replace("{challenge_id}", challenge))
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}
    assert get(http, challenge, fields="visibility,title").json() == {"id": challenge, "visibility": "INVITE_ONLY",
                                                                      "title": "t"}


def test_get_delete_and_fields(http: httpx.Client, admin: httpx.Client) -> None:
    set_clock(admin, DOC_NOW)
    challenge = create_ok(http, title="hello", description="d", visibility="INVITE_ONLY")
    board = board_id(http, "best_leaderboard")
    assert get(http, challenge).json() == {"id": challenge, "title": "hello", "description": "d",
                                           "leaderboard": {"id": board}}
    fields = "id,title,description,start_date,end_date,leaderboard{id,api_name},creation_type,visibility," \
             "invited_users,participants"
    assert submitted(http, 10)["updated_challenge_ids"] == [challenge]
    assert get(http, challenge, fields=fields).json() == {
        "id": challenge, "title": "hello", "description": "d", "start_date": "2020-07-14T22:58:24+0000",
        "end_date": "2020-07-17T22:58:24+0000", "leaderboard": {"id": board, "api_name": "best_leaderboard"},
        "creation_type": "DEVELOPER_CREATED", "visibility": "INVITE_ONLY", "invited_users": {"data": []},
        "participants": {"data": [{"id": ADA_ID}]},
    }
    [entry] = get(http, challenge, fields="entries").json()["entries"]["data"]
    assert entry == {"id": entry["id"], "user": {"id": ADA_ID}, "rank": 1, "score": 10}
    assert_graph_error(entries(http, challenge, fields="extra_data_base64"), 400, 100)  # the board's name, not here
    assert_graph_error(get(http, challenge, fields="id,nope"), 400, 100)
    response = http.delete(f"/{challenge}", headers=bearer(APP_TOKEN))
    assert response.status_code == 200 and response.json() == {"success": True}
    assert_graph_error(get(http, challenge), 404, 100)
    assert_graph_error(http.delete(f"/{challenge}", headers=bearer(APP_TOKEN)), 404, 100)
    assert submitted(http, 20)["updated_challenge_ids"] == []
    # A user token cannot delete or update.
    other = create_ok(http)
    assert_graph_error(http.delete(f"/{other}", headers=bearer(ADA_TOKEN)), 403, 200)
    assert_graph_error(http.post(f"/{other}", headers=bearer(ADA_TOKEN), data={"visibility": "PUBLIC"}), 403, 200)


# --- date windows ------------------------------------------------------------------------------------------
def test_dates_default_and_update_forms(http: httpx.Client, admin: httpx.Client) -> None:
    set_clock(admin, DOC_NOW)
    # ISO or Unix on create; the end defaults to start + 3 days.
    iso = create_ok(http, start_date="2020-08-01T00:00:00+0000")
    assert get(http, iso, fields="start_date,end_date").json()["end_date"] == "2020-08-04T00:00:00+0000"
    unix = create_ok(http, start_date=str(DOC_NOW + DAY), end_date=str(DOC_NOW + 2 * DAY))
    assert get(http, unix, fields="start_date,end_date").json() == {
        "id": unix, "start_date": "2020-07-15T22:58:24+0000", "end_date": "2020-07-16T22:58:24+0000"}
    # Update takes Unix integers (the doc), ISO too; the other date stays.
    assert http.post(f"/{unix}", headers=bearer(APP_TOKEN), data={"end_date": str(DOC_NOW + 5 * DAY)}).json() == \
        {"success": True}
    assert get(http, unix, fields="start_date,end_date").json()["end_date"] == "2020-07-19T22:58:24+0000"
    http.post(f"/{unix}", headers=bearer(APP_TOKEN), data={"start_date": "2020-07-15"}).raise_for_status()
    assert get(http, unix, fields="start_date").json()["start_date"] == "2020-07-15T00:00:00+0000"


def test_list_active_past_future(http: httpx.Client, admin: httpx.Client) -> None:
    set_clock(admin, DOC_NOW)
    past = create_ok(http, start_date=str(DOC_NOW - 10 * DAY), end_date=str(DOC_NOW - DAY))
    active = create_ok(http, start_date=str(DOC_NOW - DAY))
    future = create_ok(http, start_date=str(DOC_NOW + DAY))
    on_other = create_ok(http, leaderboard_api_name="MY_NEW_LEADERBOARD")
    assert set(listed(http)) == {active, on_other}  # active only, by default
    assert listed(http, leaderboard_api_name="best_leaderboard") == [active]
    assert listed(http, include_active_challenges="false", include_past_challenges="true") == [past]
    assert listed(http, include_active_challenges="false", include_future_challenges="true") == [future]
    assert set(listed(http, leaderboard_api_name="best_leaderboard", include_past_challenges="true",
                      include_future_challenges="true")) == {past, active, future}
    assert listed(http, include_active_challenges="false") == []
    # The window is [start, end): at end_date a challenge is past.
    set_clock(admin, DOC_NOW + 3 * DAY - DAY)
    assert active not in listed(http)
    assert listed(http, token=ADA_TOKEN, include_active_challenges="false", include_past_challenges="true",
                  leaderboard_api_name="best_leaderboard") == [past, active]


# --- submits and updated_challenge_ids ---------------------------------------------------------------------
def test_updated_challenge_ids_lists_exactly_the_running_challenges_whose_entry_changed(
        http: httpx.Client, admin: httpx.Client) -> None:
    set_clock(admin, DOC_NOW)
    assert submitted(http, 100) == {"success": True, "did_update": True, "updated_challenge_ids": []}
    running = create_ok(http)
    create_ok(http, start_date=str(DOC_NOW + DAY))  # future
    other_board = create_ok(http, leaderboard_api_name="MY_NEW_LEADERBOARD")  # running, on another board
    create_ok(http, start_date=str(DOC_NOW - 9 * DAY), end_date=str(DOC_NOW - DAY))  # past
    # Worse than the board's best: the board keeps 100, but it is the challenge's first entry.
    assert submitted(http, 50) == {"success": True, "did_update": False, "updated_challenge_ids": [running]}
    assert submitted(http, 40) == {"success": True, "did_update": False, "updated_challenge_ids": []}  # kept
    assert submitted(http, 50) == {"success": True, "did_update": False, "updated_challenge_ids": []}  # equal
    assert submitted(http, 70) == {"success": True, "did_update": False, "updated_challenge_ids": [running]}
    assert submitted(http, 30, force_update="true") == {"success": True, "did_update": True,
                                                        "updated_challenge_ids": [running]}
    assert ranking(http, running) == [(ADA_ID, 1, 30)]
    assert submitted(http, 5, api_name="MY_NEW_LEADERBOARD")["updated_challenge_ids"] == [other_board]
    # A user token's own submit, too.
    response = submit(http, GRACE_TOKEN, "best_leaderboard", 80)
    assert response.json() == {"success": True, "did_update": True, "updated_challenge_ids": [running]}
    # After every end (the future one ran from day 1 to day 4): no challenge runs.
    set_clock(admin, DOC_NOW + 4 * DAY)
    assert submitted(http, 500)["updated_challenge_ids"] == []
    assert ranking(http, running) == [(GRACE_ID, 1, 80), (ADA_ID, 2, 30)]


def test_a_refused_submit_writes_no_challenge_entry(http: httpx.Client, admin: httpx.Client) -> None:
    challenge = create_ok(http, leaderboard_api_name="server_board")
    before = snapshot(admin)
    assert_graph_error(submit(http, ADA_TOKEN, "server_board", 5), 403, 200)  # SERVER_AUTHORITATIVE
    assert_graph_error(submit(http, APP_TOKEN, "server_board", "x", ADA_ID), 400, 100)
    assert snapshot(admin) == before
    assert ranking(http, challenge) == []


# --- entries -----------------------------------------------------------------------------------------------
def test_entries_ranks_filters_and_start_at(http: httpx.Client, admin: httpx.Client) -> None:
    challenge = create_ok(http, leaderboard_api_name="server_board")  # LOWER_IS_BETTER
    for user, score in ((ADA_ID, 30), (GRACE_ID, 10), (LINUS_ID, 20)):
        submitted(http, score, user, api_name="server_board", extra_data_base64="T2N1bHVz")
    response = entries(http, challenge, summary="true")
    body = response.json()
    assert [(e["user"]["id"], e["rank"], e["score"]) for e in body["data"]] == \
        [(GRACE_ID, 1, 10), (LINUS_ID, 2, 20), (ADA_ID, 3, 30)]
    first = body["data"][0]
    assert first["challenge"] == {"id": challenge} and first["extra_data"] == "T2N1bHVz"
    assert isinstance(first["timestamp"], int) and first["id"].isdigit()
    assert body["summary"] == {"total_count": 3}
    assert ranking(http, challenge, filter="USER_IDS", user_ids=f"[{ADA_ID},{LINUS_ID}]") == \
        [(LINUS_ID, 1, 20), (ADA_ID, 2, 30)]
    assert ranking(http, challenge, start_at="OFFSET", offset="1", limit="1") == [(LINUS_ID, 2, 20)]
    assert ranking(http, challenge, ADA_TOKEN, start_at="VIEWER", limit="1") == [(ADA_ID, 3, 30)]
    assert ranking(http, challenge, ADA_TOKEN, start_at="CENTERED_ON_VIEWER", limit="3") == \
        [(LINUS_ID, 2, 20), (ADA_ID, 3, 30)]
    # Paging: cursors walk the whole ranking.
    page = entries(http, challenge, limit="2").json()
    assert [e["rank"] for e in page["data"]] == [1, 2]
    after = http.get(page["paging"]["next"]).json()
    assert [(e["user"]["id"], e["rank"]) for e in after["data"]] == [(ADA_ID, 3)]
    # A viewer with no entry: VIEWER is the SDK's "not ranked" error, VIEWER_OR_TOP the top.
    another = create_ok(http)
    submitted(http, 1, GRACE_ID)
    assert_graph_error(entries(http, another, ADA_TOKEN, start_at="VIEWER"), 404, 12074)
    assert ranking(http, another, ADA_TOKEN, start_at="VIEWER_OR_TOP") == [(GRACE_ID, 1, 1)]
    assert_graph_error(entries(http, another, APP_TOKEN, start_at="VIEWER"), 403, 200)
    assert_graph_error(entries(http, another, APP_TOKEN, filter="FRIENDS"), 403, 200)


def test_private_challenges_are_found_by_participants_only(http: httpx.Client) -> None:
    private = create_ok(http, visibility="PRIVATE")
    invite_only = create_ok(http, visibility="INVITE_ONLY")
    assert_graph_error(get(http, private, ADA_TOKEN), 404, 100)
    assert get(http, invite_only, ADA_TOKEN).status_code == 200  # anyone sees INVITE_ONLY
    assert listed(http, ADA_TOKEN) == [invite_only]
    assert set(listed(http)) == {private, invite_only}  # the app sees everything
    submit(http, ADA_TOKEN, "best_leaderboard", 3).raise_for_status()
    assert get(http, private, ADA_TOKEN).status_code == 200  # a participant now
    assert_graph_error(entries(http, private, GRACE_TOKEN), 404, 100)


# --- bad input: a Graph error, nothing changed ------------------------------------------------------------
CREATE_BAD = [
    {"leaderboard_api_name": ""}, {"leaderboard_api_name": "no_such_board"}, {"creation_type": "USER_CREATED"},
    {"creation_type": ""}, {"visibility": "SECRET"}, {"visibility": ""}, {"start_date": "yesterday"},
    {"start_date": "-5"}, {"end_date": "99999999999999"}, {"end_date": "1.5"},
    {"start_date": str(DOC_NOW), "end_date": str(DOC_NOW)}, {"start_date": str(DOC_NOW), "end_date": "1"},
    {"title": "x" * 1025}, {"fields": "id,bogus"}, {"fields": "id{"},
]


@pytest.mark.parametrize("params", CREATE_BAD)
def test_bad_create_input_is_a_graph_error_and_changes_nothing(http: httpx.Client, admin: httpx.Client,
                                                               params: dict[str, str]) -> None:
    before = snapshot(admin)
    response = create(http, **params)
    assert response.status_code in (400, 404), response.text
    assert_graph_error(response, response.status_code, 100)
    assert snapshot(admin) == before


@pytest.mark.parametrize("params", [
    {"visibility": "NOPE"}, {"start_date": "soon"}, {"end_date": "-1"}, {"end_date": "1"},
    {"start_date": str(DOC_NOW + 30 * DAY)}, {"title": "y" * 2000}, {"fields": "zzz"},
])
def test_bad_update_input_is_a_graph_error_and_changes_nothing(http: httpx.Client, admin: httpx.Client,
                                                               params: dict[str, str]) -> None:
    set_clock(admin, DOC_NOW)
    challenge = create_ok(http)
    before = snapshot(admin)
    assert_graph_error(http.post(f"/{challenge}", headers=bearer(APP_TOKEN), data=params), 400, 100)
    assert snapshot(admin) == before


@pytest.mark.parametrize("params", [
    {"filter": "ENEMIES"}, {"filter": "USER_IDS"}, {"filter": "USER_IDS", "user_ids": "[1,x]"},
    {"start_at": "MIDDLE"}, {"start_at": "OFFSET"}, {"start_at": "OFFSET", "offset": "-1"}, {"limit": "-3"},
    {"after": "garbage!"}, {"before": "%%%"}, {"fields": "id,nonsense"}, {"summary": "maybe"},
])
def test_bad_entries_input_is_a_graph_error(http: httpx.Client, params: dict[str, str]) -> None:
    challenge = create_ok(http)
    assert_graph_error(entries(http, challenge, **params), 400, 100)


@pytest.mark.parametrize("params", [{"include_active_challenges": "perhaps"}, {"include_past_challenges": "2"},
                                    {"leaderboard_api_name": "missing"}, {"fields": "id,x"}])
def test_bad_list_input_is_a_graph_error(http: httpx.Client, params: dict[str, str]) -> None:
    response = http.get(f"/{APP_ID}/challenges", headers=bearer(APP_TOKEN), params=params)
    assert_graph_error(response, response.status_code, 100)
    assert response.status_code in (400, 404)


def test_post_to_other_objects_stays_a_405(http: httpx.Client) -> None:
    board = board_id(http, "best_leaderboard")
    before = http.get(f"/{board}", headers=bearer(APP_TOKEN), params={"fields": "sort_order"}).json()
    assert_graph_error(http.post(f"/{board}", headers=bearer(APP_TOKEN), data={"visibility": "PUBLIC"}), 405, 100)
    assert_graph_error(http.post("/99999999999", headers=bearer(APP_TOKEN)), 405, 100)
    assert http.get(f"/{board}", headers=bearer(APP_TOKEN), params={"fields": "sort_order"}).json() == before


# --- cross-app isolation -----------------------------------------------------------------------------------
def test_another_app_can_neither_read_nor_write_a_challenge(http: httpx.Client, admin: httpx.Client) -> None:
    challenge = create_ok(http, visibility="PUBLIC")
    submitted(http, 10)
    before = snapshot(admin)
    rival = bearer(RIVAL_APP_TOKEN)
    assert_graph_error(http.get(f"/{challenge}", headers=rival), 404, 100)
    assert_graph_error(http.get(f"/{challenge}/entries", headers=rival), 404, 100)
    assert_graph_error(http.post(f"/{challenge}", headers=rival, data={"visibility": "PRIVATE"}), 404, 100)
    assert_graph_error(http.delete(f"/{challenge}", headers=rival), 404, 100)
    assert_graph_error(http.get(f"/{APP_ID}/challenges", headers=rival), 403, 200)
    assert_graph_error(create(http, RIVAL_APP_TOKEN), 403, 200)  # the path's app is not the token's
    # The rival's own board of the same name: its submits touch no challenge of ours.
    response = submit(http, RIVAL_APP_TOKEN, "best_leaderboard", 5, RIVAL_ID)
    assert response.json()["updated_challenge_ids"] == []
    assert snapshot(admin)["challenge_entries"] == before["challenge_entries"]
    assert get(http, challenge, fields="visibility").json()["visibility"] == "PUBLIC"
    # And the rival's own challenges are its own.
    rival_challenge = create(http, RIVAL_APP_TOKEN, RIVAL_APP_ID).json()["id"]
    assert listed(http) == [challenge]
    assert_graph_error(get(http, rival_challenge), 404, 100)


# --- the Python client, sync and async ---------------------------------------------------------------------
def test_client_sync_covers_every_challenge_call(qg: Any, admin: httpx.Client) -> None:
    from questgraph.client import Challenge, Client

    set_clock(admin, DOC_NOW)
    with Client(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url) as c:
        made = c.challenges.create("best_leaderboard", "PRIVATE", title="sample_challenge")
        assert isinstance(made, Challenge)
        assert (made.title, made.start_date, made.end_date, made.visibility) == (
            "sample_challenge", "2020-07-14T22:58:24+0000", "2020-07-17T22:58:24+0000", "PRIVATE")
        assert made.leaderboard_id == board_id_of(c)
        result = c.leaderboards.submit_entry("best_leaderboard", 9, user_id=ADA_ID)
        assert result.updated_challenge_ids == [made.id]
        c.challenges.update(made.id, visibility="PUBLIC", end_date=DOC_NOW + DAY)
        got = c.challenges.get(made.id)
        assert (got.visibility, got.end_date) == ("PUBLIC", "2020-07-15T22:58:24+0000")
        assert [x.id for x in c.challenges.list(leaderboard_api_name="best_leaderboard")] == [made.id]
        rows = list(c.challenges.entries(made.id, limit=1))
        assert [(r.user.id if r.user else None, r.rank, r.score) for r in rows] == [(ADA_ID, 1, 9)]
        c.challenges.delete(made.id)
        assert c.challenges.list() == []


def board_id_of(c: Any) -> str:
    return str(c.leaderboards.get("best_leaderboard").id)


def test_client_async_covers_the_same_calls(qg: Any, admin: httpx.Client) -> None:
    import asyncio

    from questgraph.client import AsyncClient

    set_clock(admin, DOC_NOW)

    async def run() -> None:
        async with AsyncClient(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url) as c:
            made = await c.challenges.create("best_leaderboard", "PUBLIC", start_date=DOC_NOW - DAY)
            assert made.start_date == "2020-07-13T22:58:24+0000"
            await c.leaderboards.submit_entry("best_leaderboard", 4, user_id=GRACE_ID)
            await c.challenges.update(made.id, title="renamed")
            assert (await c.challenges.get(made.id)).title == "renamed"
            assert [x.id for x in await c.challenges.list(active=False, past=True)] == []
            rows = [r async for r in c.challenges.entries(made.id)]
            assert [(r.user.id if r.user else None, r.score) for r in rows] == [(GRACE_ID, 4)]
            page = await c.challenges.entries_page(made.id, user_ids=[ADA_ID])
            assert page.data == []
            await c.challenges.delete(made.id)

    asyncio.run(run())


# --- the admin API -----------------------------------------------------------------------------------------
def test_admin_lists_creates_and_deletes_any_challenge(http: httpx.Client, admin: httpx.Client) -> None:
    set_clock(admin, DOC_NOW)
    response = admin.post(f"/_admin/apps/{APP_ID}/challenges",
                          data={"leaderboard_api_name": "best_leaderboard", "visibility": "PRIVATE",
                                "start_date": str(DOC_NOW + DAY), "title": "later"})
    assert response.status_code == 200, response.text
    made = response.json()
    assert made == {"id": made["id"], "app_id": APP_ID, "leaderboard_id": board_id(http, "best_leaderboard"),
                    "leaderboard_api_name": "best_leaderboard", "title": "later", "description": None,
                    "visibility": "PRIVATE", "creation_type": "DEVELOPER_CREATED",
                    "start_date": "2020-07-15T22:58:24+0000", "end_date": "2020-07-18T22:58:24+0000",
                    "state": "future", "entry_count": 0}
    running = create_ok(http)
    submitted(http, 3)
    rows = admin.get(f"/_admin/apps/{APP_ID}/challenges").json()["data"]
    assert [(r["id"], r["state"], r["entry_count"]) for r in rows] == \
        [(running, "active", 1), (made["id"], "future", 0)]
    assert admin.get(f"/_admin/apps/{RIVAL_APP_ID}/challenges").json() == {"data": []}
    before = snapshot(admin)
    bad = admin.post(f"/_admin/apps/{APP_ID}/challenges", data={"leaderboard_api_name": "nope"})
    assert bad.status_code == 404 and "error" in bad.json()
    bad = admin.post(f"/_admin/apps/{APP_ID}/challenges", data={"leaderboard_api_name": "best_leaderboard",
                                                                 "end_date": "1"})
    assert bad.status_code == 400 and "error" in bad.json()
    assert admin.get("/_admin/apps/99999999999/challenges").status_code == 404
    assert snapshot(admin) == before
    assert admin.delete(f"/_admin/challenges/{made['id']}").json() == {"success": True}
    assert admin.delete(f"/_admin/challenges/{made['id']}").status_code == 404
    assert [r["id"] for r in admin.get(f"/_admin/apps/{APP_ID}/challenges").json()["data"]] == [running]


# --- the world file ----------------------------------------------------------------------------------------
WORLD = """
[[orgs]]
name = "Studio"
  [[orgs.apps]]
  id = "3000000000000001"
  name = "Game"
  secret = "0123456789abcdef0123456789abcdef"
    [[orgs.apps.leaderboards]]
    api_name = "laps"
    sort_order = "LOWER_IS_BETTER"
    challenges = [
      { title = "Weekend", visibility = "invite_only", start_date = "2020-07-14T22:58:24+0000" },
      { title = "Later", start_date = 1594767504, end_date = 1594853904, description = "one day" },
    ]
"""


def test_a_world_file_declares_challenges() -> None:
    import textwrap
    import tomllib

    from questgraph.server.app import Server
    from questgraph.server.settings import Settings
    from questgraph.server.world import World

    server = Server(Settings(database=":memory:"), World(tomllib.loads(textwrap.dedent(WORLD)), "w.toml"))
    try:
        made = server.challenges.of_app(3000000000000001)
        assert {(c.title, c.visibility, c.start_date, c.end_date, c.description) for c in made} == {
            ("Weekend", "INVITE_ONLY", DOC_NOW, DOC_NOW + 3 * DAY, None),
            ("Later", "PUBLIC", DOC_NOW, DOC_NOW + DAY, "one day"),
        }  # both start at DOC_NOW: listed in id order, which is random
    finally:
        server.db.close()


@pytest.mark.parametrize(("bad", "expected"), [
    ('{ visibility = "SECRET" }', "visibility"), ('{ start_date = "soon" }', "start_date"),
    ("{ start_date = 10, end_date = 5 }", "end_date"), ('{ colour = "red" }', "colour"),
    ("{ title = 5 }", "title"),
])
def test_a_bad_world_challenge_names_the_item(bad: str, expected: str) -> None:
    import tomllib

    from questgraph.server.world import World, WorldError

    text = WORLD.split("    challenges = [")[0] + f"    challenges = [{bad}]\n"
    with pytest.raises(WorldError) as caught:
        World(tomllib.loads(text), "bad.toml")
    assert "challenges[0]" in str(caught.value) and expected in str(caught.value)


# --- the command line --------------------------------------------------------------------------------------
def test_cli_creates_lists_updates_ranks_and_deletes(qg: Any, admin: httpx.Client,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from questgraph.cli import main

    for name in ("QUESTGRAPH_BASE_URL", "QUESTGRAPH_ADMIN_KEY", "QUESTGRAPH_ACCESS_TOKEN", "QUESTGRAPH_APP_ID"):
        monkeypatch.delenv(name, raising=False)
    set_clock(admin, DOC_NOW)
    graph = ["--base-url", qg.url, "--token", APP_TOKEN]

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = run("challenges", "create", "best_leaderboard", "--title", "cli", "--visibility", "PRIVATE",
                       *graph, "--json")
    assert code == 0, out
    made = json.loads(out)
    assert (made["title"], made["visibility"], made["start_date"]) == ("cli", "PRIVATE", "2020-07-14T22:58:24+0000")
    with httpx.Client(base_url=qg.url) as http:
        submitted(http, 77)
    code, out, _ = run("challenges", "list", *graph)
    assert code == 0 and out.splitlines()[0].split()[:3] == ["ID", "TITLE", "VISIBILITY"] and made["id"] in out
    code, out, _ = run("challenges", "update", made["id"], "--end", "2020-07-20", *graph, "--json")
    assert code == 0 and json.loads(out)["end_date"] == "2020-07-20T00:00:00+0000"
    code, out, _ = run("challenges", "entries", made["id"], *graph)
    assert code == 0 and "77" in out and ADA_ID in out
    code, out, _ = run("challenges", "delete", made["id"], *graph)
    assert code == 0 and "deleted" in out
    code, _, err = run("challenges", "delete", made["id"], *graph)
    assert code == 1 and "not found" in err


# --- the dashboard -----------------------------------------------------------------------------------------
def test_the_dashboard_lists_the_apps_challenges(qg: Any, admin: httpx.Client) -> None:
    from tests.dash_support import sign_in_emulator

    set_clock(admin, DOC_NOW)
    with qg.client(follow_redirects=False) as browser:
        sign_in_emulator(browser)
        assert "<h2>Challenges</h2>" not in browser.get(f"/dashboard/apps/{APP_ID}/leaderboards").text
        made = create_ok(browser, title="<b>Weekend</b>", visibility="INVITE_ONLY")
        page = browser.get(f"/dashboard/apps/{APP_ID}/leaderboards").text
    assert "<h2>Challenges</h2>" in page
    row = page[page.index("&lt;b&gt;Weekend&lt;/b&gt;"):]  # the title is escaped
    row = row[:row.index("</tr>")]
    for cell in ("best_leaderboard", "INVITE_ONLY", "active", "2020-07-14T22:58:24+0000",
                 "2020-07-17T22:58:24+0000", made):
        assert f"<td>{cell}</td>" in row, row
    with qg.client(follow_redirects=False) as browser:
        sign_in_emulator(browser)
        rival_page = browser.get(f"/dashboard/apps/{RIVAL_APP_ID}/leaderboards")
    assert made not in rival_page.text


# --- the pytest plugin: a world dict declares challenges ------------------------------------------------------
def test_the_pytest_plugin_world_declares_challenges(questgraph_factory: Any) -> None:
    app = "6666666666666667"
    server = questgraph_factory({
        "orgs": [{"name": "Cup Studio", "apps": [{
            "id": app, "name": "Cup", "secret": "abcdefabcdefabcdef02",
            "leaderboards": [{"api_name": "cup", "sort_order": "HIGHER_IS_BETTER",
                              "challenges": [{"title": "Open", "visibility": "PUBLIC"}]}],
        }]}],
        "users": [{"alias": "zoe", "apps": [{"app": app}]}],
    })
    client = server.client()
    [challenge] = client.challenges.list()
    assert challenge.title == "Open"
    result = client.leaderboards.submit_entry("cup", 5, user_id=server.user_id("zoe"))
    assert result.updated_challenge_ids == [challenge.id]
    assert [e.score for e in client.challenges.entries(challenge.id)] == [5]


def test_deleting_the_board_makes_its_challenges_unknown(http: httpx.Client) -> None:
    challenge = create_ok(http, leaderboard_api_name="MY_NEW_LEADERBOARD")
    board = board_id(http, "MY_NEW_LEADERBOARD")
    assert http.delete(f"/{board}", headers=bearer(APP_TOKEN)).json() == {"success": True}
    assert_graph_error(get(http, challenge), 404, 100)
    assert_graph_error(entries(http, challenge), 404, 100)
    assert listed(http) == []
    # A new board of the same name is another board: the old challenge does not run on it.
    http.post(f"/{APP_ID}/leaderboards", headers=bearer(APP_TOKEN),
              data={"api_name": "MY_NEW_LEADERBOARD", "sort_order": "HIGHER_IS_BETTER"}).raise_for_status()
    assert submitted(http, 1, api_name="MY_NEW_LEADERBOARD")["updated_challenge_ids"] == []


def test_deleting_a_federated_user_removes_their_challenge_entries(http: httpx.Client) -> None:
    """A federated user's scores in a running challenge are theirs too (A.2: all associated user data): the
    delete succeeds and the challenge ranks only the others."""
    challenge_id = create_ok(http)
    fed = http.post(f"/{APP_ID}/federated_user_create", headers=bearer(APP_TOKEN),
                    data={"persistent_id": "challenger", "display_name": "Percival"}).json()
    assert submitted(http, 50, user_id=fed["id"])["updated_challenge_ids"] == [challenge_id]
    submitted(http, 10)
    assert [user for user, _, _ in ranking(http, challenge_id)] == [fed["id"], ADA_ID]
    deleted = http.delete(f"/{APP_ID}/federated_user", headers=bearer(APP_TOKEN),
                          params={"persistent_id": "challenger"})
    assert deleted.status_code == 200 and deleted.json() == {"success": True}, deleted.text
    assert ranking(http, challenge_id) == [(ADA_ID, 1, 10)]
