"""Notifications' tables: the request templates an app may trigger (Meta issues their ids in the dashboard
after review; questgraph's admin API registers them) and every notification sent (D37)."""

from __future__ import annotations

from sqlalchemy import Table

from questgraph.server.db.columns import generated_key, integer, key, ref, text
from questgraph.server.db.tables import metadata

notif_requests = Table(
    "notif_requests", metadata,
    key(),  # a global object id (D9, kind "notif_request"): the path's {request_id}
    ref("app_id", "apps.id"),
    text("category"),  # SOCIAL (user token) | EVENTS | PROMOTION (app token)
    text("name"),
    integer("created_at"),
)

sent_notifications = Table(
    "sent_notifications", metadata,
    generated_key(),
    ref("app_id", "apps.id"),
    ref("request_id", "notif_requests.id"),
    text("recipient_ids"),  # a JSON array of app-scoped user ids (strings), in the order sent
    ref("sender_id", "app_users.id", nullable=True),  # the user whose token sent a SOCIAL notification
    integer("sent_at"),
)
