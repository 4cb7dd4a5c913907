"""The ``[[orgs.apps.achievements]]`` tables of a world file (docs/config.md): checked when the world is
loaded, with the same rules as ``POST /{app_id}/achievement_definitions`` (D23), and applied through the
achievement service, so a world can hold nothing the Graph API would refuse."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from questgraph.server.achievements.service import (
    TYPES,
    WRITE_POLICIES,
    AchievementService,
    DefinitionChange,
    ProgressWrite,
    check_api_name,
    check_write,
    merge_definition,
)
from questgraph.server.auth.callers import AppCaller
from questgraph.server.errors import GraphError
from questgraph.server.graph.params import INT64_MAX, parse_int

ACHIEVEMENT_KEYS = ("api_name", "achievement_type", "achievement_write_policy", "target", "bitfield_length",
                    "is_archived", "is_secret", "title", "description", "unlocked_description_override",
                    "title_locale_map", "description_locale_map", "progress")
PROGRESS_KEYS = ("user", "add_count", "add_bits", "force_unlock")


class AchievementWorldError(Exception):
    """A world item that cannot be applied; world.py turns it into a WorldError."""


@dataclass(frozen=True)
class ProgressSpec:
    where: str
    user: str  # alias or app-scoped id of a user of the app
    write: ProgressWrite


@dataclass(frozen=True)
class AchievementSpec:
    where: str
    api_name: str
    change: DefinitionChange
    progress: list[ProgressSpec]


def _keys(value: Any, where: str, keys: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise AchievementWorldError(f"{where}: must be a table")
    for key in value:
        if key not in keys:
            raise AchievementWorldError(f"{where}: unknown key {key!r} (known keys: {', '.join(keys)})")
    return value


def _choice(table: dict[str, Any], key: str, choices: tuple[str, ...], where: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or value.strip().upper() not in choices:
        raise AchievementWorldError(f"{where}: {key} must be one of {', '.join(choices)} (got {value!r})")
    return value.strip().upper()


def _bool(table: dict[str, Any], key: str, where: str) -> bool | None:
    value = table.get(key)
    if value is not None and not isinstance(value, bool):
        raise AchievementWorldError(f"{where}: {key} must be true or false")
    return value


def _text(table: dict[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise AchievementWorldError(f"{where}: {key} must be a string")
    return value


def _locale_map(table: dict[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, dict) or not value or not all(isinstance(v, str) for v in value.values()):
        raise AchievementWorldError(f'{where}: {key} must be a table of strings, e.g. {{ en_US = "Explorer" }}')
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _int(table: dict[str, Any], key: str, where: str, minimum: int) -> int | None:
    value = table.get(key)
    if value is None:
        return None
    try:
        return parse_int(key, value, minimum=minimum, maximum=INT64_MAX)
    except GraphError:
        raise AchievementWorldError(f"{where}: {key} must be an integer ≥ {minimum}") from None


def check_achievements(raw: Any, app_where: str) -> list[AchievementSpec]:
    """Every ``[[orgs.apps.achievements]]`` of one app, checked as the Graph API would check it."""
    if not isinstance(raw, list):
        raise AchievementWorldError(f"{app_where}.achievements: must be a list")
    specs: list[AchievementSpec] = []
    seen: dict[str, str] = {}
    for n, item in enumerate(raw):
        where = f"{app_where}.achievements[{n}]"
        table = _keys(item, where, ACHIEVEMENT_KEYS)
        api_name = _text(table, "api_name", where)
        if not api_name:
            raise AchievementWorldError(f"{where}: missing key 'api_name'")
        where = f"{where} ({api_name})"
        if api_name in seen:
            raise AchievementWorldError(f"{where}: api_name {api_name!r} is already declared by {seen[api_name]}")
        seen[api_name] = where
        change = DefinitionChange(
            achievement_type=_choice(table, "achievement_type", TYPES, where),
            write_policy=_choice(table, "achievement_write_policy", WRITE_POLICIES, where),
            target=_int(table, "target", where, 1),
            bitfield_length=_int(table, "bitfield_length", where, 1),
            is_archived=_bool(table, "is_archived", where),
            is_secret=_bool(table, "is_secret", where),
            title=_text(table, "title", where),
            description=_text(table, "description", where),
            unlocked_description_override=_text(table, "unlocked_description_override", where),
            title_locale_map=_locale_map(table, "title_locale_map", where),
            description_locale_map=_locale_map(table, "description_locale_map", where),
        )
        try:
            check_api_name(api_name)
            definition = merge_definition(None, change, 0, 0, api_name, 0)
        except GraphError as exc:
            raise AchievementWorldError(f"{where}: {exc.message.removeprefix('Param ')}") from None
        progress: list[ProgressSpec] = []
        rows = table.get("progress", [])
        if not isinstance(rows, list):
            raise AchievementWorldError(f"{where}.progress: must be a list")
        for p, raw_row in enumerate(rows):
            row_where = f"{where}.progress[{p}]"
            row = _keys(raw_row, row_where, PROGRESS_KEYS)
            user = row.get("user")
            if isinstance(user, bool) or not isinstance(user, str | int) or not str(user).strip():
                raise AchievementWorldError(f"{row_where}: user must be the alias or id of a user of this app")
            write = ProgressWrite(_int(row, "add_count", row_where, 1), _text(row, "add_bits", row_where),
                                  bool(_bool(row, "force_unlock", row_where)))
            try:
                check_write(definition, write)
            except GraphError as exc:
                raise AchievementWorldError(f"{row_where}: {exc.message.removeprefix('Param ')}") from None
            progress.append(ProgressSpec(row_where, str(user), write))
        specs.append(AchievementSpec(where, api_name, change, progress))
    return specs


def apply_achievements(service: AchievementService, caller: AppCaller, specs: list[AchievementSpec],
                       user_id_of: Callable[[str], int | None], on_item: Callable[[str], None]) -> None:
    """Create the definitions and their initial progress. An archived one is archived after its progress
    is written (writes to archived achievements are refused, D26)."""
    for spec in specs:
        on_item(spec.where)
        service.upsert(caller, caller.app.id, spec.api_name, replace(spec.change, is_archived=False))
        for row in spec.progress:
            on_item(row.where)
            user_id = user_id_of(row.user)
            if user_id is None:
                raise AchievementWorldError(f"{row.where}: no user {row.user!r} in app {caller.app.id}")
            service.write(caller, user_id, spec.api_name, row.write)
        if spec.change.is_archived:
            service.upsert(caller, caller.app.id, spec.api_name, DefinitionChange(is_archived=True))
