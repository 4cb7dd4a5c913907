"""Issue 7, the last gaps: the request inspector's command-line flags, dashboard members declared in the world
file, and the rate limit of the dashboard's password sign-in (the SSO page's limiter, D30)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from questgraph.cli import main
from questgraph.server.sso.limiter import LoginLimiter, TooManyAttempts
from questgraph.server.world import World, WorldError
from tests.conftest import ADMIN_KEY, APP_ID, APP_TOKEN, RunningServer, dump_database, free_port, start_server
from tests.dash_support import DOC_ORG_ID, add_member, sign_in_emulator, sign_in_password

WORLD_FILE = Path(__file__).parent / "world.toml"


# --- 1. --inspector-size and --inspector-sample-rate --------------------------------------------------------
@pytest.mark.parametrize(("flag", "value", "wanted"), [
    ("--inspector-size", "-1", "from 0 (off) to 100000"),
    ("--inspector-size", "100001", "from 0 (off) to 100000"),
    ("--inspector-size", "ten", "from 0 (off) to 100000"),
    ("--inspector-sample-rate", "1.5", "from 0 (keep none) to 1 (keep all)"),
    ("--inspector-sample-rate", "-0.1", "from 0 (keep none) to 1 (keep all)"),
    ("--inspector-sample-rate", "nan", "from 0 (keep none) to 1 (keep all)"),
    ("--inspector-sample-rate", "half", "from 0 (keep none) to 1 (keep all)"),
])
def test_bad_inspector_flags_are_refused(flag: str, value: str, wanted: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 7: a bad value stops `serve` before anything is opened, with a message saying what is accepted."""
    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--memory", flag, value])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: must be" in err and wanted in err and repr(value) in err


def _serve(*flags: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "questgraph", "serve", "--memory", "--config", str(WORLD_FILE), "--port", str(port),
         "--admin-key", ADMIN_KEY, "--log-level", "warning", *flags],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/_health/ready", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    raise AssertionError("questgraph serve did not start")


@pytest.mark.parametrize(("flags", "kept", "state"), [
    (("--inspector-size", "0"), 0, "The inspector is off on this server"),
    (("--inspector-size", "1", "--inspector-sample-rate", "100%"), 1, "Keeping the last 1 requests of each app."),
])
def test_inspector_flags_reach_the_server(flags: tuple[str, ...], kept: int, state: str) -> None:
    """Issue 7: `--inspector-size 0` records nothing (an emulator server otherwise keeps every request);
    `--inspector-size 1` keeps only the newest one."""
    process, url = _serve(*flags)
    try:
        for path in ("/leaderboards", "/leaderboards", "/achievement_definitions"):
            assert httpx.get(f"{url}/{APP_ID}{path}", params={"access_token": APP_TOKEN}).status_code == 200
        with httpx.Client(base_url=url, follow_redirects=False) as browser:
            sign_in_emulator(browser)
            page = browser.get(f"/dashboard/apps/{APP_ID}/inspector").text
        assert state in page
        assert page.count(f"<code>/{APP_ID}/") == kept
        if kept:
            assert f"<code>/{APP_ID}/achievement_definitions</code>" in page  # the newest one
        else:
            assert "No requests recorded yet." in page
    finally:
        process.terminate()
        process.wait(10)


# --- 2. members in the world file ---------------------------------------------------------------------------
def _world(members: Any) -> dict[str, Any]:
    return {"orgs": [{"id": DOC_ORG_ID, "name": "Doc Studio", "members": members,
                      "apps": [{"id": APP_ID, "name": "Doc Game", "secret": APP_TOKEN.split("|")[2]}]}]}


MEMBERS = [{"email": "Boss@Studio.example", "role": "admin", "password": "boss passphrase 1", "name": "Boss"},
           {"email": "dev@studio.example", "role": "developer", "password": "dev passphrase 22"},
           {"email": "nopass@studio.example"}]


@pytest.fixture
def members_server(tmp_path: Path) -> Iterator[RunningServer]:
    server = start_server(tmp_path, world=World(data=_world(MEMBERS), source="test"))
    yield server
    server.stop()


def test_world_members_are_created_and_can_sign_in(members_server: RunningServer) -> None:
    """Issue 7: `members` of an org become dashboard members (same code as the admin API): roles as declared
    (developer by default), passwords stored only as scrypt hashes, and sign-in works with them."""
    with members_server.client(headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as admin:
        listed = {m["email"]: m for m in admin.get(f"/_admin/orgs/{DOC_ORG_ID}/members").json()["data"]}
    assert {e: (m["role"], m["has_password"]) for e, m in listed.items()} == {
        "boss@studio.example": ("admin", True), "dev@studio.example": ("developer", True),
        "nopass@studio.example": ("developer", False)}
    assert listed["boss@studio.example"]["name"] == "Boss"
    dump = dump_database(members_server)
    assert "boss passphrase 1" not in dump and "dev passphrase 22" not in dump and "scrypt$" in dump
    with members_server.client(follow_redirects=False) as browser:
        assert sign_in_password(browser, "boss@studio.example", "boss passphrase 1").status_code == 303
        assert "Rotate app secret" in browser.get(f"/dashboard/apps/{APP_ID}").text  # an admin
    with members_server.client(follow_redirects=False) as browser:
        assert sign_in_password(browser, "dev@studio.example", "dev passphrase 22").status_code == 303
        assert "Rotate app secret" not in browser.get(f"/dashboard/apps/{APP_ID}").text  # a developer


@pytest.mark.parametrize(("members", "message"), [
    ({"email": "a@b.example"}, "orgs[0] (Doc Studio).members: must be an array of tables"),
    (["a@b.example"], "members[0]: must be a table"),
    ([{"role": "admin"}], "members[0]: email is required"),
    ([{"email": "not an email"}], "members[0]: email must be an email address"),
    ([{"email": "a@b.example", "role": "owner"}], "members[0]: role must be one of admin, developer"),
    ([{"email": "a@b.example", "password": "short"}], "members[0]: password must be 8 to 1024 characters"),
    ([{"email": "a@b.example", "password": 12345678}], "members[0]: password must be a string"),
    ([{"email": "a@b.example", "pasword": "long enough pw"}], "members[0]: unknown key 'pasword'"),
    ([{"email": "a@b.example"}, {"email": "A@B.example "}], "members[1]: a@b.example is already a member"),
])
def test_bad_world_members_are_refused_at_load(members: Any, message: str) -> None:
    """Issue 7: checked when the file is loaded, naming the item; a password is never repeated."""
    with pytest.raises(WorldError) as refused:
        World(data=_world(members), source="w.toml")
    assert message in str(refused.value)
    assert "short" not in str(refused.value).replace("w.toml", "")


# --- 3. the sign-in rate limit ------------------------------------------------------------------------------
def _locked(response: httpx.Response) -> bool:
    return response.status_code == 429 and "Too many failed sign-in attempts" in response.text


def test_failed_sign_ins_lock_the_email(qg: RunningServer, admin: httpx.Client) -> None:
    """D30's limiter on the dashboard: 5 failures for an email lock it for 15 minutes (server clock), even
    for the right password, with no session given; other emails are not locked; then it opens again."""
    add_member(admin, "boss@studio.example", "admin", "right passphrase")
    add_member(admin, "dev@studio.example", "developer", "dev passphrase")
    with qg.client(follow_redirects=False) as browser:
        for _ in range(5):
            assert sign_in_password(browser, "BOSS@studio.example", "wrong passphrase").status_code == 401
        locked = sign_in_password(browser, "boss@studio.example", "right passphrase")
        assert _locked(locked) and "qg_dash_session" not in locked.headers.get("set-cookie", "")
        assert 'name="email"' in locked.text  # the sign-in page again, saying why
        assert sign_in_password(browser, "dev@studio.example", "dev passphrase").status_code == 303
    admin.post("/_admin/clock", data={"advance_seconds": str(15 * 60 + 1)}).raise_for_status()
    with qg.client(follow_redirects=False) as browser:
        assert sign_in_password(browser, "boss@studio.example", "right passphrase").status_code == 303


def test_failed_sign_ins_lock_the_client_address(qg: RunningServer, admin: httpx.Client) -> None:
    """20 failures from one address, spread over many emails (none locked by itself), lock the address."""
    add_member(admin, "boss@studio.example", "admin", "right passphrase")
    with qg.client(follow_redirects=False) as browser:
        for i in range(20):
            assert sign_in_password(browser, f"guess{i % 5}-{i}@studio.example", "wrong passphrase"
                                    ).status_code == 401
        assert _locked(sign_in_password(browser, "boss@studio.example", "right passphrase"))


def test_a_success_clears_the_email_count(qg: RunningServer, admin: httpx.Client) -> None:
    """A right password forgives the email's earlier failures (a typo four times is not a lock-out)."""
    add_member(admin, "boss@studio.example", "admin", "right passphrase")
    with qg.client(follow_redirects=False) as browser:
        for _ in range(2):
            for _ in range(4):
                assert sign_in_password(browser, "boss@studio.example", "typo passphrase").status_code == 401
            assert sign_in_password(browser, "boss@studio.example", "right passphrase").status_code == 303


def test_dashboard_and_sso_share_one_limiter_but_not_counts(qg: RunningServer, admin: httpx.Client) -> None:
    """One implementation (sso/limiter.py), two namespaces: a locked dashboard email is no locked SSO alias."""
    dashboard, sso = qg.server.dashboard.login_limiter, qg.server.sso.login_limiter
    assert type(dashboard) is LoginLimiter and type(sso) is LoginLimiter
    add_member(admin, "ada@studio.example", "admin", "right passphrase")
    with qg.client(follow_redirects=False) as browser:
        for _ in range(5):
            sign_in_password(browser, "ada@studio.example", "wrong passphrase")
        assert _locked(sign_in_password(browser, "ada@studio.example", "right passphrase"))
    sso.check("ada@studio.example", "127.0.0.1")  # does not raise: the SSO counts are separate
    with pytest.raises(TooManyAttempts):
        dashboard.check("ada@studio.example", "203.0.113.7")  # the email is locked from any address
