"""Choosing the rank index (``Settings.rank_index``) and keeping it valid for the server.

The in-memory index lives in one process: it is built at start-up and after a reset or import, and is
always ready afterwards. The Redis index is shared by every process of a deployment and can be lost
under them (FLUSHALL, a restart without persistence, eviction), so its keeper checks it on every Graph
request (one MGET), rebuilds it from the database when it is lost (one process at a time, under a Redis
lock), and meanwhile Graph calls answer 503 code 2, is_transient true (D7) rather than wrong ranks.

Which database state an index was built from is recorded as an epoch: a random token kept in the
database's settings (a reset or an import replaces it) and copied into the index's ready marker. At
start-up a process rebuilds only when the two differ, so restarting one replica of many costs nothing.

A shared index also outlives the processes that write it, and each write commits to the database before
it updates the index: a process killed between the two (kill -9, OOM) would leave the index stale under a
matching epoch. So every leaderboard write records an ``index_pending`` row in its own transaction and
deletes it after the index update (leaderboards/service.py: under the executor, within a second, with a
later write); a row left behind is repaired here, at
start-up (after the rebuild check) and by any live process that sees a row survive two sweeps
``SWEEP_SECONDS`` apart. Repair sets the index to the database's current truth for what the row names
(the entry's key, or its absence; the whole board for a board-wide write), which is idempotent and
right whoever else is writing (see ``repair_pending``). The in-memory index needs none of this: it is
rebuilt from the database at every start (``tracks_pending`` False).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import urlsplit, urlunsplit

from questgraph.server.db import WholeState
from questgraph.server.errors import Unavailable
from questgraph.server.leaderboards.records import IndexPending
from questgraph.server.leaderboards.store import LeaderboardStore
from questgraph.server.ranking.index import InMemoryRankIndex, RankIndex
from questgraph.server.ranking.keys import sort_key

if TYPE_CHECKING:  # redis is an optional dependency (the "redis" extra): imported only when used
    from questgraph.server.ranking.redis_index import RedisRankIndex

log = logging.getLogger("questgraph.ranking")
EPOCH_SETTING = "rank_index_epoch"
MEMORY = "memory"
REDIS_SCHEMES = ("redis", "rediss", "unix")
State = Literal["ready", "rebuilding", "lost", "down"]
FREEZE_FROM = 100_000  # entries of an in-memory index from which its build is frozen out of the GC
READY_MEMO_S = 0.002  # how long a "ready" answer of Redis is trusted by the next requests of this process
SWEEP_SECONDS = 5.0  # how often a live process looks for pending rows left behind by a dead one
REPAIR_BATCH = 1000
REPAIR_TRIES = 5  # re-reads of one entry while other processes keep changing it


class IndexUnavailable(Unavailable):
    """The shared rank index is being rebuilt or cannot be reached: a 503 code 2, is_transient (D7)."""


def index_errors() -> tuple[type[Exception], ...]:
    """The exceptions that mean "the rank index backend failed" (answered as a transient 503, D7)."""
    try:
        from redis.exceptions import RedisError
    except ImportError:
        return ()
    return (RedisError,)


def redacted(url: str) -> str:
    """The URL without its password, for logs, health answers and namespaces."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class IndexKeeper(Protocol):
    kind: str
    rebuilds: int
    tracks_pending: bool  # whether writes record index_pending rows (a shared index only)

    def bind(self, store: LeaderboardStore, whole_state: WholeState, build: Callable[[], object]) -> None: ...
    def state(self) -> State: ...
    def check(self, marker: bool = True) -> None:
        """Per Graph request: return when the index can be read, else raise ``IndexUnavailable``.
        ``marker=False``: the request's own index read checks the ready marker (a page script), so only
        the periodic work is done here."""
        ...

    def trip(self) -> AbstractContextManager[None]:
        """Around a trip of calls (server/executor.py): inside, once ``check`` has passed, it passes for
        the trip's later calls at once."""
        ...

    def rebuild(self, force: bool = True) -> None: ...
    def exclusive(self) -> AbstractContextManager[None]: ...
    def detached(self) -> AbstractContextManager[None]:
        """Index writes are skipped inside (a rebuild follows): applying a world before serving."""
        ...

    def describe(self) -> dict[str, Any]: ...


def open_rank_index(url: str | None, database: str) -> tuple[RankIndex, IndexKeeper]:
    """``None``/``memory`` → in memory; ``redis://…`` (or ``rediss://``, ``unix://``) → Redis."""
    if not url or url == MEMORY:
        memory = InMemoryRankIndex()
        return memory, MemoryKeeper(memory)
    if url.split("://", 1)[0] in REDIS_SCHEMES:
        try:
            from questgraph.server.ranking.redis_index import RedisRankIndex
        except ImportError as exc:
            raise RuntimeError("a redis:// rank index needs the Redis client: pip install 'questgraph[redis]'") from exc
        index = RedisRankIndex.from_url(url, default_namespace(database))
        return index, RedisKeeper(index, url)
    raise ValueError(f"unsupported rank index {redacted(url)!r}: use 'memory' or redis://host:port/db")


def default_namespace(database: str) -> str:
    """A namespace per database, so two deployments sharing one Redis never share boards.

    A database URL names one database wherever it is used (without its password); a SQLite file is
    local to its host, so its host name is part of its identity.
    """
    if "://" in database and not database.startswith("sqlite:"):
        identity = redacted(database)
    else:
        path = database if database == ":memory:" else os.path.abspath(database)
        identity = f"sqlite:{socket.gethostname()}:{path}"
        if database == ":memory:":  # a private database: a private namespace
            identity += f":{os.getpid()}:{secrets.token_hex(8)}"
    return hashlib.sha256(identity.encode()).hexdigest()[:16]


def _reload(store: LeaderboardStore, index: RankIndex, board_id: int) -> None:
    board = store.get_leaderboard(board_id)
    if board is None:
        index.clear(board_id)
        return
    index.load(board_id, [(sort_key(board.sort_order, score, written_us, entry_id), user_id)
                          for _, entry_id, user_id, score, written_us in store.iter_entry_keys(board_id)])


class MemoryKeeper:
    kind = MEMORY
    tracks_pending = False  # rebuilt from the database at every start: nothing can be left stale

    def __init__(self, index: InMemoryRankIndex) -> None:
        self.index = index
        self.rebuilds = 0
        self._build: Callable[[], object] = lambda: None

    def bind(self, store: LeaderboardStore, whole_state: WholeState, build: Callable[[], object]) -> None:
        self._build = build

    def state(self) -> State:
        return "ready"

    def check(self, marker: bool = True) -> None:
        return None

    def trip(self) -> AbstractContextManager[None]:
        return contextlib.nullcontext()

    def rebuild(self, force: bool = True) -> None:
        self.index.reset()
        self._build()
        self.rebuilds += 1
        if self.index.size() >= FREEZE_FROM:
            # A big index is millions of ints in thousands of lists, alive as long as the process: every
            # full garbage collection would walk them all (0.2 s at 11M entries, a stall of every request
            # in flight). Out of the collector's sight from here on (new lists, from later splits, are not).
            gc.collect()
            gc.freeze()

    def exclusive(self) -> AbstractContextManager[None]:
        return contextlib.nullcontext()

    def detached(self) -> AbstractContextManager[None]:
        return contextlib.nullcontext()  # in-memory writes are harmless; the start-up build resets them

    def describe(self) -> dict[str, Any]:
        return {"kind": MEMORY, "state": "ready"}


def repair_pending(store: LeaderboardStore, index: RankIndex, rows: list[IndexPending]) -> int:
    """Set the index to the database's current truth for each pending row, then delete the rows.

    Idempotent, and safe while other processes write: for an entry it writes the key it read, then
    re-reads the entry and writes again until the read after the write equals the read before it. A
    concurrent writer commits before it updates the index, so either that re-read sees its commit (and
    the loop writes it) or its own index update comes after ours (and wins with the same truth).
    A whole-board row reloads the board (as a sort order change does). Returns the rows repaired.
    """
    boards = {row.leaderboard_id for row in rows if row.entry_id is None}
    for board_id in sorted(boards):
        _reload(store, index, board_id)
    for row in rows:
        if row.entry_id is None or row.leaderboard_id in boards:
            continue
        _repair_entry(store, index, row.leaderboard_id, row.entry_id, row.id)
    store.delete_index_pending([row.id for row in rows])
    if rows:
        log.warning("rank index: repaired %d pending update(s) left by a process that stopped mid-write "
                    "(%d board(s) reloaded)", len(rows), len(boards))
    return len(rows)


def _truth(store: LeaderboardStore, board_id: int, entry_id: int) -> tuple[tuple[int, int] | None, bool]:
    """((the entry's key, its user), whether its board exists), as the database has them now."""
    board = store.get_leaderboard(board_id)
    if board is None:
        return None, False
    entry = store.get_entry(entry_id)
    if entry is None or entry.leaderboard_id != board_id:
        return None, True
    return (sort_key(board.sort_order, entry.score, entry.written_us, entry.id), entry.user_id), True


def _repair_entry(store: LeaderboardStore, index: RankIndex, board_id: int, entry_id: int, version: int) -> None:
    # With the row's version: newer than every update before the write it stands for, older than those
    # after it (which carry the database's truth as new as ours or newer).
    truth, board_exists = _truth(store, board_id, entry_id)
    for _ in range(REPAIR_TRIES):
        if not board_exists:
            index.clear(board_id)  # a deleted board's id never comes back (D9)
            return
        if truth is None:
            index.remove(board_id, entry_id, version)
        else:
            index.put(board_id, entry_id, *truth, version)
        after, board_exists = _truth(store, board_id, entry_id)
        if after == truth:
            return
        truth = after
    _reload(store, index, board_id)  # the entry keeps changing: settle its whole board instead


class RedisKeeper:
    kind = "redis"
    tracks_pending = True

    def __init__(self, index: RedisRankIndex, url: str) -> None:
        self.index = index
        self.url = redacted(url)
        self.rebuilds = 0
        self._store: LeaderboardStore | None = None
        self._whole_state: WholeState | None = None
        self._build: Callable[[], object] = lambda: None
        self._background: threading.Thread | None = None
        self._guard = threading.Lock()
        self._next_sweep = time.monotonic() + SWEEP_SECONDS
        self._seen: set[int] = set()  # pending row ids seen by the previous sweep
        self._ready_until = 0.0  # check() found the index ready; trusted until then
        self._local = threading.local()  # .in_trip, .checked: check() passed in this thread's current trip
        self.repaired = 0

    def bind(self, store: LeaderboardStore, whole_state: WholeState, build: Callable[[], object]) -> None:
        self._store, self._whole_state, self._build = store, whole_state, build

    def state(self) -> State:
        return self.index.state()

    @contextlib.contextmanager
    def trip(self) -> Iterator[None]:
        self._local.in_trip, self._local.checked = True, False
        try:
            yield
        finally:
            self._local.in_trip, self._local.checked = False, False

    def check(self, marker: bool = True) -> None:
        if getattr(self._local, "checked", False):
            return  # the trip's calls started together (server/executor.py): one round trip answers for all
        now = time.monotonic()
        if not marker:
            if now >= self._next_sweep:
                self._sweep()
            return
        # Trips that start within READY_MEMO_S share one round trip too. A flush or stop of Redis is seen
        # by the next trip, and within READY_MEMO_S (docs/fidelity.md).
        if now >= self._ready_until:
            state = self.index.state()
            if state == "down":
                raise IndexUnavailable("The rank index (Redis) is unavailable. Please retry shortly.")
            if state != "ready":
                if state == "lost":
                    self._rebuild_in_background()
                raise IndexUnavailable("The rank index is being rebuilt. Please retry shortly.")
            self._ready_until = now + READY_MEMO_S
        if now >= self._next_sweep:
            self._sweep()
        if getattr(self._local, "in_trip", False):
            self._local.checked = True

    def repair(self) -> int:
        """Repair every pending row (start-up and after a rebuild): a rebuild's scan may have missed a
        write whose process died before its index update."""
        assert self._store is not None, "bind() first"
        total = 0
        for _ in range(100):  # bounded: live processes keep adding (and deleting) rows of their own
            rows = self._store.list_index_pending(REPAIR_BATCH)
            total += repair_pending(self._store, self.index, rows)
            if len(rows) < REPAIR_BATCH:
                break
        self.repaired += total
        return total

    def _sweep(self) -> None:
        """While serving: repair the rows that survived since the previous sweep. A live write deletes
        its row within milliseconds, so a row seen twice ``SWEEP_SECONDS`` apart was left by a process
        that died; repairing a live one would be harmless anyway (``repair_pending``)."""
        self._next_sweep = time.monotonic() + SWEEP_SECONDS
        if self._store is None:
            return
        try:
            rows = self._store.list_index_pending(REPAIR_BATCH)
            stale = [row for row in rows if row.id in self._seen]
            self._seen = {row.id for row in rows} - {row.id for row in stale}
            if stale:
                self.repaired += repair_pending(self._store, self.index, stale)
        except Exception:  # the request that happened to sweep must not fail for it; the next sweep retries
            log.warning("rank index: repairing pending updates failed; retrying later", exc_info=True)

    def _epoch(self) -> str:
        assert self._whole_state is not None, "bind() first"
        epoch = self._whole_state.get_setting(EPOCH_SETTING)
        if epoch is None:
            epoch = secrets.token_hex(16)
            self._whole_state.set_setting(EPOCH_SETTING, epoch)
        return epoch

    def _run_rebuild(self) -> None:
        store = self._store
        assert store is not None, "bind() first"
        started = time.monotonic()
        self.index.rebuild(self._build, lambda board_id: _reload(store, self.index, board_id), self._epoch())
        self.rebuilds += 1
        log.info("rank index (redis) rebuilt in %.1fs", time.monotonic() - started)
        self.repair()

    def rebuild(self, force: bool = True) -> None:
        """``force``: rebuild now (waiting for another rebuilder); else only if the index is not the
        database's (start-up), and not at all while another process is already rebuilding it."""
        if force:
            with self.index.exclusive():
                self._run_rebuild()
            return
        if self.index.marker() == self._epoch():
            self.repair()  # the index is the database's, but a process may have died mid-write
            return
        if not self.index.try_lock():
            return  # another process rebuilds; requests answer 503 until it is done
        try:
            self._run_rebuild()
        finally:
            self.index.release_lock()

    def _rebuild_in_background(self) -> None:
        with self._guard:
            if self._background is not None and self._background.is_alive():
                return
            self._background = threading.Thread(target=self._rebuild_if_lost, name="rank-index-rebuild",
                                                daemon=True)
            self._background.start()

    def _rebuild_if_lost(self) -> None:
        try:
            if not self.index.try_lock():
                return
            try:
                if self.index.state() == "ready":
                    return
                log.warning("rank index (redis) lost: rebuilding it from the database")
                self._run_rebuild()
            finally:
                self.index.release_lock()
        except Exception:
            log.exception("rebuilding the rank index failed; the next request retries")

    def exclusive(self) -> AbstractContextManager[None]:
        return self.index.exclusive()

    @contextlib.contextmanager
    def detached(self) -> Iterator[None]:
        self.index.detached = True
        try:
            yield
        finally:
            self.index.detached = False

    def describe(self) -> dict[str, Any]:
        return {"kind": "redis", "state": self.index.state()}
