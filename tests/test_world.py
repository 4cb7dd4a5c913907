"""The TOML world file (docs/config.md): the demo world and the start-up banner, errors that name the item
at fault, ``questgraph serve`` refusing a bad file, and a world applied once, to an empty database only,
in one transaction (D9, D10, D11, D13, D19)."""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from questgraph.cli import banner
from questgraph.server.app import Server
from questgraph.server.auth import AppCaller, UserCaller
from questgraph.server.settings import Settings
from questgraph.server.world import World, WorldError
from tests.conftest import (
    ADA_ID,
    ADA_TOKEN,
    APP_ID,
    APP_TOKEN,
    WORLD_FILE,
    assert_graph_error,
    free_port,
    skip_or_fail,
    start_server,
)

DEMO_APP_ID = "1234757621998335"
DEMO_APP_TOKEN = f"OC|{DEMO_APP_ID}|1234f7a788b0c0b270f9691d0a06d5a5"

# A small valid world; the bad worlds below each break one thing in it.
GOOD = """
[[orgs]]
id = "3000000000000001"
name = "Studio"
sso_redirect_uris = ["https://studio.example/cb"]
  [[orgs.apps]]
  id = "3000000000000002"
  name = "Game"
  secret = "abcdef0123456789abcdef0123456789"
    [[orgs.apps.leaderboards]]
    api_name = "board"
    sort_order = "HIGHER_IS_BETTER"
    entries = [{ user = "ada", score = 10 }]

[[users]]
alias = "ada"
friends = ["bob"]
  [[users.apps]]
  app = "3000000000000002"
  id = "300000000000003"
  tokens = ["OCadaToken000000000000000000000000"]

[[users]]
alias = "bob"
  [[users.apps]]
  app = "3000000000000002"
"""


def world(text: str, source: str = "bad.toml") -> World:
    return World(tomllib.loads(textwrap.dedent(text)), source)


def memory_server(text: str) -> Server:
    return Server(Settings(database=":memory:"), world(text))


def test_the_good_world_of_these_tests_applies() -> None:
    """The baseline of the bad worlds below: every kind of item applies, ids as given (D9)."""
    server = memory_server(GOOD)
    caller = server.auth.authenticate("OC|3000000000000002|abcdef0123456789abcdef0123456789")
    assert isinstance(caller, AppCaller) and caller.app.name == "Game"
    user = server.auth.authenticate("OCadaToken000000000000000000000000")
    assert isinstance(user, UserCaller) and (user.user.id, user.user.alias) == (300000000000003, "ada")
    assert server.sso_store.list_redirect_uris(3000000000000001) == ["https://studio.example/cb"]
    board = server.leaderboard_store.find_leaderboard(3000000000000002, "board")
    assert board is not None and board.entry_write_policy == "CLIENT_AUTHORITATIVE"  # the default (D19)
    assert [e.score for e in server.leaderboard_store.entries_of_users(board.id, [300000000000003])] == [10]
    bob = server.identity_store.find_person_by_alias("bob")
    ada = server.identity_store.find_person_by_alias("ada")
    assert bob is not None and ada is not None
    assert server.identity_store.friends_of(bob) == [ada]  # friends are mutual (D10)
    assert server.identity_store.is_entitled(300000000000003, 3000000000000002)  # entitled by default


def test_the_demo_world_applies_and_answers_its_documented_tokens() -> None:
    """The demo world (``serve --demo``) holds Meta's documentation credentials, and they work."""
    server = Server(Settings(database=":memory:"), World.demo())
    app = server.auth.authenticate(DEMO_APP_TOKEN)
    assert isinstance(app, AppCaller) and str(app.app.id) == DEMO_APP_ID
    ada = server.auth.authenticate(ADA_TOKEN)
    assert isinstance(ada, UserCaller) and str(ada.user.id) == ADA_ID
    boards = {b.api_name: b for b in server.leaderboard_store.list_leaderboards(int(DEMO_APP_ID))}
    assert set(boards) == {"best_leaderboard", "fastest_lap_ms", "MY_NEW_LEADERBOARD"}
    assert boards["fastest_lap_ms"].entry_write_policy == "SERVER_AUTHORITATIVE"
    assert boards["fastest_lap_ms"].sort_order == "LOWER_IS_BETTER"
    assert World.demo().admin_key == "demo-admin-key"


def test_the_banner_prints_the_app_token_and_a_curl_line_that_works(tmp_path: Path) -> None:
    """What a newcomer reads first: the demo app's token and a curl command that, pasted into a shell,
    reads the demo board."""
    if shutil.which("curl") is None:
        skip_or_fail("curl is not installed")
    demo = World.demo()
    running = start_server(tmp_path, demo)
    try:
        text = banner(running.server, demo)
        assert f"app access token: {DEMO_APP_TOKEN}" in text
        assert f"Dashboard: {running.url}/dashboard " in text and f"page: {running.url}/sso/" in text
        with running.client() as http:  # both pages the banner names answer there
            assert "<form" in http.get("/dashboard/login").text
            assert http.get("/sso/").headers["content-type"].startswith("text/html")  # the page, not a Graph 404
        lines = text.splitlines()
        start = next(i for i, line in enumerate(lines) if line.strip().startswith("curl "))
        command = lines[start].strip()
        while command.endswith("\\"):
            start += 1
            command = command[:-1] + " " + lines[start].strip()
        assert running.url in command and DEMO_APP_TOKEN in command
        done = subprocess.run(["bash", "-c", command + " --silent --show-error --fail"], capture_output=True,
                              text=True, timeout=20)
        assert done.returncode == 0, done.stderr
        body = json.loads(done.stdout)
        assert [(r["user"]["alias"], r["rank"], r["score"]) for r in body["data"]] == [
            ("grace", 1, 15120), ("ada", 2, 12345), ("linus", 3, 9800), ("UnknownXuid", 4, 7000)]
        assert body["summary"] == {"total_count": 4}
    finally:
        running.stop()


def replace(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


# (name, the broken world, substrings the message must hold)
BAD_WORLDS = [
    ("missing-org-name", replace(GOOD, 'name = "Studio"\n', ""), ["orgs[0]", "missing key 'name'"]),
    ("missing-app-name", replace(GOOD, 'name = "Game"\n', ""), ["orgs[0] (Studio).apps[0]", "'name'"]),
    ("bad-app-id", replace(GOOD, 'id = "3000000000000002"', 'id = "30000x0000000002"'),
     ["orgs[0] (Studio).apps[0] (Game)", "id", "15 to 17 digits"]),
    ("short-org-id", replace(GOOD, 'id = "3000000000000001"', "id = 12345"), ["orgs[0] (Studio)", "12345"]),
    ("float-user-id", replace(GOOD, 'id = "300000000000003"', "id = 300000000000003.5"),
     ["users[0] (ada).apps[0]", "id"]),
    ("duplicate-id", replace(GOOD, 'id = "300000000000003"', 'id = "3000000000000001"'),
     ["users[0] (ada).apps[0]", "already used by", "orgs[0] (Studio)"]),
    ("unknown-friend", replace(GOOD, 'friends = ["bob"]', 'friends = ["bob", "carol"]'),
     ["users[0] (ada).friends[1]", "'carol'"]),
    ("bad-age-category", replace(GOOD, 'alias = "bob"\n', 'alias = "bob"\nage_category = "KID"\n'),
     ["users[1] (bob)", "age_category", "CH, TN, AD", "KID"]),
    ("duplicate-alias", replace(GOOD, 'alias = "bob"', 'alias = "ada"'),
     ["users[1] (ada)", "already used by users[0]"]),
    ("missing-alias", replace(GOOD, 'alias = "bob"\n', ""), ["users[1]", "missing key 'alias'"]),
    ("bad-alias", replace(GOOD, 'alias = "bob"', 'alias = "bob smith"'), ["users[1]", "alias"]),
    ("bad-secret", replace(GOOD, 'secret = "abcdef0123456789abcdef0123456789"', 'secret = "hunter2"'),
     ["orgs[0] (Studio).apps[0] (Game)", "secret", "16 to 128"]),
    ("secret-not-a-string", replace(GOOD, 'secret = "abcdef0123456789abcdef0123456789"', "secret = 1234"),
     ["apps[0] (Game)", "secret"]),
    ("bad-token", replace(GOOD, "OCadaToken000000000000000000000000", "OCshort"),
     ["users[0] (ada).apps[0].tokens[0]", "OC or FRL"]),
    ("shared-token", GOOD.rstrip() + '\n  tokens = ["OCadaToken000000000000000000000000"]\n',
     ["users[1] (bob).apps[0].tokens[0]", "already given to users[0] (ada)"]),
    ("unknown-key", replace(GOOD, "tokens = [", "tokenz = ["), ["users[0] (ada).apps[0]", "unknown key 'tokenz'"]),
    ("unknown-top-key", "[[user]]\nalias = 'x'\n", ["unknown key 'user'"]),
    ("undeclared-app", replace(GOOD, 'app = "3000000000000002"\n  id', 'app = "3000000000000009"\n  id'),
     ["users[0] (ada).apps[0]", "3000000000000009", "not declared"]),
    ("bad-redirect-uri", replace(GOOD, "https://studio.example/cb", "https://studio.example/cb#x"),
     ["orgs[0] (Studio).sso_redirect_uris[0]"]),
    ("bad-sort-order", replace(GOOD, '"HIGHER_IS_BETTER"', '"BIGGER"'),
     ["leaderboards[0] (board)", "sort_order", "BIGGER"]),
    ("missing-sort-order", replace(GOOD, 'sort_order = "HIGHER_IS_BETTER"\n', ""),
     ["leaderboards[0] (board)", "sort_order"]),
    ("bad-policy", replace(GOOD, 'sort_order = "HIGHER_IS_BETTER"', 'sort_order = "HIGHER_IS_BETTER"\n'
                           'entry_write_policy = "ANYONE"'), ["leaderboards[0] (board)", "entry_write_policy"]),
    ("bad-api-name", replace(GOOD, 'api_name = "board"', 'api_name = "my board"'), ["leaderboards[0]", "api_name"]),
    ("duplicate-board", replace(GOOD, "    entries = [", '    [[orgs.apps.leaderboards]]\n    api_name = "board"\n'
                                "    sort_order = \"LOWER_IS_BETTER\"\n    entries = ["),
     ["leaderboards[1] (board)", "already declared by", "leaderboards[0] (board)"]),
    ("float-score", replace(GOOD, "score = 10", "score = 10.5"), ["entries[0]", "score"]),
    ("score-beyond-int64", replace(GOOD, "score = 10", 'score = "9223372036854775808"'), ["entries[0]", "score"]),
    ("entry-of-unknown-user", replace(GOOD, 'user = "ada"', 'user = "zoe"'), ["entries[0]", "'zoe'"]),
    ("bad-extra-data", replace(GOOD, "score = 10", 'score = 10, extra_data_base64 = "%%%"'),
     ["entries[0]", "extra_data_base64"]),
    ("bad-window", replace(GOOD, 'sort_order = "HIGHER_IS_BETTER"', 'sort_order = "HIGHER_IS_BETTER"\n'
                           "earliest_allowed_entry_time = 20\nlatest_allowed_entry_time = 10"),
     ["leaderboards[0] (board)", "earliest_allowed_entry_time"]),
    ("entitled-not-bool", replace(GOOD, "  tokens = [", '  entitled = "no"\n  tokens = ['),
     ["users[0] (ada).apps[0]", "entitled"]),
    ("orgs-not-a-list", 'orgs = "Studio"\n', ["orgs", "list"]),
]


@pytest.mark.parametrize(("text", "expected"), [pytest.param(t, e, id=n) for n, t, e in BAD_WORLDS])
def test_a_bad_world_names_the_item_at_fault(text: str, expected: list[str]) -> None:
    """A WorldError whose message starts with the file and names the item (``users[1] (bob)``), raised
    when the world is loaded, before any database is touched; a bad secret is never echoed (D7)."""
    with pytest.raises(WorldError) as caught:
        world(text)
    message = str(caught.value)
    assert message.startswith("bad.toml: "), message
    for part in expected:
        assert part in message, message
    assert "hunter2" not in message


def test_a_world_that_fails_in_the_database_leaves_it_empty(tmp_path: Path) -> None:
    """Some faults show only when applied (here a fixed org-scoped id that contradicts the one the person
    already has in that org, D10). The world is one transaction: the file stays empty, so the fixed world
    applies on the next start instead of being skipped as "not empty"."""
    broken = textwrap.dedent("""
        [[orgs]]
        id = "3000000000000001"
        name = "Studio"
          [[orgs.apps]]
          id = "3000000000000002"
          name = "Game"
          [[orgs.apps]]
          id = "3000000000000005"
          name = "Sequel"
            [[orgs.apps.leaderboards]]
            api_name = "board"
            sort_order = "HIGHER_IS_BETTER"

        [[users]]
        alias = "bob"
          [[users.apps]]
          app = "3000000000000002"
          tokens = ["OCbobToken000000000000000000000000"]

        [[users]]
        alias = "ada"
          [[users.apps]]
          app = "3000000000000002"
          org_scoped_id = "300000000000009"
          [[users.apps]]
          app = "3000000000000005"
          org_scoped_id = "300000000000010"
    """)
    bad = world(broken)  # passes the load-time checks
    database = str(tmp_path / "world.sqlite3")
    with pytest.raises(WorldError) as caught:
        Server(Settings(database=database), bad)
    assert "users[1] (ada).apps[1]" in str(caught.value) and "org_scoped_id" in str(caught.value)
    with contextlib.closing(sqlite3.connect(database)) as conn:
        for table in ("objects", "orgs", "apps", "persons", "app_users", "user_tokens", "leaderboards"):
            assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone() == (0,), table
    server = Server(Settings(database=database), world(GOOD))
    assert server.identity_store.get_app(3000000000000002) is not None
    server.db.close()


def run_serve(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "questgraph", "serve", "--port", str(free_port()), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=30, cwd=cwd)


@pytest.mark.parametrize(("content", "expected"), [
    pytest.param(replace(GOOD, 'friends = ["bob"]', 'friends = ["carol"]'),
                 ["users[0] (ada).friends[0]", "'carol'"], id="unknown-friend"),
    pytest.param("[[orgs]\nname = 'x'\n", ["line 1"], id="toml-syntax"),
    pytest.param(None, ["missing.toml"], id="missing-file"),
])
def test_serve_refuses_a_bad_world_with_exit_code_2(tmp_path: Path, content: str | None,
                                                    expected: list[str]) -> None:
    """``questgraph serve --config bad.toml`` exits 2 with one readable line on stderr (no traceback), and
    does so even when the database already holds state (the file is checked whatever happens to it)."""
    name = "missing.toml" if content is None else "bad.toml"
    if content is not None:
        (tmp_path / name).write_text(content, encoding="utf-8")
    seeded = tmp_path / "seeded.sqlite3"
    Server(Settings(database=str(seeded)), World.load(WORLD_FILE)).db.close()
    done = run_serve("--config", name, "--db", str(seeded), cwd=tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert done.stderr.startswith("questgraph: "), done.stderr
    for part in expected:
        assert part in done.stderr, done.stderr
    assert not (tmp_path / "questgraph.sqlite3").exists()  # no stray default database was made


def test_a_world_is_applied_only_to_an_empty_database(tmp_path: Path) -> None:
    """Restarting on the same file keeps what the API changed (a rotated secret, a new user, a score);
    the world is not applied again. An emptied database gets the world again on the next start."""
    running = start_server(tmp_path)
    try:
        with running.admin() as admin, running.client() as http:
            new_secret = admin.post(f"/_admin/apps/{APP_ID}/secret").json()["secret"]
            made = admin.post(f"/_admin/apps/{APP_ID}/users", data={"alias": "newbie"}).json()
            token = f"OC|{APP_ID}|{new_secret}"
            assert http.post("/leaderboard_submit_entry", headers={"Authorization": f"Bearer {token}"},
                             data={"api_name": "best_leaderboard", "score": "77", "user_id": made["id"]}
                             ).status_code == 200
    finally:
        running.stop()
    running = start_server(tmp_path)
    try:
        with running.admin() as admin, running.client() as http:
            auth = {"Authorization": f"Bearer OC|{APP_ID}|{new_secret}"}
            old = http.get(f"/{APP_ID}/leaderboards", headers={"Authorization": f"Bearer {APP_TOKEN}"})
            assert_graph_error(old, 401, 190)
            page = http.get("/leaderboard_entries", headers=auth,
                            params={"api_name": "best_leaderboard", "fields": "user{id},score"})
            assert [(r["user"]["id"], r["score"]) for r in page.json()["data"]] == [(made["id"], 77)]
            assert admin.get(f"/_admin/users/{made['id']}").json()["alias"] == "newbie"
            assert admin.post("/_admin/reset", data={"empty": "true"}).status_code == 200
    finally:
        running.stop()
    running = start_server(tmp_path)
    try:
        with running.client() as http:
            response = http.get(f"/{APP_ID}/leaderboards", headers={"Authorization": f"Bearer {APP_TOKEN}"})
            assert response.status_code == 200, response.text
    finally:
        running.stop()


def test_the_world_admin_key_must_be_a_string() -> None:
    with pytest.raises(WorldError, match="admin_key"):
        world("admin_key = 12345\n")
    assert world('admin_key = "k"\n').admin_key == "k"
    assert world("").admin_key is None


def test_a_fixed_user_id_may_be_used_to_place_an_entry() -> None:
    """An entry's ``user`` is an alias or the user's id in that app."""
    server = memory_server(replace(GOOD, 'user = "ada"', 'user = "300000000000003"'))
    board = server.leaderboard_store.find_leaderboard(3000000000000002, "board")
    assert board is not None
    entries = server.leaderboard_store.entries_of_users(board.id, [300000000000003])
    assert [e.user_id for e in entries] == [300000000000003]
