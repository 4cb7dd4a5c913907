"""Turning an access token into a caller (D4, D7, D11, D12)."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator

from questgraph.server.auth.callers import AnyCaller, AppCaller, LinkCaller, UserCaller
from questgraph.server.auth.secrets import digest, matches
from questgraph.server.clock import Clock
from questgraph.server.errors import InvalidToken
from questgraph.server.identity.store import IdentityStore

_APP_TOKEN = re.compile(r"OC\|([0-9]{1,19})\|([A-Za-z0-9]{1,128})")
# Minted tokens have 96 characters after the prefix; shorter fixed tokens declared in a config file
# (Meta's documentation examples have 53) are accepted too, so documented requests replay verbatim.
_USER_TOKEN = re.compile(r"(?:OC|FRL)[A-Za-z0-9]{20,256}")
INVALID = "Invalid OAuth access token - Cannot parse access token"
MAX_ID = 2**63 - 1
OAUTH_PREFIX = "OCAe"  # SSO oauth_tokens (D11); a minted user token may start so too, by chance
LinkResolver = Callable[[str], LinkCaller | None]


class Authenticator:
    def __init__(self, store: IdentityStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock
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

    def authenticate(self, token: str) -> AnyCaller:
        remembered: dict[str, AnyCaller] | None = getattr(self._local, "remembered", None)
        if remembered is None:
            return self._authenticate(token)
        caller = remembered.get(token)
        if caller is None:
            caller = remembered[token] = self._authenticate(token)
        return caller

    def _authenticate(self, token: str) -> AnyCaller:
        app_token = _APP_TOKEN.fullmatch(token)
        if app_token:
            app_id = int(app_token.group(1))
            # An id beyond int64 names no app (and must not reach the database as an overflow, a 500).
            app = self.store.get_app(app_id) if app_id <= MAX_ID else None
            # One message for unknown app and wrong secret: the answer must not tell which it was.
            if app is None or not matches(app_token.group(2), app.secret_hash):
                raise InvalidToken("Invalid OAuth access token signature.")
            return AppCaller(app)
        if token.startswith(OAUTH_PREFIX) and self.resolve_link is not None:
            link = self.resolve_link(token)
            if link is not None:
                return link
        if _USER_TOKEN.fullmatch(token):
            holder = self.store.get_token_holder(digest(token))  # token, app and user: one query
            if holder is None:
                raise InvalidToken("Invalid OAuth access token.")
            expires_at = holder.token.expires_at
            if expires_at is not None and expires_at <= self.clock.now():
                raise InvalidToken("Error validating access token: Session has expired.")
            if holder.app is None or holder.user is None:
                raise InvalidToken("Invalid OAuth access token.")
            return UserCaller(holder.app, holder.user)
        raise InvalidToken(INVALID)
