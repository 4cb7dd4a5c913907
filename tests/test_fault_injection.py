"""Fault injection (docs/fault-injection.md; issue 18 part 2): rules that make chosen Graph requests fail as
Meta's do, their scope and count, where they are marked, how they are controlled, and what the Python
client's retries do under each (docs/client.md, Retries). Not to be confused with tests/test_faults.py
(real PostgreSQL and Redis outages)."""

from __future__ import annotations

import random
import secrets
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from questgraph.client import Client, InvalidParameter, RetryPolicy, ServerError, TransportError
from questgraph.server.world import World, WorldError
from questgraph.testing import QuestgraphServer
from tests.conftest import (
    ADA_ID,
    ADA_TOKEN,
    APP_ID,
    APP_TOKEN,
    RIVAL_APP_TOKEN,
    WORLD_FILE,
    RunningServer,
    assert_graph_error,
    start_server,
)
from tests.redis_support import drop_prefix, redis_url, require_redis

ENTRIES = {"api_name": "best_leaderboard"}
APP = {"Authorization": f"Bearer {APP_TOKEN}"}
RIVAL = {"Authorization": f"Bearer {RIVAL_APP_TOKEN}"}
FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02)


def add(admin: httpx.Client, **rule: Any) -> dict[str, Any]:
    response = admin.post("/_admin/faults", data={k: str(v) for k, v in rule.items()})
    assert response.status_code == 200, response.text
    return dict(response.json())


def rule_of(admin: httpx.Client, rule_id: str) -> dict[str, Any]:
    return next(r for r in admin.get("/_admin/faults").json()["data"] if r["id"] == rule_id)


def entries(http: httpx.Client, headers: dict[str, str] = APP) -> httpx.Response:
    return http.get("/leaderboard_entries", params=ENTRIES, headers=headers)


# --- each kind ------------------------------------------------------------------------------------------------
def test_a_503_is_metas_transient_envelope_then_the_route_answers_again(http: httpx.Client,
                                                                         admin: httpx.Client) -> None:
    rule = add(admin, route="/leaderboard_entries", status=503, count=1)
    assert rule["kind"] == "error" and rule["code"] == 2 and rule["is_transient"] is True and rule["remaining"] == 1
    response = entries(http)
    error = assert_graph_error(response, 503, 2, "OCApiException")
    assert response.json() == {"error": {"message": "(#2) Service temporarily unavailable", "type": "OCApiException",
                                         "code": 2, "is_transient": True, "error_data": {},
                                         "fbtrace_id": error["fbtrace_id"]}}
    assert entries(http).status_code == 200
    assert rule_of(admin, rule["id"]) | {"created_at": 0} == rule | {"remaining": 0, "hits": 1, "created_at": 0}


@pytest.mark.parametrize(("rule", "status", "code", "subcode", "transient", "message"), [
    ({"status": 429}, 429, 4, None, True, "(#4) Application request limit reached"),
    ({"status": 429, "code": 17, "message": "(#17) User request limit reached"}, 429, 17, None, True,
     "(#17) User request limit reached"),
    ({"status": 500}, 500, 1, None, True, "An unexpected error has occurred. Please retry your request later."),
    ({"status": 400, "code": 100, "error_subcode": 2, "is_transient": "false", "message": "Bad"}, 400, 100, 2, False,
     "Bad"),
])
def test_error_rules_answer_the_status_code_and_body_asked_for(http: httpx.Client, admin: httpx.Client,
                                                                rule: dict[str, Any], status: int, code: int,
                                                                subcode: int | None, transient: bool,
                                                                message: str) -> None:
    add(admin, route="/leaderboard_entries", count=1, **rule)
    response = entries(http)
    error = assert_graph_error(response, status, code, "OCApiException", subcode)
    assert error["is_transient"] is transient and error["message"] == message
    assert ("error_subcode" in error) is (subcode is not None)


def test_latency_delays_the_answer_which_is_then_the_real_one(http: httpx.Client, admin: httpx.Client) -> None:
    normal = entries(http).json()
    add(admin, route="GET /leaderboard_entries", latency_ms=400, count=1)
    started = time.monotonic()
    response = entries(http)
    assert time.monotonic() - started >= 0.4
    assert response.status_code == 200 and response.json()["data"] == normal["data"]
    started = time.monotonic()
    assert entries(http).status_code == 200
    assert time.monotonic() - started < 0.4


def test_drop_closes_the_connection_without_an_answer(http: httpx.Client, admin: httpx.Client) -> None:
    add(admin, route="/leaderboard_entries", kind="drop", count=1)
    with httpx.Client(base_url=str(http.base_url)) as fresh, pytest.raises(httpx.RemoteProtocolError):
        entries(fresh)
    assert entries(http).status_code == 200  # the next request is served


# --- scope and count -----------------------------------------------------------------------------------------
def test_count_fails_exactly_n_requests(http: httpx.Client, admin: httpx.Client) -> None:
    rule = add(admin, route="/leaderboard_entries", status=503, count=3)
    assert [entries(http).status_code for _ in range(5)] == [503, 503, 503, 200, 200]
    assert rule_of(admin, rule["id"])["remaining"] == 0 and rule_of(admin, rule["id"])["hits"] == 3


def test_a_seeded_probability_fails_the_same_requests_every_run(http: httpx.Client, admin: httpx.Client) -> None:
    draws = random.Random(7)
    expected = [503 if draws.random() < 0.3 else 200 for _ in range(40)]
    assert 503 in expected and 200 in expected
    for _ in range(2):  # and again, from a new rule with the same seed
        admin.delete("/_admin/faults").raise_for_status()
        add(admin, route="/leaderboard_entries", status=503, probability=0.3, seed=7)
        assert [entries(http).status_code for _ in range(40)] == expected


def test_without_scope_a_rule_takes_every_matching_request_until_deleted(http: httpx.Client,
                                                                         admin: httpx.Client) -> None:
    rule = add(admin, status=500)
    assert [entries(http).status_code for _ in range(3)] == [500, 500, 500]
    assert admin.delete(f"/_admin/faults/{rule['id']}").json() == {"success": True}
    assert entries(http).status_code == 200
    assert_graph_error(admin.delete(f"/_admin/faults/{rule['id']}"), 404, 100)


def test_a_route_rule_leaves_other_routes_and_methods_alone(http: httpx.Client, admin: httpx.Client) -> None:
    add(admin, route="POST /leaderboard_submit_entry", status=503)
    assert entries(http).status_code == 200
    assert http.get("/leaderboard_submit_entry", headers=APP).status_code == 405  # not the POST it names
    submit = http.post("/leaderboard_submit_entry", headers=APP,
                       data={"api_name": "best_leaderboard", "score": "5", "user_id": ADA_ID})
    assert_graph_error(submit, 503, 2)
    assert all(e["score"] != 5 for e in entries(http).json()["data"])  # refused before the handler: not stored


def test_an_id_route_matches_any_id_in_its_place(http: httpx.Client, admin: httpx.Client) -> None:
    add(admin, route="/{user_id}/achievements", status=429, count=1)
    assert_graph_error(http.get(f"/{ADA_ID}/achievements", headers=APP), 429, 4)
    assert http.get(f"/{ADA_ID}/achievements", headers=APP).status_code == 200


def test_an_app_rule_leaves_other_apps_alone(http: httpx.Client, admin: httpx.Client) -> None:
    add(admin, app_id="2000000000000002", status=503)
    assert entries(http).status_code == 200
    assert entries(http, {"Authorization": f"Bearer {ADA_TOKEN}"}).status_code == 200  # a user of the first app
    assert_graph_error(entries(http, RIVAL), 503, 2)


def test_faults_never_touch_the_control_plane_or_unauthenticated_requests(http: httpx.Client,
                                                                           admin: httpx.Client) -> None:
    add(admin, status=503)
    assert admin.get("/_admin/orgs").status_code == 200
    assert http.get("/_health/live").status_code == 200
    assert http.get("/metrics").status_code == 200
    assert_graph_error(http.get("/leaderboard_entries", params=ENTRIES), 401, 104)  # no token: its own answer
    assert_graph_error(http.get("/nope", headers=APP), 404, 100)  # an unknown route: its own answer


@pytest.mark.parametrize(("rule", "message"), [
    ({"route": "/leaderboards_submit_entry"}, "no Graph route /leaderboards_submit_entry"),
    ({"route": "DELETE /leaderboard_submit_entry"}, "no Graph route DELETE /leaderboard_submit_entry"),
    ({"probability": "1.5"}, "probability must be a number from 0 to 1"),
    ({"probability": "nan"}, "probability must be a number from 0 to 1"),
    ({"count": "0"}, "count must be between 1 and 1000000"),
    ({"count": "1", "probability": "0.5"}, "count or probability, not both"),
    ({"kind": "explode"}, "kind must be one of error, latency, drop"),
    ({"status": "302"}, "status must be between 400 and 599"),
    ({"kind": "latency"}, "latency_ms must be an integer"),
    ({"latency_ms": "600000"}, "latency_ms must be between 1 and 60000"),
])
def test_a_bad_rule_is_a_400_naming_the_problem_and_nothing_is_added(admin: httpx.Client, rule: dict[str, str],
                                                                      message: str) -> None:
    error = assert_graph_error(admin.post("/_admin/faults", data=rule), 400, 100)
    assert message in error["message"]
    assert admin.get("/_admin/faults").json() == {"data": [], "enabled": True}


def test_reset_clears_rules(http: httpx.Client, admin: httpx.Client) -> None:
    add(admin, status=503)
    admin.post("/_admin/reset").raise_for_status()
    assert admin.get("/_admin/faults").json()["data"] == []
    assert entries(http).status_code == 200


# --- marking ----------------------------------------------------------------------------------------------
def test_an_injected_fault_is_marked_in_the_inspector_and_counted_in_metrics(qg: RunningServer, http: httpx.Client,
                                                                             admin: httpx.Client) -> None:
    def injected(kind: str) -> float:
        for line in http.get("/metrics").text.splitlines():
            if line.startswith(f'questgraph_injected_faults_total{{kind="{kind}"}}'):
                return float(line.split()[-1])
        return 0.0

    before = {kind: injected(kind) for kind in ("error", "latency", "drop")}
    error = add(admin, route="/leaderboard_entries", status=503, count=1)
    slow = add(admin, route="/leaderboard_entries", latency_ms=5, count=1)
    entries(http)
    entries(http)
    entries(http)
    recent = qg.server.inspector.recent(int(APP_ID), endpoint="/leaderboard_entries")[:3]
    assert [r.fault for r in recent] == [None, f"rule {slow['id']}: latency 5 ms",
                                         f"rule {error['id']}: error 503 code 2"]
    assert [r.status for r in recent] == [200, 200, 503]
    assert injected("error") == before["error"] + 1 and injected("latency") == before["latency"] + 1
    assert injected("drop") == before["drop"]
    dropped = add(admin, route="/leaderboard_entries", kind="drop", count=1)
    with httpx.Client(base_url=str(http.base_url)) as fresh, pytest.raises(httpx.RemoteProtocolError):
        entries(fresh)
    last = qg.server.inspector.recent(int(APP_ID), endpoint="/leaderboard_entries")[0]
    assert (last.status, last.fault) == (444, f"rule {dropped['id']}: drop")  # nginx's "closed without response"
    assert injected("drop") == before["drop"] + 1


# --- the Python client's retries (docs/client.md, Retries) ---------------------------------------------------
def inspected(qg: RunningServer) -> int:
    return len(qg.server.inspector.recent(int(APP_ID), endpoint="/leaderboard_entries"))


def test_the_client_retries_a_read_after_a_transient_503_and_succeeds(qg: RunningServer,
                                                                      admin: httpx.Client) -> None:
    add(admin, route="/leaderboard_entries", status=503, count=1)
    before = inspected(qg)
    with Client(access_token=APP_TOKEN, base_url=qg.url, retry=FAST) as client:
        assert isinstance(client.leaderboards.entries_page("best_leaderboard").entries, list)
    assert inspected(qg) == before + 2  # the 503, then the retry's 200


def test_the_client_raises_a_400_at_once(qg: RunningServer, admin: httpx.Client) -> None:
    rule = add(admin, route="/leaderboard_entries", status=400, count=5)
    with Client(access_token=APP_TOKEN, base_url=qg.url, retry=FAST) as client, pytest.raises(InvalidParameter):
        client.leaderboards.entries_page("best_leaderboard")
    assert rule_of(admin, rule["id"])["remaining"] == 4  # one request: not retried


def test_the_client_retries_a_dropped_read_but_not_a_dropped_submit(qg: RunningServer, admin: httpx.Client) -> None:
    add(admin, route="/leaderboard_entries", kind="drop", count=1)
    with Client(access_token=APP_TOKEN, base_url=qg.url, retry=FAST) as client:
        assert isinstance(client.leaderboards.entries_page("best_leaderboard").entries, list)
        submit = add(admin, route="/leaderboard_submit_entry", kind="drop", count=1)
        with pytest.raises(TransportError):
            client.leaderboards.submit_entry("best_leaderboard", 77, user_id=ADA_ID)
        assert rule_of(admin, submit["id"])["remaining"] == 0
        # Not stored (the fault came before the handler); a submit of one's own is then fine.
        assert client.leaderboards.submit_entry("best_leaderboard", 77, user_id=ADA_ID).did_update


def test_the_client_retries_a_429_even_for_a_submit_but_not_a_503(qg: RunningServer, admin: httpx.Client) -> None:
    with Client(access_token=APP_TOKEN, base_url=qg.url, retry=FAST) as client:
        add(admin, route="/leaderboard_submit_entry", status=429, count=2)
        assert client.leaderboards.submit_entry("best_leaderboard", 88, user_id=ADA_ID).did_update  # third try
        add(admin, route="/leaderboard_submit_entry", status=503, count=1)
        with pytest.raises(ServerError) as raised:
            client.leaderboards.submit_entry("best_leaderboard", 99, user_id=ADA_ID)
        assert raised.value.code == 2 and raised.value.is_transient


# --- production, the world file, the pytest fixture -------------------------------------------------------
def test_production_refuses_rules(tmp_path: Path) -> None:
    server = start_server(tmp_path, emulator=False)
    try:
        with server.admin() as admin:
            error = assert_graph_error(admin.post("/_admin/faults", data={"status": "503"}), 403, 200)
            assert "--production" in error["message"]
            assert admin.get("/_admin/faults").json() == {"data": [], "enabled": False}
    finally:
        server.stop()


WORLD_FAULTS = """
[[faults]]
route = "/leaderboard_entries"
status = 503
count = 1

[[faults]]
route = "POST /leaderboard_submit_entry"
kind = "latency"
latency_ms = 10
"""


def test_world_file_rules_apply_at_start_and_after_reset(tmp_path: Path) -> None:
    path = tmp_path / "world.toml"
    path.write_text(WORLD_FILE.read_text() + WORLD_FAULTS)
    server = start_server(tmp_path, World.load(path))
    try:
        with server.client() as http, server.admin() as admin:
            rules = admin.get("/_admin/faults").json()["data"]
            assert [(r["route"], r["kind"], r.get("latency_ms"), r["remaining"]) for r in rules] == [
                ("/leaderboard_entries", "error", None, 1), ("/leaderboard_submit_entry", "latency", 10, None)]
            assert [entries(http).status_code for _ in range(2)] == [503, 200]
            admin.post("/_admin/reset").raise_for_status()
            assert [entries(http).status_code for _ in range(2)] == [503, 200]
    finally:
        server.stop()


def test_world_file_rules_are_refused_with_production_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "world.toml"
    path.write_text(WORLD_FILE.read_text() + WORLD_FAULTS)
    with pytest.raises(ValueError, match=r"\[\[faults\]\] cannot be used with --production"):
        start_server(tmp_path, World.load(path), emulator=False)
    path.write_text(WORLD_FILE.read_text() + '[[faults]]\nroute = "/nope"\n')
    with pytest.raises(WorldError, match=r"faults\[0\]: Param route: no Graph route /nope"):
        start_server(tmp_path, World.load(path), database=str(tmp_path / "other.sqlite3"))


def test_the_pytest_fixture_adds_rules_and_clears_them(questgraph: QuestgraphServer,
                                                       questgraph_faults: Any) -> None:
    rule = questgraph_faults.add(route="/leaderboard_submit_entry", status=503, count=1)
    with questgraph.client(retry=FAST) as client:
        with pytest.raises(ServerError):
            client.leaderboards.submit_entry("best_leaderboard", 5, user_id=questgraph.user_id("ada"))
        assert client.leaderboards.submit_entry("best_leaderboard", 5, user_id=questgraph.user_id("ada")).did_update
    assert questgraph_faults.get(rule["id"])["hits"] == 1
    with pytest.raises(ValueError, match="no Graph route"):
        questgraph_faults.add(route="/nope")
    questgraph_faults.clear()
    assert questgraph_faults.list() == []


# --- the CLI --------------------------------------------------------------------------------------------------
def test_cli_adds_lists_deletes_and_clears_rules(qg: RunningServer, http: httpx.Client, admin: httpx.Client,
                                                 capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from questgraph.cli import main

    for name in ("QUESTGRAPH_BASE_URL", "QUESTGRAPH_ADMIN_KEY", "QUESTGRAPH_ACCESS_TOKEN", "QUESTGRAPH_APP_ID"):
        monkeypatch.delenv(name, raising=False)
    options = ["--base-url", qg.url, "--admin-key", qg.settings.admin_key or ""]
    assert main(["faults", "add", "--route", "GET /leaderboard_entries", "--status", "429", "--code", "17",
                 "--count", "1", "--json", *options]) == 0
    made = json.loads(capsys.readouterr().out)
    assert (made["method"], made["route"], made["status"], made["code"], made["remaining"]) == (
        "GET", "/leaderboard_entries", 429, 17, 1)
    assert_graph_error(entries(http), 429, 17)
    assert main(["faults", "add", "--kind", "drop", "--app", "2000000000000002", *options]) == 0
    capsys.readouterr()
    assert main(["faults", "list", *options]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["ID", "METHOD", "ROUTE"] and len(table) == 3 and "drop" in table[2]
    assert main(["faults", "delete", made["id"], *options]) == 0
    assert capsys.readouterr().out.strip() == f"fault rule {made['id']} deleted"
    assert main(["faults", "add", "--route", "/nope", *options]) == 1
    assert "no Graph route /nope" in capsys.readouterr().err
    assert main(["faults", "clear", *options]) == 0
    assert capsys.readouterr().out.strip() == "1 fault rules deleted"
    assert admin.get("/_admin/faults").json()["data"] == []


# --- several processes --------------------------------------------------------------------------------------
@pytest.mark.postgres_only
def test_two_processes_on_postgresql_fail_exactly_count_requests_between_them(tmp_path: Path) -> None:
    """Two servers on one PostgreSQL schema and one Redis index, as `serve --workers 2` runs them: a rule
    added through one reaches the other (FOLLOW_SECONDS), and a count is spent atomically across both."""
    from questgraph.server.faults.service import FOLLOW_SECONDS

    require_redis()
    redis_prefix = f"qgtest-{secrets.token_hex(6)}"
    database = str(tmp_path / "shared.sqlite3")  # the same key: the same PostgreSQL schema
    first = start_server(tmp_path, database=database, rank_index=redis_url(prefix=redis_prefix))
    second = start_server(tmp_path, database=database, rank_index=redis_url(prefix=redis_prefix))
    try:
        with first.admin() as admin, first.client() as one, second.client() as two:
            rule = add(admin, route="/leaderboard_entries", status=503, count=6)
            time.sleep(FOLLOW_SECONDS * 2)
            # The second process's first Graph request re-reads the rules (after the fault step, so it is served).
            assert entries(two).status_code == 200
            statuses = [entries(client).status_code for _ in range(8) for client in (one, two)]
            assert statuses.count(503) == 6 and statuses[:6] == [503] * 6  # 3 through each process, then none
            assert rule_of(admin, rule["id"]) | {"created_at": 0} == rule | {"remaining": 0, "hits": 6,
                                                                             "created_at": 0}
    finally:
        second.stop()
        first.stop()
        drop_prefix(redis_prefix)


# --- the dashboard ------------------------------------------------------------------------------------------
def test_the_dashboard_lists_adds_and_deletes_rules_with_csrf(qg: RunningServer, http: httpx.Client,
                                                              admin: httpx.Client) -> None:
    from tests.dash_support import csrf, sign_in_emulator

    with qg.client() as browser:
        sign_in_emulator(browser)
        page = browser.get("/dashboard/emulator")
        assert page.status_code == 200 and "No fault rules" in page.text
        form = {"route": "POST /leaderboard_submit_entry", "kind": "error", "status": "429", "count": "2",
                "back": "/dashboard/emulator"}
        refused = browser.post("/dashboard/emulator/faults", data=form)  # no CSRF token: nothing added
        assert refused.status_code == 403 and admin.get("/_admin/faults").json()["data"] == []
        added = browser.post("/dashboard/emulator/faults", data={**form, "csrf_token": csrf(page.text)})
        assert added.status_code == 303 and added.headers["location"] == "/dashboard/emulator#faults"
        [rule] = admin.get("/_admin/faults").json()["data"]
        assert (rule["method"], rule["route"], rule["status"], rule["code"], rule["remaining"]) == (
            "POST", "/leaderboard_submit_entry", 429, 4, 2)
        page = browser.get("/dashboard/emulator")
        assert "error 429 code 4" in page.text and "next 2 left" in page.text
        bad = browser.post("/dashboard/emulator/faults", data={"route": "/nope", "csrf_token": csrf(page.text),
                                                              "back": "/dashboard/emulator"})
        assert bad.status_code == 400 and "no Graph route /nope" in bad.text
        gone = browser.post(f"/dashboard/emulator/faults/{rule['id']}/delete",
                            data={"csrf_token": csrf(page.text), "back": "/dashboard/emulator"})
        assert gone.status_code == 303 and admin.get("/_admin/faults").json()["data"] == []


def test_a_method_parameter_is_the_admin_calls_own_override_and_a_misspelt_field_is_refused(
        admin: httpx.Client) -> None:
    """D3: `method=GET` makes the POST a list; a rule's method goes in its route."""
    assert admin.post("/_admin/faults", data={"method": "GET", "status": "503"}).json() == {"data": [],
                                                                                           "enabled": True}
    error = assert_graph_error(admin.post("/_admin/faults", data={"latency": "500"}), 400, 100)
    assert "Unknown fault rule field 'latency'" in error["message"]
    assert admin.get("/_admin/faults").json()["data"] == []
