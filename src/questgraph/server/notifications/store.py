"""The notification tables (D37) in portable SQL (``db/core.py``)."""

from __future__ import annotations

import json
from typing import Any

from questgraph.server.db.core import Database
from questgraph.server.notifications.records import NotifRequest, SentNotification

SENT_COLUMNS = "id, app_id, request_id, recipient_ids, sender_id, sent_at"


def _sent(row: Any) -> SentNotification:
    return SentNotification(int(row[0]), int(row[1]), int(row[2]), tuple(int(i) for i in json.loads(row[3])),
                            None if row[4] is None else int(row[4]), int(row[5]))


class NotificationStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def insert_request(self, request: NotifRequest) -> None:
        self.db.run("INSERT INTO notif_requests (id, app_id, category, name, created_at) VALUES (?, ?, ?, ?, ?)",
                    (request.id, request.app_id, request.category, request.name, request.created_at))

    def get_request(self, request_id: int) -> NotifRequest | None:
        row = self.db.one("SELECT id, app_id, category, name, created_at FROM notif_requests WHERE id = ?",
                          (request_id,))
        return None if row is None else NotifRequest(*row)

    def requests_of_app(self, app_id: int) -> list[NotifRequest]:
        rows = self.db.all("SELECT id, app_id, category, name, created_at FROM notif_requests WHERE app_id = ? "
                           "ORDER BY id", (app_id,))
        return [NotifRequest(*row) for row in rows]

    def insert_sent(self, app_id: int, request_id: int, recipient_ids: list[int], sender_id: int | None,
                    sent_at: int) -> int:
        return self.db.insert_id(
            "INSERT INTO sent_notifications (app_id, request_id, recipient_ids, sender_id, sent_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (app_id, request_id, json.dumps([str(i) for i in recipient_ids]), sender_id, sent_at))

    def sent_of_app(self, app_id: int) -> list[SentNotification]:
        rows = self.db.all(f"SELECT {SENT_COLUMNS} FROM sent_notifications WHERE app_id = ? ORDER BY id", (app_id,))
        return [_sent(row) for row in rows]
