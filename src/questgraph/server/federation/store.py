"""Federation's SQL (the ``federated_users`` table), portable across SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from questgraph.server.db.core import Database
from questgraph.server.federation.records import FederatedUser

COLUMNS = "user_id, app_id, persistent_id, display_name, name_number, created_at"


def _user(row: Any) -> FederatedUser:
    return FederatedUser(int(row[0]), int(row[1]), str(row[2]), str(row[3]), int(row[4]), int(row[5]))


class FederationStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, user: FederatedUser) -> bool:
        """False when the app already has the persistent id or the unique name (a racing create won it):
        one statement, so of two processes the database lets exactly one insert it."""
        ran = self.db.run(f"INSERT INTO federated_users ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                          (user.id, user.app_id, user.persistent_id, user.display_name, user.name_number,
                           user.created_at))
        return ran.rowcount == 1

    def get(self, user_id: int) -> FederatedUser | None:
        row = self.db.one(f"SELECT {COLUMNS} FROM federated_users WHERE user_id = ?", (user_id,))
        return None if row is None else _user(row)

    def find(self, app_id: int, persistent_id: str) -> FederatedUser | None:
        row = self.db.one(f"SELECT {COLUMNS} FROM federated_users WHERE app_id = ? AND persistent_id = ?",
                          (app_id, persistent_id))
        return None if row is None else _user(row)

    def free_name_number(self, app_id: int, display_name: str) -> int:
        """The smallest positive n that no federated user of the app with this display name holds."""
        taken = {int(r[0]) for r in self.db.all(
            "SELECT name_number FROM federated_users WHERE app_id = ? AND display_name = ?", (app_id, display_name))}
        return next(n for n in range(1, len(taken) + 2) if n not in taken)

    def rename(self, user_id: int, display_name: str, name_number: int) -> None:
        self.db.run("UPDATE federated_users SET display_name = ?, name_number = ? WHERE user_id = ?",
                    (display_name, name_number, user_id))

    def page(self, app_id: int, after: int | None, before: int | None, limit: int) -> list[FederatedUser]:
        """Up to ``limit`` of the app's federated users in id order, after or before an id (``before``:
        the ones just before it, returned in id order too)."""
        if before is not None:
            rows = self.db.all(f"SELECT {COLUMNS} FROM federated_users WHERE app_id = ? AND user_id < ? "
                               "ORDER BY user_id DESC LIMIT ?", (app_id, before, limit))
            return [_user(r) for r in reversed(rows)]
        rows = self.db.all(f"SELECT {COLUMNS} FROM federated_users WHERE app_id = ? AND user_id > ? "
                           "ORDER BY user_id LIMIT ?", (app_id, -1 if after is None else after, limit))
        return [_user(r) for r in rows]

    def any_before(self, app_id: int, user_id: int) -> bool:
        return self.db.one("SELECT 1 FROM federated_users WHERE app_id = ? AND user_id < ? LIMIT 1",
                           (app_id, user_id)) is not None

    def any_after(self, app_id: int, user_id: int) -> bool:
        return self.db.one("SELECT 1 FROM federated_users WHERE app_id = ? AND user_id > ? LIMIT 1",
                           (app_id, user_id)) is not None

    def delete(self, user_id: int) -> None:
        """The federated row, and the rows of other features that name the user and would keep the app user
        from being deleted (user proof nonces, challenge entries, purchases, subscriptions, sent
        notifications' sender): Meta deletes "all associated user data" (A.2). Leaderboard entries and
        achievement progress go through their services."""
        with self.db.transaction():
            self.db.run("DELETE FROM federated_users WHERE user_id = ?", (user_id,))
            self.db.run("DELETE FROM user_nonces WHERE user_id = ?", (user_id,))
            self.db.run("DELETE FROM challenge_entries WHERE user_id = ?", (user_id,))  # their challenge scores
            # A notification the user sent stays sent (the app's record of it), with its sender gone.
            self.db.run("UPDATE sent_notifications SET sender_id = NULL WHERE sender_id = ?", (user_id,))
            for table in ("purchases", "subscriptions"):
                self.db.run(f"DELETE FROM objects WHERE id IN (SELECT id FROM {table} WHERE user_id = ?)", (user_id,))
                self.db.run(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))
