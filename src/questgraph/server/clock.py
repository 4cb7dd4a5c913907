"""The one clock every feature reads (D36): the wall clock plus an offset the emulator can move, or, when
frozen, one fixed instant that moves only when told to (so a test can hit an expiry to the second)."""

from __future__ import annotations

import time


def _wall_us() -> int:
    return time.time_ns() // 1000


MAX_CLOCK_SECONDS = 2**32  # the emulator clock stays before 2106, so every timestamp fits its column (D36)


class Clock:
    """Wall-clock time shifted by an offset; the admin API moves it (never in production)."""

    def __init__(self, offset_us: int = 0, frozen_us: int | None = None) -> None:
        self._offset_us = offset_us
        self.frozen_us = frozen_us

    @property
    def offset_us(self) -> int:
        """How far this clock is from the wall clock, now."""
        return self._offset_us if self.frozen_us is None else self.frozen_us - _wall_us()

    @offset_us.setter
    def offset_us(self, value: int) -> None:
        """A running clock at ``value`` from the wall clock (a frozen one thaws)."""
        self._offset_us, self.frozen_us = value, None

    def now_us(self) -> int:
        return self.frozen_us if self.frozen_us is not None else _wall_us() + self._offset_us

    def now(self) -> int:
        """Unix seconds, the unit of every timestamp the Graph API returns."""
        return self.now_us() // 1_000_000

    def advance(self, seconds: float) -> None:
        if self.frozen_us is not None:
            self.frozen_us += int(seconds * 1_000_000)
        else:
            self._offset_us += int(seconds * 1_000_000)

    def set(self, unix_seconds: float) -> None:
        if self.frozen_us is not None:
            self.frozen_us = int(unix_seconds * 1_000_000)
        else:
            self._offset_us = int(unix_seconds * 1_000_000) - _wall_us()

    def freeze(self, frozen: bool) -> None:
        if frozen and self.frozen_us is None:
            self.frozen_us = self.now_us()
        elif not frozen and self.frozen_us is not None:
            self.offset_us = self.frozen_us - _wall_us()

    # --- persistence: one settings value, shared by every process of a deployment ------------------
    def to_setting(self) -> str:
        return f"frozen:{self.frozen_us}" if self.frozen_us is not None else str(self._offset_us)

    def load_setting(self, value: str | None) -> None:
        """``"<offset µs>"`` or ``"frozen:<instant µs>"``; anything else is the wall clock."""
        text = (value or "0").strip()
        try:
            if text.startswith("frozen:"):
                self._offset_us, self.frozen_us = 0, int(text.removeprefix("frozen:"))
            else:
                self.offset_us = int(text)
        except ValueError:
            self.offset_us = 0
