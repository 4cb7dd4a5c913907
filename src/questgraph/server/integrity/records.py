"""Platform integrity's rows (graph-api.md A.4), as ``integrity/store.py`` hands them to the service."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DeviceBan:
    id: int  # the order of device_ban_ids
    ban_id: str
    app_id: int
    unique_id: str
    created_at: int
    expires_at: int
