"""Achievement behaviour, free of HTTP (graph-api.md §2, D23–D26): definition upserts, definition and
progress reads with keyset paging, progress writes that report ``just_unlocked`` exactly once, and the
reset of one user's progress.

A progress write is a compare-and-set loop over the stored row (see ``achievements/store.py``): the
server runs one domain call at a time, but the rule "exactly one write sees the unlock" must also hold
for a backend shared by several processes.
"""

from __future__ import annotations

import json
import re
import secrets
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from questgraph.server.achievements.records import AchievementDefinition, AchievementProgress, Keyset, MediaFile
from questgraph.server.achievements.store import AchievementStore
from questgraph.server.auth.access import require_app_token, require_path_app
from questgraph.server.auth.callers import AppCaller, Caller, UserCaller
from questgraph.server.clock import Clock
from questgraph.server.db import Database
from questgraph.server.errors import Forbidden, InvalidParameter, NotEntitled, NotFound
from questgraph.server.graph.params import INT64_MAX, parse_json
from questgraph.server.identity.records import User
from questgraph.server.identity.service import IdentityService
from questgraph.server.identity.store import IdentityStore

SIMPLE, COUNT, BITFIELD = "SIMPLE", "COUNT", "BITFIELD"
TYPES = (SIMPLE, COUNT, BITFIELD)
CLIENT_AUTHORITATIVE, SERVER_AUTHORITATIVE = "CLIENT_AUTHORITATIVE", "SERVER_AUTHORITATIVE"
WRITE_POLICIES = (CLIENT_AUTHORITATIVE, SERVER_AUTHORITATIVE)
API_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}")  # as leaderboards (D19)
MAX_BITFIELD_LENGTH = 4096
MAX_TEXT = 4096
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_API_NAMES = 1000
DEFAULT_UNLOCKED_ICON, DEFAULT_LOCKED_ICON = "default-unlocked.png", "default-locked.png"
_MEDIA_KEY = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_BITS = re.compile(r"[01]*")


def _png(size: int, grey: int) -> bytes:
    """A plain square greyscale PNG: the default icons, made here so nothing binary is shipped."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes([grey]) * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


DEFAULT_ICONS = {DEFAULT_UNLOCKED_ICON: _png(256, 0xC8), DEFAULT_LOCKED_ICON: _png(256, 0x60)}


@dataclass(frozen=True)
class Image:
    """An uploaded icon: its bytes and the content type we serve it with."""

    data: bytes
    content_type: str


@dataclass(frozen=True)
class DefinitionChange:
    """The parameters of one create/update call; None means "not sent" (keep the stored value)."""

    achievement_type: str | None = None
    write_policy: str | None = None
    target: int | None = None
    bitfield_length: int | None = None
    is_archived: bool | None = None
    is_secret: bool | None = None
    title: str | None = None
    description: str | None = None
    unlocked_description_override: str | None = None
    title_locale_map: str | None = None
    description_locale_map: str | None = None
    unlocked_image: Image | None = None
    locked_image: Image | None = None


@dataclass(frozen=True)
class ProgressWrite:
    add_count: int | None = None
    add_bits: str | None = None
    force_unlock: bool = False


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    keys: list[Keyset]
    has_previous: bool
    has_next: bool


@dataclass(frozen=True)
class ShownDefinition:
    """A definition as one caller may see it: ``reveal`` is False for a secret one the viewing user has
    not unlocked (its title, description and icons are then left out, §2)."""

    definition: AchievementDefinition
    reveal: bool


@dataclass(frozen=True)
class ShownProgress:
    progress: AchievementProgress
    definition: ShownDefinition


# --- pure checks (shared with the world file) -------------------------------------------------------------
def check_api_name(api_name: str) -> str:
    if not API_NAME.fullmatch(api_name):
        raise InvalidParameter("Param api_name must be 1 to 64 characters of letters, digits, _ . -")
    return api_name


def check_locale_map(key: str, text: str) -> str:
    try:
        value = parse_json(text)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not value or not all(
        isinstance(k, str) and k and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidParameter(f'Param {key} must be a non-empty JSON object of strings, e.g. {{"en_US":"Explorer"}}')
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _localized(text: str | None, locale_map: str | None) -> str | None:
    """A plain value, else the map's en_US value, else its first."""
    if text is not None:
        return text
    if locale_map is None:
        return None
    values: dict[str, str] = json.loads(locale_map)
    return values.get("en_US") or next(iter(values.values()))


def check_image(key: str, data: bytes, declared: str | None) -> Image:
    """Any image, sniffed by signature (PNG, JPEG, GIF, WebP) or by its declared image/* type (lenient:
    Meta asks for a 256×256 PNG but we do not resize or judge)."""
    if not data:
        raise InvalidParameter(f"Param {key} is an empty file")
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidParameter(f"Param {key} must be at most {MAX_IMAGE_BYTES} bytes")
    for signature, content_type in ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
                                    (b"GIF8", "image/gif")):
        if data.startswith(signature):
            return Image(data, content_type)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return Image(data, "image/webp")
    declared = (declared or "").split(";")[0].strip().lower()
    if re.fullmatch(r"image/[a-z0-9.+\-]{1,64}", declared) and declared != "image/svg+xml":
        return Image(data, declared)
    raise InvalidParameter(f"Param {key} must be an image file (PNG, as Meta asks)")


def merge_definition(existing: AchievementDefinition | None, change: DefinitionChange,
                     new_id: int, app_id: int, api_name: str, created_us: int) -> AchievementDefinition:
    """The definition after an upsert (D23), with every rule checked; ``unlocked_image``/``locked_image`` are
    left as stored (the caller stores files). Raises InvalidParameter, changing nothing."""
    if existing is None:
        if change.achievement_type is None:
            raise InvalidParameter("The parameter achievement_type is required to create an achievement")
        title = _localized(change.title, change.title_locale_map)
        description = _localized(change.description, change.description_locale_map)
        if not title:
            raise InvalidParameter("The parameter title is required to create an achievement")
        if description is None:
            raise InvalidParameter("The parameter description is required to create an achievement")
        base = AchievementDefinition(
            new_id, app_id, api_name, change.achievement_type, CLIENT_AUTHORITATIVE, 1, 0, False, False, title,
            description, None, None, None, None, None, created_us,
        )
    else:
        base = existing
        if change.achievement_type is not None and change.achievement_type != existing.achievement_type:
            # Progress of one type means nothing under another; Meta's dashboard does not allow it either.
            raise InvalidParameter(f"Param achievement_type cannot change ({existing.achievement_type} to "
                                   f"{change.achievement_type}) on an existing achievement")
    kind = base.achievement_type
    target, length = base.target, base.bitfield_length
    if kind == SIMPLE:
        target, length = 1, 0  # a SIMPLE achievement has no target; one sent is ignored (lenient)
    else:
        if change.target is not None:
            target = change.target
        elif existing is None:
            raise InvalidParameter(f"The parameter target is required for a {kind} achievement")
    if kind == BITFIELD:
        if change.bitfield_length is not None:
            if existing is not None and change.bitfield_length < existing.bitfield_length:
                raise InvalidParameter("Param bitfield_length cannot shrink: stored bits would be lost")
            length = change.bitfield_length
        elif existing is None:
            raise InvalidParameter("The parameter bitfield_length is required for a BITFIELD achievement")
        if not 1 <= target <= length:
            raise InvalidParameter(f"Param target must be between 1 and bitfield_length ({length})")
    if kind == COUNT and target < 1:
        raise InvalidParameter("Param target must be at least 1")
    return replace(
        base,
        write_policy=change.write_policy or base.write_policy,
        target=target,
        bitfield_length=length,
        is_archived=base.is_archived if change.is_archived is None else change.is_archived,
        is_secret=base.is_secret if change.is_secret is None else change.is_secret,
        title=_localized(change.title, change.title_locale_map) or base.title,
        description=_localized(change.description, change.description_locale_map) or base.description
        if change.description is not None or change.description_locale_map is not None else base.description,
        unlocked_description_override=base.unlocked_description_override
        if change.unlocked_description_override is None else change.unlocked_description_override,
        title_locale_map=change.title_locale_map or base.title_locale_map,
        description_locale_map=change.description_locale_map or base.description_locale_map,
    )


def check_write(definition: AchievementDefinition, write: ProgressWrite) -> None:
    """Parameters that do not fit the achievement's type are a 400 (D23)."""
    if write.add_count is not None and definition.achievement_type != COUNT:
        raise InvalidParameter(f"Param add_count applies to COUNT achievements only; "
                               f"{definition.api_name} is {definition.achievement_type}")
    if write.add_bits is not None:
        if definition.achievement_type != BITFIELD:
            raise InvalidParameter(f"Param add_bits applies to BITFIELD achievements only; "
                                   f"{definition.api_name} is {definition.achievement_type}")
        if not write.add_bits or not _BITS.fullmatch(write.add_bits):
            raise InvalidParameter('Param add_bits must be a string of 0 and 1, e.g. "110001"')
        if len(write.add_bits) > definition.bitfield_length:
            raise InvalidParameter(f"Param add_bits must be at most bitfield_length "
                                   f"({definition.bitfield_length}) characters long")
    if write.add_count is None and write.add_bits is None and not write.force_unlock:
        needed = {SIMPLE: "force_unlock=true", COUNT: "add_count (or force_unlock=true)",
                  BITFIELD: "add_bits (or force_unlock=true)"}[definition.achievement_type]
        raise InvalidParameter(f"Nothing to write: {definition.api_name} needs {needed}")


def advance(definition: AchievementDefinition, progress: AchievementProgress, write: ProgressWrite,
            now: int) -> AchievementProgress:
    """The progress after one write: counts saturate at int64 max, bits OR-merge and never clear (D23)."""
    count = progress.count
    if write.add_count is not None:
        count = INT64_MAX if count > INT64_MAX - write.add_count else count + write.add_count
    bits = progress.bits.ljust(definition.bitfield_length, "0") if definition.achievement_type == BITFIELD else ""
    if write.add_bits is not None:
        added = write.add_bits.ljust(len(bits), "0")
        bits = "".join("1" if a == "1" or b == "1" else "0" for a, b in zip(bits, added, strict=True))
    reached = (
        write.force_unlock
        or (definition.achievement_type == COUNT and count >= definition.target)
        or (definition.achievement_type == BITFIELD and bits.count("1") >= definition.target)
    )
    unlocked = progress.unlocked or reached
    unlock_time = progress.unlock_time if progress.unlocked else (now if unlocked else None)
    return replace(progress, count=count, bits=bits, unlocked=unlocked, unlock_time=unlock_time)


class AchievementService:
    def __init__(self, db: Database, store: AchievementStore, identity_store: IdentityStore, clock: Clock,
                 identity: IdentityService) -> None:
        self.db = db
        self.store = store
        self.identity_store = identity_store
        self.clock = clock
        self.identity = identity

    # --- who may touch what -------------------------------------------------------------------------
    def app_of_path(self, caller: Caller, app_id: int) -> None:
        require_path_app(self.identity_store, caller, app_id)

    def user_of_path(self, caller: Caller, user_id: int) -> User:
        """The path's user: one of the token's app (403 otherwise, 404 when unknown); a user token may name
        only its own user (D25)."""
        user = self.identity_store.get_user(user_id)
        if user is None:
            raise NotFound(f"Unsupported request. Object with ID '{user_id}' does not exist")
        if user.app_id != caller.app.id:
            raise Forbidden("The access token belongs to another app")
        if isinstance(caller, UserCaller) and caller.user.id != user.id:
            raise Forbidden("A user access token may read or write only its own user's achievements")
        return user

    def definition(self, caller: Caller, api_name: str) -> AchievementDefinition:
        """A visible definition by api_name: unknown and archived ones are 404 (D26)."""
        found = self.store.find_achievement(caller.app.id, api_name)
        if found is None or found.is_archived:
            raise NotFound(f"No achievement with api_name {api_name[:64]!r} exists for this app")
        return found

    # --- definitions --------------------------------------------------------------------------------
    def upsert(self, caller: Caller, app_id: int, api_name: str, change: DefinitionChange) -> AchievementDefinition:
        """Create or update by api_name; the same id every time (D23, as D19)."""
        self.app_of_path(caller, app_id)
        require_app_token(caller, "Creating or updating an achievement")
        check_api_name(api_name)
        with self.db.transaction():
            existing = self.store.find_achievement(app_id, api_name)
            # Check everything before claiming an id or storing a file: a bad call changes nothing.
            merged = merge_definition(existing, change, 0, app_id, api_name, self.clock.now_us())
            if existing is None:
                merged = replace(merged, id=self.identity.claim_id("achievement_definition"))
            stale: list[str] = []
            for which, image in (("unlocked_image", change.unlocked_image), ("locked_image", change.locked_image)):
                if image is None:
                    continue
                key = secrets.token_urlsafe(24)  # unguessable: another app cannot list our icons
                self.store.insert_media(MediaFile(key, app_id, image.content_type, image.data, self.clock.now()))
                old = merged.unlocked_image if which == "unlocked_image" else merged.locked_image
                if old is not None:
                    stale.append(old)
                merged = replace(merged, unlocked_image=key) if which == "unlocked_image" \
                    else replace(merged, locked_image=key)
            if existing is None:
                self.store.insert_achievement(merged)
            else:
                self.store.update_achievement(merged)
            for key in stale:
                self.store.delete_media(key)
        return merged

    def definitions(self, caller: Caller, app_id: int, api_names: Sequence[str] | None, include_archived: bool,
                    limit: int, after: Keyset | None, before: Keyset | None) -> Page:
        self.app_of_path(caller, app_id)
        if len(api_names or ()) > MAX_API_NAMES:
            raise InvalidParameter(f"Param api_names must list at most {MAX_API_NAMES} names")
        archived = include_archived and isinstance(caller, AppCaller)  # D26: app tokens only
        rows, has_previous, has_next = self._page(
            lambda a, b, n: self.store.list_achievements(app_id, api_names=api_names, include_archived=archived,
                                                         after=a, before=b, limit=n),
            limit, after, before)
        shown = [self.shown(caller, d) for d in rows]
        return Page(shown, [(d.created_us, d.id) for d in rows], has_previous, has_next)

    def shown(self, caller: Caller, definition: AchievementDefinition,
              progress: AchievementProgress | None = None) -> ShownDefinition:
        if not definition.is_secret or isinstance(caller, AppCaller):
            return ShownDefinition(definition, True)
        if progress is None:
            progress = self.store.find_progress(definition.id, caller.user.id)
        return ShownDefinition(definition, progress is not None and progress.unlocked)

    def definition_by_id(self, caller: Caller, definition_id: int) -> ShownDefinition:
        """``GET /{definition_id}``: an archived definition exists for app tokens only (D26)."""
        found = self.store.get_achievement(definition_id)
        if found is None or (found.is_archived and not isinstance(caller, AppCaller)):
            raise NotFound(f"Object with ID '{definition_id}' does not exist")
        if found.app_id != caller.app.id:
            raise Forbidden("The access token belongs to another app")
        return self.shown(caller, found)

    @staticmethod
    def _page(fetch: Any, limit: int, after: Keyset | None, before: Keyset | None) -> tuple[list[Any], bool, bool]:
        """One keyset page (D21): ``limit`` rows after ``after``, or just before ``before``."""
        if after is None and before is not None:
            rows = list(fetch(None, before, limit + 1))
            has_previous = len(rows) > limit
            return list(reversed(rows[:limit])), has_previous, True
        rows = list(fetch(after, None, limit + 1))
        return rows[:limit], after is not None, len(rows) > limit

    # --- progress -----------------------------------------------------------------------------------
    def write(self, caller: Caller, user_id: int, api_name: str, write: ProgressWrite) -> bool:
        """Record progress (D23–D25); True only for the call that unlocked the achievement (D24)."""
        user = self.user_of_path(caller, user_id)
        definition = self.definition(caller, api_name)
        if isinstance(caller, UserCaller) and definition.write_policy != CLIENT_AUTHORITATIVE:
            raise Forbidden(f"{definition.api_name} is SERVER_AUTHORITATIVE: only an app access token may write it")
        check_write(definition, write)
        if not self.identity_store.is_entitled(user.id, caller.app.id):
            raise NotEntitled(f"User {user.id} is not entitled to app {caller.app.id}")
        with self.db.transaction():
            current = self.store.find_progress(definition.id, user.id)
            if current is None:
                fresh = AchievementProgress(self.identity.claim_id("achievement_progress"), definition.id, user.id, 0,
                                            "0" * definition.bitfield_length, False, None, self.clock.now_us())
                if not self.store.insert_progress_if_absent(fresh):
                    self.identity.release_id(fresh.id)  # another process made the row first
            while True:
                current = self.store.find_progress(definition.id, user.id)
                assert current is not None
                updated = advance(definition, current, write, self.clock.now())
                if updated == current or self.store.compare_and_set_progress(current, updated):
                    return updated.unlocked and not current.unlocked

    def progress(self, caller: Caller, user_id: int, api_names: Sequence[str] | None, include_archived: bool,
                 limit: int, after: Keyset | None, before: Keyset | None) -> Page:
        user = self.user_of_path(caller, user_id)
        archived = include_archived and isinstance(caller, AppCaller)  # D26
        definition_ids: list[int] | None = None
        if api_names is not None:
            if len(api_names) > MAX_API_NAMES:
                raise InvalidParameter(f"Param api_names must list at most {MAX_API_NAMES} names")
            found = self.store.list_achievements(caller.app.id, api_names=api_names, include_archived=archived,
                                                 limit=MAX_API_NAMES)
            definition_ids = [d.id for d in found]
        rows, has_previous, has_next = self._page(
            lambda a, b, n: self.store.list_progress(user.id, definition_ids=definition_ids,
                                                     include_archived=archived, after=a, before=b, limit=n),
            limit, after, before)
        definitions = self.store.get_achievements(p.definition_id for p in rows)
        shown = [ShownProgress(p, self.shown(caller, definitions[p.definition_id], p)) for p in rows]
        return Page(shown, [(p.created_us, p.id) for p in rows], has_previous, has_next)

    def remove_all(self, caller: Caller, user_id: int) -> int:
        """Delete all of one user's progress, locked and unlocked, archived included (§2.5)."""
        require_app_token(caller, "Removing a user's achievements")
        user = self.identity_store.get_user(user_id)
        if user is None or user.app_id != caller.app.id:
            raise InvalidParameter(f"Parameter user_id: invalid user id: {user_id}")
        return self.store.delete_progress_of_user(user.id)

    def reset_progress(self, caller: Caller, user_id: int, api_name: str) -> bool:
        """Delete one user's progress on one achievement (locked again, counts and bits cleared); True when
        there was progress to delete. The dashboard's per-achievement reset; an app token only, as remove_all."""
        require_app_token(caller, "Resetting a user's achievement")
        user = self.user_of_path(caller, user_id)
        found = self.store.find_achievement(caller.app.id, api_name)  # archived ones too: progress is kept on them
        if found is None:
            raise NotFound(f"No achievement with api_name {api_name[:64]!r} exists for this app")
        return self.store.delete_progress(found.id, user.id)

    # --- control plane ------------------------------------------------------------------------------
    def all_progress(self, user_id: int) -> list[ShownProgress]:
        """Every progress row of a user, archived included, nothing hidden (admin API)."""
        user = self.identity.user(user_id)
        rows = self.store.list_progress(user.id, definition_ids=None, include_archived=True, limit=10**6)
        definitions = self.store.get_achievements(p.definition_id for p in rows)
        return [ShownProgress(p, ShownDefinition(definitions[p.definition_id], True)) for p in rows]

    def media(self, key: str) -> tuple[bytes, str] | None:
        """An icon by key (served at ``/_media/{key}``), or one of the default icons."""
        if key in DEFAULT_ICONS:
            return DEFAULT_ICONS[key], "image/png"
        if not _MEDIA_KEY.fullmatch(key):
            return None
        found = self.store.get_media(key)
        return None if found is None else (found.data, found.content_type)
