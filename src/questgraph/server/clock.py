"""The one clock every feature reads (D36): the wall clock plus an offset the emulator can move."""

from __future__ import annotations

import time


class Clock:
    """Wall-clock time shifted by ``offset_us``; the admin API moves the offset (never in production)."""

    def __init__(self, offset_us: int = 0) -> None:
        self.offset_us = offset_us

    def now_us(self) -> int:
        return time.time_ns() // 1000 + self.offset_us

    def now(self) -> int:
        """Unix seconds, the unit of every timestamp the Graph API returns."""
        return self.now_us() // 1_000_000

    def advance(self, seconds: float) -> None:
        self.offset_us += int(seconds * 1_000_000)

    def set(self, unix_seconds: float) -> None:
        self.offset_us = int(unix_seconds * 1_000_000) - time.time_ns() // 1000
