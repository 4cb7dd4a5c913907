"""The synchronous client: the I/O half of ``BaseClient`` over ``httpx.Client``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any, TypeVar

import httpx

from questgraph.client._base import DEFAULT_BASE_URL, DEFAULT_TIMEOUT, BaseClient, Call, PageT, params
from questgraph.client._errors import QuestGraphError
from questgraph.client._retry import RetryPolicy

T = TypeVar("T")


class Client(BaseClient):
    """A client of the Graph API at ``base_url`` (Meta's by default, or a questgraph server).

    >>> qg = Client(app_id="1234757621998335", app_secret="…")            # app token OC|id|secret
    >>> qg.leaderboards.submit_entry("best_leaderboard", 12345, user_id="123402235207175")
    >>> for entry in qg.leaderboards.entries("best_leaderboard"):
    ...     print(entry.rank, entry.user.alias, entry.score)

    Give ``access_token`` instead for a user token (with ``app_id`` for the calls whose path names the
    app). ``as_user(token)`` makes a client for a user that shares this one's connections. Every call has
    ``timeout`` (seconds or an ``httpx.Timeout``) and is retried per ``retry`` where that is safe.
    ``transport`` is httpx's seam for tests (``httpx.MockTransport``). Close it, or use ``with``.
    """

    def __init__(self, *, app_id: int | str | None = None, app_secret: str | None = None,
                 access_token: str | None = None, base_url: str = DEFAULT_BASE_URL,
                 timeout: float | httpx.Timeout = DEFAULT_TIMEOUT, retry: RetryPolicy | None = None,
                 transport: httpx.BaseTransport | None = None, http: httpx.Client | None = None) -> None:
        super().__init__(app_id=app_id, app_secret=app_secret, access_token=access_token, base_url=base_url,
                         timeout=timeout, retry=retry)
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(base_url=self.base_url, timeout=self.timeout,
                                                               transport=transport)
        from questgraph.client._achievements import Achievements
        from questgraph.client._commerce import Entitlements, Subscriptions
        from questgraph.client._leaderboards import Leaderboards
        from questgraph.client._linking import AccountLinking
        from questgraph.client._notifications import Notifications
        from questgraph.client._users import Users

        self.leaderboards = Leaderboards(self)
        self.achievements = Achievements(self)
        self.entitlements = Entitlements(self)
        self.subscriptions = Subscriptions(self)
        self.users = Users(self)
        self.account_linking = AccountLinking(self)
        self.notifications = Notifications(self)
        from questgraph.client._federation import FederatedUsers

        self.federated_users = FederatedUsers(self)  # cross-play users (A.2)

    def as_user(self, access_token: str) -> Client:
        """A client with a user's token, for the calls that need one (viewer-centred and FRIENDS reads,
        client-authoritative writes). It shares this client's connections; close this one, not it."""
        return Client(app_id=self.app_id, access_token=access_token, base_url=self.base_url, timeout=self.timeout,
                      retry=self.retry, http=self._http)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    _sleep = staticmethod(time.sleep)  # a seam for tests of the retry policy

    def send(self, call: Call[T]) -> T:
        """Send one call, repeating it per the retry policy; the parsed answer or a ``QuestGraphError``."""
        attempt = 0
        while True:
            try:
                try:
                    response = self._http.send(self._build(self._http, call))
                except httpx.TransportError as exc:
                    raise self._transport_error(exc, call) from None
                self._log(call, attempt, response.status_code)
                return self._read(call, response)
            except QuestGraphError as error:
                if not self.retry.should_retry(error, attempt, call.safe):
                    raise
                wait = self.retry.delay(attempt, error)
                self._log(call, attempt, f"{type(error).__name__}, retrying in {wait:.3f}s")
                self._sleep(wait)
                attempt += 1

    def pages(self, call: Call[PageT]) -> Iterator[PageT]:
        """Every page of a list, following ``paging.next`` (D21) until there is none."""
        page = self.send(call)
        yield page
        while page.next_url:
            page = self.send(call.following(page.next_url))
            yield page

    def raw(self, method: str, path: str, **values: Any) -> Any:
        """Any Graph call the typed groups do not cover yet: the parsed JSON answer. Not retried."""
        return self.send(Call(method.upper(), path, params(**values)))
