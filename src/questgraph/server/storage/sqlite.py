"""The embedded default backend: one SQLite file in WAL mode with ``synchronous=FULL``, so a write is on
disk before it is acknowledged. One connection, used by one thread at a time (the server serialises
domain calls), which keeps SQLite's locking out of the picture.

This module holds the identity and leaderboard SQL (``SqlIdentityLeaderboardStore``, portable: PostgreSQL
runs the same text, see ``postgres/``); other features add a ``sqlite_<feature>.py`` store and
``SqliteStorage`` inherits it."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from questgraph.server.storage.records import (
    App,
    Entry,
    Leaderboard,
    Org,
    SubmitTarget,
    TokenHolder,
    User,
    UserToken,
)
from questgraph.server.storage.sql_core import SqlCore
from questgraph.server.storage.sqlite_achievements import SqliteAchievementStore
from questgraph.server.storage.sqlite_commerce import SqliteCommerceStore
from questgraph.server.storage.sqlite_core import SqliteCore
from questgraph.server.storage.sqlite_dashboard import SqliteDashboardStore
from questgraph.server.storage.sqlite_index_pending import SqlIndexPendingStore
from questgraph.server.storage.sqlite_sso import SqliteSsoStore


def _qualified(alias: str, columns: str) -> str:
    """``"id, name"`` as ``"a.id, a.name"``, for joins."""
    return ", ".join(f"{alias}.{c.strip()}" for c in columns.split(","))


USER_COLUMNS_OF_U_P = "u.id, u.app_id, u.person_id, p.alias, p.display_name, p.profile_url, p.age_category"
USER_SELECT = f"SELECT {USER_COLUMNS_OF_U_P} FROM app_users u JOIN persons p ON p.id = u.person_id"
APP_COLUMNS = "id, org_id, name, secret_hash, created_at"
BOARD_COLUMNS = (
    "id, app_id, api_name, sort_order, entry_write_policy, earliest_allowed_entry_time, "
    "latest_allowed_entry_time, title_locale_map, created_at"
)
BOARD_COLUMNS_OF_B = _qualified("b", BOARD_COLUMNS)
ENTRY_COLUMNS = "id, leaderboard_id, user_id, score, extra_data, written_us"
ENTRY_COLUMNS_OF_E = _qualified("e", ENTRY_COLUMNS)
TOKEN_COLUMNS = "token_hash, user_id, app_id, created_at, expires_at"
TOKEN_HOLDER_SELECT = (  # LEFT JOINs: a token whose app or user is gone is still found (and then refused)
    f"SELECT {_qualified('t', TOKEN_COLUMNS)}, {_qualified('a', APP_COLUMNS)}, {USER_COLUMNS_OF_U_P} "
    "FROM user_tokens t LEFT JOIN apps a ON a.id = t.app_id LEFT JOIN app_users u ON u.id = t.user_id "
    "LEFT JOIN persons p ON p.id = u.person_id WHERE t.token_hash = ?"
)
T = TypeVar("T")


BULK_CHUNK = 50_000


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _entry(row: sqlite3.Row | tuple[Any, ...]) -> Entry:
    return Entry(row[0], row[1], row[2], row[3], bytes(row[4]), row[5])


class SqlIdentityLeaderboardStore(SqlCore):
    """Identity and leaderboards in portable SQL (see ``sql_core``)."""

    # --- identity ---------------------------------------------------------------------------------
    def insert_org(self, org: Org) -> None:
        self._run("INSERT INTO orgs VALUES (?, ?, ?)", (org.id, org.name, org.created_at))

    def get_org(self, org_id: int) -> Org | None:
        row = self._one("SELECT id, name, created_at FROM orgs WHERE id = ?", (org_id,))
        return None if row is None else Org(*row)

    def list_orgs(self) -> list[Org]:
        return [Org(*r) for r in self._all("SELECT id, name, created_at FROM orgs ORDER BY created_at, id")]

    def insert_app(self, app: App) -> None:
        self._run("INSERT INTO apps VALUES (?, ?, ?, ?, ?)",
                  (app.id, app.org_id, app.name, app.secret_hash, app.created_at))

    def get_app(self, app_id: int) -> App | None:
        row = self._one(f"SELECT {APP_COLUMNS} FROM apps WHERE id = ?", (app_id,))
        return None if row is None else App(*row)

    def list_apps(self, org_id: int | None = None) -> list[App]:
        sql = f"SELECT {APP_COLUMNS} FROM apps"
        if org_id is None:
            return [App(*r) for r in self._all(sql + " ORDER BY created_at, id")]
        return [App(*r) for r in self._all(sql + " WHERE org_id = ? ORDER BY created_at, id", (org_id,))]

    def set_app_secret_hash(self, app_id: int, secret_hash: str) -> None:
        self._run("UPDATE apps SET secret_hash = ? WHERE id = ?", (secret_hash, app_id))

    def insert_person(self, alias: str, display_name: str, profile_url: str, age_category: str) -> int:
        return self._insert_id(
            "INSERT INTO persons (alias, display_name, profile_url, age_category) VALUES (?, ?, ?, ?)",
            (alias, display_name, profile_url, age_category),
        )

    def find_person_by_alias(self, alias: str) -> int | None:
        row = self._one("SELECT id FROM persons WHERE alias = ?", (alias,))
        return None if row is None else int(row[0])

    def insert_app_user(self, user_id: int, app_id: int, person_id: int) -> None:
        self._run("INSERT INTO app_users VALUES (?, ?, ?)", (user_id, app_id, person_id))

    def get_user(self, user_id: int) -> User | None:
        row = self._one(USER_SELECT + " WHERE u.id = ?", (user_id,))
        return None if row is None else User(*row)

    def get_users(self, user_ids: Iterable[int]) -> dict[int, User]:
        ids = list(set(user_ids))
        found: dict[int, User] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join("?" for _ in chunk)
            for row in self._all(USER_SELECT + f" WHERE u.id IN ({marks})", chunk):
                found[row[0]] = User(*row)
        return found

    def find_app_user(self, app_id: int, person_id: int) -> User | None:
        row = self._one(USER_SELECT + " WHERE u.app_id = ? AND u.person_id = ?", (app_id, person_id))
        return None if row is None else User(*row)

    def list_app_users(self, app_id: int) -> list[User]:
        return [User(*r) for r in self._all(USER_SELECT + " WHERE u.app_id = ? ORDER BY p.id", (app_id,))]

    def insert_org_user(self, org_scoped_id: int, org_id: int, person_id: int) -> None:
        self._run("INSERT INTO org_users VALUES (?, ?, ?)", (org_scoped_id, org_id, person_id))

    def get_org_scoped_id(self, org_id: int, person_id: int) -> int | None:
        row = self._one("SELECT id FROM org_users WHERE org_id = ? AND person_id = ?", (org_id, person_id))
        return None if row is None else int(row[0])

    def add_friendship(self, person_a: int, person_b: int) -> None:
        with self.transaction():
            for a, b in ((person_a, person_b), (person_b, person_a)):
                self._run("INSERT INTO friendships VALUES (?, ?) ON CONFLICT DO NOTHING", (a, b))

    def friends_of(self, person_id: int) -> list[int]:
        return [r[0] for r in self._all("SELECT person_b FROM friendships WHERE person_a = ?", (person_id,))]

    def insert_user_token(self, token: UserToken) -> None:
        self._run("INSERT INTO user_tokens VALUES (?, ?, ?, ?, ?)",
                  (token.token_hash, token.user_id, token.app_id, token.created_at, token.expires_at))

    def get_user_token(self, token_hash: str) -> UserToken | None:
        row = self._one(f"SELECT {TOKEN_COLUMNS} FROM user_tokens WHERE token_hash = ?", (token_hash,))
        return None if row is None else UserToken(*row)

    def get_token_holder(self, token_hash: str) -> TokenHolder | None:
        row = self._one(TOKEN_HOLDER_SELECT, (token_hash,))
        if row is None:
            return None
        app, user = row[5:10], row[10:17]
        return TokenHolder(UserToken(*row[:5]), None if app[0] is None else App(*app),
                           None if user[0] is None or user[3] is None else User(*user))

    def grant_entitlement(self, user_id: int, app_id: int, granted_at: int) -> None:
        self._run("INSERT INTO entitlements VALUES (?, ?, ?) ON CONFLICT DO NOTHING", (user_id, app_id, granted_at))

    def is_entitled(self, user_id: int, app_id: int) -> bool:
        return self._one("SELECT 1 FROM entitlements WHERE user_id = ? AND app_id = ?",
                         (user_id, app_id)) is not None

    def add_redirect_uri(self, org_id: int, uri: str) -> None:
        self._run("INSERT INTO redirect_uris VALUES (?, ?) ON CONFLICT DO NOTHING", (org_id, uri))

    def list_redirect_uris(self, org_id: int) -> list[str]:
        return [r[0] for r in self._all("SELECT uri FROM redirect_uris WHERE org_id = ? ORDER BY uri", (org_id,))]

    # --- leaderboards -----------------------------------------------------------------------------
    def insert_leaderboard(self, board: Leaderboard) -> None:
        self._run(f"INSERT INTO leaderboards ({BOARD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  (board.id, board.app_id, board.api_name, board.sort_order, board.entry_write_policy,
                   board.earliest_allowed_entry_time, board.latest_allowed_entry_time,
                   board.title_locale_map, board.created_at))

    def update_leaderboard(self, board: Leaderboard) -> None:
        self._run(
            "UPDATE leaderboards SET sort_order = ?, entry_write_policy = ?, earliest_allowed_entry_time = ?, "
            "latest_allowed_entry_time = ?, title_locale_map = ? WHERE id = ?",
            (board.sort_order, board.entry_write_policy, board.earliest_allowed_entry_time,
             board.latest_allowed_entry_time, board.title_locale_map, board.id),
        )

    def get_leaderboard(self, board_id: int) -> Leaderboard | None:
        row = self._one(f"SELECT {BOARD_COLUMNS} FROM leaderboards WHERE id = ?", (board_id,))
        return None if row is None else Leaderboard(*row)

    def find_leaderboard(self, app_id: int, api_name: str) -> Leaderboard | None:
        row = self._one(f"SELECT {BOARD_COLUMNS} FROM leaderboards WHERE app_id = ? AND api_name = ?",
                        (app_id, api_name))
        return None if row is None else Leaderboard(*row)

    def find_leaderboard_and_entry(self, app_id: int, api_name: str,
                                   user_id: int) -> tuple[Leaderboard, Entry | None] | None:
        row = self._one(f"SELECT {BOARD_COLUMNS_OF_B}, {ENTRY_COLUMNS_OF_E} FROM leaderboards b "
                        "LEFT JOIN entries e ON e.leaderboard_id = b.id AND e.user_id = ? "
                        "WHERE b.app_id = ? AND b.api_name = ?", (user_id, app_id, api_name))
        if row is None:
            return None
        return Leaderboard(*row[:9]), None if row[9] is None else _entry(row[9:])

    def list_leaderboards(self, app_id: int) -> list[Leaderboard]:
        rows = self._all(f"SELECT {BOARD_COLUMNS} FROM leaderboards WHERE app_id = ? ORDER BY created_at, id",
                         (app_id,))
        return [Leaderboard(*r) for r in rows]

    def list_all_leaderboards(self) -> list[Leaderboard]:
        return [Leaderboard(*r) for r in self._all(f"SELECT {BOARD_COLUMNS} FROM leaderboards")]

    def delete_leaderboard(self, board_id: int) -> None:
        with self.transaction():
            self._run(
                "DELETE FROM objects WHERE id IN (SELECT id FROM entries WHERE leaderboard_id = ?)", (board_id,)
            )
            self._run("DELETE FROM entries WHERE leaderboard_id = ?", (board_id,))
            self._run("DELETE FROM leaderboards WHERE id = ?", (board_id,))
            self._run("DELETE FROM objects WHERE id = ?", (board_id,))

    def insert_entry(self, entry: Entry) -> None:
        self._run(f"INSERT INTO entries ({ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                  (entry.id, entry.leaderboard_id, entry.user_id, entry.score, entry.extra_data,
                   entry.written_us))

    def submit_target(self, app_id: int, api_name: str, user_id: int) -> SubmitTarget | None:
        row = self._one(
            f"SELECT {BOARD_COLUMNS_OF_B}, {USER_COLUMNS_OF_U_P}, "
            "(SELECT 1 FROM entitlements t WHERE t.user_id = u.id AND t.app_id = b.app_id), "
            f"{ENTRY_COLUMNS_OF_E} "
            "FROM leaderboards b LEFT JOIN app_users u ON u.id = ? LEFT JOIN persons p ON p.id = u.person_id "
            "LEFT JOIN entries e ON e.leaderboard_id = b.id AND e.user_id = ? "
            "WHERE b.app_id = ? AND b.api_name = ?",
            (user_id, user_id, app_id, api_name))
        if row is None:
            return None
        board, user, entitled, entry = row[:9], row[9:16], row[16], row[17:]
        return SubmitTarget(Leaderboard(*board), None if user[0] is None else User(*user), entitled is not None,
                            None if entry[0] is None else _entry(entry))

    def submit_entry(self, entry: Entry, higher_is_better: bool, force: bool) -> Entry | None:
        # One upsert decides, in the database, whether the new score wins: two processes submitting
        # for one user cannot both read the old entry and overwrite each other (issue 6). Upsert with a
        # WHERE and RETURNING: SQLite 3.35+ and PostgreSQL run the same text.
        better = ">" if higher_is_better else "<"
        row = self._returning(
            f"INSERT INTO entries ({ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (leaderboard_id, user_id) DO UPDATE SET score = excluded.score, "
            "extra_data = excluded.extra_data, written_us = excluded.written_us "
            f"WHERE ? = 1 OR excluded.score {better} entries.score RETURNING {ENTRY_COLUMNS}",
            (entry.id, entry.leaderboard_id, entry.user_id, entry.score, entry.extra_data, entry.written_us,
             int(force)),
        )
        return None if row is None else _entry(row)

    def update_entry(self, entry: Entry) -> None:
        self._run("UPDATE entries SET score = ?, extra_data = ?, written_us = ? WHERE id = ?",
                  (entry.score, entry.extra_data, entry.written_us, entry.id))

    def get_entry(self, entry_id: int) -> Entry | None:
        row = self._one(f"SELECT {ENTRY_COLUMNS} FROM entries WHERE id = ?", (entry_id,))
        return None if row is None else _entry(row)

    def get_entries_and_users(self, entry_ids: Sequence[int]) -> dict[int, tuple[Entry, User]]:
        found: dict[int, tuple[Entry, User]] = {}
        for start in range(0, len(entry_ids), 500):
            chunk = list(entry_ids[start:start + 500])
            marks = ", ".join("?" for _ in chunk)
            for row in self._all(f"SELECT {ENTRY_COLUMNS_OF_E}, {USER_COLUMNS_OF_U_P} FROM entries e "
                                 "JOIN app_users u ON u.id = e.user_id JOIN persons p ON p.id = u.person_id "
                                 f"WHERE e.id IN ({marks})", chunk):
                found[row[0]] = _entry(row), User(*row[6:13])
        return found

    def find_entry(self, board_id: int, user_id: int) -> Entry | None:
        row = self._one(f"SELECT {ENTRY_COLUMNS} FROM entries WHERE leaderboard_id = ? AND user_id = ?",
                        (board_id, user_id))
        return None if row is None else _entry(row)

    def entries_of_users(self, board_id: int, user_ids: Iterable[int]) -> list[Entry]:
        ids = list(set(user_ids))
        found: list[Entry] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = self._all(
                f"SELECT {ENTRY_COLUMNS} FROM entries WHERE leaderboard_id = ? AND user_id IN ({marks})",
                [board_id, *chunk],
            )
            found.extend(_entry(r) for r in rows)
        return found

    def count_entries(self, board_id: int) -> int:
        return int(self._one("SELECT COUNT(*) FROM entries WHERE leaderboard_id = ?", (board_id,))[0])

    def delete_entry(self, entry_id: int) -> None:
        with self.transaction():
            self._run("DELETE FROM entries WHERE id = ?", (entry_id,))
            self._run("DELETE FROM objects WHERE id = ?", (entry_id,))

    def delete_all_entries(self, board_id: int) -> None:
        with self.transaction():
            self._run(
                "DELETE FROM objects WHERE id IN (SELECT id FROM entries WHERE leaderboard_id = ?)", (board_id,)
            )
            self._run("DELETE FROM entries WHERE leaderboard_id = ?", (board_id,))

    # --- bulk loading -----------------------------------------------------------------------------
    def bulk_insert_users(self, app_id: int, users: Iterable[tuple[int, str]], granted_at: int | None = None) -> int:
        count = 0
        with self.transaction():
            if self._one("SELECT 1 FROM apps WHERE id = ?", (app_id,)) is None:
                raise ValueError(f"no app {app_id}")
            (person_id,) = self._one("SELECT COALESCE(MAX(id), 0) FROM persons")
            for chunk in _chunks(users, BULK_CHUNK):
                persons, app_users = [], []
                for user_id, alias in chunk:
                    person_id += 1
                    persons.append((person_id, alias, alias, f"https://questgraph.invalid/profile/{alias}.png"))
                    app_users.append((user_id, app_id, person_id))
                self._many("INSERT INTO persons (id, alias, display_name, profile_url, age_category) "
                           "VALUES (?, ?, ?, ?, 'AD')", persons)
                self._many("INSERT INTO objects VALUES (?, 'user')", [(u[0],) for u in app_users])
                self._many("INSERT INTO app_users VALUES (?, ?, ?)", app_users)
                if granted_at is not None:
                    self._many("INSERT INTO entitlements VALUES (?, ?, ?)",
                               [(u[0], app_id, granted_at) for u in app_users])
                count += len(chunk)
            self._after_explicit_ids()
        return count

    def bulk_insert_entries(self, entries: Iterable[Entry]) -> int:
        count = 0
        with self.transaction():
            for chunk in _chunks(entries, BULK_CHUNK):
                self._many("INSERT INTO objects VALUES (?, 'entry')", [(e.id,) for e in chunk])
                self._many(
                    f"INSERT INTO entries ({ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                    [(e.id, e.leaderboard_id, e.user_id, e.score, e.extra_data, e.written_us) for e in chunk],
                )
                count += len(chunk)
        return count


class SqliteStorage(SqliteCommerceStore, SqliteAchievementStore, SqliteSsoStore, SqliteDashboardStore,
                    SqlIndexPendingStore, SqlIdentityLeaderboardStore, SqliteCore):
    def iter_entry_keys(self, board_id: int | None = None) -> Iterator[tuple[int, int, int, int]]:
        # A second connection so that a long scan at start-up holds no lock the writer needs.
        conn = sqlite3.connect(self.path) if self.path != ":memory:" else self._conn
        try:
            sql = "SELECT leaderboard_id, id, score, written_us FROM entries"
            params: tuple[int, ...] = ()
            if board_id is not None:
                sql += " WHERE leaderboard_id = ?"
                params = (board_id,)
            cursor = conn.execute(sql + " ORDER BY leaderboard_id", params)
            while rows := cursor.fetchmany(10_000):
                yield from rows
        finally:
            if conn is not self._conn:
                conn.close()
