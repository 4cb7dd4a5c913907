"""The Graph transport over real HTTP: routing at the root (D1), parameter sources (D2), the method
override (D3), where the access token may come from (D4), and object dispatch on ``/{id}`` (D9)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

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
    assert_graph_error,
)

BOARD = "best_leaderboard"
APP_AUTH = {"Authorization": f"Bearer {APP_TOKEN}"}
SUBMITTED = {"success": True, "did_update": True, "updated_challenge_ids": []}
NOT_UPDATED = {"success": True, "did_update": False, "updated_challenge_ids": []}


def board_scores(http: httpx.Client, api_name: str = BOARD) -> dict[str, int]:
    """The board as {user id: score}, read with the app token."""
    response = http.get("/leaderboard_entries", headers=APP_AUTH,
                        params={"api_name": api_name, "fields": "user{id},score"})
    assert response.status_code == 200, response.text
    return {row["user"]["id"]: row["score"] for row in response.json()["data"]}


def submit(http: httpx.Client, user_id: str, score: int, **extra: str) -> httpx.Response:
    return http.post("/leaderboard_submit_entry", headers=APP_AUTH,
                     data={"api_name": BOARD, "score": str(score), "user_id": user_id, **extra})


def multipart(fields: list[tuple[str, str]]) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body of plain fields only, as ``curl -F k=v`` sends it."""
    boundary = "qgTestBoundary7MA4YWxkTrZu0gW"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'
        for key, value in fields
    ]
    body = ("".join(parts) + f"--{boundary}--\r\n").encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def send(http: httpx.Client, method: str, path: str, source: str, params: dict[str, Any],
         headers: dict[str, str] | None = None) -> httpx.Response:
    """Send every parameter in one source: ``query``, ``form``, ``multipart`` or ``json``."""
    headers = dict(headers or {})
    if source == "query":
        return http.request(method, path, params={k: str(v) for k, v in params.items()}, headers=headers)
    if source == "form":
        return http.request(method, path, data={k: str(v) for k, v in params.items()}, headers=headers)
    if source == "multipart":
        body, content_type = multipart([(k, str(v)) for k, v in params.items()])
        return http.request(method, path, content=body, headers={**headers, **content_type})
    assert source == "json"
    return http.request(method, path, content=json.dumps(params).encode(),
                        headers={**headers, "Content-Type": "application/json"})


def entry_id_of(http: httpx.Client, user_id: str, api_name: str = BOARD) -> str:
    response = http.get("/leaderboard_entries", headers=APP_AUTH,
                        params={"api_name": api_name, "fields": "user{id}"})
    ids = [row["id"] for row in response.json()["data"] if row["user"]["id"] == user_id]
    assert len(ids) == 1, response.text
    return str(ids[0])


def board_id_of(http: httpx.Client, api_name: str = BOARD) -> str:
    response = http.get(f"/{APP_ID}/leaderboards", headers=APP_AUTH, params={"api_name": api_name})
    assert response.status_code == 200, response.text
    (row,) = response.json()["data"]
    return str(row["id"])


# --- D1: routes at the root, with and without a trailing slash --------------------------------------------
@pytest.mark.parametrize("path", ["/leaderboard_submit_entry", "/leaderboard_submit_entry/"])
def test_submit_with_and_without_trailing_slash(http: httpx.Client, path: str) -> None:
    """D1: a write route answers at the root with and without a trailing slash."""
    response = http.post(path, headers=APP_AUTH, data={"api_name": BOARD, "score": "7", "user_id": ADA_ID})
    assert response.status_code == 200, response.text
    assert response.json() == SUBMITTED
    assert board_scores(http) == {ADA_ID: 7}


@pytest.mark.parametrize("slash", ["", "/"])
def test_every_read_route_with_and_without_trailing_slash(http: httpx.Client, slash: str) -> None:
    """D1: list, edge and object routes all answer at the root with an optional trailing slash."""
    assert submit(http, ADA_ID, 3).status_code == 200
    entries = http.get(f"/leaderboard_entries{slash}", headers=APP_AUTH, params={"api_name": BOARD})
    assert entries.status_code == 200, entries.text
    (entry,) = entries.json()["data"]
    boards = http.get(f"/{APP_ID}/leaderboards{slash}", headers=APP_AUTH, params={"fields": "api_name"})
    assert boards.status_code == 200, boards.text
    assert BOARD in {b["api_name"] for b in boards.json()["data"]}
    one = http.get(f"/{entry['id']}{slash}", headers=APP_AUTH, params={"fields": "score"})
    assert one.status_code == 200, one.text
    assert one.json() == {"id": entry["id"], "score": 3}


def test_trailing_slash_on_upsert_and_remove_all(http: httpx.Client) -> None:
    """D1: the app-edge write and the remove-all route take a trailing slash too."""
    made = http.post(f"/{APP_ID}/leaderboards/", headers=APP_AUTH,
                     data={"api_name": "slash_board", "sort_order": "LOWER_IS_BETTER"})
    assert made.status_code == 200, made.text
    again = http.post(f"/{APP_ID}/leaderboards", headers=APP_AUTH, data={"api_name": "slash_board"})
    assert again.json() == made.json()
    assert submit(http, ADA_ID, 5).status_code == 200
    removed = http.post("/leaderboard_remove_all_entries/", headers=APP_AUTH, data={"api_name": BOARD})
    assert removed.status_code == 200, removed.text
    assert board_scores(http) == {}


@pytest.mark.parametrize("path", ["/graph/leaderboard_entries", "/v1/leaderboard_entries", "/api/leaderboard_entries"])
def test_graph_is_served_at_the_root_only(http: httpx.Client, path: str) -> None:
    """D1: the API lives at the root, as on graph.oculus.com; a prefixed path is an unknown route."""
    response = http.get(path, headers=APP_AUTH, params={"api_name": BOARD})
    assert_graph_error(response, 404, 100, "GraphMethodException", subcode=33)


# --- D2: parameter sources --------------------------------------------------------------------------------
@pytest.mark.parametrize("source", ["query", "form", "multipart", "json"])
def test_write_parameters_from_every_source(http: httpx.Client, source: str) -> None:
    """D2: a write reads its parameters from the query, a form, a multipart form or a JSON object."""
    response = send(http, "POST", "/leaderboard_submit_entry", source,
                    {"api_name": BOARD, "score": "1234", "user_id": GRACE_ID}, headers=APP_AUTH)
    assert response.status_code == 200, response.text
    assert response.json() == SUBMITTED
    assert board_scores(http) == {GRACE_ID: 1234}


def test_json_body_with_native_types(http: httpx.Client) -> None:
    """D2: a JSON body may carry numbers and booleans, not only strings."""
    assert submit(http, ADA_ID, 500).status_code == 200
    body = {"api_name": BOARD, "score": 20, "user_id": int(ADA_ID), "force_update": True}
    response = http.post("/leaderboard_submit_entry", headers={**APP_AUTH, "Content-Type": "application/json"},
                         content=json.dumps(body).encode())
    assert response.status_code == 200, response.text
    assert response.json() == SUBMITTED
    assert board_scores(http) == {ADA_ID: 20}


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
def test_empty_body_with_json_content_type(http: httpx.Client, content_type: str) -> None:
    """D2: an empty body declared as JSON is fine; the parameters then come from the query."""
    response = http.post("/leaderboard_submit_entry", headers={**APP_AUTH, "Content-Type": content_type},
                         params={"api_name": BOARD, "score": "9", "user_id": ADA_ID}, content=b"")
    assert response.status_code == 200, response.text
    assert board_scores(http) == {ADA_ID: 9}
    read = http.get("/leaderboard_entries", headers={**APP_AUTH, "Content-Type": content_type},
                    params={"api_name": BOARD, "fields": "score"})
    assert read.status_code == 200, read.text
    assert [row["score"] for row in read.json()["data"]] == [9]


@pytest.mark.parametrize("source", ["form", "multipart", "json"])
def test_body_value_wins_over_query_value(http: httpx.Client, source: str) -> None:
    """D2: when a key is in both the query and the body, the body's value is used."""
    url = f"/leaderboard_submit_entry?score=1&user_id={LINUS_ID}"
    response = send(http, "POST", url, source, {"api_name": BOARD, "score": "77", "user_id": ADA_ID},
                    headers=APP_AUTH)
    assert response.status_code == 200, response.text
    assert board_scores(http) == {ADA_ID: 77}


def test_last_repeat_wins_in_query(http: httpx.Client) -> None:
    """D2: a key repeated in the query string takes its last value."""
    url = f"/leaderboard_submit_entry?api_name=MY_NEW_LEADERBOARD&api_name={BOARD}&score=5&score=60&user_id={ADA_ID}"
    response = http.post(url, headers=APP_AUTH)
    assert response.status_code == 200, response.text
    assert board_scores(http) == {ADA_ID: 60}
    assert board_scores(http, "MY_NEW_LEADERBOARD") == {}


@pytest.mark.parametrize("source", ["form", "multipart"])
def test_last_repeat_wins_in_body(http: httpx.Client, source: str) -> None:
    """D2: a key repeated in a form or multipart body takes its last value."""
    pairs = [("api_name", BOARD), ("score", "5"), ("user_id", GRACE_ID), ("score", "61"), ("user_id", ADA_ID)]
    if source == "form":
        content = urlencode(pairs).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
    else:
        content, headers = multipart(pairs)
    response = http.post("/leaderboard_submit_entry", headers={**APP_AUTH, **headers}, content=content)
    assert response.status_code == 200, response.text
    assert board_scores(http) == {ADA_ID: 61}


def test_unknown_parameters_are_ignored(http: httpx.Client) -> None:
    """D2: parameters the endpoint does not know change nothing and are no error."""
    response = http.post("/leaderboard_submit_entry", headers=APP_AUTH, params={"pretty": "1", "debug": "all"},
                         data={"api_name": BOARD, "score": "8", "user_id": ADA_ID, "no_such_param": "x",
                               "suppress_http_code": "1"})
    assert response.status_code == 200, response.text
    assert response.json() == SUBMITTED
    read = http.get("/leaderboard_entries", headers=APP_AUTH,
                    params={"api_name": BOARD, "fields": "score", "whatever": "{[", "locale": "en_US"})
    assert read.status_code == 200, read.text
    assert [row["score"] for row in read.json()["data"]] == [8]


@pytest.mark.parametrize("value", ["true", "TRUE", "True", "tRuE", "1"])
def test_boolean_true_spellings(http: httpx.Client, value: str) -> None:
    """D2: force_update=true/1 in any case forces a worse score in."""
    assert submit(http, ADA_ID, 100).status_code == 200
    response = submit(http, ADA_ID, 10, force_update=value)
    assert response.status_code == 200, response.text
    assert response.json() == SUBMITTED
    assert board_scores(http) == {ADA_ID: 10}


@pytest.mark.parametrize("value", ["false", "FALSE", "False", "fAlSe", "0"])
def test_boolean_false_spellings(http: httpx.Client, value: str) -> None:
    """D2: force_update=false/0 in any case keeps the better score."""
    assert submit(http, ADA_ID, 100).status_code == 200
    response = submit(http, ADA_ID, 10, force_update=value)
    assert response.status_code == 200, response.text
    assert response.json() == NOT_UPDATED
    assert board_scores(http) == {ADA_ID: 100}


@pytest.mark.parametrize(("value", "present"), [("TRUE", True), ("1", True), ("False", False), ("0", False)])
def test_boolean_on_a_read(http: httpx.Client, value: str, present: bool) -> None:
    """D2: a read's boolean (summary) accepts the same spellings."""
    assert submit(http, ADA_ID, 1).status_code == 200
    response = http.get("/leaderboard_entries", headers=APP_AUTH, params={"api_name": BOARD, "summary": value})
    assert response.status_code == 200, response.text
    assert ("summary" in response.json()) is present
    if present:
        assert response.json()["summary"] == {"total_count": 1}


@pytest.mark.parametrize("value", ["yes", "2", "truee", "on"])
def test_boolean_other_values_are_a_400_naming_the_parameter(http: httpx.Client, value: str) -> None:
    """D2/D7: a value that is not true/false/1/0 is a 400 that names the parameter, and writes nothing."""
    assert submit(http, ADA_ID, 100).status_code == 200
    error = assert_graph_error(submit(http, ADA_ID, 10, force_update=value), 400, 100, "OCApiException")
    assert "force_update" in error["message"]
    assert board_scores(http) == {ADA_ID: 100}


# --- D3: method override ----------------------------------------------------------------------------------
def test_get_with_method_post_writes(http: httpx.Client) -> None:
    """D3: a plain GET URL carrying method=POST performs the write."""
    assert_graph_error(http.get("/leaderboard_submit_entry", headers=APP_AUTH,
                                params={"api_name": BOARD, "score": "4", "user_id": ADA_ID}), 405, 100)
    assert board_scores(http) == {}
    response = http.get("/leaderboard_submit_entry", headers=APP_AUTH,
                        params={"api_name": BOARD, "score": "4", "user_id": ADA_ID, "method": "post"})
    assert response.status_code == 200, response.text
    assert response.json() == SUBMITTED
    assert board_scores(http) == {ADA_ID: 4}


@pytest.mark.parametrize("source", ["query", "form", "json"])
def test_post_with_method_get_reads(http: httpx.Client, source: str) -> None:
    """D3: a POST carrying method=GET (in any source) is a read."""
    assert submit(http, GRACE_ID, 12).status_code == 200
    params = {"api_name": BOARD, "fields": "score"}
    assert_graph_error(send(http, "POST", "/leaderboard_entries", source, params, headers=APP_AUTH), 405, 100)
    response = send(http, "POST", "/leaderboard_entries", source, {**params, "method": "GET"}, headers=APP_AUTH)
    assert response.status_code == 200, response.text
    assert [row["score"] for row in response.json()["data"]] == [12]


@pytest.mark.parametrize("http_method", ["GET", "POST"])
def test_method_delete_override_on_an_object(http: httpx.Client, http_method: str) -> None:
    """D3/D9: GET or POST /{entry_id} with method=DELETE deletes the entry."""
    assert submit(http, ADA_ID, 3).status_code == 200
    assert submit(http, GRACE_ID, 2).status_code == 200
    entry_id = entry_id_of(http, ADA_ID)
    response = http.request(http_method, f"/{entry_id}", headers=APP_AUTH, params={"method": "delete"})
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}
    assert board_scores(http) == {GRACE_ID: 2}


@pytest.mark.parametrize("value", ["PUT", "PATCH", "HEAD", "remove"])
def test_unsupported_method_override_is_a_400(http: httpx.Client, value: str) -> None:
    """D3/D7: method= accepts GET, POST and DELETE only; anything else is a 400 naming the parameter."""
    response = http.post("/leaderboard_submit_entry", headers=APP_AUTH,
                         data={"api_name": BOARD, "score": "4", "user_id": ADA_ID, "method": value})
    error = assert_graph_error(response, 400, 100, "OCApiException")
    assert "method" in error["message"]
    assert board_scores(http) == {}


# --- D4: the access token -----------------------------------------------------------------------------------
@pytest.mark.parametrize("source", ["query", "form", "multipart", "json", "bearer", "oauth", "bearer-lowercase"])
def test_token_from_every_source(http: httpx.Client, source: str) -> None:
    """D4: the token is read from access_token in any source or from Authorization Bearer/OAuth; the write
    lands for the token's user, proving the token was really used."""
    params: dict[str, Any] = {"api_name": BOARD, "score": "31"}
    headers: dict[str, str] = {}
    if source == "bearer":
        headers["Authorization"] = f"Bearer {GRACE_TOKEN}"
    elif source == "oauth":
        headers["Authorization"] = f"OAuth {GRACE_TOKEN}"
    elif source == "bearer-lowercase":
        headers["Authorization"] = f"bearer {GRACE_TOKEN}"
    else:
        params["access_token"] = GRACE_TOKEN
    body_source = source if source in ("query", "form", "multipart", "json") else "form"
    response = send(http, "POST", "/leaderboard_submit_entry", body_source, params, headers=headers)
    assert response.status_code == 200, response.text
    assert board_scores(http) == {GRACE_ID: 31}


@pytest.mark.parametrize("source", ["query", "form", "multipart", "json"])
def test_app_token_as_access_token_parameter(http: httpx.Client, source: str) -> None:
    """D4: an app token (with its raw '|') works as the access_token parameter of every source."""
    response = send(http, "POST", "/leaderboard_submit_entry", source,
                    {"api_name": BOARD, "score": "6", "user_id": LINUS_ID, "access_token": APP_TOKEN})
    assert response.status_code == 200, response.text
    assert board_scores(http) == {LINUS_ID: 6}


ENCODED_APP_TOKEN = APP_TOKEN.replace("|", "%7C")


@pytest.mark.parametrize("where", ["raw-query", "encoded-query", "lowercase-encoded-query", "raw-header",
                                   "encoded-header"])
def test_pipe_raw_or_percent_encoded(http: httpx.Client, where: str) -> None:
    """D4: the '|' of an app token may arrive raw or as %7C, in the URL or in the Authorization header."""
    url = f"/leaderboard_entries?api_name={BOARD}"
    headers: dict[str, str] = {}
    if where == "raw-query":
        url += f"&access_token={APP_TOKEN}"
    elif where == "encoded-query":
        url += f"&access_token={ENCODED_APP_TOKEN}"
    elif where == "lowercase-encoded-query":
        url += f"&access_token={APP_TOKEN.replace('|', '%7c')}"
    elif where == "raw-header":
        headers["Authorization"] = f"Bearer {APP_TOKEN}"
    else:
        headers["Authorization"] = f"Bearer {ENCODED_APP_TOKEN}"
    response = http.get(url, headers=headers)
    assert response.request.url.raw_path.count(b"|") == (2 if where == "raw-query" else 0)
    assert response.status_code == 200, response.text
    assert response.json() == {"data": []}


def test_pipe_percent_encoded_in_a_form_body(http: httpx.Client) -> None:
    """D4: a form body carrying access_token=OC%7C…%7C… is the app token."""
    body = f"access_token={ENCODED_APP_TOKEN}&api_name={BOARD}&score=3&user_id={ADA_ID}".encode()
    response = http.post("/leaderboard_submit_entry", content=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200, response.text
    assert board_scores(http) == {ADA_ID: 3}


def test_same_token_twice_is_fine(http: httpx.Client) -> None:
    """D4: the same token in two places (once raw, once %7C-encoded) is one token, not two."""
    response = http.get(f"/leaderboard_entries?api_name={BOARD}&access_token={APP_TOKEN}",
                        headers={"Authorization": f"OAuth {ENCODED_APP_TOKEN}"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("first", "second"), [
    ("query", "header"), ("form", "header"), ("json", "header"), ("multipart", "header"), ("query", "form"),
    ("query", "query"),
])
def test_two_different_tokens_are_a_400(http: httpx.Client, first: str, second: str) -> None:
    """D4/D7: two different tokens in one request are a 400 code 100 (even when each alone is valid), and
    the message echoes neither token."""
    params: dict[str, Any] = {"api_name": BOARD, "score": "50"}
    headers: dict[str, str] = {}
    if second == "header":
        headers["Authorization"] = f"Bearer {ADA_TOKEN}"
        params["access_token"] = APP_TOKEN
        params["user_id"] = ADA_ID
        response = send(http, "POST", "/leaderboard_submit_entry", first, params, headers=headers)
    elif second == "form":
        response = http.post(f"/leaderboard_submit_entry?access_token={ADA_TOKEN}",
                             data={**params, "access_token": GRACE_TOKEN})
    else:
        response = http.post(f"/leaderboard_submit_entry?access_token={ADA_TOKEN}&access_token={GRACE_TOKEN}",
                             data=params)
    error = assert_graph_error(response, 400, 100, "OCApiException")
    assert "token" in error["message"].lower()
    for secret in (APP_SECRET, ADA_TOKEN, GRACE_TOKEN):
        assert secret not in response.text
    assert board_scores(http) == {}


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": ""}, {"Authorization": "Bearer"}, {"Authorization": "OAuth"},
    {"Authorization": "Basic dXNlcjpwYXNz"},
])
def test_no_token_is_401_code_104(http: httpx.Client, headers: dict[str, str]) -> None:
    """D4/D7: without a usable token the answer is 401, OAuthException, code 104."""
    response = http.get("/leaderboard_entries", headers=headers, params={"api_name": BOARD})
    assert_graph_error(response, 401, 104, "OAuthException")


def test_empty_access_token_parameter_is_no_token(http: httpx.Client) -> None:
    """D4/D7: access_token= (empty) counts as no token: 401 code 104, not 190."""
    response = http.post("/leaderboard_submit_entry", data={"access_token": "", "api_name": BOARD, "score": "1",
                                                            "user_id": ADA_ID})
    assert_graph_error(response, 401, 104, "OAuthException")
    assert board_scores(http) == {}


@pytest.mark.parametrize("token", [
    "garbage",
    "OC|notanumber|secret",
    f"OC|{APP_ID}|wrongsecret0000000000000000000000",
    f"OC|{APP_ID}|",
    "OC|999999999999999|1234f7a788b0c0b270f9691d0a06d5a5",
    "OC" + "A" * 90,
    "FRL" + "b" * 90,
    ADA_TOKEN + "x",
    "OCAe" + "c" * 95,
])
def test_malformed_or_unknown_token_is_401_code_190(http: httpx.Client, token: str) -> None:
    """D4/D7: a malformed or unknown token is 401, OAuthException, code 190, and is not echoed back."""
    response = http.get("/leaderboard_entries", headers={"Authorization": f"Bearer {token}"},
                        params={"api_name": BOARD})
    assert_graph_error(response, 401, 190, "OAuthException")
    if len(token) > 8:
        assert token not in response.text


def test_token_of_another_app_cannot_reach_this_app(http: httpx.Client) -> None:
    """D4/D7: a valid token of another app is a 403 code 200 on this app's path."""
    response = http.get(f"/{APP_ID}/leaderboards", headers={"Authorization": f"Bearer {RIVAL_APP_TOKEN}"})
    assert_graph_error(response, 403, 200, "OAuthException")


# --- D9: object dispatch on /{id} -----------------------------------------------------------------------------
def test_get_leaderboard_by_id(http: httpx.Client) -> None:
    """D9: GET /{id} of a leaderboard answers that leaderboard."""
    board_id = board_id_of(http)
    response = http.get(f"/{board_id}", headers=APP_AUTH, params={"fields": "api_name,sort_order"})
    assert response.status_code == 200, response.text
    assert response.json() == {"id": board_id, "api_name": BOARD, "sort_order": "HIGHER_IS_BETTER"}


def test_get_entry_by_id(http: httpx.Client) -> None:
    """D9: GET /{id} of an entry answers that entry, with its rank."""
    assert submit(http, ADA_ID, 30).status_code == 200
    assert submit(http, GRACE_ID, 40).status_code == 200
    entry_id = entry_id_of(http, ADA_ID)
    response = http.get(f"/{entry_id}", headers=APP_AUTH, params={"fields": "user{id},score,rank"})
    assert response.status_code == 200, response.text
    assert response.json() == {"id": entry_id, "user": {"id": ADA_ID}, "score": 30, "rank": 2}


def test_delete_entry_by_id(http: httpx.Client) -> None:
    """D9: DELETE /{id} of an entry removes only that entry; the id then is unknown (404, 33)."""
    assert submit(http, ADA_ID, 30).status_code == 200
    assert submit(http, GRACE_ID, 40).status_code == 200
    entry_id = entry_id_of(http, ADA_ID)
    response = http.delete(f"/{entry_id}", headers=APP_AUTH)
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}
    assert board_scores(http) == {GRACE_ID: 40}
    assert_graph_error(http.get(f"/{entry_id}", headers=APP_AUTH), 404, 100, "GraphMethodException", subcode=33)
    assert_graph_error(http.delete(f"/{entry_id}", headers=APP_AUTH), 404, 100, subcode=33)


def test_delete_leaderboard_by_id(http: httpx.Client) -> None:
    """D9: DELETE /{id} of a leaderboard removes it; its id and api_name are then unknown."""
    assert submit(http, ADA_ID, 30).status_code == 200
    board_id = board_id_of(http)
    response = http.delete(f"/{board_id}", headers=APP_AUTH)
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}
    assert_graph_error(http.get(f"/{board_id}", headers=APP_AUTH), 404, 100, "GraphMethodException", subcode=33)
    gone = http.get("/leaderboard_entries", headers=APP_AUTH, params={"api_name": BOARD})
    assert_graph_error(gone, 404, 100, subcode=33)
    names = http.get(f"/{APP_ID}/leaderboards", headers=APP_AUTH, params={"fields": "api_name"}).json()["data"]
    assert BOARD not in {b["api_name"] for b in names}
    assert "MY_NEW_LEADERBOARD" in {b["api_name"] for b in names}


@pytest.mark.parametrize("object_id", ["999999999999999", "100000000000000000", "1", "9223372036854775807",
                                       "9999999999999999999"])
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_unknown_id_is_404_subcode_33(http: httpx.Client, object_id: str, method: str) -> None:
    """D9/D7: a numeric id that names no object is 404, GraphMethodException, code 100, subcode 33, and the
    message names the id."""
    response = http.request(method, f"/{object_id}", headers=APP_AUTH)
    error = assert_graph_error(response, 404, 100, "GraphMethodException", subcode=33)
    assert object_id in error["message"]


@pytest.mark.parametrize("segment", ["abcdef", "leaderboard", "12ab34", "-123402235207175", "1.5"])
def test_non_numeric_single_segment_is_404(http: httpx.Client, segment: str) -> None:
    """D9/D1: a single path segment that is neither a route nor an id is 404 code 100 (33)."""
    assert_graph_error(http.get(f"/{segment}", headers=APP_AUTH), 404, 100, "GraphMethodException", subcode=33)


def test_object_of_another_app_is_not_served(http: httpx.Client) -> None:
    """D9/D7: another app's leaderboard id is refused to this app's token (403 code 200), and not deleted."""
    rival = {"Authorization": f"Bearer {RIVAL_APP_TOKEN}"}
    listed = http.get(f"/{RIVAL_APP_ID}/leaderboards", headers=rival)
    assert listed.status_code == 200, listed.text
    rival_board = listed.json()["data"][0]["id"]
    assert_graph_error(http.get(f"/{rival_board}", headers=APP_AUTH), 403, 200, "OAuthException")
    assert_graph_error(http.delete(f"/{rival_board}", headers=APP_AUTH), 403, 200, "OAuthException")
    still = http.get(f"/{rival_board}", headers=rival)
    assert still.status_code == 200, still.text
    assert still.json()["id"] == rival_board
