"""Declarative state: a TOML world file of orgs, apps, users, tokens, entitlements, SSO redirect URIs and
leaderboards (docs/config.md), applied to an empty database. The demo world is one such file.

A world is checked as a whole when it is loaded (unknown keys, types, ids, aliases, references), so a bad
file is refused even when the database already holds state and the world would not be applied. Applying
it is one transaction: a world that fails half-way leaves the database empty, never half-built.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from questgraph.server.achievements.service import AchievementService
from questgraph.server.achievements.world import (
    AchievementSpec,
    AchievementWorldError,
    apply_achievements,
    check_achievements,
)
from questgraph.server.auth.callers import AppCaller
from questgraph.server.challenges.service import ChallengeService, ChallengeSpec, world_challenge
from questgraph.server.commerce.service import CommerceService, ItemSpec
from questgraph.server.commerce.world_spec import GrantSpec, world_grants, world_items
from questgraph.server.dashboard.service import DashboardService
from questgraph.server.dashboard.world_spec import MemberSpec, apply_members, world_members
from questgraph.server.errors import GraphError
from questgraph.server.federation.service import FederationService
from questgraph.server.federation.world_spec import FederatedSpec, apply_federated_users, world_federated_users
from questgraph.server.graph.params import parse_int
from questgraph.server.identity.service import (
    AGE_CATEGORIES,
    IdentityService,
    valid_alias,
    valid_redirect_uri,
    valid_secret,
    valid_user_token,
)
from questgraph.server.integrity.service import IntegrityService
from questgraph.server.integrity.world import DeviceSpec, world_devices
from questgraph.server.leaderboards.service import (
    API_NAME,
    SORT_ORDERS,
    WRITE_POLICIES,
    LeaderboardService,
    decode_extra_data,
)
from questgraph.server.notifications.service import NotificationService
from questgraph.server.notifications.world_spec import NotifRequestSpec, world_notif_requests
from questgraph.server.ranking.index import ProgressLog
from questgraph.server.sso.service import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, SsoService
from questgraph.server.users.service import UserService
from questgraph.server.users.world_nonces import NonceSpec, plant_nonce, world_nonces

# Every key a world file may hold, per table; anything else is a typo and an error.
TOP_KEYS = ("admin_key", "orgs", "users", "faults")  # faults: docs/fault-injection.md
ORG_KEYS = ("id", "name", "sso_redirect_uris", "apps", "members")
APP_KEYS = ("id", "name", "secret", "leaderboards", "achievements", "items", "notif_requests",
            "federated_users", "devices")
BOARD_KEYS = ("api_name", "sort_order", "entry_write_policy", "earliest_allowed_entry_time",
              "latest_allowed_entry_time", "title_locale_map", "entries", "challenges")
CHALLENGE_KEYS = ("title", "description", "visibility", "start_date", "end_date")
ENTRY_KEYS = ("user", "score", "extra_data_base64")
USER_KEYS = ("alias", "display_name", "profile_url", "age_category", "friends", "apps", "password", "orgs")
PERSON_ORG_KEYS = ("org", "org_scoped_id")
MEMBER_KEYS = ("app", "id", "org_scoped_id", "entitled", "entitled_at", "tokens", "purchases", "nonces")
_OBJECT_ID = re.compile(r"[0-9]{15,17}")
PROGRESS_EVERY = 5_000  # users applied between progress lines on the log: a world of 30,000 takes seconds


class WorldError(Exception):
    """A world file that cannot be applied; the message names the item at fault."""


# --- the checked plan ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Entry:
    where: str
    user: str  # an alias of a member of the board's app, or a user id
    score: int
    extra_data: bytes


@dataclass(frozen=True)
class _Board:
    where: str
    api_name: str
    sort_order: str
    entry_write_policy: str | None
    earliest: int | None
    latest: int | None
    title_locale_map: str | None
    entries: list[_Entry]
    challenges: list[ChallengeSpec] = field(default_factory=list)


@dataclass(frozen=True)
class _App:
    where: str
    id: int | None
    name: str
    secret: str | None
    boards: list[_Board]
    achievements: list[AchievementSpec] = field(default_factory=list)
    items: list[ItemSpec] = field(default_factory=list)
    notif_requests: list[tuple[NotifRequestSpec, int | None]] = field(default_factory=list)  # with checked ids
    federated_users: list[FederatedSpec] = field(default_factory=list)  # cross-play users (A.2)
    devices: list[DeviceSpec] = field(default_factory=list)  # platform integrity: known and banned devices


@dataclass(frozen=True)
class _Org:
    where: str
    id: int | None
    name: str
    redirect_uris: list[str]
    apps: list[_App]
    members: list[MemberSpec] = field(default_factory=list)  # dashboard members


@dataclass(frozen=True)
class _Member:
    where: str
    app: int
    id: int | None
    org_scoped_id: int | None
    entitled: bool
    tokens: list[str]
    purchases: list[GrantSpec] = field(default_factory=list)
    nonces: list[NonceSpec] = field(default_factory=list)  # user proof nonces (D8), stored hashed
    entitled_at: int | None = None  # the entitlement's grant time (Unix seconds); None: when applied


@dataclass(frozen=True)
class _User:
    where: str
    alias: str
    display_name: str | None
    profile_url: str | None
    age_category: str
    friends: list[str]
    members: list[_Member]
    password: str | None = None  # for the SSO page's production sign-in; stored only as a scrypt hash
    orgs: list[tuple[int, int | None]] = field(default_factory=list)  # (org id, org-scoped id) with no app


@dataclass
class _Plan:
    orgs: list[_Org] = field(default_factory=list)
    users: list[_User] = field(default_factory=list)


@dataclass
class World:
    data: dict[str, Any]
    source: str
    _plan: _Plan = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            self._plan = _check(self.data)
        except WorldError as exc:
            raise WorldError(f"{self.source}: {exc}") from None

    def app_secrets(self) -> list[str]:
        """The app secrets the file declares (the emulator's dashboard shows an app's while it still works)."""
        return [app.secret for org in self._plan.orgs for app in org.apps if app.secret]

    @classmethod
    def load(cls, path: Path) -> World:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise WorldError(f"{path}: {exc}") from None
        return cls(data, str(path))

    @classmethod
    def demo(cls) -> World:
        text = (resources.files("questgraph.server") / "demo_world.toml").read_text(encoding="utf-8")
        return cls(tomllib.loads(text), "demo world")

    @property
    def digest(self) -> str:
        """What the world declares, as one SHA-256: kept in the settings table when the world is applied, so
        a start-up can tell that the file was edited since (and is not applied to a database in use)."""
        text = json.dumps(self.data, sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def faults(self) -> list[dict[str, Any]]:
        """The ``[[faults]]`` rules (docs/fault-injection.md), as written: the fault service checks each when
        the world is applied (it knows the routes a rule may name)."""
        rules = self.data.get("faults", [])
        if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
            raise WorldError(f"{self.source}: faults must be an array of tables ([[faults]])")
        return rules

    @property
    def admin_key(self) -> str | None:
        key = self.data.get("admin_key")
        return str(key) if key else None

    def apply(self, identity: IdentityService, leaderboards: LeaderboardService, *, achievements: AchievementService,
              commerce: CommerceService, sso: SsoService, dashboard: DashboardService, users: UserService,
              notifications: NotificationService | None = None,
              federation: FederationService | None = None,
              integrity: IntegrityService | None = None,
              challenges: ChallengeService | None = None) -> None:
        """Create everything the world declares, in one transaction (the database should be empty)."""
        where = "top level"
        plan = self._plan
        try:
            with identity.db.transaction():
                callers: dict[int, AppCaller] = {}  # by position of the app in the plan
                for org_spec in plan.orgs:
                    where = org_spec.where
                    org = identity.create_org(org_spec.name, org_spec.id)
                    for uri in org_spec.redirect_uris:
                        sso.add_redirect_uri(org.id, uri)
                    if org_spec.members:
                        def at_member(item: str) -> None:
                            nonlocal where
                            where = item

                        apply_members(dashboard, org.id, org_spec.members, at_member)
                    for app_spec in org_spec.apps:
                        where = app_spec.where
                        made = identity.create_app(org.id, app_spec.name, app_spec.id, app_spec.secret)
                        callers[id(app_spec)] = AppCaller(made.app)
                        if app_spec.federated_users and federation is not None:
                            def at_federated(item: str) -> None:
                                nonlocal where
                                where = item

                            apply_federated_users(federation, made.app.id, app_spec.federated_users, at_federated)
                persons: dict[str, int] = {}
                members: dict[tuple[int, str], int] = {}  # (app id, alias or user id) -> user id
                progress = ProgressLog(f"{self.source}: users applied", every=PROGRESS_EVERY,
                                       total=len(plan.users))
                for user_spec in plan.users:
                    where = user_spec.where
                    progress.step()
                    person = identity.create_person(user_spec.alias, user_spec.display_name,
                                                    user_spec.profile_url, user_spec.age_category)
                    persons[user_spec.alias] = person
                    if user_spec.password is not None:
                        sso.set_password(person, user_spec.password)
                    for org_id, org_scoped_id in user_spec.orgs:  # before the apps: an app may then agree
                        where = f"{user_spec.where}.orgs"
                        identity.join_org(person, org_id, org_scoped_id)
                    for member in user_spec.members:
                        where = member.where
                        user = identity.join_app(person, member.app, member.id, member.org_scoped_id)
                        members[(user.app_id, user_spec.alias)] = user.id
                        members[(user.app_id, str(user.id))] = user.id
                        if member.entitled:
                            identity.grant_entitlement(user.id, member.entitled_at)
                        for token in member.tokens:
                            identity.mint_user_token(user.id, token)
                        for nonce in member.nonces:
                            where = nonce.where
                            plant_nonce(users.store, identity.clock, user.id, user.app_id, nonce)
                for user_spec in plan.users:
                    where = f"{user_spec.where}.friends"
                    for friend in user_spec.friends:
                        identity.befriend(persons[user_spec.alias], persons[friend])
                for org_spec in plan.orgs:
                    for app_spec in org_spec.apps:
                        caller = callers[id(app_spec)]
                        for board_spec in app_spec.boards:
                            where = board_spec.where
                            board = leaderboards.upsert(
                                caller, caller.app.id, board_spec.api_name,
                                sort_order=board_spec.sort_order, entry_write_policy=board_spec.entry_write_policy,
                                earliest=board_spec.earliest, latest=board_spec.latest,
                                title_locale_map=board_spec.title_locale_map,
                            )
                            for entry in board_spec.entries:
                                where = entry.where
                                user_id = members.get((caller.app.id, entry.user))
                                if user_id is None:
                                    raise WorldError(f"{self.source}: {where}: no user {entry.user!r} in app "
                                                     f"{caller.app.id}")
                                leaderboards.submit(caller, board.api_name, entry.score, entry.extra_data, True,
                                                    user_id)
                            for challenge in board_spec.challenges:
                                where = challenge.where
                                if challenges is not None:
                                    challenges.create_from_spec(caller, board.api_name, challenge)
                        if app_spec.achievements:
                            def at(item: str) -> None:
                                nonlocal where
                                where = item

                            def user_of(ref: str, app_id: int = caller.app.id) -> int | None:
                                return members.get((app_id, ref))

                            apply_achievements(achievements, caller, app_spec.achievements, user_of, at)
                # The IAP catalogue of every app, then the items and subscriptions granted to users.
                for org_spec in plan.orgs:
                    for app_spec in org_spec.apps:
                        for item_spec in app_spec.items:
                            where = f"{app_spec.where}.items ({item_spec.sku})"
                            commerce.create_item(callers[id(app_spec)].app.id, item_spec)
                        for notif_spec, notif_id in app_spec.notif_requests:
                            where = notif_spec.where  # D37: request templates, as the admin API registers them
                            if notifications is not None:
                                notifications.register_request(callers[id(app_spec)].app.id, notif_spec.category,
                                                               notif_spec.name, notif_id)
                for user_spec in plan.users:
                    for grantee in user_spec.members:
                        for grant in grantee.purchases:
                            where = grant.where
                            commerce.grant(members[(grantee.app, user_spec.alias)], grant.sku,
                                           expires_at=grant.expires_at, trial=grant.trial,
                                           granted_at=grant.granted_at)
                # Platform integrity: the devices each app knows, and their bans.
                devices = [(app_spec, d) for org_spec in plan.orgs for app_spec in org_spec.apps
                           for d in app_spec.devices]
                if integrity is not None:
                    for app_spec, device in devices:
                        where = device.where
                        integrity.plant_device(callers[id(app_spec)].app.id, device.unique_id, device.banned_minutes)
        except GraphError as exc:
            raise WorldError(f"{self.source}: {where}: {exc.message}") from None
        except AchievementWorldError as exc:
            raise WorldError(f"{self.source}: {exc}") from None


# --- checking ---------------------------------------------------------------------------------------------
def _check(data: Any) -> _Plan:
    """Everything about a world that needs no database, with messages naming the item at fault."""
    top = _table(data, "top level", TOP_KEYS)
    if "admin_key" in top and not isinstance(top["admin_key"], str):
        raise WorldError("admin_key must be a string")
    plan = _Plan()
    declared_apps: dict[int, str] = {}
    declared_orgs: set[int] = set()
    fixed_ids: dict[int, str] = {}
    device_ids: dict[str, str] = {}  # platform integrity: a unique id is one device of one app

    def claim(object_id: int | None, where: str) -> None:
        if object_id is None:
            return
        if object_id in fixed_ids:
            raise WorldError(f"{where}: id {object_id} is already used by {fixed_ids[object_id]} (ids are unique "
                             "across all objects, D9)")
        fixed_ids[object_id] = where

    for o, raw_org in enumerate(_list(top.get("orgs", []), "orgs")):
        where = f"orgs[{o}]"
        org = _table(raw_org, where, ORG_KEYS)
        name = _name(org, where)
        where = f"{where} ({name})"
        org_id = _object_id(org.get("id"), where, "id")
        claim(org_id, where)
        if org_id is not None:
            declared_orgs.add(org_id)
        uris = [_string(u, f"{where}.sso_redirect_uris[{i}]")
                for i, u in enumerate(_list(org.get("sso_redirect_uris", []), f"{where}.sso_redirect_uris"))]
        for i, uri in enumerate(uris):
            if not valid_redirect_uri(uri):
                raise WorldError(f"{where}.sso_redirect_uris[{i}]: {uri[:100]!r} is not an absolute http(s) URI "
                                 "with a host, without spaces or a fragment")
        apps = []
        for a, raw_app in enumerate(_list(org.get("apps", []), f"{where}.apps")):
            app_where = f"{where}.apps[{a}]"
            app = _table(raw_app, app_where, APP_KEYS)
            app_name = _name(app, app_where)
            app_where = f"{app_where} ({app_name})"
            app_id = _object_id(app.get("id"), app_where, "id")
            claim(app_id, app_where)
            if app_id is not None:
                declared_apps[app_id] = app_where
            secret = None
            if "secret" in app:
                secret = app["secret"]
                if not isinstance(secret, str) or not valid_secret(secret):
                    # Never echo the secret, not even a bad one (D7).
                    raise WorldError(f"{app_where}: secret must be a string of 16 to 128 letters or digits")
            boards = [_board(raw, f"{app_where}.leaderboards[{b}]")
                      for b, raw in enumerate(_list(app.get("leaderboards", []), f"{app_where}.leaderboards"))]
            seen: dict[str, str] = {}
            for board in boards:
                if board.api_name in seen:
                    raise WorldError(f"{board.where}: api_name {board.api_name!r} is already declared by "
                                     f"{seen[board.api_name]}")
                seen[board.api_name] = board.where
            try:
                achievements = check_achievements(app.get("achievements", []), app_where)
            except AchievementWorldError as exc:
                raise WorldError(str(exc)) from None
            try:
                items = world_items(app.get("items", []), f"{app_where}.items")
            except ValueError as exc:
                raise WorldError(str(exc)) from None
            try:
                notif_specs = world_notif_requests(app.get("notif_requests", []), f"{app_where}.notif_requests")
                federated = world_federated_users(app.get("federated_users", []), f"{app_where}.federated_users")
            except ValueError as exc:
                raise WorldError(str(exc)) from None
            notif_requests = []
            for notif_spec in notif_specs:
                notif_id = _object_id(notif_spec.id, notif_spec.where, "id")
                claim(notif_id, notif_spec.where)
                notif_requests.append((notif_spec, notif_id))
            for spec in federated:
                claim(spec.id, spec.where)
            try:
                devices = world_devices(app.get("devices", []), f"{app_where}.devices", device_ids)
            except ValueError as exc:
                raise WorldError(str(exc)) from None
            apps.append(_App(app_where, app_id, app_name, secret, boards, achievements, items=items,
                             notif_requests=notif_requests, federated_users=federated, devices=devices))
        try:
            org_members = world_members(org.get("members", []), f"{where}.members")
        except ValueError as exc:
            raise WorldError(str(exc)) from None
        plan.orgs.append(_Org(where, org_id, name, uris, apps, org_members))

    aliases: dict[str, str] = {}
    tokens: dict[str, str] = {}
    nonce_digests: dict[str, str] = {}  # every declared nonce is one row keyed by its digest (D8)
    user_refs: dict[int, set[str]] = {}  # app id -> aliases and user ids of its members
    for u, raw_user in enumerate(_list(top.get("users", []), "users")):
        where = f"users[{u}]"
        user = _table(raw_user, where, USER_KEYS)
        if "alias" not in user:
            raise WorldError(f"{where}: missing key 'alias'")
        alias = _string(user["alias"], f"{where}.alias")
        if not valid_alias(alias):
            raise WorldError(f"{where}: alias {alias[:80]!r} must be 1 to 64 characters of letters, digits, _ . -")
        where = f"{where} ({alias})"
        if alias in aliases:
            raise WorldError(f"{where}: alias {alias!r} is already used by {aliases[alias]}")
        aliases[alias] = where
        age = user.get("age_category", "AD")
        age = age.strip().upper() if isinstance(age, str) else age
        if age not in AGE_CATEGORIES:
            raise WorldError(f"{where}: age_category must be one of {', '.join(AGE_CATEGORIES)} (got {age!r})")
        friends = [_string(f, f"{where}.friends[{i}]")
                   for i, f in enumerate(_list(user.get("friends", []), f"{where}.friends"))]
        members: list[_Member] = []
        for m, raw_member in enumerate(_list(user.get("apps", []), f"{where}.apps")):
            member_where = f"{where}.apps[{m}]"
            member = _table(raw_member, member_where, MEMBER_KEYS)
            if "app" not in member:
                raise WorldError(f"{member_where}: missing key 'app' (the id of an app declared under [[orgs.apps]])")
            app_id = _object_id(member["app"], member_where, "app")
            assert app_id is not None
            if app_id not in declared_apps:
                raise WorldError(f"{member_where}: app {app_id} is not declared under [[orgs.apps]] with that id")
            if any(other.app == app_id for other in members):
                raise WorldError(f"{member_where}: {alias} is already a user of app {app_id}")
            user_id = _object_id(member.get("id"), member_where, "id")
            claim(user_id, member_where)
            org_scoped_id = _object_id(member.get("org_scoped_id"), member_where, "org_scoped_id")
            entitled = member.get("entitled", True)
            if not isinstance(entitled, bool):
                raise WorldError(f"{member_where}: entitled must be true or false")
            entitled_at = member.get("entitled_at")
            if entitled_at is not None and (isinstance(entitled_at, bool) or not isinstance(entitled_at, int)
                                            or entitled_at < 0 or not entitled):
                raise WorldError(f"{member_where}: entitled_at must be Unix seconds (an integer, 0 or more), "
                                 "with entitled = true")
            member_tokens = []
            for t, token in enumerate(_list(member.get("tokens", []), f"{member_where}.tokens")):
                if not isinstance(token, str) or not valid_user_token(token):
                    raise WorldError(f"{member_where}.tokens[{t}]: a user token must be OC or FRL followed by 20 "
                                     "to 256 letters or digits")
                if token in tokens:
                    raise WorldError(f"{member_where}.tokens[{t}]: the same token is already given to "
                                     f"{tokens[token]}")
                tokens[token] = member_where
                member_tokens.append(token)
            refs = user_refs.setdefault(app_id, set())
            refs.add(alias)
            if user_id is not None:
                refs.add(str(user_id))
            try:
                purchases = world_grants(member.get("purchases", []), f"{member_where}.purchases")
                nonces = world_nonces(member.get("nonces", []), f"{member_where}.nonces", nonce_digests)
            except ValueError as exc:
                raise WorldError(str(exc)) from None
            members.append(_Member(member_where, app_id, user_id, org_scoped_id, entitled, member_tokens,
                                   purchases=purchases, nonces=nonces, entitled_at=entitled_at))
        person_orgs: list[tuple[int, int | None]] = []
        for n, raw_org in enumerate(_list(user.get("orgs", []), f"{where}.orgs")):
            org_where = f"{where}.orgs[{n}]"
            person_org = _table(raw_org, org_where, PERSON_ORG_KEYS)
            org_id = _object_id(person_org.get("org"), org_where, "org")
            if org_id is None or org_id not in declared_orgs:
                raise WorldError(f"{org_where}: org must be the id of an org declared under [[orgs]] with that id")
            if any(known == org_id for known, _ in person_orgs):
                raise WorldError(f"{org_where}: {alias} already has an org-scoped id in org {org_id}")
            org_scoped_id = _object_id(person_org.get("org_scoped_id"), org_where, "org_scoped_id")
            claim(org_scoped_id, org_where)
            person_orgs.append((org_id, org_scoped_id))
        password = user.get("password")
        if password is not None and (not isinstance(password, str)
                                     or not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH):
            # Never echo the password, not even a bad one (D7).
            raise WorldError(f"{where}: password must be a string of {MIN_PASSWORD_LENGTH} to "
                             f"{MAX_PASSWORD_LENGTH} characters")
        plan.users.append(_User(where, alias, _optional_string(user, "display_name", where),
                                _optional_string(user, "profile_url", where), age, friends, members, password,
                                person_orgs))

    for user_spec in plan.users:
        for i, friend in enumerate(user_spec.friends):
            if friend not in aliases:
                raise WorldError(f"{user_spec.where}.friends[{i}]: no user with alias {friend!r}")
    for org_spec in plan.orgs:
        for app_spec in org_spec.apps:
            refs = user_refs.get(app_spec.id, set()) if app_spec.id is not None else set()
            for board in app_spec.boards:
                for entry in board.entries:
                    if entry.user not in refs:
                        raise WorldError(f"{entry.where}: no user {entry.user!r} in this app (give the alias or id "
                                         "of a user whose [[users.apps]] names this app)")
            for achievement in app_spec.achievements:
                for row in achievement.progress:
                    if row.user not in refs:
                        raise WorldError(f"{row.where}: no user {row.user!r} in this app (give the alias or id "
                                         "of a user whose [[users.apps]] names this app)")
    skus_of_app = {a.id: {i.sku for i in a.items} for o in plan.orgs for a in o.apps if a.id is not None}
    for user_spec in plan.users:
        for grantee in user_spec.members:
            for grant in grantee.purchases:
                if grant.sku not in skus_of_app.get(grantee.app, set()):
                    raise WorldError(f"{grant.where}: no item with sku {grant.sku!r} in the catalogue of app "
                                     f"{grantee.app} (declare it under [[orgs.apps.items]])")
    return plan


def _board(raw: Any, where: str) -> _Board:
    board = _table(raw, where, BOARD_KEYS)
    if "api_name" not in board:
        raise WorldError(f"{where}: missing key 'api_name'")
    api_name = _string(board["api_name"], f"{where}.api_name")
    if not API_NAME.fullmatch(api_name):
        raise WorldError(f"{where}: api_name {api_name[:80]!r} must be 1 to 64 characters of letters, digits, _ . -")
    where = f"{where} ({api_name})"
    sort_order = _choice(board.get("sort_order"), SORT_ORDERS, where, "sort_order")
    if sort_order is None:
        raise WorldError(f"{where}: missing key 'sort_order' ({' or '.join(SORT_ORDERS)})")
    policy = _choice(board.get("entry_write_policy"), WRITE_POLICIES, where, "entry_write_policy")
    earliest = _time(board.get("earliest_allowed_entry_time"), where, "earliest_allowed_entry_time")
    latest = _time(board.get("latest_allowed_entry_time"), where, "latest_allowed_entry_time")
    if earliest is not None and latest is not None and earliest >= latest:
        raise WorldError(f"{where}: earliest_allowed_entry_time must be before latest_allowed_entry_time")
    titles = board.get("title_locale_map")
    if titles is not None and (not isinstance(titles, dict)
                               or not all(isinstance(v, str) for v in titles.values())):
        raise WorldError(f'{where}: title_locale_map must be a table of strings, e.g. {{ en_US = "Best lap" }}')
    entries = []
    for e, raw_entry in enumerate(_list(board.get("entries", []), f"{where}.entries")):
        entry_where = f"{where}.entries[{e}]"
        entry = _table(raw_entry, entry_where, ENTRY_KEYS)
        for key in ("user", "score"):
            if key not in entry:
                raise WorldError(f"{entry_where}: missing key {key!r}")
        user = entry["user"]
        if isinstance(user, bool) or not isinstance(user, str | int):
            raise WorldError(f"{entry_where}: user must be the alias or id of a user")
        try:
            score = parse_int("score", entry["score"])  # a signed 64-bit integer (D13)
            extra = entry.get("extra_data_base64")
            if extra is not None and not isinstance(extra, str):
                raise WorldError(f"{entry_where}: extra_data_base64 must be a string")
            extra_data = decode_extra_data(extra)
        except GraphError as exc:
            raise WorldError(f"{entry_where}: {exc.message.removeprefix('Param ')}") from None
        entries.append(_Entry(entry_where, str(user), score, extra_data))
    challenges = [world_challenge(_table(raw_c, f"{where}.challenges[{c}]", CHALLENGE_KEYS),
                                  f"{where}.challenges[{c}]", WorldError)
                  for c, raw_c in enumerate(_list(board.get("challenges", []), f"{where}.challenges"))]
    return _Board(where, api_name, sort_order, policy, earliest, latest,
                  None if titles is None else json.dumps(titles, ensure_ascii=False), entries, challenges)


def _table(value: Any, where: str, keys: Iterable[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise WorldError(f"{where}: must be a table")
    allowed = tuple(keys)
    for key in value:
        if key not in allowed:
            raise WorldError(f"{where}: unknown key {key!r} (known keys: {', '.join(allowed)})")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise WorldError(f"{where}: must be a list")
    return value


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise WorldError(f"{where}: must be a non-empty string")
    return value


def _optional_string(table: dict[str, Any], key: str, where: str) -> str | None:
    return None if table.get(key) is None else _string(table[key], f"{where}.{key}")


def _name(table: dict[str, Any], where: str) -> str:
    if "name" not in table:
        raise WorldError(f"{where}: missing key 'name'")
    return _string(table["name"], f"{where}.name")


def _object_id(value: Any, where: str, key: str) -> int | None:
    """An object id (D9): 15 to 17 digits, as a string or an integer."""
    if value is None:
        return None
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not _OBJECT_ID.fullmatch(text):
        raise WorldError(f"{where}: {key} must be 15 to 17 digits, as a string or an integer (got {str(value)[:40]!r})")
    return int(text)


def _choice(value: Any, choices: tuple[str, ...], where: str, key: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value.strip().upper() not in choices:
        raise WorldError(f"{where}: {key} must be one of {', '.join(choices)} (got {value!r})")
    return value.strip().upper()


def _time(value: Any, where: str, key: str) -> int | None:
    if value is None:
        return None
    try:
        return parse_int(key, value, minimum=0)
    except GraphError:
        raise WorldError(f"{where}: {key} must be Unix seconds (an integer ≥ 0)") from None
