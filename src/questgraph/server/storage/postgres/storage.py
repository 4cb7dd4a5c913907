"""``PostgresStorage``: every feature store on PostgreSQL.

The feature SQL is the portable text SQLite runs too (``sqlite.py``'s identity and leaderboards,
``sqlite_achievements.py``, ``sqlite_commerce.py``, ``sqlite_sso.py``, ``sqlite_dashboard.py``): one copy
of the logic, two backends. Only what cannot be portable lives here: the start-up scan of every entry (a
server-side cursor on a connection of its own)."""

from __future__ import annotations

from collections.abc import Iterator

from questgraph.server.storage.interface import Storage
from questgraph.server.storage.postgres.core import PostgresCore
from questgraph.server.storage.sqlite import SqlIdentityLeaderboardStore
from questgraph.server.storage.sqlite_achievements import SqliteAchievementStore
from questgraph.server.storage.sqlite_commerce import SqliteCommerceStore
from questgraph.server.storage.sqlite_dashboard import SqliteDashboardStore
from questgraph.server.storage.sqlite_index_pending import SqlIndexPendingStore
from questgraph.server.storage.sqlite_sso import SqliteSsoStore

SCAN_BATCH = 10_000


class PostgresStorage(SqliteCommerceStore, SqliteAchievementStore, SqliteSsoStore, SqliteDashboardStore,
                      SqlIndexPendingStore, SqlIdentityLeaderboardStore, PostgresCore):
    def iter_entry_keys(self, board_id: int | None = None) -> Iterator[tuple[int, int, int, int]]:
        # A named (server-side) cursor on a connection of its own: the start-up scan of millions of
        # entries streams in batches and holds no lock a writer needs.
        sql = "SELECT leaderboard_id, id, score, written_us FROM entries"
        params: tuple[int, ...] = ()
        if board_id is not None:
            sql += " WHERE leaderboard_id = %s"
            params = (board_id,)
        with self._pool.connection() as conn, conn.transaction(), conn.cursor(name="qg_entry_keys") as cursor:
            cursor.itersize = SCAN_BATCH
            cursor.execute(sql + " ORDER BY leaderboard_id", params)
            for row in cursor:
                yield row[0], row[1], row[2], row[3]


# mypy proves here that PostgresStorage implements the whole Storage protocol.
_IMPLEMENTS_STORAGE: type[Storage] = PostgresStorage
