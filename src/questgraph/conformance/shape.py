"""A JSON answer's shape: what keys it has and what types their values are, never the values themselves.

The shape is flat: a map from a path (``data[].user.alias``) to the set of JSON types seen there. A list's
elements are merged into one path (``data[]``), so a list's shape is the union of its elements' shapes;
an empty list is only ``list``. Ids, scores and names differ between any two servers and are ignored."""

from __future__ import annotations

from typing import Any

Shape = dict[str, frozenset[str]]


def json_type(value: Any) -> str:
    """The JSON type of a decoded value: object, list, string, integer, number, boolean or null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object"


def shape_of(value: Any) -> Shape:
    """The flat shape of ``value``; the root's path is ``$``."""
    found: dict[str, set[str]] = {}
    _walk(value, "$", found)
    return {path: frozenset(types) for path, types in found.items()}


def _walk(value: Any, path: str, found: dict[str, set[str]]) -> None:
    found.setdefault(path, set()).add(json_type(value))
    if isinstance(value, dict):
        for key, inner in value.items():
            _walk(inner, f"{path}.{key}", found)
    elif isinstance(value, list):
        for inner in value:
            _walk(inner, f"{path}[]", found)


def types_text(types: frozenset[str] | None) -> str:
    """``string|null``, or ``absent``."""
    return "absent" if not types else "|".join(sorted(types))
