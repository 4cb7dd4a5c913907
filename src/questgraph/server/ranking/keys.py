"""One integer per entry that sorts in D14 order: better score, then earlier write, then lower entry id.

The key packs three unsigned 64-bit fields into one Python int, so comparisons are exact over the whole
int64 score range (D13) and cost one integer compare. Keyset cursors (D21) are the key itself,
encoded (graph/cursors.py).
"""

from __future__ import annotations

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
ENTRY_ID_MASK = 2**64 - 1  # key & ENTRY_ID_MASK is the entry id: its low 64 bits
HIGHER_IS_BETTER = "HIGHER_IS_BETTER"
LOWER_IS_BETTER = "LOWER_IS_BETTER"


def sort_key(sort_order: str, score: int, written_us: int, entry_id: int) -> int:
    """The entry's place in its board's order; smaller keys rank higher."""
    if sort_order == HIGHER_IS_BETTER:
        score_part = INT64_MAX - score  # the best (highest) score gets the smallest part
    else:
        score_part = score - INT64_MIN
    return (score_part << 128) | (max(written_us, 0) << 64) | entry_id


def score_of(sort_order: str, key: int) -> int:
    """The score ``sort_key`` packed into ``key`` (a page answered from the index alone)."""
    score_part = key >> 128
    return INT64_MAX - score_part if sort_order == HIGHER_IS_BETTER else score_part + INT64_MIN


def written_us_of(key: int) -> int:
    """The write time ``sort_key`` packed into ``key``; 0 stands for any time at or before the epoch."""
    return (key >> 64) & ENTRY_ID_MASK
