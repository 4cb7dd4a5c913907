"""Retries, backoff and error mapping of the 429/5xx rows (D7), against an httpx MockTransport that fails
on purpose: safe calls are repeated, unsafe writes are not, waits are bounded, Retry-After is honoured,
and no token or secret reaches a log line or an exception."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable

import httpx
import pytest

from questgraph import AsyncClient, Client, RateLimited, RequestTimeout, RetryPolicy, ServerError, TransportError
from questgraph.client import NO_RETRY, GraphError
from tests.conftest import ADA_ID, APP_ID, APP_SECRET, RunningServer

SECRET = "5ecret5ecret5ecret5ecret5ecret55"
APP = "1234757621998335"
OK_ENTRIES = {"data": [{"id": "111111111111111", "rank": 1, "score": 7}]}
OK_SUBMIT = {"success": True, "did_update": True, "updated_challenge_ids": []}


def envelope(status: int, code: int, transient: bool = True) -> httpx.Response:
    return httpx.Response(status, json={"error": {"message": "boom", "type": "OCApiException", "code": code,
                                                  "is_transient": transient, "fbtrace_id": "A" * 23}})


class Script:
    """A transport that plays the given outcomes in order (a Response, or an exception to raise)."""

    def __init__(self, *outcomes: httpx.Response | Exception) -> None:
        self.outcomes = list(outcomes)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def make(script: Script, policy: RetryPolicy | None = None) -> tuple[Client, list[float]]:
    client = Client(app_id=APP, app_secret=SECRET, base_url="http://qg.test", transport=httpx.MockTransport(script),
                    retry=policy or RetryPolicy(attempts=3, base_delay=0.1, max_delay=1.0, rng=random.Random(1)))
    delays: list[float] = []
    client._sleep = delays.append  # type: ignore[method-assign]
    return client, delays


def read(client: Client) -> object:
    return client.leaderboards.entries_page("b")


def forced(client: Client) -> object:
    return client.leaderboards.submit_entry("b", 1, user_id="123402235207175", force_update=True)


def keep_best(client: Client) -> object:
    return client.leaderboards.submit_entry("b", 1, user_id="123402235207175")


def delete(client: Client) -> object:
    return client.leaderboards.delete_entry("111111111111111")


@pytest.mark.parametrize("failure", [envelope(500, 1), envelope(503, 2), httpx.ReadTimeout("slow"),
                                     httpx.RemoteProtocolError("dropped")], ids=["500", "503", "read-timeout", "drop"])
def test_safe_calls_are_retried_after_transient_failures(failure: httpx.Response | Exception) -> None:
    """Reads are repeated, and the repeat's answer is the call's."""
    script = Script(failure, httpx.Response(200, json=OK_ENTRIES))
    client, delays = make(script)
    page = client.leaderboards.entries_page("b")
    assert len(script.requests) == 2 and len(delays) == 1
    assert [(e.id, e.rank, e.score) for e in page.entries] == [("111111111111111", 1, 7)]


@pytest.mark.parametrize("call", [keep_best, forced, delete], ids=["keep-best submit", "forced submit", "delete"])
@pytest.mark.parametrize("failure", [envelope(500, 1), envelope(503, 2), httpx.ReadTimeout("slow"),
                                     httpx.RemoteProtocolError("dropped")], ids=["500", "503", "read-timeout", "drop"])
def test_unsafe_writes_are_not_retried(call: Callable[[Client], object], failure: httpx.Response | Exception) -> None:
    """A keep-best submit's repeat would answer did_update=False for its own write (D15), a forced submit's
    would move its write time, a delete's turns success into 404: never repeated once possibly applied."""
    script = Script(failure, httpx.Response(200, json=OK_SUBMIT))
    client, delays = make(script)
    expected = (ServerError if isinstance(failure, httpx.Response)
                else RequestTimeout if isinstance(failure, httpx.ReadTimeout) else TransportError)
    with pytest.raises(expected):
        call(client)
    assert len(script.requests) == 1 and delays == []


@pytest.mark.parametrize("call", [keep_best, forced, delete], ids=["keep-best submit", "forced submit", "delete"])
def test_unsent_or_refused_requests_are_retried_even_for_unsafe_writes(call: Callable[[Client], object]) -> None:
    """A connection that never opened and a 429 (refused before acting) cannot have applied the write."""
    script = Script(httpx.ConnectError("refused"), envelope(429, 4), httpx.Response(200, json=OK_SUBMIT))
    client, delays = make(script)
    call(client)
    assert len(script.requests) == 3 and len(delays) == 2


def test_attempts_are_bounded_and_the_last_error_is_raised() -> None:
    script = Script(envelope(500, 1), envelope(503, 2), envelope(500, 1), httpx.Response(200, json=OK_ENTRIES))
    client, delays = make(script)
    with pytest.raises(ServerError) as failed:
        read(client)
    assert len(script.requests) == 3 and len(delays) == 2 and failed.value.code == 1 and failed.value.is_transient
    no_retry, _ = make(Script(envelope(500, 1)), NO_RETRY)
    with pytest.raises(ServerError):
        read(no_retry)


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    """Equal jitter: the n-th wait is in [cap/2, cap] with cap = min(max_delay, base * 2**n)."""
    policy = RetryPolicy(attempts=10, base_delay=0.1, max_delay=1.0, rng=random.Random(7))
    error = ServerError("x", status=500, code=1, is_transient=True)
    for attempt in range(10):
        cap = min(1.0, 0.1 * 2 ** attempt)
        waits = {policy.delay(attempt, error) for _ in range(50)}
        assert all(cap / 2 <= w <= cap for w in waits) and len(waits) > 1


def test_retry_after_is_honoured_up_to_max_delay() -> None:
    script = Script(httpx.Response(429, headers={"Retry-After": "0.75"}, json={"error": {"code": 4}}),
                    httpx.Response(429, headers={"Retry-After": "3600"}, json={"error": {"code": 4}}),
                    httpx.Response(200, json=OK_ENTRIES))
    client, delays = make(script)
    read(client)
    assert delays[0] == pytest.approx(0.75) and delays[1] == 1.0  # max_delay bounds a hostile Retry-After


def test_error_rows_429_500_503_and_non_json() -> None:
    """D7 rows the real server cannot be made to produce on demand: their class, code and transience."""
    cases = [(envelope(429, 4), RateLimited, 4), (envelope(500, 1), ServerError, 1), (envelope(503, 2), ServerError, 2),
             (httpx.Response(502, text="<html>bad gateway</html>"), ServerError, None)]
    for response, kind, code in cases:
        client, _ = make(Script(response), NO_RETRY)
        with pytest.raises(kind) as raised:
            read(client)
        assert raised.value.code == code and raised.value.is_transient and raised.value.status == response.status_code
    client, _ = make(Script(httpx.Response(418, json={"error": {"message": "teapot", "code": 9}})), NO_RETRY)
    with pytest.raises(GraphError) as other:
        read(client)
    assert type(other.value) is GraphError and other.value.code == 9 and other.value.message == "teapot"


def test_no_secret_in_logs_requests_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    """The token travels only in the Authorization header: not in logs, not in the URL, not in errors."""
    next_link = f"http://evil.test/leaderboard_entries?api_name=b&after=c1&access_token=OC%7C{APP}%7C{SECRET}"
    script = Script(httpx.Response(200, json={**OK_ENTRIES, "paging": {"next": next_link}}),
                    envelope(500, 1), httpx.Response(200, json=OK_ENTRIES), httpx.ConnectError(f"no {SECRET}"),
                    httpx.ConnectError("x"), httpx.ConnectError("x"))
    client, _ = make(script)
    with caplog.at_level(logging.DEBUG, logger="questgraph.client"):
        assert len(list(client.leaderboards.entries("b"))) == 2
        with pytest.raises(TransportError) as down:
            read(client)
    assert SECRET not in caplog.text and "retrying" in caplog.text
    assert SECRET not in str(down.value) and SECRET not in repr(down.value)
    followed = script.requests[1]
    assert followed.url.host == "qg.test" and followed.url.params["after"] == "c1"  # rebased on base_url (D21)
    assert "access_token" not in str(followed.url)
    assert all(r.headers["authorization"] == f"Bearer OC|{APP}|{SECRET}" for r in script.requests)


def test_async_client_retries_the_same_way() -> None:
    async def run() -> None:
        script = Script(envelope(503, 2), httpx.Response(200, json=OK_ENTRIES),
                        envelope(500, 1), httpx.Response(200, json=OK_SUBMIT))
        delays: list[float] = []

        async def sleep(seconds: float) -> None:
            delays.append(seconds)

        async with AsyncClient(app_id=APP, app_secret=SECRET, base_url="http://qg.test",
                               transport=httpx.MockTransport(script),
                               retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.1)) as client:
            client._sleep = sleep  # type: ignore[method-assign]
            assert (await client.leaderboards.entries_page("b")).entries[0].score == 7
            with pytest.raises(ServerError):
                await client.leaderboards.submit_entry("b", 1, user_id="123402235207175", force_update=True)
        assert len(script.requests) == 3 and len(delays) == 1 and 0 < delays[0] <= 0.1

    asyncio.run(run())


# --- against a real server that commits, then loses the answer ---------------------------------------------
class LosesTheFirstAnswer(httpx.BaseTransport):
    """The request really reaches the server, which applies and commits it; the first answer is then
    thrown away as a dropped connection loses it (the client sees RemoteProtocolError)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.sent: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request.url.path)
        response = self.inner.handle_request(request)
        if len(self.sent) == 1:
            response.read()
            response.close()
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


def _answer_of(qg: RunningServer, write: Callable[[Client], object]) -> tuple[object, list[str]]:
    transport = LosesTheFirstAnswer()
    with Client(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url, transport=transport,
                retry=RetryPolicy(attempts=3, base_delay=0, max_delay=0)) as client:
        try:
            answer: object = write(client)
        except TransportError as error:
            answer = error
    return answer, transport.sent


def test_a_submit_whose_answer_was_lost_is_not_answered_did_update_false(qg: RunningServer) -> None:
    """The first try committed, its answer was lost. A repeat would answer did_update=False for the
    client's own write (D15); the client raises instead (no repeat), and the score is stored."""
    answer, sent = _answer_of(qg, lambda c: c.leaderboards.submit_entry("best_leaderboard", 4242, user_id=ADA_ID))
    assert isinstance(answer, TransportError) and not isinstance(answer, RequestTimeout), answer
    assert "transport failure" in str(answer)
    assert sent == ["/leaderboard_submit_entry"]
    with Client(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url) as client:
        entries = client.leaderboards.entries("best_leaderboard")
        assert [(e.user.id if e.user else None, e.score) for e in entries] == [(ADA_ID, 4242)]


@pytest.mark.parametrize("kind", ["SIMPLE", "BITFIELD"])
def test_an_unlock_whose_answer_was_lost_is_not_answered_just_unlocked_false(qg: RunningServer, kind: str) -> None:
    """Likewise force_unlock and add_bits: a repeat would answer just_unlocked=False for the call that
    unlocked (D24)."""
    with Client(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url) as client:
        sized = kind == "BITFIELD"
        client.achievements.create_or_update("LOST", achievement_type="BITFIELD" if sized else "SIMPLE",
                                             write_policy="SERVER_AUTHORITATIVE", title="t", description="d",
                                             bitfield_length=2 if sized else None, target=2 if sized else None)

    def unlock(c: Client) -> object:
        return c.achievements.force_unlock(ADA_ID, "LOST") if kind == "SIMPLE" else \
            c.achievements.add_bits(ADA_ID, "LOST", "11")

    answer, sent = _answer_of(qg, unlock)
    assert isinstance(answer, TransportError), answer
    assert sent == [f"/{ADA_ID}/achievements"]
    with Client(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url) as client:
        assert [(p.definition.api_name if p.definition else None, p.is_unlocked)
                for p in client.achievements.progress(ADA_ID)] == [("LOST", True)]
