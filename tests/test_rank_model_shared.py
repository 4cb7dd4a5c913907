"""Random-operation model test of leaderboard ranks on PostgreSQL + Redis: two processes, several lanes each.

tests/test_rank_property.py checks ranks on one SQLite process; here the deployment of tests/test_races.py
(two ``questgraph serve`` processes sharing one PostgreSQL schema and one Redis rank index, ``--domain-lanes
4`` each) takes seeded random bursts: 16-32 requests released at once by one barrier, alternating between
the processes, so that trips form and the set-based paths run (``submit_set``, ``entries_set``: a trip's
submits and page reads in one statement each). A write burst mixes keep-best and forced submits (ties
included), entry deletes and reads; a read burst is reads only. After each write burst the state is checked:

* the database, by SQL on the schema, in D14 order (``score DESC|ASC, written_us ASC, id ASC``; ranks are
  1-based positions), against a Python model of D15 (keep-best unless ``force_update``; an equal score
  is not better), whose order is (score, burst): ties inside one burst may fall either way, ties across
  bursts go to the earlier write;
* the API, from both processes, against that SQL: whole-board paging with small limits (every entry once,
  in order, SQL's ranks, ``next`` then ``previous`` links, D20/D21), OFFSET, CENTERED_ON_VIEWER (404 code
  12074 without an entry), CENTERED_ON_VIEWER_OR_TOP (TOP without an entry), FRIENDS and USER_IDS (the
  filtered set, the viewer always in it; ranks are positions within the filtered set, D14/D20), and the
  shared index's entry count (D22).

Every read of a read burst must equal the same read made alone afterwards (no write in between) and the
SQL truth; a read inside a write burst must be a consistent page (ranks contiguous, D14 order) or a
transient 503 (D22: a page that keeps racing a write). At the end, both processes must have answered
calls in sets (their metrics), or the set paths were not tested.

Mutations this test caught (each applied alone in a scratch tree, then reverted):
* entries_set builds rows with rank one too high (set path only): caught (burst read != lone read).
* submit_set drops the index actions (Redis misses the set's writes): caught (paging != SQL).
* FRIENDS without the viewer added to its user-id set: caught (FRIENDS rows != expected).
* _bounds centres on floor(limit/2) above the viewer instead of floor((limit-1)/2): caught (CENTERED).
* submit_entries (set path) lets an equal keep-best score replace the entry: caught in 1 of 2 runs (only
  when a racing submit read the entry before another's commit: the service checks "better" first).
"""

from __future__ import annotations

import dataclasses
import os
import random
import re
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.conftest import ADA_ID, ADA_TOKEN, APP_ID, APP_TOKEN, GRACE_ID, GRACE_TOKEN, LINUS_ID, LINUS_TOKEN
from tests.lb_support import bearer, make_users
from tests.test_races import Deployment, Send, deployment  # noqa: F401 (deployment: a fixture)

pytestmark = pytest.mark.postgres_only

SEED = int(os.environ.get("QG_RANK_MODEL_SEED", "1414"))
ROUNDS = int(os.environ.get("QG_RANK_MODEL_ROUNDS", "6"))
HIGHER, LOWER = "HIGHER_IS_BETTER", "LOWER_IS_BETTER"
BOARDS = {"model_high": HIGHER, "model_low": LOWER}
FIELDS = "id,rank,score,timestamp,user{id}"  # what the shared index holds: answered without the rows
FIELDS_FROM_ROWS = "id,rank,score,timestamp,user{id,alias}"  # a profile field: the entries' rows are read
EXTRA_USERS = 9  # besides ada, grace and linus of tests/world.toml: 12 users in all
# Friendships by user index (mutual, D10). ada (0) and grace (1) are friends in tests/world.toml already;
# 10 and 11 have none, so their FRIENDS read is the viewer alone.
FRIEND_PAIRS = ((0, 2), (1, 3), (4, 5), (5, 6), (6, 4), (7, 0), (8, 9), (3, 9))
Row = tuple[str, str, int, int, int]  # entry id, user id, score, timestamp, rank


# --- the model and the truth --------------------------------------------------------------------------
@dataclass
class ModelEntry:
    score: int
    burst: int  # D14: the earlier write ranks higher among equal scores; inside one burst, either way


@dataclass
class World:
    users: list[str]
    tokens: dict[str, str]
    friends: dict[str, set[str]]
    model: dict[str, dict[str, ModelEntry]] = field(default_factory=lambda: {name: {} for name in BOARDS})
    burst: int = 0


def better(order: str, new: int, old: int) -> bool:
    return new > old if order == HIGHER else new < old


def sql_rows(cluster: Deployment, name: str) -> list[Row]:
    """The board in D14 order straight from the schema, with SQL's ranks: the truth the index follows."""
    direction = "DESC" if BOARDS[name] == HIGHER else "ASC"
    order = f"e.score {direction}, e.written_us ASC, e.id ASC"
    rows = cluster.sql(
        f"SELECT e.id, e.user_id, e.score, e.written_us, ROW_NUMBER() OVER (ORDER BY {order}) FROM entries e "
        f"JOIN leaderboards b ON b.id = e.leaderboard_id WHERE b.app_id = %s AND b.api_name = %s ORDER BY {order}",
        int(APP_ID), name)
    return [(str(i), str(u), int(s), int(w) // 1_000_000, int(r)) for i, u, s, w, r in rows]


def check_model(world: World, name: str, rows: list[Row]) -> None:
    """The database holds what D15 says, in an order D14 allows."""
    model = world.model[name]
    assert {(r[1], r[2]) for r in rows} == {(u, e.score) for u, e in model.items()}, name
    assert len(rows) == len(model)  # one entry per user
    sign = -1 if BOARDS[name] == HIGHER else 1
    keys = [(sign * model[r[1]].score, model[r[1]].burst) for r in rows]
    assert keys == sorted(keys), (name, rows)
    assert [r[4] for r in rows] == list(range(1, len(rows) + 1))


# --- reads and what they must answer ------------------------------------------------------------------
@dataclass(frozen=True)
class Read:
    board: str
    viewer: str | None  # a user token's user; None: the app token
    filter: str = "NONE"
    user_ids: tuple[str, ...] = ()
    start_at: str = "TOP"
    offset: int = 0
    limit: int = 3
    follow: str | None = None  # "next" / "previous": the link of this read's answer is what is read
    from_rows: bool = False  # asks for a field the index lacks, so the page is built from the rows

    def params(self) -> dict[str, str]:
        params = {"api_name": self.board, "fields": FIELDS_FROM_ROWS if self.from_rows else FIELDS,
                  "summary": "true", "limit": str(self.limit),
                  "start_at": self.start_at, "filter": self.filter}
        if self.start_at == "OFFSET":
            params["offset"] = str(self.offset)
        if self.filter == "USER_IDS":
            params["user_ids"] = ",".join(self.user_ids)
        return params

    def base(self) -> Read:
        return Read(self.board, self.viewer, self.filter, self.user_ids, self.start_at, self.offset, self.limit,
                    from_rows=self.from_rows)


@dataclass(frozen=True)
class Expected:
    status: int
    rows: list[Row] = field(default_factory=list)
    total: int = 0
    has_previous: bool = False
    has_next: bool = False
    start: int = 0


def expected(world: World, read: Read, board_rows: list[Row]) -> Expected:
    """What ``read`` must answer on ``board_rows`` (SQL's D14 order), by D14 and D20."""
    if read.filter == "NONE":
        chosen = board_rows
    else:
        wanted = set(read.user_ids) if read.filter == "USER_IDS" else set(world.friends[read.viewer or ""])
        if read.viewer is not None:
            wanted.add(read.viewer)  # the viewer is always part of a filtered read (D20)
        # Ranks under a filter are positions within the filtered set (D14).
        chosen = [(i, u, s, t, n) for n, (i, u, s, t, _) in
                  enumerate((r for r in board_rows if r[1] in wanted), start=1)]
    mine = [n for n, r in enumerate(chosen) if r[1] == read.viewer]
    if read.start_at == "OFFSET":
        start = read.offset
    elif read.start_at.startswith("CENTERED") and mine:
        start = max(mine[0] - (read.limit - 1) // 2, 0)  # D20
    elif read.start_at == "CENTERED_ON_VIEWER":
        return Expected(404)
    else:
        start = 0
    stop = start + read.limit
    if read.follow == "next":
        start, stop = min(stop, len(chosen)), stop + read.limit
    elif read.follow == "previous":
        start, stop = max(start - read.limit, 0), start  # the page that ends just before this one (D21)
    page = chosen[start:stop]
    # An empty page has no rank to tell its start by (``answer_of``): 0, as there.
    return Expected(200, page, len(chosen), start > 0 and bool(page), start + len(page) < len(chosen),
                    start if page else 0)


def answer_of(response: httpx.Response) -> Expected:
    """A response in the shape of ``Expected`` (the error code checked here)."""
    if response.status_code != 200:
        error = response.json()["error"]
        if response.status_code == 404:
            assert (error["code"], error["type"]) == (12074, "GraphMethodException"), error  # not ranked (D20)
        return Expected(response.status_code)
    body = response.json()
    rows = [(e["id"], e["user"]["id"], e["score"], e["timestamp"], e["rank"]) for e in body["data"]]
    paging = body.get("paging", {})
    assert ("cursors" in paging) == bool(rows), body  # D21: cursors whenever the page has rows
    start = rows[0][4] - 1 if rows else 0
    return Expected(200, rows, body["summary"]["total_count"], "previous" in paging, "next" in paging, start)


def send_read(world: World, read: Read, url: str | None = None) -> Send:
    """The read as a send; a ``follow`` read fetches ``url`` (the link, token inside, D21) as a client does."""
    headers = bearer(world.tokens[read.viewer] if read.viewer else APP_TOKEN)
    if url is not None:
        return lambda client: client.get(url)
    return lambda client: client.get("/leaderboard_entries", headers=headers, params=read.params())


def link_of(cluster: Deployment, process: int, world: World, read: Read) -> str | None:
    """The ``follow`` link of the read's base page on ``process``, read alone."""
    assert read.follow is not None
    with cluster.client(process) as client:
        response = send_read(world, read.base())(client)
    if response.status_code != 200:
        return None
    url: str | None = response.json().get("paging", {}).get(read.follow)
    if url is not None:
        assert url.startswith(cluster.processes[process].url + "/leaderboard_entries?"), url  # absolute (D21)
        assert url.count("access_token=") == 1, url
    return url


def random_read(rng: random.Random, world: World) -> Read:
    """A random read, half of them with a field that needs the entries' rows (both ways of building a page)."""
    return dataclasses.replace(_random_read(rng, world), from_rows=rng.random() < 0.5)


def _random_read(rng: random.Random, world: World) -> Read:
    board = rng.choice(list(BOARDS))
    viewer = rng.choice(world.users)
    limit = rng.randint(1, 5)
    kind = rng.choice(["top", "offset", "centered", "or_top", "friends", "friends_or_top", "user_ids",
                       "user_ids_app", "next", "previous"])
    if kind == "top":
        return Read(board, rng.choice([None, viewer]), limit=limit)
    if kind == "offset":
        return Read(board, None, start_at="OFFSET", offset=rng.randint(0, 12), limit=limit)
    if kind == "centered":
        return Read(board, viewer, start_at="CENTERED_ON_VIEWER", limit=limit)
    if kind == "or_top":
        return Read(board, viewer, start_at="CENTERED_ON_VIEWER_OR_TOP", limit=limit)
    if kind == "friends":
        return Read(board, viewer, filter="FRIENDS", limit=limit)
    if kind == "friends_or_top":
        return Read(board, viewer, filter="FRIENDS", start_at="CENTERED_ON_VIEWER_OR_TOP", limit=limit)
    listed = tuple(rng.sample(world.users, rng.randint(1, 5)))
    if kind == "user_ids":
        return Read(board, viewer, filter="USER_IDS", user_ids=listed, limit=limit)
    if kind == "user_ids_app":  # an app token has no viewer to add (D20)
        return Read(board, None, filter="USER_IDS", user_ids=listed, limit=limit)
    # A page's link: OFFSET pages (next) or pages around a viewer (previous) as a base.
    if kind == "next":
        return Read(board, None, start_at="OFFSET", offset=rng.randint(0, 6), limit=limit, follow="next")
    return Read(board, viewer, start_at="CENTERED_ON_VIEWER_OR_TOP", limit=limit, follow="previous")


def consistent_page(response: httpx.Response, read: Read) -> None:
    """A read raced by writes: a 503 that says retry (D22), or a page in D14 order with contiguous ranks."""
    if response.status_code == 503:
        assert response.json()["error"]["is_transient"] is True, response.text
        return
    got = answer_of(response)
    if got.status != 200:
        return
    sign = -1 if BOARDS[read.board] == HIGHER else 1
    scores = [sign * r[2] for r in got.rows]
    assert scores == sorted(scores), response.text
    assert [r[4] for r in got.rows] == list(range(got.start + 1, got.start + 1 + len(got.rows))), response.text
    assert len(got.rows) <= read.limit


# --- whole-board checks -------------------------------------------------------------------------------
def walk(client: httpx.Client, world: World, name: str, limit: int, rows: list[Row], from_rows: bool) -> None:
    """Every entry once, in SQL's order with SQL's ranks, following ``next``; then back by ``previous``."""
    response = send_read(world, Read(name, None, limit=limit, from_rows=from_rows))(client)
    pages: list[Expected] = []
    bodies: list[dict[str, Any]] = []
    while True:
        assert response.status_code == 200, response.text
        pages.append(answer_of(response))
        bodies.append(response.json())
        assert pages[-1].total == len(rows)
        assert len(pages) <= len(rows) + 1, "paging does not end"
        url = bodies[-1].get("paging", {}).get("next")
        if url is None:
            break
        response = client.get(url)
    assert [r for page in pages for r in page.rows] == rows
    assert all(len(page.rows) == limit for page in pages[:-1])
    assert not pages[0].has_previous  # D21: no previous on the first page
    back = [pages[-1].rows]
    body = bodies[-1]
    while (url := body.get("paging", {}).get("previous")) is not None:
        previous = client.get(url)
        assert previous.status_code == 200, previous.text
        body = previous.json()
        back.insert(0, answer_of(previous).rows)
        assert len(back) <= len(rows) + 1, "previous paging does not end"
    assert [r for page in back for r in page] == rows


def check_api(cluster: Deployment, world: World, rng: random.Random, truth: dict[str, list[Row]]) -> None:
    """Each process serves SQL's order and ranks: paging, and every kind of read for chosen viewers; the
    first with pages from the index alone, the second with pages built from the entries' rows."""
    with_entry = {name: [r[1] for r in rows] for name, rows in truth.items()}
    for process in (0, 1):
        with cluster.client(process) as client:
            listed = client.get(f"/{APP_ID}/leaderboards", headers=bearer(APP_TOKEN),
                                params={"fields": "api_name,entry_count"})
            assert listed.status_code == 200, listed.text
            counts = {b["api_name"]: b["entry_count"] for b in listed.json()["data"] if b["api_name"] in BOARDS}
            assert counts == {name: len(rows) for name, rows in truth.items()}  # the index's count (D22)
            for name, rows in truth.items():
                walk(client, world, name, rng.choice([1, 2, 3]), rows, from_rows=process == 1)
                ranked = with_entry[name]
                unranked = [u for u in world.users if u not in ranked]
                viewers = rng.sample(ranked, min(2, len(ranked))) + rng.sample(unranked, min(1, len(unranked)))
                for viewer in viewers:
                    limit = rng.randint(1, 5)
                    listed_ids = tuple(rng.sample(world.users, 4))
                    for read in (Read(name, viewer, start_at="CENTERED_ON_VIEWER", limit=limit),
                                 Read(name, viewer, start_at="CENTERED_ON_VIEWER_OR_TOP", limit=limit),
                                 Read(name, viewer, filter="FRIENDS", limit=12),
                                 Read(name, viewer, filter="FRIENDS", start_at="CENTERED_ON_VIEWER_OR_TOP",
                                      limit=limit),
                                 Read(name, viewer, filter="USER_IDS", user_ids=listed_ids, limit=12),
                                 Read(name, None, filter="USER_IDS", user_ids=listed_ids, limit=12),
                                 Read(name, None, start_at="OFFSET", offset=rng.randint(0, 12), limit=limit)):
                        read = dataclasses.replace(read, from_rows=process == 1)
                        assert answer_of(send_read(world, read)(client)) == expected(world, read, rows), \
                            (process, read)


# --- bursts -------------------------------------------------------------------------------------------
@dataclass
class Write:
    """One write of a burst and how to judge its answer once the burst is over."""

    send: Send
    board: str
    user: str
    kind: str  # "best", "force" or "delete"
    score: int = 0


def deleting(entry_id: str, headers: dict[str, str]) -> Send:
    return lambda client: client.delete(f"/{entry_id}", headers=headers)


def submitting(data: dict[str, str], token: str) -> Send:
    return lambda client: client.post("/leaderboard_submit_entry", headers=bearer(token), data=data)


def plan_writes(rng: random.Random, world: World, truth: dict[str, list[Row]]) -> list[Write]:
    """Each chosen (board, user) gets keep-best submits (1-3), one forced submit, or one delete: the end
    state of the burst then does not depend on the order the racing requests land in."""
    writes: list[Write] = []
    for name in BOARDS:
        held = {r[1]: r for r in truth[name]}
        held_scores = [r[2] for r in truth[name]] or [0]
        for user in rng.sample(world.users, rng.randint(5, 9)):
            kind = rng.choice(["best", "best", "force", "delete"] if user in held else ["best", "force"])
            if kind == "delete":
                entry_id = held[user][0]
                by_owner = rng.random() < 0.5  # a user token may delete its own entry (D16)
                headers = bearer(world.tokens[user] if by_owner else APP_TOKEN)
                writes.append(Write(deleting(entry_id, headers), name, user, kind))
                continue
            for _ in range(rng.randint(1, 3) if kind == "best" else 1):
                # A tiny range and the scores already held: many ties, within and across bursts.
                score = rng.choice([rng.randint(-3, 3), rng.choice(held_scores)])
                data = {"api_name": name, "score": str(score), "force_update": str(kind == "force").lower()}
                if rng.random() < 0.5:
                    token = APP_TOKEN
                    data["user_id"] = user
                else:
                    token = world.tokens[user]  # CLIENT_AUTHORITATIVE: the user writes itself (D16)
                writes.append(Write(submitting(data, token), name, user, kind, score))
    return writes


def apply_writes(world: World, writes: list[Write], answers: list[httpx.Response]) -> None:
    """Judge each answer by D15 and move the model to the burst's end state."""
    world.burst += 1
    by_key: dict[tuple[str, str], list[tuple[Write, httpx.Response]]] = {}
    for write, response in zip(writes, answers, strict=True):
        assert response.status_code == 200, response.text
        by_key.setdefault((write.board, write.user), []).append((write, response))
    for (name, user), done in by_key.items():
        model, order = world.model[name], BOARDS[name]
        kind = done[0][0].kind
        if kind == "delete":
            assert done[0][1].json() == {"success": True}
            del model[user]
            continue
        bodies = [r.json() for _, r in done]
        for body in bodies:
            assert set(body) == {"success", "did_update", "updated_challenge_ids"}, body
            assert body["success"] is True and body["updated_challenge_ids"] == []
        scores = [w.score for w, _ in done]
        updated = [s for s, b in zip(scores, bodies, strict=True) if b["did_update"]]
        if kind == "force":  # always replaced, write time included (D14, D15)
            assert updated == scores
            model[user] = ModelEntry(scores[0], world.burst)
            continue
        old = model.get(user)
        best = scores[0]
        for score in scores[1:]:
            if better(order, score, best):
                best = score
        # Keep-best racing itself: each update was strictly better than the entry it replaced, so better
        # than the old entry; the best score lands exactly once (an equal one is not better), unless the
        # old entry was already at least as good (then nothing changes, timestamp included).
        if old is not None and not better(order, best, old.score):
            assert updated == [], (scores, old)
            continue
        assert all(old is None or better(order, s, old.score) for s in updated), (scores, updated, old)
        assert updated.count(best) == 1, (scores, updated, old)
        model[user] = ModelEntry(best, world.burst)


def race_reads(cluster: Deployment, world: World, reads: list[Read]) -> tuple[list[Send], list[Read]]:
    """Sends for ``reads`` (read n goes to process n % 2, as ``Deployment.race`` sends it); a ``follow``
    read whose base page has no such link becomes its base read."""
    sends: list[Send] = []
    kept: list[Read] = []
    for n, read in enumerate(reads):
        url = link_of(cluster, n % 2, world, read) if read.follow else None
        if read.follow and url is None:
            read = read.base()
        sends.append(send_read(world, read, url))
        kept.append(read)
    return sends, kept


def without_trace(response: httpx.Response) -> Any:
    """The body, less an error's fbtrace_id (every answer has its own)."""
    body = response.json()
    if "error" in body:
        body["error"].pop("fbtrace_id", None)
    return body


def set_calls(cluster: Deployment) -> float:
    """Calls the processes answered in set-based statements, by their metrics."""
    total = 0.0
    for process in cluster.processes:
        text = httpx.get(f"{process.url}/metrics", timeout=30).text
        found = re.search(r"^questgraph_domain_set_calls_total (\S+)$", text, re.MULTILINE)
        total += float(found.group(1)) if found else 0.0
    return total


# --- the test -----------------------------------------------------------------------------------------
def make_world(cluster: Deployment) -> World:
    """12 users with tokens, the friendships of FRIEND_PAIRS and the two boards, made through process 0."""
    with cluster.admin() as admin:
        extra = make_users(admin, EXTRA_USERS, prefix="model")
        tokens = {ADA_ID: ADA_TOKEN, GRACE_ID: GRACE_TOKEN, LINUS_ID: LINUS_TOKEN}
        for user in extra:
            minted = admin.post(f"/_admin/users/{user}/tokens")
            assert minted.status_code == 200, minted.text
            tokens[user] = minted.json()["access_token"]
        users = [ADA_ID, GRACE_ID, LINUS_ID, *extra]
        friends: dict[str, set[str]] = {u: set() for u in users}
        for a, b in ((0, 1), *FRIEND_PAIRS):
            friends[users[a]].add(users[b])
            friends[users[b]].add(users[a])
        for a, b in FRIEND_PAIRS:
            made = admin.post(f"/_admin/users/{users[a]}/friends", data={"friend_id": users[b]})
            assert made.status_code == 200, made.text
    with cluster.client(1) as client:  # the other process creates the boards
        for name, order in BOARDS.items():
            response = client.post(f"/{APP_ID}/leaderboards", headers=bearer(APP_TOKEN),
                                   data={"api_name": name, "sort_order": order})
            assert response.status_code == 200, response.text
    return World(users, tokens, friends)


def test_ranks_stay_exact_across_processes_lanes_and_sets(deployment: Deployment) -> None:  # noqa: F811
    rng = random.Random(SEED)
    world = make_world(deployment)
    truth = {name: sql_rows(deployment, name) for name in BOARDS}
    assert truth == {name: [] for name in BOARDS}
    sets_before = set_calls(deployment)
    for round_ in range(ROUNDS):
        # A write burst: writes and reads at once; the reads can only be judged for consistency.
        writes = plan_writes(rng, world, truth)
        reads = [random_read(rng, world) for _ in range(rng.randint(4, 8))]
        read_sends, reads = race_reads(deployment, world, reads)
        sends: list[tuple[Send, Read | None]] = [(w.send, None) for w in writes]
        sends += list(zip(read_sends, reads, strict=True))
        rng.shuffle(sends)  # writes and reads interleaved over both processes
        answers = deployment.race([send for send, _ in sends])
        by_send: dict[int, httpx.Response] = {}
        for (send, read), response in zip(sends, answers, strict=True):
            by_send[id(send)] = response
            if read is not None:
                consistent_page(response, read)
        apply_writes(world, writes, [by_send[id(w.send)] for w in writes])
        # The truth: SQL against the model, then every process's API against SQL.
        truth = {name: sql_rows(deployment, name) for name in BOARDS}
        for name, rows in truth.items():
            check_model(world, name, rows)
        check_api(deployment, world, rng, truth)
        # A read burst: each racing read equals SQL's answer and the same read made alone afterwards.
        reads = [random_read(rng, world) for _ in range(rng.randint(16, 32))]
        read_sends, reads = race_reads(deployment, world, reads)
        raced = deployment.race(read_sends)
        for n, (read, send, response) in enumerate(zip(reads, read_sends, raced, strict=True)):
            with deployment.client(n % 2) as client:
                alone = send(client)
            assert (response.status_code, without_trace(response)) == (alone.status_code, without_trace(alone)), \
                (round_, read)
            assert answer_of(response) == expected(world, read, truth[read.board]), (round_, n % 2, read)
    # The bursts were answered in sets too, or the set paths went untested.
    assert set_calls(deployment) > sets_before
