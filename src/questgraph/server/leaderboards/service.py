"""Leaderboard behaviour, free of HTTP: upsert, submit, ranked reads with keyset paging, deletes.

Every write commits to the database first and then updates the rank index (``db.after_commit``), so the
index never shows a write that is not durable. Between a commit and its index update, a read may find a
row newer than its key: it reads the page again (``_rows``). With a shared (Redis) index a process may
die between the two: each write then also records, in its own transaction, an ``index_pending`` row
naming what the index must follow, deleted once the index is updated; ranking/keeper.py repairs any row
left behind (D22). Under the executor (group commit) that delete rides on a later write: a row whose
index update has been applied is deleted by the next submit's statement, in its transaction (or, when no
write comes within ``SETTLE_AFTER_S``, at the end of a trip), instead of costing a transaction of its own.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import contextlib
import functools
import itertools
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple, Protocol

from questgraph.server.auth.access import require_app_token, require_path_app
from questgraph.server.auth.callers import Caller, UserCaller
from questgraph.server.clock import Clock
from questgraph.server.db import Database
from questgraph.server.errors import (
    Forbidden,
    GraphError,
    InvalidParameter,
    NotEntitled,
    NotFound,
    NotRanked,
    Unavailable,
)
from questgraph.server.graph.cursors import ENTRIES_PAGE
from questgraph.server.graph.params import parse_json
from questgraph.server.identity.records import User
from questgraph.server.identity.service import IdentityService
from questgraph.server.identity.store import IdentityStore
from questgraph.server.leaderboards.records import Entry, IndexedEntry, Leaderboard, SubmitTarget
from questgraph.server.leaderboards.store import LeaderboardStore
from questgraph.server.ranking.index import Page, PageRequest, ProgressLog, RankIndex, page_bounds
from questgraph.server.ranking.keys import (
    ENTRY_ID_MASK,
    HIGHER_IS_BETTER,
    LOWER_IS_BETTER,
    score_of,
    sort_key,
    written_us_of,
)

log = logging.getLogger("questgraph.leaderboards")

SORT_ORDERS = (HIGHER_IS_BETTER, LOWER_IS_BETTER)
CLIENT_AUTHORITATIVE, SERVER_AUTHORITATIVE = "CLIENT_AUTHORITATIVE", "SERVER_AUTHORITATIVE"
WRITE_POLICIES = (CLIENT_AUTHORITATIVE, SERVER_AUTHORITATIVE)
START_AT = ("TOP", "OFFSET", "CENTERED_ON_VIEWER", "CENTERED_ON_VIEWER_OR_TOP")
START_AT_ALIASES = {"VIEWER": "CENTERED_ON_VIEWER", "VIEWER_OR_TOP": "CENTERED_ON_VIEWER_OR_TOP"}  # D20
FILTERS = ("NONE", "FRIENDS", "USER_IDS")
API_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}")  # D19
MAX_EXTRA_DATA = 2048  # bytes, decoded (D18)
MAX_USER_IDS = 1000
NEEDS_VIEWER = "A viewer-centred or FRIENDS read needs a user access token"


@dataclass(frozen=True)
class EntriesQuery:
    api_name: str
    filter: str = "NONE"
    user_ids: Sequence[int] = ()
    start_at: str = "TOP"
    offset: int = 0
    limit: int = ENTRIES_PAGE.default
    after: int | None = None  # keys decoded from cursors (D21)
    before: int | None = None
    # False when the answer asks for nothing beyond what a rank index page holds (rank, score, timestamp,
    # entry id, user id): the index then answers it without reading the entries' rows.
    rows_needed: bool = True


PAGE_TRIES = 4  # reads of a page that raced a write (LeaderboardService._rows) before a 503
# How long the pending rows of applied index updates may wait for a write to delete them with its own
# statement; well under the keeper's SWEEP_SECONDS, so that no sweep takes them for rows left behind.
SETTLE_AFTER_S = 1.0


class RankedEntry(NamedTuple):
    entry: Entry
    rank: int
    user: User


@dataclass(frozen=True)
class EntriesPage:
    rows: list[RankedEntry] | list[IndexedEntry]  # IndexedEntry: answered from the rank index alone
    keys: list[int]
    total_count: int
    has_previous: bool
    has_next: bool


class _SortedKeys:
    """A filtered board: the few keys of the chosen users, with the same reads as the index."""

    def __init__(self, keys: list[int]) -> None:
        self.keys = sorted(keys)

    def page(self, anchor: int | None, offset: int, limit: int, before: bool) -> Page:
        position = 0 if anchor is None else bisect.bisect_left(self.keys, anchor)
        start, stop = page_bounds(position, offset, limit, before)
        return Page(len(self.keys), start, self.keys[start:stop])


class _BoardView:
    """The whole board, read through the rank index in O(log n) (D22)."""

    def __init__(self, index: RankIndex, board_id: int) -> None:
        self.index, self.board_id = index, board_id

    def page(self, anchor: int | None, offset: int, limit: int, before: bool) -> Page:
        return self.index.page(self.board_id, anchor, offset, limit, before)


def decode_extra_data(value: str | None) -> bytes:
    """Standard or URL-safe base64, padding optional, at most 2048 bytes decoded (D18).

    A space stands for "+": base64 never contains spaces, and ``curl -d extra_data_base64=a+b=`` (the
    documented way to call this API) sends "+" unencoded, which form decoding turns into a space.
    """
    if not value:
        return b""
    text = value.replace(" ", "+").strip().replace("-", "+").replace("_", "/")
    if len(text) > 4 * MAX_EXTRA_DATA:
        raise InvalidParameter(f"Param extra_data_base64 must decode to at most {MAX_EXTRA_DATA} bytes")
    body = text.rstrip("=")
    if body != text and (len(text) % 4 or len(text) - len(body) > 2):
        # Padding is optional, but padding that is given must be the right amount ("QQ==", not "QQ=" or
        # "QUJD===="): Python's decoder would otherwise accept surplus "=" after a complete group.
        raise InvalidParameter("Param extra_data_base64 must be base64")
    try:
        data = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidParameter("Param extra_data_base64 must be base64") from None
    if len(data) > MAX_EXTRA_DATA:
        raise InvalidParameter(f"Param extra_data_base64 must decode to at most {MAX_EXTRA_DATA} bytes")
    return data


@dataclass(frozen=True, slots=True)
class Submit:
    """One leaderboard submit of a set (``submit_set``): ``submit``'s arguments."""

    caller: Caller
    api_name: str
    score: int
    extra_data: bytes
    force_update: bool
    user_id: int | None


# A call of a set: (True, its answer, its after-commit actions), (False, its GraphError, []), or RUN_ALONE:
# the caller runs it by itself (``submit``, ``entries``), after the set.
SubmitOutcome = tuple[bool, bool | GraphError, list[Callable[[], None]]] | None
EntriesOutcome = tuple[bool, "EntriesPage | GraphError", list[Callable[[], None]]] | None
RUN_ALONE = None


class ChallengeSubmits(Protocol):
    """What a submit asks of challenges (challenges/service.py), without importing them."""

    def app_has_challenges(self, app_id: int) -> bool: ...

    def record_submit(self, app_id: int, api_name: str, user_id: int, score: int, extra_data: bytes,
                      force_update: bool) -> list[int]: ...


class LeaderboardService:
    # Set by app.py: the running challenges a submit also writes to (None: no challenges feature).
    challenges: ChallengeSubmits | None = None

    def __init__(self, db: Database, store: LeaderboardStore, identity_store: IdentityStore, index: RankIndex,
                 clock: Clock, identity: IdentityService, track_pending: bool = False) -> None:
        self.db = db
        self.store = store
        self.identity_store = identity_store
        self.index = index
        self.clock = clock
        self.identity = identity
        # Only a shared index outlives this process; the in-memory one is rebuilt at every start (D22).
        self.track_pending = track_pending
        self._local = threading.local()  # .settle_later: this thread's list inside index_updates_together()
        # Pending rows whose index updates were applied (every lane's), waiting to be deleted by a write.
        self._settled_rows: list[int] = []
        self._settled_since = 0.0  # monotonic time of the oldest of them
        self._settled_lock = threading.Lock()
        # Set by the server: raises when the caller came from this process's cache and the deployment's
        # cache version, read by the call's first query, is no longer the one it was cached at
        # (auth/tokens.py, ``Authenticator.confirm``): the call is then made again, before it writes.
        self.confirm_caller: Callable[[str | None], None] = lambda version: None
        # Set by the server: the shared index's ready check (ranking/keeper.py), for a read that does not
        # go through the index's page script (which checks the marker itself): a filtered read.
        self.check_index: Callable[[], None] = lambda: None

    # --- pending index updates (D22) -------------------------------------------------------------
    def _pending(self, board_id: int, entry_id: int | None = None) -> int | None:
        """Call inside the write's transaction: the row commits (or not) with the write itself."""
        return self.store.add_index_pending(board_id, entry_id) if self.track_pending else None

    def _then_index(self, pending_id: int | None, change: Callable[[], None]) -> None:
        """Call inside the write's transaction: ``change`` updates the rank index once the write has
        committed (never before: the index never shows a write that is not durable; never if it rolls
        back), and then the pending row is settled."""
        self.db.after_commit(self._index_action(pending_id, change))

    def _index_action(self, pending_id: int | None, change: Callable[[], None]) -> Callable[[], None]:
        def apply() -> None:
            change()
            self._settled(pending_id)

        return apply

    def _settled(self, pending_id: int | None) -> None:
        """The index update succeeded: the row is no longer needed."""
        if pending_id is None:
            return
        settle_later: list[int] | None = getattr(self._local, "settle_later", None)
        if settle_later is not None:
            settle_later.append(pending_id)
        else:
            self._delete_pending([pending_id])

    def _delete_pending(self, pending_ids: list[int]) -> None:
        # Failing to delete must not fail the (committed, indexed) writes: a row left behind costs only an
        # idempotent repair later.
        try:
            self.store.delete_index_pending(pending_ids)
        except Exception:
            log.warning("could not delete %d pending index row(s); they will be repaired later", len(pending_ids),
                        exc_info=True)

    @contextlib.contextmanager
    def index_updates_together(self) -> Iterator[None]:
        """The executor runs a trip's after-commit actions inside this (group commit, server/executor.py):
        their index updates go out together (one round trip to a shared index), and only once they have
        succeeded are their pending rows settled: handed to the next write to delete (``_take_settled``).
        If they fail, the block raises and the rows stay for the repair sweep."""
        pending_ids: list[int] = []
        self._local.settle_later = pending_ids
        try:
            with self.index.batched():
                yield
        finally:
            self._local.settle_later = None
        if pending_ids:
            with self._settled_lock:
                if not self._settled_rows:
                    self._settled_since = time.monotonic()
                self._settled_rows.extend(pending_ids)

    def _take_settled(self) -> list[int]:
        """The settled rows, for the caller's write to delete in its transaction (``_give_back`` them if
        that write fails before it commits)."""
        with self._settled_lock:
            taken, self._settled_rows = self._settled_rows, []
        return taken

    def _give_back(self, pending_ids: list[int]) -> None:
        if pending_ids:
            with self._settled_lock:
                if not self._settled_rows:
                    self._settled_since = time.monotonic()
                self._settled_rows.extend(pending_ids)

    def settle_waiting(self, older_than: float = SETTLE_AFTER_S) -> None:
        """Delete the settled rows that no write took within ``older_than`` seconds (the executor calls
        this after each trip; the server at shutdown, with 0)."""
        with self._settled_lock:
            if not self._settled_rows or time.monotonic() - self._settled_since < older_than:
                return
            taken, self._settled_rows = self._settled_rows, []
        self._delete_pending(taken)

    # --- the rank index ---------------------------------------------------------------------------
    def build_index(self) -> int:
        """Rebuild the whole index from the database (start-up), logging progress on large boards."""
        orders = {b.id: b.sort_order for b in self.store.list_all_leaderboards()}
        progress = ProgressLog("rank index: entries loaded")

        def keys_of(board_id: int, rows: Iterator[tuple[int, int, int, int, int]]) -> Iterator[tuple[int, int]]:
            order = orders[board_id]
            for _, entry_id, user_id, score, written_us in rows:
                progress.step()
                yield sort_key(order, score, written_us, entry_id), user_id

        # Each board's keys stream from the database into the index (a shared one stages them in chunks),
        # instead of gathering a whole board first: ten million keys were 400 MB in a list.
        for board_id, rows in itertools.groupby(self.store.iter_entry_keys(), key=lambda row: row[0]):
            self.index.load(board_id, keys_of(board_id, rows))
        log.info("rank index ready: %d entries on %d boards", progress.done, len(orders))
        return progress.done

    def _reload_board(self, board: Leaderboard) -> None:
        self.index.clear(board.id)
        self.index.load(board.id, [(sort_key(board.sort_order, score, written_us, entry_id), user_id)
                                   for _, entry_id, user_id, score, written_us in self.store.iter_entry_keys(board.id)])

    def _key(self, board: Leaderboard, entry: Entry) -> int:
        return sort_key(board.sort_order, entry.score, entry.written_us, entry.id)

    # --- boards -----------------------------------------------------------------------------------
    def app_of_path(self, caller: Caller, app_id: int) -> None:
        require_path_app(self.identity_store, caller, app_id)

    def board(self, caller: Caller, api_name: str) -> Leaderboard:
        board = self.store.find_leaderboard(caller.app.id, api_name)
        if board is None:
            raise _no_board(api_name)
        return board

    def board_by_id(self, caller: Caller, board_id: int) -> Leaderboard:
        board = self.store.get_leaderboard(board_id)
        if board is None:
            raise NotFound(f"Object with ID '{board_id}' does not exist")
        if board.app_id != caller.app.id:
            raise Forbidden("The access token belongs to another app")
        return board

    def upsert(self, caller: Caller, app_id: int, api_name: str, *, sort_order: str | None,
               entry_write_policy: str | None, earliest: int | None, latest: int | None,
               title_locale_map: str | None) -> Leaderboard:
        """Create or update by api_name; the same id every time (D19)."""
        self.app_of_path(caller, app_id)
        require_app_token(caller, "Creating or updating a leaderboard")
        if not API_NAME.fullmatch(api_name):
            raise InvalidParameter("Param api_name must be 1 to 64 characters of letters, digits, _ . -")
        if title_locale_map is not None:
            title_locale_map = _check_locale_map(title_locale_map)
        existing = self.store.find_leaderboard(app_id, api_name)
        if existing is None:
            if sort_order is None:
                raise InvalidParameter("The parameter sort_order is required to create a leaderboard")
            _check_window(earliest, latest)
            with self.db.transaction():
                board = Leaderboard(
                    self.identity.claim_id("leaderboard"), app_id, api_name, sort_order,
                    entry_write_policy or CLIENT_AUTHORITATIVE, earliest, latest, title_locale_map,
                    self.clock.now(),
                )
                self.store.insert_leaderboard(board)
            return board
        board = replace(
            existing,
            sort_order=sort_order or existing.sort_order,
            entry_write_policy=entry_write_policy or existing.entry_write_policy,
            earliest_allowed_entry_time=existing.earliest_allowed_entry_time if earliest is None else earliest,
            latest_allowed_entry_time=existing.latest_allowed_entry_time if latest is None else latest,
            title_locale_map=title_locale_map or existing.title_locale_map,
        )
        _check_window(board.earliest_allowed_entry_time, board.latest_allowed_entry_time)
        reorder = board.sort_order != existing.sort_order
        with self.db.transaction():
            self.store.update_leaderboard(board)
            if reorder:
                self._then_index(self._pending(board.id), lambda: self._reload_board(board))
        return board

    def boards(self, caller: Caller, app_id: int, api_name: str | None) -> list[Leaderboard]:
        self.app_of_path(caller, app_id)
        if api_name is not None:
            return [self.board(caller, api_name)]
        return self.store.list_leaderboards(app_id)

    def entry_count(self, board: Leaderboard) -> int:
        return self.index.count(board.id)

    # --- lookups of the dashboard: an app's own objects, None for any other (no caller, no error) ----------
    def find_board(self, app_id: int, api_name: str) -> Leaderboard | None:
        return self.store.find_leaderboard(app_id, api_name)

    def board_in_app(self, app_id: int, board_id: int) -> Leaderboard | None:
        board = self.store.get_leaderboard(board_id)
        return board if board is not None and board.app_id == app_id else None

    def entry_in_app(self, app_id: int, entry_id: int) -> tuple[Leaderboard, Entry] | None:
        """An entry and its board, when the board is the app's."""
        entry = self.store.get_entry(entry_id)
        board = None if entry is None else self.board_in_app(app_id, entry.leaderboard_id)
        return None if entry is None or board is None else (board, entry)

    def score_sample(self, board: Leaderboard, limit: int) -> list[int]:
        """Up to ``limit`` scores of the board, in the database's order (a chart of a huge board samples)."""
        scores: list[int] = []
        for _, _, _, score, _ in self.store.iter_entry_keys(board.id):
            scores.append(score)
            if len(scores) >= limit:
                break
        return scores

    def delete_board(self, caller: Caller, board_id: int) -> None:
        require_app_token(caller, "Deleting a leaderboard")
        board = self.board_by_id(caller, board_id)
        with self.db.transaction():
            self.store.delete_leaderboard(board.id)
            self._then_index(self._pending(board.id), lambda: self.index.clear(board.id))

    def remove_all_entries(self, caller: Caller, api_name: str) -> None:
        require_app_token(caller, "Removing all entries of a leaderboard")
        board = self.board(caller, api_name)
        with self.db.transaction():
            self.store.delete_all_entries(board.id)
            self._then_index(self._pending(board.id), lambda: self.index.clear(board.id))

    def remove_entries_of_user(self, user_id: int) -> int:
        """Delete every entry of one user on every board (federated user deletion, A.2); the rank index
        forgets each once the deletion has committed. The number of entries deleted."""
        entries = self.store.entries_of_user(user_id)
        with self.db.transaction():
            for entry in entries:
                self.store.delete_entry(entry.id)
                pending_id = self._pending(entry.leaderboard_id, entry.id)
                self._then_index(pending_id, functools.partial(self.index.remove, entry.leaderboard_id, entry.id,
                                                               pending_id or 0))
        return len(entries)

    # --- entries ----------------------------------------------------------------------------------
    def _writer(self, caller: Caller, target: SubmitTarget, user_id: int | None) -> User:
        """Who the entry is for, under the write rules of D16."""
        if isinstance(caller, UserCaller):
            if user_id is not None:
                raise InvalidParameter("Param user_id must not be set when using a user access token")
            if target.board.entry_write_policy == SERVER_AUTHORITATIVE:
                raise Forbidden("This leaderboard is SERVER_AUTHORITATIVE: only an app access token may write")
            user = caller.user
        else:
            if user_id is None:
                raise InvalidParameter("The parameter user_id is required when using an app access token")
            if target.user is None or target.user.app_id != caller.app.id:
                raise InvalidParameter(f"Parameter user_id: invalid user id: {user_id}")
            user = target.user
        if not target.entitled:
            raise NotEntitled(f"User {user.id} is not entitled to app {target.board.app_id}")
        return user

    def submit(self, caller: Caller, api_name: str, score: int, extra_data: bytes, force_update: bool,
               user_id: int | None) -> bool:
        """Write the user's entry (D15); True when the stored entry changed (``did_update``)."""
        writer_id = caller.user.id if isinstance(caller, UserCaller) else user_id
        # Board, user, entitlement and current entry in one read: the hottest write, one round trip.
        target = self.store.submit_target(caller.app.id, api_name, writer_id if writer_id is not None else 0)
        if target is None:
            raise _no_board(api_name)
        self.confirm_caller(target.cache_version)
        board, existing = target.board, target.entry
        user = self._writer(caller, target, user_id)
        _check_submit_time(board, self.clock.now())
        if existing is not None and not force_update and not _better(board.sort_order, score, existing.score):
            return False  # not better than the entry as read: no write at all
        settled = self._take_settled() if self.track_pending else []
        try:
            with self.db.transaction():
                claimed = self.identity.claim_id("entry") if existing is None else None
                wanted = Entry(existing.id if existing is not None else claimed or 0, board.id, user.id, score,
                               extra_data, self.clock.now_us())
                # The database decides keep-best atomically: another process may have written since the read.
                # With a shared index the same statement records this write's pending row and deletes the
                # rows of updates already applied (D22).
                stored = self.store.submit_entry(wanted, board.sort_order == HIGHER_IS_BETTER, force_update,
                                                 self.track_pending, settled)
                entry = None if stored is None else stored[0]
                if claimed is not None and (entry is None or entry.id != claimed):
                    self.identity.release_id(claimed)  # another process created the entry first
                if stored is None:
                    return False
                entry, pending_id = stored
                entry_id, key, writer_id = entry.id, self._key(board, entry), entry.user_id
                self._then_index(pending_id,
                                 lambda: self.index.put(board.id, entry_id, key, writer_id, pending_id or 0))
        except BaseException:
            # Rolled back, most likely, and the settled rows with it: the next write deletes them (a delete
            # that did commit, before an index update failed, makes that a no-op).
            self._give_back(settled)
            raise
        return True

    def submit_set(self, submits: Sequence[Submit],
                   version_ok: Callable[[str | None], bool]) -> list[SubmitOutcome]:
        """The submits of a trip at once, in set-based statements (PostgreSQL, server/executor.py): one
        query reads every target (``submit_targets``), one statement per (direction, force) writes every
        winning entry with its pending row (``submit_entries``). The same rules and answers as ``submit``,
        call by call, in the caller's transaction (the group's; if anything raises, the executor rolls it
        back and runs each call alone). ``version_ok`` is given the cache
        version the query read before anything is written: False (a cached caller is stale) makes every
        call RUN_ALONE, as does a second submit for an entry already in the set (it runs after the set and
        sees its write) and a submit to an app with challenges (``submit_with_challenges``). A successful
        call's outcome carries its after-commit actions (the index update) instead of registering them."""
        outcomes: list[SubmitOutcome] = [RUN_ALONE] * len(submits)
        hook = self.challenges
        live = [n for n, s in enumerate(submits) if hook is None or not hook.app_has_challenges(s.caller.app.id)]
        if not live:
            return outcomes
        version, targets = self.store.submit_targets(
            [(submits[n].caller.app.id, submits[n].api_name, _writer_id(submits[n]) or 0) for n in live])
        if not version_ok(version):
            return outcomes
        now = self.clock.now()
        seen: set[tuple[int, int]] = set()
        writes: dict[tuple[bool, bool], list[tuple[int, Leaderboard, Entry, int | None]]] = {}
        for n, target in zip(live, targets, strict=True):
            submit = submits[n]
            try:
                if target is None:
                    raise _no_board(submit.api_name)
                board, existing = target.board, target.entry
                user = self._writer(submit.caller, target, submit.user_id)
                _check_submit_time(board, now)
            except GraphError as exc:
                outcomes[n] = (False, exc, [])
                continue
            if (board.id, user.id) in seen:
                continue  # RUN_ALONE: after the set, so that it reads the entry the set wrote
            seen.add((board.id, user.id))
            if existing is not None and not submit.force_update and not _better(board.sort_order, submit.score,
                                                                                 existing.score):
                outcomes[n] = (True, False, [])  # not better than the entry as read: no write at all
                continue
            claimed = self.identity.claim_id("entry") if existing is None else None
            wanted = Entry(existing.id if existing is not None else claimed or 0, board.id, user.id, submit.score,
                           submit.extra_data, self.clock.now_us())
            writes.setdefault((board.sort_order == HIGHER_IS_BETTER, submit.force_update), []).append(
                (n, board, wanted, claimed))
        # Written batch after batch: a set that mixes forced and plain submits (or both directions) takes its
        # rows' locks out of the trip's order, and may then deadlock with another lane's group, which PostgreSQL
        # breaks by failing one transaction: its calls then run again alone (server/executor.py).
        taken = self._take_settled() if self.track_pending and writes else []
        settled = taken
        try:
            for (higher, force), batch in writes.items():
                stored = self.store.submit_entries([w for _, _, w, _ in batch], higher, force, self.track_pending,
                                                   settled)
                settled = []  # deleted by the first statement
                changed = {(e.leaderboard_id, e.user_id): (e, pending_id) for e, pending_id in stored}
                for n, board, wanted, claimed in batch:
                    entry, pending_id = changed.get((wanted.leaderboard_id, wanted.user_id), (None, None))
                    if claimed is not None and (entry is None or entry.id != claimed):
                        self.identity.release_id(claimed)  # another process created the entry first
                    if entry is None:
                        outcomes[n] = (True, False, [])
                        continue
                    put = functools.partial(self.index.put, board.id, entry.id, self._key(board, entry),
                                            entry.user_id, pending_id or 0)
                    outcomes[n] = (True, True, [self._index_action(pending_id, put)])
        except BaseException:
            self._give_back(taken)  # the group rolls back, the delete with it: the next write deletes them
            raise
        return outcomes

    def submit_with_challenges(self, caller: Caller, api_name: str, score: int, extra_data: bytes,
                               force_update: bool, user_id: int | None) -> tuple[bool, list[int]]:
        """``submit``, and the same score to the board's running challenges in the same transaction:
        ``did_update`` and ``updated_challenge_ids``. Costs nothing more while the app has no challenge."""
        hook = self.challenges
        if hook is None or not hook.app_has_challenges(caller.app.id):
            return self.submit(caller, api_name, score, extra_data, force_update, user_id), []
        with self.db.transaction():
            did_update = self.submit(caller, api_name, score, extra_data, force_update, user_id)
            writer = caller.user.id if isinstance(caller, UserCaller) else user_id
            assert writer is not None  # submit refused an app token without user_id
            return did_update, hook.record_submit(caller.app.id, api_name, writer, score, extra_data, force_update)

    def entry(self, caller: Caller, entry_id: int) -> tuple[Leaderboard, RankedEntry]:
        entry = self.store.get_entry(entry_id)
        if entry is None:
            raise NotFound(f"Object with ID '{entry_id}' does not exist")
        board = self.board_by_id(caller, entry.leaderboard_id)
        rank = self.index.position_of(board.id, self._key(board, entry)) + 1
        return board, RankedEntry(entry, rank, self.identity.user(entry.user_id))

    def delete_entry(self, caller: Caller, entry_id: int) -> None:
        board, ranked = self.entry(caller, entry_id)
        # A user token may remove only its own entry, and only where clients may write (D16).
        if isinstance(caller, UserCaller) and (
            ranked.user.id != caller.user.id or board.entry_write_policy == SERVER_AUTHORITATIVE
        ):
            raise Forbidden("A user access token may delete only its own entry on a CLIENT_AUTHORITATIVE board")
        with self.db.transaction():
            self.store.delete_entry(entry_id)
            pending_id = self._pending(board.id, entry_id)
            self._then_index(pending_id, lambda: self.index.remove(board.id, entry_id, pending_id or 0))

    def entries(self, caller: Caller, query: EntriesQuery) -> EntriesPage:
        viewer = caller.user if isinstance(caller, UserCaller) else None
        centered = query.start_at.startswith("CENTERED") and query.after is None and query.before is None
        # The board, the viewer's entry (a centred read) and the cache version in one query.
        found, viewer_entry, version = self.store.board_for_read(
            caller.app.id, query.api_name, viewer.id if centered and viewer is not None else None)
        self.confirm_caller(version)
        if found is None:
            raise _no_board(query.api_name)
        board = found
        needs_viewer = query.start_at.startswith("CENTERED") or query.filter == "FRIENDS"
        if needs_viewer and viewer is None:  # with or without a cursor (D20)
            raise Forbidden(NEEDS_VIEWER)
        view: _BoardView | _SortedKeys
        if query.filter == "NONE":
            view = _BoardView(self.index, board.id)
        else:
            self.check_index()  # while the shared index is lost or rebuilding, every read is a 503 (D7)
            if query.filter == "FRIENDS":
                assert viewer is not None
                user_ids = set(self._friend_user_ids(viewer))
            else:
                if len(query.user_ids) > MAX_USER_IDS:
                    raise InvalidParameter(f"Param user_ids must list at most {MAX_USER_IDS} ids")
                user_ids = set(query.user_ids)
            if viewer is not None:
                user_ids.add(viewer.id)  # the viewer is always part of a filtered read (D20)
            view = _SortedKeys([self._key(board, e) for e in self.store.entries_of_users(board.id, user_ids)])
        for attempt in range(PAGE_TRIES):
            if attempt and centered and viewer is not None:
                viewer_entry = self.store.find_entry(board.id, viewer.id)  # the write it raced may move it
            page = self._read_page(board, view, query, viewer_entry)
            if page is not None:
                return page
            time.sleep(0.001 * (attempt + 1))  # the index update follows its commit within a millisecond
        raise Unavailable("The leaderboard changed while it was read. Please retry.")

    def entries_set(self, reads: Sequence[tuple[Caller, EntriesQuery]],
                    version_ok: Callable[[str | None], bool]) -> list[EntriesOutcome]:
        """``entries`` of a trip's whole-board reads at once (server/executor.py, PostgreSQL + Redis): one
        query reads every board and viewer's entry with the cache version (``boards_for_reads``), one round
        trip every page (``RankIndex.pages``), one query every page's rows. The same checks and answers
        as ``entries``, read by read. RUN_ALONE: a filtered read (FRIENDS, USER_IDS), a page that raced a
        write (alone, it reads again), and every read when ``version_ok`` refuses the version (a cached
        caller is stale). If the index cannot answer, this raises and every read runs alone."""
        outcomes: list[EntriesOutcome] = [RUN_ALONE] * len(reads)
        live = [n for n, (_, query) in enumerate(reads) if query.filter == "NONE"]
        if not live:
            return outcomes
        viewers = [_viewer_to_center(*reads[n]) for n in live]
        version, found = self.store.boards_for_reads(
            [(reads[n][0].app.id, reads[n][1].api_name, viewer.id if viewer is not None else 0)
             for n, viewer in zip(live, viewers, strict=True)])
        if not version_ok(version):
            return outcomes
        asked: list[tuple[int, Leaderboard, PageRequest, bool]] = []
        for n, (board, viewer_entry) in zip(live, found, strict=True):
            caller, query = reads[n]
            try:
                if board is None:
                    raise _no_board(query.api_name)
                if query.start_at.startswith("CENTERED") and not isinstance(caller, UserCaller):
                    raise Forbidden(NEEDS_VIEWER)
                anchor, offset, before = self._bounds(board, query, viewer_entry)
            except GraphError as exc:
                outcomes[n] = (False, exc, [])
                continue
            asked.append((n, board, PageRequest(board.id, anchor, offset, query.limit, before),
                          query.rows_needed))
        if not asked:
            return outcomes
        pages = self.index.pages([request for _, _, request, _ in asked])
        from_index = [None if rows_needed else _rows_of_index(board, page)
                      for (_, board, _, rows_needed), page in zip(asked, pages, strict=True)]
        unread = [k & ENTRY_ID_MASK for page, indexed in zip(pages, from_index, strict=True) if indexed is None
                  for k in page.keys]
        rows = self.store.get_entries_and_users(unread) if unread else {}
        for (n, board, _, _), page, indexed in zip(asked, pages, from_index, strict=True):
            ranked = self._rows(board, page.keys, page.start, rows) if indexed is None else indexed
            if ranked is not None:
                outcomes[n] = (True, _entries_page(page, ranked), [])
        return outcomes

    def _bounds(self, board: Leaderboard, query: EntriesQuery,
                viewer_entry: Entry | None) -> tuple[int | None, int, bool]:
        """Where the page starts: ``offset`` positions from its anchor's key (none: from the top), and
        whether it ends just before the anchor (a ``before`` cursor)."""
        if query.after is not None:
            return query.after + 1, 0, False  # first key strictly after the cursor
        if query.before is not None:
            return query.before, -query.limit, True  # the page ending just before it
        if query.start_at == "OFFSET":
            return None, query.offset, False
        if query.start_at.startswith("CENTERED"):
            if viewer_entry is not None:
                return self._key(board, viewer_entry), -((query.limit - 1) // 2), False
            if query.start_at == "CENTERED_ON_VIEWER":
                raise NotRanked("You're not yet ranked on this leaderboard.")
        return None, 0, False

    def _read_page(self, board: Leaderboard, view: _BoardView | _SortedKeys, query: EntriesQuery,
                   viewer_entry: Entry | None) -> EntriesPage | None:
        """The page, or None when it raced a write (see ``_rows``). The index gives the page's keys and the
        board's size in one read: the page starts ``offset`` positions from its anchor's (none: from the top)."""
        anchor, offset, before = self._bounds(board, query, viewer_entry)
        page = view.page(anchor, offset, query.limit, before)
        rows: list[RankedEntry] | list[IndexedEntry] | None = None
        if not query.rows_needed:
            rows = _rows_of_index(board, page)
        if rows is None:
            rows = self._rows(board, page.keys, page.start)
        return None if rows is None else _entries_page(page, rows)

    def _rows(self, board: Leaderboard, keys: list[int], start: int,
              found: dict[int, tuple[Entry, User]] | None = None) -> list[RankedEntry] | None:
        """The rows of ``keys`` (from ``found``, else read), or None when a row no longer matches its key: a
        write (of another process, or of another trip of this one) has committed and its index update is
        under way. The order comes from the index and the scores from the database, so such a page could
        show a score out of order or a deleted entry: it is read again instead."""
        ids = [k & ENTRY_ID_MASK for k in keys]
        rows = self.store.get_entries_and_users(ids) if found is None else found
        if any(i not in rows or self._key(board, rows[i][0]) != k for i, k in zip(ids, keys, strict=True)):
            return None
        return [RankedEntry(rows[i][0], start + n + 1, rows[i][1]) for n, i in enumerate(ids)]

    def _friend_user_ids(self, viewer: User) -> list[int]:
        ids = []
        for person_id in self.identity_store.friends_of(viewer.person_id):
            friend = self.identity_store.find_app_user(viewer.app_id, person_id)
            if friend is not None:
                ids.append(friend.id)
        return ids


def _viewer_to_center(caller: Caller, query: EntriesQuery) -> User | None:
    """The viewer whose entry a read centres on, when it does (no cursor): its entry is read with the board."""
    centered = query.start_at.startswith("CENTERED") and query.after is None and query.before is None
    return caller.user if centered and isinstance(caller, UserCaller) else None


def _rows_of_index(board: Leaderboard, page: Page) -> list[IndexedEntry] | None:
    """The page's rows from the index alone, when it holds their users (a whole board's page does): the key
    gives the entry id, score and write time. The index is updated only after its write committed, and its page
    is read atomically, so these rows are a state the database had; no row check is needed. None when the
    index has no users, or when a time was clamped to 0 in the key (``sort_key``): the row has it."""
    if page.user_ids is None:
        return None
    rows = []
    order = board.sort_order
    for rank, key, user_id in zip(itertools.count(page.start + 1), page.keys, page.user_ids, strict=False):
        written_us = written_us_of(key)
        if written_us == 0:
            return None
        rows.append(IndexedEntry(key & ENTRY_ID_MASK, rank, score_of(order, key), written_us, user_id))
    return rows


def _entries_page(page: Page, rows: list[RankedEntry] | list[IndexedEntry]) -> EntriesPage:
    return EntriesPage(rows, page.keys, page.total, page.start > 0 and bool(page.keys),
                       page.start + len(page.keys) < page.total)


def _writer_id(submit: Submit) -> int | None:
    return submit.caller.user.id if isinstance(submit.caller, UserCaller) else submit.user_id


def _check_submit_time(board: Leaderboard, now: int) -> None:
    if board.earliest_allowed_entry_time is not None and now < board.earliest_allowed_entry_time:
        raise InvalidParameter("This leaderboard entry is too early for the leaderboard's allowed time window.")
    if board.latest_allowed_entry_time is not None and now > board.latest_allowed_entry_time:
        raise InvalidParameter("This leaderboard entry is too late for the leaderboard's allowed time window.")


def _no_board(api_name: str) -> NotFound:
    return NotFound(f"No leaderboard with api_name {api_name[:64]!r} exists for this app")


def _better(sort_order: str, new: int, old: int) -> bool:
    """Strictly better only: an equal score changes nothing (D15)."""
    return new > old if sort_order == HIGHER_IS_BETTER else new < old


def _check_window(earliest: int | None, latest: int | None) -> None:
    if earliest is not None and latest is not None and earliest >= latest:
        raise InvalidParameter("Param earliest_allowed_entry_time must be before latest_allowed_entry_time")


def _check_locale_map(text: str) -> str:
    try:
        value = parse_json(text)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise InvalidParameter('Param title_locale_map must be a JSON object of strings, e.g. {"en_US":"Soccer"}')
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
