"""Leaderboard rows as ``leaderboards/store.py`` hands them to the service: boards, entries, what a submit
reads in one query, and pending rank index updates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from questgraph.server.identity.records import User


@dataclass(frozen=True, slots=True)
class Leaderboard:
    id: int
    app_id: int
    api_name: str
    sort_order: str
    entry_write_policy: str
    earliest_allowed_entry_time: int | None
    latest_allowed_entry_time: int | None
    title_locale_map: str | None
    created_at: int


class Entry(NamedTuple):
    """A NamedTuple, not a frozen dataclass: a page builds 25 of them, and a tuple is made in a third of
    the time (0.27 µs against 0.73)."""

    id: int
    leaderboard_id: int
    user_id: int
    score: int
    extra_data: bytes
    written_us: int

    @property
    def timestamp(self) -> int:
        return self.written_us // 1_000_000


class IndexedEntry(NamedTuple):
    """An entry of a page answered from the rank index alone: what its key and member hold (no extra data,
    the user by id alone). One tuple a row, where a page built from the rows makes three."""

    id: int
    rank: int
    score: int
    written_us: int
    user_id: int


@dataclass(frozen=True, slots=True)
class SubmitTarget:
    """What a leaderboard submit needs to know, read in one query (the hottest write)."""

    board: Leaderboard
    user: User | None  # the user the id names, of any app; None when there is none
    entitled: bool  # that user is entitled to the board's app
    entry: Entry | None  # that user's entry on the board
    cache_version: str | None = None  # the deployment's, read with the rest (auth/tokens.py: confirm)


@dataclass(frozen=True, slots=True)
class IndexPending:
    """A pending rank index update (D22): the durable half of "commit, then update the index".

    A shared (Redis) rank index is updated after the database commit; a process killed between the two
    would leave the index stale, and a restarted process keeps an index whose epoch still matches the
    database. So every leaderboard write records, in the same transaction as the entry write, which board
    (and entry) the index must follow, and deletes that row once the index update succeeded. A row left
    behind names exactly what may be stale; ``ranking/keeper.py`` repairs it from the database's current
    truth."""

    id: int
    leaderboard_id: int
    entry_id: int | None  # None: the whole board (remove all, board deleted, sort order changed)
