"""Event-based user notifications (graph-api.md §A.3, D37): request templates registered per app, and a
record of every notification triggered through ``/{request_id}/triggered_notifs_with_text_map``."""

from questgraph.server.notifications.service import NotificationService

__all__ = ["NotificationService"]
