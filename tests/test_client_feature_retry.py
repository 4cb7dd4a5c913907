"""Retry safety of the writes added by achievements, entitlements, subscriptions and account linking
(docs/client.md, "Retries"), against an httpx MockTransport that fails on purpose: a write whose repeat
leaves the same state and gives the same answer is repeated after a transient failure; one whose repeat
would count twice, spend a single-use code (D32), trip refresh-code reuse detection (D34), turn a success
into an error, or answer just_unlocked=False for its own unlock (D24), is not.
Also the multipart shape of a definition upsert with icons (§2.1)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

import httpx
import pytest

from questgraph import AsyncClient, Client, RequestTimeout, RetryPolicy, ServerError
from questgraph.client import AdminClient
from tests.test_client_retry import APP, SECRET, Script, envelope

USER = "123402235207175"
CODE = "c0de" * 16
OK = {"success": True}
WRITE = {"id": USER, "api_name": "a", "just_unlocked": True}
TOKENS = {"oauth_token": "OCAe" + "x" * 96, "refresh_code": "r" * 64}
ITEM = {"id": "111111111111111", "app_id": APP, "sku": "s", "type": "DURABLE", "name": "n", "description": "",
        "price": 1, "currency": "USD"}
RECORD = {"id": "111111111111112", "kind": "purchase", "sku": "s", "type": "DURABLE", "granted_at": 1}

Case = tuple[Callable[[Client], object], dict[str, object]]
SAFE: dict[str, Case] = {
    "verify": (lambda c: c.entitlements.verify(USER, sku="s"), {"success": True, "grant_time": 5}),
    "definition upsert": (lambda c: c.achievements.create_or_update(
        "a", achievement_type="SIMPLE", title="t", description="d", unlocked_image=b"\x89PNG\r\n\x1a\nx"),
        {"id": "111111111111111"}),
    "achievement remove_all": (lambda c: c.achievements.remove_all(USER), OK),
    "cancel": (lambda c: c.subscriptions.cancel("s", owner_id=USER), OK),
    "progress read": (lambda c: c.achievements.progress_page(USER), {"data": []}),
    "subscription status": (lambda c: c.subscriptions.status_page(), {"data": []}),
}
UNSAFE: dict[str, Case] = {
    "consume": (lambda c: c.entitlements.consume("s", USER), OK),
    "refund": (lambda c: c.entitlements.refund("s", USER, reason="other"), OK),
    "add_count": (lambda c: c.achievements.add_count(USER, "a", 1), WRITE),
    "force_unlock": (lambda c: c.achievements.force_unlock(USER, "a"), WRITE),
    "add_bits": (lambda c: c.achievements.add_bits(USER, "a", "101"), WRITE),
    "extend": (lambda c: c.subscriptions.extend("s", 3, owner_id=USER), OK),
    "code exchange": (lambda c: c.account_linking.exchange_code(CODE, "555555555555555"), TOKENS),
    "refresh": (lambda c: c.account_linking.refresh("555555555555555", "r" * 64), TOKENS),
}


def same_body(request: httpx.Request) -> bytes:
    """The body without its multipart boundary (random per try)."""
    boundary = request.headers.get("content-type", "").partition("boundary=")[2].encode()
    return request.content.replace(boundary, b"") if boundary else request.content


def make(script: Script) -> tuple[Client, list[float]]:
    client = Client(app_id=APP, app_secret=SECRET, base_url="http://qg.test", transport=httpx.MockTransport(script),
                    retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.1, rng=random.Random(3)))
    delays: list[float] = []
    client._sleep = delays.append  # type: ignore[method-assign]
    return client, delays


@pytest.mark.parametrize("name", list(SAFE))
@pytest.mark.parametrize("failure", [envelope(500, 1), envelope(503, 2), httpx.ReadTimeout("slow")],
                         ids=["500", "503", "read-timeout"])
def test_safe_writes_and_reads_are_repeated(name: str, failure: httpx.Response | Exception) -> None:
    """verify, the definition upsert (D23), remove_all and cancel (§6.2) leave the same state and give the
    same answer when repeated: one transient failure, then the answer."""
    call, ok = SAFE[name]
    script = Script(failure, httpx.Response(200, json=ok))
    client, delays = make(script)
    call(client)
    assert len(script.requests) == 2 and len(delays) == 1
    assert same_body(script.requests[0]) == same_body(script.requests[1])  # the very same request again


@pytest.mark.parametrize("name", list(UNSAFE))
@pytest.mark.parametrize("failure", [envelope(500, 1), envelope(503, 2), httpx.ReadTimeout("slow")],
                         ids=["500", "503", "read-timeout"])
def test_unsafe_writes_are_never_repeated(name: str, failure: httpx.Response | Exception) -> None:
    """consume (a repeat answers False for a success), refund (400 on repeat), add_count (counts twice),
    force_unlock and add_bits (a repeat answers just_unlocked=False for its own unlock, D24), extend
    (extends twice), the code exchange (single use, D32) and refresh (rotation + reuse detection, D34):
    one try only; the error reaches the caller."""
    call, ok = UNSAFE[name]
    script = Script(failure, httpx.Response(200, json=ok))
    client, delays = make(script)
    with pytest.raises(ServerError if isinstance(failure, httpx.Response) else RequestTimeout):
        call(client)
    assert len(script.requests) == 1 and delays == []


@pytest.mark.parametrize("name", list(UNSAFE))
def test_unsent_or_refused_unsafe_writes_are_repeated(name: str) -> None:
    """A request that never left (connect error) or that the server refused before acting (429, code 4)
    cannot have spent a code or counted: repeating it is harmless even for these writes."""
    call, ok = UNSAFE[name]
    script = Script(httpx.ConnectError("refused"), envelope(429, 4), httpx.Response(200, json=ok))
    client, delays = make(script)
    call(client)
    assert len(script.requests) == 3 and len(delays) == 2


def test_admin_grant_and_create_item_are_not_repeated_but_reads_are() -> None:
    """Granting or adding an item twice is a 400 on the server: never repeated; listing is."""
    script = Script(envelope(500, 1), envelope(500, 1), envelope(500, 1), httpx.Response(200, json={"data": [ITEM]}))
    with AdminClient("http://qg.test", admin_key="k", transport=httpx.MockTransport(script),
                     retry=RetryPolicy(attempts=3, base_delay=0, max_delay=0)) as admin:
        with pytest.raises(ServerError):
            admin.grant_item(USER, "s")
        with pytest.raises(ServerError):
            admin.create_item(APP, "s", "DURABLE", "n")
        assert [i.sku for i in admin.items(APP)] == ["s"]
    assert len(script.requests) == 4


def test_definition_upsert_with_icons_is_multipart() -> None:
    """§2.1: icons go as multipart files named unlocked_image_file / locked_image_file, with the other
    parameters as form parts; the content type is read from the bytes."""
    script = Script(httpx.Response(200, json={"id": "111111111111111"}))
    client, _ = make(script)
    client.achievements.create_or_update("a", title="t", unlocked_image=b"GIF89a..",
                                         locked_image=("l.png", b"\x89PNG\r\n\x1a\n", "image/png"))
    sent = script.requests[0]
    assert sent.headers["content-type"].startswith("multipart/form-data; boundary=")
    body = sent.content
    assert b'name="unlocked_image_file"; filename="unlocked_image_file.gif"' in body
    assert b"Content-Type: image/gif" in body and b'name="locked_image_file"; filename="l.png"' in body
    assert b'name="api_name"\r\n\r\na\r\n' in body and b'name="title"\r\n\r\nt\r\n' in body
    assert sent.url.path == f"/{APP}/achievement_definitions" and SECRET not in str(sent.url)


def test_async_client_does_not_repeat_an_exchange_but_repeats_verify() -> None:
    async def run() -> None:
        script = Script(envelope(503, 2), httpx.Response(200, json={"success": False}), envelope(500, 1),
                        httpx.Response(200, json=TOKENS))
        delays: list[float] = []

        async def sleep(seconds: float) -> None:
            delays.append(seconds)

        async with AsyncClient(app_id=APP, app_secret=SECRET, base_url="http://qg.test",
                               transport=httpx.MockTransport(script),
                               retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.1)) as client:
            client._sleep = sleep  # type: ignore[method-assign]
            assert not await client.entitlements.verify(USER)
            with pytest.raises(ServerError):
                await client.account_linking.exchange_code(CODE, "555555555555555")
        assert len(script.requests) == 3 and len(delays) == 1

    asyncio.run(run())
