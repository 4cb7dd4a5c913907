"""The stores' bulk loaders (used by bench/centered_read.py): rows they write are whole objects
(D9 object ids, users the API can read, entitled when asked), a server started on the file ranks them
in D14 order from its start-up index build (D22), and a conflict rolls the whole load back."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from questgraph.server.db import ObjectIds
from questgraph.server.db.sqlite import SqliteDatabase
from questgraph.server.identity.store import IdentityStore
from questgraph.server.leaderboards.records import Entry
from questgraph.server.leaderboards.store import LeaderboardStore
from tests.conftest import ADMIN_KEY, APP_ID, APP_TOKEN, RunningServer, start_server

pytestmark = pytest.mark.sqlite_only  # the bulk loaders are tested on SqliteDatabase and its file

USER_BASE, ENTRY_BASE = 30_000_000_000_000_000, 40_000_000_000_000_000
COUNT = 120  # more than one page, so paging and the index are both exercised


def test_bulk_loaded_board_is_ranked_and_paged_by_a_started_server(tmp_path: Path) -> None:
    """D9, D14, D21, D22: a board written by the bulk loaders is served exactly like one built by submits."""
    # A first server applies the test world to the file, then stops: the bulk load goes in between.
    first = start_server(tmp_path)
    with first.client() as client:
        made = client.post(f"/{APP_ID}/leaderboards", headers={"Authorization": f"Bearer {APP_TOKEN}"},
                           data={"api_name": "bulk", "sort_order": "LOWER_IS_BETTER"})
        assert made.status_code == 200, made.text
        board_id = int(made.json()["id"])
    first.stop()

    db = SqliteDatabase(first.settings.database)
    identity, boards, ids = IdentityStore(db), LeaderboardStore(db), ObjectIds(db)
    try:
        users = [(USER_BASE + n, f"bulk_{n}") for n in range(COUNT)]
        assert identity.bulk_insert_users(int(APP_ID), iter(users), granted_at=1_700_000_000) == COUNT
        # Scores with ties (n % 7) and write times that reverse the id order inside a tie: D14 breaks a tie
        # by the earlier write, not by the id.
        entries = [Entry(ENTRY_BASE + n, board_id, USER_BASE + n, n % 7, b"", 1_700_000_000_000_000 - n)
                   for n in range(COUNT)]
        assert boards.bulk_insert_entries(iter(entries)) == COUNT
        assert ids.object_kind(USER_BASE) == "user" and ids.object_kind(ENTRY_BASE) == "entry"
        assert identity.is_entitled(USER_BASE + 5, int(APP_ID))
        user = identity.get_user(USER_BASE + 3)
        assert user is not None and (user.app_id, user.alias, user.age_category) == (int(APP_ID), "bulk_3", "AD")
    finally:
        db.close()

    server = RunningServer(first.settings, first.world).start()
    try:
        expected = sorted(entries, key=lambda e: (e.score, e.written_us, e.id))
        got: list[tuple[str, int, int, str]] = []
        with server.client() as client:
            response = client.get("/leaderboard_entries", headers={"Authorization": f"Bearer {APP_TOKEN}"}, params={
                "api_name": "bulk", "limit": 50, "summary": "true", "fields": "id,rank,score,user{id,alias}"})
            while True:
                assert response.status_code == 200, response.text
                body = response.json()
                assert body["summary"] == {"total_count": COUNT}
                got += [(e["id"], e["rank"], e["score"], e["user"]["alias"]) for e in body["data"]]
                if "next" not in body.get("paging", {}):
                    break
                response = client.get(body["paging"]["next"])
            # The bulk-loaded user can be given a token and read its own centred page.
            token = client.post(f"/_admin/users/{USER_BASE + 60}/tokens",
                                headers={"Authorization": f"Bearer {ADMIN_KEY}"}).json()["access_token"]
            centred = client.get("/leaderboard_entries", headers={"Authorization": f"Bearer {token}"},
                                 params={"api_name": "bulk", "start_at": "CENTERED_ON_VIEWER", "limit": 3,
                                         "fields": "rank,user{id}"})
        assert got == [(str(e.id), rank, e.score, f"bulk_{e.user_id - USER_BASE}")
                       for rank, e in enumerate(expected, start=1)]
        position = next(n for n, e in enumerate(expected) if e.user_id == USER_BASE + 60)
        assert [e["user"]["id"] for e in centred.json()["data"]] == [
            str(e.user_id) for e in expected[position - 1:position + 2]]
    finally:
        server.stop()


def test_a_conflicting_bulk_load_changes_nothing(tmp_path: Path) -> None:
    """One transaction per load: a duplicate id half-way through leaves no row of the load behind (D9)."""
    database = str(tmp_path / "bulk.sqlite3")
    db = SqliteDatabase(database)
    identity, ids = IdentityStore(db), ObjectIds(db)
    try:
        conn = sqlite3.connect(database)
        conn.execute("INSERT INTO orgs VALUES (10000000000000000, 'o', 0)")
        conn.execute("INSERT INTO apps VALUES (10000000000000001, 10000000000000000, 'a', 'h', 0)")
        conn.commit()
        conn.close()
        duplicate = [(USER_BASE + n, f"dup_{n}") for n in range(10)] + [(USER_BASE + 3, "dup_again")]
        with pytest.raises(sqlite3.IntegrityError):
            identity.bulk_insert_users(10_000_000_000_000_001, duplicate)
        assert identity.get_user(USER_BASE) is None
        assert ids.object_kind(USER_BASE) is None
        assert identity.find_person_by_alias("dup_0") is None
        with pytest.raises(ValueError, match="no app"):
            identity.bulk_insert_users(10_000_000_000_000_099, [(USER_BASE, "x")])
        assert identity.bulk_insert_users(10_000_000_000_000_001, [(USER_BASE, "ok")]) == 1
        assert identity.get_user(USER_BASE) is not None
    finally:
        db.close()

