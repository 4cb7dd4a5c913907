"""Notifications' rows (D37), as ``notifications/store.py`` hands them to the service."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NotifRequest:
    id: int
    app_id: int
    category: str
    name: str
    created_at: int


@dataclass(frozen=True, slots=True)
class SentNotification:
    id: int
    app_id: int
    request_id: int
    recipient_ids: tuple[int, ...]
    sender_id: int | None  # None when an app token sent it
    sent_at: int
