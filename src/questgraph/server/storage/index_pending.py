"""Pending rank index updates (issue 6, D22): the durable half of "commit, then update the index".

A shared (Redis) rank index is updated after the database commit; a process killed between the two would
leave the index stale, and a restarted process keeps an index whose epoch still matches the database. So
every leaderboard write records, in the same transaction as the entry write, which board (and entry) the
index must follow, and deletes that row once the index update succeeded. A row left behind names exactly
what may be stale; ``ranking/keeper.py`` repairs it from the database's current truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class IndexPending:
    id: int
    leaderboard_id: int
    entry_id: int | None  # None: the whole board (remove all, board deleted, sort order changed)


class IndexPendingStore(Protocol):
    def add_index_pending(self, leaderboard_id: int, entry_id: int | None) -> int:
        """Record a pending index update (inside the caller's transaction); returns its id."""
        ...

    def list_index_pending(self, limit: int = 1000) -> list[IndexPending]:
        """The oldest pending rows first."""
        ...

    def delete_index_pending(self, pending_ids: list[int]) -> None: ...

