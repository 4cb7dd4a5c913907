"""Rank index protocol and the in-memory implementation used by the embedded single-process server.

The index holds, per board, the sorted keys of its entries (``keys.sort_key``). ``SortedList`` keeps
them in a B-tree-like list of lists with a positional index, so insert, remove, bisect, ``index`` and
item access are all O(log n) whatever the depth. The index is derived state: the database is the truth,
and the index is rebuilt from it at start-up and updated after every committed write.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import NamedTuple, Protocol

from sortedcontainers import SortedList

from questgraph.server.ranking.keys import ENTRY_ID_MASK

log = logging.getLogger("questgraph.ranking")
USER_BITS = 64  # user ids are int64 (D9)


class Page(NamedTuple):
    """A page of a board's order, read at one moment: the board's size, the first key's position, the keys,
    and the keys' users when the index holds them (both indexes do; a filtered board, FRIENDS or USER_IDS,
    does not): a page of rank, score and user id is then answered from the index alone."""

    total: int
    start: int
    keys: list[int]
    user_ids: list[int] | None = None


class PageRequest(NamedTuple):
    """``RankIndex.page``'s arguments, for ``pages``."""

    board_id: int
    anchor: int | None
    offset: int
    limit: int
    before: bool = False


def page_bounds(anchor_position: int, offset: int, limit: int, before: bool) -> tuple[int, int]:
    """Positions [start, stop) of a page: ``offset`` from the anchor's position (at least 0), ``limit`` long;
    with ``before``, ending at the anchor at the latest (the page just before a cursor)."""
    start = max(anchor_position + offset, 0)
    stop = start + limit
    return start, min(stop, anchor_position) if before else stop


class RankIndex(Protocol):
    def batched(self) -> AbstractContextManager[None]:
        """Inside the block, puts and removes may be held back and sent together at its end (one round trip
        for a shared index); its end raises if they failed."""
        ...

    def reset(self) -> None: ...
    def put(self, board_id: int, entry_id: int, key: int, user_id: int, version: int = 0) -> None:
        """Set the entry's key (and its user, which never changes). ``version`` orders the updates of one
        entry (the id of the write's pending row, which grows): a shared index ignores an update older than
        the entry's last one."""
        ...

    def remove(self, board_id: int, entry_id: int, version: int = 0) -> None: ...
    def clear(self, board_id: int) -> None: ...
    def load(self, board_id: int, entries: Iterable[tuple[int, int]]) -> None:
        """Replace the board with ``entries``: (key, user id) pairs."""
        ...

    def count(self, board_id: int) -> int: ...
    def key_of(self, board_id: int, entry_id: int) -> int | None: ...
    def position_of(self, board_id: int, key: int) -> int:
        """Number of entries whose key is smaller than ``key`` (0-based position of ``key``)."""
        ...

    def keys_between(self, board_id: int, start: int, stop: int) -> list[int]:
        """Keys at positions [start, stop) of the order."""
        ...

    def page(self, board_id: int, anchor: int | None, offset: int, limit: int, before: bool = False) -> Page:
        """The page whose bounds ``page_bounds`` gives from ``position_of(anchor)`` (0 without an anchor),
        with the board's size: what a leaderboard read needs, in one read (one round trip when shared)."""
        ...

    def pages(self, wanted: Sequence[PageRequest]) -> list[Page]:
        """``page`` of each request, in one round trip when shared (a trip's reads, server/executor.py)."""
        ...


class InMemoryRankIndex:
    """Each board's entries as one ``SortedList`` of ints: the D14 key shifted left by 64 bits with the
    entry's user id below it (as the Redis index's members hold the key then the user). The key, which
    ends with the unique entry id, alone decides the order; the user id lets a page of rank, score and user
    id be answered without the rows, for 8 bytes more an entry (a map of users would cost about 100)."""

    def __init__(self) -> None:
        self._sorted: dict[int, SortedList] = {}
        self._held_of: dict[int, dict[int, int]] = {}  # board → entry id → what the sorted list holds

    def _board(self, board_id: int) -> tuple[SortedList, dict[int, int]]:
        if board_id not in self._sorted:
            self._sorted[board_id] = SortedList()
            self._held_of[board_id] = {}
        return self._sorted[board_id], self._held_of[board_id]

    def batched(self) -> AbstractContextManager[None]:
        return contextlib.nullcontext()  # every update is a local call already

    def reset(self) -> None:
        self._sorted.clear()
        self._held_of.clear()

    def put(self, board_id: int, entry_id: int, key: int, user_id: int, version: int = 0) -> None:
        # One process, its updates applied in commit order (one lane, server/executor.py): no versions.
        held, held_of = self._board(board_id)
        old = held_of.get(entry_id)
        if old is not None:
            held.remove(old)
        value = key << USER_BITS | user_id
        held.add(value)
        held_of[entry_id] = value

    def remove(self, board_id: int, entry_id: int, version: int = 0) -> None:
        held, held_of = self._board(board_id)
        old = held_of.pop(entry_id, None)
        if old is not None:
            held.remove(old)

    def clear(self, board_id: int) -> None:
        self._sorted.pop(board_id, None)
        self._held_of.pop(board_id, None)

    def load(self, board_id: int, entries: Iterable[tuple[int, int]]) -> None:
        values = [key << USER_BITS | user_id for key, user_id in entries]
        self._sorted[board_id] = SortedList(values)
        self._held_of[board_id] = {v >> USER_BITS & ENTRY_ID_MASK: v for v in values}

    def count(self, board_id: int) -> int:
        held = self._sorted.get(board_id)
        return 0 if held is None else len(held)

    def size(self) -> int:
        """Entries on every board."""
        return sum(len(held) for held in self._sorted.values())

    def key_of(self, board_id: int, entry_id: int) -> int | None:
        value = self._held_of.get(board_id, {}).get(entry_id)
        return None if value is None else value >> USER_BITS

    def position_of(self, board_id: int, key: int) -> int:
        held = self._sorted.get(board_id)
        # key << 64 sorts below every value of that key (whatever the user) and above those of smaller keys
        return 0 if held is None else int(held.bisect_left(max(key, 0) << USER_BITS))

    def _between(self, board_id: int, start: int, stop: int) -> list[int]:
        held = self._sorted.get(board_id)
        return [] if held is None else list(held.islice(max(start, 0), max(stop, 0)))

    def keys_between(self, board_id: int, start: int, stop: int) -> list[int]:
        return [v >> USER_BITS for v in self._between(board_id, start, stop)]

    def page(self, board_id: int, anchor: int | None, offset: int, limit: int, before: bool = False) -> Page:
        position = 0 if anchor is None else self.position_of(board_id, anchor)
        start, stop = page_bounds(position, offset, limit, before)
        values = self._between(board_id, start, stop)
        return Page(self.count(board_id), start, [v >> USER_BITS for v in values],
                    [v & ENTRY_ID_MASK for v in values])

    def pages(self, wanted: Sequence[PageRequest]) -> list[Page]:
        return [self.page(*w) for w in wanted]


class ProgressLog:
    """Logs progress of a long job every ``every`` items, with a rate, so operators see it move; with a
    ``total``, each line is a progress bar with the share done and the time left. Log lines, not a
    redrawn terminal line: the server's stderr is as often a CI log or a container's as a terminal."""

    BAR = 20

    def __init__(self, what: str, every: int = 100_000, total: int | None = None) -> None:
        self.what, self.every, self.total, self.done, self.started = what, every, total, 0, time.monotonic()

    def step(self, n: int = 1) -> None:
        before = self.done // self.every
        self.done += n
        if self.done // self.every != before:
            elapsed = time.monotonic() - self.started
            rate = self.done / max(elapsed, 1e-9)
            if not self.total:
                log.info("%s: %d so far (%.0f/s)", self.what, self.done, rate)
                return
            share = min(self.done / self.total, 1.0)
            filled = round(share * self.BAR)
            log.info("%s: [%s%s] %d of %d (%.0f%%), %.0f/s, about %.0f s left", self.what, "#" * filled,
                     "-" * (self.BAR - filled), self.done, self.total, share * 100, rate,
                     max(self.total - self.done, 0) / max(rate, 1e-9))
