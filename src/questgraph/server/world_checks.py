"""Checks shared by the world-file sections of the features (commerce items and grants, nonces, …)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def check_known_keys(table: dict[str, Any], where: str, keys: Iterable[str]) -> None:
    """A ValueError naming the first key of ``table`` that is not one of ``keys`` (a misspelt key is an error,
    never silently ignored)."""
    allowed = tuple(keys)
    for key in table:
        if key not in allowed:
            raise ValueError(f"{where}: unknown key {key!r} (known keys: {', '.join(allowed)})")
