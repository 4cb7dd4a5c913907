"""Devices declared in the world file (``devices`` of ``[[orgs.apps]]``, docs/config.md): unique ids the
app knows, as if a token had been minted for each, and optionally banned for ``banned_minutes`` from when the
world is applied, on the server clock. Checked without a database; errors are ``ValueError`` naming the item;
``world.py`` turns them into ``WorldError``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from questgraph.server.integrity.service import MAX_BAN_MINUTES, UNIQUE_ID_TEXT
from questgraph.server.world_checks import check_known_keys

DEVICE_KEYS = ("unique_id", "banned_minutes")


@dataclass(frozen=True)
class DeviceSpec:
    where: str
    unique_id: str
    banned_minutes: int | None


def world_devices(raw: Any, where: str, seen: dict[str, str]) -> list[DeviceSpec]:
    """``devices = ["quest-dev-0001", { unique_id = "…", banned_minutes = 60 }]``; ``seen`` maps every
    unique id declared so far in the world to where (a unique id is one device of one app)."""
    if not isinstance(raw, list):
        raise ValueError(f"{where}: must be a list")
    devices = []
    for n, value in enumerate(raw):
        item = f"{where}[{n}]"
        if isinstance(value, str):
            value = {"unique_id": value}
        if not isinstance(value, dict):
            raise ValueError(f"{item}: must be a unique id (a string) or a table "
                             "{ unique_id = …, banned_minutes = … }")
        check_known_keys(value, item, DEVICE_KEYS)
        unique_id = value.get("unique_id")
        if not isinstance(unique_id, str) or not UNIQUE_ID_TEXT.fullmatch(unique_id):
            raise ValueError(f"{item}: unique_id must be 8 to 128 letters, digits or _ - =")
        minutes = value.get("banned_minutes")
        if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, int)
                                    or not 0 <= minutes <= MAX_BAN_MINUTES):
            raise ValueError(f"{item}: banned_minutes must be an integer from 0 to {MAX_BAN_MINUTES}")
        if unique_id in seen:
            raise ValueError(f"{item}: unique_id {unique_id!r} is already declared by {seen[unique_id]}")
        seen[unique_id] = item
        devices.append(DeviceSpec(item, unique_id, minutes))
    return devices
