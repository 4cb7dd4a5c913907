"""Fault rules: made and checked here, applied by the server's one endpoint (docs/fault-injection.md).

The endpoint asks ``rules`` (a tuple, empty unless a rule exists) before anything else: with no rule, a
request pays one attribute check. A rule matches a Graph request by method, documented route and app; its
scope is a ``probability`` (every matching request, by default) or a ``count`` of the next matching
requests. A count is spent in the database (``FaultStore.spend``), so the processes of a deployment fail
exactly N requests between them; each process re-reads the rules at most every ``FOLLOW_SECONDS`` (the
server calls ``follow`` where it follows the emulator clock), so a rule added through one process reaches
the others within that time. Emulator only: ``--production`` refuses every rule.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from questgraph.server.clock import Clock
from questgraph.server.db.core import Database
from questgraph.server.errors import (
    Forbidden,
    GraphError,
    InternalError,
    InvalidParameter,
    NotFound,
    RateLimited,
    Unavailable,
)
from questgraph.server.faults.records import FaultKind, FaultRule
from questgraph.server.faults.store import FaultStore, RuleRow
from questgraph.server.graph.params import parse_id, parse_int

FOLLOW_SECONDS = 0.5
KINDS: tuple[FaultKind, ...] = ("error", "latency", "drop")
METHODS = ("GET", "POST", "DELETE")
MAX_LATENCY_MS = 60_000
MAX_RULES = 1000
PRODUCTION_REFUSAL = "Fault injection is off with --production: it is an emulator feature"
# What an injected error answers by default, by status: Meta's Graph rate-limit and outage answers (§0.7,
# §0.8; docs/fidelity.md, D7): the type, code, is_transient and message of the error class of that status.
_DEFAULTS: dict[int, tuple[type[GraphError], str]] = {
    400: (InvalidParameter, "(#100) Invalid parameter (injected fault)"),
    429: (RateLimited, "(#4) Application request limit reached"),
    500: (InternalError, "An unexpected error has occurred. Please retry your request later."),
    503: (Unavailable, "(#2) Service temporarily unavailable"),
}
_NAMES = ("route", "app_id", "kind", "status", "code", "error_subcode", "type", "message", "is_transient",
          "latency_ms", "probability", "seed", "count")


class InjectedError(GraphError):
    """The error a rule answers with: its status, type, code, subcode and is_transient are the rule's (the
    envelope is written by graph/responses.py, as for every error)."""

    def __init__(self, rule: FaultRule) -> None:
        super().__init__(rule.message or "", code=rule.code, subcode=rule.subcode)
        self.status = rule.status or 503
        self.type = rule.type or "OCApiException"
        self.is_transient = bool(rule.is_transient)


class DropConnection(Exception):
    """The endpoint closes the connection without an answer."""


class FaultService:
    def __init__(self, db: Database, store: FaultStore, clock: Clock, *, enabled: bool,
                 routes: Iterable[tuple[str, tuple[str, ...]]] = ()) -> None:
        self.db, self.store, self.clock, self.enabled = db, store, clock, enabled
        # (method, segments with every "{…}" written "{}") of each Graph route: what a rule may name.
        self.known_routes = {(m, _shape(s)) for m, s in routes}
        self.rules: tuple[FaultRule, ...] = ()  # the active ones; empty: the endpoint does nothing
        self._draws: dict[int, random.Random] = {}  # per probability rule, seeded or not
        self._lock = threading.Lock()
        self._next_follow = 0.0

    # --- the control plane (admin API, CLI, world file, dashboard) --------------------------------------
    def add(self, values: Mapping[str, Any]) -> FaultRule:
        """A new rule from ``values`` (admin parameters as text, or a world file's typed values)."""
        if not self.enabled:
            raise Forbidden(PRODUCTION_REFUSAL)
        unknown = sorted(set(values) - set(_NAMES))
        if unknown:
            raise InvalidParameter(f"Unknown fault rule field {unknown[0][:64]!r}; the fields are {', '.join(_NAMES)}")
        spec, remaining = self._parse(values)
        with self.db.transaction():
            if len(self.store.all()) >= MAX_RULES:
                raise InvalidParameter(f"At most {MAX_RULES} fault rules; clear some first")
            rule_id = self.store.insert(spec, remaining, self.clock.now())
        self.reload()
        return next(r for r in self.list() if r.id == rule_id)

    def list(self) -> list[FaultRule]:
        """Every rule, spent count rules included (``remaining`` 0)."""
        return [_rule(row) for row in self.store.all()]

    def delete(self, rule_id: int) -> None:
        if not self.store.delete(rule_id):
            raise NotFound(f"No fault rule {rule_id}")
        self.reload()

    def clear(self) -> int:
        removed = self.store.clear()
        self.reload()
        return removed

    def reload(self) -> None:
        """Take the rules from the database (after a change here, a reset, or another process's change).
        With --production none is ever applied, not even one a snapshot import brought."""
        rules = tuple(r for r in self.list() if r.remaining is None or r.remaining > 0) if self.enabled else ()
        with self._lock:
            self._draws = {r.id: self._draws.get(r.id) or random.Random(r.seed) for r in rules
                           if r.probability is not None}
            self.rules = rules

    def follow(self) -> None:
        """With several processes: re-read the rules at most every FOLLOW_SECONDS (one small query)."""
        now = time.monotonic()
        if now >= self._next_follow:
            self._next_follow = now + FOLLOW_SECONDS
            self.reload()

    # --- the request path -------------------------------------------------------------------------------
    def pick(self, method: str, path: str, app_id: int | None) -> FaultRule | None:
        """The first rule that matches this request and applies to it now (a count rule spends one)."""
        parts = tuple(p for p in path.split("/") if p)
        for rule in self.rules:
            if not _matches(rule, method, parts, app_id):
                continue
            if rule.probability is not None:
                with self._lock:
                    draw = self._draws.get(rule.id)
                    fires = draw is not None and draw.random() < rule.probability
                if fires:
                    with self.db.transaction():
                        self.store.hit(rule.id)
                    return rule
            else:
                with self.db.transaction():
                    spent = self.store.spend(rule.id)
                if spent:
                    return rule
                self._retire(rule)  # its last request went to this or another process
        return None

    def _retire(self, rule: FaultRule) -> None:
        with self._lock:
            self.rules = tuple(r for r in self.rules if r.id != rule.id)

    # --- parsing ------------------------------------------------------------------------------------------
    def _parse(self, values: Mapping[str, Any]) -> tuple[dict[str, Any], int | None]:
        v = {k: x for k, x in values.items() if x is not None and not (isinstance(x, str) and not x.strip())}
        spec: dict[str, Any] = {}
        route = _text(v.get("route"))
        method = None
        if route is not None and " " in route:  # "POST /leaderboard_submit_entry"
            method, route = route.split(None, 1)
            route = route.strip()
        if method is not None:
            method = method.upper()
            if method not in METHODS:
                raise InvalidParameter(f"Param method must be one of {', '.join(METHODS)}")
            spec["method"] = method
        if route is not None:
            route = "/" + "/".join(s for s in route.split("/") if s)
            shape = _shape(tuple(s for s in route.split("/") if s))
            if not any(s == shape and (method is None or m == method) for m, s in self.known_routes):
                raise InvalidParameter(f"Param route: no Graph route {(method + ' ') if method else ''}{route[:200]} "
                                       "(name a documented path such as /leaderboard_submit_entry or "
                                       "/{user_id}/achievements; docs/api.md)")
            spec["route"] = route
        if "app_id" in v:
            spec["app_id"] = parse_id("app_id", v["app_id"], what="app id")
        kind = (_text(v.get("kind")) or ("latency" if "latency_ms" in v else "error")).lower()
        if kind not in KINDS:
            raise InvalidParameter(f"Param kind must be one of {', '.join(KINDS)}")
        spec["kind"] = kind
        if kind == "error":
            status = parse_int("status", v.get("status", 503), minimum=400, maximum=599)
            error_class, message = _DEFAULTS.get(status, (GraphError, "An injected error"))
            spec["status"] = status
            spec["code"] = parse_int("code", v.get("code", error_class.code), minimum=-1)
            if "error_subcode" in v:
                spec["subcode"] = parse_int("error_subcode", v["error_subcode"], minimum=0)
            spec["type"] = _text(v.get("type")) or error_class.type
            spec["message"] = (_text(v.get("message")) or message)[:2000]
            spec["is_transient"] = (_boolean("is_transient", v["is_transient"]) if "is_transient" in v
                                    else error_class.is_transient)
        elif kind == "latency":
            spec["latency_ms"] = parse_int("latency_ms", v.get("latency_ms", ""), minimum=1, maximum=MAX_LATENCY_MS)
        if "count" in v and "probability" in v:
            raise InvalidParameter("Give count or probability, not both")
        remaining = None
        if "count" in v:
            remaining = parse_int("count", v["count"], minimum=1, maximum=1_000_000)
        else:
            spec["probability"] = _probability(v.get("probability", 1))
            if "seed" in v:
                spec["seed"] = parse_int("seed", v["seed"])
        return spec, remaining


def _rule(row: RuleRow) -> FaultRule:
    rule_id, spec, remaining, hits, created_at = row
    return FaultRule(rule_id, spec.get("method"), spec.get("route"), spec.get("app_id"), spec["kind"],
                     spec.get("status"), spec.get("code"), spec.get("subcode"), spec.get("type"), spec.get("message"),
                     spec.get("is_transient"), spec.get("latency_ms"), spec.get("probability"), spec.get("seed"),
                     remaining, hits, created_at)


def _matches(rule: FaultRule, method: str, parts: tuple[str, ...], app_id: int | None) -> bool:
    if rule.app_id is not None and rule.app_id != app_id:
        return False
    if rule.method is not None and rule.method != method:
        return False
    segments = rule.segments
    if segments is None:
        return True
    return len(segments) == len(parts) and all(
        (s.startswith("{") and p.isdigit()) or s == p for s, p in zip(segments, parts, strict=True))


def _shape(segments: tuple[str, ...]) -> tuple[str, ...]:
    return tuple("{}" if s.startswith("{") else s for s in segments)


def _text(value: Any) -> str | None:
    return None if value is None else str(value).strip() or None


def _boolean(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise InvalidParameter(f"Param {key} must be a boolean (true or false)")


def _probability(value: Any) -> float:
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not 0.0 <= number <= 1.0:  # NaN fails too
        raise InvalidParameter("Param probability must be a number from 0 to 1")
    return number


def rule_json(rule: FaultRule) -> dict[str, Any]:
    """A rule as the admin API answers it."""
    out: dict[str, Any] = {"id": str(rule.id), **rule.spec()}
    if "app_id" in out:
        out["app_id"] = str(out["app_id"])
    if rule.subcode is not None:
        out["error_subcode"] = out.pop("subcode")
    out["remaining"] = rule.remaining  # a count rule's requests still to fail; None for a probability rule
    out["hits"] = rule.hits
    out["created_at"] = rule.created_at
    return out

