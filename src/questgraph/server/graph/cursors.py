"""Keyset cursors (D21) and page sizes of every paged Graph list, in one place.

A cursor names a position in a list's order, not a row count, so a page stays put while rows are added
before it. Clients keep cursors between calls (and across server upgrades), so each format below is frozen
byte for byte; all three are base64url without padding around a payload that starts with a version tag:

- leaderboard entries: the tag byte 0x01, then the entry's 24-byte sort key (ranking/keys.py), big-endian.
  Fixed width and no parsing: this one is on the hottest read.
- achievement definitions and progress: ASCII ``a1:<created_us>:<id>``.
- commerce lists (purchases, catalogue, subscriptions): the JSON array ``["qgc1", *key]``, since their keys
  mix ints and strings (``(grant_time, id)``, ``(sku,)``); a cursor must have the shape of the list's keys.

The formats differ because each list's key does; merging them would change cursors clients hold.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from questgraph.server.errors import InvalidParameter
from questgraph.server.graph.params import Params, parse_json

K = TypeVar("K")
CursorKey = tuple[Any, ...]  # a commerce list's key: ints and strings, compared as tuples


@dataclass(frozen=True)
class PageSize:
    """``limit`` when absent, and the most one page returns (a larger ``limit`` is capped, not refused)."""

    default: int
    maximum: int

    def limit(self, params: Params) -> int:
        limit = params.int64("limit", minimum=0)
        return self.default if limit is None else min(limit, self.maximum)


ENTRIES_PAGE = PageSize(25, 100)  # leaderboard_entries (D20)
ACHIEVEMENTS_PAGE = PageSize(100, 1000)  # definitions and progress: short lists, often read unpaged (D21)
COMMERCE_PAGE = PageSize(25, 500)  # so clients' limit=200 gets one page (D29)
FEDERATED_PAGE = PageSize(25, 500)  # /{federated_app_id}/federated_users (A.2; as commerce lists)


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(text: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def cursor_param(params: Params, name: str, decode: Callable[[str], K | None]) -> K | None:
    """The key in the ``after``/``before`` parameter ``name``; None when absent or empty; 400 when it is
    not a cursor of this list."""
    value = params.get(name)
    if value is None or value == "":
        return None
    key = decode(value.strip())
    if key is None:
        raise InvalidParameter(f"Param {name} is not a valid cursor")
    return key


# --- leaderboard entries ------------------------------------------------------------------------------
_RANK_VERSION = b"\x01"


def encode_rank_cursor(key: int) -> str:
    return _encode(_RANK_VERSION + key.to_bytes(24, "big"))


def decode_rank_cursor(cursor: str) -> int | None:
    raw = _decode(cursor)
    if raw is None or len(raw) != 25 or raw[:1] != _RANK_VERSION:
        return None
    return int.from_bytes(raw[1:], "big")


# --- achievement definitions and progress ---------------------------------------------------------------
def encode_pair_cursor(key: tuple[int, int]) -> str:
    return _encode(f"a1:{key[0]}:{key[1]}".encode())


def decode_pair_cursor(cursor: str) -> tuple[int, int] | None:
    raw = _decode(cursor)
    if raw is None:
        return None
    try:
        parts = raw.decode("ascii").split(":")
    except ValueError:
        return None
    if len(parts) != 3 or parts[0] != "a1" or not all(p.isdigit() and len(p) <= 19 for p in parts[1:]):
        return None
    return int(parts[1]), int(parts[2])


# --- commerce lists ----------------------------------------------------------------------------------
_JSON_PREFIX = "qgc1"


def encode_json_cursor(key: CursorKey) -> str:
    return _encode(json.dumps([_JSON_PREFIX, *key], separators=(",", ":"), ensure_ascii=False).encode())


def json_cursor_decoder(shape: CursorKey) -> Callable[[str], CursorKey | None]:
    """A decoder for the lists whose keys look like ``shape`` (the same types, position by position)."""

    def decode(cursor: str) -> CursorKey | None:
        raw = _decode(cursor)
        try:
            value = None if raw is None else parse_json(raw)
        except ValueError:  # not JSON, or not UTF-8 (UnicodeDecodeError is a ValueError)
            return None
        if (not isinstance(value, list) or len(value) != len(shape) + 1 or value[0] != _JSON_PREFIX
                or any(type(v) is not type(s) for v, s in zip(value[1:], shape, strict=True))):
            return None
        return tuple(value[1:])

    return decode
