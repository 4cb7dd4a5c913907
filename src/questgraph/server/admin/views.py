"""Admin API handlers: orgs, apps and secret rotation, users, tokens, entitlements, friends, SSO redirect
URIs, reset, snapshot export/import and the emulator clock (D36). Responses are JSON; errors use the
same Graph envelope as the S2S API."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from questgraph.server.clock import Clock
from questgraph.server.commerce.admin import admin_routes as commerce_admin_routes
from questgraph.server.dashboard.admin import admin_routes as dashboard_admin_routes
from questgraph.server.errors import Forbidden, InvalidParameter
from questgraph.server.graph.params import parse_id, parse_json
from questgraph.server.graph.request import GraphRequest, require_param
from questgraph.server.graph.routing import Router
from questgraph.server.identity.service import AGE_CATEGORIES
from questgraph.server.sso import admin as sso_admin
from questgraph.server.storage.records import App, User
from questgraph.server.users.admin import admin_routes as user_admin_routes

if TYPE_CHECKING:
    from questgraph.server.app import Server

SNAPSHOT_VERSION = 1
MAX_CLOCK_SECONDS = 2**32  # the emulator clock stays before 2106, so every timestamp fits its column (D36)
_COLUMN = re.compile(r"[a-z_][a-z0-9_]{0,63}")


def _app(app: App, secret: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": str(app.id), "org_id": str(app.org_id), "name": app.name}
    if secret is not None:  # shown once, when made or rotated (D12)
        out["secret"] = secret
        out["app_access_token"] = f"OC|{app.id}|{secret}"
    return out


def register(router: Router, server: Server) -> None:
    identity, storage = server.identity, server.storage

    def user_view(user: User) -> dict[str, Any]:
        app = identity.app(user.app_id)
        return {
            "id": str(user.id), "app_id": str(user.app_id), "alias": user.alias,
            "display_name": user.display_name, "profile_url": user.profile_url,
            "age_category": user.age_category,
            "org_scoped_id": str(storage.get_org_scoped_id(app.org_id, user.person_id)),
            "entitled": storage.is_entitled(user.id, user.app_id),
        }

    def optional_id(request: GraphRequest, key: str) -> int | None:
        value = request.params.get(key)
        return None if not value else parse_id(key, value, what="id")

    def list_orgs(request: GraphRequest) -> Any:
        return {"data": [
            {"id": str(o.id), "name": o.name, "apps": [_app(a) for a in storage.list_apps(o.id)],
             "sso_redirect_uris": storage.list_redirect_uris(o.id)}
            for o in storage.list_orgs()
        ]}

    def create_org(request: GraphRequest) -> Any:
        org = identity.create_org(require_param(request, "name"), optional_id(request, "id"))
        return {"id": str(org.id), "name": org.name}

    def create_app(request: GraphRequest) -> Any:
        made = identity.create_app(request.path_id("org_id"), require_param(request, "name"),
                                   optional_id(request, "id"), request.params.get("secret") or None)
        return _app(made.app, made.secret)

    def get_app(request: GraphRequest) -> Any:
        return _app(identity.app(request.path_id("app_id")))

    def rotate_secret(request: GraphRequest) -> Any:
        made = identity.rotate_secret(request.path_id("app_id"), request.params.get("secret") or None)
        return _app(made.app, made.secret)

    def add_redirect_uri(request: GraphRequest) -> Any:
        org_id = request.path_id("org_id")
        identity.add_redirect_uri(org_id, require_param(request, "redirect_uri"))
        return {"data": storage.list_redirect_uris(org_id)}

    def list_redirect_uris(request: GraphRequest) -> Any:
        return {"data": storage.list_redirect_uris(identity.org(request.path_id("org_id")).id)}

    def create_user(request: GraphRequest) -> Any:
        """A user of an app: a new person (or the person with that alias) and their app-scoped id."""
        params = request.params
        app_id = request.path_id("app_id")
        identity.app(app_id)
        alias = require_param(request, "alias")
        age_category = params.enum("age_category", AGE_CATEGORIES, default="AD") or "AD"
        user_id, org_scoped_id = optional_id(request, "id"), optional_id(request, "org_scoped_id")
        entitled = params.boolean("entitled", default=True)
        # One transaction: a request that fails (say, an id already taken) leaves no stray person behind.
        with storage.transaction():
            person = storage.find_person_by_alias(alias)
            if person is None:
                person = identity.create_person(alias, params.get("display_name"), params.get("profile_url"),
                                                age_category)
            user = identity.join_app(person, app_id, user_id, org_scoped_id)
            if entitled:
                identity.grant_entitlement(user.id)
        return user_view(user)

    def list_users(request: GraphRequest) -> Any:
        return {"data": [user_view(u) for u in storage.list_app_users(identity.app(request.path_id("app_id")).id)]}

    def get_user(request: GraphRequest) -> Any:
        return user_view(identity.user(request.path_id("user_id")))

    def mint_token(request: GraphRequest) -> Any:
        ttl = request.params.int64("ttl_seconds", minimum=1)
        token = identity.mint_user_token(request.path_id("user_id"), request.params.get("token") or None, ttl)
        return {"access_token": token}

    def grant(request: GraphRequest) -> Any:
        identity.grant_entitlement(request.path_id("user_id"))
        return {"success": True}

    def befriend(request: GraphRequest) -> Any:
        user = identity.user(request.path_id("user_id"))
        friend = identity.user(parse_id("friend_id", require_param(request, "friend_id")))
        identity.befriend(user.person_id, friend.person_id)
        return {"success": True}

    def reset(request: GraphRequest) -> Any:
        server.reset(apply_world=not request.params.boolean("empty"))
        return {"success": True}

    def export_snapshot(request: GraphRequest) -> Any:
        return {"version": SNAPSHOT_VERSION, "tables": storage.export_tables()}

    def import_snapshot(request: GraphRequest) -> Any:
        version = request.params.int64("version", required=True)
        if version != SNAPSHOT_VERSION:
            raise InvalidParameter(f"Param version must be {SNAPSHOT_VERSION}")
        try:
            tables = parse_json(require_param(request, "tables"))
        except ValueError:
            raise InvalidParameter("Param tables must be the JSON object of an exported snapshot") from None
        _check_snapshot_tables(tables)
        try:
            storage.import_tables(tables)
        except Exception as exc:  # a foreign or edited snapshot: reject it whole, keep the state
            raise InvalidParameter(f"The snapshot cannot be imported: {type(exc).__name__}: {exc}") from None
        # The imported clock offset applies in emulator mode only; production stays on the wall clock (D36).
        server.clock.load_setting(storage.get_setting("clock_offset_us") if server.settings.emulator else None)
        server.build_index()
        return {"success": True}

    def clock_view() -> dict[str, Any]:
        return {"now": server.clock.now(), "offset_seconds": server.clock.offset_us / 1_000_000,
                "frozen": server.clock.frozen_us is not None}

    def get_clock(request: GraphRequest) -> Any:
        return clock_view()

    def move_clock(request: GraphRequest) -> Any:
        """Move the emulator clock forward (``advance_seconds``) or to an instant (``set``), and/or freeze or
        thaw it (``freeze=true|false``: a frozen clock stands still between moves) (D36)."""
        if not server.settings.emulator:
            raise Forbidden("The clock can be moved only in emulator mode")
        advance = request.params.int64("advance_seconds", minimum=0)
        target = request.params.int64("set", minimum=0, maximum=MAX_CLOCK_SECONDS)
        frozen = request.params.boolean("freeze") if request.params.get("freeze") else None
        if (advance is not None and target is not None) or (advance is None and target is None and frozen is None):
            raise InvalidParameter("Send one of advance_seconds or set, and/or freeze=true|false")
        if advance is not None and server.clock.now() + advance > MAX_CLOCK_SECONDS:
            raise InvalidParameter(f"Param advance_seconds would move the clock past {MAX_CLOCK_SECONDS}")

        def change(clock: Clock) -> None:
            if frozen is not None:
                clock.freeze(frozen)
            if advance is not None:
                clock.advance(advance)
            elif target is not None:
                clock.set(target)

        server.move_clock(change)
        return clock_view()

    for method, path, handler in [
        ("GET", "/_admin/orgs", list_orgs),
        ("POST", "/_admin/orgs", create_org),
        ("POST", "/_admin/orgs/{org_id}/apps", create_app),
        ("GET", "/_admin/orgs/{org_id}/redirect_uris", list_redirect_uris),
        ("POST", "/_admin/orgs/{org_id}/redirect_uris", add_redirect_uri),
        ("GET", "/_admin/apps/{app_id}", get_app),
        ("POST", "/_admin/apps/{app_id}/secret", rotate_secret),
        ("GET", "/_admin/apps/{app_id}/users", list_users),
        ("POST", "/_admin/apps/{app_id}/users", create_user),
        ("GET", "/_admin/users/{user_id}", get_user),
        ("POST", "/_admin/users/{user_id}/tokens", mint_token),
        ("POST", "/_admin/users/{user_id}/entitlements", grant),
        ("POST", "/_admin/users/{user_id}/friends", befriend),
        ("POST", "/_admin/reset", reset),
        ("GET", "/_admin/snapshot", export_snapshot),
        ("POST", "/_admin/snapshot", import_snapshot),
        ("GET", "/_admin/clock", get_clock),
        ("POST", "/_admin/clock", move_clock),
        *user_admin_routes(server.users, server.achievements),
        *commerce_admin_routes(server),
        *dashboard_admin_routes(server.dashboard),  # members and the audit log (issue 7)
    ]:
        router.add(method, path, handler)
    sso_admin.register(router, server.sso)  # account links and SSO passwords (D32-D34)


def _check_snapshot_tables(tables: Any) -> None:
    """The shape of an exported snapshot: known tables, each a list of rows keyed by column names. Anything
    else is refused before the database is touched (column names end up in SQL, so they must be plain)."""
    if not isinstance(tables, dict):
        raise InvalidParameter("Param tables must be the JSON object of an exported snapshot")
    for name, rows in tables.items():
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise InvalidParameter(f"Param tables: table {name} must be a list of row objects")
        for row in rows:
            for column in row:
                if not _COLUMN.fullmatch(column):
                    raise InvalidParameter(f"Param tables: table {name} has a malformed column name")
