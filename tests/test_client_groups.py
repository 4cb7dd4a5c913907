"""The sync and async groups are derived from one definition (docs/client.md, "How the client is built"):
the same methods with the same parameters and docstrings on both; awaited (or ``async for``) on the async
client; call arguments checked when the async call is awaited, as a coroutine method checks them."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from questgraph import AdminClient, AsyncAdminClient, AsyncClient, Client

GROUPS = ("leaderboards", "achievements", "entitlements", "subscriptions", "users", "account_linking",
          "notifications")


def methods(group: object) -> dict[str, object]:
    return {name: getattr(group, name) for name in dir(group) if not name.startswith("_")}


def pairs() -> list[tuple[str, object, object]]:
    sync, async_ = Client(app_id=1, app_secret="s"), AsyncClient(app_id=1, app_secret="s")
    admin, async_admin = AdminClient(admin_key="k"), AsyncAdminClient(admin_key="k")
    groups = [(name, getattr(sync, name), getattr(async_, name)) for name in GROUPS]
    return [*groups, ("admin", admin, async_admin)]


@pytest.mark.parametrize(("name", "sync", "async_"), pairs(), ids=lambda v: v if isinstance(v, str) else "")
def test_both_flavours_have_the_same_methods(name: str, sync: object, async_: object) -> None:
    lifecycle = {"close", "aclose", "base_url"}
    ours, theirs = methods(sync), methods(async_)
    assert set(ours) - lifecycle == set(theirs) - lifecycle
    for method, function in ours.items():
        if method in lifecycle:
            continue
        other = theirs[method]
        assert inspect.signature(function) == inspect.signature(other), method  # type: ignore[arg-type]
        assert function.__doc__ and function.__doc__ == other.__doc__, method
        awaited = inspect.iscoroutinefunction(other) or inspect.isasyncgenfunction(other)
        plain = method in ("sso_url", "decode_fragment")  # builds a URL or reads one: no call to await
        assert awaited is not plain, method
        assert not (inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function)), method


def test_an_async_call_checks_its_arguments_when_awaited() -> None:
    client = AsyncClient(app_id=1, app_secret="s")
    pending = client.leaderboards.submit_entry("laps", "12")  # type: ignore[arg-type]  # not an int
    with pytest.raises(TypeError, match="score must be an int"):
        asyncio.run(pending)
