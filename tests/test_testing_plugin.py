"""The ``questgraph.testing`` pytest plugin: registered through its entry point, it gives a test a fresh
server with the world it declares, and configured clients; it adds fixtures only."""

from __future__ import annotations

import pytest

from questgraph.client import Client
from questgraph.testing import DEFAULT_WORLD, QuestgraphServer

pytest_plugins = ["pytester"]

WORLD = {
    "orgs": [{"name": "Mine", "apps": [{"id": "5555555555555555", "name": "G", "secret": "abcdefabcdefabcdef01",
              "leaderboards": [{"api_name": "laps", "sort_order": "LOWER_IS_BETTER",
                                "entries": [{"user": "zoe", "score": 61234}]}]}]}],
    "users": [{"alias": "zoe", "apps": [{"app": "5555555555555555"}]},
              {"alias": "yan", "apps": [{"app": "5555555555555555", "id": "555555555555556",
                                         "tokens": ["OCyanToken000000000000000000000000"]}]}],
}


def test_entry_point_is_registered(pytestconfig: pytest.Config) -> None:
    """pyproject's pytest11 entry point loads the plugin in any pytest run."""
    assert pytestconfig.pluginmanager.has_plugin("questgraph")


def test_default_world(questgraph: QuestgraphServer, questgraph_client: Client) -> None:
    """Without a mark the server holds DEFAULT_WORLD: its board, users and tokens work."""
    client = questgraph.client()
    ada = DEFAULT_WORLD["users"][0]["apps"][0]["id"]
    assert client.leaderboards.submit_entry("best_leaderboard", 5, user_id=ada).did_update
    assert [e.user.alias for e in questgraph.user_client("grace").leaderboards.entries(
        "best_leaderboard", filter="FRIENDS") if e.user] == ["ada"]  # friends are mutual (D10)
    # questgraph_client is an app client of the same server and app: it reads what the other one wrote.
    entries = questgraph_client.leaderboards.entries("best_leaderboard")
    assert [(e.user.id if e.user else None, e.score) for e in entries] == [(ada, 5)]


@pytest.mark.questgraph_world(WORLD)
def test_world_from_a_mark_and_isolation(questgraph: QuestgraphServer) -> None:
    """The mark's world is applied to a fresh in-memory server; ids left out are found by alias; tokens minted."""
    entries = list(questgraph.client().leaderboards.entries("laps"))
    assert [(e.user.alias if e.user else None, e.score) for e in entries] == [("zoe", 61234)]
    assert questgraph.user_id("zoe").isdigit()
    zoe = questgraph.user_client("zoe")  # no token declared: one is minted
    assert zoe.leaderboards.submit_entry("laps", 60000).did_update
    assert questgraph.token("yan") == "OCyanToken000000000000000000000000"
    assert questgraph.admin.get_app("5555555555555555").name == "G"


def test_factory_starts_independent_servers(questgraph_factory) -> None:  # type: ignore[no-untyped-def]
    """Two servers of one test share nothing."""
    one, two = questgraph_factory(WORLD), questgraph_factory(WORLD)
    one.client().leaderboards.remove_all("laps")
    assert list(one.client().leaderboards.entries("laps")) == []
    assert [e.score for e in two.client().leaderboards.entries("laps")] == [61234]
    assert one.url != two.url


def test_plugin_in_a_users_project(pytester: pytest.Pytester) -> None:
    """A user's test suite gets the fixtures through the entry point alone (no conftest import)."""
    pytester.makepyfile(test_backend="""
        import pytest

        @pytest.mark.questgraph_world({"orgs": [{"name": "S", "apps": [{"id": "7777777777777777", "name": "G",
            "secret": "s3cr3ts3cr3ts3cr3t", "leaderboards": [{"api_name": "laps",
            "sort_order": "LOWER_IS_BETTER"}]}]}], "users": [{"alias": "ada", "apps": [{"app": "7777777777777777"}]}]})
        def test_lap(questgraph, questgraph_client):
            questgraph_client.leaderboards.submit_entry("laps", 61234, user_id=questgraph.user_id("ada"))
            assert [e.score for e in questgraph_client.leaderboards.entries("laps")] == [61234]

        def test_default(questgraph_client):
            assert {b.api_name for b in questgraph_client.leaderboards.list()} == {"best_leaderboard"}

        @pytest.mark.questgraph_world("not a dict")
        def test_bad_mark(questgraph):
            pass
    """)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*questgraph_world takes one dict*"])


@pytest.mark.parametrize("skip_opt_in", [False, True])
def test_without_the_server_extra_a_test_fails_unless_skipping_is_opted_in(pytester: pytest.Pytester,
                                                                         skip_opt_in: bool) -> None:
    """A missing server extra must not turn a user's CI green with nothing tested: the test fails, with what to
    install; ``questgraph_skip_without_server = true`` makes it a skip instead."""
    pytester.makeconftest("""
        import sys
        sys.modules["uvicorn"] = None  # as if the server extra were not installed: importing it fails
    """)
    if skip_opt_in:
        pytester.makeini("[pytest]\nquestgraph_skip_without_server = true\n")
    pytester.makepyfile(test_backend="""
        def test_needs_a_server(questgraph):
            raise AssertionError("never reached: the fixture cannot start a server")
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs")
    if skip_opt_in:
        result.assert_outcomes(skipped=1)
        result.stdout.fnmatch_lines(["*uvicorn is missing*questgraph_skip_without_server is set*"])
    else:
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(["*uvicorn is missing*pip install*questgraph_skip_without_server = true*"])
        assert result.ret == 1
