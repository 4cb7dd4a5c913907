"""The web dashboard at ``/dashboard``: server-rendered pages (templates/) over the same services as
the admin API, so validation, errors and rules are the same code; leaderboards and achievements are called
with the app's own ``AppCaller``, exactly what an app-token Graph call would do. The pages know the server
process only through ``DashboardHost`` (its settings, readiness and whole-state actions).

Security: a session cookie (HttpOnly, SameSite=Strict, Secure over HTTPS) names a member of one
organization; every page checks on the server that the objects it shows belong to that organization (a
foreign id is a plain 404, as an unknown one), and every admin-only page or action checks the role. Every
POST carries a CSRF token bound to the session (or, before sign-in, to a pre-session cookie). New secrets
and tokens are shown once and never again: a new app secret in the answer to the POST that made it (a
reload cannot rotate twice: the form names the secret it replaces); a minted user token or nonce after a
redirect, carried to the one page that shows it by a short-lived cookie that page clears (FLASH_COOKIE), so
a reload neither mints again nor shows it again.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import logging
import re
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import parse_qsl, urlencode

import anyio
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from questgraph.server.achievements.records import AchievementDefinition
from questgraph.server.achievements.service import AchievementService, ProgressWrite, ShownProgress
from questgraph.server.auth.callers import AppCaller
from questgraph.server.auth.secrets import digest
from questgraph.server.challenges.records import Challenge
from questgraph.server.challenges.service import ChallengeService, iso_date
from questgraph.server.clock import MAX_CLOCK_SECONDS, Clock, clock_move
from questgraph.server.commerce.records import Purchase
from questgraph.server.commerce.service import ITEM_TYPES, CommerceService, ItemSpec
from questgraph.server.commerce.terms import TERMS
from questgraph.server.dashboard.inspector import InspectedRequest, RequestInspector
from questgraph.server.dashboard.records import AuditSearch
from questgraph.server.dashboard.render import histogram, render
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
from questgraph.server.db.open import DATA_ERRORS
from questgraph.server.errors import GraphError, InvalidParameter, MethodNotAllowed, NotFound
from questgraph.server.faults.service import FaultService
from questgraph.server.federation.service import FederationService
from questgraph.server.graph.params import Params, parse_id, parse_int, parse_json
from questgraph.server.graph.routing import Router
from questgraph.server.graph.transport import CLIENT_CLOSED, public_base_url
from questgraph.server.identity.records import App, Org, User
from questgraph.server.identity.service import AGE_CATEGORIES, IdentityService, NewApp
from questgraph.server.integrity.service import IntegrityService, minutes_left
from questgraph.server.leaderboards.records import Leaderboard
from questgraph.server.leaderboards.service import (
    SORT_ORDERS,
    WRITE_POLICIES,
    EntriesQuery,
    LeaderboardService,
    decode_extra_data,
)
from questgraph.server.notifications.service import NotificationService
from questgraph.server.settings import Settings
from questgraph.server.snapshots import SNAPSHOT_VERSION, check_snapshot_tables
from questgraph.server.sso.limiter import TooManyAttempts
from questgraph.server.sso.records import SsoLink
from questgraph.server.sso.service import SsoService
from questgraph.server.sso.urls import sso_page_url
from questgraph.server.users.service import MintedNonce, UserService

log = logging.getLogger("questgraph.dashboard")
PREFIX = "/dashboard"
COOKIE = "qg_dash_session"
PRE_COOKIE = "qg_dash_pre"  # before sign-in: what the sign-in forms' CSRF token is bound to
FLASH_COOKIE = "qg_dash_once"  # a just-minted user token or nonce, on its way to the one page that shows it
FLASH_SECONDS = 120
PAGE_SIZE = 25  # rows of a paged list (users, entries, inspector)
AUDIT_PAGE_SIZE = 50
MAX_PAGE = 10**9  # a page number past any list: the page is empty, the offset still fits int64
SSO_CALLBACK_DEMO = "/sso/callback-demo"  # under PREFIX: the emulator's stand-in for a studio's login URL
_DIGITS = re.compile(r"[0-9]{1,19}")  # ASCII digits only: str.isdigit() also accepts "²" and "٣"
# Where a sign-in may send the browser: our own pages, in printable ASCII (a CR, LF or NUL in a Location
# header makes the server drop the whole answer, the session cookie with it).
_SAFE_NEXT = re.compile(r"/dashboard/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*")
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


Tables = dict[str, list[dict[str, Any]]]  # a snapshot's rows, by table


class DashboardHost(Protocol):
    """What the pages need of the server process: its settings and readiness, the lanes it shares with the
    Graph API, its clock, and its whole-state actions (the emulator page, D36)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def ready(self) -> threading.Event: ...

    @property
    def limiter(self) -> anyio.CapacityLimiter: ...

    @property
    def clock(self) -> Clock: ...

    def reset(self, apply_world: bool = True) -> None: ...

    def move_clock(self, change: Callable[[Clock], None]) -> None: ...

    def export_snapshot(self) -> Tables: ...

    def import_snapshot(self, tables: Tables) -> None: ...

    @property
    def faults(self) -> FaultService: ...  # fault rules (docs/fault-injection.md), on the emulator page

    def known_app_secrets(self) -> list[str]:
        """App secrets the server was told in the clear (its world file): an app's is shown in emulator mode
        while the app still has it."""
        ...


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
    flash: str | None = None  # FLASH_COOKIE's value
    path_params: dict[str, str] = field(default_factory=dict)
    viewer: Viewer | None = None

    def id(self, name: str) -> int:
        """A path id, read by the Graph API's rule (D9): one no object can have (past int64) is no page."""
        try:
            return parse_id(name, self.path_params[name])
        except InvalidParameter:
            raise NotFound(f"no such {name}") from None

    @property
    def me(self) -> Viewer:
        assert self.viewer is not None
        return self.viewer

    @property
    def params(self) -> Params:
        """The values with the Graph API's typed readers: a bad value fails with the admin API's message."""
        return Params(self.values.items())

    def required(self, key: str) -> str:
        """A value that must not be blank, trimmed (the admin API's rule and message)."""
        value = self.values.get(key, "").strip()
        if not value:
            raise InvalidParameter(f"The parameter {key} is required")
        return value


@dataclass
class Outcome:
    status: int = 200
    html: str | None = None
    location: str | None = None
    cookie: str | None = None
    clear_cookie: bool = False
    pre_cookie: str | None = None
    download: tuple[bytes, str, str] | None = None  # body, file name, content type
    flash: str | None = None  # set FLASH_COOKIE to this
    clear_flash: bool = False


T = TypeVar("T")


@dataclass(frozen=True)
class Paged(Generic[T]):
    """One page of a list: ``of`` cuts it from a list the page filtered in memory; the users page asks the
    database for one page and its total."""

    rows: list[T]
    page_no: int
    total: int
    size: int

    @classmethod
    def of(cls, rows: Sequence[T], page_no: int, size: int = PAGE_SIZE) -> Paged[T]:
        start = (page_no - 1) * size
        return cls(list(rows[start:start + size]), page_no, len(rows), size)

    @property
    def pages(self) -> int:
        return max((self.total + self.size - 1) // self.size, 1)

    @property
    def has_next(self) -> bool:
        return self.page_no * self.size < self.total


@dataclass(frozen=True)
class AppSummary:
    """An app as the overview shows it."""

    app: App
    token: str  # the app access token of its curl lines (the real one only where it may be shown)
    users: int
    boards: list[str]  # api_names
    sample_user: User | None  # for the curl line that submits a score


@dataclass(frozen=True)
class UserRow:
    user: User
    entitled: bool


@dataclass(frozen=True)
class BoardRow:
    board: Leaderboard
    entries: int


@dataclass(frozen=True)
class HistoryRow:
    """A grant of a user's purchase history: a purchase, or a subscription."""

    id: str  # ordered as text, as the admin API orders the history
    sku: str
    item_type: str
    granted_at: int
    owned: bool
    state: str  # owned, consumed, refunded, expired (a subscription: active or ended)

    @property
    def refundable(self) -> bool:
        """What a refund accepts (§3.5): an owned durable, or an owned consumable not yet consumed."""
        return self.owned and self.item_type in ("DURABLE", "CONSUMABLE")


@dataclass(frozen=True)
class AchievementRow:
    definition: AchievementDefinition
    progress: ShownProgress | None  # None: the user has no progress on it yet


@dataclass(frozen=True)
class LinkRow:
    user: User
    app: App
    link: SsoLink


class Denied(Exception):
    """A signed-in member without the role an action needs (403)."""


class _TooLarge(Exception):
    """A form over its limit; ``flag`` names the serve option that raises that limit, if one does."""

    def __init__(self, limit: int, flag: str | None) -> None:
        super().__init__(limit)
        self.limit = limit
        self.flag = flag


# The snapshot upload is the admin API's snapshot import in a form: it takes the admin body limit
# (--max-admin-body-bytes), not the Graph one, so a snapshot the dashboard exported can be brought back.
SNAPSHOT_UPLOAD = f"{PREFIX}/emulator/snapshot"


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
    if text.isascii() and text.isdigit():
        return parse_int(key, text, minimum=0)
    try:
        return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp())
    except ValueError:
        raise InvalidParameter(f"Param {key} must be a date and time (YYYY-MM-DDTHH:MM, UTC)") from None


def _object_id(text: str) -> int | None:
    """A form or recorded value that may be an object id (D9, the Graph API's rule); None when it cannot be."""
    try:
        return parse_id("id", text)
    except InvalidParameter:
        return None


def _purchase_state(purchase: Purchase, now: int) -> str:
    if purchase.refunded_at is not None:
        return "refunded"
    if purchase.consumed_at is not None:
        return "consumed"
    return "owned" if purchase.owned_at(now) else "expired"


def _flash(value: dict[str, Any]) -> str:
    """FLASH_COOKIE's value: JSON in base64url, which needs no quoting in a cookie."""
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()


def _minted(flash: str | None, user_id: int) -> tuple[str | None, MintedNonce | None]:
    """The token or nonce FLASH_COOKIE carries for this user's page; anything else in it is ignored."""
    try:
        value = json.loads(base64.urlsafe_b64decode(flash)) if flash else None
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        return None, None
    if not isinstance(value, dict) or value.get("user") != user_id:
        return None, None
    token, nonce, expires_at = value.get("token"), value.get("nonce"), value.get("expires_at")
    return (token if isinstance(token, str) else None,
            MintedNonce(nonce, expires_at) if isinstance(nonce, str) and isinstance(expires_at, int) else None)


def _page_no(ctx: Ctx) -> int:
    """The ``page`` asked for (1 when none); anything but a page number is a 400."""
    return ctx.params.int64("page", minimum=1, maximum=MAX_PAGE) or 1


def _safe_next(target: str) -> str:
    """Where to go after signing in: ``target`` when it is one of our pages, else the overview. Never
    "//evil.example" or "/dashboard.evil", and never a control character in the Location header."""
    if _SAFE_NEXT.fullmatch(target) and "//" not in target:
        return target
    return f"{PREFIX}/overview"


@dataclass(frozen=True)
class ChallengeRow:
    """A challenge as the leaderboards page lists it (read-only)."""

    challenge: Challenge
    board: str
    state: str
    start: str
    end: str


class DashboardPages:
    def __init__(self, host: DashboardHost, *, dashboard: DashboardService, identity: IdentityService,
                 leaderboards: LeaderboardService, achievements: AchievementService, commerce: CommerceService,
                 users: UserService, sso: SsoService, inspector: RequestInspector,
                 notifications: NotificationService | None = None,
                 federation: FederationService | None = None,
                 integrity: IntegrityService | None = None,
                 challenges: ChallengeService | None = None) -> None:
        self.host = host
        self.federation = federation  # the federated users page (A.2), read-only
        self.challenges = challenges  # A.1: listed, read-only, on the leaderboards page
        self.service = dashboard
        self.identity = identity
        self.leaderboards = leaderboards
        self.achievements = achievements
        self.commerce = commerce
        self.users = users
        self.sso = sso
        self.inspector = inspector
        self.notifications = notifications
        self.integrity = integrity
        self.assets = {"dashboard.css": (_asset("dashboard.css"), "text/css"),
                       "dashboard.js": (_asset("dashboard.js"), "text/javascript"),
                       "callback.js": (_asset("callback.js"), "text/javascript")}
        self.public = Router()  # pages anyone may open (sign-in)
        self.private = Router()
        for method, path, handler in [
            ("GET", "", self.home), ("GET", "/login", self.login_page), ("POST", "/login", self.login),
            ("POST", "/login/emulator", self.login_emulator), ("GET", SSO_CALLBACK_DEMO, self.callback_demo),
        ]:
            self.public.add(method, PREFIX + path, handler)
        for method, path, handler in [
            ("POST", "/logout", self.logout), ("GET", "/overview", self.overview_page),
            ("GET", "/org", self.org_page), ("POST", "/org/members", self.put_member),
            ("POST", "/org/members/{member_id}/delete", self.delete_member),
            ("GET", "/apps/{app_id}", self.app_page), ("POST", "/apps/{app_id}/secret", self.rotate_secret),
            ("GET", "/apps/{app_id}/users", self.users_page), ("POST", "/apps/{app_id}/users", self.create_user),
            ("GET", "/users/{user_id}", self.user_page),
            ("GET", "/apps/{app_id}/federated_users", self.federated_users_page),
            ("POST", "/users/{user_id}/token", self.mint_token), ("POST", "/users/{user_id}/nonce", self.mint_nonce),
            ("POST", "/users/{user_id}/friends", self.befriend),
            ("POST", "/users/{user_id}/achievements/reset", self.reset_achievements),
            ("POST", "/users/{user_id}/achievements/unlock", self.unlock_achievement),
            ("POST", "/users/{user_id}/achievements/reset_one", self.reset_achievement),
            ("POST", "/users/{user_id}/purchases", self.grant_item),
            ("POST", "/users/{user_id}/purchases/refund", self.refund_item),
            ("POST", "/users/{user_id}/links/{link_id}/revoke", self.revoke_link),
            ("GET", "/apps/{app_id}/iap", self.iap_page), ("POST", "/apps/{app_id}/iap", self.create_item),
            ("GET", "/apps/{app_id}/achievements", self.achievements_page),
            ("GET", "/apps/{app_id}/leaderboards", self.boards_page),
            ("POST", "/apps/{app_id}/leaderboards", self.put_board),
            ("GET", "/apps/{app_id}/leaderboards/{board_id}", self.board_page),
            ("POST", "/apps/{app_id}/leaderboards/{board_id}/entries", self.submit_entry),
            ("POST", "/apps/{app_id}/leaderboards/{board_id}/entries/{entry_id}/delete", self.delete_entry),
            ("POST", "/apps/{app_id}/leaderboards/{board_id}/remove_all", self.remove_all),
            ("GET", "/apps/{app_id}/inspector", self.inspector_page),
            ("GET", "/apps/{app_id}/inspector/{seq}", self.inspected_page),
            ("GET", "/sso", self.sso_page), ("POST", "/sso/redirect_uris", self.add_redirect_uri),
            ("GET", "/audit", self.audit_page),
            ("GET", "/emulator", self.emulator_page), ("POST", "/emulator/clock", self.move_clock),
            ("POST", "/emulator/reset", self.reset), ("GET", "/emulator/snapshot", self.export_snapshot),
            ("POST", "/emulator/snapshot", self.import_snapshot),
            ("POST", "/emulator/faults", self.add_fault),  # fault injection (docs/fault-injection.md)
            ("POST", "/emulator/faults/{rule_id}/delete", self.delete_fault),
            ("GET", "/apps/{app_id}/notifications", self.notifications_page),
            ("POST", "/apps/{app_id}/notifications", self.create_notif_request),
            ("GET", "/apps/{app_id}/integrity", self.integrity_page),
        ]:
            self.private.add(method, PREFIX + path, handler)

    @staticmethod
    def handles(path: str) -> bool:
        return path == PREFIX or path.startswith(PREFIX + "/")

    # --- plumbing ---------------------------------------------------------------------------------
    async def respond(self, request: Request, trace_id: str) -> Response:
        """Any request under /dashboard: always an HTML page (or an asset, or a download), never a 500 body."""
        settings = self.host.settings
        try:
            path = request.url.path.rstrip("/") or "/"
            method = request.method.upper()
            if path.startswith(f"{PREFIX}/static/") and method in ("GET", "HEAD"):
                asset = self.assets.get(path.rsplit("/", 1)[1])
                if asset is not None:
                    return Response(asset[0], media_type=asset[1], headers={
                        "cache-control": "public, max-age=3600", "x-content-type-options": "nosniff"})
            if not self.host.ready.is_set():
                return self._page(request, Outcome(503, self._problem("Starting up", "questgraph is starting. "
                                                                      "Try again in a few seconds.")), trace_id)
            values = dict(parse_qsl(request.url.query, keep_blank_values=True))
            files: dict[str, bytes] = {}
            if method == "POST":
                form, files = await self._form(request, path)
                values.update(form)
            # The Graph layer's text rule (D2): a NUL or a lone surrogate no backend can store never reaches
            # the database, where PostgreSQL would refuse it as if the database had failed. ``next`` is never
            # stored: a bad one falls back to the overview instead (_safe_next).
            Params([(key, value) for key, value in values.items() if key != "next"]).check_text()
            ctx = Ctx(method, path, values, files, request.cookies.get(COOKIE), request.cookies.get(PRE_COOKIE),
                      request.client.host if request.client else "",
                      public_base_url(request, settings.public_url, settings.trust_forwarded),
                      flash=request.cookies.get(FLASH_COOKIE))
            outcome = await anyio.to_thread.run_sync(self._dispatch, ctx, limiter=self.host.limiter)
            return self._page(request, outcome, trace_id)
        except _TooLarge as exc:
            raise_it = f"; start the server with a larger {exc.flag} to allow it" if exc.flag else ""
            return self._page(request, Outcome(413, self._problem(
                "Too large", f"The form sent is larger than {exc.limit:,} bytes{raise_it}.")), trace_id)
        except InvalidParameter as exc:
            return self._page(request, Outcome(400, self._problem("Not done", exc.message)), trace_id)
        except ClientDisconnect:  # the browser left before its form arrived: no page can reach it
            log.info("client left mid-body on the dashboard (trace %s)", trace_id)
            return Response(status_code=CLIENT_CLOSED)
        except DATA_ERRORS as exc:  # a value the database refused: the same for every retry, not an outage
            return self._page(request, Outcome(400, self._problem("Not done", f"A value was refused: "
                                                                  f"{type(exc).__name__}")), trace_id)
        except DATABASE_ERRORS as exc:
            log.error("database error on the dashboard (trace %s): %s", trace_id, type(exc).__name__)
            return self._page(request, Outcome(503, self._problem("Unavailable", "The database is unavailable. "
                                                                  "Try again shortly.")), trace_id)
        except Exception:
            log.exception("internal error on the dashboard (trace %s)", trace_id)
            return self._page(request, Outcome(500, self._problem("Something went wrong", "An unexpected error "
                                                                  f"happened (trace {trace_id}).")), trace_id)

    async def _form(self, request: Request, path: str) -> tuple[dict[str, str], dict[str, bytes]]:
        settings = self.host.settings
        limit, flag = ((settings.max_admin_body_bytes, "--max-admin-body-bytes") if path == SNAPSHOT_UPLOAD
                       else (settings.max_body_bytes, None))
        declared = request.headers.get("content-length")
        if declared is None or not _DIGITS.fullmatch(declared) or int(declared) > limit:
            raise _TooLarge(limit, flag)  # browsers always send a length with a form; others are refused unread
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
            return Outcome(403, self._notice(ctx, "Not allowed", str(denied)))
        except NotFound:
            return Outcome(404, self._notice(ctx, "Not found", "There is no such object in your organization."))
        except GraphError as error:
            back = ctx.path if ctx.method == "GET" else ctx.values.get("back", f"{PREFIX}/org")
            if not back.startswith(PREFIX + "/"):
                back = f"{PREFIX}/org"
            return Outcome(error.status if error.status < 500 else 400,
                           self._notice(ctx, "Not done", error.message, back))

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
        settings = self.host.settings
        secure = public_base_url(request, settings.public_url, settings.trust_forwarded).startswith("https:")
        if outcome.cookie is not None:
            response.set_cookie(COOKIE, outcome.cookie, path=PREFIX, secure=secure, httponly=True, samesite="strict")
        elif outcome.clear_cookie:
            response.delete_cookie(COOKIE, path=PREFIX, secure=secure, httponly=True, samesite="strict")
        if outcome.pre_cookie is not None:
            response.set_cookie(PRE_COOKIE, outcome.pre_cookie, path=PREFIX, secure=secure, httponly=True,
                                samesite="strict")
        if outcome.flash is not None:
            response.set_cookie(FLASH_COOKIE, outcome.flash, max_age=FLASH_SECONDS, path=PREFIX, secure=secure,
                                httponly=True, samesite="strict")
        elif outcome.clear_flash:
            response.delete_cookie(FLASH_COOKIE, path=PREFIX, secure=secure, httponly=True, samesite="strict")
        return response

    @staticmethod
    def _problem(title: str, message: str, retry: str | None = None) -> str:
        return render("problem.html", title=title, message=message, retry=retry)

    def _chrome(self, ctx: Ctx, template: str, title: str, current: str, **context: Any) -> str:
        """A signed-in page: the header and navigation of the member's organization around ``template``."""
        me = ctx.me
        org = self.identity.org(me.org_id)
        return render(template, title=title, org=org, apps=self.identity.apps(org.id), current=current,
                      actor=me.actor, role=me.session.role, is_admin=me.is_admin, csrf=csrf_for(me.cookie),
                      back=ctx.path, emulator=self.host.settings.emulator, base_url=ctx.base_url, **context)

    def _notice(self, ctx: Ctx, title: str, message: str, go_back: str | None = None) -> str:
        return self._chrome(ctx, "notice.html", title, "", message=message, go_back=go_back)

    def _audit(self, ctx: Ctx, action: str, target: str, detail: str = "", org_id: int | None = -1) -> None:
        self.service.audit(ctx.me.org_id if org_id == -1 else org_id, ctx.me.actor, action, target, detail)

    # --- permission checks: on the server, for every object -------------------------------------------
    @staticmethod
    def _require_admin(ctx: Ctx, what: str) -> None:
        if not ctx.me.is_admin:
            raise Denied(f"Only an organization admin can {what}.")

    def _app(self, ctx: Ctx, app_id: int | None = None) -> App:
        app = self.identity.app(ctx.id("app_id") if app_id is None else app_id)
        if app.org_id != ctx.me.org_id:  # another org's app looks like no app at all
            raise NotFound("no such app")
        return app

    def _user(self, ctx: Ctx) -> tuple[User, App]:
        user = self.identity.user(ctx.id("user_id"))
        return user, self._app(ctx, user.app_id)

    def _board(self, ctx: Ctx, app: App) -> Leaderboard:
        board = self.leaderboards.board_in_app(app.id, ctx.id("board_id"))
        if board is None:
            raise NotFound("no such leaderboard")
        return board

    # --- sign-in ----------------------------------------------------------------------------------
    def home(self, ctx: Ctx) -> Outcome:
        return Outcome(303, location=f"{PREFIX}/overview" if self.service.viewer(ctx.cookie) else f"{PREFIX}/login")

    def _one_click(self, ctx: Ctx) -> bool:
        """Emulator mode, and the browser is on this machine (never through a proxy we were told to trust)."""
        settings = self.host.settings
        return settings.emulator and not settings.trust_forwarded and _is_loopback(ctx.client)

    def login_page(self, ctx: Ctx, error: str | None = None, status: int = 200) -> Outcome:
        pre = ctx.pre_cookie if ctx.pre_cookie and len(ctx.pre_cookie) == 43 else secrets.token_urlsafe(32)
        one_click = self._one_click(ctx)
        html = render("login.html", title="Sign in", error=error, csrf=login_csrf(pre),
                      next=ctx.values.get("next", ""), one_click=one_click,
                      orgs=self.identity.orgs() if one_click else [], email=ctx.values.get("email", ""))
        return Outcome(status, html, pre_cookie=pre if pre != ctx.pre_cookie else None)

    def _signed_in(self, ctx: Ctx, cookie: str) -> Outcome:
        if ctx.cookie:
            self.service.end_session(ctx.cookie)  # a session planted before sign-in is worth nothing after
        return Outcome(303, location=_safe_next(ctx.values.get("next", "")), cookie=cookie)

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
        org_id = _object_id(ctx.values.get("org_id", ""))
        org: Org | None = None
        if org_id is not None:
            try:
                org = self.identity.org(org_id)
            except NotFound:  # here a choice to make again, not a missing page
                org = None
        if org is None:
            return self.login_page(ctx, "Choose an organization.", 400)
        cookie = self.service.new_session(org.id, None, "admin", EMULATOR_ACTOR)
        self.service.audit(org.id, EMULATOR_ACTOR, "session.sign_in", f"org {org.id}")
        return self._signed_in(ctx, cookie)

    def logout(self, ctx: Ctx) -> Outcome:
        assert ctx.cookie is not None
        self.service.end_session(ctx.cookie)
        return Outcome(303, location=f"{PREFIX}/login", clear_cookie=True)

    # --- overview: the landing page --------------------------------------------------------------------
    def _app_token(self, app: App, may_see_secret: bool) -> str:
        """The app access token of a page's curl lines: in emulator mode, for whoever may see secrets, with
        the app's real secret while it is still the world file's (only a hash is kept of any other); else
        with ``$APP_SECRET`` to fill in."""
        if may_see_secret and self.host.settings.emulator:
            for secret in self.host.known_app_secrets():
                if digest(secret) == app.secret_hash:
                    return f"OC|{app.id}|{secret}"
        return f"OC|{app.id}|$APP_SECRET"

    def overview_page(self, ctx: Ctx) -> Outcome:
        settings = self.host.settings
        summaries: list[AppSummary] = []
        for app in self.identity.apps(ctx.me.org_id):
            users = self.identity.app_users(app.id)
            boards = [b.api_name for b in self.leaderboards.boards(AppCaller(app), app.id, None)]
            summaries.append(AppSummary(app, self._app_token(app, ctx.me.is_admin), len(users), boards,
                                        next((u for u in users if self.identity.is_entitled(u)), None)))
        database = settings.database
        backend = "PostgreSQL" if database.startswith(("postgres://", "postgresql")) else (
            "SQLite in memory" if ":memory:" in database else f"SQLite ({database.removeprefix('sqlite:///')})")
        ranks = "Redis (shared by every process)" if (settings.rank_index or "").startswith("redis") else \
            "in this process's memory"
        return Outcome(200, self._chrome(
            ctx, "overview.html", "Overview", f"{PREFIX}/overview", summaries=summaries, settings=settings,
            backend=backend, ranks=ranks, inspector=self.inspector,
            sso_url=sso_page_url(settings, ctx.base_url), callback_url=ctx.base_url + PREFIX + SSO_CALLBACK_DEMO))

    # --- organization -----------------------------------------------------------------------------
    def org_page(self, ctx: Ctx) -> Outcome:
        members = self.service.members(ctx.me.org_id)
        return Outcome(200, self._chrome(ctx, "org.html", "Organization", f"{PREFIX}/org", members=members))

    def put_member(self, ctx: Ctx) -> Outcome:
        self._require_admin(ctx, "manage members")
        email = ctx.required("email")
        member = self.service.put_member(ctx.me.org_id, email, ctx.values.get("name"),
                                         ctx.values.get("role", "").strip().lower() or None,
                                         ctx.values.get("password") or None)  # not trimmed: spaces are part of it
        self._audit(ctx, "member.put", f"member {member.email}", f"role={member.role}")
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
    def app_page(self, ctx: Ctx, shown: NewApp | None = None) -> Outcome:
        app = self._app(ctx)
        token = f"OC|{app.id}|{shown.secret}" if shown else self._app_token(app, ctx.me.is_admin)
        return Outcome(200, self._chrome(ctx, "app.html", f"{app.name}: API", f"{PREFIX}/apps/{app.id}", app=app,
                                         shown=shown, token=token))

    def rotate_secret(self, ctx: Ctx) -> Outcome:
        self._require_admin(ctx, "see or rotate an app secret")
        app = self._app(ctx)
        if ctx.values.get("confirm") != "yes":
            raise InvalidParameter("Tick the box to confirm that the old secret stops working")
        # The form names the secret it replaces (a prefix of its hash): the answer shows the new secret, so
        # it cannot be a redirect, and a reload that sends the form again must not rotate a second time.
        shown_for = ctx.values.get("current")
        if shown_for is not None and not secrets.compare_digest(shown_for, app.secret_hash[:16]):
            raise InvalidParameter("This secret was already rotated since the page was shown (a reload sends the "
                                   "form again): it was not rotated twice. The new secret was shown once, then.")
        made = self.identity.rotate_secret(app.id)
        self._audit(ctx, "app.rotate_secret", f"app {app.id}")
        return self.app_page(ctx, made)  # shown once, in this answer only (no-store)

    # --- users --------------------------------------------------------------------------------------
    def users_page(self, ctx: Ctx) -> Outcome:
        """The app's users, 25 a page; ``q`` finds by alias or display name (any case) or by user id."""
        app = self._app(ctx)
        query = ctx.values.get("q", "").strip()
        page_no = _page_no(ctx)
        users, total = self.identity.search_app_users(app.id, query, (page_no - 1) * PAGE_SIZE, PAGE_SIZE)
        paged = Paged(users, page_no, total, PAGE_SIZE)
        rows = [UserRow(u, self.identity.is_entitled(u)) for u in paged.rows]
        return Outcome(200, self._chrome(ctx, "users.html", f"{app.name}: users", f"{PREFIX}/apps/{app.id}/users",
                                         app=app, users=rows, paged=paged, query=query, age_names=AGE_NAMES,
                                         age_choices=[(k, AGE_NAMES[k]) for k in ("AD", "TN", "CH")]))

    def federated_users_page(self, ctx: Ctx) -> Outcome:
        """The app's federated (cross-play) users, 25 a page, read-only: they are made through the Graph API,
        the admin API or the world file. Each links to its user page (scores, achievements, tokens)."""
        app = self._app(ctx)
        found = [] if self.federation is None else self.federation.all_of_app(app.id)
        paged = Paged.of(found, _page_no(ctx))
        base = f"{PREFIX}/apps/{app.id}/federated_users"
        return Outcome(200, self._chrome(ctx, "federated_users.html", f"{app.name}: federated users", base,
                                         app=app, federated=paged.rows, paged=paged, base=base))

    def create_user(self, ctx: Ctx) -> Outcome:
        app = self._app(ctx)
        alias = ctx.required("alias")
        age_category = ctx.params.enum("age_category", AGE_CATEGORIES, default="AD") or "AD"
        made = self.identity.create_user(app.id, alias, display_name=ctx.values.get("display_name") or None,
                                         age_category=age_category, entitled=ctx.values.get("entitled") == "true")
        self._audit(ctx, "user.create", f"user {made.id}", f"app={app.id} alias={made.alias}")
        return Outcome(303, location=f"{PREFIX}/users/{made.id}")

    def user_page(self, ctx: Ctx) -> Outcome:
        user, app = self._user(ctx)
        minted_token, minted_nonce = _minted(ctx.flash, user.id)
        friend_people = set(self.identity.friends_of(user.person_id))
        app_users = self.identity.app_users(app.id)
        others = [(str(u.id), f"{u.alias} ({u.display_name})") for u in app_users
                  if u.id != user.id and u.person_id not in friend_people]
        items = [(i.sku, f"{i.name} ({i.sku})") for i in self.commerce.catalogue(app.id)]
        # A person's links with other organizations are not this organization's business.
        links = [v for v in self.sso.links(self.sso.person_of(user.id)) if v.link.org_id == ctx.me.org_id]
        page = Outcome(200, self._chrome(
            ctx, "user.html", f"User {user.alias}", "", user=user, app=app, age_names=AGE_NAMES,
            org_scoped_id=self.identity.org_scoped_id(user),
            entitled=self.identity.is_entitled(user),
            friends=[u for u in app_users if u.person_id in friend_people], others=others,
            achievements=self._achievement_rows(app, user), history=self._history(user), items=items,
            links=links, minted_token=minted_token, minted_nonce=minted_nonce))
        if ctx.flash is not None:  # shown (or not this user's): never again
            page.clear_flash = True
        return page

    def _achievement_rows(self, app: App, user: User) -> list[AchievementRow]:
        """Every definition of the app (archived ones too), with the user's progress on it, if any."""
        progress = {p.progress.definition_id: p for p in self.achievements.all_progress(user.id)}
        page = self.achievements.definitions(AppCaller(app), app.id, None, True, 1000, None, None)
        return [AchievementRow(d.definition, progress.get(d.definition.id)) for d in page.rows]

    def _history(self, user: User) -> list[HistoryRow]:
        history = self.commerce.history(user.id)
        rows = [HistoryRow(str(p.id), i.sku, i.item_type, p.granted_at, p.owned_at(history.now),
                           _purchase_state(p, history.now)) for p, i in history.purchases]
        rows += [HistoryRow(str(s.sub.id), s.item.sku, s.item.item_type, s.sub.started_at, s.is_active,
                            "active" if s.is_active else "ended") for s in history.subscriptions]
        rows.sort(key=lambda r: (r.granted_at, r.id))
        return rows

    def mint_token(self, ctx: Ctx) -> Outcome:
        user, app = self._user(ctx)
        token = self.identity.mint_user_token(user.id, None, ctx.params.int64("ttl_seconds", minimum=1))
        self._audit(ctx, "user.mint_token", f"user {user.id}", f"app={app.id}")
        return Outcome(303, location=f"{PREFIX}/users/{user.id}", flash=_flash({"user": user.id, "token": token}))

    def mint_nonce(self, ctx: Ctx) -> Outcome:
        user, app = self._user(ctx)
        minted = self.users.mint_nonce(user.id)
        self._audit(ctx, "user.mint_nonce", f"user {user.id}", f"app={app.id}")
        return Outcome(303, location=f"{PREFIX}/users/{user.id}", flash=_flash(
            {"user": user.id, "nonce": minted.nonce, "expires_at": minted.expires_at}))

    def befriend(self, ctx: Ctx) -> Outcome:
        user, app = self._user(ctx)
        friend_id = _object_id(ctx.values.get("friend_id", ""))
        other = None if friend_id is None else self.identity.user_in_app(app.id, friend_id)
        if other is None:
            raise InvalidParameter("Choose a user of the same app")
        self.identity.befriend(user.person_id, other.person_id)
        self._audit(ctx, "user.befriend", f"user {user.id}", f"friend={other.id}")
        return Outcome(303, location=f"{PREFIX}/users/{user.id}")

    def reset_achievements(self, ctx: Ctx) -> Outcome:
        user, app = self._user(ctx)
        removed = self.achievements.remove_all(AppCaller(app), user.id)
        self._audit(ctx, "user.reset_achievements", f"user {user.id}", f"rows={removed}")
        return Outcome(303, location=f"{PREFIX}/users/{user.id}")

    def unlock_achievement(self, ctx: Ctx) -> Outcome:
        """Unlock one achievement for the user: what ``force_unlock=true`` with the app token does (D24)."""
        user, app = self._user(ctx)
        api_name = ctx.required("api_name")
        unlocked = self.achievements.write(AppCaller(app), user.id, api_name, ProgressWrite(force_unlock=True))
        self._audit(ctx, "user.unlock_achievement", f"user {user.id}", f"api_name={api_name} unlocked={unlocked}")
        return Outcome(303, location=f"{PREFIX}/users/{user.id}#achievements")

    def reset_achievement(self, ctx: Ctx) -> Outcome:
        user, app = self._user(ctx)
        api_name = ctx.required("api_name")
        removed = self.achievements.reset_progress(AppCaller(app), user.id, api_name)
        self._audit(ctx, "user.reset_achievement", f"user {user.id}", f"api_name={api_name} removed={removed}")
        return Outcome(303, location=f"{PREFIX}/users/{user.id}#achievements")

    def grant_item(self, ctx: Ctx) -> Outcome:
        user, _ = self._user(ctx)
        sku = ctx.required("sku")
        self.commerce.grant(user.id, sku)
        self._audit(ctx, "user.grant", f"user {user.id}", f"sku={sku}")
        return Outcome(303, location=f"{PREFIX}/users/{user.id}")

    def refund_item(self, ctx: Ctx) -> Outcome:
        """Refund the user's owned purchase of ``sku``: the Graph refund with the app token (§3.5)."""
        user, app = self._user(ctx)
        sku = ctx.required("sku")
        self.commerce.refund(AppCaller(app), app.id, str(user.id), sku, ctx.values.get("reason", ""))
        self._audit(ctx, "user.refund", f"user {user.id}", f"sku={sku}")
        return Outcome(303, location=f"{PREFIX}/users/{user.id}#purchases")

    def revoke_link(self, ctx: Ctx) -> Outcome:
        user, _ = self._user(ctx)
        link_id = ctx.id("link_id")
        mine = self.sso.links(self.sso.person_of(user.id))
        if not any(v.link.id == link_id and v.link.org_id == ctx.me.org_id for v in mine):
            raise NotFound("no such link")
        self.sso.revoke(link_id)
        self._audit(ctx, "sso.revoke_link", f"link {link_id}", f"user={user.id}")
        return Outcome(303, location=f"{PREFIX}/users/{user.id}")

    # --- IAP and achievements -----------------------------------------------------------------------
    def iap_page(self, ctx: Ctx) -> Outcome:
        app = self._app(ctx)
        return Outcome(200, self._chrome(ctx, "iap.html", f"{app.name}: IAP", f"{PREFIX}/apps/{app.id}/iap",
                                         app=app, items=self.commerce.catalogue(app.id)))

    def create_item(self, ctx: Ctx) -> Outcome:
        app = self._app(ctx)
        params = ctx.params
        ctx.required("type")  # first, as the admin API checks it: the same message for the same form
        spec = ItemSpec(
            sku=ctx.required("sku"), item_type=params.enum("type", ITEM_TYPES) or "", name=ctx.required("name"),
            price_hundredths=params.int64("price", minimum=0) or 0,
            currency=(params.get("currency") or "USD").strip().upper(),
            subscription_term=params.enum("subscription_term", TERMS))
        made = self.commerce.create_item(app.id, spec)
        self._audit(ctx, "iap.create_item", f"app {app.id}", f"sku={made.sku}")
        return Outcome(303, location=f"{PREFIX}/apps/{app.id}/iap")

    def integrity_page(self, ctx: Ctx) -> Outcome:
        """The app's active device bans (platform integrity, read-only)."""
        app = self._app(ctx)
        now = self.host.clock.now()
        bans = [(ban, minutes_left(ban.expires_at, now))
                for ban in ([] if self.integrity is None else self.integrity.bans(app.id))]
        return Outcome(200, self._chrome(ctx, "integrity.html", f"{app.name}: device bans",
                                         f"{PREFIX}/apps/{app.id}/integrity", app=app, bans=bans))

    def achievements_page(self, ctx: Ctx) -> Outcome:
        app = self._app(ctx)
        page = self.achievements.definitions(AppCaller(app), app.id, None, True, 1000, None, None)
        return Outcome(200, self._chrome(ctx, "achievements.html", f"{app.name}: achievements",
                                         f"{PREFIX}/apps/{app.id}/achievements", app=app, definitions=page.rows))

    # --- leaderboards -----------------------------------------------------------------------------
    def _board_page(self, ctx: Ctx, template: str, title: str, app: App, **context: Any) -> Outcome:
        return Outcome(200, self._chrome(ctx, template, title, f"{PREFIX}/apps/{app.id}/leaderboards", app=app,
                                         sort_orders=SORT_ORDERS, write_policies=WRITE_POLICIES, **context))

    def boards_page(self, ctx: Ctx) -> Outcome:
        app = self._app(ctx)
        boards = [BoardRow(b, self.leaderboards.entry_count(b))
                  for b in self.leaderboards.boards(AppCaller(app), app.id, None)]
        challenges = [] if self.challenges is None else [
            ChallengeRow(c, self.challenges.board_of(c).api_name, self.challenges.state(c), iso_date(c.start_date),
                         iso_date(c.end_date)) for c in self.challenges.of_app(app.id)]
        return self._board_page(ctx, "leaderboards.html", f"{app.name}: leaderboards", app, boards=boards,
                                challenges=challenges)

    def put_board(self, ctx: Ctx) -> Outcome:
        app = self._app(ctx)
        api_name = ctx.values.get("api_name", "").strip()
        existing = self.leaderboards.find_board(app.id, api_name)
        board = self.leaderboards.upsert(
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
        service = self.leaderboards
        page_no = _page_no(ctx)
        search = ctx.values.get("user", "").strip()
        caller = AppCaller(app)
        found = missing = None
        rows: Sequence[object]  # RankedEntry: the queries' rows_needed is True (the template shows profiles)
        if search:
            found = self.identity.find_user(app.id, search)
            if found is None:
                rows, total, has_next = [], 0, False
                missing = f"No user {search!r} in this app."
            else:
                entries = service.entries(caller, EntriesQuery(board.api_name, "USER_IDS", [found.id]))
                rows, total, has_next = entries.rows, entries.total_count, False
        else:
            entries = service.entries(caller, EntriesQuery(board.api_name, start_at="OFFSET",
                                                           offset=(page_no - 1) * PAGE_SIZE, limit=PAGE_SIZE))
            rows, total, has_next = entries.rows, entries.total_count, entries.has_next
        scores = service.score_sample(board, CHART_SAMPLE)
        return self._board_page(ctx, "leaderboard.html", f"Leaderboard {board.api_name}", app, board=board,
                                chart=histogram(scores, sampled=len(scores) >= CHART_SAMPLE), search=search,
                                found=found, missing=missing, rows=rows, total=total, has_next=has_next,
                                page_no=page_no, submitted=ctx.values.get("submitted", ""))

    def submit_entry(self, ctx: Ctx) -> Outcome:
        """A score for a user, as ``leaderboard_submit_entry`` with the app token: keep-best unless
        ``force_update`` (D15); then the board's page found at that user, saying whether the entry changed."""
        app = self._app(ctx)
        board = self._board(ctx, app)
        wanted = ctx.required("entry_user")
        user = self.identity.find_user(app.id, wanted)
        if user is None:
            raise InvalidParameter(f"No user {wanted[:64]!r} in this app")
        score = ctx.params.int64("score", required=True)
        assert score is not None
        extra = decode_extra_data(ctx.values.get("extra_data_base64") or None)
        changed = self.leaderboards.submit(AppCaller(app), board.api_name, score, extra,
                                           ctx.params.boolean("force_update"), user.id)
        self._audit(ctx, "leaderboard.submit", f"leaderboard {board.id}",
                    f"user={user.id} score={score} updated={changed}")
        query = urlencode({"user": user.alias, "submitted": "updated" if changed else "kept"})
        return Outcome(303, location=f"{PREFIX}/apps/{app.id}/leaderboards/{board.id}?{query}")

    def delete_entry(self, ctx: Ctx) -> Outcome:
        app = self._app(ctx)
        board = self._board(ctx, app)
        found = self.leaderboards.entry_in_app(app.id, ctx.id("entry_id"))
        if found is None or found[0].id != board.id:
            raise NotFound("no such entry")
        entry = found[1]
        self.leaderboards.delete_entry(AppCaller(app), entry.id)
        self._audit(ctx, "leaderboard.delete_entry", f"entry {entry.id}", f"leaderboard={board.api_name} "
                    f"user={entry.user_id} score={entry.score}")
        return Outcome(303, location=f"{PREFIX}/apps/{app.id}/leaderboards/{board.id}")

    def remove_all(self, ctx: Ctx) -> Outcome:
        app = self._app(ctx)
        board = self._board(ctx, app)
        if ctx.values.get("confirm") != "yes":
            raise InvalidParameter("Tick the box to confirm removing every entry")
        self.leaderboards.remove_all_entries(AppCaller(app), board.api_name)
        self._audit(ctx, "leaderboard.remove_all", f"leaderboard {board.id}", f"api_name={board.api_name}")
        return Outcome(303, location=f"{PREFIX}/apps/{app.id}/leaderboards/{board.id}")

    # --- request inspector --------------------------------------------------------------------------
    def inspector_page(self, ctx: Ctx) -> Outcome:
        app = self._app(ctx)
        endpoint = ctx.values.get("endpoint", "").strip()
        status = ctx.values.get("status", "").strip()
        user_text = ctx.values.get("user", "").strip()
        user_id = None
        if user_text:
            found = self.identity.find_user(app.id, user_text)
            user_id = found.id if found else -1
        requests = self.inspector.recent(app.id, endpoint=endpoint or None, status=status or None, user_id=user_id)
        paged = Paged.of(requests, _page_no(ctx))
        base = f"{PREFIX}/apps/{app.id}/inspector"
        keep = {k: v for k, v in (("endpoint", endpoint), ("status", status), ("user", user_text)) if v}
        return Outcome(200, self._chrome(ctx, "inspector.html", f"{app.name}: request inspector", base, app=app,
                                         inspector=self.inspector, requests=paged.rows, paged=paged, keep=keep,
                                         endpoint=endpoint, status=status, user_text=user_text))

    def inspected_page(self, ctx: Ctx) -> Outcome:
        app = self._app(ctx)
        found = self.inspector.get(app.id, ctx.id("seq"))
        if found is None:
            raise NotFound("no such request")
        return Outcome(200, self._chrome(ctx, "inspected.html", f"Request {found.seq}",
                                         f"{PREFIX}/apps/{app.id}/inspector", found=found,
                                         touched=self._touched(app, found)))

    def _touched(self, app: App, found: InspectedRequest) -> list[tuple[str, str]]:
        """Links (address, text) to what the request named: its leaderboard (by api_name), users, and ids
        in its path."""
        links: list[tuple[str, str]] = []
        base = f"{PREFIX}/apps/{app.id}"
        api_name = found.param("api_name") or found.param("leaderboard_name")
        if api_name:
            board = self.leaderboards.find_board(app.id, api_name)
            if board is not None:
                links.append((f"{base}/leaderboards/{board.id}", f"Leaderboard {board.api_name}"))
        ids: list[int] = []
        if found.user_id is not None:
            ids.append(found.user_id)
        raws = [*found.path.split("/"), *(found.param("user_ids") or "").replace("[", "").replace("]", "").split(",")]
        ids += [i for i in map(_object_id, raws) if i is not None]
        seen: set[int] = set()
        for object_id in ids:
            if object_id in seen or object_id == app.id:
                continue
            seen.add(object_id)
            user = self.identity.user_in_app(app.id, object_id)
            if user is not None:
                links.append((f"{PREFIX}/users/{user.id}", f"User {user.alias} ({user.id})"))
                continue
            board = self.leaderboards.board_in_app(app.id, object_id)
            if board is not None:
                links.append((f"{base}/leaderboards/{board.id}", f"Leaderboard {board.api_name}"))
                continue
            entry = self.leaderboards.entry_in_app(app.id, object_id)
            if entry is not None:
                links.append((f"{base}/leaderboards/{entry[0].id}",
                              f"Entry {entry[1].id} on leaderboard {entry[0].api_name}"))
        return links

    # --- SSO ------------------------------------------------------------------------------------------
    def sso_page(self, ctx: Ctx) -> Outcome:
        org_id = ctx.me.org_id
        links = []
        for app in self.identity.apps(org_id):
            for user in self.identity.app_users(app.id)[:200]:
                links += [LinkRow(user, app, v.link) for v in self.sso.links(self.sso.person_of(user.id))
                          if v.link.org_id == org_id and v.link.app_id == app.id]
        redirect_uris = self.sso.redirect_uris(org_id)
        demo_uri = ctx.base_url + PREFIX + SSO_CALLBACK_DEMO
        return Outcome(200, self._chrome(ctx, "sso.html", "Single sign-on", f"{PREFIX}/sso",
                                         redirect_uris=redirect_uris, links=links, demo_uri=demo_uri,
                                         demo_registered=demo_uri in redirect_uris,
                                         page_url=sso_page_url(self.host.settings, ctx.base_url)))

    def add_redirect_uri(self, ctx: Ctx) -> Outcome:
        self._require_admin(ctx, "add redirect URIs")
        uri = ctx.values.get("redirect_uri", "")
        self.sso.add_redirect_uri(ctx.me.org_id, ctx.required("redirect_uri"))
        self._audit(ctx, "sso.add_redirect_uri", f"org {ctx.me.org_id}", uri[:300])
        return Outcome(303, location=f"{PREFIX}/sso")

    # --- audit log ------------------------------------------------------------------------------------
    def audit_page(self, ctx: Ctx) -> Outcome:
        """Newest first, 50 a page (``before`` an event id: the page after it); narrowed by what the action
        and the actor contain and by a time range (UTC)."""
        text = {k: ctx.values.get(k, "").strip()[:200] for k in ("action", "actor", "since", "until")}
        search = AuditSearch(text["action"], text["actor"], _parse_local(text["since"], "since"),
                             _parse_local(text["until"], "until"))
        before = ctx.params.int64("before", minimum=1)
        events = self.service.audit_log(ctx.me.org_id, AUDIT_PAGE_SIZE + 1, before, search)
        older = events[AUDIT_PAGE_SIZE - 1].id if len(events) > AUDIT_PAGE_SIZE else None
        keep = {k: v for k, v in text.items() if v}
        return Outcome(200, self._chrome(ctx, "audit.html", "Audit log", f"{PREFIX}/audit",
                                         events=events[:AUDIT_PAGE_SIZE], older=older, keep=keep, newer=before,
                                         filters=text))

    # --- emulator controls ------------------------------------------------------------------------
    def _require_emulator(self, ctx: Ctx) -> None:
        self._require_admin(ctx, "use the emulator controls")
        if not self.host.settings.emulator:
            raise Denied("The emulator controls exist only in emulator mode.")

    def emulator_page(self, ctx: Ctx) -> Outcome:
        self._require_emulator(ctx)
        clock = self.host.clock
        return Outcome(200, self._chrome(ctx, "emulator.html", "Emulator", f"{PREFIX}/emulator",
                                         imported=ctx.values.get("imported") == "1", now=clock.now(),
                                         offset_seconds=clock.offset_us / 1_000_000,
                                         frozen=clock.frozen_us is not None, faults=self.host.faults.list()))

    def move_clock(self, ctx: Ctx) -> Outcome:
        """The page's forms: advance by seconds, set to a UTC time, freeze or let run (the admin API's
        parameters and limits: a frozen clock stands still between moves, D36)."""
        self._require_emulator(ctx)
        clock = self.host.clock
        target = _parse_local(ctx.values.get("set"), "set")
        set_to = None if target is None else parse_int("set", target, minimum=0, maximum=MAX_CLOCK_SECONDS)
        advance = ctx.params.int64("advance_seconds", minimum=0)
        freeze = ctx.params.boolean("freeze") if ctx.values.get("freeze", "").strip() else None
        self.host.move_clock(clock_move(clock, advance=advance, target=set_to, frozen=freeze))
        frozen = "" if freeze is None else f" frozen={'yes' if freeze else 'no'}"
        self._audit(ctx, "emulator.clock", "clock", f"now={clock.now()}{frozen}", org_id=None)
        return Outcome(303, location=f"{PREFIX}/emulator")

    def reset(self, ctx: Ctx) -> Outcome:
        self._require_emulator(ctx)
        if ctx.values.get("confirm") != "yes":
            raise InvalidParameter("Tick the box to confirm the reset")
        actor = ctx.me.actor
        self.host.reset(apply_world=not ctx.params.boolean("empty"))
        self.inspector.clear()
        # The reset emptied every table, the audit log and this session included: the log starts again here.
        self.service.audit(None, actor, "emulator.reset", "all state")
        return Outcome(303, location=f"{PREFIX}/login", clear_cookie=True)

    def export_snapshot(self, ctx: Ctx) -> Outcome:
        self._require_emulator(ctx)
        snapshot = {"version": SNAPSHOT_VERSION, "tables": self.host.export_snapshot()}
        self._audit(ctx, "emulator.export", "snapshot", org_id=None)
        return Outcome(download=(json.dumps(snapshot).encode(), "questgraph-snapshot.json", "application/json"))

    def import_snapshot(self, ctx: Ctx) -> Outcome:
        self._require_emulator(ctx)
        raw = ctx.files.get("snapshot") or ctx.values.get("snapshot", "").encode()
        try:
            snapshot = parse_json(raw)
        except ValueError:
            raise InvalidParameter("The file is not a questgraph snapshot (JSON)") from None
        if not isinstance(snapshot, dict):
            raise InvalidParameter("The file is not a questgraph snapshot (JSON)")
        actor = ctx.me.actor
        # The admin API's rules of a snapshot, in its order: its version, then the shape of its tables.
        if Params([("version", str(snapshot.get("version", "")))]).int64("version", required=True) != SNAPSHOT_VERSION:
            raise InvalidParameter(f"Param version must be {SNAPSHOT_VERSION}")
        tables: Any = snapshot.get("tables")  # a Tables once checked
        check_snapshot_tables(tables)
        self.host.import_snapshot(tables)
        self.inspector.clear()
        self.service.audit(None, actor, "emulator.import", "snapshot")
        if self.service.viewer(ctx.cookie) is None:  # the snapshot's sessions replaced ours
            return Outcome(303, location=f"{PREFIX}/login", clear_cookie=True)
        return Outcome(303, location=f"{PREFIX}/emulator?imported=1")  # a reload must not import again

    # --- fault injection (docs/fault-injection.md) -----------------------------------------------------
    def add_fault(self, ctx: Ctx) -> Outcome:
        """The emulator page's form: the admin API's fields; a bad rule is the 400 page naming the field."""
        self._require_emulator(ctx)
        names = ("route", "app_id", "kind", "status", "code", "latency_ms", "count", "probability", "seed")
        values = {n: ctx.values[n] for n in names if ctx.values.get(n, "").strip()}
        if values.get("kind") != "error":  # the form's error defaults do not belong to a latency or drop rule
            values.pop("status", None)
        rule = self.host.faults.add(values)
        self._audit(ctx, "emulator.fault", f"fault rule {rule.id}", rule.describe(), org_id=None)
        return Outcome(303, location=f"{PREFIX}/emulator#faults")

    def delete_fault(self, ctx: Ctx) -> Outcome:
        self._require_emulator(ctx)
        rule_id = ctx.id("rule_id")
        self.host.faults.delete(rule_id)
        self._audit(ctx, "emulator.fault.delete", f"fault rule {rule_id}", org_id=None)
        return Outcome(303, location=f"{PREFIX}/emulator#faults")

    # --- the account-linking demo callback ------------------------------------------------------------
    def callback_demo(self, ctx: Ctx) -> Outcome:
        """The page a studio's login URL would be (D31), for trying account linking with no studio site:
        its script decodes the fragment and fills in the code exchange to run. Public, as a login URL is; the
        curl lines carry a real app token only for who may see it (an admin's session, or the emulator's
        one-click conditions)."""
        viewer = self.service.viewer(ctx.cookie)
        if viewer is not None:
            apps, may_see = self.identity.apps(viewer.org_id), viewer.is_admin
        elif self._one_click(ctx):
            apps, may_see = [a for org in self.identity.orgs() for a in self.identity.apps(org.id)], True
        else:
            apps, may_see = [], False
        html = render("callback_demo.html", title="Account-linking callback (demo)", base_url=ctx.base_url,
                      apps=[(app, self._app_token(app, may_see)) for app in apps], signed_in=viewer is not None)
        return Outcome(200, html)

    # --- user notifications (D37) -------------------------------------------------------------------
    def _notification_service(self) -> NotificationService:
        if self.notifications is None:
            raise NotFound("notifications are not served here")
        return self.notifications

    def notifications_page(self, ctx: Ctx) -> Outcome:
        app, service = self._app(ctx), self._notification_service()
        return Outcome(200, self._chrome(ctx, "notifications.html", f"{app.name}: notifications",
                                         f"{PREFIX}/apps/{app.id}/notifications", app=app,
                                         requests=service.requests(app.id), sent=service.sent(app.id)[::-1]))

    def create_notif_request(self, ctx: Ctx) -> Outcome:
        app, service = self._app(ctx), self._notification_service()
        made = service.register_request(app.id, ctx.required("category"), ctx.params.get("name") or "")
        self._audit(ctx, "notifications.create_request", f"app {app.id}", f"id={made.id} category={made.category}")
        return Outcome(303, location=f"{PREFIX}/apps/{app.id}/notifications")
