"""Records of achievements (graph-api.md §2, D23–D26) and their image files, as
``achievements/store.py`` hands them to the service."""

from __future__ import annotations

from dataclasses import dataclass

Keyset = tuple[int, int]  # (created_us, id): the order of definitions and progress rows, for cursors (D21)


@dataclass(frozen=True, slots=True)
class AchievementDefinition:
    id: int
    app_id: int
    api_name: str
    achievement_type: str  # SIMPLE | COUNT | BITFIELD
    write_policy: str  # CLIENT_AUTHORITATIVE | SERVER_AUTHORITATIVE
    target: int  # 1 for SIMPLE
    bitfield_length: int  # 0 unless BITFIELD
    is_archived: bool
    is_secret: bool
    title: str
    description: str
    unlocked_description_override: str | None
    title_locale_map: str | None  # compact JSON object of strings
    description_locale_map: str | None
    unlocked_image: str | None  # media key
    locked_image: str | None  # media key
    created_us: int


@dataclass(frozen=True, slots=True)
class AchievementProgress:
    id: int
    definition_id: int
    user_id: int
    count: int
    bits: str  # "0"/"1" characters, bitfield_length long for BITFIELD, "" otherwise
    unlocked: bool
    unlock_time: int | None
    created_us: int


@dataclass(frozen=True, slots=True)
class MediaFile:
    """An uploaded achievement icon, served at ``/_media/{key}``; the key is random (not enumerable)."""

    key: str
    app_id: int
    content_type: str
    data: bytes
    created_at: int
