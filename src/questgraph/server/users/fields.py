"""User fields that old Meta REST docs name (H-ROOM: ``owner{id,alias,presence,presence_status,profile_url,
profile_url_small}``) but questgraph has no live data for. Shared by every ``User`` node type (``/{user_id}``,
``user{}`` of entries, ``owner{}`` of subscriptions) so one User type answers one field set (D10)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from questgraph.server.graph.fields import Field

# An S2S caller is never inside the app on a headset, so every emulated user is offline: no presence
# text, and the UserPresenceStatus value that is true for all of them (D10).
OFFLINE_PRESENCE = ""
OFFLINE_STATUS = "OFFLINE"


def presence_fields(profile_url: Callable[[Any], str]) -> dict[str, Field]:
    """``presence``, ``presence_status`` and ``profile_url_small`` (questgraph stores one picture, so the
    small one is the same URL)."""
    return {
        "presence": Field(lambda _: OFFLINE_PRESENCE),
        "presence_status": Field(lambda _: OFFLINE_STATUS),
        "profile_url_small": Field(profile_url),
    }
