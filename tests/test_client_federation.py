"""The client's federated users (A.2): ``client.federated_users``, sync and async, against a real server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from questgraph import AsyncClient, Client
from questgraph.client import FederatedUser, InvalidParameter, NotFound, PermissionDenied
from tests.conftest import APP_ID, APP_SECRET, RIVAL_APP_TOKEN, RunningServer


def test_federated_users_sync(qg: RunningServer) -> None:
    with Client(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url) as c:
        fed = c.federated_users
        made = fed.create("steam-1", "Lancelot")
        assert made == FederatedUser(made.id, "steam-1", "Lancelot#1", "Lancelot")
        assert fed.create("steam-2", "Lancelot").unique_name == "Lancelot#2"
        for i in range(3):
            fed.create(f"more-{i}", "Squire")
        everyone = list(fed.list(limit=2))  # three pages, followed until next is ""
        assert sorted(u.persistent_id or "" for u in everyone) == ["more-0", "more-1", "more-2", "steam-1", "steam-2"]
        page = fed.list_page(limit=10)
        assert len(page.data) == 5 and not page.has_next and not page.has_previous
        assert fed.find("steam-1") == made and fed.get(made.id) == made
        token = fed.gen_access_token("steam-1")
        player = c.as_user(token)  # shares c's connections: c closes them
        assert player.federated_users.me() == made
        assert player.leaderboards.submit_entry("best_leaderboard", 77).did_update
        assert fed.update("steam-1", "Galahad").unique_name == "Galahad#1"
        with pytest.raises(InvalidParameter):
            fed.create("steam-1", "Again")
        fed.delete("steam-1")
        with pytest.raises(NotFound):
            fed.find("steam-1")
        assert [e.score for e in c.leaderboards.entries("best_leaderboard") if e.user and e.user.id == made.id] == []
    with Client(access_token=RIVAL_APP_TOKEN, base_url=qg.url, app_id=APP_ID) as rival, pytest.raises(PermissionDenied):
        rival.federated_users.find("steam-2")


def test_federated_users_async(qg: RunningServer) -> None:
    async def run() -> None:
        async with AsyncClient(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url) as c:
            fed = c.federated_users
            made = await fed.create("psn-1", "Tristan")
            assert (await fed.find("psn-1")).unique_name == "Tristan#1"
            assert [u.id async for u in fed.list()] == [made.id]
            token = await fed.gen_access_token("psn-1")
            assert (await c.as_user(token).federated_users.me()).persistent_id == "psn-1"
            assert (await fed.update("psn-1", "Isolde")).display_name == "Isolde"
            await fed.delete("psn-1")
            assert (await fed.list_page()).data == []

    asyncio.run(run())


def test_the_federated_users_command(qg: RunningServer, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from questgraph.cli import main
    from tests.conftest import APP_TOKEN

    for name in ("QUESTGRAPH_BASE_URL", "QUESTGRAPH_ADMIN_KEY", "QUESTGRAPH_ACCESS_TOKEN", "QUESTGRAPH_APP_ID"):
        monkeypatch.delenv(name, raising=False)
    graph = ["--base-url", qg.url, "--token", APP_TOKEN]

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = run("federated-users", "create", "steam-9", "Lancelot", *graph, "--json")
    assert code == 0 and json.loads(out)["unique_name"] == "Lancelot#1"
    code, out, _ = run("federated-users", "list", *graph)
    assert code == 0 and out.splitlines()[0].split() == ["PERSISTENT_ID", "UNIQUE_NAME", "DISPLAY_NAME", "ID"]
    assert "steam-9" in out and "Lancelot#1" in out
    code, out, _ = run("federated-users", "token", "steam-9", *graph)
    assert code == 0 and out.strip().startswith("OC")
    code, _, err = run("federated-users", "create", "steam-9", "Again", *graph)
    assert code == 1 and "HTTP 400" in err and "persistent_id" in err
    code, out, _ = run("federated-users", "delete", "steam-9", *graph)
    assert code == 0 and "deleted" in out
    code, out, _ = run("federated-users", "list", *graph, "--json")
    assert json.loads(out) == []


CROSS_PLAY = {"orgs": [{"name": "S", "apps": [{
    "id": "1234567890123456", "name": "G", "secret": "s3cr3ts3cr3ts3cr3t",
    "leaderboards": [{"api_name": "laps", "sort_order": "LOWER_IS_BETTER"}],
    "federated_users": [{"persistent_id": "steam-1", "display_name": "Lancelot", "id": "555000000000123"}]}]}]}


@pytest.mark.questgraph_world(CROSS_PLAY)
def test_the_pytest_plugin_serves_federated_users(questgraph: Any) -> None:
    """questgraph.testing: a world's federated users, and ``federated_client`` with a token of one."""
    player = questgraph.federated_client("steam-1")
    assert player.federated_users.me().id == "555000000000123"
    assert player.leaderboards.submit_entry("laps", 61234).did_update
    entries = list(questgraph.client().leaderboards.entries("laps"))
    assert [(e.score, e.user.id if e.user else None) for e in entries] == [(61234, "555000000000123")]
