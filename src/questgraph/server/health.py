"""Whether this process's database answers, for ``/_health/ready``: a load balancer must stop sending
traffic to a replica that can only answer 503.

The check is one cheap read, bounded in time (a database that does not answer within ``timeout`` is
down, whatever the check's thread is still waiting for), and its result is kept for ``ttl`` seconds, so
that probes from several load balancers cost one read a second. At most one check runs at a time: a
probe arriving while one is under way waits for that one (within ``timeout``) rather than start another,
so a hung database cannot pile up threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

TTL_S = 1.0
TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Checked:
    up: bool
    detail: str | None  # why the database is down: an error's type, or a timeout; never its message
    at: float  # time.monotonic() of the check's end (or of its timeout)


class DatabaseProbe:
    def __init__(self, check: Callable[[], object], *, ttl: float = TTL_S, timeout: float = TIMEOUT_S) -> None:
        self._check = check
        self.ttl = ttl
        self.timeout = timeout
        self._lock = threading.Lock()
        self._last: Checked | None = None
        self._running: threading.Event | None = None  # set when the check under way has ended

    def state(self) -> Checked:
        """The database's state as of at most ``ttl`` seconds ago; waits at most ``timeout`` seconds."""
        with self._lock:
            last = self._last
            if last is not None and time.monotonic() - last.at < self.ttl:
                return last
            done = self._running
            if done is None:
                done = self._running = threading.Event()
                threading.Thread(target=self._run, args=(done,), name="questgraph-db-probe", daemon=True).start()
        if done.wait(self.timeout):
            with self._lock:
                assert self._last is not None
                return self._last
        late = Checked(False, f"the database did not answer within {self.timeout:g} s", time.monotonic())
        with self._lock:
            if self._running is done:  # still hung: answer "down" for a while rather than wait again at once
                self._last = late
        return late

    def _run(self, done: threading.Event) -> None:
        try:
            self._check()
        except Exception as exc:  # any failure of the read means the database cannot serve
            result = Checked(False, type(exc).__name__, time.monotonic())
        else:
            result = Checked(True, None, time.monotonic())
        with self._lock:
            self._last = result
            self._running = None
        done.set()
