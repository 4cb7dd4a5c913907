"""Wires the server together: the database and each feature's store, clock, rank index, features, the
Graph and admin routers, and the one endpoint that turns every outcome into a Graph response (D6)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from questgraph.server.achievements import AchievementService
from questgraph.server.achievements import routes as achievement_routes
from questgraph.server.achievements.store import AchievementStore
from questgraph.server.achievements.views import MEDIA_PREFIX
from questgraph.server.admin import routes as admin_routes
from questgraph.server.admin.context import Tables
from questgraph.server.auth import Authenticator
from questgraph.server.call_sets import NO_TOKEN, EntriesSet, SubmitSet
from questgraph.server.challenges import ChallengeService
from questgraph.server.challenges import routes as challenge_routes
from questgraph.server.challenges.store import ChallengeStore
from questgraph.server.clock import Clock
from questgraph.server.clock_sync import ClockFollower
from questgraph.server.commerce import CommerceService
from questgraph.server.commerce import routes as commerce_routes
from questgraph.server.commerce.store import CommerceStore
from questgraph.server.dashboard import DashboardService, RequestInspector
from questgraph.server.dashboard.inspector import token_source
from questgraph.server.dashboard.pages import DashboardPages
from questgraph.server.dashboard.store import DashboardStore
from questgraph.server.db import DATA_ERRORS, DATABASE_ERRORS, ObjectIds, WholeState, is_postgres, open_database
from questgraph.server.db.state import read_cache_version
from questgraph.server.errors import (
    Forbidden,
    GraphError,
    InternalError,
    InvalidParameter,
    MethodNotAllowed,
    MissingToken,
    NotFound,
    Unavailable,
)
from questgraph.server.executor import DomainExecutor
from questgraph.server.faults import FaultService
from questgraph.server.faults.records import FaultRule
from questgraph.server.faults.service import DropConnection, InjectedError
from questgraph.server.faults.store import FaultStore
from questgraph.server.faults.transport import DroppedResponse
from questgraph.server.federation import routes as federation_routes
from questgraph.server.federation import views as federation_views
from questgraph.server.federation.service import FederationService
from questgraph.server.federation.store import FederationStore
from questgraph.server.graph import objects as object_routes
from questgraph.server.graph.objects import ObjectKinds
from questgraph.server.graph.params import Params
from questgraph.server.graph.request import GraphRequest
from questgraph.server.graph.responses import error_response, json_response, new_trace_id
from questgraph.server.graph.routing import Router
from questgraph.server.graph.transport import (
    CLIENT_CLOSED,
    access_token,
    close_files,
    effective_method,
    public_base_url,
    read_params,
    request_path,
)
from questgraph.server.health import DatabaseProbe
from questgraph.server.identity import IdentityService
from questgraph.server.identity.store import IdentityStore
from questgraph.server.integrity import IntegrityService
from questgraph.server.integrity import routes as integrity_routes
from questgraph.server.integrity.store import IntegrityStore
from questgraph.server.leaderboards import LeaderboardService
from questgraph.server.leaderboards import routes as leaderboard_routes
from questgraph.server.leaderboards import views as leaderboard_views
from questgraph.server.leaderboards.store import LeaderboardStore
from questgraph.server.metrics import METRICS_PATH, Metrics
from questgraph.server.notifications import NotificationService
from questgraph.server.notifications import routes as notification_routes
from questgraph.server.notifications.store import NotificationStore
from questgraph.server.openapi import OPENAPI_PATH, document_bytes
from questgraph.server.ranking.index import ProgressLog
from questgraph.server.ranking.keeper import IndexUnavailable, index_errors, open_rank_index
from questgraph.server.settings import Settings
from questgraph.server.sso import SsoService
from questgraph.server.sso import routes as sso_routes
from questgraph.server.sso.pages import SsoPages
from questgraph.server.sso.store import SsoStore
from questgraph.server.users import UserService
from questgraph.server.users import routes as user_routes
from questgraph.server.users.store import UserStore
from questgraph.server.world import World, WorldError

log = logging.getLogger("questgraph.server")
access_log = logging.getLogger("questgraph.access")
ADMIN_PREFIX = "/_admin"
HEALTH_PREFIX = "/_health"
CLOCK_SETTING = "clock_offset_us"
WORLD_SETTING = "world_digest"  # the digest of the world file this database was made from
INDEX_ERRORS = index_errors()
# Handlers that confirm a cached caller with their first query (auth/tokens.py: the hottest calls skip the
# token's query), and of those the reads whose page script checks the shared index's marker itself.
CACHED_CALLER = (leaderboard_views.leaderboard_entries, leaderboard_views.leaderboard_submit_entry)
MARKER_IN_PAGE = (leaderboard_views.leaderboard_entries,)


@dataclass
class Server:
    """One server process: its services, its routers, and whether its rank index is ready."""

    settings: Settings
    world: World | None = None
    ready: threading.Event = field(default_factory=threading.Event)
    build_error: str | None = None

    def __post_init__(self) -> None:
        if self.world is not None and self.world.faults and not self.settings.emulator:  # before any connection
            raise ValueError(f"{self.world.source}: [[faults]] cannot be used with --production (fault injection "
                             "is an emulator feature)")
        # SQLite or PostgreSQL by the setting; a PostgreSQL pool sized for the domain lanes.
        self.db = open_database(self.settings.database, self.settings.domain_lanes)
        # Each feature's tables behind its own store, all on the one database (one transaction spans them).
        self.whole_state = WholeState(self.db)
        self.ids = ObjectIds(self.db)
        self.identity_store = IdentityStore(self.db)
        self.leaderboard_store = LeaderboardStore(self.db)
        self.achievement_store = AchievementStore(self.db)
        self.user_store = UserStore(self.db)
        self.commerce_store = CommerceStore(self.db)
        self.sso_store = SsoStore(self.db)
        self.dashboard_store = DashboardStore(self.db)
        self.integrity_store = IntegrityStore(self.db)
        self.database_probe = DatabaseProbe(lambda: self.whole_state.get_setting(CLOCK_SETTING))  # /_health/ready
        self.clock = Clock()
        if self.settings.emulator:
            self.clock.load_setting(self.whole_state.get_setting(CLOCK_SETTING))
        # In memory, or in Redis shared by every process of a deployment (ranking/keeper.py).
        self.index, self.index_keeper = open_rank_index(self.settings.rank_index, self.settings.database)
        # With a shared index there may be other processes: follow the clock offset they store (D36).
        self.clock_follower = (ClockFollower(self.clock, lambda: self.whole_state.get_setting(CLOCK_SETTING))
                               if self.settings.emulator and self.index_keeper.kind != "memory" else None)
        db, identity_store = self.db, self.identity_store
        self.auth = Authenticator(identity_store, self.clock, lambda: read_cache_version(db))
        self.identity = IdentityService(db, identity_store, self.ids, self.clock)
        self.leaderboards = LeaderboardService(db, self.leaderboard_store, identity_store, self.index, self.clock,
                                               self.identity, track_pending=self.index_keeper.tracks_pending)
        self.index_keeper.bind(self.leaderboard_store, self.whole_state, self.leaderboards.build_index)
        self.leaderboards.confirm_caller = self.auth.confirm
        self.leaderboards.check_index = self.index_keeper.check
        self.sso = SsoService(db, self.sso_store, identity_store, self.clock, self.identity)
        self.auth.resolve_link = self.sso.resolve_link  # SSO oauth_tokens (OCAe…) become LinkCallers (D33)
        self.achievements = AchievementService(db, self.achievement_store, identity_store, self.clock, self.identity)
        self.users = UserService(self.user_store, identity_store, self.clock, self.identity)
        self.commerce = CommerceService(db, self.commerce_store, identity_store, self.clock, self.identity)
        self.dashboard = DashboardService(db, self.dashboard_store, identity_store, self.sso_store, self.clock,
                                          self.identity)  # dashboard accounts, audit log
        self.notifications = NotificationService(db, NotificationStore(self.db), identity_store, self.clock,
                                                 self.identity)  # event-based user notifications (D37)
        self.integrity = IntegrityService(db, self.integrity_store, self.clock, self.identity)
        sample = self.settings.inspector_sample_rate
        self.inspector = RequestInspector(self.settings.inspector_size,
                                          (1.0 if self.settings.emulator else 0.0) if sample is None else sample)
        # Graph calls run many per trip; Graph writes commit in groups (server/executor.py). With SQLite or
        # an in-process index, one domain call at a time: a single writer, and read-then-write rules
        # (keep-best submits) cannot interleave. With PostgreSQL and Redis, the database and Redis's
        # atomic scripts keep those rules between processes, and so between a process's own trips too.
        postgres = is_postgres(self.settings.database)
        local = not postgres and self.index_keeper.kind == "memory"
        lanes = self.settings.domain_lanes if postgres and self.index_keeper.kind != "memory" else 1
        self.limiter = anyio.CapacityLimiter(lanes)  # shared with the SSO and dashboard pages
        self.executor = DomainExecutor(self.db, self.limiter, self.leaderboards.index_updates_together,
                                       inline=local, trip_scope=self._trip_scope, lanes=lanes)
        # PostgreSQL: a trip's leaderboard submits, and its page reads, run as sets (server/call_sets.py).
        self.submit_set = SubmitSet(self) if self.db.writable_ctes else None
        self.entries_set = EntriesSet(self) if self.db.writable_ctes else None
        self.graph = Router()
        self.objects = ObjectKinds(self.ids)
        self.graph.add_table(leaderboard_routes.ROUTES, self.leaderboards, self.objects)
        self.graph.add_table(sso_routes.ROUTES, self.sso, self.objects)
        self.sso_pages = SsoPages(self.sso, self.settings, self.limiter, self.ready)  # /sso/, HTML (D30)
        self.graph.add_table(achievement_routes.ROUTES, self.achievements, self.objects)
        self.graph.add_table(user_routes.ROUTES, self.users, self.objects)
        self.graph.add_table(commerce_routes.ROUTES, self.commerce, self.objects)
        # Challenges (A.1): their own table, and a hook the leaderboard submit calls.
        self.challenges = ChallengeService(db, ChallengeStore(db), self.leaderboards, self.identity, identity_store,
                                           self.ids, self.clock)
        self.leaderboards.challenges = self.challenges
        self.graph.add_table(challenge_routes.ROUTES, self.challenges, self.objects)
        self.graph.add_table(notification_routes.ROUTES, self.notifications, self.objects)
        # Federated users (A.2): users of an app named by the developer's persistent ids.
        self.federation_store = FederationStore(self.db)
        self.federation = FederationService(db, self.federation_store, identity_store, self.clock, self.identity,
                                            self.leaderboards, self.achievements)
        self.users.me_override = functools.partial(federation_views.me_of_federated, self.federation)
        self.graph.add_table(federation_routes.ROUTES, self.federation, self.objects)
        self.graph.add_table(integrity_routes.ROUTES, self.integrity, self.objects)
        self.graph.add_table(object_routes.ROUTES, self.objects)  # GET/DELETE /{id}, by the kinds above
        # Fault injection (docs/fault-injection.md): emulator only; a request pays one attribute check until a
        # rule exists. Its rules name the Graph routes registered above.
        self.faults = FaultService(db, FaultStore(db), self.clock, enabled=self.settings.emulator,
                                   routes=((r.method, r.segments) for r in self.graph.routes))
        self.faults.reload()
        self.admin = Router()
        admin_routes.register(self.admin, self)
        self.dashboard_pages = DashboardPages(
            self, dashboard=self.dashboard, identity=self.identity, leaderboards=self.leaderboards,
            achievements=self.achievements, commerce=self.commerce, users=self.users, sso=self.sso,
            inspector=self.inspector, notifications=self.notifications, federation=self.federation,
            integrity=self.integrity, challenges=self.challenges)
        self.metrics = Metrics([(ADMIN_PREFIX, self.admin), ("", self.graph)], self.index_keeper)
        self.executor.observe = self.metrics.observe_trip
        self.applied_world = False  # then the start-up build must rebuild a shared index too
        # The world was given but the database already held state made otherwise (another world, an
        # earlier version of this file, admin calls): it is not applied, and the banner says so.
        self.world_not_applied = False
        if self.world is not None and self.whole_state.is_empty():
            with self.index_keeper.detached():  # the start-up build indexes it; Redis may not be up yet
                self._apply_world(self.world)
            self.applied_world = True
            log.info("applied %s to an empty database", self.world.source)
        elif self.world is not None:
            self.world_not_applied = self.whole_state.get_setting(WORLD_SETTING) != self.world.digest
            if self.world_not_applied:
                log.warning("%s differs from the world this database was made from: it is not applied "
                            "(start with --reset to apply it)", self.world.source)

    # --- state ------------------------------------------------------------------------------------
    def build_index(self, force: bool = True) -> None:
        """Build the rank index from the database; ``force=False`` (start-up) keeps a shared index that
        already matches the database (ranking/keeper.py)."""
        self.ready.clear()
        try:
            self.index_keeper.rebuild(force)
        except Exception as exc:
            self.build_error = f"{type(exc).__name__}: {exc}"
            log.exception("building the rank index failed")
            if self.index_keeper.kind != "memory":
                # A shared index is checked on every request and rebuilt once Redis answers again:
                # from here on its state, not this process's start-up, decides (503 meanwhile).
                self.ready.set()
            raise
        self.build_error = None
        self.ready.set()

    def reset(self, apply_world: bool = True) -> None:
        with self.index_keeper.exclusive():  # other processes answer 503 until the shared index is rebuilt
            self.whole_state.reset()
            self.inspector.clear()  # the request inspector's buffers are state too
            self.clock.offset_us = 0
            if apply_world and self.world is not None:
                self._apply_world(self.world)
            self.faults.reload()  # the reset deleted the rules; the world file's are back
            self.build_index()

    def _apply_world(self, world: World) -> None:
        with self.db.transaction():
            world.apply(self.identity, self.leaderboards, achievements=self.achievements, commerce=self.commerce,
                        sso=self.sso, dashboard=self.dashboard, users=self.users, notifications=self.notifications,
                        federation=self.federation, integrity=self.integrity, challenges=self.challenges)
            self.whole_state.set_setting(WORLD_SETTING, world.digest)
            for n, spec in enumerate(world.faults):  # [[faults]] (docs/fault-injection.md)
                try:
                    self.faults.add(spec)
                except GraphError as exc:
                    raise WorldError(f"{world.source}: faults[{n}]: {exc.message}") from None
        self.world_not_applied = False

    def export_snapshot(self) -> Tables:
        return self.whole_state.export_tables()

    def import_snapshot(self, tables: Tables) -> None:
        try:
            rows = sum(len(v) for v in tables.values() if isinstance(v, list))
            progress = ProgressLog("snapshot import: rows", every=50_000, total=rows)
            self.whole_state.import_tables(tables, progress.step)
        except Exception as exc:  # a foreign or edited snapshot: reject it whole, keep the state
            raise InvalidParameter(f"The snapshot cannot be imported: {type(exc).__name__}: {exc}") from None
        # The imported clock offset applies in emulator mode only; production stays on the wall clock (D36).
        self.clock.load_setting(self.whole_state.get_setting(CLOCK_SETTING) if self.settings.emulator else None)
        self.faults.reload()
        self.build_index()

    @contextlib.contextmanager
    def _trip_scope(self) -> Iterator[None]:
        """Around each trip of Graph calls: one database connection for its lone reads, and each token
        looked up once, the shared rank index checked once. Afterwards, pending rows of applied index
        updates that no write has deleted for a while are deleted (leaderboards/service.py)."""
        with self.db.session():
            with self.auth.remembering(), self.index_keeper.trip():
                yield
            self.leaderboards.settle_waiting()

    def known_app_secrets(self) -> list[str]:
        return self.world.app_secrets() if self.world is not None else []

    def move_clock(self, change: Callable[[Clock], None]) -> None:
        change(self.clock)
        self.whole_state.set_setting(CLOCK_SETTING, self.clock.to_setting())

    # --- HTTP -------------------------------------------------------------------------------------
    async def endpoint(self, request: Request) -> Response:
        started = time.perf_counter()
        trace_id = new_trace_id()
        path = request_path(request)
        response = await self._respond(request, path, trace_id)
        graph_request = getattr(request.state, "graph_request", None)
        if graph_request is not None and self.inspector.wants():  # the request inspector, when it samples this one
            self.inspector.record(
                at_us=self.clock.now_us(), caller=graph_request.caller_, method=graph_request.method,
                path=graph_request.path, params=graph_request.params.items(), token=graph_request.token,
                status=response.status_code,
                token_source=token_source(request.headers, request.query_params.keys(), graph_request.token),
                body=bytes(response.body), latency_ms=(time.perf_counter() - started) * 1000, trace_id=trace_id,
                fault=graph_request.fault)
        self.metrics.observe(request.method, path, response.status_code, time.perf_counter() - started)
        # Our own access log: the path without the query string, which may carry an access token.
        access_log.info("%s %s %d %.1fms trace=%s", request.method, path, response.status_code,
                        (time.perf_counter() - started) * 1000, trace_id)
        return response

    async def _respond(self, request: Request, path: str, trace_id: str) -> Response:
        try:
            if path.startswith(HEALTH_PREFIX):
                return await anyio.to_thread.run_sync(self._health, path)  # may ask Redis: off the loop
            if path == METRICS_PATH:
                body, content_type = await anyio.to_thread.run_sync(self.metrics.exposition)
                return Response(body, headers={"content-type": content_type, "cache-control": "no-store"})
            if path.rstrip("/") == OPENAPI_PATH:
                return self._openapi(request, trace_id)
            if SsoPages.handles(path):
                return await self.sso_pages.respond(request, trace_id)
            if DashboardPages.handles(path):
                return await self.dashboard_pages.respond(request, trace_id)
            if path.startswith(MEDIA_PREFIX):
                return await self._media(request, path, trace_id)
            if path == "/" and self._browser_at_root(request):  # D1: API clients still get Graph's 404
                return Response(status_code=302, headers={"location": "/dashboard", "cache-control": "no-store"})
            admin = path.startswith(ADMIN_PREFIX)
            body = await self._handle(request, path, admin)
            headers = {"x-fb-trace-id": trace_id}
            if admin:
                headers["cache-control"] = "no-store"  # admin answers may show a new secret or token
            return json_response(body, headers=headers)
        except GraphError as error:
            return error_response(error, trace_id)
        except DropConnection:  # a fault rule's drop: no answer at all
            return DroppedResponse()
        except ClientDisconnect:
            log.info("the client closed the connection before its request body had arrived (trace %s)", trace_id)
            return Response(status_code=CLIENT_CLOSED)
        except DATA_ERRORS as exc:
            # The parameter layer refuses what the database cannot hold (D2), so this is a value it missed.
            log.warning("database refused a value (trace %s): %s", trace_id, type(exc).__name__)
            return error_response(InvalidParameter("A parameter value cannot be stored by the database"), trace_id)
        except DATABASE_ERRORS as exc:
            log.error("database error (trace %s): %s", trace_id, type(exc).__name__)
            return error_response(Unavailable("The database is unavailable. Please retry shortly."), trace_id)
        except INDEX_ERRORS as exc:  # Redis down or timing out (D7: dependency down)
            log.error("rank index error (trace %s): %s", trace_id, type(exc).__name__)
            return error_response(Unavailable("The rank index is unavailable. Please retry shortly."), trace_id)
        except Exception:
            log.exception("internal error (trace %s)", trace_id)
            return error_response(InternalError("An unexpected error has occurred. Please retry your request."),
                                  trace_id)

    async def _handle(self, request: Request, path: str, admin: bool) -> Any:
        if not admin and not self.ready.is_set():
            raise Unavailable("questgraph is starting: the rank index is still being built")
        if admin and self._admin_key_in_header(request):  # a stranger's body stays under the Graph limit
            params, files = await read_params(request, self.settings.max_admin_body_bytes,
                                              "questgraph serve --max-admin-body-bytes N raises the limit")
        else:
            params, files = await read_params(request, self.settings.max_body_bytes,
                                              "send the admin key in the Authorization header for the admin "
                                              "API's larger limit" if admin else "")
        try:
            return await self._dispatch(request, path, admin, params, files)
        finally:
            close_files(files)  # whatever the answer, a refusal before the handler included

    async def _dispatch(self, request: Request, path: str, admin: bool, params: Params,
                        files: dict[str, UploadFile]) -> Any:
        token = access_token(request, params)
        if admin:
            self._check_admin_key(token)  # before routing: without the key, the admin API shows nothing
        method = effective_method(request, params)
        router = self.admin if admin else self.graph
        handler, path_params = router.resolve(method, path)
        graph_request = GraphRequest(
            method, path, params, path_params,
            public_base_url(request, self.settings.public_url, self.settings.trust_forwarded), token, None, files,
        )
        if not admin:
            request.state.graph_request = graph_request  # for the request inspector, once answered
        bound = getattr(handler, "func", None)

        def as_caller(caller: Any) -> Any:
            graph_request.caller_ = caller
            return handler(graph_request)

        def run() -> Any:
            self.follow_others()
            if not admin:
                # A shared index may be lost or rebuilding: 503 (D7). A page script checks it itself.
                self.index_keeper.check(marker=bound not in MARKER_IN_PAGE)
                if token is None:
                    raise MissingToken(NO_TOKEN)
                if bound in CACHED_CALLER:
                    try:
                        return self.auth.with_cached_caller(token, as_caller)
                    except IndexUnavailable:
                        self.index_keeper.check()  # the page found no marker: lost (rebuild) or rebuilding
                        raise
                graph_request.caller_ = self.auth.authenticate(token)
            result = handler(graph_request)
            if admin and method != "GET":  # audited, durably: the dashboard shows who did what
                self.dashboard.audit_admin_call(method, path, graph_request.params.items())
            return result

        if not admin and self.faults.rules:  # fault injection: one attribute check while no rule exists
            await self._inject_fault(graph_request)
        if admin:  # may reset, import or rebuild whole state: alone, and off the event loop
            return await anyio.to_thread.run_sync(run, limiter=self.limiter)
        # A Graph write may share a commit with the writes queued beside it (group commit); reads run alone.
        if method in ("GET", "HEAD"):
            if bound is leaderboard_views.leaderboard_entries and self.entries_set is not None:
                return await self.executor.run(run, set_runner=self.entries_set, set_item=graph_request)
            return await self.executor.run(run)
        params = graph_request.params  # what the write touches: a group runs its writes in this order
        order = (path, params.get("api_name") or "", params.get("user_id") or "", token or "")
        if bound is leaderboard_views.leaderboard_submit_entry and self.submit_set is not None:
            return await self.executor.run(run, groupable=True, order=order, set_runner=self.submit_set,
                                           set_item=graph_request)
        return await self.executor.run(run, groupable=True, order=order)

    def follow_others(self) -> None:
        """What other processes of the deployment changed: the emulator's clock, fault rules."""
        if self.clock_follower is not None:
            self.clock_follower.maybe_refresh()
            self.faults.follow()  # rules another process added or deleted (docs/fault-injection.md)

    async def _inject_fault(self, graph_request: GraphRequest) -> None:
        """Apply the first fault rule that takes this request (docs/fault-injection.md): raise its error, wait
        its latency (then the request is served), or drop the connection. Only authenticated requests: an
        unknown token gets its 401, and the inspector knows the app."""
        def pick() -> FaultRule | None:
            if graph_request.token is None:
                return None
            try:
                caller = self.auth.authenticate(graph_request.token)
            except GraphError:
                return None
            graph_request.caller_ = caller
            app = getattr(caller, "app", None)  # an SSO link has no app: only rules for any app take it
            return self.faults.pick(graph_request.method, graph_request.path, None if app is None else app.id)

        rule = await self.executor.run(pick)
        if rule is None:
            return
        graph_request.fault = rule.describe()
        self.metrics.injected(rule.kind)
        log.info("injected fault %s into %s %s", graph_request.fault, graph_request.method, graph_request.path)
        if rule.kind == "latency":
            await asyncio.sleep((rule.latency_ms or 0) / 1000)
        elif rule.kind == "drop":
            raise DropConnection
        else:
            raise InjectedError(rule)

    def _browser_at_root(self, request: Request) -> bool:
        """A browser opening the emulator's root (it asks for HTML, as no Graph client does)."""
        return (self.settings.emulator and request.method in ("GET", "HEAD") and not request.query_params
                and "text/html" in request.headers.get("accept", "").lower())

    def _admin_key_in_header(self, request: Request) -> bool:
        scheme, _, value = request.headers.get("authorization", "").strip().partition(" ")
        key = self.settings.admin_key
        return bool(key) and scheme.lower() in ("bearer", "oauth") and hmac.compare_digest(
            value.strip().encode(), (key or "").encode())

    def _check_admin_key(self, token: str | None) -> None:
        key = self.settings.admin_key
        if not key:
            raise Forbidden("The admin API is disabled: start the server with --admin-key")
        if token is None:
            raise MissingToken("The admin API needs the admin key: Authorization: Bearer <admin key>")
        if not hmac.compare_digest(token.encode(), key.encode()):
            raise Forbidden("The admin key is not valid")

    def _openapi(self, request: Request, trace_id: str) -> Response:
        """The OpenAPI document (server/openapi.py): public, like the documentation it is made from."""
        if request.method not in ("GET", "HEAD"):
            return error_response(MethodNotAllowed(f"Unsupported {request.method.lower()} request."), trace_id)
        return Response(document_bytes(), media_type="application/json", headers={"x-fb-trace-id": trace_id})

    async def _media(self, request: Request, path: str, trace_id: str) -> Response:
        """An achievement icon (graph-api.md §2.1): public like Meta's CDN URIs, found only by its random key."""
        if request.method not in ("GET", "HEAD"):
            return error_response(MethodNotAllowed(f"Unsupported {request.method.lower()} request."), trace_id)
        key = path[len(MEDIA_PREFIX):].rstrip("/")
        found = await self.executor.run(lambda: self.achievements.media(key))
        if found is None:
            return error_response(NotFound("Unknown media file"), trace_id)
        data, content_type = found
        return Response(data, media_type=content_type,
                        headers={"cache-control": "public, max-age=86400", "x-content-type-options": "nosniff"})

    def _health(self, path: str) -> Response:
        if path.rstrip("/") == f"{HEALTH_PREFIX}/live":
            return json_response({"status": "live"})
        if path.rstrip("/") == f"{HEALTH_PREFIX}/ready":
            index = self.index_keeper.describe()
            kind = "postgres" if is_postgres(self.settings.database) else "sqlite"
            if not self.ready.is_set() or index["state"] != "ready":
                # Not asked while the index is built: on SQLite the build holds the database for a while.
                status = ("failed" if self.build_error else "starting") if not self.ready.is_set() else index["state"]
                return json_response({"status": status, "detail": self.build_error, "rank_index": index,
                                      "database": {"kind": kind, "state": "unknown"}}, status=503)
            # Ready only if this process can serve: a replica whose database is down leaves the rotation.
            checked = self.database_probe.state()
            database = {"kind": kind, "state": "up" if checked.up else "down"}
            if checked.up:
                return json_response({"status": "ready", "rank_index": index, "database": database})
            return json_response({"status": "down", "detail": checked.detail, "rank_index": index,
                                  "database": database}, status=503)
        return error_response(NotFound("Unknown health check; use /_health/live or /_health/ready"))

    @contextlib.asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        # Build in the background so /_health answers at once; Graph calls get 503 until ready.
        task = asyncio.ensure_future(anyio.to_thread.run_sync(self.build_index, self.applied_world,
                                                              limiter=self.limiter))
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                await task
            with contextlib.suppress(Exception):  # else another process's sweep repairs them, harmlessly
                self.leaderboards.settle_waiting(0)
            self.db.close()

    def asgi(self) -> GraphAsgiApp:
        return GraphAsgiApp(self)


class GraphAsgiApp:
    """The ASGI application. Every HTTP request, whatever its path and method, goes to the one endpoint:
    there is no framework routing in front of it, so even TRACE or FOO gets a Graph 405, never a framework
    body, and a request pays for nothing it does not use (the submit path is benchmarked against a bare
    ASGI app, docs/performance.md). The lifespan runs the server's start-up (the rank index build) and shutdown."""

    def __init__(self, server: Server) -> None:
        self.server = server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            response = await self.server.endpoint(Request(scope, receive))
            await response(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        else:  # a WebSocket: not part of the API
            await send({"type": "websocket.close", "code": 1003})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await receive()  # lifespan.startup
        started = False
        try:
            async with self.server.lifespan():
                await send({"type": "lifespan.startup.complete"})
                started = True
                await receive()  # lifespan.shutdown
        except BaseException as exc:
            if started:
                await send({"type": "lifespan.shutdown.failed", "message": repr(exc)})
            else:
                await send({"type": "lifespan.startup.failed", "message": repr(exc)})
            raise
        await send({"type": "lifespan.shutdown.complete"})


def create_app(settings: Settings, world: World | None = None) -> GraphAsgiApp:
    return Server(settings, world).asgi()
