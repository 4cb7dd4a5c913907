"""The control-plane side of identity. No HTTP here: the admin API and the config loader call this."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from questgraph.server.auth.secrets import digest, new_app_secret, new_object_id, new_user_token
from questgraph.server.clock import Clock
from questgraph.server.db import Database, ObjectIds
from questgraph.server.errors import InvalidParameter, NotFound
from questgraph.server.graph.params import parse_id
from questgraph.server.identity.records import App, Org, User, UserToken
from questgraph.server.identity.store import IdentityStore

AGE_CATEGORIES = ("CH", "TN", "AD")
_SECRET = re.compile(r"[A-Za-z0-9]{16,128}")
_USER_TOKEN = re.compile(r"(?:OC|FRL)[A-Za-z0-9]{20,256}")
_ALIAS = re.compile(r"[A-Za-z0-9_.-]{1,64}")
MAX_TOKEN_TTL_SECONDS = 100 * 366 * 24 * 3600  # a century; an unbounded ttl would overflow the stored int64
_URI_FORBIDDEN = re.compile(r"[\s\x00-\x1f\x7f#]")


def valid_secret(secret: str) -> bool:
    """An app secret given by a world file or the admin API: 16 to 128 letters or digits."""
    return _SECRET.fullmatch(secret) is not None


def valid_user_token(token: str) -> bool:
    """A fixed user token: ``OC`` or ``FRL`` and 20 to 256 letters or digits (minted ones have 96, D11)."""
    return _USER_TOKEN.fullmatch(token) is not None


def valid_alias(alias: str) -> bool:
    return _ALIAS.fullmatch(alias) is not None


def valid_redirect_uri(uri: str) -> bool:
    """An absolute http(s) URI with a host, without whitespace, control characters or a fragment (D30)."""
    if len(uri) > 2048 or _URI_FORBIDDEN.search(uri):
        return False
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 (raises ValueError on a malformed port)
    except ValueError:
        return False
    scheme_ok = parts.scheme in ("http", "https") and uri.lower().startswith(parts.scheme + "://")
    return scheme_ok and bool(parts.hostname)


@dataclass(frozen=True)
class NewApp:
    app: App
    secret: str  # shown once, when the app is made or its secret rotated (D12)


class IdentityService:
    def __init__(self, db: Database, store: IdentityStore, ids: ObjectIds, clock: Clock) -> None:
        self.db = db
        self.store = store
        self.ids = ids
        self.clock = clock

    def claim_id(self, kind: str, fixed: int | None = None) -> int:
        """A fresh global object id (D9), or ``fixed`` when it is free."""
        if fixed is not None:
            if not 10**14 <= fixed < 10**17:
                raise InvalidParameter(f"Param id must have 15 to 17 digits (got {fixed})")
            if not self.ids.claim_object_id(fixed, kind):
                raise InvalidParameter(f"Param id {fixed} is already taken by another object")
            return fixed
        while True:
            candidate = new_object_id()
            if self.ids.claim_object_id(candidate, kind):
                return candidate

    def release_id(self, object_id: int) -> None:
        """Give back an id ``claim_id`` returned, when the object it was claimed for was not made."""
        self.ids.release_object_id(object_id)

    # --- orgs and apps ----------------------------------------------------------------------------
    def create_org(self, name: str, org_id: int | None = None) -> Org:
        with self.db.transaction():
            org = Org(self.claim_id("org", org_id), name, self.clock.now())
            self.store.insert_org(org)
        return org

    def org(self, org_id: int) -> Org:
        org = self.store.get_org(org_id)
        if org is None:
            raise NotFound(f"Organization {org_id} does not exist")
        return org

    def create_app(self, org_id: int, name: str, app_id: int | None = None, secret: str | None = None) -> NewApp:
        self.org(org_id)
        if secret is not None and not valid_secret(secret):
            raise InvalidParameter("Param secret must be 16 to 128 letters or digits")
        secret = secret or new_app_secret()
        with self.db.transaction():
            app = App(self.claim_id("app", app_id), org_id, name, digest(secret), self.clock.now())
            self.store.insert_app(app)
        return NewApp(app, secret)

    def app(self, app_id: int) -> App:
        app = self.store.get_app(app_id)
        if app is None:
            raise NotFound(f"App {app_id} does not exist")
        return app

    def rotate_secret(self, app_id: int, secret: str | None = None) -> NewApp:
        """The new secret works at once and the old one stops at once (D12)."""
        app = self.app(app_id)
        if secret is not None and not valid_secret(secret):
            raise InvalidParameter("Param secret must be 16 to 128 letters or digits")
        secret = secret or new_app_secret()
        self.store.set_app_secret_hash(app.id, digest(secret))
        return NewApp(self.app(app_id), secret)

    def orgs(self) -> list[Org]:
        return self.store.list_orgs()

    def apps(self, org_id: int) -> list[App]:
        return self.store.list_apps(org_id)

    # --- people and users -------------------------------------------------------------------------
    def create_person(self, alias: str, display_name: str | None = None, profile_url: str | None = None,
                      age_category: str = "AD") -> int:
        if not valid_alias(alias):
            raise InvalidParameter("Param alias must be 1 to 64 characters of letters, digits, _ . -")
        if age_category not in AGE_CATEGORIES:
            raise InvalidParameter("Param age_category must be one of {CH, TN, AD}")
        if self.store.find_person_by_alias(alias) is not None:
            raise InvalidParameter(f"Param alias {alias} is already taken")
        return self.store.insert_person(
            alias, display_name or alias, profile_url or f"https://questgraph.invalid/profile/{alias}.png",
            age_category,
        )

    def join_app(self, person_id: int, app_id: int, user_id: int | None = None,
                 org_scoped_id: int | None = None, kind: str = "user") -> User:
        """Give a person their app-scoped id in ``app_id`` (and an org-scoped id in its org). ``kind`` is
        the object kind of the id (D9): ``federated_user`` for a federated user's."""
        app = self.app(app_id)
        existing = self.store.find_app_user(app_id, person_id)
        if existing is not None:
            return existing
        with self.db.transaction():
            self.store.insert_app_user(self.claim_id(kind, user_id), app_id, person_id)
            self.join_org(person_id, app.org_id, org_scoped_id)
        user = self.store.find_app_user(app_id, person_id)
        assert user is not None
        return user

    def join_org(self, person_id: int, org_id: int, org_scoped_id: int | None = None) -> int:
        """The person's org-scoped id in ``org_id`` (D10): the one they have, or a new one (``org_scoped_id``
        when given), with no app of the org needed; a different ``org_scoped_id`` than theirs is a 400."""
        self.org(org_id)
        with self.db.transaction():
            known = self.store.get_org_scoped_id(org_id, person_id)
            if known is None:
                known = self.claim_id("org_user", org_scoped_id)
                self.store.insert_org_user(known, org_id, person_id)
            elif org_scoped_id is not None and org_scoped_id != known:
                raise InvalidParameter(f"Param org_scoped_id: person already has org-scoped id {known}")
        return known

    def create_user(self, app_id: int, alias: str, *, display_name: str | None = None,
                    profile_url: str | None = None, age_category: str = "AD", user_id: int | None = None,
                    org_scoped_id: int | None = None, entitled: bool = True) -> User:
        """A user of an app: a new person (or the person with that alias) and their app-scoped id."""
        # One transaction: a call that fails (say, an id already taken) leaves no stray person behind.
        with self.db.transaction():
            person = self.store.find_person_by_alias(alias)
            if person is None:
                person = self.create_person(alias, display_name, profile_url, age_category)
            user = self.join_app(person, app_id, user_id, org_scoped_id)
            if entitled:
                self.grant_entitlement(user.id)
        return user

    def app_users(self, app_id: int) -> list[User]:
        return self.store.list_app_users(self.app(app_id).id)

    def search_app_users(self, app_id: int, query: str, offset: int, limit: int) -> tuple[list[User], int]:
        """A page of the app's users found by alias or display name (any ASCII case) or id, and the count."""
        return self.store.search_app_users(self.app(app_id).id, query, offset, limit)

    def org_scoped_id(self, user: User) -> int | None:
        """The user's id in their app's organization."""
        return self.store.get_org_scoped_id(self.app(user.app_id).org_id, user.person_id)

    def is_entitled(self, user: User) -> bool:
        return self.store.is_entitled(user.id, user.app_id)

    def user(self, user_id: int) -> User:
        user = self.store.get_user(user_id)
        if user is None:
            raise NotFound(f"User {user_id} does not exist")
        return user

    def befriend(self, person_a: int, person_b: int) -> None:
        """Friends are mutual follows (D10)."""
        if person_a != person_b:
            self.store.add_friendship(person_a, person_b)

    def friends_of(self, person_id: int) -> list[int]:
        """The person ids of the person's friends (D10)."""
        return self.store.friends_of(person_id)

    # --- lookups of the dashboard: None, not an error, for what is not the app's --------------------
    def user_in_app(self, app_id: int, user_id: int) -> User | None:
        """The user with that app-scoped id, when it is one of the app's."""
        user = self.store.get_user(user_id)
        return user if user is not None and user.app_id == app_id else None

    def find_user(self, app_id: int, id_or_alias: str) -> User | None:
        """The app's user with that app-scoped id, or else with that alias."""
        try:  # the Graph API's id rule: "²" or a number past int64 is no id (an alias, maybe)
            user_id: int | None = parse_id("user_id", id_or_alias)
        except InvalidParameter:
            user_id = None
        if user_id is not None:
            user = self.user_in_app(app_id, user_id)
            if user is not None:
                return user
        person = self.store.find_person_by_alias(id_or_alias)
        return None if person is None else self.store.find_app_user(app_id, person)

    def grant_entitlement(self, user_id: int, granted_at: int | None = None) -> None:
        """Entitle the user to their app, now or at ``granted_at`` (Unix seconds, not after now on the
        server clock). Idempotent: an existing entitlement keeps its time."""
        user = self.user(user_id)
        now = self.clock.now()
        if granted_at is not None and not 0 <= granted_at <= now:
            raise InvalidParameter(f"Param granted_at must be a time in the past or now (Unix seconds, server "
                                   f"clock: now is {now})")
        self.store.grant_entitlement(user.id, user.app_id, now if granted_at is None else granted_at)

    def mint_user_token(self, user_id: int, token: str | None = None, ttl_seconds: int | None = None) -> str:
        """What the headset's GetAccessToken would return; stored only as a hash (D11)."""
        user = self.user(user_id)
        if token is not None and not valid_user_token(token):
            raise InvalidParameter("Param token must be OC or FRL followed by 20 to 256 letters or digits")
        if ttl_seconds is not None and not 1 <= ttl_seconds <= MAX_TOKEN_TTL_SECONDS:
            raise InvalidParameter(f"Param ttl_seconds must be between 1 and {MAX_TOKEN_TTL_SECONDS}")
        token = token or new_user_token()
        known = self.store.get_user_token(digest(token))
        if known is not None:
            if known.user_id != user.id:
                raise InvalidParameter("Param token is already the token of another user")
            return token
        now = self.clock.now()
        expires_at = None if ttl_seconds is None else now + ttl_seconds
        self.store.insert_user_token(UserToken(digest(token), user.id, user.app_id, now, expires_at))
        return token
