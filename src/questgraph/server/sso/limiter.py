"""The sign-in rate limit shared by the SSO page (D30) and the dashboard: failed attempts counted per
account and per client address within a window, in the database (so every worker process sees the same
counts, and a restart forgives nothing).

One limiter, two users: each passes its own ``namespace`` so an SSO failure never counts against a dashboard
account (an SSO alias and a dashboard email are different things). Both count on the server clock (D36): the
failures share one table and one prune, so two clocks would let one user's prune wipe the other's counts.
"""

from __future__ import annotations

from questgraph.server.clock import Clock
from questgraph.server.db import Database
from questgraph.server.sso.store import SsoStore

FAILURE_WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_CLIENT = 20


class TooManyAttempts(Exception):
    """The account or the client address has failed too often in the window; no password was checked."""


class LoginLimiter:
    def __init__(self, db: Database, store: SsoStore, clock: Clock, namespace: str = "", *,
                 window_seconds: int = FAILURE_WINDOW_SECONDS, per_account: int = MAX_FAILURES_PER_ACCOUNT,
                 per_client: int = MAX_FAILURES_PER_CLIENT, account_kind: str = "alias") -> None:
        self.db = db
        self.store = store
        self.clock = clock
        self.namespace = namespace
        self.window_seconds = window_seconds
        self.per_account = per_account
        self.per_client = per_client
        self.account_kind = account_kind

    def _subjects(self, account: str, client: str) -> tuple[str, str]:
        # Accounts compare case-insensitively (aliases and emails are); the subject strings of the SSO page
        # ("alias:…", "client:…") are the ones it stored before this module existed.
        return (f"{self.namespace}{self.account_kind}:{account.strip().lower()}",
                f"{self.namespace}client:{client}")

    def check(self, account: str, client: str) -> None:
        """Raise TooManyAttempts when either the account or the client address is locked. Called before the
        password is checked, so a locked account costs no scrypt and reveals nothing about the password."""
        since = self.clock.now() - self.window_seconds
        self.store.prune_login_failures(since)
        by_account, by_client = self._subjects(account, client)
        if (self.store.count_login_failures(by_account, since) >= self.per_account
                or self.store.count_login_failures(by_client, since) >= self.per_client):
            raise TooManyAttempts

    def failed(self, account: str, client: str) -> None:
        now = self.clock.now()
        with self.db.transaction():
            for subject in self._subjects(account, client):
                self.store.add_login_failure(subject, now)

    def succeeded(self, account: str) -> None:
        """A right password clears the account's count (not the address's: one good account must not let an
        address go on guessing others)."""
        self.store.clear_login_failures(self._subjects(account, "")[0])

    @property
    def window_minutes(self) -> int:
        return self.window_seconds // 60
