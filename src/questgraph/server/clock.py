"""The one clock every feature reads (D36): the wall clock plus an offset the emulator can move, or, when
frozen, one fixed instant that moves only when told to (so a test can hit an expiry to the second)."""

from __future__ import annotations

import time
from collections.abc import Callable

from questgraph.server.errors import InvalidParameter


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


def clock_move(clock: Clock, *, advance: int | None, target: int | None,
               frozen: bool | None) -> Callable[[Clock], None]:
    """One move of the emulator clock, by the rules the admin API and the dashboard share (D36): advance by
    seconds or set to an instant (not both), and/or freeze or thaw; the change to apply to the clock."""
    if (advance is not None and target is not None) or (advance is None and target is None and frozen is None):
        raise InvalidParameter("Send one of advance_seconds or set, and/or freeze=true|false")
    if advance is not None and clock.now() + advance > MAX_CLOCK_SECONDS:
        raise InvalidParameter(f"Param advance_seconds would move the clock past {MAX_CLOCK_SECONDS}")

    def change(moved: Clock) -> None:
        if frozen is not None:
            moved.freeze(frozen)
        if advance is not None:
            moved.advance(advance)
        elif target is not None:
            moved.set(target)

    return change
