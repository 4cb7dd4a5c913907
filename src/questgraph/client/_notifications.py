"""Event-based user notifications (graph-api.md §A.3, D37): ``POST /{request_id}/triggered_notifs_with_text_map``,
and the records of the admin API (notification request templates, notifications sent)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from questgraph.client._async_client import AsyncClient
from questgraph.client._base import Call, params, success
from questgraph.client._client import Client
from questgraph.client._group import C, Group, endpoint
from questgraph.client._models import Id, id_str

NotifCategory = Literal["SOCIAL", "EVENTS", "PROMOTION"]


@dataclass(frozen=True)
class NotifRequest:
    """A notification request template of an app (the request id Meta's dashboard issues after review)."""

    id: str
    app_id: str
    category: str
    name: str
    created_at: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> NotifRequest:
        return cls(id=str(data["id"]), app_id=str(data["app_id"]), category=str(data["category"]),
                   name=str(data["name"]), created_at=int(data["created_at"]))


@dataclass(frozen=True)
class SentNotification:
    """A notification an app triggered, as questgraph recorded it (``sender_id``: the user whose token sent a
    Social one, else None)."""

    id: str
    app_id: str
    request_id: str
    recipient_ids: tuple[str, ...]
    sender_id: str | None
    sent_at: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SentNotification:
        sender = data.get("sender_id")
        return cls(id=str(data["id"]), app_id=str(data["app_id"]), request_id=str(data["request_id"]),
                   recipient_ids=tuple(str(i) for i in data["recipient_ids"]),
                   sender_id=None if sender is None else str(sender), sent_at=int(data["sent_at"]))


class _Notifications(Group[C]):
    @endpoint
    def trigger(self, request_id: Id, recipient_ids: Sequence[Id]) -> Call[None]:
        """Send an event-based notification to users of the app: with the app token, or (Social category) a
        user token (``client.as_user(token).notifications``). Not retried: a repeat notifies again."""
        request = id_str(request_id, "request_id")
        return Call("POST", f"/{request}/triggered_notifs_with_text_map",
                    params(recipient_ids=[id_str(i, "recipient_ids") for i in recipient_ids], notif_request=request),
                    success)


class Notifications(_Notifications[Client]):
    """``client.notifications``: event-based user notifications."""


class AsyncNotifications(_Notifications[AsyncClient]):
    """``AsyncClient.notifications``: the methods of ``Notifications``, awaited."""
