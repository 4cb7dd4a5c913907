"""The rank index in Redis, shared by every server process of a deployment (D14, D22).

Layout, under ``<prefix>:{<namespace>}:v2:`` (the braces are a Redis Cluster hash tag, so every key of a
deployment lives in one slot and the Lua scripts below may touch several of them; ``v2`` is the layout's
version, so a process of another layout never reads or writes these keys):

- ``z:<board>``: a sorted set whose members are the entries' D14 keys as 24 fixed-width big-endian bytes
  followed by the entry's user id (8 bytes), all with score 0. A sorted-set score is a double (53-bit
  mantissa), which would merge different int64 scores; with equal scores Redis orders members by memcmp,
  and fixed-width big-endian bytes compare exactly like the integers they encode. So the order is exact
  over the whole key range; the key alone decides it (it ends with the entry id, unique), and the user id
  behind it lets a page of rank, score and user id be answered without reading the entries' rows.
- ``h:<board>``: a hash entry id → that entry's member followed by the version of the write that put it
  (decimal; none for entries loaded by a build), to find and replace an entry's old key. A removed entry
  leaves ``t<version>`` (a tombstone: shorter than a member) until its board is cleared or reloaded.
  Versions order the updates of one entry: two writes of an entry commit one after the other (the row
  lock), but their index updates, sent after their commits by two processes (or two trips of one
  process), may reach Redis in either order; an update older than the entry's last one is ignored.
- ``ready``: the marker saying the index matches the database. It is set only at the end of a build; a
  FLUSHALL, a Redis restart without persistence or an eviction removes it, and every read checks it in the
  same transaction, so a lost index answers ``IndexUnavailable`` (a 503, D7) instead of wrong ranks.
- ``lock``: the rebuild lock (``SET NX PX`` with an owner token), so one process rebuilds at a time.
- ``dirty``: boards written while the marker was absent. The rebuilder reloads them before it sets the
  marker, so a write committed while a rebuild was reading the database is never lost from the index.

Reads are O(log n) (D22): ZCARD O(1), ZLEXCOUNT O(log n), ZRANGE by index O(log n + m), HGET O(1).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from redis.exceptions import RedisError

from questgraph.server.ranking.index import Page, PageRequest
from questgraph.server.ranking.keeper import IndexUnavailable, State
from questgraph.server.ranking.keys import ENTRY_ID_MASK

log = logging.getLogger("questgraph.ranking")

KEY_BYTES = 24  # keys.sort_key packs three unsigned 64-bit fields: < 2**192
KEY_LIMIT = 2 ** (8 * KEY_BYTES)
MEMBER_BYTES = KEY_BYTES + 8  # the key, then the entry's user id
LAYOUT = "v2"  # v1 (until 2026-12): members were the key alone
LOAD_CHUNK = 5_000
LOCK_TTL_MS = 30_000

# put: unless the entry's last update is newer (its version), drop the entry's old member, add the new
# one, remember it with the version; mark the board dirty while not ready (ARGV[4] is '0' for the
# rebuilder's own writes, which must not mark what it is settling). A hash value of 32 bytes or more is a
# member (32 bytes) and its version; a shorter one a tombstone, 't' and the version of the removal.
_PUT = """
if ARGV[4] == '1' and redis.call('EXISTS', KEYS[3]) == 0 then redis.call('SADD', KEYS[4], ARGV[3]) end
local old = redis.call('HGET', KEYS[2], ARGV[1])
if old then
  local live = #old >= 32
  if tonumber(ARGV[5]) < (tonumber(string.sub(old, live and 33 or 2)) or 0) then return 0 end
  if live then redis.call('ZREM', KEYS[1], string.sub(old, 1, 32)) end
end
redis.call('ZADD', KEYS[1], 0, ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. ARGV[5])
return 1
"""
_REMOVE = """
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[3]) == 0 then redis.call('SADD', KEYS[4], ARGV[2]) end
local old = redis.call('HGET', KEYS[2], ARGV[1])
if old then
  local live = #old >= 32
  if tonumber(ARGV[4]) < (tonumber(string.sub(old, live and 33 or 2)) or 0) then return 0 end
  if live then redis.call('ZREM', KEYS[1], string.sub(old, 1, 32)) end
end
redis.call('HSET', KEYS[2], ARGV[1], 't' .. ARGV[4])
return 1
"""
# clear and load (which replaces a board with keys staged under temporary names, KEYS[5] and KEYS[6]).
_REPLACE = """
redis.call('DEL', KEYS[1], KEYS[2])
if ARGV[2] == '1' then
  redis.call('RENAME', KEYS[5], KEYS[1])
  redis.call('RENAME', KEYS[6], KEYS[2])
  redis.call('PERSIST', KEYS[1])
  redis.call('PERSIST', KEYS[2])
end
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[3]) == 0 then redis.call('SADD', KEYS[4], ARGV[1]) end
return 1
"""
# The marker goes up only when no board was written since the rebuilder last looked (see ``dirty``).
_FINISH = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end
if redis.call('SCARD', KEYS[3]) > 0 then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""
_TAKE_DIRTY = """
local boards = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
return boards
"""
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
# page: RankIndex.page in one round trip, atomically (nil when the marker is gone). ARGV[1] is how the
# anchor's position is found: '0' none (0), '1' ZLEXCOUNT below ARGV[2] ("(" and the key's 24 bytes, which
# sorts below every member that starts with them),
# '2' past every key (the board's size). The bounds are index.page_bounds'.
_PAGE = """
if redis.call('EXISTS', KEYS[2]) == 0 then return false end
local total = redis.call('ZCARD', KEYS[1])
local position = 0
if ARGV[1] == '1' then position = redis.call('ZLEXCOUNT', KEYS[1], '-', ARGV[2])
elseif ARGV[1] == '2' then position = total end
local start = math.max(position + tonumber(ARGV[3]), 0)
local stop = start + tonumber(ARGV[4])
if ARGV[5] == '1' then stop = math.min(stop, position) end
local keys = {}
if stop > start then keys = redis.call('ZRANGE', KEYS[1], start, stop - 1) end
return {total, start, keys}
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def pack(key: int) -> bytes:
    return key.to_bytes(KEY_BYTES, "big")


def member(key: int, user_id: int) -> bytes:
    return key.to_bytes(KEY_BYTES, "big") + user_id.to_bytes(8, "big")


def unpack(member: bytes) -> int:
    return int.from_bytes(member, "big")


def split_url(url: str) -> tuple[str, str, str | None]:
    """``redis://host:port/db?prefix=…&namespace=…`` → (URL for redis-py, prefix, namespace or None)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    ours = {k: v for k, v in query if k in ("prefix", "namespace")}
    rest = [(k, v) for k, v in query if k not in ("prefix", "namespace")]
    return urlunsplit(parts._replace(query=urlencode(rest))), ours.get("prefix") or "questgraph", ours.get("namespace")


class RedisRankIndex:
    """``RankIndex`` over Redis, plus the lifecycle a shared index needs (state, rebuild lock, marker)."""

    def __init__(self, client: redis.Redis, prefix: str = "questgraph", namespace: str = "default") -> None:
        self.client = client
        self.base = f"{prefix}:{{{namespace}}}:{LAYOUT}:"
        self._put = client.register_script(_PUT)
        self._remove = client.register_script(_REMOVE)
        self._replace = client.register_script(_REPLACE)
        self._finish = client.register_script(_FINISH)
        self._take_dirty = client.register_script(_TAKE_DIRTY)
        self._extend = client.register_script(_EXTEND)
        self._release = client.register_script(_RELEASE)
        self._page = client.register_script(_PAGE)
        self._lock_token: str | None = None  # set while this process holds the rebuild lock
        self._lock_touched = 0.0
        self._lock_stop = threading.Event()  # ends the thread that keeps the lock (``_keep_lock``)
        # A write that failed half-way (Redis went away after the database commit) leaves the index
        # suspect: the next time Redis answers, this process drops the marker so the index is rebuilt.
        self._suspect = False
        self._guard = threading.Lock()
        self._local = threading.local()  # .rebuilding: this thread is the rebuilder
        self.detached = False  # writes skipped: a world applied before serving, rebuilt at start-up

    def _mark(self) -> str:
        return "0" if getattr(self._local, "rebuilding", False) else "1"

    @classmethod
    def from_url(cls, url: str, default_namespace: str) -> RedisRankIndex:
        plain, prefix, namespace = split_url(url)
        # Short timeouts: a stopped Redis must turn into a prompt 503, not a hung request.
        client = redis.Redis.from_url(plain, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30)
        return cls(client, prefix, namespace or default_namespace)

    # --- key names ----------------------------------------------------------------------------------
    def _z(self, board_id: int) -> str:
        return f"{self.base}z:{board_id}"

    def _h(self, board_id: int) -> str:
        return f"{self.base}h:{board_id}"

    @property
    def _ready(self) -> str:
        return f"{self.base}ready"

    @property
    def _lock(self) -> str:
        return f"{self.base}lock"

    @property
    def _dirty(self) -> str:
        return f"{self.base}dirty"

    # --- RankIndex: writes --------------------------------------------------------------------------
    def _write(self, run: Any) -> None:
        if self.detached:
            return
        try:
            run()
        except RedisError:
            self._suspect = True
            raise

    def reset(self) -> None:
        """Delete every key of this namespace but the rebuild lock (its holder is the one resetting)."""
        pattern = _glob_escape(self.base) + "*"
        lock = self._lock.encode()
        batch: list[bytes] = []
        for name in self.client.scan_iter(match=pattern, count=1000):
            if name != lock:
                batch.append(name)
            if len(batch) >= 1000:
                self.client.unlink(*batch)
                batch = []
        if batch:
            self.client.unlink(*batch)

    @contextmanager
    def batched(self) -> Iterator[None]:
        """Puts and removes inside the block go to Redis in one pipeline at its end: a group of writes
        committed together (server/executor.py) updates the index in one round trip. Each update stays
        one atomic script; the pipeline keeps their order."""
        pipe = self.client.pipeline(transaction=False)
        self._local.pipe = pipe
        try:
            yield
        finally:
            self._local.pipe = None
        if len(pipe):
            self._write(pipe.execute)

    def put(self, board_id: int, entry_id: int, key: int, user_id: int, version: int = 0) -> None:
        self._update(self._put, [self._z(board_id), self._h(board_id), self._ready, self._dirty],
                     [entry_id, member(key, user_id), board_id, self._mark(), version])

    def remove(self, board_id: int, entry_id: int, version: int = 0) -> None:
        self._update(self._remove, [self._z(board_id), self._h(board_id), self._ready, self._dirty],
                     [entry_id, board_id, self._mark(), version])

    def _update(self, script: Any, keys: list[str], args: list[Any]) -> None:
        pipe = getattr(self._local, "pipe", None)
        if pipe is not None and not self.detached:
            script(keys=keys, args=args, client=pipe)  # queued: sent at the end of batched()
        else:
            self._write(lambda: script(keys=keys, args=args))

    def clear(self, board_id: int) -> None:
        unused = f"{self.base}tmp:unused"
        self._write(lambda: self._replace(keys=[self._z(board_id), self._h(board_id), self._ready, self._dirty,
                                                unused, unused], args=[board_id, "0", self._mark()]))

    def load(self, board_id: int, entries: Iterable[tuple[int, int]]) -> None:
        """Replace the board with ``entries``, (key, user id) pairs (entry ids are the keys' low 64 bits).

        Big boards are staged in chunks under temporary names and swapped in with one atomic step, so
        readers never see half a board and the command sizes stay bounded.
        """
        token = secrets.token_hex(8)
        tmp_z, tmp_h = f"{self.base}tmp:{token}:z:{board_id}", f"{self.base}tmp:{token}:h:{board_id}"
        staged = False

        def run() -> None:
            nonlocal staged
            try:
                for chunk in _chunks(entries, LOAD_CHUNK):
                    members = [member(key, user_id) for key, user_id in chunk]
                    pipe = self.client.pipeline(transaction=False)
                    pipe.zadd(tmp_z, dict.fromkeys(members, 0))
                    pipe.hset(tmp_h, mapping={key & ENTRY_ID_MASK: m
                                              for (key, _), m in zip(chunk, members, strict=True)})
                    pipe.pexpire(tmp_z, 10 * LOCK_TTL_MS)  # a crashed loader leaves no garbage for long
                    pipe.pexpire(tmp_h, 10 * LOCK_TTL_MS)
                    pipe.execute()
                    staged = True
                    self.touch_lock()
                self._replace(keys=[self._z(board_id), self._h(board_id), self._ready, self._dirty, tmp_z, tmp_h],
                              args=[board_id, "1" if staged else "0", self._mark()])
            finally:
                if staged:
                    self.client.unlink(tmp_z, tmp_h)  # no-op after the rename; cleans up after a failure

        self._write(run)

    # --- RankIndex: reads (each checks the marker in the same transaction) --------------------------
    def _read(self, command: str, *args: Any) -> Any:
        pipe = self.client.pipeline(transaction=True)
        pipe.exists(self._ready)
        getattr(pipe, command)(*args)
        ready, value = pipe.execute()
        if not ready:
            raise IndexUnavailable("The rank index is being rebuilt. Please retry shortly.")
        return value

    def count(self, board_id: int) -> int:
        return int(self._read("zcard", self._z(board_id)))

    def key_of(self, board_id: int, entry_id: int) -> int | None:
        value = self._read("hget", self._h(board_id), entry_id)
        # A member and the version of its write, or a removed entry's tombstone (shorter than a member).
        return None if value is None or len(value) < MEMBER_BYTES else unpack(value[:KEY_BYTES])

    def position_of(self, board_id: int, key: int) -> int:
        if key <= 0:
            return 0
        if key >= KEY_LIMIT:  # past every possible key, e.g. the key after the last cursor
            return self.count(board_id)
        return int(self._read("zlexcount", self._z(board_id), "-", b"(" + pack(key)))

    def keys_between(self, board_id: int, start: int, stop: int) -> list[int]:
        start, stop = max(start, 0), max(stop, 0)
        if stop <= start:
            return []
        return [unpack(m[:KEY_BYTES]) for m in self._read("zrange", self._z(board_id), start, stop - 1)]

    def page(self, board_id: int, anchor: int | None, offset: int, limit: int, before: bool = False) -> Page:
        keys, args = self._page_call(PageRequest(board_id, anchor, offset, limit, before))
        return _page_of(self._page(keys=keys, args=args))

    def pages(self, wanted: Sequence[PageRequest]) -> list[Page]:
        """Every page's script in one pipeline: one round trip for a trip's reads."""
        pipe = self.client.pipeline(transaction=False)
        for request in wanted:
            keys, args = self._page_call(request)
            self._page(keys=keys, args=args, client=pipe)
        return [_page_of(reply) for reply in pipe.execute()]

    def _page_call(self, request: PageRequest) -> tuple[list[str], list[Any]]:
        board_id, anchor, offset, limit, before = request
        if anchor is None or anchor <= 0:
            how, member = "0", b""
        elif anchor >= KEY_LIMIT:  # past every possible key, e.g. the key after the last cursor
            how, member = "2", b""
        else:
            how, member = "1", b"(" + pack(anchor)
        return [self._z(board_id), self._ready], [how, member, offset, max(limit, 0), "1" if before else "0"]

    # --- lifecycle ----------------------------------------------------------------------------------
    def state(self) -> State:
        """One round trip: ready (marker set), rebuilding (lock held), lost (neither) or down."""
        try:
            if self._suspect:
                self.client.delete(self._ready)
                self._suspect = False
                log.warning("rank index: a write failed half-way; dropping the marker to rebuild")
            ready, lock = self.client.mget(self._ready, self._lock)
        except RedisError:
            return "down"
        if ready is not None:
            return "ready"
        return "rebuilding" if lock is not None else "lost"

    def try_lock(self) -> bool:
        with self._guard:
            if self._lock_token is not None:
                return True
            token = secrets.token_hex(16)
            if self.client.set(self._lock, token, nx=True, px=LOCK_TTL_MS):
                self._lock_token, self._lock_touched = token, time.monotonic()
                self._lock_stop = threading.Event()
                threading.Thread(target=self._keep_lock, args=(token, self._lock_stop), daemon=True,
                                 name="rank-index-lock").start()
                return True
            return False

    def _keep_lock(self, token: str, stop: threading.Event) -> None:
        """While this process holds the rebuild lock, extend it every third of its lifetime. A build's
        long steps, where it cannot touch the lock itself (the database sorting and streaming a board of
        ten million entries), outlasted it: the rebuild failed for a lost lock and the server never became
        ready. A process that dies stops extending, and its lock expires as before."""
        while not stop.wait(LOCK_TTL_MS / 3000):
            if self._lock_token != token:
                return
            try:
                if not self._extend(keys=[self._lock], args=[token, LOCK_TTL_MS]):
                    return  # taken over: touch_lock and the rebuild's last step find out
            except RedisError:
                return  # Redis is down: the build fails by itself

    def touch_lock(self) -> None:
        """Keep the lock through a long build (called between chunks; at most one call a second)."""
        token = self._lock_token
        if token is None or time.monotonic() - self._lock_touched < 1:
            return
        if not self._extend(keys=[self._lock], args=[token, LOCK_TTL_MS]):
            raise IndexUnavailable("The rank index rebuild lost its lock; another process took over")
        self._lock_touched = time.monotonic()

    def release_lock(self) -> None:
        with self._guard:
            token, self._lock_token = self._lock_token, None
            self._lock_stop.set()
        if token is not None:
            try:
                self._release(keys=[self._lock], args=[token])
            except RedisError:
                log.warning("rank index: could not release the rebuild lock; it expires by itself")

    @contextmanager
    def exclusive(self, wait_seconds: float = 60.0) -> Iterator[None]:
        """Hold the rebuild lock (waiting for another holder) and keep the index not-ready meanwhile."""
        if self._lock_token is not None:  # re-entrant: reset() → build_index() in one process
            yield
            return
        deadline = time.monotonic() + wait_seconds
        while not self.try_lock():
            if time.monotonic() > deadline:
                raise IndexUnavailable("Another process is rebuilding the rank index. Please retry shortly.")
            time.sleep(0.05)
        try:
            self.client.delete(self._ready)
            yield
        finally:
            self.release_lock()

    def marker(self) -> str | None:
        """The epoch the index was built from (see keeper.py), or None when it is not ready."""
        value = self.client.get(self._ready)
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    def rebuild(self, build: Callable[[], object], reload_board: Callable[[int], None], epoch: str,
                rounds: int = 20) -> None:
        """With the lock held: empty the namespace, ``build()``, reload boards written meanwhile, then
        set the marker to ``epoch``. ``reload_board(board_id)`` reloads one board from the database."""
        token = self._lock_token
        if token is None:
            raise RuntimeError("rebuild() needs the rebuild lock")
        self._local.rebuilding = True
        try:
            self.client.delete(self._ready)
            self.reset()
            build()
            for _ in range(rounds):
                self.touch_lock()
                done = self._finish(keys=[self._ready, self._lock, self._dirty], args=[token, epoch])
                if done == 1:
                    return
                if done == -1:
                    raise IndexUnavailable("The rank index rebuild lost its lock; another process took over")
                for board in self._take_dirty(keys=[self._dirty]):
                    reload_board(int(board))
        finally:
            self._local.rebuilding = False
        raise IndexUnavailable("The rank index could not settle: boards keep changing during the rebuild")

    def mark_ready(self, epoch: str = "standalone") -> None:
        """Declare the index valid without a build: tests of the index on its own."""
        self.client.set(self._ready, epoch)


def _page_of(reply: Any) -> Page:
    if reply is None:  # the script found no marker
        raise IndexUnavailable("The rank index is being rebuilt. Please retry shortly.")
    total, start, members = reply
    return Page(int(total), int(start), [unpack(m[:KEY_BYTES]) for m in members],
                [unpack(m[KEY_BYTES:]) for m in members])


def _chunks(items: Iterable[tuple[int, int]], size: int) -> Iterator[list[tuple[int, int]]]:
    chunk: list[tuple[int, int]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)
