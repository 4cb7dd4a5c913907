"""The users feature's table (user_nonces: the proof nonces of user verification, graph-api.md §4.1, D8)
in portable SQL (``db/core.py``). A nonce is spent by ``UPDATE … WHERE used = 0`` and its row count, so
it is single-use even across server processes."""

from __future__ import annotations

from questgraph.server.db.core import Database
from questgraph.server.users.records import UserNonce


class UserStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def insert_user_nonce(self, nonce: UserNonce) -> None:
        self.db.run("INSERT INTO user_nonces (nonce_hash, user_id, app_id, created_at, expires_at, used) "
                    "VALUES (?, ?, ?, ?, ?, 0)",
                    (nonce.nonce_hash, nonce.user_id, nonce.app_id, nonce.created_at, nonce.expires_at))

    def insert_chosen_user_nonce(self, nonce: UserNonce) -> bool:
        """A nonce whose text was chosen: False (nothing stored) when that text is already a nonce."""
        return self.db.run("INSERT INTO user_nonces (nonce_hash, user_id, app_id, created_at, expires_at, used) "
                           "VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT DO NOTHING",
                           (nonce.nonce_hash, nonce.user_id, nonce.app_id, nonce.created_at,
                            nonce.expires_at)).rowcount == 1

    def use_user_nonce(self, nonce_hash: str, user_id: int, app_id: int, now: int) -> bool:
        """Mark the nonce used if it is this user's and app's, unused and unexpired; True only then."""
        # One conditional update: two racing validations cannot both see used = 0 (D8, single use).
        cursor = self.db.run(
            "UPDATE user_nonces SET used = 1 WHERE nonce_hash = ? AND user_id = ? AND app_id = ? AND used = 0 "
            "AND expires_at > ?",
            (nonce_hash, user_id, app_id, now),
        )
        return cursor.rowcount == 1
