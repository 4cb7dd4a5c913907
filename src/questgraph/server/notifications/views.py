"""HTTP handler of event-based user notifications (graph-api.md §A.3, D37)."""

from __future__ import annotations

from typing import Any

from questgraph.server.graph.params import parse_id
from questgraph.server.graph.request import GraphRequest
from questgraph.server.notifications.service import NotificationService


def triggered_notifs_with_text_map(service: NotificationService, request: GraphRequest) -> dict[str, Any]:
    caller = request.caller
    request_id = request.path_id("request_id")
    recipients = request.params.id_list("recipient_ids")
    raw = request.params.get("notif_request")
    notif_request = None if raw is None or not raw.strip() else parse_id("notif_request", raw, what="id")
    service.trigger(caller, request_id, recipients, notif_request)
    return {"success": True}
