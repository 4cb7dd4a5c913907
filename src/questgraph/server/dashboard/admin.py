"""Admin API of the dashboard (docs/config.md): organization members and the audit log. Routed by
admin/routes.py; same envelope and admin key as the rest of /_admin."""

from __future__ import annotations

from typing import Any

from questgraph.server.dashboard.records import AuditEvent, DashboardMember
from questgraph.server.dashboard.service import DashboardService
from questgraph.server.graph.params import parse_id
from questgraph.server.graph.request import GraphRequest, require_param


def member_view(member: DashboardMember) -> dict[str, Any]:
    # Never the password hash: it is no one's business, not even the admin key's.
    return {"id": str(member.id), "org_id": str(member.org_id), "email": member.email, "name": member.name,
            "role": member.role, "has_password": member.password_hash is not None, "created_at": member.created_at}


def audit_view(event: AuditEvent) -> dict[str, Any]:
    return {"id": str(event.id), "at": event.at, "org_id": None if event.org_id is None else str(event.org_id),
            "actor": event.actor, "action": event.action, "target": event.target, "detail": event.detail}


def put_member(dashboard: DashboardService, request: GraphRequest) -> Any:
    params = request.params
    member = dashboard.put_member(request.path_id("org_id"), require_param(request, "email"),
                                  params.get("name"), (params.get("role") or "").strip().lower() or None,
                                  params.get("password") or None)  # not trimmed: spaces are part of it
    return member_view(member)


def list_members(dashboard: DashboardService, request: GraphRequest) -> Any:
    return {"data": [member_view(m) for m in dashboard.members(request.path_id("org_id"))]}


def remove_member(dashboard: DashboardService, request: GraphRequest) -> Any:
    dashboard.remove_member(request.path_id("member_id"))
    return {"success": True}


def audit_log(dashboard: DashboardService, request: GraphRequest) -> Any:
    org = request.params.get("org_id")
    before = request.params.get("before")
    events = dashboard.audit_log(
        None if not org else parse_id("org_id", org, what="id"),
        request.params.int64("limit", minimum=1, maximum=500) or 100,
        None if not before else parse_id("before", before, what="id"))
    return {"data": [audit_view(e) for e in events]}
