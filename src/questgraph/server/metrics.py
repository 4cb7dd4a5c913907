"""Prometheus metrics at ``GET /metrics``: request counts, latencies and errors by route template, and the
rank index's state (docs/deployment.md lists what to alert on).

Labels are bounded and never carry a secret: the route is the router's template (``/{id}``,
``/{app_id}/leaderboards``), never the raw path with its ids, and nothing from the query string or
headers (where access tokens travel) is ever looked at. Unknown paths share one ``unmatched`` label.

With several worker processes (``questgraph serve --workers N``) ``PROMETHEUS_MULTIPROC_DIR`` is set
before any worker starts, and each scrape, whichever worker answers it, adds up every worker's files
(prometheus_client's multi-process mode); the rank index state is read live at scrape time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from questgraph.server.graph.routing import Router
from questgraph.server.openapi import OPENAPI_PATH

if TYPE_CHECKING:
    from questgraph.server.ranking.keeper import IndexKeeper

METRICS_PATH = "/metrics"
_METHODS = frozenset({"GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"})
_ID_SEGMENT = re.compile(r"[0-9]{1,19}")  # the router's id segment
_STATES = ("ready", "rebuilding", "lost", "down")
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class _IndexCollector(Collector):
    """The rank index's state, read when scraped (one Redis round trip, or nothing in memory)."""

    def __init__(self, keeper: IndexKeeper) -> None:
        self.keeper = keeper

    def collect(self) -> Iterator[Metric]:
        state = self.keeper.state()
        gauge = GaugeMetricFamily("questgraph_rank_index_state",
                                  "1 for the rank index's current state (ready, rebuilding, lost, down)",
                                  labels=["kind", "state"])
        for name in _STATES:
            gauge.add_metric([self.keeper.kind, name], 1.0 if name == state else 0.0)
        yield gauge
        rebuilds = GaugeMetricFamily("questgraph_rank_index_rebuilds",
                                     "Rank index builds done by the process that answered this scrape")
        rebuilds.add_metric([], float(self.keeper.rebuilds))
        yield rebuilds


class Metrics:
    def __init__(self, routers: Iterable[tuple[str, Router]], keeper: IndexKeeper) -> None:
        self.routers = list(routers)  # (path prefix, router): the admin router before the Graph one
        self.keeper = keeper
        self.multiprocess = multiprocess_dir() is not None
        # One registry per server: tests run several servers in one process. In multi-process mode the
        # values live in files and a fresh registry reads them at each scrape.
        self.registry = CollectorRegistry()
        target = None if self.multiprocess else self.registry
        self.requests = Counter("questgraph_requests", "HTTP requests answered, by route template and status",
                                ["route", "method", "status"], registry=target)
        self.latency = Histogram("questgraph_request_duration_seconds", "Time to answer, by route template",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=target)
        self.errors = Counter("questgraph_errors", "Error answers: client (4xx), unavailable (503), internal "
                              "(other 5xx)", ["route", "kind"], registry=target)
        # Group commit (server/executor.py): calls / trips is the mean trip; grouped / calls the share of
        # calls that shared a commit with others.
        self.trips = Counter("questgraph_domain_trips", "Trips of queued domain calls run together",
                             registry=target)
        self.calls = Counter("questgraph_domain_calls", "Domain calls run, by whether they committed in a group",
                             ["grouped"], registry=target)
        # Calls answered by set-based statements (a trip's leaderboard submits and page reads, PostgreSQL).
        self.set_calls = Counter("questgraph_domain_set_calls", "Domain calls answered in set-based statements "
                                 "(a trip's leaderboard submits or page reads together)", registry=target)
        # Fault injection (docs/fault-injection.md): every injected fault, by kind (error, latency, drop).
        self.faults = Counter("questgraph_injected_faults", "Faults injected by fault rules, by kind",
                              ["kind"], registry=target)
        if not self.multiprocess:
            self.registry.register(_IndexCollector(keeper))
        self._templates: dict[str, str] = {}
        self._children: dict[tuple[str, str, int], tuple[Any, Any, Any]] = {}

    def route_of(self, path: str, method: str = "GET") -> str:
        """The route template of a request, with no id, key or token in it: the route of its method that
        matches the path (``GET /{id}``, not ``POST /{challenge_id}``), else any route that matches it
        (the 405 of a known path is counted under that path's template)."""
        if path == METRICS_PATH or path.rstrip("/") == OPENAPI_PATH:
            return path.rstrip("/")
        if path.startswith("/_health/"):
            return path.rstrip("/") if path.rstrip("/") in ("/_health/live", "/_health/ready") else "/_health/other"
        if path == "/sso" or path.startswith("/sso/"):
            return "/sso"  # HTML pages whose paths and queries may carry codes: one label
        if path.startswith("/_media/"):
            return "/_media/{key}"
        parts = [p for p in path.split("/") if p]
        normal = method + " /" + "/".join("{}" if _ID_SEGMENT.fullmatch(p) else p for p in parts)
        found = self._templates.get(normal)
        if found is not None:
            return found
        for same_method in (True, False):
            for prefix, router in self.routers:
                if prefix and not path.startswith(prefix):
                    continue
                for route in router.routes:
                    if (route.method == method or not same_method) and route.match(parts) is not None:
                        template = "/" + "/".join(route.segments)
                        if len(self._templates) < 10_000:  # bounded by the routes; the cap is a safety net
                            self._templates[normal] = template
                        return template
        return "unmatched"

    def observe(self, method: str, path: str, status: int, seconds: float) -> None:
        key = (method, path, status)
        found = self._children.get(key)
        if found is None:
            found = self._children_of(method, path, status)
            if len(self._children) < 10_000:  # paths with ids vary without bound: the cap keeps memory flat
                self._children[key] = found
        requests, latency, errors = found
        requests.inc()
        latency.observe(seconds)
        if errors is not None:
            errors.inc()

    def _children_of(self, method: str, path: str, status: int) -> tuple[Any, Any, Any]:
        """The labelled metrics one answer counts in; looked up once per (method, path, status)."""
        method = method.upper() if method.upper() in _METHODS else "other"
        route = self.route_of(path, method)
        errors = None
        if status >= 400:
            kind = "client" if status < 500 else "unavailable" if status == 503 else "internal"
            errors = self.errors.labels(route, kind)
        return self.requests.labels(route, method, str(status)), self.latency.labels(route), errors

    def observe_trip(self, calls: int, grouped: int, in_sets: int = 0) -> None:
        self.trips.inc()
        if in_sets:
            self.set_calls.inc(in_sets)
        if grouped:
            self.calls.labels("true").inc(grouped)
        if calls > grouped:
            self.calls.labels("false").inc(calls - grouped)

    def injected(self, kind: str) -> None:
        self.faults.labels(kind).inc()

    def exposition(self) -> tuple[bytes, str]:
        if not self.multiprocess:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(_IndexCollector(self.keeper))
        return generate_latest(registry), CONTENT_TYPE_LATEST
