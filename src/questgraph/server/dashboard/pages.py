"""The web dashboard at ``/dashboard`` (issue 7): server-rendered pages over the same services as the admin
API. Every action that the admin API also offers is run through the admin API's own handler (``_admin``),
so validation, errors and rules are the same code; leaderboards and achievements call their services with
the app's own ``AppCaller``, exactly what an app-token Graph call would do.

Security: a session cookie (HttpOnly, SameSite=Strict, Secure over HTTPS) names a member of one
organization; every page checks on the server that the objects it shows belong to that organization (a
foreign id is a plain 404, as an unknown one), and every admin-only page or action checks the role. Every
POST carries a CSRF token bound to the session (or, before sign-in, to a pre-session cookie). New secrets
and tokens are shown once, in the answer to the POST that made them, and never again.
"""

# ruff: noqa: E501 -- page markup: a line of HTML reads better whole than cut into fragments

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

import anyio
from starlette.requests import Request
from starlette.responses import Response

from questgraph.server.auth.callers import AppCaller
from questgraph.server.dashboard import templates as t
from questgraph.server.dashboard.inspector import InspectedRequest
from questgraph.server.dashboard.service import (
    EMULATOR_ACTOR,
    DashboardService,
    Viewer,
    check_csrf,
    check_login_csrf,
    csrf_for,
    login_csrf,
)
from questgraph.server.db import DATABASE_ERRORS
from questgraph.server.errors import GraphError, InvalidParameter, MethodNotAllowed, NotFound
from questgraph.server.graph.params import Params
from questgraph.server.graph.request import GraphRequest
from questgraph.server.graph.routing import Router
from questgraph.server.graph.transport import public_base_url
from questgraph.server.identity.records import App, User
from questgraph.server.leaderboards.records import Leaderboard
from questgraph.server.leaderboards.service import SORT_ORDERS, WRITE_POLICIES, EntriesQuery
from questgraph.server.sso.limiter import TooManyAttempts
from questgraph.server.sso.urls import sso_page_url

if TYPE_CHECKING:
    from questgraph.server.app import Server

log = logging.getLogger("questgraph.dashboard")
PREFIX = "/dashboard"
COOKIE = "qg_dash_session"
PRE_COOKIE = "qg_dash_pre"  # before sign-in: what the sign-in forms' CSRF token is bound to
PAGE_SIZE = 25
CHART_SAMPLE = 200_000  # scores read for the chart; a larger board is charted from its first ones
AGE_NAMES = {"CH": "Child (under 13)", "TN": "Teen (13-17)", "AD": "Adult"}
_SECURITY_HEADERS = {
    "cache-control": "no-store",  # pages may show a secret once; never keep them in a cache
    "x-frame-options": "DENY",
    "content-security-policy": "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
}


@dataclass
class Ctx:
    """One request as a page handler sees it."""

    method: str
    path: str
    values: dict[str, str]  # query and form, the form winning
    files: dict[str, bytes]
    cookie: str | None
    pre_cookie: str | None
    client: str
    base_url: str
    path_params: dict[str, str] = field(default_factory=dict)
    viewer: Viewer | None = None

    def id(self, name: str) -> int:
        return int(self.path_params[name])

    @property
    def me(self) -> Viewer:
        assert self.viewer is not None
        return self.viewer


@dataclass
class Outcome:
    status: int = 200
    html: str | None = None
    location: str | None = None
    cookie: str | None = None
    clear_cookie: bool = False
    pre_cookie: str | None = None
    download: tuple[bytes, str, str] | None = None  # body, file name, content type


class Denied(Exception):
    """A signed-in member without the role an action needs (403)."""


class _TooLarge(Exception):
    pass


def _asset(name: str) -> bytes:
    return (resources.files("questgraph.server.dashboard") / "static" / name).read_bytes()


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _parse_local(value: str | None, key: str) -> int | None:
    """A ``datetime-local`` value, read as UTC, or a Unix time; empty is None."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return int(text)
    try:
        return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp())
    except ValueError:
        raise InvalidParameter(f"Param {key} must be a date and time (YYYY-MM-DDTHH:MM, UTC)") from None


class DashboardPages:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.service: DashboardService = server.dashboard
        self.assets = {"dashboard.css": (_asset("dashboard.css"), "text/css"),
                       "dashboard.js": (_asset("dashboard.js"), "text/javascript")}
        self.public = Router()  # pages anyone may open (sign-in)
        self.private = Router()
        for method, path, handler in [
            ("GET", "", self.home), ("GET", "/login", self.login_page), ("POST", "/login", self.login),
            ("POST", "/login/emulator", self.login_emulator),
        ]:
            self.public.add(method, PREFIX + path, handler)
        for method, path, handler in [
            ("POST", "/logout", self.logout),
            ("GET", "/org", self.org_page), ("POST", "/org/members", self.put_member),
            ("POST", "/org/members/{member_id}/delete", self.delete_member),
            ("GET", "/apps/{app_id}", self.app_page), ("POST", "/apps/{app_id}/secret", self.rotate_secret),
            ("GET", "/apps/{app_id}/users", self.users_page), ("POST", "/apps/{app_id}/users", self.create_user),
            ("GET", "/users/{user_id}", self.user_page),
            ("POST", "/users/{user_id}/token", self.mint_token), ("POST", "/users/{user_id}/nonce", self.mint_nonce),
            ("POST", "/users/{user_id}/friends", self.befriend),
            ("POST", "/users/{user_id}/achievements/reset", self.reset_achievements),
            ("POST", "/users/{user_id}/purchases", self.grant_item),
            ("POST", "/users/{user_id}/links/{link_id}/revoke", self.revoke_link),
            ("GET", "/apps/{app_id}/iap", self.iap_page), ("POST", "/apps/{app_id}/iap", self.create_item),
            ("GET", "/apps/{app_id}/achievements", self.achievements_page),
            ("GET", "/apps/{app_id}/leaderboards", self.boards_page),
            ("POST", "/apps/{app_id}/leaderboards", self.put_board),
            ("GET", "/apps/{app_id}/leaderboards/{board_id}", self.board_page),
            ("POST", "/apps/{app_id}/leaderboards/{board_id}/entries/{entry_id}/delete", self.delete_entry),
            ("POST", "/apps/{app_id}/leaderboards/{board_id}/remove_all", self.remove_all),
            ("GET", "/apps/{app_id}/inspector", self.inspector_page),
            ("GET", "/apps/{app_id}/inspector/{seq}", self.inspected_page),
            ("GET", "/sso", self.sso_page), ("POST", "/sso/redirect_uris", self.add_redirect_uri),
            ("GET", "/audit", self.audit_page),
            ("GET", "/emulator", self.emulator_page), ("POST", "/emulator/clock", self.move_clock),
            ("POST", "/emulator/reset", self.reset), ("GET", "/emulator/snapshot", self.export_snapshot),
            ("POST", "/emulator/snapshot", self.import_snapshot),
        ]:
            self.private.add(method, PREFIX + path, handler)

    @staticmethod
    def handles(path: str) -> bool:
        return path == PREFIX or path.startswith(PREFIX + "/")

    # --- plumbing ---------------------------------------------------------------------------------
    async def respond(self, request: Request, trace_id: str) -> Response:
        """Any request under /dashboard: always an HTML page (or an asset, or a download), never a 500 body."""
        try:
            path = request.url.path.rstrip("/") or "/"
            method = request.method.upper()
            if path.startswith(f"{PREFIX}/static/") and method in ("GET", "HEAD"):
                asset = self.assets.get(path.rsplit("/", 1)[1])
                if asset is not None:
                    return Response(asset[0], media_type=asset[1], headers={
                        "cache-control": "public, max-age=3600", "x-content-type-options": "nosniff"})
            if not self.server.ready.is_set():
                return self._page(request, Outcome(503, self._problem("Starting up", "questgraph is starting. "
                                                                      "Try again in a few seconds.")), trace_id)
            values = dict(parse_qsl(request.url.query, keep_blank_values=True))
            files: dict[str, bytes] = {}
            if method == "POST":
                form, files = await self._form(request)
                values.update(form)
            ctx = Ctx(method, path, values, files, request.cookies.get(COOKIE), request.cookies.get(PRE_COOKIE),
                      request.client.host if request.client else "", public_base_url(
                          request, self.server.settings.public_url, self.server.settings.trust_forwarded))
            outcome = await anyio.to_thread.run_sync(self._dispatch, ctx, limiter=self.server.limiter)
            return self._page(request, outcome, trace_id)
        except _TooLarge:
            return self._page(request, Outcome(413, self._problem("Too large", "The form sent is too large.")),
                              trace_id)
        except DATABASE_ERRORS as exc:
            log.error("database error on the dashboard (trace %s): %s", trace_id, type(exc).__name__)
            return self._page(request, Outcome(503, self._problem("Unavailable", "The database is unavailable. "
                                                                  "Try again shortly.")), trace_id)
        except Exception:
            log.exception("internal error on the dashboard (trace %s)", trace_id)
            return self._page(request, Outcome(500, self._problem("Something went wrong", "An unexpected error "
                                                                  f"happened (trace {trace_id}).")), trace_id)

    async def _form(self, request: Request) -> tuple[dict[str, str], dict[str, bytes]]:
        limit = self.server.settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is None or not declared.isdigit() or int(declared) > limit:
            raise _TooLarge  # browsers always send a length with a form; anything else is refused unread
        form = await request.form(max_files=1, max_fields=200)
        values: dict[str, str] = {}
        files: dict[str, bytes] = {}
        try:
            for key, value in form.multi_items():
                if isinstance(value, str):
                    values[key] = value
                else:
                    files[key] = await value.read(limit + 1)
        finally:
            await form.close()
        return values, files

    def _dispatch(self, ctx: Ctx) -> Outcome:
        handler: Callable[[Ctx], Outcome]
        try:
            try:
                handler, ctx.path_params = self.public.resolve(ctx.method, ctx.path)
                public: Outcome = handler(ctx)
                return public
            except NotFound:
                pass
            handler, ctx.path_params = self.private.resolve(ctx.method, ctx.path)
        except MethodNotAllowed:
            return Outcome(405, self._problem("Method not allowed", "This page does not accept that request."))
        except NotFound:
            return Outcome(404, self._problem("Page not found", "There is no such dashboard page."))
        viewer = self.service.viewer(ctx.cookie)
        if viewer is None:
            if ctx.method == "GET":
                return Outcome(303, location=f"{PREFIX}/login?{urlencode({'next': ctx.path})}")
            return Outcome(403, self._problem("Signed out", "Your session has ended. Sign in again; nothing was "
                                              "changed.", f"{PREFIX}/login"))
        if ctx.method == "POST" and not check_csrf(ctx.cookie, ctx.values.get("csrf_token")):
            return Outcome(403, self._problem("This form was refused", "The form was not sent from this dashboard "
                                              "session (it expired, or another site sent it). Nothing was changed.",
                                              f"{PREFIX}/org"))
        ctx.viewer = viewer
        try:
            private: Outcome = handler(ctx)
            return private
        except Denied as denied:
            return Outcome(403, self._chrome(ctx, "Not allowed", t.alert(str(denied)), ""))
        except NotFound:
            return Outcome(404, self._chrome(ctx, "Not found", t.alert("There is no such object in your "
                                                                       "organization."), ""))
        except GraphError as error:
            back = ctx.path if ctx.method == "GET" else ctx.values.get("back", f"{PREFIX}/org")
            if not back.startswith(PREFIX + "/"):
                back = f"{PREFIX}/org"
            body = f'{t.alert(error.message)}<p><a class="button secondary" href="{t.e(back)}">Go back</a></p>'
            return Outcome(error.status if error.status < 500 else 400, self._chrome(ctx, "Not done", body, ""))

    def _page(self, request: Request, outcome: Outcome, trace_id: str) -> Response:
        headers = {**_SECURITY_HEADERS, "x-fb-trace-id": trace_id}
        if outcome.download is not None:
            body, name, kind = outcome.download
            response = Response(body, media_type=kind,
                                headers={**headers, "content-disposition": f'attachment; filename="{name}"'})
        elif outcome.location is not None:
            response = Response(status_code=303, headers={**headers, "location": outcome.location})
        else:
            response = Response(outcome.html or "", status_code=outcome.status,
                                media_type="text/html; charset=utf-8", headers=headers)
        secure = public_base_url(request, self.server.settings.public_url,
                                 self.server.settings.trust_forwarded).startswith("https:")
        if outcome.cookie is not None:
            response.set_cookie(COOKIE, outcome.cookie, path=PREFIX, secure=secure, httponly=True, samesite="strict")
        elif outcome.clear_cookie:
            response.delete_cookie(COOKIE, path=PREFIX, secure=secure, httponly=True, samesite="strict")
        if outcome.pre_cookie is not None:
            response.set_cookie(PRE_COOKIE, outcome.pre_cookie, path=PREFIX, secure=secure, httponly=True,
                                samesite="strict")
        return response

    def _problem(self, title: str, message: str, retry: str | None = None) -> str:
        again = f'<p><a class="button secondary" href="{t.e(retry)}">Continue</a></p>' if retry else ""
        return t.layout(title, f'<div class="card"><h1>{t.e(title)}</h1>{t.alert(message)}{again}</div>')

    def _chrome(self, ctx: Ctx, title: str, body: str, current: str) -> str:
        me = ctx.me
        org = self.server.identity.org(me.org_id)
        return t.layout(title, f"<h1>{t.e(title)}</h1>{body}", org=org,
                        apps=self.server.identity_store.list_apps(org.id), current=current, actor=me.actor,
                        role=me.session.role, csrf=csrf_for(me.cookie), emulator=self.server.settings.emulator)

    def _form_open(self, ctx: Ctx, action: str, cls: str = "", extra: str = "") -> str:
        return (f'<form method="post" action="{t.e(action)}"{f" class={cls!r}" if cls else ""}{extra}>'
                f'{t.csrf_field(csrf_for(ctx.me.cookie))}<input type="hidden" name="back" value="{t.e(ctx.path)}">')

    def _admin(self, ctx: Ctx, method: str, path: str, values: dict[str, str] | None = None) -> Any:
        """Run an admin API handler: the dashboard and the admin API share one implementation."""
        handler, path_params = self.server.admin.resolve(method, path)
        request = GraphRequest(method, path, Params((values or {}).items()), path_params, ctx.base_url)
        return handler(request)

    def _audit(self, ctx: Ctx, action: str, target: str, detail: str = "", org_id: int | None = -1) -> None:
        self.service.audit(ctx.me.org_id if org_id == -1 else org_id, ctx.me.actor, action, target, detail)

    # --- permission checks: on the server, for every object -------------------------------------------
    @staticmethod
    def _require_admin(ctx: Ctx, what: str) -> None:
        if not ctx.me.is_admin:
            raise Denied(f"Only an organization admin can {what}.")

    def _app(self, ctx: Ctx, app_id: int | None = None) -> App:
        app = self.server.identity_store.get_app(ctx.id("app_id") if app_id is None else app_id)
        if app is None or app.org_id != ctx.me.org_id:  # another org's app looks like no app at all
            raise NotFound("no such app")
        return app

    def _user(self, ctx: Ctx) -> tuple[User, App]:
        user = self.server.identity_store.get_user(ctx.id("user_id"))
        if user is None:
            raise NotFound("no such user")
        return user, self._app(ctx, user.app_id)

    def _board(self, ctx: Ctx, app: App) -> Leaderboard:
        board = self.server.leaderboard_store.get_leaderboard(ctx.id("board_id"))
        if board is None or board.app_id != app.id:
            raise NotFound("no such leaderboard")
        return board

    # --- sign-in ----------------------------------------------------------------------------------
    def home(self, ctx: Ctx) -> Outcome:
        return Outcome(303, location=f"{PREFIX}/org" if self.service.viewer(ctx.cookie) else f"{PREFIX}/login")

    def _one_click(self, ctx: Ctx) -> bool:
        """Emulator mode, and the browser is on this machine (never through a proxy we were told to trust)."""
        settings = self.server.settings
        return settings.emulator and not settings.trust_forwarded and _is_loopback(ctx.client)

    def login_page(self, ctx: Ctx, error: str | None = None, status: int = 200) -> Outcome:
        pre = ctx.pre_cookie if ctx.pre_cookie and len(ctx.pre_cookie) == 43 else secrets.token_urlsafe(32)
        token = t.csrf_field(login_csrf(pre))
        next_path = ctx.values.get("next", "")
        next_field = f'<input type="hidden" name="next" value="{t.e(next_path)}">'
        quick = ""
        if self._one_click(ctx):
            orgs = self.server.identity_store.list_orgs()
            items = "".join(
                f'<li><form method="post" action="{PREFIX}/login/emulator">{token}{next_field}'
                f'<input type="hidden" name="org_id" value="{o.id}">'
                f'<button type="submit" class="primary">Sign in as admin of {t.e(o.name)}</button></form></li>'
                for o in orgs)
            quick = ('<section class="card"><h2>Emulator</h2><p class="hint">This server runs in emulator mode and '
                     f'you are on this machine: sign in with one click.</p><ul class="orgs">{items}</ul></section>'
                     if orgs else '<p class="muted">No organization yet: add one with the admin API.</p>')
        body = (f'<h1>Sign in to the dashboard</h1>{t.alert(error)}{quick}'
                f'<section class="card"><h2>Organization member</h2>'
                f'<form method="post" action="{PREFIX}/login" class="grid-form">{token}{next_field}'
                f'{t.field("email", "Email", ctx.values.get("email", ""), "email", True, " autocomplete=username")}'
                f'{t.field("password", "Password", "", "password", True, " autocomplete=current-password")}'
                '<div><button type="submit" class="primary">Sign in</button></div></form></section>')
        return Outcome(status, t.layout("Sign in", body), pre_cookie=pre if pre != ctx.pre_cookie else None)

    def _signed_in(self, ctx: Ctx, cookie: str) -> Outcome:
        if ctx.cookie:
            self.service.end_session(ctx.cookie)  # a session planted before sign-in is worth nothing after
        target = ctx.values.get("next", "")
        # Only our own pages: "//evil.example" or "/dashboard.evil" never leave the dashboard.
        if not (target.startswith(PREFIX + "/") and not target.startswith("//") and "\\" not in target):
            target = f"{PREFIX}/org"
        return Outcome(303, location=target, cookie=cookie)

    def login(self, ctx: Ctx) -> Outcome:
        if not check_login_csrf(ctx.pre_cookie, ctx.values.get("csrf_token")):
            return self.login_page(ctx, "The sign-in form expired or was sent by another site. Try again.", 403)
        try:
            member = self.service.sign_in_password(ctx.values.get("email"), ctx.values.get("password"), ctx.client)
        except TooManyAttempts:
            minutes = self.service.login_limiter.window_minutes
            return self.login_page(ctx, "Too many failed sign-in attempts for this email or from this address. "
                                   f"Wait {minutes} minutes and try again.", 429)
        if member is None:
            return self.login_page(ctx, "Wrong email or password.", 401)
        cookie = self.service.new_session(member.org_id, member, member.role, member.email)
        self.service.audit(member.org_id, member.email, "session.sign_in", f"member {member.id}")
        return self._signed_in(ctx, cookie)

    def login_emulator(self, ctx: Ctx) -> Outcome:
        if not check_login_csrf(ctx.pre_cookie, ctx.values.get("csrf_token")):
            return self.login_page(ctx, "The sign-in form expired or was sent by another site. Try again.", 403)
        if not self._one_click(ctx):
            return self.login_page(ctx, "One-click sign-in is only for emulator mode on this machine.", 403)
        org_id = ctx.values.get("org_id", "")
        org = self.server.identity_store.get_org(int(org_id)) if org_id.isdigit() and len(org_id) <= 19 else None
        if org is None:
            return self.login_page(ctx, "Choose an organization.", 400)
        cookie = self.service.new_session(org.id, None, "admin", EMULATOR_ACTOR)
        self.service.audit(org.id, EMULATOR_ACTOR, "session.sign_in", f"org {org.id}")
        return self._signed_in(ctx, cookie)

    def logout(self, ctx: Ctx) -> Outcome:
        assert ctx.cookie is not None
        self.service.end_session(ctx.cookie)
        return Outcome(303, location=f"{PREFIX}/login", clear_cookie=True)

    # --- organization -----------------------------------------------------------------------------
    def org_page(self, ctx: Ctx) -> Outcome:
        me = ctx.me
        org = self.server.identity.org(me.org_id)
        apps = self.server.identity_store.list_apps(org.id)
        app_rows = [[f'<a href="{PREFIX}/apps/{a.id}">{t.e(a.name)}</a>', f"<code>{a.id}</code>",
                     t.when(a.created_at)] for a in apps]
        rows = []
        for m in self.service.members(org.id):
            remove = ""
            if me.is_admin:
                remove = (self._form_open(ctx, f"{PREFIX}/org/members/{m.id}/delete", "inline")
                          + f'<button class="danger small" aria-label="Remove {t.e(m.email)}">Remove</button></form>')
            rows.append([t.e(m.email), t.e(m.name), t.e(m.role), "yes" if m.password_hash else "no", remove])
        add = ""
        if me.is_admin:
            add = (f'<section class="card"><h2>Add or change a member</h2>'
                   f'{self._form_open(ctx, f"{PREFIX}/org/members", "grid-form")}'
                   f'{t.field("email", "Email", "", "email", True)}{t.field("name", "Name")}'
                   f'{t.select("role", "Role", [("developer", "Developer"), ("admin", "Admin")])}'
                   f'{t.field("password", "Password (8+ characters)", "", "password", False, " autocomplete=new-password")}'
                   '<div><button class="primary">Save member</button></div></form></section>')
        body = (f'<section class="card"><dl class="facts"><dt>Organization</dt><dd>{t.e(org.name)}</dd>'
                f"<dt>Organization id</dt><dd><code>{org.id}</code></dd><dt>Signed in as</dt>"
                f"<dd>{t.e(me.actor)} ({t.e(me.session.role)})</dd></dl></section>"
                f'<section class="card"><h2>Apps</h2>{t.table("Apps of the organization", ["Name", "App id", "Created"], app_rows)}</section>'
                f'<section class="card"><h2>Members</h2>'
                f'{t.table("Members", ["Email", "Name", "Role", "Password", ""], rows, "No members yet.")}</section>{add}')
        return Outcome(200, self._chrome(ctx, "Organization", body, f"{PREFIX}/org"))

    def put_member(self, ctx: Ctx) -> Outcome:
        self._require_admin(ctx, "manage members")
        member = self._admin(ctx, "POST", f"/_admin/orgs/{ctx.me.org_id}/members", {
            k: ctx.values.get(k, "") for k in ("email", "name", "role", "password")})
        self._audit(ctx, "member.put", f"member {member['email']}", f"role={member['role']}")
        return Outcome(303, location=f"{PREFIX}/org")

    def delete_member(self, ctx: Ctx) -> Outcome:
        self._require_admin(ctx, "manage members")
        member = self.service.member(ctx.id("member_id"))
        if member.org_id != ctx.me.org_id:
            raise NotFound("no such member")
        self.service.remove_member(member.id)
        self._audit(ctx, "member.remove", f"member {member.email}")
        return Outcome(303, location=f"{PREFIX}/org")

    # --- apps: the API page -----------------------------------------------------------------------
    def app_page(self, ctx: Ctx, shown: dict[str, Any] | None = None) -> Outcome:
        app = self._app(ctx)
        token = shown["app_access_token"] if shown else f"OC|{app.id}|$APP_SECRET"
        curl = (f'curl -G "{ctx.base_url}/{app.id}/leaderboards" \\\n'
                f'  --data-urlencode "access_token={token}" \\\n  --data-urlencode "fields=api_name,sort_order"')
        once = ""
        if shown:
            once = ('<div class="once" role="status"><strong>New app secret: copy it now. It is shown only once; '
                    "questgraph keeps only its hash.</strong>"
                    f'{t.copyable("new-secret", shown["secret"], "app secret")}<p>App access token:</p>'
                    f'{t.copyable("new-token", shown["app_access_token"], "app access token")}'
                    "<p class=\"hint\">The previous secret and every app token made from it stopped working.</p></div>")
        if ctx.me.is_admin:
            secret = (f'{self._form_open(ctx, f"{PREFIX}/apps/{app.id}/secret")}'
                      '<p class="hint">Secrets are stored hashed and cannot be shown again. Rotating makes a new '
                      "one at once: servers using the old one start getting errors.</p>"
                      '<label class="check"><input type="checkbox" name="confirm" value="yes" required> '
                      "I understand the old secret stops working</label>"
                      '<p><button class="danger">Rotate app secret</button></p></form>')
        else:
            secret = '<p class="muted">Only organization admins can see or rotate the app secret.</p>'
        body = (f"{once}<section class=\"card\"><h2>{t.e(app.name)}</h2><dl class=\"facts\"><dt>App id</dt>"
                f'<dd>{t.copyable("app-id", str(app.id), "app id")}</dd><dt>Created</dt><dd>{t.when(app.created_at)}</dd>'
                f"</dl></section><section class=\"card\"><h2>App secret</h2>{secret}</section>"
                f'<section class="card"><h2>Try it</h2><p class="hint">A Graph API call with the app access token '
                f"(OC|app id|app secret):</p><pre id=\"curl\">{t.e(curl)}</pre>"
                '<button type="button" class="secondary small" data-copy="curl">Copy curl command</button></section>')
        return Outcome(200, self._chrome(ctx, f"{app.name}: API", body, f"{PREFIX}/apps/{app.id}"))

    def rotate_secret(self, ctx: Ctx) -> Outcome:
        self._require_admin(ctx, "see or rotate an app secret")
        app = self._app(ctx)
        if ctx.values.get("confirm") != "yes":
            raise InvalidParameter("Tick the box to confirm that the old secret stops working")
        made = self._admin(ctx, "POST", f"/_admin/apps/{app.id}/secret")
        self._audit(ctx, "app.rotate_secret", f"app {app.id}")
        return self.app_page(ctx, made)  # shown once, in this answer only (no-store)

    # --- users --------------------------------------------------------------------------------------
    def users_page(self, ctx: Ctx) -> Outcome:
        app = self._app(ctx)
        users = self._admin(ctx, "GET", f"/_admin/apps/{app.id}/users")["data"]
        rows = [[f'<a href="{PREFIX}/users/{u["id"]}">{t.e(u["alias"])}</a>', t.e(u["display_name"]),
                 f'<code>{u["id"]}</code>', t.e(AGE_NAMES.get(u["age_category"], u["age_category"])),
                 "yes" if u["entitled"] else "no"] for u in users]
        form = (f'<section class="card"><h2>Create a test user</h2>'
                f'{self._form_open(ctx, f"{PREFIX}/apps/{app.id}/users", "grid-form")}'
                f'{t.field("alias", "Alias", "", "text", True)}{t.field("display_name", "Display name")}'
                f'{t.select("age_category", "Age category", [(k, AGE_NAMES[k]) for k in ("AD", "TN", "CH")])}'
                '<label class="check"><input type="checkbox" name="entitled" value="true" checked> Owns the app'
                '</label><div><button class="primary">Create user</button></div></form></section>')
        body = (f'{form}<section class="card"><h2>Users</h2>'
                f'{t.table("Users of the app", ["Alias", "Name", "User id", "Age", "Entitled"], rows)}</section>')
        return Outcome(200, self._chrome(ctx, f"{app.name}: users", body, f"{PREFIX}/apps/{app.id}/users"))

    def create_user(self, ctx: Ctx) -> Outcome:
        app = self._app(ctx)
        made = self._admin(ctx, "POST", f"/_admin/apps/{app.id}/users", {
            "alias": ctx.values.get("alias", ""), "display_name": ctx.values.get("display_name", ""),
            "age_category": ctx.values.get("age_category", "AD"),
            "entitled": "true" if ctx.values.get("entitled") == "true" else "false"})
        self._audit(ctx, "user.create", f"user {made['id']}", f"app={app.id} alias={made['alias']}")
        return Outcome(303, location=f"{PREFIX}/users/{made['id']}")

    def user_page(self, ctx: Ctx, once: str = "") -> Outcome:
        user, app = self._user(ctx)
        view = self._admin(ctx, "GET", f"/_admin/users/{user.id}")
        identity_store = self.server.identity_store
        friend_people = set(identity_store.friends_of(user.person_id))
        app_users = identity_store.list_app_users(app.id)
        friends = [u for u in app_users if u.person_id in friend_people]
        friend_rows = [[f'<a href="{PREFIX}/users/{f.id}">{t.e(f.alias)}</a>', t.e(f.display_name)] for f in friends]
        others = [(str(u.id), f"{u.alias} ({u.display_name})") for u in app_users
                  if u.id != user.id and u.person_id not in friend_people]
        base = f"{PREFIX}/users/{user.id}"
        befriend = (f'{self._form_open(ctx, f"{base}/friends", "grid-form")}'
                    f'{t.select("friend_id", "Add a friend", others)}<div><button class="secondary">Add friend'
                    "</button></div></form>" if others else "")
        progress = self._admin(ctx, "GET", f"/_admin/users/{user.id}/achievements")["data"]
        ach_rows = [[t.e(p["api_name"]), t.e(p["achievement_type"]), "yes" if p["is_unlocked"] else "no",
                     t.e(p["count_progress"]), f'<code>{t.e(p["bitfield_progress"])}</code>',
                     t.when(p["unlock_time"] or None)] for p in progress]
        history = self._admin(ctx, "GET", f"/_admin/users/{user.id}/purchases")["data"]
        buy_rows = [[t.e(h["sku"]), t.e(h["type"]), t.when(h["granted_at"]),
                     "yes" if h.get("owned", h.get("is_active")) else "no"] for h in history]
        items = self._admin(ctx, "GET", f"/_admin/apps/{app.id}/items")["data"]
        grant = (f'{self._form_open(ctx, f"{base}/purchases", "grid-form")}'
                 f'{t.select("sku", "Grant an item", [(i["sku"], i["name"] + " (" + i["sku"] + ")") for i in items])}'
                 '<div><button class="secondary">Grant</button></div></form>' if items else
                 f'<p class="muted">The catalogue is empty: <a href="{PREFIX}/apps/{app.id}/iap">add items</a>.</p>')
        links = self._admin(ctx, "GET", f"/_admin/users/{user.id}/links")["data"]
        link_rows = []
        for link in links:
            if link["org_id"] != str(ctx.me.org_id):
                continue  # a person's links with other organizations are not this organization's business
            revoke = "revoked" if link["revoked"] else (
                self._form_open(ctx, f"{base}/links/{link['id']}/revoke", "inline")
                + '<button class="danger small">Revoke</button></form>')
            link_rows.append([f'<code>{link["org_scoped_id"]}</code>', t.when(link["created_at"]),
                              t.e(link["live_tokens"]), revoke])
        body = (
            f"{once}<section class=\"card\"><dl class=\"facts\"><dt>User id</dt><dd><code>{user.id}</code></dd>"
            f"<dt>Alias</dt><dd>{t.e(user.alias)}</dd><dt>Display name</dt><dd>{t.e(user.display_name)}</dd>"
            f"<dt>Age category</dt><dd>{t.e(AGE_NAMES.get(user.age_category, user.age_category))}</dd>"
            f"<dt>Org-scoped id</dt><dd><code>{t.e(view['org_scoped_id'])}</code></dd>"
            f"<dt>Entitled</dt><dd>{'yes' if view['entitled'] else 'no'}</dd></dl></section>"
            f'<section class="card"><h2>Tokens for testing</h2><div class="grid-form">'
            f'{self._form_open(ctx, f"{base}/token")}<button class="primary">Mint a user access token</button></form>'
            f'{self._form_open(ctx, f"{base}/nonce")}<button class="secondary">Mint a user proof nonce</button></form>'
            '</div><p class="hint">A new token or nonce is shown once, here, and never again.</p></section>'
            f'<section class="card"><h2>Friends</h2>{t.table("Friends", ["Alias", "Name"], friend_rows)}{befriend}</section>'
            f'<section class="card"><h2>Achievements</h2>'
            f'{t.table("Progress", ["Achievement", "Type", "Unlocked", "Count", "Bits", "Unlocked at"], ach_rows)}'
            f'{self._form_open(ctx, f"{base}/achievements/reset")}<button class="danger">Reset all achievements'
            "</button></form></section>"
            f'<section class="card"><h2>Purchases</h2>{t.table("Purchase history", ["SKU", "Type", "Granted", "Owned"], buy_rows)}'
            f"{grant}</section>"
            f'<section class="card"><h2>Linked accounts (SSO)</h2>'
            f'{t.table("Account links", ["Org-scoped id", "Linked", "Live tokens", ""], link_rows)}</section>')
        return Outcome(200, self._chrome(ctx, f"User {user.alias}", body, ""))

    def mint_token(self, ctx: Ctx) -> Outcome:
        user, app = self._user(ctx)
        token = self._admin(ctx, "POST", f"/_admin/users/{user.id}/tokens",
                            {"ttl_seconds": ctx.values.get("ttl_seconds", "")})["access_token"]
        self._audit(ctx, "user.mint_token", f"user {user.id}", f"app={app.id}")
        curl = f'curl -G "{ctx.base_url}/me" --data-urlencode "access_token={token}"'
        once = ('<div class="once" role="status"><strong>New user access token (shown once):</strong>'
                f'{t.copyable("new-user-token", token, "user access token")}<pre id="me-curl">{t.e(curl)}</pre></div>')
        return self.user_page(ctx, once)

    def mint_nonce(self, ctx: Ctx) -> Outcome:
        user, app = self._user(ctx)
        minted = self._admin(ctx, "POST", f"/_admin/users/{user.id}/nonces")
        self._audit(ctx, "user.mint_nonce", f"user {user.id}", f"app={app.id}")
        once = ('<div class="once" role="status"><strong>New user proof nonce (shown once, valid until '
                f'{t.when(minted["expires_at"])}):</strong>{t.copyable("new-nonce", minted["nonce"], "nonce")}</div>')
        return self.user_page(ctx, once)

    def befriend(self, ctx: Ctx) -> Outcome:
        user, app = self._user(ctx)
        friend = ctx.values.get("friend_id", "")
        other = self.server.identity_store.get_user(int(friend)) if friend.isdigit() and len(friend) <= 19 else None
        if other is None or other.app_id != app.id:
            raise InvalidParameter("Choose a user of the same app")
        self._admin(ctx, "POST", f"/_admin/users/{user.id}/friends", {"friend_id": str(other.id)})
        self._audit(ctx, "user.befriend", f"user {user.id}", f"friend={other.id}")
        return Outcome(303, location=f"{PREFIX}/users/{user.id}")

    def reset_achievements(self, ctx: Ctx) -> Outcome:
        user, app = self._user(ctx)
        removed = self.server.achievements.remove_all(AppCaller(app), user.id)
        self._audit(ctx, "user.reset_achievements", f"user {user.id}", f"rows={removed}")
        return Outcome(303, location=f"{PREFIX}/users/{user.id}")

    def grant_item(self, ctx: Ctx) -> Outcome:
        user, _ = self._user(ctx)
        made = self._admin(ctx, "POST", f"/_admin/users/{user.id}/purchases", {"sku": ctx.values.get("sku", "")})
        self._audit(ctx, "user.grant", f"user {user.id}", f"sku={made['sku']}")
        return Outcome(303, location=f"{PREFIX}/users/{user.id}")

    def revoke_link(self, ctx: Ctx) -> Outcome:
        user, _ = self._user(ctx)
        link_id = ctx.id("link_id")
        mine = self._admin(ctx, "GET", f"/_admin/users/{user.id}/links")["data"]
        if not any(link["id"] == str(link_id) and link["org_id"] == str(ctx.me.org_id) for link in mine):
            raise NotFound("no such link")
        self._admin(ctx, "POST", f"/_admin/links/{link_id}/revoke")
        self._audit(ctx, "sso.revoke_link", f"link {link_id}", f"user={user.id}")
        return Outcome(303, location=f"{PREFIX}/users/{user.id}")

    # --- IAP and achievements -----------------------------------------------------------------------
    def iap_page(self, ctx: Ctx) -> Outcome:
        app = self._app(ctx)
        items = self._admin(ctx, "GET", f"/_admin/apps/{app.id}/items")["data"]
        rows = [[f'<code>{t.e(i["sku"])}</code>', t.e(i["name"]), t.e(i["type"]),
                 t.e(f'{i["price"] / 100:.2f} {i["currency"]}'), t.e(i.get("subscription_term", "—"))] for i in items]
        form = (f'<section class="card"><h2>Add an item</h2>'
                f'{self._form_open(ctx, f"{PREFIX}/apps/{app.id}/iap", "grid-form")}'
                f'{t.field("sku", "SKU", "", "text", True)}{t.field("name", "Name", "", "text", True)}'
                f'{t.select("type", "Type", [("DURABLE", "Durable"), ("CONSUMABLE", "Consumable"), ("SUBSCRIPTION", "Subscription")])}'
                f'{t.field("price", "Price (hundredths)", "0", "number")}{t.field("currency", "Currency", "USD")}'
                f'{t.select("subscription_term", "Subscription term", [("", "—"), ("MONTHLY", "Monthly"), ("ANNUAL", "Annual")])}'
                '<div><button class="primary">Add item</button></div></form></section>')
        body = (f'<section class="card"><h2>Catalogue</h2>'
                f'{t.table("IAP items", ["SKU", "Name", "Type", "Price", "Term"], rows)}'
                '<p class="hint">Grants and purchase history are on each user\'s page.</p></section>' + form)
        return Outcome(200, self._chrome(ctx, f"{app.name}: IAP", body, f"{PREFIX}/apps/{app.id}/iap"))

    def create_item(self, ctx: Ctx) -> Outcome:
        app = self._app(ctx)
        values = {k: ctx.values.get(k, "") for k in ("sku", "name", "type", "price", "currency", "subscription_term")}
        made = self._admin(ctx, "POST", f"/_admin/apps/{app.id}/items", {k: v for k, v in values.items() if v})
        self._audit(ctx, "iap.create_item", f"app {app.id}", f"sku={made['sku']}")
        return Outcome(303, location=f"{PREFIX}/apps/{app.id}/iap")

    def achievements_page(self, ctx: Ctx) -> Outcome:
        app = self._app(ctx)
        page = self.server.achievements.definitions(AppCaller(app), app.id, None, True, 1000, None, None)
        rows = [[f'<code>{t.e(s.definition.api_name)}</code>', t.e(s.definition.title), t.e(s.definition.achievement_type),
                 t.e(s.definition.write_policy), t.e(s.definition.target),
                 "yes" if s.definition.is_secret else "no", "yes" if s.definition.is_archived else "no"]
                for s in page.rows]
        body = (f'<section class="card"><h2>Definitions</h2>'
                f'{t.table("Achievement definitions", ["API name", "Title", "Type", "Write policy", "Target", "Secret", "Archived"], rows)}'
                "<p class=\"hint\">A user's progress, and resetting it, are on each user's page.</p></section>")
        return Outcome(200, self._chrome(ctx, f"{app.name}: achievements", body,
                                         f"{PREFIX}/apps/{app.id}/achievements"))

    # --- leaderboards -----------------------------------------------------------------------------
    def _board_form(self, ctx: Ctx, app: App, board: Leaderboard | None) -> str:
        name = (f'<input type="hidden" name="api_name" value="{t.e(board.api_name)}">' if board
                else t.field("api_name", "API name", "", "text", True))
        return (f'{self._form_open(ctx, f"{PREFIX}/apps/{app.id}/leaderboards", "grid-form")}{name}'
                f'{t.select("sort_order", "Sort order", [(s, s) for s in SORT_ORDERS], board.sort_order if board else "")}'
                f'{t.select("entry_write_policy", "Write policy", [(p, p) for p in WRITE_POLICIES], board.entry_write_policy if board else "")}'
                f'{t.field("earliest", "Opens (UTC)", t.local_input(board.earliest_allowed_entry_time if board else None), "datetime-local")}'
                f'{t.field("latest", "Closes (UTC)", t.local_input(board.latest_allowed_entry_time if board else None), "datetime-local")}'
                f'<div><button class="primary">{"Save changes" if board else "Create leaderboard"}</button></div></form>')

    def boards_page(self, ctx: Ctx) -> Outcome:
        app = self._app(ctx)
        boards = self.server.leaderboards.boards(AppCaller(app), app.id, None)
        rows = [[f'<a href="{PREFIX}/apps/{app.id}/leaderboards/{b.id}">{t.e(b.api_name)}</a>', t.e(b.sort_order),
                 t.e(b.entry_write_policy), t.e(self.server.leaderboards.entry_count(b)),
                 t.when(b.earliest_allowed_entry_time), t.when(b.latest_allowed_entry_time)] for b in boards]
        body = (f'<section class="card"><h2>Leaderboards</h2>'
                f'{t.table("Leaderboards of the app", ["API name", "Sort order", "Write policy", "Entries", "Opens", "Closes"], rows)}'
                f'</section><section class="card"><h2>Create a leaderboard</h2>{self._board_form(ctx, app, None)}</section>')
        return Outcome(200, self._chrome(ctx, f"{app.name}: leaderboards", body,
                                         f"{PREFIX}/apps/{app.id}/leaderboards"))

    def put_board(self, ctx: Ctx) -> Outcome:
        app = self._app(ctx)
        api_name = ctx.values.get("api_name", "").strip()
        existing = self.server.leaderboard_store.find_leaderboard(app.id, api_name)
        board = self.server.leaderboards.upsert(
            AppCaller(app), app.id, api_name,
            sort_order=ctx.values.get("sort_order") or None,
            entry_write_policy=ctx.values.get("entry_write_policy") or None,
            earliest=_parse_local(ctx.values.get("earliest"), "earliest"),
            latest=_parse_local(ctx.values.get("latest"), "latest"), title_locale_map=None)
        self._audit(ctx, "leaderboard.update" if existing else "leaderboard.create", f"leaderboard {board.id}",
                    f"app={app.id} api_name={board.api_name}")
        return Outcome(303, location=f"{PREFIX}/apps/{app.id}/leaderboards/{board.id}")

    def board_page(self, ctx: Ctx) -> Outcome:
        app = self._app(ctx)
        board = self._board(ctx, app)
        service = self.server.leaderboards
        page_no = max(int(ctx.values["page"]) if ctx.values.get("page", "").isdigit() else 1, 1)
        search = ctx.values.get("user", "").strip()
        base = f"{PREFIX}/apps/{app.id}/leaderboards/{board.id}"
        caller = AppCaller(app)
        note = ""
        if search:
            found = self._find_user(app, search)
            if found is None:
                rows_found, total, has_next = [], 0, False
                note = t.alert(f"No user {search!r} in this app.")
            else:
                entries = service.entries(caller, EntriesQuery(board.api_name, "USER_IDS", [found.id]))
                rows_found, total, has_next = entries.rows, entries.total_count, False
                if not entries.rows:
                    note = f'<p class="muted">{t.e(found.alias)} has no entry on this leaderboard.</p>'
        else:
            entries = service.entries(caller, EntriesQuery(board.api_name, start_at="OFFSET",
                                                           offset=(page_no - 1) * PAGE_SIZE, limit=PAGE_SIZE))
            rows_found, total, has_next = entries.rows, entries.total_count, entries.has_next
        rows = []
        for r in rows_found:
            delete = (self._form_open(ctx, f"{base}/entries/{r.entry.id}/delete", "inline")
                      + f'<button class="danger small" aria-label="Delete the entry of {t.e(r.user.alias)}">Delete'
                      "</button></form>")
            rows.append([t.e(r.rank), f'<a href="{PREFIX}/users/{r.user.id}">{t.e(r.user.alias)}</a>',
                         f"<strong>{t.e(r.entry.score)}</strong>", t.when(r.entry.written_us // 1_000_000), delete])
        pager = '<nav class="pager" aria-label="Pages">'
        if page_no > 1 and not search:
            pager += f'<a class="button secondary small" href="{base}?page={page_no - 1}">Previous</a>'
        pager += f'<span class="muted">Page {page_no} · {total} entries</span>'
        if has_next:
            pager += f'<a class="button secondary small" href="{base}?page={page_no + 1}">Next</a>'
        pager += "</nav>"
        scores = []
        for _, _, score, _ in self.server.leaderboard_store.iter_entry_keys(board.id):
            scores.append(score)
            if len(scores) >= CHART_SAMPLE:
                break
        body = (
            f'<section class="card"><dl class="facts"><dt>Leaderboard id</dt><dd><code>{board.id}</code></dd>'
            f"<dt>Sort order</dt><dd>{t.e(board.sort_order)}</dd><dt>Write policy</dt>"
            f"<dd>{t.e(board.entry_write_policy)}</dd><dt>Opens</dt><dd>{t.when(board.earliest_allowed_entry_time)}</dd>"
            f"<dt>Closes</dt><dd>{t.when(board.latest_allowed_entry_time)}</dd></dl></section>"
            f'<section class="card"><h2>Score distribution</h2>'
            f"{t.histogram_svg(scores, sampled=len(scores) >= CHART_SAMPLE)}</section>"
            f'<section class="card"><h2>Entries</h2><form method="get" action="{base}" class="grid-form" role="search">'
            f'{t.field("user", "Find a user (alias or id)", search, "search")}'
            '<div><button class="secondary">Search</button></div></form>'
            f'{note}{t.table("Entries by rank", ["Rank", "User", "Score", "Written", ""], rows)}{pager}'
            f'{self._form_open(ctx, f"{base}/remove_all")}<label class="check"><input type="checkbox" name="confirm" '
            'value="yes" required> Remove every entry</label><button class="danger">Remove all entries</button>'
            "</form></section>"
            f'<section class="card"><h2>Edit</h2>{self._board_form(ctx, app, board)}</section>')
        return Outcome(200, self._chrome(ctx, f"Leaderboard {board.api_name}", body,
                                         f"{PREFIX}/apps/{app.id}/leaderboards"))

    def _find_user(self, app: App, text: str) -> User | None:
        identity_store = self.server.identity_store
        if text.isdigit() and len(text) <= 19:
            user = identity_store.get_user(int(text))
            if user is not None and user.app_id == app.id:
                return user
        person = identity_store.find_person_by_alias(text)
        return None if person is None else identity_store.find_app_user(app.id, person)

    def delete_entry(self, ctx: Ctx) -> Outcome:
        app = self._app(ctx)
        board = self._board(ctx, app)
        entry = self.server.leaderboard_store.get_entry(ctx.id("entry_id"))
        if entry is None or entry.leaderboard_id != board.id:
            raise NotFound("no such entry")
        self.server.leaderboards.delete_entry(AppCaller(app), entry.id)
        self._audit(ctx, "leaderboard.delete_entry", f"entry {entry.id}", f"leaderboard={board.api_name} "
                    f"user={entry.user_id} score={entry.score}")
        return Outcome(303, location=f"{PREFIX}/apps/{app.id}/leaderboards/{board.id}")

    def remove_all(self, ctx: Ctx) -> Outcome:
        app = self._app(ctx)
        board = self._board(ctx, app)
        if ctx.values.get("confirm") != "yes":
            raise InvalidParameter("Tick the box to confirm removing every entry")
        self.server.leaderboards.remove_all_entries(AppCaller(app), board.api_name)
        self._audit(ctx, "leaderboard.remove_all", f"leaderboard {board.id}", f"api_name={board.api_name}")
        return Outcome(303, location=f"{PREFIX}/apps/{app.id}/leaderboards/{board.id}")

    # --- request inspector --------------------------------------------------------------------------
    def inspector_page(self, ctx: Ctx) -> Outcome:
        app = self._app(ctx)
        inspector = self.server.inspector
        endpoint = ctx.values.get("endpoint", "").strip()
        status = ctx.values.get("status", "").strip()
        user_text = ctx.values.get("user", "").strip()
        user_id = None
        if user_text:
            found = self._find_user(app, user_text)
            user_id = found.id if found else -1
        rows_found = inspector.recent(app.id, endpoint=endpoint or None, status=status or None, user_id=user_id)
        base = f"{PREFIX}/apps/{app.id}/inspector"
        rows = [[t.when(r.at_us // 1_000_000), t.e(r.method),
                 f'<a href="{base}/{r.seq}"><code>{t.e(r.path)}</code></a>',
                 f'<span class="{"status-err" if r.status >= 400 else "status-ok"}">{r.status}</span>',
                 t.e(r.error_code if r.error_code is not None else ""), t.e(f"{r.latency_ms:.1f} ms"),
                 f"<code>{t.e(r.trace_id)}</code>"] for r in rows_found]
        state = (f"Keeping the last {inspector.size} requests of each app"
                 + (f", a sample of {inspector.sample_rate:.0%}" if inspector.sample_rate < 1 else "") + "."
                 if inspector.enabled else "The inspector is off on this server (see docs/config.md).")
        body = (f'<section class="card"><p class="hint">{t.e(state)} Tokens, secrets, codes, nonces and passwords '
                f'are masked.</p><form method="get" action="{base}" class="grid-form" role="search">'
                f'{t.field("endpoint", "Endpoint contains", endpoint, "search")}'
                f'{t.field("status", "Status (200, 4xx, error)", status, "search")}'
                f'{t.field("user", "User (alias or id)", user_text, "search")}'
                '<div><button class="secondary">Filter</button></div></form></section>'
                f'<section class="card">{t.table("Recent Graph requests, newest first", ["Time", "Method", "Path", "Status", "Error", "Latency", "Trace id"], rows, "No requests recorded yet.")}'
                "</section>")
        return Outcome(200, self._chrome(ctx, f"{app.name}: request inspector", body, base))

    def inspected_page(self, ctx: Ctx) -> Outcome:
        app = self._app(ctx)
        found = self.server.inspector.get(app.id, ctx.id("seq"))
        if found is None:
            raise NotFound("no such request")
        params = [[f"<code>{t.e(k)}</code>", f"<code>{t.e(v)}</code>"] for k, v in found.params]
        error = ""
        if found.error_code is not None or found.error_message:
            error = (f"<dt>Error</dt><dd>{t.e(found.error_type or '')} code {t.e(found.error_code)}: "
                     f"{t.e(found.error_message or '')}</dd>")
        touched = [f"<li>{link}</li>" for link in self._touched(app, found)]
        body = (
            f'<section class="card"><dl class="facts"><dt>Request</dt><dd><code>{t.e(found.method)} '
            f"{t.e(found.path)}</code></dd><dt>Status</dt><dd>{found.status}</dd>{error}"
            f"<dt>Latency</dt><dd>{found.latency_ms:.1f} ms</dd><dt>Trace id</dt><dd><code>{t.e(found.trace_id)}</code></dd>"
            f"<dt>When</dt><dd>{t.when(found.at_us // 1_000_000)}</dd><dt>Caller</dt><dd>{t.e(found.caller)} token "
            f"<code>{t.e(found.token)}</code> (from the {t.e(found.token_source)})</dd></dl></section>"
            f'<section class="card"><h2>Objects it touched</h2>'
            f'{"<ul>" + "".join(touched) + "</ul>" if touched else "<p class=muted>None found.</p>"}</section>'
            f'<section class="card"><h2>Parameters</h2>{t.table("Parameters (secrets masked)", ["Name", "Value"], params, "No parameters.")}</section>'
            f'<section class="card"><h2>Response</h2><pre>{t.e(found.response)}</pre></section>')
        return Outcome(200, self._chrome(ctx, f"Request {found.seq}", body, f"{PREFIX}/apps/{app.id}/inspector"))

    def _touched(self, app: App, found: InspectedRequest) -> list[str]:
        """Links to what the request named: its leaderboard (by api_name), users, and ids in its path."""
        identity_store, leaderboard_store = self.server.identity_store, self.server.leaderboard_store
        links: list[str] = []
        base = f"{PREFIX}/apps/{app.id}"
        api_name = found.param("api_name") or found.param("leaderboard_name")
        if api_name:
            board = leaderboard_store.find_leaderboard(app.id, api_name)
            if board is not None:
                links.append(f'<a href="{base}/leaderboards/{board.id}">Leaderboard {t.e(board.api_name)}</a>')
        ids: list[int] = []
        if found.user_id is not None:
            ids.append(found.user_id)
        ids += [int(p) for p in found.path.split("/") if p.isdigit() and len(p) <= 19]
        for raw in (found.param("user_ids") or "").replace("[", "").replace("]", "").split(","):
            if raw.strip().isdigit() and len(raw.strip()) <= 19:
                ids.append(int(raw.strip()))
        seen: set[int] = set()
        for object_id in ids:
            if object_id in seen or object_id == app.id:
                continue
            seen.add(object_id)
            user = identity_store.get_user(object_id)
            if user is not None and user.app_id == app.id:
                links.append(f'<a href="{PREFIX}/users/{user.id}">User {t.e(user.alias)} ({user.id})</a>')
                continue
            board = leaderboard_store.get_leaderboard(object_id)
            if board is not None and board.app_id == app.id:
                links.append(f'<a href="{base}/leaderboards/{board.id}">Leaderboard {t.e(board.api_name)}</a>')
                continue
            entry = leaderboard_store.get_entry(object_id)
            if entry is not None:
                board = leaderboard_store.get_leaderboard(entry.leaderboard_id)
                if board is not None and board.app_id == app.id:
                    links.append(f'<a href="{base}/leaderboards/{board.id}">Entry {entry.id} on leaderboard '
                                 f"{t.e(board.api_name)}</a>")
        return links

    # --- SSO ------------------------------------------------------------------------------------------
    def sso_page(self, ctx: Ctx) -> Outcome:
        org_id = ctx.me.org_id
        uris = self._admin(ctx, "GET", f"/_admin/orgs/{org_id}/redirect_uris")["data"]
        uri_rows = [[f"<code>{t.e(u)}</code>"] for u in uris]
        add = (f'{self._form_open(ctx, f"{PREFIX}/sso/redirect_uris", "grid-form")}'
               f'{t.field("redirect_uri", "Add a redirect URI", "", "text", True, " inputmode=url")}'
               '<div><button class="primary">Add</button></div></form>' if ctx.me.is_admin else
               '<p class="muted">Only organization admins can add redirect URIs.</p>')
        link_rows = []
        identity_store = self.server.identity_store
        for app in identity_store.list_apps(org_id):
            for user in identity_store.list_app_users(app.id)[:200]:
                for link in self._admin(ctx, "GET", f"/_admin/users/{user.id}/links")["data"]:
                    if link["org_id"] == str(org_id) and link["app_id"] == str(app.id):
                        link_rows.append([f'<a href="{PREFIX}/users/{user.id}">{t.e(user.alias)}</a>', t.e(app.name),
                                          t.when(link["created_at"]), "revoked" if link["revoked"] else "active"])
        # D30: the page may live on a base URL of its own (--sso-public-url); show the one players must use.
        page_url = f"{t.e(sso_page_url(self.server.settings, ctx.base_url))}?organization_id={org_id}&amp;redirect_uri=…"
        body = (f'<section class="card"><h2>Account-linking page</h2><p>Send players to '
                f'<code id="sso-page-url">{page_url}</code> with one of these redirect URIs.</p></section>'
                f'<section class="card"><h2>Redirect URIs</h2>{t.table("Registered redirect URIs", ["URI"], uri_rows)}'
                f'{add}</section><section class="card"><h2>Linked accounts</h2>'
                f'{t.table("Account links", ["User", "App", "Linked", "State"], link_rows, "No linked accounts yet.")}'
                "</section>")
        return Outcome(200, self._chrome(ctx, "Single sign-on", body, f"{PREFIX}/sso"))

    def add_redirect_uri(self, ctx: Ctx) -> Outcome:
        self._require_admin(ctx, "add redirect URIs")
        uri = ctx.values.get("redirect_uri", "")
        self._admin(ctx, "POST", f"/_admin/orgs/{ctx.me.org_id}/redirect_uris", {"redirect_uri": uri})
        self._audit(ctx, "sso.add_redirect_uri", f"org {ctx.me.org_id}", uri[:300])
        return Outcome(303, location=f"{PREFIX}/sso")

    # --- audit log ------------------------------------------------------------------------------------
    def audit_page(self, ctx: Ctx) -> Outcome:
        before = ctx.values.get("before", "")
        events = self.service.audit_log(ctx.me.org_id, 100, int(before) if before.isdigit() and len(before) < 19
                                        else None)
        rows = [[t.when(ev.at), t.e(ev.actor), f"<code>{t.e(ev.action)}</code>", t.e(ev.target), t.e(ev.detail)]
                for ev in events]
        more = (f'<p><a class="button secondary small" href="{PREFIX}/audit?before={events[-1].id}">Older</a></p>'
                if len(events) == 100 else "")
        body = (f'<section class="card">{t.table("Admin actions, newest first", ["When", "Who", "What", "Target", "Detail"], rows)}'
                f"{more}</section>")
        return Outcome(200, self._chrome(ctx, "Audit log", body, f"{PREFIX}/audit"))

    # --- emulator controls ------------------------------------------------------------------------
    def _require_emulator(self, ctx: Ctx) -> None:
        self._require_admin(ctx, "use the emulator controls")
        if not self.server.settings.emulator:
            raise Denied("The emulator controls exist only in emulator mode.")

    def emulator_page(self, ctx: Ctx, message: str = "") -> Outcome:
        self._require_emulator(ctx)
        clock = self._admin(ctx, "GET", "/_admin/clock")
        form = self._form_open
        body = (
            f"{message}<section class=\"card\"><h2>Clock</h2><p>Server time: <strong>{t.when(clock['now'])}</strong> "
            f"(offset {clock['offset_seconds']:.0f} s)</p><div class=\"grid-form\">"
            f'{form(ctx, f"{PREFIX}/emulator/clock", "grid-form")}{t.field("advance_seconds", "Advance by (seconds)", "3600", "number")}'
            '<div><button class="primary">Advance</button></div></form>'
            f'{form(ctx, f"{PREFIX}/emulator/clock", "grid-form")}{t.field("set", "Set to (UTC)", t.local_input(clock["now"]), "datetime-local")}'
            '<div><button class="secondary">Set clock</button></div></form></div></section>'
            f'<section class="card"><h2>Snapshot</h2><p><a class="button secondary" href="{PREFIX}/emulator/snapshot">'
            "Export snapshot (JSON)</a></p>"
            f'{form(ctx, f"{PREFIX}/emulator/snapshot", "grid-form", " enctype=multipart/form-data")}'
            f'{t.field("snapshot", "Snapshot file to import", "", "file", True, " accept=application/json,.json")}'
            '<div><button class="danger">Import (replaces everything)</button></div></form></section>'
            f'<section class="card"><h2>Reset</h2>{form(ctx, f"{PREFIX}/emulator/reset")}'
            '<label class="check"><input type="checkbox" name="empty" value="true"> Start empty (no world file)</label>'
            '<label class="check"><input type="checkbox" name="confirm" value="yes" required> Delete all state, this '
            'session included</label><p><button class="danger">Reset the emulator</button></p></form></section>')
        return Outcome(200, self._chrome(ctx, "Emulator", body, f"{PREFIX}/emulator"))

    def move_clock(self, ctx: Ctx) -> Outcome:
        self._require_emulator(ctx)
        values = {"advance_seconds": ctx.values.get("advance_seconds", "")}
        target = _parse_local(ctx.values.get("set"), "set")
        if target is not None:
            values = {"set": str(target)}
        moved = self._admin(ctx, "POST", "/_admin/clock", values)
        self._audit(ctx, "emulator.clock", "clock", f"now={moved['now']}", org_id=None)
        return Outcome(303, location=f"{PREFIX}/emulator")

    def reset(self, ctx: Ctx) -> Outcome:
        self._require_emulator(ctx)
        if ctx.values.get("confirm") != "yes":
            raise InvalidParameter("Tick the box to confirm the reset")
        actor = ctx.me.actor
        self._admin(ctx, "POST", "/_admin/reset", {"empty": ctx.values.get("empty", "false")})
        self.server.inspector.clear()
        # The reset emptied every table, the audit log and this session included: the log starts again here.
        self.service.audit(None, actor, "emulator.reset", "all state")
        return Outcome(303, location=f"{PREFIX}/login", clear_cookie=True)

    def export_snapshot(self, ctx: Ctx) -> Outcome:
        self._require_emulator(ctx)
        snapshot = self._admin(ctx, "GET", "/_admin/snapshot")
        self._audit(ctx, "emulator.export", "snapshot", org_id=None)
        return Outcome(download=(json.dumps(snapshot).encode(), "questgraph-snapshot.json", "application/json"))

    def import_snapshot(self, ctx: Ctx) -> Outcome:
        self._require_emulator(ctx)
        raw = ctx.files.get("snapshot") or ctx.values.get("snapshot", "").encode()
        try:
            snapshot = json.loads(raw)
        except ValueError:
            raise InvalidParameter("The file is not a questgraph snapshot (JSON)") from None
        if not isinstance(snapshot, dict):
            raise InvalidParameter("The file is not a questgraph snapshot (JSON)")
        actor = ctx.me.actor
        self._admin(ctx, "POST", "/_admin/snapshot", {"version": str(snapshot.get("version", "")),
                                                       "tables": json.dumps(snapshot.get("tables"))})
        self.server.inspector.clear()
        self.service.audit(None, actor, "emulator.import", "snapshot")
        if self.service.viewer(ctx.cookie) is None:  # the snapshot's sessions replaced ours
            return Outcome(303, location=f"{PREFIX}/login", clear_cookie=True)
        return self.emulator_page(ctx, '<div class="once" role="status">Snapshot imported.</div>')
