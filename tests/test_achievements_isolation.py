"""Achievements: bad input for every parameter (D7: a 400 code 100 naming it, and nothing changed),
cross-app isolation for every endpoint (D7), and concurrency (D24: ``just_unlocked`` exactly once)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.ach_support import bearer, define, definitions, progress, rival_setup, state, write, write_ok
from tests.conftest import (
    ADA_ID,
    ADA_TOKEN,
    APP_ID,
    APP_TOKEN,
    RIVAL_APP_ID,
    RIVAL_APP_TOKEN,
    RIVAL_ID,
    RIVAL_TOKEN,
    RunningServer,
    assert_graph_error,
)

CREATE_BASE = {"api_name": "FRESH", "achievement_type": "BITFIELD", "achievement_write_policy": "SERVER_AUTHORITATIVE",
               "target": "2", "bitfield_length": "4", "title": "t", "description": "d"}

BAD_DEFINITION_PARAMS: list[tuple[str, str]] = [
    ("api_name", "has space"),
    ("api_name", "x" * 65),
    ("achievement_type", "PLATINUM"),
    ("achievement_write_policy", "ANYONE"),
    ("target", "three"),
    ("target", "0"),
    ("target", "5"),  # more bits than bitfield_length
    ("target", "1.5"),
    ("bitfield_length", "-1"),
    ("bitfield_length", "99999"),
    ("is_archived", "maybe"),
    ("is_secret", "yes please"),
    ("title", "x" * 5000),
    ("description", "x" * 5000),
    ("unlocked_description_override", "x" * 5000),
    ("title_locale_map", "Soccer"),
    ("title_locale_map", '{"en_US": 3}'),
    ("description_locale_map", "[]"),
    ("unlocked_image_file", "not-a-file"),
    ("locked_image_file", "not-a-file"),
]


def test_the_base_create_request_is_fine(http: httpx.Client) -> None:
    """The control for the table below: without the bad value, the same request succeeds."""
    response = http.post(f"/{APP_ID}/achievement_definitions", data={"access_token": APP_TOKEN, **CREATE_BASE})
    assert response.status_code == 200 and set(response.json()) == {"id"}


@pytest.mark.parametrize(("key", "value"), BAD_DEFINITION_PARAMS)
def test_bad_definition_parameter(http: httpx.Client, admin: httpx.Client, key: str, value: str) -> None:
    """Each bad create parameter is a 400 code 100 naming it; the definition is not created (D7)."""
    before = state(admin)
    response = http.post(f"/{APP_ID}/achievement_definitions",
                         data={"access_token": APP_TOKEN, **CREATE_BASE, key: value})
    error = assert_graph_error(response, 400, 100, "OCApiException")
    assert key in error["message"], error
    assert state(admin) == before


@pytest.mark.parametrize(("key", "value"), [
    ("target", "0"), ("bitfield_length", "2"), ("achievement_type", "COUNT"), ("is_secret", "2"),
    ("title_locale_map", "{}"),
])
def test_bad_definition_update_changes_nothing(http: httpx.Client, admin: httpx.Client, key: str, value: str) -> None:
    """An update is checked whole before anything is written (bitfield_length may not shrink)."""
    define(http, "EXISTING", "BITFIELD", target=2, bitfield_length=4)
    before = state(admin)
    response = http.post(f"/{APP_ID}/achievement_definitions",
                         data={"access_token": APP_TOKEN, "api_name": "EXISTING", "title": "changed", key: value})
    assert_graph_error(response, 400, 100, "OCApiException")
    assert state(admin) == before


BAD_WRITES: list[tuple[str, dict[str, str], int]] = [
    ("COUNT_A", {"add_count": "0"}, 400),
    ("COUNT_A", {"add_count": "-3"}, 400),
    ("COUNT_A", {"add_count": "many"}, 400),
    ("COUNT_A", {"add_count": "9223372036854775808"}, 400),
    ("COUNT_A", {"add_bits": "1"}, 400),  # wrong type (D23)
    ("COUNT_A", {}, 400),  # nothing to write
    ("COUNT_A", {"force_unlock": "perhaps"}, 400),
    ("BITS_A", {"add_bits": "102"}, 400),
    ("BITS_A", {"add_bits": "11111"}, 400),  # longer than bitfield_length 4
    ("BITS_A", {"add_fields": "abc"}, 400),
    ("BITS_A", {"add_count": "1"}, 400),
    ("SIMPLE_A", {"add_count": "1"}, 400),
    ("SIMPLE_A", {"add_bits": "1"}, 400),
    ("SIMPLE_A", {"force_unlock": "false"}, 400),
    ("", {"force_unlock": "true"}, 400),  # api_name missing
    ("NO_SUCH", {"force_unlock": "true"}, 404),
]


@pytest.mark.parametrize(("api_name", "params", "status"), BAD_WRITES)
def test_bad_progress_write(http: httpx.Client, admin: httpx.Client, api_name: str, params: dict[str, str],
                            status: int) -> None:
    define(http, "COUNT_A", "COUNT", target=3)
    define(http, "BITS_A", "BITFIELD", target=2, bitfield_length=4)
    define(http, "SIMPLE_A")
    before = state(admin)
    response = write(http, ADA_ID, api_name, **params)
    assert_graph_error(response, status, 100)
    assert state(admin) == before


def test_bad_path_and_user_ids(http: httpx.Client, admin: httpx.Client) -> None:
    define(http, "S")
    before = state(admin)
    assert_graph_error(write(http, "999999999999999", "S", force_unlock="true"), 404, 100, "GraphMethodException")
    assert_graph_error(http.post("/achievement_remove_all", data={"access_token": APP_TOKEN}), 400, 100)
    assert_graph_error(http.post("/achievement_remove_all", data={"access_token": APP_TOKEN, "user_id": "ada"}),
                       400, 100)
    assert_graph_error(http.post("/achievement_remove_all", data={"access_token": APP_TOKEN,
                                                                  "user_id": "999999999999999"}), 400, 100)
    assert_graph_error(http.get("/99999999999999999999/achievement_definitions",
                                params={"access_token": APP_TOKEN}), 404, 100)
    assert state(admin) == before


@pytest.mark.parametrize(("key", "value"), [
    ("api_names", '["A",'), ("api_names", "[1,2]"), ("api_names", '{"a":1}'), ("include_archived", "sure"),
    ("limit", "-1"), ("limit", "ten"), ("after", "!!!"), ("before", "bm90LWEtY3Vyc29y"), ("fields", "id,colour"),
    ("fields", "definition{colour}"), ("fields", "title{x}"),
])
def test_bad_read_parameters(http: httpx.Client, key: str, value: str) -> None:
    define(http, "A")
    write_ok(http, ADA_ID, "A", force_unlock="true")
    for path in (f"/{APP_ID}/achievement_definitions", f"/{ADA_ID}/achievements"):
        response = http.get(path, params={"access_token": APP_TOKEN, key: value})
        message = assert_graph_error(response, 400, 100, "OCApiException")["message"]
        # A bad field is named by the field ("Tried accessing nonexisting field (colour)…", D5).
        assert key in message if key != "fields" else "field" in message, message


# --- cross-app isolation ---------------------------------------------------------------------------------

def test_rival_app_cannot_touch_our_definitions(http: httpx.Client, admin: httpx.Client) -> None:
    """D7: another app's path id is a 403 for reads and writes; a rival's definition never shows up in ours
    even with the same api_name."""
    define(http, "OURS", "COUNT", target=5)
    rival_setup(http)
    before = state(admin)
    response = http.post(f"/{APP_ID}/achievement_definitions", data={
        "access_token": RIVAL_APP_TOKEN, "api_name": "OURS", "achievement_type": "COUNT", "target": "1",
        "title": "hijack", "description": "d"})
    assert_graph_error(response, 403, 200, "OAuthException")
    assert_graph_error(http.get(f"/{APP_ID}/achievement_definitions", params={"access_token": RIVAL_APP_TOKEN}),
                       403, 200)
    assert_graph_error(http.get(f"/{APP_ID}/achievement_definitions", params={"access_token": RIVAL_TOKEN}),
                       403, 200)
    assert state(admin) == before
    assert set(definitions(http)) == {"OURS"}
    assert set(definitions(http, RIVAL_APP_TOKEN, RIVAL_APP_ID)) == {"SHARED_NAME"}
    ours_id = http.get(f"/{APP_ID}/achievement_definitions", params={"access_token": APP_TOKEN}).json()["data"][0]["id"]
    assert_graph_error(http.get(f"/{ours_id}", params={"access_token": RIVAL_APP_TOKEN}), 403, 200)


def test_rival_app_cannot_touch_our_progress(http: httpx.Client, admin: httpx.Client) -> None:
    """D7/D25: the rival app token or user token can neither write nor read our users' progress, nor
    reset it; our token cannot reach theirs; same api_names stay apart."""
    define(http, "SHARED_NAME", "COUNT", target=5)
    write_ok(http, ADA_ID, "SHARED_NAME", add_count=2)
    rival_setup(http)
    before = state(admin)
    for token in (RIVAL_APP_TOKEN, RIVAL_TOKEN):
        assert_graph_error(write(http, ADA_ID, "SHARED_NAME", token, add_count=3), 403, 200, "OAuthException")
        assert_graph_error(http.get(f"/{ADA_ID}/achievements", params={"access_token": token}), 403, 200)
    response = http.post("/achievement_remove_all", data={"access_token": RIVAL_APP_TOKEN, "user_id": ADA_ID})
    assert_graph_error(response, 400, 100)
    for token in (APP_TOKEN, ADA_TOKEN):
        assert_graph_error(write(http, RIVAL_ID, "SHARED_NAME", token, add_count=1), 403, 200)
        assert_graph_error(http.get(f"/{RIVAL_ID}/achievements", params={"access_token": token}), 403, 200)
    assert_graph_error(http.post("/achievement_remove_all", data={"access_token": APP_TOKEN, "user_id": RIVAL_ID}),
                       400, 100)
    assert state(admin) == before
    assert progress(http, ADA_ID)["SHARED_NAME"]["count_progress"] == 2
    assert progress(http, RIVAL_ID, RIVAL_APP_TOKEN)["SHARED_NAME"]["count_progress"] == 5


def test_rival_user_token_cannot_use_our_definitions(http: httpx.Client) -> None:
    """A rival user writing its own progress to an api_name only we define: unknown for its app (404)."""
    define(http, "ONLY_OURS", "SIMPLE")
    response = http.post(f"/{RIVAL_ID}/achievements", headers=bearer(RIVAL_TOKEN),
                         data={"api_name": "ONLY_OURS", "force_unlock": "true"})
    assert_graph_error(response, 404, 100)


# --- concurrency -------------------------------------------------------------------------------------------

def test_fifty_parallel_add_counts_unlock_exactly_once(qg: RunningServer, http: httpx.Client) -> None:
    """D24: 50 concurrent ``add_count=1`` calls (threads over HTTP, each its own connection) on a target of
    25: exactly one answers just_unlocked, and the final count is exactly 50."""
    define(http, "RACE", "COUNT", target=25)

    def one(_: int) -> Any:
        with qg.client() as client:
            response = write(client, ADA_ID, "RACE", add_count=1)
            assert response.status_code == 200, response.text
            return response.json()["just_unlocked"]

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(one, range(50)))
    assert results.count(True) == 1
    row = progress(http, ADA_ID)["RACE"]
    assert row["count_progress"] == 50 and row["is_unlocked"] is True


def test_parallel_force_unlocks_report_once(qg: RunningServer, http: httpx.Client) -> None:
    define(http, "ONCE")

    def one(_: int) -> Any:
        with qg.client() as client:
            return write(client, ADA_ID, "ONCE", force_unlock="true").json()["just_unlocked"]

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert list(pool.map(one, range(20))).count(True) == 1


def test_parallel_nonce_validations_succeed_once(qg: RunningServer, admin: httpx.Client) -> None:
    """D8: a nonce is single-use even under concurrent validation."""
    nonce = admin.post(f"/_admin/users/{ADA_ID}/nonces").json()["nonce"]

    def one(_: int) -> Any:
        with qg.client() as client:
            return client.post("/user_nonce_validate", data={"access_token": APP_TOKEN, "nonce": nonce,
                                                             "user_id": ADA_ID}).json()["is_valid"]

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert list(pool.map(one, range(20))).count(True) == 1


def test_admin_view_of_a_users_achievements(http: httpx.Client, admin: httpx.Client) -> None:
    """``GET /_admin/users/{id}/achievements`` shows everything, archived and secret included."""
    define(http, "SECRET", "COUNT", target=9, is_secret="true")
    write_ok(http, ADA_ID, "SECRET", add_count=4)
    define(http, "SECRET", "COUNT", is_archived="true")
    rows = admin.get(f"/_admin/users/{ADA_ID}/achievements").json()["data"]
    assert [(r["api_name"], r["count_progress"], r["is_archived"]) for r in rows] == [("SECRET", 4, True)]
