"""The platform integrity routes (graph-api.md A.4): method, documented path, handler (integrity/views.py).
Meta's examples send device_ban as a plain URL with ``method=POST``; the transport's override (D3) makes
that the POST row."""

from __future__ import annotations

from questgraph.server.graph.routing import PAGING, Param, Route, RouteTable
from questgraph.server.integrity.service import MAX_BAN_MINUTES, IntegrityService
from questgraph.server.integrity.views import device_ban, device_ban_ids, device_ban_status, verify

WHICH_DEVICE = (Param("unique_id"), Param("ban_id"))

ROUTES: RouteTable[IntegrityService] = (
    Route("GET", "/platform_integrity/verify", verify, (Param("token", required=True),), "AttestationVerdict"),
    Route("POST", "/platform_integrity/device_ban", device_ban, (
        *WHICH_DEVICE, Param("is_banned", "boolean", required=True),
        Param("remaining_time_in_minute", "integer", minimum=0, maximum=MAX_BAN_MINUTES),
    ), "DeviceBan"),
    Route("GET", "/platform_integrity/device_ban_ids", device_ban_ids, PAGING, "DeviceBanIds"),
    Route("GET", "/platform_integrity/device_ban_status", device_ban_status, WHICH_DEVICE, "DeviceBanStatus"),
)
