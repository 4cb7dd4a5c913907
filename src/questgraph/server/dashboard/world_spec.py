"""Dashboard members in the world file (``members`` of an ``[[orgs]]`` table, docs/config.md), checked without
a database by the same rules as the admin API (``check_member`` in service.py) and created by the same code
(``DashboardService.put_member``). Errors are ``ValueError`` with a message naming the item; ``world.py``
turns them into ``WorldError``. A password is never repeated in a message (D7).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from questgraph.server.dashboard.service import DashboardService, check_member
from questgraph.server.errors import GraphError

MEMBER_KEYS = ("email", "name", "role", "password")


@dataclass(frozen=True)
class MemberSpec:
    where: str
    email: str  # normalized (trimmed, lower case)
    name: str | None
    role: str
    password: str | None = None


def world_members(raw: Any, where: str) -> list[MemberSpec]:
    """The ``members`` array of one organization."""
    if not isinstance(raw, list):
        raise ValueError(f"{where}: must be an array of tables ({{email = …, role = …, password = …}})")
    specs: list[MemberSpec] = []
    seen: dict[str, str] = {}
    for i, item in enumerate(raw):
        at = f"{where}[{i}]"
        if not isinstance(item, dict):
            raise ValueError(f"{at}: must be a table with email, role and password")
        unknown = sorted(set(item) - set(MEMBER_KEYS))
        if unknown:
            raise ValueError(f"{at}: unknown key {unknown[0]!r} (allowed: {', '.join(MEMBER_KEYS)})")
        for key in MEMBER_KEYS:
            if key in item and not isinstance(item[key], str):
                raise ValueError(f"{at}: {key} must be a string")
        if "email" not in item:
            raise ValueError(f"{at}: email is required")
        role = item.get("role", "developer").strip().lower()
        password = item.get("password")
        try:
            email = check_member(item["email"], role, password)
        except GraphError as exc:
            # "Param email must be …" as the admin API says it, minus the HTTP wording.
            raise ValueError(f"{at}: {exc.message.removeprefix('Param ')}") from None
        if password == "":
            raise ValueError(f"{at}: password must not be empty (leave it out for a member without one)")
        if email in seen:
            raise ValueError(f"{at}: {email} is already a member, at {seen[email]}")
        seen[email] = at
        specs.append(MemberSpec(f"{at} ({email})", email, item.get("name"), role, password))
    return specs


def apply_members(dashboard: DashboardService, org_id: int, specs: list[MemberSpec],
                  at: Callable[[str], None]) -> None:
    """Create the members of a new organization (inside the world's transaction)."""
    for spec in specs:
        at(spec.where)
        dashboard.put_member(org_id, spec.email, spec.name, spec.role, spec.password)
