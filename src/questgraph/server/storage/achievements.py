"""Records and storage protocols of achievements (graph-api.md §2, D23–D26), their image files, and the
user proof nonces of user verification (§4.1, D8).

Progress writes are compare-and-set (``compare_and_set_progress``) and nonces are single-use by a
conditional update (``use_user_nonce``), so a backend shared by several server processes stays correct
without relying on the server's one-call-at-a-time execution.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

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


@dataclass(frozen=True, slots=True)
class UserNonce:
    nonce_hash: str  # SHA-256 of the nonce; the nonce itself is never stored (D11)
    user_id: int
    app_id: int
    created_at: int
    expires_at: int


class AchievementStore(Protocol):
    # --- definitions ------------------------------------------------------------------------------
    def insert_achievement(self, definition: AchievementDefinition) -> None: ...
    def update_achievement(self, definition: AchievementDefinition) -> None: ...
    def get_achievement(self, definition_id: int) -> AchievementDefinition | None: ...
    def get_achievements(self, definition_ids: Iterable[int]) -> dict[int, AchievementDefinition]: ...
    def find_achievement(self, app_id: int, api_name: str) -> AchievementDefinition | None: ...
    def list_achievements(self, app_id: int, *, api_names: Sequence[str] | None, include_archived: bool,
                          after: Keyset | None = None, before: Keyset | None = None,
                          limit: int = 100) -> list[AchievementDefinition]:
        """In (created_us, id) order; with ``before``, the rows just before it in *descending* order."""
        ...

    # --- progress ---------------------------------------------------------------------------------
    def find_progress(self, definition_id: int, user_id: int) -> AchievementProgress | None: ...
    def insert_progress_if_absent(self, progress: AchievementProgress) -> bool:
        """Insert the row unless the user already has one for that definition; True when inserted."""
        ...

    def compare_and_set_progress(self, old: AchievementProgress, new: AchievementProgress) -> bool:
        """Replace ``old`` by ``new`` only if the stored row still equals ``old``; True when replaced."""
        ...

    def list_progress(self, user_id: int, *, definition_ids: Sequence[int] | None, include_archived: bool,
                      after: Keyset | None = None, before: Keyset | None = None,
                      limit: int = 100) -> list[AchievementProgress]:
        """As ``list_achievements``; rows of archived definitions only with ``include_archived``."""
        ...

    def delete_progress_of_user(self, user_id: int) -> int:
        """Delete every progress row of the user, and their object ids; the number deleted."""
        ...

    # --- image files ------------------------------------------------------------------------------
    def insert_media(self, media: MediaFile) -> None: ...
    def get_media(self, key: str) -> MediaFile | None: ...
    def delete_media(self, key: str) -> None: ...


class UserProofStore(Protocol):
    def insert_user_nonce(self, nonce: UserNonce) -> None: ...
    def use_user_nonce(self, nonce_hash: str, user_id: int, app_id: int, now: int) -> bool:
        """Mark the nonce used if it is this user's and app's, unused and unexpired; True only then."""
        ...

    def get_person_alias(self, person_id: int) -> str | None: ...
