"""The ``questgraph.testing`` plugin (issue 5) with a world that declares achievements with progress, an IAP
catalogue, grants and a user proof nonce: the world dict takes the world file's keys (docs/config.md), so a
user's back-end tests can start from any state of every feature (D8, D23, D27–D29)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from questgraph.server.world import WorldError
from questgraph.testing import QuestgraphServer

pytest_plugins = ["pytester"]

APP = "6666666666666666"
NONCE = "PluginTestNonce00000000000000001"
SHOP_WORLD: dict[str, Any] = {
    "orgs": [{"name": "Shop Studio", "apps": [{
        "id": APP, "name": "Shop", "secret": "abcdefabcdefabcdef01",
        "achievements": [
            {"api_name": "first_win", "achievement_type": "SIMPLE", "title": "First win", "description": "Win"},
            {"api_name": "laps", "achievement_type": "COUNT", "target": 10, "title": "Laps", "description": "10 laps",
             "progress": [{"user": "zoe", "add_count": 9}]},
        ],
        "items": [
            {"sku": "sword", "type": "DURABLE", "name": "Sword", "price": 299},
            {"sku": "potion", "type": "CONSUMABLE", "name": "Potion", "price": 99},
            {"sku": "pass", "type": "SUBSCRIPTION", "name": "Pass", "price": 499, "subscription_term": "MONTHLY",
             "trial_type": "FREE_TRIAL", "trial_term": "WEEKLY"},
        ],
    }]}],
    "users": [
        {"alias": "zoe", "apps": [{"app": APP, "purchases": ["sword", "potion", {"sku": "pass", "trial": True}],
                                   "nonces": [NONCE]}]},
        {"alias": "yan", "apps": [{"app": APP}]},
    ],
}


def test_factory_world_with_achievements_catalogue_grants_and_a_nonce(
        questgraph_factory: Callable[[dict[str, Any]], QuestgraphServer]) -> None:
    """Every feature's declared state is there, read through the configured client."""
    server = questgraph_factory(SHOP_WORLD)
    client = server.client()
    zoe, yan = server.user_id("zoe"), server.user_id("yan")
    assert {d.api_name for d in client.achievements.definitions()} == {"first_win", "laps"}
    progress = {p.api_name: p.count_progress for p in client.achievements.progress(zoe)}
    assert progress == {"laps": 9}
    assert client.achievements.add_count(zoe, "laps", 1).just_unlocked is True  # 9 + 1 reaches the target (D23)
    assert client.entitlements.verify(zoe, sku="sword")
    assert not client.entitlements.verify(yan, sku="sword")
    assert client.entitlements.consume("potion", zoe) is True
    assert [i.sku for i in client.entitlements.available_purchases()] == ["pass", "potion", "sword"]
    [sub] = list(client.subscriptions.status(owner_id=zoe))
    assert (sub.sku, sub.is_active, sub.is_trial) == ("pass", True, True)
    assert client.users.validate_nonce(NONCE, zoe) is True
    assert client.users.validate_nonce(NONCE, zoe) is False  # single use (D8)


def test_a_bad_declared_state_fails_the_test_with_the_worlds_message(
        questgraph_factory: Callable[[dict[str, Any]], QuestgraphServer]) -> None:
    """A grant of a sku not in the catalogue is refused when the world is loaded, naming the item."""
    world = {**SHOP_WORLD, "users": [{"alias": "zoe", "apps": [{"app": APP, "purchases": ["shield"]}]}]}
    with pytest.raises(WorldError, match=r"no item with sku 'shield' in the catalogue of app 6666666666666666"):
        questgraph_factory(world)


def test_plugin_mark_with_every_feature_in_a_users_project(pytester: pytest.Pytester) -> None:
    """In a user's own suite (entry point only), a ``questgraph_world`` mark declaring achievements, a
    catalogue, grants and a nonce gives the test that state."""
    pytester.makepyfile(test_shop=f"""
        import pytest

        WORLD = {SHOP_WORLD!r}

        @pytest.mark.questgraph_world(WORLD)
        def test_shop(questgraph, questgraph_client):
            zoe = questgraph.user_id("zoe")
            assert questgraph_client.entitlements.verify(zoe, sku="sword")
            assert [p.count_progress for p in questgraph_client.achievements.progress(zoe)] == [9]
            assert questgraph_client.users.validate_nonce({NONCE!r}, zoe) is True
    """)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
