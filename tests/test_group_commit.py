"""Group commit (issue 6, server/executor.py): Graph writes that arrive together share one transaction,
each in a savepoint of it, and nothing of a group is answered, or reaches the rank index, before it has
committed. Run on both backends against real databases.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from questgraph.server.db import DATABASE_ERRORS, Database, open_database
from questgraph.server.errors import InvalidParameter
from questgraph.server.executor import MAX_TRIP, DomainExecutor
from tests.conftest import APP_TOKEN, RunningServer, postgres_database, require_postgres
from tests.redis_support import drop_prefix, redis_url, require_redis

SETUP = [
    "CREATE TABLE t_parent (id INTEGER PRIMARY KEY)",
    # A deferred foreign key is checked at COMMIT: the way to make a group's commit itself fail.
    "CREATE TABLE t_child (parent INTEGER REFERENCES t_parent (id) DEFERRABLE INITIALLY DEFERRED)",
    "CREATE TABLE t_log (call INTEGER NOT NULL, what TEXT NOT NULL)",
]


@pytest.fixture
def db(tmp_path: Path, backend: str) -> Iterator[Database]:
    path = str(tmp_path / "group.sqlite3")
    opened = open_database(postgres_database(path) if backend == "postgres" else path)
    for sql in SETUP:
        opened.run(sql)
    yield opened
    opened.close()


def logged(db: Database) -> list[tuple[int, str]]:
    rows = db.all("SELECT call, what FROM t_log ORDER BY call, what")
    return [(int(r[0]), str(r[1])) for r in rows]


def log_write(db: Database, call: int, what: str = "w") -> None:
    db.run("INSERT INTO t_log VALUES (?, ?)", (call, what))


class Boom(Exception):
    pass


# --- the database side: savepoints and after-commit actions -----------------------------------------------
def test_a_failing_call_rolls_back_alone_and_actions_wait_for_the_commit(db: Database) -> None:
    ran: list[str] = []
    with db.group() as actions:
        with db.transaction():
            log_write(db, 1)
            db.after_commit(lambda: ran.append("one"))
        with pytest.raises(Boom), db.transaction():
            log_write(db, 2)
            db.after_commit(lambda: ran.append("two"))
            raise Boom
        with db.transaction():
            log_write(db, 3)
            db.after_commit(lambda: ran.append("three"))
        assert ran == []  # not before the commit
        assert len(actions) == 2  # the rolled-back call's action is gone with its savepoint
    assert ran == []  # the group's actions are the caller's to run, after it committed
    for action in actions:
        action()
    assert ran == ["one", "three"]
    assert logged(db) == [(1, "w"), (3, "w")]


def test_a_failed_statement_rolls_back_only_its_own_call(db: Database) -> None:
    """A statement the database refuses (here a duplicate key) fails its call alone: the savepoint of that
    call, the latest of the group, is rolled back to, and the calls before and after it commit."""
    db.run("INSERT INTO t_parent VALUES (1)")
    with db.group():
        with db.transaction():
            log_write(db, 1)
        with db.transaction():
            log_write(db, 2)
        with pytest.raises(DATABASE_ERRORS), db.transaction():
            log_write(db, 3)
            db.run("INSERT INTO t_parent VALUES (1)")
        assert not db.group_failed()
        with db.transaction():
            log_write(db, 4)
    assert logged(db) == [(1, "w"), (2, "w"), (4, "w")]


def test_calls_failing_before_their_first_statement_or_at_it_leave_the_rest_whole(db: Database) -> None:
    """A call that fails before running any statement, and one whose first statement fails, roll back to
    their own savepoints (never released on PostgreSQL: each hides the one before it); a lone transaction
    whose first statement fails is rolled back whole, an empty one leaves nothing open; every other write
    commits."""
    db.run("INSERT INTO t_parent VALUES (1)")
    with db.group():
        with pytest.raises(Boom), db.transaction():
            raise Boom
        with pytest.raises(DATABASE_ERRORS), db.transaction():
            db.run("INSERT INTO t_parent VALUES (1)")
        assert not db.group_failed()
        with db.transaction():
            log_write(db, 1)
        with pytest.raises(Boom), db.transaction():
            raise Boom
    with pytest.raises(DATABASE_ERRORS), db.transaction():
        db.run("INSERT INTO t_parent VALUES (1)")
        log_write(db, 2)
    with db.transaction():  # nothing runs: nothing is sent, nothing is left open
        pass
    with db.transaction():
        log_write(db, 3)
    assert logged(db) == [(1, "w"), (3, "w")]
    assert [tuple(r) for r in db.all("SELECT id FROM t_parent")] == [(1,)]


def test_after_commit_runs_after_a_lone_commit_and_never_after_a_rollback(db: Database) -> None:
    ran: list[str] = []
    db.after_commit(lambda: ran.append("now"))  # no transaction: at once
    assert ran == ["now"]
    with db.transaction():
        log_write(db, 1)
        with db.transaction():  # nested: joins, its action waits for the outermost commit
            db.after_commit(lambda: ran.append("committed"))
        assert ran == ["now"]
    assert ran == ["now", "committed"]
    with pytest.raises(Boom), db.transaction():
        db.after_commit(lambda: ran.append("rolled back"))
        raise Boom
    assert ran == ["now", "committed"]


@pytest.mark.postgres_only  # SQLite has one connection per server: there is no other reader to hide it from
def test_a_group_is_invisible_to_other_connections_until_it_commits(db: Database, backend: str) -> None:
    seen: list[int] = []
    with db.group():
        log_write(db, 1)
        # Another thread reads on its own pooled connection: the group has not committed yet.
        thread = threading.Thread(target=lambda: seen.append(len(logged(db))))
        thread.start()
        thread.join()
    assert seen == [0] and logged(db) == [(1, "w")]


# --- the executor -----------------------------------------------------------------------------------------------
def run_calls(db: Database, calls: list[tuple[Callable[[], Any], bool]], inline: bool) -> list[Any]:
    """Queue every call at once, as requests arriving together do; their outcomes, in order."""

    async def main() -> tuple[list[Any], DomainExecutor]:
        executor = DomainExecutor(db, anyio.CapacityLimiter(1), inline=inline)
        outcomes = await asyncio.gather(*(executor.run(call, groupable) for call, groupable in calls),
                                        return_exceptions=True)
        return list(outcomes), executor

    outcomes, executor = asyncio.run(main())
    run_calls.executor = executor  # type: ignore[attr-defined]
    return outcomes


def test_a_group_runs_its_writes_in_the_order_of_what_they_write(db: Database) -> None:
    """Groups of several lanes hold their rows' locks to their commits: each runs its calls sorted by what
    they write (route, board, user; stable), so two groups writing the same rows lock them in one order and
    cannot deadlock (a PostgreSQL DeadlockDetected was a 503). Answers still go to their own callers."""
    ran: list[str] = []

    def write(name: str) -> Callable[[], str]:
        def call() -> str:
            with db.transaction():
                log_write(db, len(ran) + 1, name)
            ran.append(name)
            return name
        return call

    orders = [("/s", "board", "u2"), ("/s", "board", "u1"), ("/s", "board", "u2"), ("/s", "another", "u9")]
    names = ["u2-first", "u1", "u2-second", "another"]

    async def main() -> list[Any]:
        executor = DomainExecutor(db, anyio.CapacityLimiter(1))
        calls = (executor.run(write(name), True, order) for name, order in zip(names, orders, strict=True))
        return list(await asyncio.gather(*calls))

    assert asyncio.run(main()) == names  # each caller gets its own call's answer
    assert ran == ["another", "u1", "u2-first", "u2-second"]  # sorted; the same row keeps arrival order


@pytest.mark.parametrize("inline", [False, True], ids=["thread", "inline"])
def test_writes_arriving_together_commit_as_one_group(db: Database, inline: bool) -> None:
    order: list[str] = []

    def write(n: int) -> Callable[[], int]:
        def call() -> int:
            with db.transaction():
                log_write(db, n)
                db.after_commit(lambda: order.append(f"index {n}"))
            if n == 3:
                raise InvalidParameter("call 3 fails after its write")  # its write still commits
            if n == 5:
                with db.transaction():
                    log_write(db, n, "undone")
                    raise InvalidParameter("call 5 fails inside its transaction")
            return n

        return call

    outcomes = run_calls(db, [(write(n), True) for n in range(8)], inline)
    executor: DomainExecutor = run_calls.executor  # type: ignore[attr-defined]
    assert executor.trips == 1 and executor.grouped == 8
    assert [o if not isinstance(o, Exception) else type(o).__name__ for o in outcomes] == \
        [0, 1, 2, "InvalidParameter", 4, "InvalidParameter", 6, 7]
    assert logged(db) == [(n, "w") for n in range(8)]  # call 5's second transaction rolled back alone
    assert order == [f"index {n}" for n in range(8)]  # after the commit, in order


def test_reads_are_not_grouped_with_writes(db: Database) -> None:
    """A read queued after writes runs after they committed: it sees them, as a later request must."""
    calls: list[tuple[Callable[[], Any], bool]] = [(lambda n=n: log_write(db, n), True) for n in range(3)]
    calls.append((lambda: len(logged(db)), False))
    calls += [(lambda n=n: log_write(db, n), True) for n in range(3, 5)]
    outcomes = run_calls(db, calls, inline=False)
    assert outcomes[3] == 3
    assert run_calls.executor.grouped == 5  # type: ignore[attr-defined]


def test_a_trip_takes_at_most_max_trip_calls(db: Database) -> None:
    outcomes = run_calls(db, [(lambda n=n: log_write(db, n), True) for n in range(MAX_TRIP + 5)],
                         inline=True)
    assert all(o is None for o in outcomes) and len(logged(db)) == MAX_TRIP + 5
    assert run_calls.executor.trips == 2  # type: ignore[attr-defined]


class LoggingSet:
    """A set runner (server/executor.py ``SetRunner``) that writes a row per item in one statement each and
    answers each item, leaves the items in ``alone`` to run alone, or raises after writing (``fail``)."""

    def __init__(self, db: Database, alone: frozenset[int] = frozenset(), fail: bool = False) -> None:
        self.db, self.alone, self.fail = db, alone, fail
        self.sets: list[list[int]] = []
        self.ran: list[str] = []

    def run_set(self, items: list[int]) -> list[Any]:
        self.sets.append(list(items))
        outcomes: list[Any] = []
        for item in items:
            if item in self.alone:
                outcomes.append(None)
                continue
            log_write(self.db, item, "set")
            outcomes.append((True, f"set {item}", [lambda item=item: self.ran.append(f"index {item}")]))
        if self.fail:
            raise Boom("after the set's writes")
        return outcomes


def run_set_calls(db: Database, runner: LoggingSet, items: list[int], plain: int = 0) -> list[Any]:
    """``items`` queued together as calls of ``runner``'s set (each also runnable alone, by a call that logs
    "alone"), then ``plain`` groupable calls without a set."""

    def alone(item: int) -> Callable[[], str]:
        def call() -> str:
            with db.transaction():
                log_write(db, item, "alone")
                db.after_commit(lambda: runner.ran.append(f"index {item} alone"))
            return f"alone {item}"
        return call

    async def main() -> list[Any]:
        executor = DomainExecutor(db, anyio.CapacityLimiter(1))
        calls = [executor.run(alone(n), True, ("/s", str(n)), set_runner=runner, set_item=n) for n in items]
        calls += [executor.run(alone(100 + n), True, ("/p", str(n))) for n in range(plain)]
        outcomes = list(await asyncio.gather(*calls, return_exceptions=True))
        run_set_calls.executor = executor  # type: ignore[attr-defined]
        return outcomes

    return asyncio.run(main())


def test_a_groups_set_calls_run_as_one_set_and_the_rest_alone_after_it(db: Database) -> None:
    """A set runner answers its calls of the group together; a call it leaves out runs alone after the set
    (in the same transaction: it sees the set's writes), as do calls of no set; after-commit actions follow
    the commit, each call's own."""
    runner = LoggingSet(db, alone=frozenset({2}))
    outcomes = run_set_calls(db, runner, [1, 2, 3], plain=1)
    assert outcomes == ["set 1", "alone 2", "set 3", "alone 100"]
    assert runner.sets == [[1, 2, 3]]  # one set, in the group's order
    assert logged(db) == [(1, "set"), (2, "alone"), (3, "set"), (100, "alone")]
    assert sorted(runner.ran) == ["index 1", "index 100 alone", "index 2 alone", "index 3"]
    executor: DomainExecutor = run_set_calls.executor  # type: ignore[attr-defined]
    assert executor.trips == 1 and executor.grouped == 4 and executor.in_sets == 2


def test_a_set_that_raises_keeps_nothing_and_its_calls_run_alone(db: Database) -> None:
    """The set wrote, then raised: the whole group rolls back (none of the set's rows stay) and every call
    runs again by itself, answered by its own call."""
    runner = LoggingSet(db, fail=True)
    outcomes = run_set_calls(db, runner, [1, 2, 3])
    assert outcomes == ["alone 1", "alone 2", "alone 3"]
    assert logged(db) == [(1, "alone"), (2, "alone"), (3, "alone")]
    assert runner.ran == ["index 1 alone", "index 2 alone", "index 3 alone"]  # never the set's actions
    assert run_set_calls.executor.in_sets == 0  # type: ignore[attr-defined]


def test_a_lone_set_call_runs_by_its_own_call(db: Database) -> None:
    runner = LoggingSet(db)
    assert run_set_calls(db, runner, [7]) == ["alone 7"]
    assert runner.sets == [] and logged(db) == [(7, "alone")]


def test_lanes_that_find_the_queue_taken_stop_quietly(db: Database) -> None:
    """Several lanes gather at once and one takes every set call: the others find the queue empty and stop,
    with no error (a lane that raised left 'Task exception was never retrieved' in the log, per trip)."""
    runner = LoggingSet(db)
    errors: list[Any] = []

    async def main() -> list[Any]:
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: errors.append(context))
        executor = DomainExecutor(db, anyio.CapacityLimiter(3), lanes=3)
        answers: list[Any] = []
        for wave in range(20):
            calls = [executor.run(lambda: "alone", True, ("/s", str(n)), set_runner=runner, set_item=wave * 10 + n)
                     for n in range(6)]
            answers += await asyncio.gather(*calls)
        await asyncio.sleep(0.05)  # the lanes' tasks end
        return answers

    answers = asyncio.run(main())
    assert errors == []
    assert len(answers) == 120 and all(a in ("alone", *(f"set {n}" for n in range(200))) for a in answers)
    assert len({row for row in logged(db)}) == 120  # every call ran exactly once, alone or in a set


def test_lanes_run_trips_at_once_and_share_the_waiting_calls() -> None:
    """PostgreSQL + Redis (server/app.py): several trips at once, each in its own thread. Three calls that
    each wait for the other two can only finish if three trips run together; one lane would break the
    barrier. The waiting calls are shared among the lanes rather than taken by the first."""
    barrier = threading.Barrier(3, timeout=10)
    threads: set[int] = set()

    def meet() -> str:
        threads.add(threading.get_ident())
        barrier.wait()
        return "met"

    async def main() -> tuple[list[Any], DomainExecutor]:
        executor = DomainExecutor(_NoStorage(), anyio.CapacityLimiter(3), lanes=3)
        return list(await asyncio.gather(*(executor.run(meet) for _ in range(3)))), executor

    outcomes, executor = asyncio.run(main())
    assert outcomes == ["met"] * 3 and executor.trips == 3 and len(threads) == 3


def test_one_lane_runs_one_trip_at_a_time() -> None:
    running: list[int] = []
    overlap: list[int] = []

    def call() -> None:
        running.append(1)
        overlap.append(len(running))
        threading.Event().wait(0.01)
        running.pop()

    async def main() -> None:
        executor = DomainExecutor(_NoStorage(), anyio.CapacityLimiter(4), lanes=1)
        await asyncio.gather(*(executor.run(call) for _ in range(6)))

    asyncio.run(main())
    assert overlap == [1] * 6
    with pytest.raises(ValueError):
        DomainExecutor(_NoStorage(), anyio.CapacityLimiter(2), inline=True, lanes=2)  # the event loop is one


@pytest.mark.parametrize("lanes", [1, 3])
def test_a_call_queued_just_as_a_lane_finishes_still_runs(lanes: int) -> None:
    """The caller of a finished call resumes before the loop runs the finished drainer's callbacks: a call
    it queues then must not wait for a lane that is still counted busy (it would wait forever)."""

    async def main() -> list[int]:
        executor = DomainExecutor(_NoStorage(), anyio.CapacityLimiter(lanes), lanes=lanes)
        done = []
        for n in range(5):
            async with asyncio.timeout(5):  # not wait_for: its task would start the call one pass later
                done.append(await executor.run(lambda n=n: n))
        return done

    assert asyncio.run(main()) == [0, 1, 2, 3, 4]


class _NoStorage:
    """The executor's database, for calls that touch none: a session and a group that do nothing."""

    def session(self) -> Any:
        return contextlib.nullcontext()

    def group(self) -> Any:
        return contextlib.nullcontext([])

    def group_failed(self) -> bool:
        return False


def test_a_failed_commit_answers_every_call_of_the_group_with_it(db: Database) -> None:
    """Nothing of the group is durable: no call is answered as done, no action runs, none is run twice."""
    ran: list[int] = []

    def write(n: int) -> Callable[[], None]:
        def call() -> None:
            with db.transaction():
                log_write(db, n)
                if n == 2:  # an orphan: the deferred key fails the COMMIT
                    db.run("INSERT INTO t_child VALUES (?)", (99,))
                db.after_commit(lambda: ran.append(n))

        return call

    outcomes = run_calls(db, [(write(n), True) for n in range(4)], inline=False)
    assert all(isinstance(o, DATABASE_ERRORS) for o in outcomes), outcomes
    assert logged(db) == [] and ran == []
    # The db is usable afterwards: the failed transaction was ended.
    assert run_calls(db, [(write(n), True) for n in (5, 6)], inline=True) == [None, None]
    assert logged(db) == [(5, "w"), (6, "w")]


def test_an_error_that_aborts_the_group_runs_its_calls_again_one_by_one(db: Database, backend: str) -> None:
    """PostgreSQL aborts a transaction on any failed statement outside a savepoint (here a read); SQLite
    may roll a transaction back by itself (an I/O error), shown here by ending it directly. Nothing of
    the group was durable, so each call runs again alone: exactly one write per call, every answer its own."""

    def breaker() -> None:
        if backend == "postgres":
            db.one("SELECT 1 / 0")
        else:
            db._conn.execute("ROLLBACK")  # type: ignore[attr-defined]
            raise Boom("the transaction is gone")

    attempts: list[int] = []

    def write(n: int) -> Callable[[], int]:
        def call() -> int:
            attempts.append(n)
            with db.transaction():
                log_write(db, n)
            return n

        return call

    calls: list[tuple[Callable[[], Any], bool]] = [(write(0), True), (write(1), True)]
    first_break = [True]

    def break_once() -> None:
        if first_break.pop() if first_break else False:
            breaker()

    calls += [(break_once, True), (write(3), True)]
    outcomes = run_calls(db, calls, inline=False)
    assert outcomes[:2] == [0, 1] and outcomes[3] == 3 and outcomes[2] is None  # the breaker, run again, passes
    assert logged(db) == [(0, "w"), (1, "w"), (3, "w")]
    assert attempts == [0, 1, 0, 1, 3]  # 0 and 1 ran twice (the first time rolled back); 3 never ran in the group


# --- a trip's remembered tokens ---------------------------------------------------------------------------------
def test_a_trip_looks_a_token_up_once_and_remembers_nothing_after(db: Database) -> None:
    """Inside remembering() (one trip) a token authenticates from memory, even if its app went away
    meanwhile (as if the removal came just after the trip); after the trip it is looked up again, and a
    failure is never remembered."""
    from questgraph.server.auth import Authenticator
    from questgraph.server.clock import Clock
    from questgraph.server.db import ObjectIds
    from questgraph.server.errors import InvalidToken
    from questgraph.server.identity import IdentityService
    from questgraph.server.identity.store import IdentityStore

    clock = Clock()
    store = IdentityStore(db)
    identity = IdentityService(db, store, ObjectIds(db), clock)
    made = identity.create_app(identity.create_org("Memo Studio").id, "Memo Game")
    token = f"OC|{made.app.id}|{made.secret}"
    wrong = f"OC|{made.app.id}|{'0' * 32}"
    auth = Authenticator(store, clock)
    lookups: list[int] = []
    real_get_app = store.get_app

    def counted_get_app(app_id: int) -> Any:
        lookups.append(app_id)
        return real_get_app(app_id)

    store.get_app = counted_get_app  # type: ignore[method-assign]
    with auth.remembering():
        for _ in range(3):
            assert auth.authenticate(token).app.id == made.app.id
        for _ in range(2):
            with pytest.raises(InvalidToken):
                auth.authenticate(wrong)
        assert len(lookups) == 3  # the good token once, the wrong one every time
        db.run("UPDATE apps SET secret_hash = ? WHERE id = ?", ("0" * 64, made.app.id))
        assert auth.authenticate(token).app.id == made.app.id  # remembered within the trip
    with pytest.raises(InvalidToken):
        auth.authenticate(token)  # the next trip sees the change


def test_remembered_tokens_belong_to_the_trip_that_looked_them_up(db: Database) -> None:
    """Trips run at once in several threads (lanes): what one trip remembers must not authenticate a call
    of another thread, which looks the token up itself and sees a secret rotated meanwhile."""
    from questgraph.server.auth import Authenticator
    from questgraph.server.clock import Clock
    from questgraph.server.db import ObjectIds
    from questgraph.server.errors import InvalidToken
    from questgraph.server.identity import IdentityService
    from questgraph.server.identity.store import IdentityStore

    clock = Clock()
    store = IdentityStore(db)
    identity = IdentityService(db, store, ObjectIds(db), clock)
    made = identity.create_app(identity.create_org("Lane Studio").id, "Lane Game")
    token = f"OC|{made.app.id}|{made.secret}"
    auth = Authenticator(store, clock)
    outside: list[str] = []

    def another_thread() -> None:
        try:
            auth.authenticate(token)
            outside.append("authenticated")
        except InvalidToken:
            outside.append("refused")

    with auth.remembering():
        assert auth.authenticate(token).app.id == made.app.id
        db.run("UPDATE apps SET secret_hash = ? WHERE id = ?", ("0" * 64, made.app.id))
        thread = threading.Thread(target=another_thread)
        thread.start()
        thread.join()
        assert auth.authenticate(token).app.id == made.app.id  # this trip still remembers it
    assert outside == ["refused"]


@pytest.mark.parametrize("value", ["0", "33", "four", "-1"])
def test_bad_domain_lanes_are_refused(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`--domain-lanes` and QUESTGRAPH_DOMAIN_LANES (the workers' copy) refuse the same values, saying why."""
    from questgraph.cli import main
    from questgraph.server.asgi import settings_from_env

    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--memory", "--domain-lanes", value])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "argument --domain-lanes: must be a whole number from 1 to 32" in err and repr(value) in err
    with pytest.raises(ValueError, match="QUESTGRAPH_DOMAIN_LANES: must be a whole number from 1 to 32"):
        settings_from_env({"QUESTGRAPH_DOMAIN_LANES": value})
    assert settings_from_env({"QUESTGRAPH_DOMAIN_LANES": "7"})[0].domain_lanes == 7


def test_lanes_only_where_the_database_keeps_the_rules(qg: RunningServer) -> None:
    """SQLite, or any server with the in-memory index: one lane (a single writer)."""
    assert qg.server.index_keeper.kind == "memory" and qg.server.executor.lanes == 1


def test_lanes_on_postgres_and_redis_keep_every_users_best(tmp_path: Path) -> None:
    """PostgreSQL + Redis: the setting's lanes (trips at once, each in a thread), a pool of two connections
    a lane and spares, and concurrent keep-best submits and reads that end right: each user's best score,
    pages always in rank order, and the index equal to the database."""
    from tests.conftest import start_server  # here: at module level it would run every test here twice

    require_postgres()
    require_redis()
    prefix = f"qgtest-{secrets.token_hex(6)}"
    server = start_server(tmp_path, backend="postgres", rank_index=redis_url(prefix=prefix), domain_lanes=3)
    try:
        assert server.server.executor.lanes == 3 and not server.server.executor.inline
        assert server.server.db._pool.max_size == 2 * 3 + 4  # type: ignore[attr-defined]
        create_board(server, "lanes")
        sent = [(USERS[n % 3], (n * 53) % 211) for n in range(90)]
        bad_pages: list[str] = []

        def submit(pair: tuple[str, int]) -> None:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                response = client.post("/leaderboard_submit_entry", data={
                    "access_token": APP_TOKEN, "api_name": "lanes", "user_id": pair[0], "score": pair[1]})
                assert response.status_code == 200, response.text
                page = client.get("/leaderboard_entries", params={
                    "access_token": APP_TOKEN, "api_name": "lanes", "fields": "rank,score"})
                if page.status_code == 200:
                    scores = [row["score"] for row in page.json()["data"]]
                    if scores != sorted(scores, reverse=True):
                        bad_pages.append(page.text)
                elif page.json()["error"]["is_transient"] is not True:  # a page that raced a write: 503
                    bad_pages.append(page.text)

        with ThreadPoolExecutor(12) as pool:
            list(pool.map(submit, sent))
        assert bad_pages == []
        assert_each_users_best(server, "lanes", sent)
    finally:
        server.stop()
        drop_prefix(prefix)


USERS = ["123402235207175", "123402235207176", "123402235207177"]  # entitled users of tests/world.toml


def create_board(server: RunningServer, api_name: str) -> None:
    with server.client() as client:
        made = client.post("/1234757621998335/leaderboards", data={
            "access_token": APP_TOKEN, "api_name": api_name, "sort_order": "HIGHER_IS_BETTER"})
        assert made.status_code == 200, made.text


def assert_each_users_best(server: RunningServer, api_name: str, sent: list[tuple[str, int]]) -> None:
    """Every user holds the best score sent for them, ranked 1, 2, 3 in score order."""
    best = {user: max(score for u, score in sent if u == user) for user in USERS}
    with server.client() as client:
        page = client.get("/leaderboard_entries", params={
            "access_token": APP_TOKEN, "api_name": api_name, "fields": "rank,score,user{id}"}).json()["data"]
    assert {row["user"]["id"]: row["score"] for row in page} == best
    assert [row["rank"] for row in page] == [1, 2, 3]
    assert [row["score"] for row in page] == sorted(best.values(), reverse=True)


# --- over HTTP ---------------------------------------------------------------------------------------------------
def test_concurrent_submits_end_with_each_users_best_and_a_matching_index(qg: RunningServer) -> None:
    """Keep-best submits from many clients at once (grouped by the server): every user ends with the best
    score sent for them, and the ranks read back match the scores."""
    create_board(qg, "grouped")
    sent = [(USERS[n % 3], (n * 37) % 101) for n in range(60)]

    def submit(pair: tuple[str, int]) -> bool:
        with httpx.Client(base_url=qg.url, timeout=30) as client:
            response = client.post("/leaderboard_submit_entry", data={
                "access_token": APP_TOKEN, "api_name": "grouped", "user_id": pair[0], "score": pair[1]})
            assert response.status_code == 200, response.text
            return bool(response.json()["did_update"])

    with ThreadPoolExecutor(12) as pool:
        updated = list(pool.map(submit, sent))
    assert 3 <= sum(updated) <= len(sent)
    assert_each_users_best(qg, "grouped", sent)
    # The executor's trips show in /metrics (docs/deployment.md): every call counted, grouped or not.
    with qg.client() as client:
        metrics = client.get("/metrics").text
    counted = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                  if line.startswith("questgraph_domain_calls_total{"))
    trips = next(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                 if line.startswith("questgraph_domain_trips_total "))
    assert counted >= len(sent) + 1 and 1 <= trips <= counted
