"""The asynchronous client: the same API as ``Client`` with ``await``, over ``httpx.AsyncClient``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, TypeVar

import httpx

from questgraph.client._base import DEFAULT_BASE_URL, DEFAULT_TIMEOUT, BaseClient, Call, PageT, params
from questgraph.client._errors import QuestGraphError
from questgraph.client._retry import RetryPolicy

T = TypeVar("T")


class AsyncClient(BaseClient):
    """``Client`` for asyncio: the same constructor, groups and methods, each awaited.

    >>> async with AsyncClient(app_id="…", app_secret="…") as qg:
    ...     await qg.leaderboards.submit_entry("best_leaderboard", 12345, user_id="…")
    ...     async for entry in qg.leaderboards.entries("best_leaderboard"):
    ...         print(entry.rank, entry.score)
    """

    _is_async = True

    def __init__(self, *, app_id: int | str | None = None, app_secret: str | None = None,
                 access_token: str | None = None, base_url: str = DEFAULT_BASE_URL,
                 timeout: float | httpx.Timeout = DEFAULT_TIMEOUT, retry: RetryPolicy | None = None,
                 transport: httpx.AsyncBaseTransport | None = None, http: httpx.AsyncClient | None = None) -> None:
        super().__init__(app_id=app_id, app_secret=app_secret, access_token=access_token, base_url=base_url,
                         timeout=timeout, retry=retry)
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout,
                                                                    transport=transport)
        from questgraph.client._achievements import AsyncAchievements
        from questgraph.client._commerce import AsyncEntitlements, AsyncSubscriptions
        from questgraph.client._leaderboards import AsyncLeaderboards
        from questgraph.client._linking import AsyncAccountLinking
        from questgraph.client._notifications import AsyncNotifications
        from questgraph.client._users import AsyncUsers

        self.leaderboards = AsyncLeaderboards(self)
        self.achievements = AsyncAchievements(self)
        self.entitlements = AsyncEntitlements(self)
        self.subscriptions = AsyncSubscriptions(self)
        self.users = AsyncUsers(self)
        self.account_linking = AsyncAccountLinking(self)
        self.notifications = AsyncNotifications(self)
        from questgraph.client._federation import AsyncFederatedUsers

        self.federated_users = AsyncFederatedUsers(self)  # cross-play users (A.2)

    def as_user(self, access_token: str) -> AsyncClient:
        """As ``Client.as_user``: a client with a user's token sharing this one's connections."""
        return AsyncClient(app_id=self.app_id, access_token=access_token, base_url=self.base_url,
                           timeout=self.timeout, retry=self.retry, http=self._http)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    _sleep = staticmethod(asyncio.sleep)  # a seam for tests of the retry policy

    async def send(self, call: Call[T]) -> T:
        """As ``Client.send``, awaited."""
        attempt = 0
        while True:
            try:
                try:
                    response = await self._http.send(self._build(self._http, call))
                except httpx.TransportError as exc:
                    raise self._transport_error(exc, call) from None
                self._log(call, attempt, response.status_code)
                return self._read(call, response)
            except QuestGraphError as error:
                if not self.retry.should_retry(error, attempt, call.safe):
                    raise
                wait = self.retry.delay(attempt, error)
                self._log(call, attempt, f"{type(error).__name__}, retrying in {wait:.3f}s")
                await self._sleep(wait)
                attempt += 1

    async def pages(self, call: Call[PageT]) -> AsyncIterator[PageT]:
        """As ``Client.pages``, as an async iterator."""
        page = await self.send(call)
        yield page
        while page.next_url:
            page = await self.send(call.following(page.next_url))
            yield page

    async def raw(self, method: str, path: str, **values: Any) -> Any:
        """As ``Client.raw``, awaited."""
        return await self.send(Call(method.upper(), path, params(**values)))
