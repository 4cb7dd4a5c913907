"""Admin API of user notifications (docs/config.md, D37): register the request templates Meta's dashboard
would issue after review, and list what each app sent. The routes are in admin/routes.py."""

from __future__ import annotations

from typing import Any

from questgraph.server.graph.request import GraphRequest, require_param
from questgraph.server.notifications.records import NotifRequest, SentNotification
from questgraph.server.notifications.service import NotificationService


def request_view(request: NotifRequest) -> dict[str, Any]:
    return {"id": str(request.id), "app_id": str(request.app_id), "category": request.category,
            "name": request.name, "created_at": request.created_at}


def sent_view(sent: SentNotification) -> dict[str, Any]:
    return {"id": str(sent.id), "app_id": str(sent.app_id), "request_id": str(sent.request_id),
            "recipient_ids": [str(i) for i in sent.recipient_ids],
            "sender_id": None if sent.sender_id is None else str(sent.sender_id), "sent_at": sent.sent_at}


def register_request(notifications: NotificationService, request: GraphRequest) -> Any:
    fixed = request.params.int64("id")
    created = notifications.register_request(request.path_id("app_id"), require_param(request, "category"),
                                             request.params.get("name") or "", fixed)
    return request_view(created)


def list_requests(notifications: NotificationService, request: GraphRequest) -> Any:
    return {"data": [request_view(r) for r in notifications.requests(request.path_id("app_id"))]}


def list_sent(notifications: NotificationService, request: GraphRequest) -> Any:
    return {"data": [sent_view(s) for s in notifications.sent(request.path_id("app_id"))]}
