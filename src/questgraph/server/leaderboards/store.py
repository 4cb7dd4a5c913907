"""Leaderboards' tables (leaderboards, entries, index_pending) in portable SQL: SQLite and PostgreSQL run
the same text (``db/core.py``). A board's or entry's object id (D9) is deleted in the same transaction
as the row, and the hot reads join identity's users in one query."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from questgraph.server.db.core import Database
from questgraph.server.db.state import CACHE_VERSION_SQL
from questgraph.server.identity.records import User
from questgraph.server.identity.store import BULK_CHUNK, USER_COLUMNS_OF_U_P, chunks, qualified
from questgraph.server.leaderboards.records import Entry, IndexPending, Leaderboard, SubmitTarget

BOARD_COLUMNS = (
    "id, app_id, api_name, sort_order, entry_write_policy, earliest_allowed_entry_time, "
    "latest_allowed_entry_time, title_locale_map, created_at"
)
BOARD_COLUMNS_OF_B = qualified("b", BOARD_COLUMNS)
ENTRY_COLUMNS = "id, leaderboard_id, user_id, score, extra_data, written_us"
ENTRY_COLUMNS_OF_E = qualified("e", ENTRY_COLUMNS)


def _entry(row: Sequence[Any]) -> Entry:
    return Entry(row[0], row[1], row[2], row[3], bytes(row[4]), row[5])


class LeaderboardStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- boards ------------------------------------------------------------------------------------
    def insert_leaderboard(self, board: Leaderboard) -> None:
        self.db.run(f"INSERT INTO leaderboards ({BOARD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (board.id, board.app_id, board.api_name, board.sort_order, board.entry_write_policy,
                     board.earliest_allowed_entry_time, board.latest_allowed_entry_time,
                     board.title_locale_map, board.created_at))

    def update_leaderboard(self, board: Leaderboard) -> None:
        self.db.run(
            "UPDATE leaderboards SET sort_order = ?, entry_write_policy = ?, earliest_allowed_entry_time = ?, "
            "latest_allowed_entry_time = ?, title_locale_map = ? WHERE id = ?",
            (board.sort_order, board.entry_write_policy, board.earliest_allowed_entry_time,
             board.latest_allowed_entry_time, board.title_locale_map, board.id),
        )

    def get_leaderboard(self, board_id: int) -> Leaderboard | None:
        row = self.db.one(f"SELECT {BOARD_COLUMNS} FROM leaderboards WHERE id = ?", (board_id,))
        return None if row is None else Leaderboard(*row)

    def find_leaderboard(self, app_id: int, api_name: str) -> Leaderboard | None:
        row = self.db.one(f"SELECT {BOARD_COLUMNS} FROM leaderboards WHERE app_id = ? AND api_name = ?",
                          (app_id, api_name))
        return None if row is None else Leaderboard(*row)

    def board_for_read(self, app_id: int, api_name: str,
                       user_id: int | None) -> tuple[Leaderboard | None, Entry | None, str | None]:
        """The board, that user's entry on it (None without a user) and the deployment's cache version
        (db/state.py), in one query (a leaderboard read): the version comes even when there is no board."""
        row = self.db.one(f"SELECT {CACHE_VERSION_SQL}, {BOARD_COLUMNS_OF_B}, {ENTRY_COLUMNS_OF_E} "
                          "FROM (SELECT 1) AS one LEFT JOIN leaderboards b ON b.app_id = ? AND b.api_name = ? "
                          "LEFT JOIN entries e ON e.leaderboard_id = b.id AND e.user_id = ?",
                          (app_id, api_name, 0 if user_id is None else user_id))
        version = str(row[0])
        if row[1] is None:
            return None, None, version
        return Leaderboard(*row[1:10]), None if row[10] is None else _entry(row[10:]), version

    def boards_for_reads(self, wanted: Sequence[tuple[int, str, int]]
                         ) -> tuple[str | None, list[tuple[Leaderboard | None, Entry | None]]]:
        """``board_for_read`` of many (app id, api name, user id or 0) at once, in one query (a trip's
        reads, PostgreSQL only: ``unnest``; LATERAL … OFFSET 0 as in ``submit_targets``), and the cache
        version (None when no board was found: then read none)."""
        found: dict[int, tuple[Leaderboard, Entry | None]] = {}
        version: str | None = None
        rows = self.db.all(
            f"SELECT w.n, {BOARD_COLUMNS_OF_B}, {ENTRY_COLUMNS_OF_E}, {CACHE_VERSION_SQL} "
            "FROM unnest(?::bigint[], ?::text[], ?::bigint[]) WITH ORDINALITY AS w(app_id, api_name, user_id, n) "
            f"CROSS JOIN LATERAL (SELECT {BOARD_COLUMNS} FROM leaderboards "
            "WHERE app_id = w.app_id AND api_name = w.api_name OFFSET 0) b "
            f"LEFT JOIN LATERAL (SELECT {ENTRY_COLUMNS} FROM entries "
            "WHERE leaderboard_id = b.id AND user_id = w.user_id OFFSET 0) e ON true",
            ([w[0] for w in wanted], [w[1] for w in wanted], [w[2] for w in wanted]))
        for row in rows:
            found[int(row[0])] = Leaderboard(*row[1:10]), None if row[10] is None else _entry(row[10:16])
            version = str(row[16])
        return version, [found.get(n, (None, None)) for n in range(1, len(wanted) + 1)]

    def list_leaderboards(self, app_id: int) -> list[Leaderboard]:
        rows = self.db.all(f"SELECT {BOARD_COLUMNS} FROM leaderboards WHERE app_id = ? ORDER BY created_at, id",
                           (app_id,))
        return [Leaderboard(*r) for r in rows]

    def list_all_leaderboards(self) -> list[Leaderboard]:
        return [Leaderboard(*r) for r in self.db.all(f"SELECT {BOARD_COLUMNS} FROM leaderboards")]

    def delete_leaderboard(self, board_id: int) -> None:
        """Delete the board, its entries, and their object ids."""
        with self.db.transaction():
            self.db.run(
                "DELETE FROM objects WHERE id IN (SELECT id FROM entries WHERE leaderboard_id = ?)", (board_id,)
            )
            self.db.run("DELETE FROM entries WHERE leaderboard_id = ?", (board_id,))
            self.db.run("DELETE FROM leaderboards WHERE id = ?", (board_id,))
            self.db.run("DELETE FROM objects WHERE id = ?", (board_id,))

    # --- entries -----------------------------------------------------------------------------------
    def insert_entry(self, entry: Entry) -> None:
        self.db.run(f"INSERT INTO entries ({ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                    (entry.id, entry.leaderboard_id, entry.user_id, entry.score, entry.extra_data,
                     entry.written_us))

    def submit_target(self, app_id: int, api_name: str, user_id: int) -> SubmitTarget | None:
        """The app's board ``api_name`` (None when it has none), with the user ``user_id``, whether they
        are entitled to the app, their entry on the board and the deployment's cache version (db/state.py):
        one read instead of five."""
        row = self.db.one(
            f"SELECT {BOARD_COLUMNS_OF_B}, {USER_COLUMNS_OF_U_P}, "
            "(SELECT 1 FROM entitlements t WHERE t.user_id = u.id AND t.app_id = b.app_id), "
            f"{ENTRY_COLUMNS_OF_E}, {CACHE_VERSION_SQL} "
            "FROM leaderboards b LEFT JOIN app_users u ON u.id = ? LEFT JOIN persons p ON p.id = u.person_id "
            "LEFT JOIN entries e ON e.leaderboard_id = b.id AND e.user_id = ? "
            "WHERE b.app_id = ? AND b.api_name = ?",
            (user_id, user_id, app_id, api_name))
        return None if row is None else self._target(row)

    def submit_targets(self, wanted: Sequence[tuple[int, str, int]]) -> tuple[str | None, list[SubmitTarget | None]]:
        """``submit_target`` of many (app id, api name, user id) at once, in one query (the submits of a
        trip, PostgreSQL only: ``unnest``), and the deployment's cache version (None when no board was
        found: then read none)."""
        found: dict[int, SubmitTarget] = {}
        version: str | None = None
        rows = self.db.all(
            f"SELECT w.n, {BOARD_COLUMNS_OF_B}, {USER_COLUMNS_OF_U_P}, "
            "(SELECT 1 FROM entitlements t WHERE t.user_id = u.id AND t.app_id = b.app_id), "
            f"{ENTRY_COLUMNS_OF_E}, {CACHE_VERSION_SQL} "
            "FROM unnest(?::bigint[], ?::text[], ?::bigint[]) WITH ORDINALITY AS w(app_id, api_name, user_id, n) "
            # LATERAL … OFFSET 0 (not flattened into a join): the entry is found by its whole key for each
            # submit. Joined plainly, the plan looked entries up by board alone and filtered the user after,
            # reading the board's entries (its estimate of a fresh board's size was far too small).
            f"CROSS JOIN LATERAL (SELECT {BOARD_COLUMNS} FROM leaderboards "
            "WHERE app_id = w.app_id AND api_name = w.api_name OFFSET 0) b "
            "LEFT JOIN app_users u ON u.id = w.user_id LEFT JOIN persons p ON p.id = u.person_id "
            f"LEFT JOIN LATERAL (SELECT {ENTRY_COLUMNS} FROM entries "
            "WHERE leaderboard_id = b.id AND user_id = w.user_id OFFSET 0) e ON true",
            ([w[0] for w in wanted], [w[1] for w in wanted], [w[2] for w in wanted]))
        for row in rows:
            target = self._target(row[1:])
            found[int(row[0])] = target
            version = target.cache_version
        return version, [found.get(n) for n in range(1, len(wanted) + 1)]

    @staticmethod
    def _target(row: Sequence[Any]) -> SubmitTarget:
        board, user, entitled, entry, version = row[:9], row[9:16], row[16], row[17:23], row[23]
        return SubmitTarget(Leaderboard(*board), None if user[0] is None else User(*user), entitled is not None,
                            None if entry[0] is None else _entry(entry), None if version is None else str(version))

    def submit_entries(self, entries: Sequence[Entry], higher_is_better: bool, force: bool, pending: bool,
                       settled: Sequence[int] = ()) -> list[tuple[Entry, int | None]]:
        """``submit_entry`` of many entries in one statement (a trip's submits, PostgreSQL only), at most
        one per (board, user), all with the same direction and ``force``: the entries that changed, each
        with its pending row's id (D22) when ``pending``. Rows are written in the order given (the trip's
        write order, server/executor.py), so two trips that write the same rows take their locks alike."""
        better = "true" if force else f"excluded.score {'>' if higher_is_better else '<'} entries.score"
        settle = "settled AS (DELETE FROM index_pending WHERE id = ANY(?)), " if settled else ""
        returned = ("pending AS (INSERT INTO index_pending (leaderboard_id, entry_id) SELECT leaderboard_id, id "
                    f"FROM up RETURNING id, entry_id) SELECT {qualified('up', ENTRY_COLUMNS)}, pending.id "
                    "FROM up JOIN pending ON pending.entry_id = up.id" if pending
                    else f"SELECT {ENTRY_COLUMNS}, NULL FROM up")
        params: list[Any] = [list(settled)] if settled else []
        params += [[e.id for e in entries], [e.leaderboard_id for e in entries], [e.user_id for e in entries],
                   [e.score for e in entries], [e.extra_data for e in entries], [e.written_us for e in entries]]
        rows = self.db.all(
            f"WITH {settle}w AS (SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], "
            "?::bytea[], ?::bigint[]) WITH ORDINALITY "
            "AS w(id, leaderboard_id, user_id, score, extra_data, written_us, n)), "
            f"up AS (INSERT INTO entries ({ENTRY_COLUMNS}) SELECT {ENTRY_COLUMNS} FROM w ORDER BY n "
            "ON CONFLICT (leaderboard_id, user_id) DO UPDATE SET score = excluded.score, "
            f"extra_data = excluded.extra_data, written_us = excluded.written_us WHERE {better} "
            f"RETURNING {ENTRY_COLUMNS}), {returned}", params)
        return [(_entry(r), None if r[6] is None else int(r[6])) for r in rows]

    def submit_entry(self, entry: Entry, higher_is_better: bool, force: bool, pending: bool = False,
                     settled: Sequence[int] = ()) -> tuple[Entry, int | None] | None:
        """Keep-best write in one atomic statement (D15): insert ``entry`` when the user has none
        on the board, else replace the stored score, extra data and time when ``force`` or when
        ``entry.score`` is strictly better (the stored id stays). Returns the stored entry when it
        changed, None when the old one was kept. Atomic across processes sharing the database.

        ``pending``: a write also records its pending index update (D22), whose id comes back beside the
        entry. ``settled``: pending rows whose index updates are known to have been applied, deleted in
        the same transaction. On PostgreSQL the three are one statement (data-modifying CTEs), one round
        trip; elsewhere, three statements."""
        # One upsert decides, in the database, whether the new score wins: two processes submitting
        # for one user cannot both read the old entry and overwrite each other. Upsert with a
        # WHERE and RETURNING: SQLite 3.35+ and PostgreSQL run the same text.
        better = ">" if higher_is_better else "<"
        upsert = (f"INSERT INTO entries ({ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) "
                  "ON CONFLICT (leaderboard_id, user_id) DO UPDATE SET score = excluded.score, "
                  "extra_data = excluded.extra_data, written_us = excluded.written_us "
                  f"WHERE ? = 1 OR excluded.score {better} entries.score RETURNING {ENTRY_COLUMNS}")
        params: list[Any] = [entry.id, entry.leaderboard_id, entry.user_id, entry.score, entry.extra_data,
                             entry.written_us, int(force)]
        if pending and self.db.writable_ctes:
            # Every data-modifying CTE runs exactly once, to completion, whether or not the query reads it.
            # The pending row's id (the update's version, D22) is drawn as the row reads ``up``: after the
            # upsert took the entry's row lock, as with two statements.
            settle = ""
            if settled:
                settle, params = "settled AS (DELETE FROM index_pending WHERE id = ANY(?)), ", [list(settled), *params]
            row = self.db.returning(
                f"WITH {settle}up AS ({upsert}), pending AS (INSERT INTO index_pending (leaderboard_id, entry_id) "
                f"SELECT leaderboard_id, id FROM up RETURNING id) SELECT {qualified('up', ENTRY_COLUMNS)}, "
                "pending.id FROM up, pending", params)
            return None if row is None else (_entry(row), int(row[6]))
        if settled:
            self.delete_index_pending(list(settled))
        row = self.db.returning(upsert, params)
        if row is None:
            return None
        stored = _entry(row)
        return stored, self.add_index_pending(stored.leaderboard_id, stored.id) if pending else None

    def update_entry(self, entry: Entry) -> None:
        self.db.run("UPDATE entries SET score = ?, extra_data = ?, written_us = ? WHERE id = ?",
                    (entry.score, entry.extra_data, entry.written_us, entry.id))

    def get_entry(self, entry_id: int) -> Entry | None:
        row = self.db.one(f"SELECT {ENTRY_COLUMNS} FROM entries WHERE id = ?", (entry_id,))
        return None if row is None else _entry(row)

    def get_entries_and_users(self, entry_ids: Sequence[int]) -> dict[int, tuple[Entry, User]]:
        """The entries with their users, by entry id, in one query (a leaderboard page's rows)."""
        found: dict[int, tuple[Entry, User]] = {}
        for condition, params in self.db.ids_in("e.id", entry_ids):
            for row in self.db.all(f"SELECT {ENTRY_COLUMNS_OF_E}, {USER_COLUMNS_OF_U_P} FROM entries e "
                                   "JOIN app_users u ON u.id = e.user_id JOIN persons p ON p.id = u.person_id "
                                   f"WHERE {condition}", params):
                found[row[0]] = _entry(row), User(*row[6:13])
        return found

    def find_entry(self, board_id: int, user_id: int) -> Entry | None:
        row = self.db.one(f"SELECT {ENTRY_COLUMNS} FROM entries WHERE leaderboard_id = ? AND user_id = ?",
                          (board_id, user_id))
        return None if row is None else _entry(row)

    def entries_of_users(self, board_id: int, user_ids: Iterable[int]) -> list[Entry]:
        found: list[Entry] = []
        for condition, params in self.db.ids_in("user_id", list(set(user_ids))):
            rows = self.db.all(f"SELECT {ENTRY_COLUMNS} FROM entries WHERE leaderboard_id = ? AND {condition}",
                               [board_id, *params])
            found.extend(_entry(r) for r in rows)
        return found

    def entries_of_user(self, user_id: int) -> list[Entry]:
        """Every entry of one user, on every board (a deleted federated user's scores)."""
        return [_entry(r) for r in self.db.all(f"SELECT {ENTRY_COLUMNS} FROM entries WHERE user_id = ?", (user_id,))]

    def count_entries(self, board_id: int) -> int:
        return int(self.db.one("SELECT COUNT(*) FROM entries WHERE leaderboard_id = ?", (board_id,))[0])

    def delete_entry(self, entry_id: int) -> None:
        with self.db.transaction():
            self.db.run("DELETE FROM entries WHERE id = ?", (entry_id,))
            self.db.run("DELETE FROM objects WHERE id = ?", (entry_id,))

    def delete_all_entries(self, board_id: int) -> None:
        with self.db.transaction():
            self.db.run(
                "DELETE FROM objects WHERE id IN (SELECT id FROM entries WHERE leaderboard_id = ?)", (board_id,)
            )
            self.db.run("DELETE FROM entries WHERE leaderboard_id = ?", (board_id,))

    def iter_entry_keys(self, board_id: int | None = None) -> Iterator[tuple[int, int, int, int, int]]:
        """(leaderboard_id, entry_id, user_id, score, written_us) of every entry, grouped by board."""
        sql = "SELECT leaderboard_id, id, user_id, score, written_us FROM entries"
        params: tuple[int, ...] = ()
        if board_id is not None:
            sql += " WHERE leaderboard_id = ?"
            params = (board_id,)
        yield from self.db.stream(sql + " ORDER BY leaderboard_id", params)

    # --- bulk loading (benchmarks, large imports) ------------------------------------------------
    def bulk_insert_entries(self, entries: Iterable[Entry]) -> int:
        """Many entries in one transaction, with their object ids (D9); at most one per user and board.
        The caller rebuilds the rank index afterwards (the index is derived state). Returns the count."""
        count = 0
        with self.db.transaction():
            for chunk in chunks(entries, BULK_CHUNK):
                self.db.insert_rows("objects", ("id", "kind"), [(e.id, "entry") for e in chunk])
                self.db.insert_rows(
                    "entries", ENTRY_COLUMNS.split(", "),
                    [(e.id, e.leaderboard_id, e.user_id, e.score, e.extra_data, e.written_us) for e in chunk],
                )
                count += len(chunk)
        return count

    # --- pending rank index updates (D22) ----------------------------------------------------------
    def add_index_pending(self, leaderboard_id: int, entry_id: int | None) -> int:
        """Record a pending index update (inside the caller's transaction); returns its id."""
        return self.db.insert_id("INSERT INTO index_pending (leaderboard_id, entry_id) VALUES (?, ?)",
                                 (leaderboard_id, entry_id))

    def list_index_pending(self, limit: int = 1000) -> list[IndexPending]:
        """The oldest pending rows first."""
        rows = self.db.all("SELECT id, leaderboard_id, entry_id FROM index_pending ORDER BY id LIMIT ?", (limit,))
        return [IndexPending(int(r[0]), int(r[1]), None if r[2] is None else int(r[2])) for r in rows]

    def delete_index_pending(self, pending_ids: list[int]) -> None:
        for condition, params in self.db.ids_in("id", pending_ids):
            self.db.run(f"DELETE FROM index_pending WHERE {condition}", params)
