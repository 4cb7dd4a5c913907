"""The ``questgraph`` admin and Graph commands, run through ``questgraph.cli.main`` against the shared
server: readable tables, ``--json``, options and environment, and errors that say what to do."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from questgraph.cli import main
from tests.conftest import ADA_ID, ADA_TOKEN, ADMIN_KEY, APP_ID, APP_TOKEN, RunningServer


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("QUESTGRAPH_BASE_URL", "QUESTGRAPH_ADMIN_KEY", "QUESTGRAPH_ACCESS_TOKEN", "QUESTGRAPH_APP_ID"):
        monkeypatch.delenv(name, raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def table(out: str) -> list[dict[str, str]]:
    """The rows of the CLI's aligned table (each cell starts under its header), as column → text."""
    header, *lines = out.strip("\n").splitlines()
    starts = [m.start() for m in re.finditer(r"\S+", header)]
    return [{name.lower(): line[a:b].strip() for name, a, b in zip(header.split(), starts, [*starts[1:], None],
                                                                   strict=True)} for line in lines]


def test_admin_commands_tables_and_json(qg: RunningServer, capsys: pytest.CaptureFixture[str]) -> None:
    """orgs, apps (create/show/rotate-secret), users, tokens, entitlements: tables for people, JSON for scripts."""
    admin = ["--base-url", qg.url, "--admin-key", ADMIN_KEY]
    code, out, _ = run(capsys, "orgs", "list", *admin)
    assert code == 0 and out.splitlines()[0].split() == ["ORG_ID", "ORG", "APP_ID", "APP"]
    assert "Doc Studio" in out and APP_ID in out
    code, out, _ = run(capsys, "orgs", "create", "CLI Studio", *admin, "--json")
    org = json.loads(out)
    assert code == 0 and org["name"] == "CLI Studio" and org["id"].isdigit()
    code, out, _ = run(capsys, "apps", "create", org["id"], "CLI Game", *admin, "--json")
    app = json.loads(out)
    assert app["app_access_token"] == f"OC|{app['id']}|{app['secret']}"
    code, out, _ = run(capsys, "apps", "show", app["id"], *admin)
    assert "CLI Game" in out and app["secret"] not in out
    code, out, _ = run(capsys, "rotate-secret", app["id"], *admin)
    assert code == 0 and "old secret no longer works" in out and app["secret"] not in out
    code, out, _ = run(capsys, "users", "create", app["id"], "cli_user", "--age-category", "TN", *admin, "--json")
    user = json.loads(out)
    assert user["alias"] == "cli_user" and user["age_category"] == "TN" and user["entitled"] is True
    code, out, _ = run(capsys, "users", "create", app["id"], "cli_other", "--not-entitled", *admin)
    [other] = table(out)
    assert code == 0 and other["alias"] == "cli_other" and other["entitled"] == "False" and other["app_id"] == app["id"]
    code, out, _ = run(capsys, "users", "list", app["id"], *admin, "--json")
    assert [u["alias"] for u in json.loads(out)] == ["cli_user", "cli_other"]
    code, out, _ = run(capsys, "users", "show", user["id"], *admin)
    assert "cli_user" in out
    code, out, _ = run(capsys, "tokens", "mint", user["id"], "--ttl", "60", *admin)
    assert code == 0 and out.startswith("OC") and len(out.strip()) == 98
    other = json.loads(run(capsys, "users", "list", app["id"], *admin, "--json")[1])[1]
    code, out, _ = run(capsys, "entitlements", "grant", other["id"], *admin)
    assert code == 0 and json.loads(run(capsys, "users", "show", other["id"], *admin, "--json")[1])["entitled"]


def test_leaderboard_commands(qg: RunningServer, capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Graph reads through the client; base URL and token from the environment."""
    monkeypatch.setenv("QUESTGRAPH_BASE_URL", qg.url)
    monkeypatch.setenv("QUESTGRAPH_ACCESS_TOKEN", APP_TOKEN)
    with qg.client(headers={"Authorization": f"Bearer {APP_TOKEN}"}) as http:
        http.post("/leaderboard_submit_entry", data={"api_name": "best_leaderboard", "score": 77, "user_id": ADA_ID,
                                                     "extra_data_base64": "Y2FyPXJlZA=="}).raise_for_status()
    code, out, _ = run(capsys, "leaderboard", "list")
    assert code == 0 and "best_leaderboard" in out and "SERVER_AUTHORITATIVE" in out
    code, out, _ = run(capsys, "leaderboard", "show", "best_leaderboard")
    lines = out.splitlines()
    assert "1 entries" in lines[0] and lines[1].split()[:4] == ["RANK", "USER", "USER_ID", "SCORE"]
    assert lines[2].split()[:4] == ["1", "ada", ADA_ID, "77"] and "car=red" in lines[2]
    code, out, _ = run(capsys, "leaderboard", "show", "best_leaderboard", "--json")
    data = json.loads(out)
    assert data["leaderboard"]["api_name"] == "best_leaderboard" and data["entries"][0]["extra_data"] == "Y2FyPXJlZA=="
    code, out, _ = run(capsys, "leaderboard", "list", "--token", ADA_TOKEN, "--app-id", APP_ID, "--json")
    assert code == 0 and len(json.loads(out)) == 3


def test_errors_say_what_to_do(qg: RunningServer, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "orgs", "list", "--base-url", qg.url)
    assert code == 1 and "--admin-key" in err and "QUESTGRAPH_ADMIN_KEY" in err
    code, _, err = run(capsys, "orgs", "list", "--base-url", qg.url, "--admin-key", "wrong-key")
    assert code == 1 and "admin key was refused" in err and "wrong-key" not in err
    code, _, err = run(capsys, "leaderboard", "list", "--base-url", qg.url)
    assert code == 1 and "--token" in err
    code, _, err = run(capsys, "leaderboard", "list", "--base-url", qg.url, "--token", ADA_TOKEN)
    assert code == 1 and "--app-id" in err
    bad = f"OC|{APP_ID}|{'0' * 32}"
    code, _, err = run(capsys, "leaderboard", "list", "--base-url", qg.url, "--token", bad)
    assert code == 1 and "access token was refused" in err and "0" * 32 not in err
    code, _, err = run(capsys, "leaderboard", "show", "nope", "--base-url", qg.url, "--token", APP_TOKEN)
    assert code == 1 and err.startswith("questgraph: not found")
    code, _, err = run(capsys, "users", "show", "999999999999999", "--base-url", qg.url, "--admin-key", ADMIN_KEY)
    assert code == 1 and "not found" in err
    code, _, err = run(capsys, "orgs", "list", "--base-url", "http://127.0.0.1:9", "--admin-key", ADMIN_KEY,
                       "--timeout", "1")
    assert code == 1 and "cannot reach http://127.0.0.1:9" in err and "questgraph serve" in err
    with pytest.raises(SystemExit) as usage:
        main(["leaderboard"])
    assert usage.value.code == 2  # argparse's usage error: a sub-command is required


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    from questgraph import __version__

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"questgraph {__version__}"


@pytest.mark.parametrize("argv", [  # a user may also be an alias: tests/test_cli_state.py
    ["apps", "show", "x1"], ["users", "list", "²"], ["users", "show", "9223372036854775808"],
    ["tokens", "mint", "99999999999999999999"], ["links", "revoke", "1e3"],
    ["orgs", "create", "Studio", "--id", "0x10"],
])
def test_an_id_that_is_not_one_is_one_sentence_and_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--admin-key", ADMIN_KEY, "--base-url", "http://127.0.0.1:9"])
    _, err = capsys.readouterr()
    assert exit_info.value.code == 2
    assert "is not an id: ids are decimal digits" in err and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith(f"questgraph {argv[0]}")


def test_serve_on_a_busy_port_says_which_flag_picks_another(tmp_path: Path) -> None:
    """Checked before the banner and before the database is opened: one message naming --port, exit 2."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "questgraph", "serve", "--demo", "--db",
                               str(tmp_path / "busy.sqlite3"), "--port", str(port)],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "--port N" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""  # no banner for a server that never starts
    assert not (tmp_path / "busy.sqlite3").exists()
