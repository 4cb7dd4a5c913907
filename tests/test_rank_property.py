"""Stateful property test of the rank index against the database, over real HTTP on a real SQLite file.

Hypothesis drives random sequences of submits (keep-best and forced, ties and int64 extremes), entry
deletes, remove-all, board deletes and re-creates (with either sort order), clock moves and server
restarts, which rebuild the in-memory rank index from the database. After every step the whole board
is read through the API, page by page with small limits, and compared with:

* a plain SQL query on the SQLite file (a separate read-only connection), which is the truth the
  index is derived from: D14 order is ``score DESC|ASC, written_us ASC, id ASC`` and ranks are
  1-based positions in it;
* a Python model of the D15 submit rules, which checks the order the server *should* have produced
  (best score first; among equal scores the entry written earlier), not only that the index agrees
  with the table.

Decisions under test: D13 (int64 scores), D14 (order and ranks), D15 (submit rules), D19 (upsert
returns the same id), D20 (limits, OFFSET, CENTERED_ON_VIEWER), D21 (keyset paging, next/previous,
cursors valid with another limit), D22 (rank reads come from the index, rebuilt at start-up), D36
(the movable clock sets entry timestamps).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from questgraph.server.world import World
from tests.conftest import (
    ADA_ID,
    ADA_TOKEN,
    APP_ID,
    APP_TOKEN,
    GRACE_ID,
    GRACE_TOKEN,
    LINUS_ID,
    LINUS_TOKEN,
    UNENTITLED_ID,
    UNENTITLED_TOKEN,
    WORLD_FILE,
    RunningServer,
    assert_graph_error,
    free_port,
    start_server,
)

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
HIGHER, LOWER = "HIGHER_IS_BETTER", "LOWER_IS_BETTER"
BOARD_NAMES = ("prop_high", "prop_low")  # created HIGHER_IS_BETTER and LOWER_IS_BETTER
APP_AUTH = {"Authorization": f"Bearer {APP_TOKEN}"}
ENTRY_FIELDS = "id,rank,score,timestamp,user{id}"  # what the rank index holds: pages without the rows
ENTRY_FIELDS_FROM_ROWS = "id,rank,score,timestamp,user{id,alias}"  # a profile field: pages from the rows
EXTRA_ALIASES = ("prop_user_1", "prop_user_2", "prop_user_3")
USER_COUNT = 7  # ada, grace, linus, three extra users, and the unentitled user (last)

settings.register_profile(
    "qg-rank-property",
    max_examples=int(os.environ.get("QG_RANK_EXAMPLES", "30")),
    stateful_step_count=int(os.environ.get("QG_RANK_STEPS", "15")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Scores: int64 extremes and their neighbours, a tiny range (many ties), and anything in int64 (D13).
scores = st.one_of(
    st.sampled_from([INT64_MIN, INT64_MIN + 1, -1, 0, 1, INT64_MAX - 1, INT64_MAX]),
    st.integers(-2, 2),
    st.integers(INT64_MIN, INT64_MAX),
)
boards = st.sampled_from(BOARD_NAMES)
users = st.integers(0, USER_COUNT - 1)
picks = st.integers(0, 1000)  # an index into whatever list exists when the rule runs


@dataclass
class ModelEntry:
    score: int
    seq: int  # write order: D14 breaks score ties by the earlier write
    earliest: int  # bounds of the entry's timestamp, from the wall clock and the clock offset (D36)
    latest: int


@dataclass
class ModelBoard:
    sort_order: str
    board_id: str | None = None  # None: the board does not exist (deleted)
    entries: dict[str, ModelEntry] = field(default_factory=dict)

    def better(self, new: int, old: int) -> bool:
        return new > old if self.sort_order == HIGHER else new < old

    def order(self) -> list[tuple[str, int]]:
        """(user id, score) in D14 order."""
        sign = -1 if self.sort_order == HIGHER else 1
        ranked = sorted(self.entries.items(), key=lambda item: (sign * item[1].score, item[1].seq))
        return [(user_id, entry.score) for user_id, entry in ranked]


def sql_rows(db_path: str, board_id: str) -> list[dict[str, Any]]:
    """The board in D14 order, straight from the SQLite file, with ranks computed by SQL."""
    uri = Path(db_path).resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True)
    try:
        (order,) = conn.execute("SELECT sort_order FROM leaderboards WHERE id = ?", (int(board_id),)).fetchone()
        direction = "DESC" if order == HIGHER else "ASC"
        rows = conn.execute(
            f"SELECT id, user_id, score, written_us, ROW_NUMBER() OVER (ORDER BY score {direction}, written_us ASC,"
            f" id ASC) AS rank FROM entries WHERE leaderboard_id = ? ORDER BY score {direction}, written_us ASC,"
            " id ASC",
            (int(board_id),),
        ).fetchall()
        (count,) = conn.execute("SELECT COUNT(*) FROM entries WHERE leaderboard_id = ?", (int(board_id),)).fetchone()
    finally:
        conn.close()
    assert count == len(rows)
    return [{"id": str(r[0]), "user": str(r[1]), "score": r[2], "timestamp": r[3] // 1_000_000, "rank": r[4]}
            for r in rows]


def sql_board(db_path: str, api_name: str) -> tuple[str, str] | None:
    uri = Path(db_path).resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True)
    try:
        row = conn.execute("SELECT id, sort_order FROM leaderboards WHERE app_id = ? AND api_name = ?",
                           (int(APP_ID), api_name)).fetchone()
    finally:
        conn.close()
    return None if row is None else (str(row[0]), str(row[1]))


def api_row(entry: dict[str, Any]) -> dict[str, Any]:
    return {"id": entry["id"], "user": entry["user"]["id"], "score": entry["score"],
            "timestamp": entry["timestamp"], "rank": entry["rank"]}


def with_limit(url: str, limit: int) -> str:
    """A paging URL with another ``limit``: D21 says a cursor stays valid with a different limit."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "limit"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("limit", str(limit))])))


class RankMachine(RuleBasedStateMachine):
    """One server on one SQLite file per example; the model says what the API must show."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="qg-rank-"))
        self.reads = 0  # every other page read asks for a profile field: both ways of building a page
        self.running: RunningServer = start_server(self.tmp)
        self.http = self.running.client()
        self.db_path = self.running.settings.database
        self.seq = 0
        self.clock_offset = 0
        self.checks = 0
        self.user_ids = [ADA_ID, GRACE_ID, LINUS_ID]
        self.tokens = {ADA_ID: ADA_TOKEN, GRACE_ID: GRACE_TOKEN, LINUS_ID: LINUS_TOKEN,
                       UNENTITLED_ID: UNENTITLED_TOKEN}
        with self.running.admin() as admin:
            for alias in EXTRA_ALIASES:
                made = admin.post(f"/_admin/apps/{APP_ID}/users", data={"alias": alias})
                assert made.status_code == 200, made.text
                user_id = made.json()["id"]
                token = admin.post(f"/_admin/users/{user_id}/tokens")
                assert token.status_code == 200, token.text
                self.user_ids.append(user_id)
                self.tokens[user_id] = token.json()["access_token"]
        self.user_ids.append(UNENTITLED_ID)
        assert len(self.user_ids) == USER_COUNT
        self.boards: dict[str, ModelBoard] = {}
        for name, order in zip(BOARD_NAMES, (HIGHER, LOWER), strict=True):
            self.boards[name] = ModelBoard(order)
            self._create(name, order)

    def teardown(self) -> None:
        self.http.close()
        self.running.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- helpers ----------------------------------------------------------------------------------
    def _create(self, name: str, sort_order: str) -> None:
        board = self.boards[name]
        response = self.http.post(f"/{APP_ID}/leaderboards", headers=APP_AUTH,
                                  data={"api_name": name, "sort_order": sort_order})
        assert response.status_code == 200, response.text
        board_id = response.json()["id"]
        if board.board_id is not None:
            assert board_id == board.board_id  # an upsert by api_name keeps its id (D19)
        board.board_id, board.sort_order = board_id, sort_order

    def _rows(self, name: str) -> list[dict[str, Any]]:
        board_id = self.boards[name].board_id
        assert board_id is not None
        return sql_rows(self.db_path, board_id)

    def _entries(self, params: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
        self.reads += 1
        fields = ENTRY_FIELDS_FROM_ROWS if self.reads % 2 else ENTRY_FIELDS
        return self.http.get("/leaderboard_entries", headers=headers or APP_AUTH,
                             params={"fields": fields, "summary": "true", **params})

    def _walk(self, first: httpx.Response, limits: list[int], total: int) -> list[list[dict[str, Any]]]:
        """Pages from ``first`` on, following ``paging.next`` (with the next limit of ``limits``)."""
        pages: list[list[dict[str, Any]]] = []
        response = first
        while True:
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["summary"] == {"total_count": total}
            pages.append([api_row(e) for e in body["data"]])
            assert len(pages) <= total + 1, "paging does not end"
            next_url = body.get("paging", {}).get("next")
            if next_url is None:
                return pages
            assert next_url.startswith(self.running.url + "/leaderboard_entries?")  # absolute URL (D21)
            assert "access_token=" in next_url  # repeats the token (D21)
            response = self.http.get(with_limit(next_url, limits[len(pages) % len(limits)]))

    # --- rules ------------------------------------------------------------------------------------
    @initialize()
    def check_start(self) -> None:
        for name in BOARD_NAMES:
            assert self._rows(name) == []

    @rule(name=boards, who=users, score=scores, force=st.booleans(),
          how=st.sampled_from(["form", "json_number", "json_string", "user_token"]))
    def submit(self, name: str, who: int, score: int, force: bool, how: str) -> None:
        board, user_id = self.boards[name], self.user_ids[who]
        params: dict[str, Any] = {"api_name": name, "score": score, "force_update": force}
        headers = APP_AUTH
        if how == "user_token":
            headers = {"Authorization": f"Bearer {self.tokens[user_id]}"}  # CLIENT_AUTHORITATIVE (D16)
        else:
            params["user_id"] = user_id
        if how == "json_number":
            request: dict[str, Any] = {"json": params}
        elif how == "json_string":
            request = {"json": {**params, "score": str(score)}}
        else:
            request = {"data": {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in params.items()}}
        earliest = int(time.time()) + self.clock_offset - 1
        response = self.http.post("/leaderboard_submit_entry", headers=headers, **request)
        latest = int(time.time()) + self.clock_offset + 1
        if board.board_id is None:
            assert_graph_error(response, 404, 100)
            return
        if user_id == UNENTITLED_ID:
            assert_graph_error(response, 403, 200, "OCApiException")
            return
        assert response.status_code == 200, response.text
        old = board.entries.get(user_id)
        expected = old is None or force or board.better(score, old.score)  # D15
        assert response.json() == {"success": True, "did_update": expected, "updated_challenge_ids": []}
        if expected:
            self.seq += 1
            board.entries[user_id] = ModelEntry(score, self.seq, earliest, latest)

    @rule(name=boards, pick=picks, who=users, force=st.booleans())
    def submit_tie(self, name: str, pick: int, who: int, force: bool) -> None:
        """Submit a score the board already holds: a tie with another entry, or the same score again (D15)."""
        entries = sorted(self.boards[name].entries.items())
        if not entries:
            return
        owner, entry = entries[pick % len(entries)]
        if who % 2 == 0:  # half the time the owner itself: an equal score without force changes nothing
            who = self.user_ids.index(owner)
        self.submit(name, who, entry.score, force, "form")

    @rule(name=boards, batch=st.lists(st.integers(-1, 1), min_size=2, max_size=USER_COUNT - 1), force=st.booleans())
    def submit_batch(self, name: str, batch: list[int], force: bool) -> None:
        """Several users in a row with scores from a tiny range: a board full of ties."""
        for who, score in enumerate(batch):
            self.submit(name, who, score, force, "json_number")

    @rule(name=boards, pick=picks, by=st.sampled_from(["app", "owner", "other_user"]))
    def delete_entry(self, name: str, pick: int, by: str) -> None:
        if self.boards[name].board_id is None:
            return
        rows = sorted(self._rows(name), key=lambda r: r["id"])
        if not rows:
            return
        victim = rows[pick % len(rows)]
        if by == "app":
            headers = APP_AUTH
        else:
            owner = victim["user"]
            other = next(u for u in self.user_ids if u != owner)
            headers = {"Authorization": f"Bearer {self.tokens[owner if by == 'owner' else other]}"}
        response = self.http.delete(f"/{victim['id']}", headers=headers)
        if by == "other_user":  # a user token may delete only its own entry
            assert_graph_error(response, 403, 200)
            return
        assert response.status_code == 200, response.text
        assert response.json() == {"success": True}
        del self.boards[name].entries[victim["user"]]
        assert_graph_error(self.http.delete(f"/{victim['id']}", headers=APP_AUTH), 404, 100)
        assert_graph_error(self.http.get(f"/{victim['id']}", headers=APP_AUTH), 404, 100)

    @rule(name=boards)
    def remove_all_entries(self, name: str) -> None:
        response = self.http.post("/leaderboard_remove_all_entries", headers=APP_AUTH, data={"api_name": name})
        if self.boards[name].board_id is None:
            assert_graph_error(response, 404, 100)
            return
        assert response.status_code == 200, response.text
        assert response.json() == {"success": True}
        self.boards[name].entries.clear()

    @rule(name=boards)
    def delete_board(self, name: str) -> None:
        board = self.boards[name]
        if board.board_id is None:
            return
        old_entries = sorted(r["id"] for r in self._rows(name))
        response = self.http.delete(f"/{board.board_id}", headers=APP_AUTH)
        assert response.status_code == 200, response.text
        assert response.json() == {"success": True}
        assert_graph_error(self.http.get(f"/{board.board_id}", headers=APP_AUTH), 404, 100)
        if old_entries:  # its entries went with it
            assert_graph_error(self.http.get(f"/{old_entries[0]}", headers=APP_AUTH), 404, 100)
        board.board_id = None
        board.entries.clear()

    @rule(name=boards, sort_order=st.sampled_from([HIGHER, LOWER]))
    def create_or_update_board(self, name: str, sort_order: str) -> None:
        """Re-create a deleted board, or upsert a live one (same id, D19), possibly flipping its order."""
        self._create(name, sort_order)

    @rule(seconds=st.one_of(st.sampled_from([0, 1, 3600, 400 * 86400]), st.integers(0, 10**6)))
    def advance_clock(self, seconds: int) -> None:
        with self.running.admin() as admin:
            response = admin.post("/_admin/clock", data={"advance_seconds": str(seconds)})
        assert response.status_code == 200, response.text
        self.clock_offset += seconds
        assert abs(response.json()["offset_seconds"] - self.clock_offset) < 1

    @rule(same_port=st.booleans())
    def restart(self, same_port: bool) -> None:
        """Stop the server and start a new one on the same file: the rank index is rebuilt from it (D22)."""
        self.http.close()
        self.running.stop()
        port = self.running.settings.port if same_port else free_port()
        self.running = RunningServer(replace(self.running.settings, port=port), World.load(WORLD_FILE)).start()
        self.http = self.running.client()

    @rule(name=boards, limits=st.lists(st.sampled_from([1, 2, 3, 100]), min_size=1, max_size=4))
    def page_forward_and_back(self, name: str, limits: list[int]) -> None:
        """Forward with a changing limit per page, then back from the last page via paging.previous (D21)."""
        if self.boards[name].board_id is None:
            return
        rows = self._rows(name)
        pages = self._walk(self._entries({"api_name": name, "limit": limits[0]}), limits, len(rows))
        assert [r for page in pages for r in page] == rows
        back: list[list[dict[str, Any]]] = []
        body = self._entries({"api_name": name, "start_at": "OFFSET", "offset": max(len(rows) - 2, 0),
                              "limit": 2}).json()
        while True:
            back.insert(0, [api_row(e) for e in body["data"]])
            assert len(back) <= len(rows) + 1, "previous paging does not end"
            previous = body.get("paging", {}).get("previous")
            if previous is None:
                break
            body = self.http.get(with_limit(previous, limits[len(back) % len(limits)])).json()
        assert [r for page in back for r in page] == rows

    @rule(name=boards, offset=st.integers(0, 8), limit=st.integers(1, 4))
    def read_offset(self, name: str, offset: int, limit: int) -> None:
        if self.boards[name].board_id is None:
            return
        rows = self._rows(name)
        response = self._entries({"api_name": name, "start_at": "OFFSET", "offset": offset, "limit": limit})
        assert response.status_code == 200, response.text
        assert [api_row(e) for e in response.json()["data"]] == rows[offset:offset + limit]

    @rule(name=boards, who=users, limit=st.integers(1, 5))
    def read_centered(self, name: str, who: int, limit: int) -> None:
        """CENTERED_ON_VIEWER puts floor((limit-1)/2) entries above the viewer where they exist (D20)."""
        if self.boards[name].board_id is None:
            return
        user_id = self.user_ids[who]
        rows = self._rows(name)
        response = self._entries({"api_name": name, "start_at": "CENTERED_ON_VIEWER", "limit": limit},
                                 headers={"Authorization": f"Bearer {self.tokens[user_id]}"})
        mine = [n for n, r in enumerate(rows) if r["user"] == user_id]
        if user_id == UNENTITLED_ID or not mine:
            if user_id != UNENTITLED_ID:
                assert_graph_error(response, 404, 12074)
            return
        assert response.status_code == 200, response.text
        start = max(mine[0] - (limit - 1) // 2, 0)
        assert [api_row(e) for e in response.json()["data"]] == rows[start:start + limit]

    @rule(name=boards, pick=picks)
    def read_one_entry(self, name: str, pick: int) -> None:
        if self.boards[name].board_id is None:
            return
        rows = self._rows(name)
        if not rows:
            return
        row = rows[pick % len(rows)]
        response = self.http.get(f"/{row['id']}", headers=APP_AUTH, params={"fields": ENTRY_FIELDS})
        assert response.status_code == 200, response.text
        assert api_row(response.json()) == row

    # --- the invariant ----------------------------------------------------------------------------
    @invariant()
    def api_matches_sql_and_model(self) -> None:
        self.checks += 1
        limit = 2 + self.checks % 2  # 2 or 3: paging is exercised on every check
        for name, board in self.boards.items():
            in_db = sql_board(self.db_path, name)
            if board.board_id is None:
                assert in_db is None
                assert_graph_error(self._entries({"api_name": name}), 404, 100)
                continue
            assert in_db == (board.board_id, board.sort_order)
            rows = self._rows(name)
            # The database holds what the D15 rules say, in the D14 order the model predicts.
            assert [(r["user"], r["score"]) for r in rows] == board.order()
            for r in rows:
                expected = board.entries[r["user"]]
                assert expected.earliest <= r["timestamp"] <= expected.latest  # D36
            # The API pages through every entry exactly once, in that order, with SQL's ranks.
            pages = self._walk(self._entries({"api_name": name, "limit": limit}), [limit], len(rows))
            got = [r for page in pages for r in page]
            assert got == rows
            assert [r["rank"] for r in got] == list(range(1, len(rows) + 1))
            assert len({r["id"] for r in got}) == len(got)
            assert all(len(page) == limit for page in pages[:-1])
            listed = self.http.get(f"/{APP_ID}/leaderboards", headers=APP_AUTH,
                                   params={"api_name": name, "fields": "id,sort_order,entry_count"})
            assert listed.status_code == 200, listed.text
            assert listed.json()["data"] == [
                {"id": board.board_id, "sort_order": board.sort_order, "entry_count": len(rows)}
            ]


TestRankProperty = RankMachine.TestCase
TestRankProperty.settings = settings.get_profile("qg-rank-property")
