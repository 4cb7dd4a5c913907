"""Admin API handlers: orgs, apps and secret rotation, users, tokens, entitlements, friends, SSO redirect
URIs (over the identity service), and reset, snapshot export/import and the emulator clock (D36, over the
server's whole-state actions). Responses are JSON; errors use the same Graph envelope as the S2S API. The
routes are in admin/routes.py."""

from __future__ import annotations

from typing import Any

from questgraph.server.admin.context import AdminContext
from questgraph.server.clock import MAX_CLOCK_SECONDS, Clock, clock_move
from questgraph.server.errors import Forbidden, InvalidParameter
from questgraph.server.graph.params import parse_id, parse_json
from questgraph.server.graph.request import GraphRequest, require_param
from questgraph.server.identity.records import App, User
from questgraph.server.identity.service import AGE_CATEGORIES, IdentityService
from questgraph.server.snapshots import SNAPSHOT_VERSION, check_snapshot_tables


def _app(app: App, secret: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": str(app.id), "org_id": str(app.org_id), "name": app.name}
    if secret is not None:  # shown once, when made or rotated (D12)
        out["secret"] = secret
        out["app_access_token"] = f"OC|{app.id}|{secret}"
    return out


def _user(identity: IdentityService, user: User) -> dict[str, Any]:
    org_scoped_id = identity.org_scoped_id(user)
    return {
        "id": str(user.id), "app_id": str(user.app_id), "alias": user.alias,
        "display_name": user.display_name, "profile_url": user.profile_url,
        "age_category": user.age_category,
        "org_scoped_id": str(org_scoped_id),
        "entitled": identity.is_entitled(user),
    }


def _optional_id(request: GraphRequest, key: str) -> int | None:
    value = request.params.get(key)
    return None if not value else parse_id(key, value, what="id")


# --- identity ---------------------------------------------------------------------------------------------
def list_orgs(server: AdminContext, request: GraphRequest) -> Any:
    """Each organization with its apps (identity) and its SSO redirect URIs (account linking)."""
    return {"data": [
        {"id": str(o.id), "name": o.name, "apps": [_app(a) for a in server.identity.apps(o.id)],
         "sso_redirect_uris": server.sso.redirect_uris(o.id)}
        for o in server.identity.orgs()
    ]}


def create_org(identity: IdentityService, request: GraphRequest) -> Any:
    org = identity.create_org(require_param(request, "name"), _optional_id(request, "id"))
    return {"id": str(org.id), "name": org.name}


def create_app(identity: IdentityService, request: GraphRequest) -> Any:
    made = identity.create_app(request.path_id("org_id"), require_param(request, "name"),
                               _optional_id(request, "id"), request.params.get("secret") or None)
    return _app(made.app, made.secret)


def get_app(identity: IdentityService, request: GraphRequest) -> Any:
    return _app(identity.app(request.path_id("app_id")))


def rotate_secret(identity: IdentityService, request: GraphRequest) -> Any:
    made = identity.rotate_secret(request.path_id("app_id"), request.params.get("secret") or None)
    return _app(made.app, made.secret)


def create_user(identity: IdentityService, request: GraphRequest) -> Any:
    """A user of an app: a new person (or the person with that alias) and their app-scoped id."""
    params = request.params
    app_id = request.path_id("app_id")
    identity.app(app_id)
    alias = require_param(request, "alias")
    age_category = params.enum("age_category", AGE_CATEGORIES, default="AD") or "AD"
    user_id, org_scoped_id = _optional_id(request, "id"), _optional_id(request, "org_scoped_id")
    entitled = params.boolean("entitled", default=True)
    user = identity.create_user(app_id, alias, display_name=params.get("display_name"),
                                profile_url=params.get("profile_url"), age_category=age_category, user_id=user_id,
                                org_scoped_id=org_scoped_id, entitled=entitled)
    return _user(identity, user)


def list_users(identity: IdentityService, request: GraphRequest) -> Any:
    return {"data": [_user(identity, u) for u in identity.app_users(request.path_id("app_id"))]}


def get_user(identity: IdentityService, request: GraphRequest) -> Any:
    return _user(identity, identity.user(request.path_id("user_id")))


def mint_token(identity: IdentityService, request: GraphRequest) -> Any:
    ttl = request.params.int64("ttl_seconds", minimum=1)
    token = identity.mint_user_token(request.path_id("user_id"), request.params.get("token") or None, ttl)
    return {"access_token": token}


def grant_entitlement(identity: IdentityService, request: GraphRequest) -> Any:
    identity.grant_entitlement(request.path_id("user_id"), request.params.int64("granted_at", minimum=0))
    return {"success": True}


def befriend(identity: IdentityService, request: GraphRequest) -> Any:
    user = identity.user(request.path_id("user_id"))
    friend = identity.user(parse_id("friend_id", require_param(request, "friend_id")))
    identity.befriend(user.person_id, friend.person_id)
    return {"success": True}


def join_org(identity: IdentityService, request: GraphRequest) -> Any:
    """Give the person behind a user an org-scoped id in an organization none of whose apps they use (D10)."""
    user = identity.user(request.path_id("user_id"))
    org_id = parse_id("org_id", require_param(request, "org_id"))
    org_scoped_id = identity.join_org(user.person_id, org_id, _optional_id(request, "org_scoped_id"))
    return {"org_id": str(org_id), "org_scoped_id": str(org_scoped_id)}


# --- whole state ------------------------------------------------------------------------------------------
def reset(server: AdminContext, request: GraphRequest) -> Any:
    server.reset(apply_world=not request.params.boolean("empty"))
    return {"success": True}


def export_snapshot(server: AdminContext, request: GraphRequest) -> Any:
    return {"version": SNAPSHOT_VERSION, "tables": server.export_snapshot()}


def import_snapshot(server: AdminContext, request: GraphRequest) -> Any:
    version = request.params.int64("version", required=True)
    if version != SNAPSHOT_VERSION:
        raise InvalidParameter(f"Param version must be {SNAPSHOT_VERSION}")
    try:
        tables = parse_json(require_param(request, "tables"))
    except ValueError:
        raise InvalidParameter("Param tables must be the JSON object of an exported snapshot") from None
    check_snapshot_tables(tables)
    server.import_snapshot(tables)
    return {"success": True}


def _clock_view(clock: Clock) -> dict[str, Any]:
    return {"now": clock.now(), "offset_seconds": clock.offset_us / 1_000_000, "frozen": clock.frozen_us is not None}


def get_clock(server: AdminContext, request: GraphRequest) -> Any:
    return _clock_view(server.clock)


def move_clock(server: AdminContext, request: GraphRequest) -> Any:
    """Move the emulator clock forward (``advance_seconds``) or to an instant (``set``), and/or freeze or
    thaw it (``freeze=true|false``: a frozen clock stands still between moves), or return it to the wall
    clock (``wall=true``) (D36)."""
    if not server.settings.emulator:
        raise Forbidden("The clock can be moved only in emulator mode")
    advance = request.params.int64("advance_seconds", minimum=0)
    target = request.params.int64("set", minimum=0, maximum=MAX_CLOCK_SECONDS)
    frozen = request.params.boolean("freeze") if request.params.get("freeze") else None
    if request.params.boolean("wall"):  # back to the wall clock: offset 0, running
        if advance is not None or target is not None or frozen is not None:
            raise InvalidParameter("Param wall=true goes alone: it sets the clock to the wall clock, running")
        server.move_clock(lambda clock: setattr(clock, "offset_us", 0))
        return _clock_view(server.clock)
    server.move_clock(clock_move(server.clock, advance=advance, target=target, frozen=frozen))
    return _clock_view(server.clock)
