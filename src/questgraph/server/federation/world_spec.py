"""Federated users declared in the world file (``[[orgs.apps.federated_users]]``, docs/config.md): created
with the rules of ``federated_user_create``, with fixed user tokens for tests (stored hashed, D11). Checked
without a database; errors are ``ValueError`` naming the item (never a token); ``world.py`` turns them into
``WorldError``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from questgraph.server.federation.service import FederationService, display_name_problem, persistent_id_problem
from questgraph.server.identity.service import valid_user_token
from questgraph.server.world_checks import check_known_keys

FEDERATED_KEYS = ("persistent_id", "display_name", "id", "tokens")


@dataclass(frozen=True)
class FederatedSpec:
    where: str
    persistent_id: str
    display_name: str
    id: int | None = None
    tokens: list[str] = field(default_factory=list, repr=False)


def _text(table: dict[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str):
        raise ValueError(f"{where}: {key} is required and must be a string")
    return value


def world_federated_users(raw: Any, where: str) -> list[FederatedSpec]:
    """``federated_users = [{ persistent_id = "steam-1", display_name = "Lancelot", tokens = ["OC…"] }]``."""
    if not isinstance(raw, list):
        raise ValueError(f"{where} must be a list of tables")
    specs: list[FederatedSpec] = []
    seen: dict[str, str] = {}
    for i, item in enumerate(raw):
        item_where = f"{where}[{i}]"
        if not isinstance(item, dict):
            raise ValueError(f"{item_where} must be a table")
        check_known_keys(item, item_where, FEDERATED_KEYS)
        persistent_id = _text(item, "persistent_id", item_where)
        problem = persistent_id_problem(persistent_id)
        if problem is not None:
            raise ValueError(f"{item_where}: persistent_id {problem}")
        if persistent_id in seen:
            raise ValueError(f"{item_where}: persistent_id {persistent_id!r} is already declared by "
                             f"{seen[persistent_id]}")
        seen[persistent_id] = item_where
        display_name = _text(item, "display_name", item_where)
        problem = display_name_problem(display_name)
        if problem is not None:
            raise ValueError(f"{item_where}: display_name {problem}")
        fixed = item.get("id")
        if isinstance(fixed, str) and fixed.isascii() and fixed.isdigit():
            fixed = int(fixed)  # ids may be written as strings, as the world's other ids
        if fixed is not None and (type(fixed) is not int or not 10**14 <= fixed < 10**17):
            raise ValueError(f"{item_where}: id must be an id of 15 to 17 digits")
        tokens = item.get("tokens", [])
        if not isinstance(tokens, list) or not all(isinstance(t, str) and valid_user_token(t) for t in tokens):
            raise ValueError(f"{item_where}: tokens must be a list of OC or FRL followed by 20 to 256 letters or "
                             "digits")
        specs.append(FederatedSpec(item_where, persistent_id, display_name, fixed, list(tokens)))
    return specs


def apply_federated_users(federation: FederationService, app_id: int, specs: list[FederatedSpec],
                          at: Callable[[str], None]) -> dict[str, int]:
    """Create the app's declared federated users; their ids by persistent id and by id (as text)."""
    made: dict[str, int] = {}
    for spec in specs:
        at(spec.where)
        user = federation.create_in_app(app_id, spec.persistent_id, spec.display_name, spec.id)
        for token in spec.tokens:
            federation.identity.mint_user_token(user.id, token)
        made[spec.persistent_id] = made[str(user.id)] = user.id
    return made
