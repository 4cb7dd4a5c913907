"""The hottest Graph calls of a trip as sets (issue 14; server/executor.py ``SetRunner``; PostgreSQL): a
trip's leaderboard submits, and its page reads, each go through the steps ``Server._dispatch`` runs for one
call, in the same order (the shared index's ready check, the token, the caller from the process's cache,
the parameters), and then all together through one service call that reads every board in one query
(``LeaderboardService.submit_set``, ``entries_set``) instead of one query, or three, per call.

A cached caller is confirmed against the cache version that query read, before anything is written or
answered (auth/tokens.py): on a difference the cache is dropped and every call of the set runs alone,
reading its caller afresh, as a lone call would. A call the service leaves out runs alone too."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from questgraph.server.auth import Authenticator
from questgraph.server.errors import GraphError, MissingToken
from questgraph.server.executor import SetOutcome
from questgraph.server.graph.request import GraphRequest
from questgraph.server.leaderboards import LeaderboardService
from questgraph.server.leaderboards import views as leaderboard_views
from questgraph.server.ranking.keeper import IndexKeeper

NO_TOKEN = "An access token is required to request this resource."
# (succeeded, the service's answer or a GraphError, after-commit actions), or None: run alone.
ServiceOutcome = tuple[bool, Any, list[Callable[[], None]]] | None


class SetHost(Protocol):
    """What a set needs of the server (server/app.py), without importing it."""

    auth: Authenticator
    leaderboards: LeaderboardService
    index_keeper: IndexKeeper

    def follow_others(self) -> None: ...


class GraphCallSet:
    """One kind of Graph call, run as sets: ``parse`` one request (after its caller is known), ``run_many``
    the parsed calls in the service, ``answer`` each one's result as its handler would."""

    marker = True  # whether to check the shared index's marker first (a page script checks it itself)

    def __init__(self, host: SetHost) -> None:
        self.host = host

    def parse(self, request: GraphRequest) -> Any:
        raise NotImplementedError

    def run_many(self, parsed: Sequence[Any], version_ok: Callable[[str | None], bool]) -> Sequence[ServiceOutcome]:
        raise NotImplementedError

    def answer(self, request: GraphRequest, parsed: Any, value: Any) -> Any:
        raise NotImplementedError

    def run_set(self, items: list[GraphRequest]) -> list[SetOutcome]:
        host = self.host
        outcomes: list[SetOutcome] = [None] * len(items)
        try:
            host.follow_others()
            host.index_keeper.check(marker=self.marker)
        except Exception:  # each call meets the same error again, alone, and answers it as a lone call does
            return outcomes
        parsed: list[Any] = []
        at: list[int] = []  # the item of each parsed call
        cached_at: set[str] = set()  # the versions the cached callers were cached at
        for n, request in enumerate(items):
            try:
                if request.token is None:
                    raise MissingToken(NO_TOKEN)
                caller, version = host.auth.cached_caller(request.token)
                request.caller_ = caller
                if version is not None:
                    cached_at.add(version)
                parsed.append(self.parse(request))
                at.append(n)
            except GraphError as exc:
                outcomes[n] = (False, exc, [])
        confirmed = stale = False

        def version_ok(version: str | None) -> bool:
            nonlocal confirmed, stale
            confirmed = True
            if not cached_at:
                return True
            if version is None:  # the query found no board, so it read no version
                version = host.auth.read_version()
            if cached_at == {version}:
                return True
            host.auth.drop_cache()
            stale = True
            return False

        done = self.run_many(parsed, version_ok) if parsed else []
        if not confirmed:  # no query ran (every call failed first, or the service left them all out)
            version_ok(None)
        if stale:  # every call runs alone, with its caller read afresh
            return [None] * len(items)
        for n, one, outcome in zip(at, parsed, done, strict=True):
            if outcome is not None and outcome[0]:
                try:
                    outcome = (True, self.answer(items[n], one, outcome[1]), outcome[2])
                except GraphError as exc:  # a parameter read only to answer (e.g. summary)
                    outcome = (False, exc, outcome[2])
            outcomes[n] = outcome
        return outcomes


class SubmitSet(GraphCallSet):
    """``POST /leaderboard_submit_entry``, a trip's submits in one set: ``LeaderboardService.submit_set``."""

    def parse(self, request: GraphRequest) -> Any:
        return leaderboard_views.submit_of(request)

    def run_many(self, parsed: Sequence[Any], version_ok: Callable[[str | None], bool]) -> Sequence[ServiceOutcome]:
        return self.host.leaderboards.submit_set(parsed, version_ok)

    def answer(self, request: GraphRequest, parsed: Any, value: Any) -> Any:
        return leaderboard_views.submit_answer(bool(value))


class EntriesSet(GraphCallSet):
    """``GET /leaderboard_entries``, a trip's page reads in one set: ``LeaderboardService.entries_set``."""

    marker = False  # the page scripts check it

    def parse(self, request: GraphRequest) -> Any:
        selection, query = leaderboard_views.entries_query(request)
        return request.caller, query, selection

    def run_many(self, parsed: Sequence[Any], version_ok: Callable[[str | None], bool]) -> Sequence[ServiceOutcome]:
        return self.host.leaderboards.entries_set([(caller, query) for caller, query, _ in parsed], version_ok)

    def answer(self, request: GraphRequest, parsed: Any, value: Any) -> Any:
        return leaderboard_views.entries_answer(request, parsed[2], value)
