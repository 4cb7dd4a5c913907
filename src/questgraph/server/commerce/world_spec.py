"""The world file's IAP catalogue (``[[orgs.apps.items]]``) and grants (``purchases`` of ``[[users.apps]]``),
checked without a database (docs/config.md). Errors are ``ValueError`` with a message naming the item;
``world.py`` turns them into ``WorldError``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from questgraph.server.commerce.service import ItemSpec, check_item
from questgraph.server.errors import GraphError
from questgraph.server.world_checks import check_known_keys

ITEM_KEYS = ("sku", "type", "name", "description", "price", "currency", "subscription_term", "trial_type",
             "trial_term", "trial_max_term_count", "trial_price")
GRANT_KEYS = ("sku", "trial", "expires_at", "granted_at")


@dataclass(frozen=True)
class GrantSpec:
    where: str
    sku: str
    trial: bool | None
    expires_at: int | None
    granted_at: int | None = None  # when it was bought (Unix seconds, not after the world is applied)


def _int(value: Any, where: str, key: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}: {key} must be an integer")
    return value


def _text(value: Any, where: str, key: str, upper: bool = False) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{where}: {key} must be a string")
    return value.strip().upper() if upper else value


def world_items(raw: Any, where: str) -> list[ItemSpec]:
    if not isinstance(raw, list):
        raise ValueError(f"{where}: must be a list")
    items: list[ItemSpec] = []
    seen: dict[str, str] = {}
    for n, table in enumerate(raw):
        item_where = f"{where}[{n}]"
        if not isinstance(table, dict):
            raise ValueError(f"{item_where}: must be a table")
        check_known_keys(table, item_where, ITEM_KEYS)
        for key in ("sku", "type", "name"):
            if key not in table:
                raise ValueError(f"{item_where}: missing key {key!r}")
        spec = ItemSpec(
            sku=_text(table["sku"], item_where, "sku") or "",
            item_type=_text(table["type"], item_where, "type", upper=True) or "",
            name=_text(table["name"], item_where, "name") or "",
            description=_text(table.get("description"), item_where, "description") or "",
            price_hundredths=_int(table.get("price", 0), item_where, "price") or 0,
            currency=_text(table.get("currency", "USD"), item_where, "currency", upper=True) or "",
            subscription_term=_text(table.get("subscription_term"), item_where, "subscription_term", upper=True),
            trial_type=_text(table.get("trial_type"), item_where, "trial_type", upper=True),
            trial_term=_text(table.get("trial_term"), item_where, "trial_term", upper=True),
            trial_max_term_count=_int(table.get("trial_max_term_count"), item_where, "trial_max_term_count"),
            trial_price_hundredths=_int(table.get("trial_price"), item_where, "trial_price"),
        )
        try:
            spec = check_item(spec)
        except GraphError as exc:
            raise ValueError(f"{item_where}: {exc.message.removeprefix('Param ')}") from None
        if spec.sku in seen:
            raise ValueError(f"{item_where}: sku {spec.sku!r} is already declared by {seen[spec.sku]}")
        seen[spec.sku] = item_where
        items.append(spec)
    return items


def world_grants(raw: Any, where: str) -> list[GrantSpec]:
    """``purchases = ["sku", { sku = "…", trial = false, expires_at = 1767225600, granted_at = 1700000000 }]``."""
    if not isinstance(raw, list):
        raise ValueError(f"{where}: must be a list")
    grants = []
    for n, value in enumerate(raw):
        grant_where = f"{where}[{n}]"
        if isinstance(value, str):
            value = {"sku": value}
        if not isinstance(value, dict):
            raise ValueError(f"{grant_where}: must be a sku or a table {{ sku = …, trial = …, expires_at = … }}")
        check_known_keys(value, grant_where, GRANT_KEYS)
        sku = value.get("sku")
        if not isinstance(sku, str) or not sku.strip():
            raise ValueError(f"{grant_where}: sku must be a non-empty string")
        trial = value.get("trial")
        if trial is not None and not isinstance(trial, bool):
            raise ValueError(f"{grant_where}: trial must be true or false")
        expires_at = _int(value.get("expires_at"), grant_where, "expires_at")
        granted_at = _int(value.get("granted_at"), grant_where, "granted_at")
        if granted_at is not None and granted_at < 0:
            raise ValueError(f"{grant_where}: granted_at must be Unix seconds (0 or more)")
        grants.append(GrantSpec(grant_where, sku.strip(), trial, expires_at, granted_at))
    return grants
