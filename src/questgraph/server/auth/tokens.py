"""Turning an access token into a caller (D4, D7, D11, D12), and the callers a process caches.

The hottest calls (leaderboard reads and submits) take their caller from a per-process cache instead of
a query. What a caller rests on (an app's secret, its tokens and users) may change in another process,
so every such change replaces the deployment's cache version in its own transaction (db/state.py), and
a cached caller is used only by a call that reads the version in a query it makes anyway and confirms
it (``confirm``) before it writes or answers: when the version is not the one the caller was cached at,
the cache is dropped and the call made again with the caller read afresh. A change committed before a
request began is therefore seen by that request in every process; a request that reads the version
before the change commits is concurrent with it, and may be answered as if it had come first.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

from questgraph.server.auth.callers import AnyCaller, AppCaller, LinkCaller, UserCaller
from questgraph.server.auth.secrets import digest, matches
from questgraph.server.clock import Clock
from questgraph.server.errors import GraphError, InvalidToken
from questgraph.server.identity.store import IdentityStore

_APP_TOKEN = re.compile(r"OC\|([0-9]{1,19})\|([A-Za-z0-9]{1,128})")
# Minted tokens have 96 characters after the prefix; shorter fixed tokens declared in a config file
# (Meta's documentation examples have 53) are accepted too, so documented requests replay verbatim.
_USER_TOKEN = re.compile(r"(?:OC|FRL)[A-Za-z0-9]{20,256}")
INVALID = "Invalid OAuth access token - Cannot parse access token"
MAX_ID = 2**63 - 1
OAUTH_PREFIX = "OCAe"  # SSO oauth_tokens (D11); a minted user token may start so too, by chance
LinkResolver = Callable[[str], LinkCaller | None]
CACHED_CALLERS = 10_000  # tokens per process; a full cache is emptied and fills again
T = TypeVar("T")


class StaleCaller(Exception):
    """A cached caller's cache version is no longer the deployment's: the call is made again."""


class Authenticator:
    def __init__(self, store: IdentityStore, clock: Clock,
                 read_version: Callable[[], str | None] = lambda: None) -> None:
        self.store = store
        self.clock = clock
        self.read_version = read_version  # the deployment's cache version (db/state.py); None: no caching
        # digest of the token → (caller, when it expires, the cache version it was read at)
        self._cached: dict[str, tuple[AnyCaller, int | None, str]] = {}
        # Set by the account-linking feature: the link behind an SSO oauth_token, or None when the token
        # is none of its own (it may then still be a user token).
        self.resolve_link: LinkResolver | None = None
        self._local = threading.local()  # .remembered: this thread's memo inside remembering()

    @contextlib.contextmanager
    def remembering(self) -> Iterator[None]:
        """Inside the block, a token that authenticated once is not looked up again: the executor opens
        one per trip of calls (server/executor.py), which lasts milliseconds and runs no admin call, so
        what it remembers cannot be revoked in this process meanwhile; a change made by another process
        (or another trip: trips may run at once in several threads) during the trip is as if it had come
        just after it. Failures are never remembered."""
        self._local.remembered = {}
        try:
            yield
        finally:
            self._local.remembered = None

    # --- the process's cache ----------------------------------------------------------------------
    def with_cached_caller(self, token: str, call: Callable[[AnyCaller], T]) -> T:
        """``call(caller)`` with the token's caller from this process's cache (read and cached when it is
        not there). ``call`` must pass the cache version its first query read to ``confirm`` before it
        writes; if it did not (it failed first, or read nothing), the version is read and confirmed here
        before its answer counts. A stale caller is dropped and the call made again."""
        for attempt in range(3):
            caller = self._cached_caller(token) if attempt < 2 else self.authenticate(token)
            try:
                result = call(caller)
                self._confirm_now()
                return result
            except StaleCaller:
                continue
            except GraphError:  # e.g. no such board: the answer counts only for a caller still valid
                try:
                    self._confirm_now()
                except StaleCaller:
                    continue
                raise
            finally:
                self._local.cached_at = None
        raise AssertionError("unreachable: the last attempt reads the caller afresh")

    def cached_caller(self, token: str) -> tuple[AnyCaller, str | None]:
        """The token's caller from this process's cache, and the cache version it was cached at; None
        when it was read from the database just now. For a set of calls that reads the version itself
        (``Server``'s submit set): it must compare the two before it writes, and ``drop_cache`` on a
        difference."""
        try:
            return self._cached_caller(token), getattr(self._local, "cached_at", None)
        finally:
            self._local.cached_at = None

    def drop_cache(self) -> None:
        self._cached.clear()

    def confirm(self, version: str | None) -> None:
        """Raise ``StaleCaller`` when this thread's call runs as a cached caller and ``version`` (just read
        from the database) is not the one it was cached at; the cache is then emptied."""
        cached_at: str | None = getattr(self._local, "cached_at", None)
        if cached_at is None:
            return
        self._local.cached_at = None
        if version != cached_at:
            self.drop_cache()
            raise StaleCaller

    def _confirm_now(self) -> None:
        if getattr(self._local, "cached_at", None) is not None:
            self.confirm(self.read_version())

    def _cached_caller(self, token: str) -> AnyCaller:
        key = digest(token)
        hit = self._cached.get(key)
        if hit is not None and (hit[1] is None or hit[1] > self.clock.now()):
            self._local.cached_at = hit[2]
            return hit[0]
        self._local.cached_at = None
        version = self.read_version()  # before the read: a change after it makes the entry stale, never hides
        caller, expires_at = self._read_caller(token)
        if version is not None and not isinstance(caller, LinkCaller):
            if len(self._cached) >= CACHED_CALLERS:
                self._cached.clear()
            self._cached[key] = (caller, expires_at, version)
        return caller

    def authenticate(self, token: str) -> AnyCaller:
        remembered: dict[str, AnyCaller] | None = getattr(self._local, "remembered", None)
        if remembered is None:
            return self._authenticate(token)
        caller = remembered.get(token)
        if caller is None:
            caller = remembered[token] = self._authenticate(token)
        return caller

    def _authenticate(self, token: str) -> AnyCaller:
        return self._read_caller(token)[0]

    def _read_caller(self, token: str) -> tuple[AnyCaller, int | None]:
        """The token's caller, from the database, and when the token expires (None: never)."""
        app_token = _APP_TOKEN.fullmatch(token)
        if app_token:
            app_id = int(app_token.group(1))
            # An id beyond int64 names no app (and must not reach the database as an overflow, a 500).
            app = self.store.get_app(app_id) if app_id <= MAX_ID else None
            # One message for unknown app and wrong secret: the answer must not tell which it was.
            if app is None or not matches(app_token.group(2), app.secret_hash):
                raise InvalidToken("Invalid OAuth access token signature.")
            return AppCaller(app), None
        if token.startswith(OAUTH_PREFIX) and self.resolve_link is not None:
            link = self.resolve_link(token)
            if link is not None:
                return link, None
        if _USER_TOKEN.fullmatch(token):
            holder = self.store.get_token_holder(digest(token))  # token, app and user: one query
            if holder is None:
                raise InvalidToken("Invalid OAuth access token.")
            expires_at = holder.token.expires_at
            if expires_at is not None and expires_at <= self.clock.now():
                raise InvalidToken("Error validating access token: Session has expired.")
            if holder.app is None or holder.user is None:
                raise InvalidToken("Invalid OAuth access token.")
            return UserCaller(holder.app, holder.user), expires_at
        raise InvalidToken(INVALID)
