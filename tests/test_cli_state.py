"""The ``questgraph`` commands for what the admin API does to the whole state (reset, clock, snapshots),
``wait-ready``, a score submit and an achievement unlock, users named by alias, one format for times and
prices in tables, help text for every flag, and the client's error for a refused connection."""

from __future__ import annotations

import argparse
import json
import re
import tomllib
from pathlib import Path

import pytest

from questgraph.cli import main
from questgraph.client import Client, ConnectionFailed, TransportError
from tests.conftest import ADA_ID, ADMIN_KEY, APP_ID, APP_TOKEN, UNENTITLED_ID, RunningServer, free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("QUESTGRAPH_BASE_URL", "QUESTGRAPH_ADMIN_KEY", "QUESTGRAPH_ACCESS_TOKEN", "QUESTGRAPH_APP_ID"):
        monkeypatch.delenv(name, raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_clock_commands(qg: RunningServer, capsys: pytest.CaptureFixture[str]) -> None:
    admin = ["--base-url", qg.url, "--admin-key", ADMIN_KEY]
    code, out, _ = run(capsys, "clock", "set", "2030-01-01T00:00:00Z", *admin)
    assert code == 0 and out.startswith("now 2030-01-01T00:00:0") and "running" in out
    code, out, _ = run(capsys, "clock", "freeze", *admin, "--json")
    frozen = json.loads(out)
    assert frozen["frozen"] is True and frozen["now"] in (1893456000, 1893456001)
    code, out, _ = run(capsys, "clock", "advance", "60", *admin, "--json")
    assert json.loads(out)["now"] == frozen["now"] + 60  # frozen: exactly 60 s later
    code, out, _ = run(capsys, "clock", "thaw", *admin, "--json")
    assert json.loads(out)["frozen"] is False
    code, out, _ = run(capsys, "clock", "wall", *admin, "--json")
    wall = json.loads(out)
    assert code == 0 and wall["frozen"] is False and abs(wall["offset_seconds"]) < 1
    code, out, _ = run(capsys, "clock", "show", *admin)
    assert code == 0 and "+0 s from the wall clock, running" in out
    with pytest.raises(SystemExit) as exit_info:
        main(["clock", "set", "next tuesday", *admin])
    assert exit_info.value.code == 2 and "is not a time" in capsys.readouterr().err


def test_reset_and_snapshot_export_and_import_through_files(qg: RunningServer, capsys: pytest.CaptureFixture[str],
                                                            tmp_path: Path) -> None:
    admin = ["--base-url", qg.url, "--admin-key", ADMIN_KEY]
    saved = tmp_path / "state.json"
    code, out, _ = run(capsys, "snapshot", "export", str(saved), *admin)
    assert code == 0 and str(saved) in out
    before = json.loads(saved.read_text())
    assert before["version"] == 1 and "orgs" in before["tables"]
    code, _, _ = run(capsys, "reset", "--empty", *admin)
    assert code == 0
    with qg.admin() as http:
        assert http.get("/_admin/orgs").json() == {"data": []}
    code, out, _ = run(capsys, "snapshot", "import", str(saved), *admin)
    assert code == 0 and "state.json" in out
    with qg.admin() as http:
        assert http.get("/_admin/snapshot").json()["tables"] == before["tables"]
    code, out, _ = run(capsys, "snapshot", "export", *admin)  # no file: stdout
    assert json.loads(out)["tables"]["orgs"] == before["tables"]["orgs"]
    (tmp_path / "junk.json").write_text("not json")
    code, _, err = run(capsys, "snapshot", "import", str(tmp_path / "junk.json"), *admin)
    assert code == 1 and "cannot read a snapshot" in err
    code, out, _ = run(capsys, "reset", *admin)
    assert code == 0 and "world is applied afresh" in out


def test_wait_ready_answers_at_once_or_after_its_timeout(qg: RunningServer, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "wait-ready", "--base-url", qg.url, "--timeout", "5")
    assert code == 0 and out.strip() == "ready"
    nowhere = f"http://127.0.0.1:{free_port()}"
    code, _, err = run(capsys, "wait-ready", "--base-url", nowhere, "--timeout", "0.5")
    assert code == 1 and f"{nowhere} was not ready within 0.5 s" in err and "cannot connect" in err


def test_submit_a_score_and_unlock_an_achievement(qg: RunningServer, capsys: pytest.CaptureFixture[str]) -> None:
    graph = ["--base-url", qg.url, "--token", APP_TOKEN]
    code, out, _ = run(capsys, "leaderboard", "submit", "best_leaderboard", "500", "--user-id", ADA_ID,
                       "--extra-data", "car=blue", *graph)
    assert code == 0 and out.strip() == "the entry was written"
    code, out, _ = run(capsys, "leaderboard", "submit", "best_leaderboard", "400", "--user-id", ADA_ID, *graph)
    assert "not written" in out and "--force" in out
    code, out, _ = run(capsys, "leaderboard", "submit", "best_leaderboard", "400", "--user-id", "ada",
                       "--admin-key", ADMIN_KEY, "--force", *graph, "--json")  # by alias: looked up
    assert json.loads(out)["did_update"] is True
    with qg.client() as http:
        entries = http.get("/leaderboard_entries", params={"access_token": APP_TOKEN, "api_name": "best_leaderboard",
                                                           "fields": "score,user{id}"}).json()["data"]
        assert [(e["user"]["id"], e["score"]) for e in entries] == [(ADA_ID, 400)]
        http.post(f"/{APP_ID}/achievement_definitions", data={
            "access_token": APP_TOKEN, "api_name": "FIRST", "achievement_type": "SIMPLE", "title": "First",
            "description": "The first"}).raise_for_status()
    code, out, _ = run(capsys, "achievements", "unlock", ADA_ID, "FIRST", *graph)
    assert code == 0 and out.strip() == f"FIRST is unlocked for user {ADA_ID}"
    code, out, _ = run(capsys, "achievements", "unlock", ADA_ID, "FIRST", *graph)
    assert "(it already was)" in out
    code, _, err = run(capsys, "achievements", "unlock", "ada", "FIRST", *graph)
    assert code == 1 and "--admin-key" in err  # an alias needs the admin API to be looked up


def test_users_by_alias(qg: RunningServer, capsys: pytest.CaptureFixture[str]) -> None:
    admin = ["--base-url", qg.url, "--admin-key", ADMIN_KEY]
    code, out, _ = run(capsys, "users", "show", "ada", "--app-id", APP_ID, *admin, "--json")
    assert code == 0 and json.loads(out)["id"] == ADA_ID
    code, _, err = run(capsys, "users", "show", "ada", *admin)
    assert code == 1 and "--app-id" in err
    code, _, err = run(capsys, "users", "show", "nobody", "--app-id", APP_ID, *admin)
    assert code == 1 and f"app {APP_ID} has no user with alias 'nobody'" in err
    code, out, _ = run(capsys, "entitlements", "grant", "unentitled", "--app-id", APP_ID, "--granted-at",
                       "2020-01-01", *admin)
    assert code == 0 and out.strip() == f"user {UNENTITLED_ID} is entitled to their app"
    with qg.client() as http:
        verify = http.get(f"/{APP_ID}/verify_entitlement", params={"access_token": APP_TOKEN,
                                                                    "user_id": UNENTITLED_ID}).json()
    assert verify == {"success": True, "grant_time": 1577836800}
    code, out, _ = run(capsys, "nonces", "mint", "ada", "--app-id", APP_ID, "--nonce", "ChosenByTheCli0000001",
                       *admin)
    assert out.strip() == "ChosenByTheCli0000001"


def test_one_format_for_times_and_prices_in_tables(qg: RunningServer, capsys: pytest.CaptureFixture[str]) -> None:
    admin = ["--base-url", qg.url, "--admin-key", ADMIN_KEY]
    run(capsys, "catalogue", "add", APP_ID, "sword", "DURABLE", "Sword", "--price", "299", *admin)
    code, out, _ = run(capsys, "catalogue", "list", APP_ID, *admin)
    assert code == 0 and re.search(r"sword\s+DURABLE\s+Sword\s+2\.99 USD", out)
    run(capsys, "catalogue", "grant", ADA_ID, "sword", "--granted-at", "2026-01-02T03:04:05Z", *admin)
    code, out, _ = run(capsys, "catalogue", "history", ADA_ID, *admin)
    assert "2026-01-02T03:04:05+0000" in out and "1767323045" not in out
    code, out, _ = run(capsys, "purchases", ADA_ID, "--base-url", qg.url, "--token", APP_TOKEN)
    assert "2.99 USD" in out and "$2.99" not in out and "2026-01-02T03:04:05+0000" in out
    code, out, _ = run(capsys, "catalogue", "history", ADA_ID, *admin, "--json")
    assert json.loads(out)[0]["granted_at"] == 1767323045  # --json keeps the answer's own form


def test_messages_read_as_sentences(qg: RunningServer, capsys: pytest.CaptureFixture[str]) -> None:
    bad = f"OC|{APP_ID}|{'0' * 32}"
    code, _, err = run(capsys, "leaderboard", "list", "--base-url", qg.url, "--token", bad)
    assert code == 1 and "signature.\n" in err and ".." not in err
    with qg.admin() as http:
        refused = http.post(f"/_admin/users/{ADA_ID}/tokens", data={"ttl_seconds": "0"}).json()["error"]["message"]
    assert refused == "Param ttl_seconds must be at least 1"  # not "between 1 and 9223372036854775807"


@pytest.mark.parametrize("argv", [["users", "show", "ada!"], ["tokens", "mint", "a b"], ["entitlements", "grant", "é"],
                                  ["catalogue", "grant", "x/y", "sku"], ["nonces", "mint", "?"]])
def test_a_user_that_is_neither_an_id_nor_an_alias_is_exit_2(argv: list[str],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--admin-key", ADMIN_KEY, "--base-url", "http://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "is neither a user id (decimal digits) nor an alias" in err


def _parsers() -> list[argparse.ArgumentParser]:
    from questgraph.cli import build_parser

    todo, every = [build_parser()], []
    while todo:
        parser = todo.pop()
        every.append(parser)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                todo.extend(action.choices.values())
    return every


def test_every_flag_has_help_and_no_help_shows_restructuredtext() -> None:
    parsers = _parsers()
    assert len(parsers) > 40
    for parser in parsers:
        for action in parser._actions:
            if action.option_strings and not isinstance(action, argparse._HelpAction | argparse._VersionAction):
                assert action.help, f"{parser.prog} {action.option_strings[0]} has no help"
        text = parser.format_help()
        assert "``" not in text and ":class:" not in text, parser.prog


def test_a_refused_connection_is_a_public_error_naming_the_host() -> None:
    port = free_port()
    with Client(access_token=APP_TOKEN, base_url=f"http://127.0.0.1:{port}", timeout=2) as client, \
            pytest.raises(ConnectionFailed) as caught:
        client.leaderboards.list()
    assert isinstance(caught.value, TransportError) and type(caught.value).__module__.startswith("questgraph.client")
    assert f"cannot connect to 127.0.0.1:{port}" in str(caught.value) and APP_TOKEN not in str(caught.value)
    assert type(caught.value).__name__ == "ConnectionFailed"


def test_the_test_dependencies_are_a_group_not_an_extra() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "test" not in config["project"]["optional-dependencies"]
    group = config["dependency-groups"]["test"]
    assert any(r.startswith("pytest>=") for r in group) and not any(r.startswith("questgraph") for r in group)
    venv = (ROOT / "scripts" / "_venv.sh").read_text(encoding="utf-8")
    assert '--group "$group"' in venv
    assert "_venv.sh\" server,redis,postgres test" in (ROOT / "scripts" / "test").read_text(encoding="utf-8")
