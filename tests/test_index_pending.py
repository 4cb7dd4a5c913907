"""Pending rank index updates (issue 6, D22): with a shared index every leaderboard write records an
``index_pending`` row in its own transaction and deletes it after the index update; a row left behind
(the process died between the commit and the index update) is repaired from the database's truth.

These drive ``LeaderboardService`` and ``ranking.keeper`` directly on a SQLite file (the SQL is shared
with PostgreSQL; tests/test_faults.py covers PostgreSQL + Redis with a real kill -9). A "crash" is an
index whose next write raises, as a kill between the commit and the index update leaves things.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from questgraph.server.auth.callers import AppCaller, UserCaller
from questgraph.server.clock import Clock
from questgraph.server.db import Database, ObjectIds, WholeState, open_database
from questgraph.server.errors import Unavailable
from questgraph.server.identity.records import App
from questgraph.server.identity.service import IdentityService
from questgraph.server.identity.store import IdentityStore
from questgraph.server.leaderboards.service import EntriesQuery, LeaderboardService
from questgraph.server.leaderboards.store import LeaderboardStore
from questgraph.server.ranking import keeper as keeper_module
from questgraph.server.ranking.index import InMemoryRankIndex, Page
from questgraph.server.ranking.keeper import RedisKeeper, repair_pending
from questgraph.server.ranking.keys import sort_key
from tests.conftest import postgres_database


class Crash(Exception):
    """The process "dies" here: the index update never happens."""


class CrashingIndex(InMemoryRankIndex):
    """An in-memory index whose writes can be made to fail, to leave the state a kill leaves."""

    def __init__(self) -> None:
        super().__init__()
        self.crash = False

    def _maybe_crash(self) -> None:
        if self.crash:
            raise Crash

    def put(self, board_id: int, entry_id: int, key: int, user_id: int, version: int = 0) -> None:
        self._maybe_crash()
        super().put(board_id, entry_id, key, user_id, version)

    def remove(self, board_id: int, entry_id: int, version: int = 0) -> None:
        self._maybe_crash()
        super().remove(board_id, entry_id, version)

    def clear(self, board_id: int) -> None:
        self._maybe_crash()
        super().clear(board_id)

    def load(self, board_id: int, entries: Any) -> None:
        self._maybe_crash()
        super().load(board_id, entries)


class World:
    def __init__(self, tmp_path: Path, track_pending: bool = True, database: str | None = None) -> None:
        self.db: Database = open_database(database or str(tmp_path / f"qg-{secrets.token_hex(4)}.sqlite"))
        self.store = LeaderboardStore(self.db)
        self.identity_store = IdentityStore(self.db)
        self.whole_state = WholeState(self.db)
        self.clock = Clock()
        self.identity = IdentityService(self.db, self.identity_store, ObjectIds(self.db), self.clock)
        self.index = CrashingIndex()
        self.service = LeaderboardService(self.db, self.store, self.identity_store, self.index, self.clock,
                                          self.identity, track_pending=track_pending)
        org = self.identity.create_org("Pending Studio")
        self.app: App = self.identity.create_app(org.id, "Pending Game").app
        self.caller = AppCaller(self.app)
        self.users = []
        for n in range(4):
            user = self.identity.join_app(self.identity.create_person(f"pending_{n}"), self.app.id)
            self.identity.grant_entitlement(user.id)
            self.users.append(user.id)
        self.board = self.service.upsert(self.caller, self.app.id, "pending", sort_order="HIGHER_IS_BETTER",
                                         entry_write_policy=None, earliest=None, latest=None, title_locale_map=None)

    def submit(self, user: int, score: int, force: bool = False) -> bool:
        return self.service.submit(self.caller, "pending", score, b"", force, user)

    def truth(self) -> list[int]:
        """The board's keys as the database has them: what the index must hold (D14)."""
        board = self.store.get_leaderboard(self.board.id)
        if board is None:
            return []
        return sorted(sort_key(board.sort_order, s, w, e) for _, e, _, s, w in self.store.iter_entry_keys(board.id))

    def served(self) -> list[int]:
        return self.index.keys_between(self.board.id, 0, 1000)

    def repair(self) -> int:
        return repair_pending(self.store, self.index, self.store.list_index_pending())


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    made = World(tmp_path)
    yield made
    made.db.close()


def test_a_completed_write_leaves_no_pending_row(world: World) -> None:
    """D22: the row is deleted once the index update succeeded, for every kind of write."""
    assert world.submit(world.users[0], 10)
    assert world.submit(world.users[1], 20)
    entry = world.store.find_entry(world.board.id, world.users[1])
    assert entry is not None
    world.service.delete_entry(world.caller, entry.id)
    world.service.upsert(world.caller, world.app.id, "pending", sort_order="LOWER_IS_BETTER",
                         entry_write_policy=None, earliest=None, latest=None, title_locale_map=None)
    world.service.remove_all_entries(world.caller, "pending")
    assert world.store.list_index_pending() == []
    assert world.served() == world.truth() == []


def test_the_in_memory_index_records_no_pending_rows(tmp_path: Path) -> None:
    """D22: the in-memory index is rebuilt from the database at every start, so its writes pay nothing:
    even a write whose index update fails leaves no row."""
    world = World(tmp_path, track_pending=False)
    try:
        world.index.crash = True
        with pytest.raises(Crash):
            world.submit(world.users[0], 10)
        assert world.store.find_entry(world.board.id, world.users[0]) is not None
        assert world.store.list_index_pending() == []
    finally:
        world.db.close()


def test_a_submit_committed_but_not_indexed_is_repaired(world: World) -> None:
    """D14/D22: the row commits with the entry; repair puts the database's key and deletes the row;
    a second repair finds nothing (idempotent)."""
    world.submit(world.users[0], 10)
    world.submit(world.users[1], 20)
    world.index.crash = True
    with pytest.raises(Crash):
        world.submit(world.users[0], 30)  # committed: the new best score is in the database
    with pytest.raises(Crash):
        world.submit(world.users[2], 5)  # a new entry, committed but not indexed
    world.index.crash = False
    assert world.served() != world.truth()
    pending = world.store.list_index_pending()
    assert [(p.leaderboard_id, p.entry_id is not None) for p in pending] == [(world.board.id, True)] * 2
    assert world.repair() == 2
    assert world.served() == world.truth()
    assert len(world.truth()) == 3
    assert world.store.list_index_pending() == []
    assert world.repair() == 0
    assert world.served() == world.truth()


def test_a_write_that_is_not_committed_leaves_no_row(world: World) -> None:
    """D15/D22: a score that does not beat the stored one writes nothing, not even a pending row."""
    world.submit(world.users[0], 10)
    world.index.crash = True
    assert not world.submit(world.users[0], 5)
    assert world.store.list_index_pending() == []


def test_a_delete_committed_but_not_indexed_is_repaired(world: World) -> None:
    """D22: the entry is gone from the database: repair removes it from the index."""
    world.submit(world.users[0], 10)
    world.submit(world.users[1], 20)
    entry = world.store.find_entry(world.board.id, world.users[1])
    assert entry is not None
    world.index.crash = True
    with pytest.raises(Crash):
        world.service.delete_entry(world.caller, entry.id)
    world.index.crash = False
    assert len(world.served()) == 2
    assert world.repair() == 1
    assert world.served() == world.truth() and len(world.truth()) == 1


@pytest.mark.parametrize("operation", ["remove_all", "delete_board", "sort_order"])
def test_whole_board_writes_committed_but_not_indexed_are_repaired(world: World, operation: str) -> None:
    """D14/D22: remove all entries, delete the board, change its sort order: repair reloads the board."""
    for n, user in enumerate(world.users):
        world.submit(user, 10 * (n + 1))
    before = world.served()
    world.index.crash = True
    with pytest.raises(Crash):
        if operation == "remove_all":
            world.service.remove_all_entries(world.caller, "pending")
        elif operation == "delete_board":
            world.service.delete_board(world.caller, world.board.id)
        else:
            world.service.upsert(world.caller, world.app.id, "pending", sort_order="LOWER_IS_BETTER",
                                 entry_write_policy=None, earliest=None, latest=None, title_locale_map=None)
    world.index.crash = False
    assert world.served() == before != world.truth()
    pending = world.store.list_index_pending()
    assert [(p.leaderboard_id, p.entry_id) for p in pending] == [(world.board.id, None)]
    assert world.repair() == 1
    assert world.served() == world.truth()
    assert len(world.truth()) == (4 if operation == "sort_order" else 0)


def test_repair_follows_an_entry_changed_by_another_process_meanwhile(world: World) -> None:
    """D22: repair of a row another live process is still writing is harmless: when the entry changes
    between repair's read and its index write, repair reads again and writes the newer truth."""
    world.submit(world.users[0], 10)
    world.index.crash = True
    with pytest.raises(Crash):
        world.submit(world.users[0], 30)
    world.index.crash = False
    store = world.store
    real_put = world.index.put
    raced = []

    def put_then_race(board_id: int, entry_id: int, key: int, user_id: int, version: int = 0) -> None:
        real_put(board_id, entry_id, key, user_id, version)
        if not raced:  # another process commits a better score right after repair wrote the old one
            raced.append(True)
            entry = store.find_entry(world.board.id, world.users[0])
            assert entry is not None
            store.update_entry(entry.__class__(entry.id, entry.leaderboard_id, entry.user_id, 99, b"",
                                                 entry.written_us + 1))

    world.index.put = put_then_race  # type: ignore[method-assign]
    assert world.repair() == 1
    assert raced
    entry = store.find_entry(world.board.id, world.users[0])
    assert entry is not None and entry.score == 99
    assert world.served() == world.truth()


def page(world: World) -> list[tuple[int, int]]:
    """(rank, score) of the board's first page, read as the Graph API reads it."""
    read = world.service.entries(world.caller, EntriesQuery("pending"))
    return [(row.rank, row.entry.score) for row in read.rows]


def test_a_page_read_between_a_commit_and_its_index_update_is_never_out_of_order(world: World) -> None:
    """D7/D22: the order of a page comes from the index, its scores from the database. Between a write's
    commit and its index update (another process's, or another trip's of this one) the two disagree: the
    read must neither show a score out of order nor fail on a deleted entry (a 500); it reads the page
    again, and answers a transient 503 if the index has still not caught up."""
    world.submit(world.users[0], 10)
    world.submit(world.users[1], 20)
    assert page(world) == [(1, 20), (2, 10)]
    world.index.crash = True
    with pytest.raises(Crash):
        world.submit(world.users[0], 30)  # committed; the index still ranks it at 10
    with pytest.raises(Unavailable):
        page(world)
    world.index.crash = False
    world.repair()
    assert page(world) == [(1, 30), (2, 20)]
    entry = world.store.find_entry(world.board.id, world.users[1])
    assert entry is not None
    world.index.crash = True
    with pytest.raises(Crash):
        world.service.delete_entry(world.caller, entry.id)  # committed; still in the index
    with pytest.raises(Unavailable):
        page(world)


def test_a_page_that_raced_a_write_is_read_again(world: World) -> None:
    """The index update lands while the page is being read: the next read of the page is whole and right."""
    world.submit(world.users[0], 10)
    world.submit(world.users[1], 20)
    world.index.crash = True
    with pytest.raises(Crash):
        world.submit(world.users[0], 30)
    world.index.crash = False
    real_page = world.index.page
    reads: list[int] = []

    def page_then_catch_up(board_id: int, anchor: int | None, offset: int, limit: int, before: bool = False) -> Page:
        read = real_page(board_id, anchor, offset, limit, before)
        if not reads:
            world.repair()  # the write's index update arrives just after the first read of the keys
        reads.append(len(read.keys))
        return read

    world.index.page = page_then_catch_up  # type: ignore[method-assign]
    assert page(world) == [(1, 30), (2, 20)]
    assert len(reads) == 2


def test_a_centred_page_that_raced_the_viewers_own_write_reads_the_viewer_again(world: World) -> None:
    """The viewer's entry was read (score 10), then the viewer's better score committed (30) before the page
    was read, its index update landing just after: the page is read again around the viewer's new entry
    (rank 1), not around the old score's place (past the end of the board: an empty page)."""
    world.submit(world.users[0], 10)
    world.submit(world.users[1], 20)
    real_page = world.index.page
    reads: list[list[int]] = []

    def write_meanwhile(board_id: int, anchor: int | None, offset: int, limit: int, before: bool = False) -> Page:
        if not reads:
            world.index.crash = True
            with pytest.raises(Crash):
                world.submit(world.users[0], 30)  # committed; the index still has the viewer at 10
            world.index.crash = False
        read = real_page(board_id, anchor, offset, limit, before)
        if not reads:
            world.repair()
        reads.append(read.keys)
        return read

    world.index.page = write_meanwhile  # type: ignore[method-assign]
    viewer = world.identity_store.get_user(world.users[0])
    assert viewer is not None
    read = world.service.entries(UserCaller(world.app, viewer),
                                 EntriesQuery("pending", start_at="CENTERED_ON_VIEWER", limit=1))
    assert [(row.rank, row.entry.score, row.user.id) for row in read.rows] == [(1, 30, world.users[0])]
    assert len(reads) == 2


def test_snapshot_reset_empties_pending_rows(world: World) -> None:
    """The table is state (D22): reset empties it; an export carries it and an import restores it."""
    world.index.crash = True
    with pytest.raises(Crash):
        world.submit(world.users[0], 10)
    exported = world.whole_state.export_tables()
    assert [(r["leaderboard_id"], r["entry_id"]) for r in exported["index_pending"]] == [
        (world.board.id, world.store.find_entry(world.board.id, world.users[0]).id)]  # type: ignore[union-attr]
    world.whole_state.reset()
    assert world.store.list_index_pending() == []
    world.whole_state.import_tables(exported)
    assert len(world.store.list_index_pending()) == 1


class FakeRedisIndex(CrashingIndex):
    """Enough of ``RedisRankIndex`` for the keeper's sweep: always ready."""

    def state(self) -> str:
        return "ready"


def test_a_live_process_repairs_rows_that_survive_two_sweeps(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """D22: while serving, a row seen by two sweeps in a row was left by a dead process and is repaired;
    a row seen once (maybe a live write in flight) is left alone until the next sweep."""
    index = FakeRedisIndex()
    world.index = index
    world.service.index = index
    world.service.build_index()
    keeper = RedisKeeper(index, "redis://unused")  # type: ignore[arg-type]
    keeper.bind(world.store, world.whole_state, world.service.build_index)
    world.submit(world.users[0], 10)
    index.crash = True
    with pytest.raises(Crash):
        world.submit(world.users[1], 20)
    index.crash = False
    assert world.served() != world.truth()
    monkeypatch.setattr(keeper_module, "SWEEP_SECONDS", 0.0)
    keeper._next_sweep = 0.0
    keeper.check()  # first sight: not yet
    assert len(world.store.list_index_pending()) == 1 and world.served() != world.truth()
    keeper._next_sweep = 0.0
    keeper.check()  # still there: repaired
    assert world.store.list_index_pending() == []
    assert world.served() == world.truth() and keeper.repaired == 1


# --- settled rows under the executor: deleted by a later write, and only once their update was applied ------
def pending_entries(world: World) -> list[int | None]:
    return [row.entry_id for row in world.store.list_index_pending()]


class PipelinedIndex(CrashingIndex):
    """As the Redis index does inside ``batched()``: puts are held back and sent together at its end, which
    is where they fail (a lost connection, a kill) when ``crash`` is set."""

    _held: list[tuple[int, int, int, int, int]] | None = None

    @contextlib.contextmanager
    def batched(self) -> Iterator[None]:
        self._held = []
        try:
            yield
        finally:
            held, self._held = self._held, None
        self._maybe_crash()
        for update in held:
            InMemoryRankIndex.put(self, *update)

    def put(self, board_id: int, entry_id: int, key: int, user_id: int, version: int = 0) -> None:
        if self._held is not None:
            self._held.append((board_id, entry_id, key, user_id, version))
        else:
            super().put(board_id, entry_id, key, user_id, version)


def test_a_pending_row_goes_only_after_its_index_update_applied_and_then_with_a_later_write(
        tmp_path: Path, backend: str) -> None:
    """D22, as the executor runs writes (inside ``index_updates_together``): the row of an applied index
    update is deleted by the next submit's own statement (on PostgreSQL one statement with the upsert),
    never the row of an update that did not apply, which stays for the repair."""
    path = str(tmp_path / "settle.sqlite3")
    world = World(tmp_path, database=postgres_database(path) if backend == "postgres" else path)
    world.index = world.service.index = PipelinedIndex()
    world.service.build_index()
    try:
        def trip(user: int, score: int) -> None:
            with world.service.index_updates_together():
                assert world.submit(user, score)

        def entry_of(user: int) -> int:
            entry = world.store.find_entry(world.board.id, user)
            assert entry is not None
            return entry.id

        trip(world.users[0], 10)  # applied: its row waits for the next write
        assert pending_entries(world) == [entry_of(world.users[0])]
        world.index.crash = True
        with pytest.raises(Crash):
            trip(world.users[1], 20)  # committed (and it deleted the first row); its held-back update failed
        world.index.crash = False
        assert pending_entries(world) == [entry_of(world.users[1])]
        trip(world.users[2], 5)
        trip(world.users[3], 7)  # deletes users[2]'s row; its own waits
        assert pending_entries(world) == [entry_of(world.users[1]), entry_of(world.users[3])]
        world.service.settle_waiting(older_than=60)  # too young to be deleted on its own yet
        assert len(pending_entries(world)) == 2
        world.service.settle_waiting(older_than=0)  # no write came: deleted on their own (a trip's end)
        assert pending_entries(world) == [entry_of(world.users[1])]  # only the update that never applied
        assert world.served() != world.truth()
        assert world.repair() == 1
        assert world.served() == world.truth() and pending_entries(world) == []
    finally:
        world.db.close()


def test_a_keep_best_write_that_loses_still_deletes_the_settled_rows(tmp_path: Path, backend: str) -> None:
    """The settled rows' delete is part of the submit's statement even when the stored score wins (another
    process wrote a better one since this process read it): nothing is left waiting."""
    path = str(tmp_path / "settle-lost.sqlite3")
    world = World(tmp_path, database=postgres_database(path) if backend == "postgres" else path)
    try:
        with world.service.index_updates_together():
            assert world.submit(world.users[0], 10)
        assert len(pending_entries(world)) == 1
        entry = world.store.find_entry(world.board.id, world.users[0])
        assert entry is not None
        # As another process would: a better score, written after this process's read of the entry.
        stored = world.service.store.submit_entry
        def racing(*args: Any, **kwargs: Any) -> Any:
            world.db.run("UPDATE entries SET score = 100 WHERE id = ?", (entry.id,))
            return stored(*args, **kwargs)
        world.service.store.submit_entry = racing  # type: ignore[method-assign]
        with world.service.index_updates_together():
            assert not world.submit(world.users[0], 50)
        assert pending_entries(world) == []
    finally:
        world.db.close()


def test_the_shared_index_is_checked_once_per_trip(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """One Redis round trip answers for a trip's calls (server/executor.py); the next trip asks again, and
    a trip that finds the index gone answers 503 for each of its calls (none trusts a failed check)."""
    index = FakeRedisIndex()
    keeper = RedisKeeper(index, "redis://unused")  # type: ignore[arg-type]
    keeper.bind(world.store, world.whole_state, world.service.build_index)
    monkeypatch.setattr(keeper_module, "READY_MEMO_S", 0.0)  # no trust in time: only the trip's
    asked: list[str] = []
    states = iter(["ready", "ready", "rebuilding", "rebuilding"])

    def state() -> str:
        asked.append("state")
        return next(states)

    monkeypatch.setattr(index, "state", state)
    with keeper.trip():
        for _ in range(3):
            keeper.check()
    assert asked == ["state"]
    keeper.check()  # outside a trip: every call asks
    assert asked == ["state"] * 2
    with keeper.trip():
        for _ in range(2):
            with pytest.raises(Unavailable):
                keeper.check()
    assert asked == ["state"] * 4
