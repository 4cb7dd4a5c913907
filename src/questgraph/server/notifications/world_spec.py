"""The world file's notification request templates (``[[orgs.apps.notif_requests]]``, D37), checked without a
database (docs/config.md). Errors are ``ValueError`` naming the item; ``world.py`` turns them into
``WorldError``. Ids are checked as every world id (15–17 digits, unique) by ``world.py``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from questgraph.server.notifications.service import CATEGORIES, MAX_NAME
from questgraph.server.world_checks import check_known_keys

NOTIF_REQUEST_KEYS = ("id", "category", "name")


@dataclass(frozen=True)
class NotifRequestSpec:
    where: str
    id: Any  # the raw id: world.py checks and claims it
    category: str
    name: str


def world_notif_requests(raw: Any, where: str) -> list[NotifRequestSpec]:
    if not isinstance(raw, list):
        raise ValueError(f"{where}: must be a list")
    specs: list[NotifRequestSpec] = []
    for n, table in enumerate(raw):
        item_where = f"{where}[{n}]"
        if not isinstance(table, dict):
            raise ValueError(f"{item_where}: must be a table")
        check_known_keys(table, item_where, NOTIF_REQUEST_KEYS)
        category, name = table.get("category"), table.get("name", "")
        if not isinstance(category, str) or category.strip().upper() not in CATEGORIES:
            raise ValueError(f"{item_where}: category must be one of {', '.join(CATEGORIES)}")
        if not isinstance(name, str) or len(name.strip()) > MAX_NAME:
            raise ValueError(f"{item_where}: name must be a string of at most {MAX_NAME} characters")
        specs.append(NotifRequestSpec(item_where, table.get("id"), category, name))
    return specs
