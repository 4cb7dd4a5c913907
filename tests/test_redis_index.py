"""The Redis rank index against the in-memory one (issue 6; D13 int64 scores, D14 order, D22 O(log n) reads).

Every read of ``RankIndex`` (count, key_of, position_of, keys_between) must give exactly what
``InMemoryRankIndex`` gives after the same writes (put, remove, clear, load, reset), over the whole
int64 score range, with many equal scores, and with scores that are equal as doubles but not as
integers (a Redis sorted-set score is a double: a naive index would merge them). Then the lifecycle:
the ready marker, loss detection, the rebuild lock and boards written during a rebuild.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from questgraph.server.ranking.index import InMemoryRankIndex
from questgraph.server.ranking.keeper import IndexUnavailable, default_namespace, open_rank_index
from questgraph.server.ranking.keys import (
    ENTRY_ID_MASK,
    HIGHER_IS_BETTER,
    INT64_MAX,
    INT64_MIN,
    LOWER_IS_BETTER,
    sort_key,
)
from tests.conftest import import_or_skip
from tests.redis_support import drop_prefix, redis_url, require_redis

import_or_skip("redis", "the redis client is not installed (pip install 'questgraph[redis]')")

from questgraph.server.ranking.redis_index import KEY_LIMIT, RedisRankIndex  # noqa: E402 (after the check)

BOARDS = (11, 12)
ORDERS = {11: HIGHER_IS_BETTER, 12: LOWER_IS_BETTER}
EXTREME_SCORES = [INT64_MIN, INT64_MIN + 1, -(2**53) - 1, -(2**53), -1, 0, 1, 2**53, 2**53 + 1,
                  INT64_MAX - 1, INT64_MAX]


@pytest.fixture
def index() -> Iterator[RedisRankIndex]:
    require_redis()
    prefix = f"qgtest-{secrets.token_hex(6)}"
    made = RedisRankIndex.from_url(redis_url(prefix=prefix), "unit")
    made.mark_ready()
    yield made
    drop_prefix(prefix)
    made.client.close()


def key(board: int, score: int, written_us: int, entry_id: int) -> int:
    return sort_key(ORDERS[board], score, written_us, entry_id)


def user(entry_id: int) -> int:
    """The user of an entry in these tests: distinct per entry, and 17 digits like a real id (D9)."""
    return 30_000_000_000_000_000 + 7919 * entry_id


def users(keys: list[int]) -> list[tuple[int, int]]:
    return [(k, user(k & ENTRY_ID_MASK)) for k in keys]


def assert_same(memory: InMemoryRankIndex, shared: RedisRankIndex, probes: list[int]) -> None:
    """Every read the service makes, on both boards, at positions and keys around every stored key."""
    for board in BOARDS:
        count = memory.count(board)
        assert shared.count(board) == count
        everything = memory.keys_between(board, 0, count + 2)
        assert shared.keys_between(board, 0, count + 2) == everything
        for start, stop in [(0, 1), (1, 3), (count - 1, count + 5), (-3, 2), (3, 1), (count, count + 1)]:
            assert shared.keys_between(board, start, stop) == memory.keys_between(board, start, stop), (start, stop)
        for k in [*everything, *probes]:
            for probe in (k - 1, k, k + 1):
                assert shared.position_of(board, probe) == memory.position_of(board, probe), probe
        for entry_id in range(0, 10):
            assert shared.key_of(board, entry_id) == memory.key_of(board, entry_id)
        # page (one round trip on Redis): every anchor kind, pages before, around and after it
        for anchor in [None, *everything[:2], *everything[-2:], *probes]:
            for offset, limit, before in [(0, 3, False), (-2, 5, False), (-4, 4, True), (-1, 9, True),
                                          (2, 2, False), (count + 1, 3, False), (0, 0, False)]:
                page = shared.page(board, anchor, offset, limit, before)
                assert page == memory.page(board, anchor, offset, limit, before), (anchor, offset, limit, before)
                # both indexes hold each entry's user: the page gives them beside its keys
                assert page.user_ids == [user(k & ENTRY_ID_MASK) for k in page.keys]


def test_scores_equal_as_doubles_stay_distinct_and_ordered(index: RedisRankIndex) -> None:
    """D13/D14: 2^53 and 2^53+1 are one double; the index must still rank them apart, best first."""
    assert float(2**53) == float(2**53 + 1)
    memory = InMemoryRankIndex()
    for entry_id, score in enumerate(EXTREME_SCORES, start=1):
        for target in (memory, index):
            target.put(11, entry_id, key(11, score, 1000, entry_id), user(entry_id))
            target.put(12, entry_id, key(12, score, 1000, entry_id), user(entry_id))
    top = [k & (2**64 - 1) for k in index.keys_between(11, 0, 100)]
    # HIGHER_IS_BETTER: INT64_MAX (entry 11) first ... INT64_MIN (entry 1) last; and the reverse below.
    assert top == list(range(len(EXTREME_SCORES), 0, -1))
    assert [k & (2**64 - 1) for k in index.keys_between(12, 0, 100)] == list(range(1, len(EXTREME_SCORES) + 1))
    assert index.position_of(11, key(11, 2**53 + 1, 1000, 9)) == 2  # behind INT64_MAX and INT64_MAX - 1 only
    assert_same(memory, index, [0, 1, KEY_LIMIT - 1, KEY_LIMIT, KEY_LIMIT + 5])


def test_equal_scores_break_ties_by_write_time_then_entry_id(index: RedisRankIndex) -> None:
    """D14: among equal scores the earlier write ranks higher, then the lower entry id."""
    memory = InMemoryRankIndex()
    for entry_id, written in [(5, 300), (2, 300), (9, 100), (1, 200), (7, 100)]:
        for target in (memory, index):
            target.put(11, entry_id, key(11, 42, written, entry_id), user(entry_id))
    assert [k & (2**64 - 1) for k in index.keys_between(11, 0, 10)] == [7, 9, 1, 2, 5]
    assert_same(memory, index, [])


def test_an_update_older_than_the_entrys_last_one_is_ignored(index: RedisRankIndex) -> None:
    """D22: two writes of one entry commit in order (the row lock), but their index updates may reach Redis
    in either order (two processes, or two trips of one). The version (the write's pending row id, which
    grows) keeps the newest: a late older put or remove changes nothing, and a removed entry stays removed."""
    index.put(11, 3, key(11, 20, 2, 3), user(3), version=5)
    index.put(11, 3, key(11, 10, 1, 3), user(3), version=4)  # the older write's update, arriving late
    assert index.key_of(11, 3) == key(11, 20, 2, 3) and index.count(11) == 1
    index.remove(11, 3, version=3)
    assert index.key_of(11, 3) == key(11, 20, 2, 3) and index.count(11) == 1
    index.put(11, 3, key(11, 30, 3, 3), user(3), version=6)  # a newer one applies
    assert index.keys_between(11, 0, 5) == [key(11, 30, 3, 3)]
    index.remove(11, 3, version=8)
    index.put(11, 3, key(11, 40, 4, 3), user(3), version=7)  # written before the removal: must not bring it back
    assert index.key_of(11, 3) is None and index.count(11) == 0 and index.keys_between(11, 0, 5) == []
    # A board loaded by a build carries no versions: any write after it applies.
    index.load(11, users([key(11, 1, 1, 3), key(11, 2, 2, 4)]))
    index.put(11, 3, key(11, 50, 5, 3), user(3), version=1)
    assert index.key_of(11, 3) == key(11, 50, 5, 3) and index.count(11) == 2


def test_put_replaces_the_entry_and_load_replaces_the_board(index: RedisRankIndex) -> None:
    """An entry has one key at a time (put removes the old one); load replaces a whole board, chunked."""
    index.put(11, 3, key(11, 10, 1, 3), user(3))
    index.put(11, 3, key(11, 20, 2, 3), user(3))
    assert index.count(11) == 1 and index.key_of(11, 3) == key(11, 20, 2, 3)
    many = [key(11, n % 7, n, n) for n in range(1, 12_001)]  # > LOAD_CHUNK: staged in several chunks
    index.load(11, users(many))
    assert index.count(11) == len(many)
    assert index.key_of(11, 3) == key(11, 3, 3, 3)  # the load's key, not the earlier put's
    assert index.keys_between(11, 0, 5) == sorted(many)[:5]
    assert not [n for n in index.client.scan_iter(match=f"{index.base}tmp:*".replace("{", "\\{").replace("}", "\\}"))]
    assert index.client.ttl(f"{index.base}z:11") == -1  # staged keys expire; the swapped-in board must not
    index.load(11, [])
    assert index.count(11) == 0 and index.keys_between(11, 0, 5) == []


ops = st.one_of(
    st.tuples(st.just("put"), st.sampled_from(BOARDS), st.integers(1, 8),
              st.one_of(st.sampled_from(EXTREME_SCORES), st.integers(-2, 2)), st.integers(0, 3)),
    st.tuples(st.just("remove"), st.sampled_from(BOARDS), st.integers(1, 9)),
    st.tuples(st.just("clear"), st.sampled_from(BOARDS)),
    st.tuples(st.just("load"), st.sampled_from(BOARDS),
              st.dictionaries(st.integers(1, 8), st.tuples(st.sampled_from(EXTREME_SCORES), st.integers(0, 3)),
                              max_size=6)),
    st.tuples(st.just("reset")),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(ops, min_size=1, max_size=25))
def test_random_operations_read_the_same_as_in_memory(index: RedisRankIndex, steps: list[Any]) -> None:
    """Same reads as InMemoryRankIndex after every random step (ties, int64 extremes, empty boards)."""
    index.reset()
    index.mark_ready()
    memory = InMemoryRankIndex()
    for step in steps:
        if step[0] == "put":
            _, board, entry_id, score, written = step
            for target in (memory, index):
                target.put(board, entry_id, key(board, score, written, entry_id), user(entry_id))
        elif step[0] == "remove":
            for target in (memory, index):
                target.remove(step[1], step[2])
        elif step[0] == "clear":
            for target in (memory, index):
                target.clear(step[1])
        elif step[0] == "load":
            _, board, rows = step
            keys = [key(board, score, written, entry_id) for entry_id, (score, written) in rows.items()]
            for target in (memory, index):
                target.load(board, users(keys))
        else:
            memory.reset()
            index.reset()
            index.mark_ready()
        assert_same(memory, index, [0, KEY_LIMIT - 1, KEY_LIMIT])


def test_a_page_is_one_round_trip_and_reads_what_the_board_holds(index: RedisRankIndex) -> None:
    """A leaderboard page's count, anchor position and keys come in one script call (issue 6: a read's
    round trips are its cost), and they are the board's: ranks 4-6 around the 5th key, 10 entries in all."""
    keys = [key(11, score, 1, entry_id) for entry_id, score in enumerate(range(100, 0, -10))]
    index.load(11, users(keys))
    ordered = sorted(keys)

    def calls() -> dict[str, int]:
        stats = index.client.info("commandstats")
        return {name: int(stats.get(f"cmdstat_{name}", {}).get("calls", 0))
                for name in ("evalsha", "eval", "zcard", "zlexcount", "zrange", "exists", "multi")}

    index.page(11, ordered[4], -1, 3)  # the script is loaded once (a first EVALSHA may fall back to EVAL)
    before = calls()
    page = index.page(11, ordered[4], -1, 3)
    after = calls()
    assert page.total == 10 and page.start == 3 and page.keys == ordered[3:6]
    assert page.user_ids == [user(k & ENTRY_ID_MASK) for k in ordered[3:6]]
    # commands a script runs are counted too: one EVALSHA and what it ran, no MULTI, no second call
    assert after["evalsha"] - before["evalsha"] == 1 and after["multi"] == before["multi"]
    assert after["eval"] == before["eval"]
    assert index.page(11, ordered[2], -3, 3, before=True)[:3] == (10, 0, ordered[0:2])  # ends before the anchor


def test_reads_refuse_a_lost_index(index: RedisRankIndex) -> None:
    """Issue 6: without the ready marker (FLUSHALL, restart) reads raise a D7 503 instead of ranking wrong."""
    index.put(11, 1, key(11, 5, 1, 1), user(1))
    assert index.state() == "ready"
    index.client.delete(f"{index.base}ready")
    assert index.state() == "lost"
    for read in (lambda: index.count(11), lambda: index.position_of(11, 5), lambda: index.keys_between(11, 0, 3),
                 lambda: index.key_of(11, 1), lambda: index.page(11, None, 0, 3)):
        with pytest.raises(IndexUnavailable) as caught:
            read()
        assert caught.value.status == 503 and caught.value.code == 2 and caught.value.is_transient


def test_members_hold_the_key_then_the_user_under_a_versioned_layout(index: RedisRankIndex) -> None:
    """A member is the key's 24 bytes then the user id's 8 (what lets a page of rank, score and user id skip
    the rows). Its keys live under the layout's version: a ready marker left by the earlier layout (members
    of the key alone) must not make this one ready, or it would read 24-byte members as 32-byte ones."""
    index.put(11, 3, key(11, 20, 2, 3), user(3))
    assert index.client.zrange(f"{index.base}z:11", 0, -1) == [
        key(11, 20, 2, 3).to_bytes(24, "big") + user(3).to_bytes(8, "big")]
    assert index.base.endswith(":v2:")
    prefix = index.base.split(":", 1)[0]
    fresh = RedisRankIndex(index.client, prefix, "fresh")
    index.client.set(f"{prefix}:{{fresh}}:ready", "old-layout-epoch")
    assert fresh.state() == "lost" and fresh.marker() is None


def test_writes_during_a_rebuild_are_not_lost(index: RedisRankIndex) -> None:
    """A write committed while the rebuilder read the database marks its board dirty; the rebuilder
    reloads dirty boards before it declares the index ready, so the write shows up."""
    database = {11: {1: key(11, 10, 1, 1)}}  # what the "database" holds

    def build() -> None:
        index.load(11, users(list(database[11].values())))
        # Meanwhile another process commits a write and updates the index (marker still absent).
        database[11][2] = key(11, 99, 2, 2)
        thread = threading.Thread(target=index.put, args=(11, 2, database[11][2], user(2)))
        thread.start()
        thread.join()
        index.load(11, users([database[11][1]]))  # a stale reload that would drop it, e.g. a slow loader

    reloaded: list[int] = []

    def reload_board(board_id: int) -> None:
        reloaded.append(board_id)
        index.load(board_id, users(list(database[board_id].values())))

    assert index.try_lock()
    try:
        index.rebuild(build, reload_board, "epoch-1")
    finally:
        index.release_lock()
    assert reloaded == [11]
    assert index.state() == "ready" and index.marker() == "epoch-1"
    assert index.keys_between(11, 0, 5) == sorted(database[11].values())


def test_one_rebuilder_at_a_time(index: RedisRankIndex) -> None:
    """The rebuild lock is exclusive across processes (two index objects stand for two processes)."""
    other = RedisRankIndex(index.client, index.base.split(":", 1)[0], "unit")
    assert other.base == index.base
    assert index.try_lock()
    assert not other.try_lock()
    with pytest.raises(IndexUnavailable), other.exclusive(wait_seconds=0.2):
        pass
    index.release_lock()
    assert other.try_lock()
    other.release_lock()


def test_a_build_longer_than_the_locks_lifetime_keeps_the_lock(index: RedisRankIndex,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A rebuild whose step takes longer than the lock lives without touching it (the database sorting a
    10M board before its first row) keeps the lock: the holder extends it meanwhile. It used to expire,
    and the rebuild failed "lost its lock" with the server never ready. Released, it is gone at once."""
    from questgraph.server.ranking import redis_index

    monkeypatch.setattr(redis_index, "LOCK_TTL_MS", 300)
    assert index.try_lock()
    try:
        threading.Event().wait(1.0)  # more than three lifetimes, no touch
        index._lock_touched = 0.0  # as after a long step: the next touch_lock checks
        index.touch_lock()  # does not raise: the lock is still this process's
        assert index.client.get(index._lock) == index._lock_token.encode()  # type: ignore[union-attr]
        other = RedisRankIndex(index.client, index.base.split(":", 1)[0], "unit")
        assert not other.try_lock()
    finally:
        index.release_lock()
    threading.Event().wait(0.4)  # the keeper thread stops: nothing extends a released lock
    assert index.client.get(index._lock) is None


def test_namespaces_keep_deployments_apart(tmp_path: Any) -> None:
    """Two databases never share a namespace; a password never appears in one's identity."""
    a = default_namespace(str(tmp_path / "a.sqlite3"))
    assert a == default_namespace(str(tmp_path / "a.sqlite3"))
    assert a != default_namespace(str(tmp_path / "b.sqlite3"))
    assert default_namespace("postgresql://u:pw1@db/qg") == default_namespace("postgresql://u:pw2@db/qg")
    assert default_namespace("postgresql://db/qg") != default_namespace("postgresql://db/other")
    assert default_namespace(":memory:") != default_namespace(":memory:")


def test_unknown_rank_index_url_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported rank index"):
        open_rank_index("memcached://x", "db.sqlite3")
    memory, keeper = open_rank_index(None, "db.sqlite3")
    assert isinstance(memory, InMemoryRankIndex) and keeper.kind == "memory"
