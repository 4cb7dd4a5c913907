"""Admin API handlers of fault injection (docs/fault-injection.md): list, add, delete and clear rules."""

from __future__ import annotations

from typing import Any

from questgraph.server.faults.service import FaultService, rule_json
from questgraph.server.graph.request import GraphRequest


def list_faults(faults: FaultService, request: GraphRequest) -> Any:
    return {"data": [rule_json(r) for r in faults.list()], "enabled": faults.enabled}


def add_fault(faults: FaultService, request: GraphRequest) -> Any:
    values = {k: request.params.get(k) for k, _ in request.params.items() if k != "access_token"}
    return rule_json(faults.add(values))


def delete_fault(faults: FaultService, request: GraphRequest) -> Any:
    faults.delete(request.path_id("rule_id"))
    return {"success": True}


def clear_faults(faults: FaultService, request: GraphRequest) -> Any:
    return {"success": True, "deleted": faults.clear()}


