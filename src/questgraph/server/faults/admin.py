"""Admin API handlers of fault injection (docs/fault-injection.md): list, add, delete and clear rules."""

from __future__ import annotations

from typing import Any

from questgraph.server.faults.service import FaultService, rule_json
from questgraph.server.graph.request import GraphRequest


def list_faults(faults: FaultService, request: GraphRequest) -> Any:
    return {"data": [rule_json(r) for r in faults.list()], "enabled": faults.enabled}


def add_fault(faults: FaultService, request: GraphRequest) -> Any:
    """A rule's method goes in its route ("POST /leaderboard_submit_entry"): a ``method`` parameter is the
    request's own method override (D3)."""
    params = request.params
    names = ("route", "app_id", "kind", "status", "code", "error_subcode", "type", "message", "is_transient",
             "latency_ms", "count", "probability", "seed")
    values = {name: params.get(name) for name in names}
    # Anything else is passed on too, so that a misspelt field is a 400 rather than a rule that differs.
    values.update({k: params.get(k) for k, _ in params.items()
                   if k not in values and k not in ("access_token", "method")})
    return rule_json(faults.add(values))


def delete_fault(faults: FaultService, request: GraphRequest) -> Any:
    faults.delete(request.path_id("rule_id"))
    return {"success": True}


def clear_faults(faults: FaultService, request: GraphRequest) -> Any:
    return {"success": True, "deleted": faults.clear()}


