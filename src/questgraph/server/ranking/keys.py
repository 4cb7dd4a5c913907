"""One integer per entry that sorts in D14 order: better score, then earlier write, then lower entry id.

The key packs three unsigned 64-bit fields into one Python int, so comparisons are exact over the whole
int64 score range (D13) and cost one integer compare. Keyset cursors (D21) are the key itself, encoded.
"""

from __future__ import annotations

import base64
import binascii

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_U64 = 2**64 - 1
HIGHER_IS_BETTER = "HIGHER_IS_BETTER"
LOWER_IS_BETTER = "LOWER_IS_BETTER"


def sort_key(sort_order: str, score: int, written_us: int, entry_id: int) -> int:
    """The entry's place in its board's order; smaller keys rank higher."""
    if sort_order == HIGHER_IS_BETTER:
        score_part = INT64_MAX - score  # the best (highest) score gets the smallest part
    else:
        score_part = score - INT64_MIN
    return (score_part << 128) | (max(written_us, 0) << 64) | entry_id


def entry_id_of(key: int) -> int:
    return key & _U64


_CURSOR_VERSION = b"\x01"


def encode_cursor(key: int) -> str:
    """An opaque, URL-safe cursor naming a position in the order (not a row count)."""
    return base64.urlsafe_b64encode(_CURSOR_VERSION + key.to_bytes(24, "big")).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    """The key inside a cursor, or None when the cursor is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 25 or raw[:1] != _CURSOR_VERSION:
        return None
    return int.from_bytes(raw[1:], "big")
