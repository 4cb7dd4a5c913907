"""Identity's tables (orgs, apps, persons, app_users, org_users, friendships, user_tokens, entitlements)
in portable SQL: SQLite and PostgreSQL run the same text (``db/core.py``)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from questgraph.server.db.core import Database
from questgraph.server.db.state import bump_cache_version
from questgraph.server.identity.records import App, Org, OrgMember, Person, TokenHolder, User, UserToken


def qualified(alias: str, columns: str) -> str:
    """``"id, name"`` as ``"a.id, a.name"``, for joins."""
    return ", ".join(f"{alias}.{c.strip()}" for c in columns.split(","))


# A user row is its app-scoped id joined with the person's profile: other features' one-query reads
# (a leaderboard page's rows, a submit's target) select these columns too.
USER_COLUMNS_OF_U_P = "u.id, u.app_id, u.person_id, p.alias, p.display_name, p.profile_url, p.age_category"
USER_SELECT = f"SELECT {USER_COLUMNS_OF_U_P} FROM app_users u JOIN persons p ON p.id = u.person_id"
APP_COLUMNS = "id, org_id, name, secret_hash, created_at"
TOKEN_COLUMNS = "token_hash, user_id, app_id, created_at, expires_at"
TOKEN_HOLDER_SELECT = (  # LEFT JOINs: a token whose app or user is gone is still found (and then refused)
    f"SELECT {qualified('t', TOKEN_COLUMNS)}, {qualified('a', APP_COLUMNS)}, {USER_COLUMNS_OF_U_P} "
    "FROM user_tokens t LEFT JOIN apps a ON a.id = t.app_id LEFT JOIN app_users u ON u.id = t.user_id "
    "LEFT JOIN persons p ON p.id = u.person_id WHERE t.token_hash = ?"
)
_PERSON = "p.id, p.alias, p.display_name, p.profile_url, p.age_category"
T = TypeVar("T")


BULK_CHUNK = 50_000


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _member(row: Any) -> OrgMember:
    return OrgMember(int(row[0]), int(row[1]), Person(*row[2:]))


class IdentityStore:
    """Organizations, apps, people, app- and org-scoped users, friendships, user tokens and base-app
    entitlements."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # --- organizations and apps -------------------------------------------------------------------
    def insert_org(self, org: Org) -> None:
        self.db.run("INSERT INTO orgs VALUES (?, ?, ?)", (org.id, org.name, org.created_at))

    def get_org(self, org_id: int) -> Org | None:
        row = self.db.one("SELECT id, name, created_at FROM orgs WHERE id = ?", (org_id,))
        return None if row is None else Org(*row)

    def list_orgs(self) -> list[Org]:
        return [Org(*r) for r in self.db.all("SELECT id, name, created_at FROM orgs ORDER BY created_at, id")]

    def insert_app(self, app: App) -> None:
        self.db.run("INSERT INTO apps VALUES (?, ?, ?, ?, ?)",
                    (app.id, app.org_id, app.name, app.secret_hash, app.created_at))

    def get_app(self, app_id: int) -> App | None:
        row = self.db.one(f"SELECT {APP_COLUMNS} FROM apps WHERE id = ?", (app_id,))
        return None if row is None else App(*row)

    def list_apps(self, org_id: int | None = None) -> list[App]:
        sql = f"SELECT {APP_COLUMNS} FROM apps"
        if org_id is None:
            return [App(*r) for r in self.db.all(sql + " ORDER BY created_at, id")]
        return [App(*r) for r in self.db.all(sql + " WHERE org_id = ? ORDER BY created_at, id", (org_id,))]

    def set_app_secret_hash(self, app_id: int, secret_hash: str) -> None:
        with self.db.transaction():  # processes caching the app's callers drop them (auth/tokens.py)
            self.db.run("UPDATE apps SET secret_hash = ? WHERE id = ?", (secret_hash, app_id))
            bump_cache_version(self.db)

    # --- people and their app- and org-scoped ids (D10) -------------------------------------------
    def insert_person(self, alias: str, display_name: str, profile_url: str, age_category: str) -> int:
        return self.db.insert_id(
            "INSERT INTO persons (alias, display_name, profile_url, age_category) VALUES (?, ?, ?, ?)",
            (alias, display_name, profile_url, age_category),
        )

    def rename_person(self, person_id: int, alias: str, display_name: str) -> None:
        self.db.run("UPDATE persons SET alias = ?, display_name = ? WHERE id = ?", (alias, display_name, person_id))

    def delete_app_user(self, user_id: int) -> None:
        """Delete an app user with their tokens and entitlements, and their person when the person is no
        other app's user (with the org-scoped ids and friendships); other features' rows go first."""
        with self.db.transaction():
            user = self.get_user(user_id)
            if user is None:
                return
            self.db.run("DELETE FROM user_tokens WHERE user_id = ?", (user_id,))
            bump_cache_version(self.db)  # processes caching the user's callers drop them (auth/tokens.py)
            self.db.run("DELETE FROM entitlements WHERE user_id = ?", (user_id,))
            self.db.run("DELETE FROM app_users WHERE id = ?", (user_id,))
            self.db.run("DELETE FROM objects WHERE id = ?", (user_id,))
            if self.db.one("SELECT 1 FROM app_users WHERE person_id = ?", (user.person_id,)) is None:
                self.db.run("DELETE FROM objects WHERE id IN (SELECT id FROM org_users WHERE person_id = ?)",
                            (user.person_id,))
                self.db.run("DELETE FROM org_users WHERE person_id = ?", (user.person_id,))
                self.db.run("DELETE FROM friendships WHERE person_a = ? OR person_b = ?",
                            (user.person_id, user.person_id))
                self.db.run("DELETE FROM persons WHERE id = ?", (user.person_id,))

    def find_person_by_alias(self, alias: str) -> int | None:
        row = self.db.one("SELECT id FROM persons WHERE alias = ?", (alias,))
        return None if row is None else int(row[0])

    def insert_app_user(self, user_id: int, app_id: int, person_id: int) -> None:
        self.db.run("INSERT INTO app_users VALUES (?, ?, ?)", (user_id, app_id, person_id))

    def get_user(self, user_id: int) -> User | None:
        row = self.db.one(USER_SELECT + " WHERE u.id = ?", (user_id,))
        return None if row is None else User(*row)

    def get_users(self, user_ids: Iterable[int]) -> dict[int, User]:
        found: dict[int, User] = {}
        for condition, params in self.db.ids_in("u.id", list(set(user_ids))):
            for row in self.db.all(f"{USER_SELECT} WHERE {condition}", params):
                found[row[0]] = User(*row)
        return found

    def find_app_user(self, app_id: int, person_id: int) -> User | None:
        row = self.db.one(USER_SELECT + " WHERE u.app_id = ? AND u.person_id = ?", (app_id, person_id))
        return None if row is None else User(*row)

    def list_app_users(self, app_id: int) -> list[User]:
        return [User(*r) for r in self.db.all(USER_SELECT + " WHERE u.app_id = ? ORDER BY p.id", (app_id,))]

    def search_app_users(self, app_id: int, query: str, offset: int, limit: int) -> tuple[list[User], int]:
        """One page of the app's users whose alias or display name holds ``query`` (``lower()`` on both
        sides: ASCII letters in any case on every backend; others as the database lowers them) or whose id
        is ``query``, in person order, and how many there are in all."""
        where = " WHERE u.app_id = ?"
        params: list[Any] = [app_id]
        if query:
            pattern = "%" + query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            user_id = int(query) if query.isascii() and query.isdigit() and int(query) < 2**63 else -1
            where += (" AND (lower(p.alias) LIKE ? ESCAPE '\\' OR lower(p.display_name) LIKE ? ESCAPE '\\'"
                      " OR u.id = ?)")
            params += [pattern, pattern, user_id]
        total = self.db.one("SELECT COUNT(*) FROM app_users u JOIN persons p ON p.id = u.person_id" + where,
                            params)[0]
        rows = self.db.all(USER_SELECT + where + " ORDER BY p.id LIMIT ? OFFSET ?", (*params, limit, offset))
        return [User(*r) for r in rows], int(total)

    def insert_org_user(self, org_scoped_id: int, org_id: int, person_id: int) -> None:
        self.db.run("INSERT INTO org_users VALUES (?, ?, ?)", (org_scoped_id, org_id, person_id))

    def get_org_scoped_id(self, org_id: int, person_id: int) -> int | None:
        row = self.db.one("SELECT id FROM org_users WHERE org_id = ? AND person_id = ?", (org_id, person_id))
        return None if row is None else int(row[0])

    def add_friendship(self, person_a: int, person_b: int) -> None:
        with self.db.transaction():
            for a, b in ((person_a, person_b), (person_b, person_a)):
                self.db.run("INSERT INTO friendships VALUES (?, ?) ON CONFLICT DO NOTHING", (a, b))

    def friends_of(self, person_id: int) -> list[int]:
        return [r[0] for r in self.db.all("SELECT person_b FROM friendships WHERE person_a = ?", (person_id,))]

    # --- user tokens and entitlements -------------------------------------------------------------
    def insert_user_token(self, token: UserToken) -> None:
        self.db.run("INSERT INTO user_tokens VALUES (?, ?, ?, ?, ?)",
                    (token.token_hash, token.user_id, token.app_id, token.created_at, token.expires_at))

    def get_user_token(self, token_hash: str) -> UserToken | None:
        row = self.db.one(f"SELECT {TOKEN_COLUMNS} FROM user_tokens WHERE token_hash = ?", (token_hash,))
        return None if row is None else UserToken(*row)

    def get_token_holder(self, token_hash: str) -> TokenHolder | None:
        """The token with its app and user, in one query (every user-token call authenticates)."""
        row = self.db.one(TOKEN_HOLDER_SELECT, (token_hash,))
        if row is None:
            return None
        app, user = row[5:10], row[10:17]
        return TokenHolder(UserToken(*row[:5]), None if app[0] is None else App(*app),
                           None if user[0] is None or user[3] is None else User(*user))

    def grant_entitlement(self, user_id: int, app_id: int, granted_at: int) -> None:
        self.db.run("INSERT INTO entitlements VALUES (?, ?, ?) ON CONFLICT DO NOTHING", (user_id, app_id, granted_at))

    def is_entitled(self, user_id: int, app_id: int) -> bool:
        return self.db.one("SELECT 1 FROM entitlements WHERE user_id = ? AND app_id = ?",
                           (user_id, app_id)) is not None

    def base_entitlement_time(self, user_id: int, app_id: int) -> int | None:
        """When the user was entitled to the base app (D27), None when they are not."""
        row = self.db.one("SELECT granted_at FROM entitlements WHERE user_id = ? AND app_id = ?", (user_id, app_id))
        return None if row is None else int(row[0])

    # --- people as the SSO page and user verification see them ------------------------------------
    def get_person(self, person_id: int) -> Person | None:
        row = self.db.one(f"SELECT {_PERSON} FROM persons p WHERE p.id = ?", (person_id,))
        return None if row is None else Person(*row)

    def get_person_alias(self, person_id: int) -> str | None:
        row = self.db.one("SELECT alias FROM persons WHERE id = ?", (person_id,))
        return None if row is None else str(row[0])

    def find_org_member(self, org_scoped_id: int) -> OrgMember | None:
        row = self.db.one(f"SELECT o.id, o.org_id, {_PERSON} FROM org_users o JOIN persons p ON p.id = o.person_id "
                          "WHERE o.id = ?", (org_scoped_id,))
        return None if row is None else _member(row)

    def list_org_members(self, org_id: int, limit: int) -> list[OrgMember]:
        rows = self.db.all(f"SELECT o.id, o.org_id, {_PERSON} FROM org_users o JOIN persons p ON p.id = o.person_id "
                           "WHERE o.org_id = ? ORDER BY p.alias LIMIT ?", (org_id, limit))
        return [_member(r) for r in rows]

    # --- bulk loading (benchmarks, large imports) ------------------------------------------------
    def bulk_insert_users(self, app_id: int, users: Iterable[tuple[int, str]], granted_at: int | None = None) -> int:
        """Many users of one app in one transaction: for each ``(user_id, alias)`` a new person with
        default profile (adult), the app-scoped user and its object id (D9); entitled to the app when
        ``granted_at`` is given. No org-scoped ids (those come with SSO). Returns how many were inserted.
        Ids and aliases must be free: a conflict rolls the whole load back."""
        count = 0
        with self.db.transaction():
            if self.db.one("SELECT 1 FROM apps WHERE id = ?", (app_id,)) is None:
                raise ValueError(f"no app {app_id}")
            (person_id,) = self.db.one("SELECT COALESCE(MAX(id), 0) FROM persons")
            for chunk in chunks(users, BULK_CHUNK):
                persons, app_users = [], []
                for user_id, alias in chunk:
                    person_id += 1
                    persons.append((person_id, alias, alias, f"https://questgraph.invalid/profile/{alias}.png", "AD"))
                    app_users.append((user_id, app_id, person_id))
                self.db.insert_rows("persons", ("id", "alias", "display_name", "profile_url", "age_category"),
                                    persons)
                self.db.insert_rows("objects", ("id", "kind"), [(u[0], "user") for u in app_users])
                self.db.insert_rows("app_users", ("id", "app_id", "person_id"), app_users)
                if granted_at is not None:
                    self.db.insert_rows("entitlements", ("user_id", "app_id", "granted_at"),
                                        [(u[0], app_id, granted_at) for u in app_users])
                count += len(chunk)
            self.db.after_explicit_ids()
        return count
