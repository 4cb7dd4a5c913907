"""Runs the server's domain calls in trips, many calls per trip (group commit), in one or more lanes.

Domain calls are synchronous. They run in trips, in a worker thread or (``inline``) on the event loop:
calls that arrive while the lanes are busy queue up and go together on the next trip, so the hop between
the event loop and the thread is paid once per trip rather than once per call. With one lane (SQLite, or
any in-process rank index) calls are serialised: one writer for SQLite and the in-memory index. With
PostgreSQL and Redis, several trips run at once, each in its own thread with its own connections: the
rules that must not interleave are kept by the database (row locks, conditional upserts) and by atomic
Redis scripts, as they must be anyway between the processes of a deployment, and a process no longer
waits out one network round trip after another.

Consecutive *groupable* calls (Graph writes) of a trip also share one database transaction: each runs
in a savepoint of it (a failing call rolls back alone), one commit makes them all durable (one fsync
instead of one per call), and only then do their after-commit actions (rank index updates) run and their
answers go out. An answer is therefore never sent for a write that is not durable. Reads are never
grouped with writes: they run alone, after the writes before them have committed and reached the index.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio

from questgraph.server.db import Database
from questgraph.server.errors import GraphError

log = logging.getLogger("questgraph.executor")
MAX_TRIP = 64  # calls per trip: bounds how long a trip holds the thread and the first caller waits
MAX_GATHER = 8  # event-loop passes a trip may wait for more calls to join it


class _GroupFailed(Exception):
    """An error aborted the group's transaction (``db.group_failed()``), or a set of calls failed."""


# What a set runner answers for one call: (succeeded, value or exception, the after-commit actions of a
# success), or None for a call it leaves to run alone (by its own ``run``, after the set, in the group).
SetOutcome = tuple[bool, Any, list[Callable[[], None]]] | None


class SetRunner(Protocol):
    """Runs the calls of one kind that a group holds together, in set-based statements (a trip's
    leaderboard submits on PostgreSQL: one query and one upsert for all instead of three statements each).
    Runs inside the group's transaction and returns one outcome per item, in order. If it raises, nothing
    of the group is kept: the transaction rolls back and every call runs alone, as after a failed group."""

    def run_set(self, items: list[Any]) -> list[SetOutcome]: ...


@dataclass
class _Call:
    run: Callable[[], Any]
    groupable: bool
    future: asyncio.Future[Any]
    outcome: tuple[bool, Any] = field(default=(False, None))  # (succeeded, value or exception)
    order: tuple[str, ...] = ()  # what the call writes (route, board, user): a group runs its calls in this order
    set_runner: SetRunner | None = None  # in a group of several, the call runs in this runner's set …
    set_item: Any = None  # … as this item
    in_set: bool = False  # it was answered by its set (for the metrics)


class DomainExecutor:
    def __init__(self, db: Database, limiter: anyio.CapacityLimiter,
                 actions_scope: Callable[[], AbstractContextManager[None]] = contextlib.nullcontext,
                 inline: bool = False, observe: Callable[[int, int, int], None] | None = None,
                 trip_scope: Callable[[], AbstractContextManager[None]] | None = None, lanes: int = 1) -> None:
        if lanes < 1 or (inline and lanes != 1):
            raise ValueError("lanes must be at least 1, and 1 when inline")
        self.db = db
        self.lanes = lanes  # trips that may run at once
        # Wraps each trip: by default the database's session (one connection for the trip's lone reads).
        self.trip_scope = trip_scope or db.session
        self.observe = observe  # (calls, grouped calls, calls answered in sets) of each trip: the server's metrics
        # Inline: trips run on the event loop itself, with no thread hop. For a local database (SQLite and
        # the in-memory index) whose calls take microseconds and never wait on a network; measured in
        # bench/load.py, it is the faster of the two there. A networked database waits on every
        # statement, and the event loop must go on meanwhile: trips then run in the worker thread.
        self.inline = inline
        self.limiter = limiter  # shared with the other synchronous paths (SSO and dashboard pages)
        self.actions_scope = actions_scope  # wraps a group's after-commit actions (index updates sent together)
        self._queue: list[_Call] = []
        # The drainers under way, one per busy lane (held here too: the event loop keeps only weak references).
        self._drainers: set[asyncio.Task[None]] = set()
        self.trips = 0  # for tests and metrics: how many trips the calls took
        self.grouped = 0  # calls that committed in a group of more than one
        self.in_sets = 0  # calls answered by a set runner's statements (grouped writes and reads)

    async def run(self, call: Callable[[], Any], groupable: bool = False, order: tuple[str, ...] = (),
                  set_runner: SetRunner | None = None, set_item: Any = None) -> Any:
        """Run ``call`` in a trip (in the worker thread, or on the event loop when inline) and return (or
        raise) what it did. ``groupable`` calls may share a transaction with the groupable calls beside
        them in the same trip; ``order`` names the rows the call writes (see ``_run_calls``). A groupable
        call with a ``set_runner`` runs, in a group, as ``set_item`` of that runner's set (``_run_sets``);
        alone, or when the runner leaves it out, by ``call``."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append(_Call(call, groupable, future, order=order, set_runner=set_runner, set_item=set_item))
        self._open_lanes()
        # A client that goes away cancels only its wait: the call itself still runs (and commits).
        return await future

    def _open_lanes(self) -> None:
        """Start a drainer in each free lane while calls wait (one, when there is one lane)."""
        while self._queue and len(self._drainers) < min(self.lanes, len(self._queue)):
            self._drainers.add(asyncio.ensure_future(self._drain()))

    async def _drain(self) -> None:
        try:
            while self._queue:
                await self._gather()
                size = self._trip_size()
                trip, self._queue = self._queue[:size], self._queue[size:]
                if not trip:  # another lane took the queue while this one gathered
                    break
                self._open_lanes()
                await self._take(trip)
        finally:
            # Here, not in a done-callback: a call queued after the loop above found the queue empty must
            # find this lane free, or it would wait for a drainer that never comes.
            self._drainers.discard(asyncio.current_task())

    def _trip_size(self) -> int:
        """With several lanes the waiting calls are shared among them: calls that run one by one gain
        nothing from one long trip, and several shorter ones run at once. Calls that run as a set (a
        trip's submits on PostgreSQL) are the exception: one lane takes them all, up to MAX_TRIP, since one
        set of n costs about what a set of one does (bench/load.py, 10k board, 32 connections, 4 lanes:
        server CPU per submit 0.46 ms shared, 0.30 ms taken whole)."""
        if not self._queue:  # another lane took the queue while this one gathered
            return 0
        if self._queue[0].set_runner is not None:
            return MAX_TRIP
        return min(MAX_TRIP, -(-len(self._queue) // self.lanes))

    async def _take(self, trip: list[_Call]) -> None:
        self.trips += 1
        grouped = 0
        try:
            if self.inline:
                async with self.limiter:
                    grouped = self._run_trip(trip)
            else:
                grouped = await anyio.to_thread.run_sync(self._run_trip, trip, limiter=self.limiter)
        except BaseException as exc:  # the loop is shutting down: no call of the trip is answered
            for call in trip:
                if call.outcome == (False, None):
                    call.outcome = (False, exc if isinstance(exc, Exception) else asyncio.CancelledError())
            raise
        finally:
            in_sets = sum(call.in_set for call in trip)
            self.grouped += grouped
            self.in_sets += in_sets
            if self.observe is not None:
                self.observe(len(trip), grouped, in_sets)
            for call in trip:
                if not call.future.done():
                    succeeded, value = call.outcome
                    if succeeded:
                        call.future.set_result(value)
                    else:
                        call.future.set_exception(value)

    async def _gather(self) -> None:
        """Let the requests already read from the network reach the queue before a trip leaves: while
        the queue grows from one pass of the event loop to the next, wait (at most MAX_GATHER passes).
        Alone, a call waits one pass; under load, trips grow and commits are shared more."""
        for _ in range(MAX_GATHER):
            before = len(self._queue)
            await asyncio.sleep(0)
            if len(self._queue) == before:
                return

    # --- in the worker thread ---------------------------------------------------------------------
    def _run_trip(self, trip: list[_Call]) -> int:
        """Run a trip's calls; how many of them committed in a group of more than one."""
        try:
            with self.trip_scope():
                return self._run_calls(trip)
        except Exception as exc:  # the scope could not open (the database is down): no call ran
            for call in trip:
                if call.outcome == (False, None):
                    call.outcome = (False, exc)
            return 0

    def _run_calls(self, trip: list[_Call]) -> int:
        grouped = 0
        start = 0
        while start < len(trip):
            stop, head = start + 1, trip[start]
            if head.groupable:
                while stop < len(trip) and trip[stop].groupable:
                    stop += 1
            elif head.set_runner is not None:  # reads of one set, in a row
                while stop < len(trip) and not trip[stop].groupable and trip[stop].set_runner is head.set_runner:
                    stop += 1
            if stop - start > 1 and head.groupable:
                # Groups of several lanes run at once, each holding its rows' locks to its commit: in one
                # order of what they write (stable: calls on the same row keep their arrival order), two
                # groups that write the same two rows cannot each wait for the other (a deadlock, a 503).
                grouped += self._run_group(sorted(trip[start:stop], key=lambda call: call.order))
            elif stop - start > 1:
                self._run_read_set(trip[start:stop])
            elif head.groupable:
                self._run_lone_write(head)
            else:
                _run_alone(head)
            start = stop
        return grouped

    def _run_read_set(self, calls: list[_Call]) -> None:
        """Reads of one set runner, side by side in the trip: run as one set (no transaction: each read
        alone is a statement in autocommit too); those it leaves out, or all if it raises, run alone."""
        runner = calls[0].set_runner
        assert runner is not None
        try:
            outcomes = runner.run_set([call.set_item for call in calls])
        except Exception as exc:  # e.g. the shared index is being rebuilt (a GraphError): each read answers it
            (log.debug if isinstance(exc, GraphError) else log.warning)(
                "a set of %d reads failed (%s): they run alone", len(calls), type(exc).__name__)
            outcomes = [None] * len(calls)
        for call, outcome in zip(calls, outcomes, strict=True):
            if outcome is None:
                _run_alone(call)
            else:
                call.outcome, call.in_set = (outcome[0], outcome[1]), True

    def _run_lone_write(self, call: _Call) -> None:
        """A write with no other beside it: its own transaction, its after-commit actions (run at its
        commit) inside the actions scope, as a group's are (the index updates' pending rows settle alike)."""
        try:
            with self.actions_scope():
                _run_alone(call)
        except Exception as exc:  # the updates held back to the scope's end failed: the write is durable (D7 503)
            if call.outcome[0]:
                call.outcome = (False, exc)

    def _run_group(self, calls: list[_Call]) -> int:
        """Run ``calls`` in one transaction; how many committed together (0 if they ran alone)."""
        spans: list[tuple[_Call, int, int]] = []  # each call that ran, with its share of the actions
        try:
            with self.db.group() as actions:
                for call in self._run_sets(calls, actions, spans):
                    first = len(actions)
                    _run_alone(call)
                    spans.append((call, first, len(actions)))
                    if self.db.group_failed():
                        raise _GroupFailed
        except Exception as exc:
            if not spans or isinstance(exc, _GroupFailed):
                # The group could not begin, or an error aborted its transaction: nothing of it is durable
                # or was seen outside it (the index is updated only after a commit), so each call runs
                # again on its own, as if the group had never been tried.
                for call in calls:
                    call.in_set = False
                    _run_alone(call)
                return 0
            # The commit failed: none of the group is durable (or, if the connection broke during COMMIT,
            # it cannot be known). No call is answered as done, and none is run again: a retry is the
            # client's choice, as after any 503 (D7).
            log.error("a group of %d calls failed to commit: %s", len(calls), type(exc).__name__)
            for call in calls:
                call.outcome = (False, exc)
            return 0
        try:
            with self.actions_scope():
                for call, first, last in spans:
                    for action in actions[first:last]:
                        try:
                            action()
                        except Exception as exc:  # the write is durable; its index update failed (D7 503)
                            if call.outcome[0]:
                                call.outcome = (False, exc)
        except Exception as exc:  # the updates held back to the scope's end failed together
            for call, first, last in spans:
                if last > first and call.outcome[0]:
                    call.outcome = (False, exc)
        return len(calls)

    def _run_sets(self, calls: list[_Call], actions: list[Callable[[], None]],
                  spans: list[tuple[_Call, int, int]]) -> list[_Call]:
        """Inside the group's transaction: run each set runner's calls (two or more) as one set, first; the
        calls left to run alone, in the group's order."""
        sets: dict[SetRunner, list[_Call]] = {}
        for call in calls:
            if call.set_runner is not None:
                sets.setdefault(call.set_runner, []).append(call)
        answered: set[int] = set()
        for runner, members in sets.items():
            if len(members) < 2:
                continue
            try:
                outcomes = runner.run_set([call.set_item for call in members])
            except Exception as exc:
                log.warning("a set of %d calls failed (%s): they run alone", len(members), type(exc).__name__,
                            exc_info=True)
                raise _GroupFailed from exc
            for call, outcome in zip(members, outcomes, strict=True):
                if outcome is not None:
                    succeeded, value, after = outcome
                    call.outcome = (succeeded, value)
                    first = len(actions)
                    actions.extend(after)
                    spans.append((call, first, len(actions)))
                    answered.add(id(call))
                    call.in_set = True
        return [call for call in calls if id(call) not in answered]


def _run_alone(call: _Call) -> None:
    try:
        call.outcome = (True, call.run())
    except Exception as exc:
        call.outcome = (False, exc)
