"""The user notification route (graph-api.md §A.3): method, documented path, handler (notifications/views.py)."""

from __future__ import annotations

from questgraph.server.graph.routing import Param, Route, RouteTable
from questgraph.server.notifications.service import NotificationService
from questgraph.server.notifications.views import triggered_notifs_with_text_map

TRIGGER = (Param("recipient_ids", "ids", required=True), Param("notif_request", "id"))

ROUTES: RouteTable[NotificationService] = (
    Route("POST", "/{request_id}/triggered_notifs_with_text_map", triggered_notifs_with_text_map, TRIGGER,
          "Success"),
)
