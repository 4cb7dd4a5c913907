"""The emulator clock across processes (D36): every process follows the offset stored in the database.

``POST /_admin/clock`` moves the clock of the process that answers it and stores the offset in the
database settings; the other processes of a deployment re-read that setting at most every ``every``
seconds, at the start of a request, so a clock move reaches them within that time and costs one small
read per interval, not per request.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from questgraph.server.clock import Clock

FOLLOW_SECONDS = 0.5


class ClockFollower:
    def __init__(self, clock: Clock, read_offset: Callable[[], str | None], every: float = FOLLOW_SECONDS) -> None:
        self.clock, self.read_offset, self.every = clock, read_offset, every
        self._next = time.monotonic() + every

    def maybe_refresh(self) -> None:
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self.every
        self.clock.load_setting(self.read_offset())
