"""Challenges' tables (challenges, challenge_entries) in portable SQL (SQLite and PostgreSQL run the same
text). A challenge entry comes back as a leaderboards ``Entry`` whose ``leaderboard_id`` holds the
challenge id: the same row shape, so the ranking and rendering of leaderboards serve both."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from questgraph.server.challenges.records import Challenge
from questgraph.server.db.core import Database
from questgraph.server.identity.records import User
from questgraph.server.identity.store import USER_COLUMNS_OF_U_P, qualified
from questgraph.server.leaderboards.records import Entry

COLUMNS = ("id, app_id, leaderboard_id, title, description, visibility, creation_type, start_date, end_date, "
           "created_at")
COLUMNS_OF_C = qualified("c", COLUMNS)
ENTRY_COLUMNS = "id, challenge_id, user_id, score, extra_data, written_us"
ENTRY_COLUMNS_OF_E = qualified("e", ENTRY_COLUMNS)
# Only challenges whose board still exists are found (tables.py: no foreign key to the board).
LIVE = "JOIN leaderboards b ON b.id = c.leaderboard_id"


def _entry(row: Sequence[Any]) -> Entry:
    return Entry(row[0], row[1], row[2], row[3], bytes(row[4]), row[5])


class ChallengeStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, challenge: Challenge) -> None:
        c = challenge
        self.db.run(f"INSERT INTO challenges ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (c.id, c.app_id, c.leaderboard_id, c.title, c.description, c.visibility, c.creation_type,
                     c.start_date, c.end_date, c.created_at))

    def update(self, challenge: Challenge) -> None:
        c = challenge
        self.db.run("UPDATE challenges SET title = ?, description = ?, visibility = ?, start_date = ?, "
                    "end_date = ? WHERE id = ?",
                    (c.title, c.description, c.visibility, c.start_date, c.end_date, c.id))

    def get(self, challenge_id: int) -> Challenge | None:
        row = self.db.one(f"SELECT {COLUMNS_OF_C} FROM challenges c {LIVE} WHERE c.id = ?", (challenge_id,))
        return None if row is None else Challenge(*row)

    def list_for_app(self, app_id: int, leaderboard_id: int | None = None) -> list[Challenge]:
        sql = f"SELECT {COLUMNS_OF_C} FROM challenges c {LIVE} WHERE c.app_id = ?"
        params: tuple[Any, ...] = (app_id,)
        if leaderboard_id is not None:
            sql += " AND c.leaderboard_id = ?"
            params = (app_id, leaderboard_id)
        return [Challenge(*r) for r in self.db.all(sql + " ORDER BY c.start_date, c.id", params)]

    def apps_with_challenges(self) -> set[int]:
        return {int(r[0]) for r in self.db.all("SELECT DISTINCT app_id FROM challenges")}

    def running_on_board(self, app_id: int, api_name: str, now: int) -> list[Challenge]:
        """The challenges of the app's board ``api_name`` whose window holds ``now``."""
        rows = self.db.all(f"SELECT {COLUMNS_OF_C} FROM challenges c {LIVE} WHERE b.app_id = ? "
                           "AND b.api_name = ? AND c.start_date <= ? AND c.end_date > ? ORDER BY c.id",
                           (app_id, api_name, now, now))
        return [Challenge(*r) for r in rows]

    def delete(self, challenge_id: int) -> None:
        """The challenge, its entries and their object ids (D9)."""
        with self.db.transaction():
            self.db.run("DELETE FROM objects WHERE id IN (SELECT id FROM challenge_entries WHERE challenge_id = ?)",
                        (challenge_id,))
            self.db.run("DELETE FROM challenge_entries WHERE challenge_id = ?", (challenge_id,))
            self.db.run("DELETE FROM challenges WHERE id = ?", (challenge_id,))
            self.db.run("DELETE FROM objects WHERE id = ?", (challenge_id,))

    # --- entries -----------------------------------------------------------------------------------
    def submit_entry(self, entry: Entry, higher_is_better: bool, force: bool) -> Entry | None:
        """Keep-best in one atomic statement, as leaderboards' (D15): the stored entry when it changed."""
        better = ">" if higher_is_better else "<"
        row = self.db.one(
            f"INSERT INTO challenge_entries ({ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (challenge_id, user_id) DO UPDATE SET score = excluded.score, "
            "extra_data = excluded.extra_data, written_us = excluded.written_us "
            f"WHERE ? = 1 OR excluded.score {better} challenge_entries.score RETURNING {ENTRY_COLUMNS}",
            (entry.id, entry.leaderboard_id, entry.user_id, entry.score, entry.extra_data, entry.written_us,
             int(force)))
        return None if row is None else _entry(row)

    def entries_and_users(self, challenge_id: int,
                          user_ids: Iterable[int] | None = None) -> list[tuple[Entry, User]]:
        """Every entry of the challenge (or of those users) with its user. Challenges are small: the
        ranking is made from all of them (challenges/service.py)."""
        sql = (f"SELECT {ENTRY_COLUMNS_OF_E}, {USER_COLUMNS_OF_U_P} FROM challenge_entries e "
               "JOIN app_users u ON u.id = e.user_id JOIN persons p ON p.id = u.person_id WHERE e.challenge_id = ?")
        params: list[Any] = [challenge_id]
        if user_ids is not None:
            wanted = sorted(set(user_ids))
            if not wanted:
                return []
            sql += f" AND e.user_id IN ({', '.join('?' * len(wanted))})"
            params += wanted
        return [(_entry(r[:6]), User(*r[6:13])) for r in self.db.all(sql, tuple(params))]
