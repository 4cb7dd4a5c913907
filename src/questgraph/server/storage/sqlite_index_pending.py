"""The pending rank index updates store (storage/index_pending.py, migration 0006), in portable SQL:
SQLite and PostgreSQL run the same text (see ``sql_core``)."""

from __future__ import annotations

from questgraph.server.storage.index_pending import IndexPending
from questgraph.server.storage.sql_core import SqlCore


class SqlIndexPendingStore(SqlCore):
    def add_index_pending(self, leaderboard_id: int, entry_id: int | None) -> int:
        return self._insert_id("INSERT INTO index_pending (leaderboard_id, entry_id) VALUES (?, ?)",
                               (leaderboard_id, entry_id))

    def list_index_pending(self, limit: int = 1000) -> list[IndexPending]:
        rows = self._all("SELECT id, leaderboard_id, entry_id FROM index_pending ORDER BY id LIMIT ?", (limit,))
        return [IndexPending(int(r[0]), int(r[1]), None if r[2] is None else int(r[2])) for r in rows]

    def delete_index_pending(self, pending_ids: list[int]) -> None:
        for start in range(0, len(pending_ids), 500):
            chunk = pending_ids[start:start + 500]
            self._run(f"DELETE FROM index_pending WHERE id IN ({', '.join('?' for _ in chunk)})", chunk)
