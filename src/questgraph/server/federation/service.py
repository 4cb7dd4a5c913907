"""Federated users, free of HTTP (graph-api.md A.2; docs/fidelity.md "Federated users").

A federated app is any app: ``{federated_app_id}`` is the app whose app token is used, and another app's id
in the path is refused as every cross-app call is (D7). A federated user is also one of the app's users (an
app-scoped id, a person of its own, entitled to the app), so leaderboards, achievements and user tokens
treat them as any other user; this package adds the persistent id and the federated name.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass

from questgraph.server.achievements.service import AchievementService
from questgraph.server.auth.access import require_app_token, require_path_app
from questgraph.server.auth.callers import AppCaller, Caller
from questgraph.server.clock import Clock
from questgraph.server.db import Database
from questgraph.server.errors import InvalidParameter, NotFound, Unavailable
from questgraph.server.federation.records import FederatedUser
from questgraph.server.federation.store import FederationStore
from questgraph.server.identity.service import IdentityService
from questgraph.server.identity.store import IdentityStore
from questgraph.server.leaderboards.service import LeaderboardService

KIND = "federated_user"  # the object kind of a federated user's id (D9): GET /{id} serves it here
MIN_DISPLAY_NAME, MAX_DISPLAY_NAME = 3, 30  # characters (code points), A.2
MAX_PERSISTENT_ID = 255
PROFILE_URL = "https://questgraph.invalid/federated.png"
MAX_NAME_TRIES = 5  # creates racing for one unique-name number (PostgreSQL, several processes)


def display_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a display name, or None. Meta allows every code point (A.2); the transport
    has already refused what is not UTF-8 text (a lone surrogate) and NUL (D2)."""
    if not MIN_DISPLAY_NAME <= len(name) <= MAX_DISPLAY_NAME:
        return f"must be {MIN_DISPLAY_NAME} to {MAX_DISPLAY_NAME} characters long (got {len(name)})"
    if not name.strip():
        return "must not be only white space"
    return None


def persistent_id_problem(persistent_id: str) -> str | None:
    """Why ``persistent_id`` cannot be one, or None: 1 to 255 characters, none of them white space or a
    control character (it is an index key a developer's own system chose: questgraph's rule, A.2 names
    none)."""
    if not 1 <= len(persistent_id) <= MAX_PERSISTENT_ID:
        return f"must be 1 to {MAX_PERSISTENT_ID} characters long"
    if any(c.isspace() or unicodedata.category(c).startswith("C") for c in persistent_id):
        return "must not hold white space or control characters"
    return None


def _checked_display_name(name: str | None) -> str:
    if name is None or name == "":
        raise InvalidParameter("The parameter display_name is required")
    problem = display_name_problem(name)
    if problem is not None:
        raise InvalidParameter(f"Param display_name {problem}")
    return name


def _checked_persistent_id(persistent_id: str | None) -> str:
    if persistent_id is None or persistent_id == "":
        raise InvalidParameter("The parameter persistent_id is required")
    problem = persistent_id_problem(persistent_id)
    if problem is not None:
        raise InvalidParameter(f"Param persistent_id {problem}")
    return persistent_id


def person_alias(user: FederatedUser) -> str:
    """The alias of the federated user's person, what leaderboard entries show as ``user{alias}``: the
    unique name, qualified by the app (unique names are numbered per app, aliases are server-wide); a
    ``#`` keeps it apart from every alias a person can be given (letters, digits, ``_ . -``)."""
    return f"{user.unique_name}@{user.app_id}"


@dataclass(frozen=True)
class FederatedPage:
    users: list[FederatedUser]
    has_previous: bool
    has_next: bool


class FederationService:
    def __init__(self, db: Database, store: FederationStore, identity_store: IdentityStore, clock: Clock,
                 identity: IdentityService, leaderboards: LeaderboardService,
                 achievements: AchievementService) -> None:
        self.db = db
        self.store = store
        self.identity_store = identity_store
        self.clock = clock
        self.identity = identity
        self.leaderboards = leaderboards
        self.achievements = achievements

    def _app(self, caller: Caller, app_id: int, what: str) -> AppCaller:
        app_caller = require_app_token(caller, what)
        require_path_app(self.identity_store, caller, app_id)  # unknown app 404, another app's 403 (D7)
        return app_caller

    def _by_persistent_id(self, app_id: int, persistent_id: str | None) -> FederatedUser:
        checked = _checked_persistent_id(persistent_id)
        user = self.store.find(app_id, checked)
        if user is None:
            raise NotFound(f"No federated user with persistent_id {checked[:64]!r} exists for this app")
        return user

    # --- Graph ------------------------------------------------------------------------------------
    def create(self, caller: Caller, app_id: int, persistent_id: str | None, display_name: str | None,
               user_id: int | None = None) -> FederatedUser:
        """``federated_user_create``: a new user of the app; its persistent id is the app's only one."""
        app = self._app(caller, app_id, "Creating a federated user").app
        return self.create_in_app(app.id, persistent_id, display_name, user_id)

    def create_in_app(self, app_id: int, persistent_id: str | None, display_name: str | None,
                      user_id: int | None = None) -> FederatedUser:
        """The control plane's create (admin API, world files): the same rules, for any app."""
        checked_id = _checked_persistent_id(persistent_id)
        name = _checked_display_name(display_name)
        self.identity.app(app_id)
        duplicate = InvalidParameter(f"Param persistent_id {checked_id[:64]!r} is already a federated user's")
        with self.db.transaction():
            if self.store.find(app_id, checked_id) is not None:
                raise duplicate
            # The person's alias needs the id, so it starts as a placeholder no person can hold ('#').
            person_id = self.identity_store.insert_person(f"#federated:{secrets.token_hex(16)}", name, PROFILE_URL,
                                                          "AD")
            app_user = self.identity.join_app(person_id, app_id, user_id, kind=KIND)
            for _ in range(MAX_NAME_TRIES):
                user = FederatedUser(app_user.id, app_id, checked_id, name,
                                     self.store.free_name_number(app_id, name), self.clock.now())
                if self.store.insert(user):
                    break
                if self.store.find(app_id, checked_id) is not None:  # a racing create of it committed first
                    raise duplicate
            else:  # the number was taken each time by racing creates: a retry will find a free one
                raise Unavailable("Federated users with this display name are being created at once; retry")
            self.identity_store.rename_person(person_id, person_alias(user), name)
            self.identity.grant_entitlement(app_user.id)  # a federated user plays the app (A.2)
        return user

    def gen_access_token(self, caller: Caller, app_id: int, persistent_id: str | None) -> str:
        """``federated_user_gen_access_token``: a user token of the federated user (stored hashed, D11)."""
        app = self._app(caller, app_id, "Generating a federated user token").app
        return self.identity.mint_user_token(self._by_persistent_id(app.id, persistent_id).id)

    def node(self, caller: Caller, user_id: int) -> FederatedUser:
        """``GET /{id}`` of a federated user: one of the token's app (a user token: only itself)."""
        user = self.store.get(user_id)
        if user is None or user.app_id != caller.app.id:
            # Another app's federated user does not exist for this caller (D9 ids are not secrets, but rows are).
            raise NotFound(f"Object with ID '{user_id}' does not exist, cannot be loaded due to missing "
                           "permissions, or does not support this operation.")
        if not isinstance(caller, AppCaller) and caller.user.id != user.id:
            raise NotFound(f"Object with ID '{user_id}' does not exist, cannot be loaded due to missing "
                           "permissions, or does not support this operation.")
        return user

    def of_user(self, user_id: int) -> FederatedUser | None:
        """The federated user behind an app user, or None (``/me`` with a federated user token)."""
        return self.store.get(user_id)

    def find(self, caller: Caller, app_id: int, persistent_id: str) -> FederatedUser:
        """``GET /{federated_app_id}/federated_users?persistent_id=…``."""
        app = self._app(caller, app_id, "Reading federated users").app
        return self._by_persistent_id(app.id, persistent_id)

    def page(self, caller: Caller, app_id: int, after: int | None, before: int | None,
             limit: int) -> FederatedPage:
        """``GET /{federated_app_id}/federated_users``: the app's federated users in id order."""
        app = self._app(caller, app_id, "Reading federated users").app
        return self.page_of_app(app.id, after, before, limit)

    def page_of_app(self, app_id: int, after: int | None, before: int | None, limit: int) -> FederatedPage:
        rows = self.store.page(app_id, after, before, limit)
        if not rows:
            return FederatedPage([], False, False)
        return FederatedPage(rows, self.store.any_before(app_id, rows[0].id), self.store.any_after(app_id, rows[-1].id))

    def update(self, caller: Caller, app_id: int, persistent_id: str | None, display_name: str | None) -> FederatedUser:
        """``federated_user_update``: a new display name (and so a new unique name); the persistent id is
        immutable, it only selects the user."""
        app = self._app(caller, app_id, "Updating a federated user").app
        return self.update_in_app(app.id, persistent_id, display_name)

    def update_in_app(self, app_id: int, persistent_id: str | None, display_name: str | None) -> FederatedUser:
        with self.db.transaction():
            user = self._by_persistent_id(app_id, persistent_id)
            if display_name is None or display_name == user.display_name:
                return user  # nothing to change (Meta marks display_name optional); the same name keeps its number
            name = _checked_display_name(display_name)
            number = self.store.free_name_number(app_id, name)
            self.store.rename(user.id, name, number)
            renamed = FederatedUser(user.id, user.app_id, user.persistent_id, name, number, user.created_at)
            app_user = self.identity_store.get_user(user.id)
            assert app_user is not None  # a federated user is an app user (both rows go together)
            self.identity_store.rename_person(app_user.person_id, person_alias(renamed), name)
        return renamed

    def delete(self, caller: Caller, app_id: int, persistent_id: str | None) -> None:
        """``DELETE /{federated_app_id}/federated_user``: the user and all their data (leaderboard scores,
        achievement progress, tokens); cannot be undone (A.2)."""
        app_caller = self._app(caller, app_id, "Deleting a federated user")
        self.delete_in_app(app_caller, persistent_id)

    def delete_in_app(self, app_caller: AppCaller, persistent_id: str | None) -> None:
        with self.db.transaction():
            user = self._by_persistent_id(app_caller.app.id, persistent_id)
            self.leaderboards.remove_entries_of_user(user.id)  # the rank index follows after commit
            self.achievements.remove_all(app_caller, user.id)
            self.store.delete(user.id)
            self.identity_store.delete_app_user(user.id)

    # --- control plane ----------------------------------------------------------------------------
    def all_of_app(self, app_id: int) -> list[FederatedUser]:
        return self.page_of_app(self.identity.app(app_id).id, None, None, 10**6).users
