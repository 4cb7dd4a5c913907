"""Achievements (graph-api.md §2, docs/api.md; D23–D26): every endpoint, as ``qg.achievements.…``.

Each method is written once and builds its call; ``Achievements`` sends it, ``AsyncAchievements`` awaits
it (_group.py).
Which calls are repeated after a transient failure is said per method ("safe to retry").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from questgraph.client._async_client import AsyncClient
from questgraph.client._base import Call, nested, params, success
from questgraph.client._client import Client
from questgraph.client._group import C, Group, endpoint, paged
from questgraph.client._models import (
    DEFINITION_FIELDS,
    PROGRESS_FIELDS,
    AchievementDefinition,
    AchievementProgress,
    AchievementType,
    AchievementWrite,
    AchievementWritePolicy,
    DefinitionField,
    Id,
    Page,
    ProgressField,
    id_str,
    page_parser,
)

# An icon: its bytes (the content type is read from the magic number), or (filename, bytes, content type).
Image = bytes | tuple[str, bytes, str]

_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png", "png"), (b"\xff\xd8\xff", "image/jpeg", "jpg"),
          (b"GIF8", "image/gif", "gif"))


def _image_part(name: str, image: Image) -> tuple[str, bytes, str]:
    if isinstance(image, tuple):
        return image
    if not isinstance(image, bytes | bytearray):
        raise TypeError(f"{name} must be bytes or (filename, bytes, content_type)")
    data = bytes(image)
    for magic, content_type, ext in _MAGIC:
        if data.startswith(magic):
            return f"{name}.{ext}", data, content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return f"{name}.webp", data, "image/webp"
    # Unknown bytes go untyped: the server, not the client, judges what it accepts (§2.1). To send another
    # image type, pass (filename, bytes, content type).
    return f"{name}.bin", data, "application/octet-stream"


def _write(body: Any) -> AchievementWrite:
    return AchievementWrite(str(body["id"]), str(body["api_name"]), body.get("just_unlocked") is True)


class _Achievements(Group[C]):
    @endpoint
    def create_or_update(self, api_name: str, *, achievement_type: AchievementType | None = None,
                         write_policy: AchievementWritePolicy | None = None, target: int | None = None,
                         bitfield_length: int | None = None, title: str | None = None, description: str | None = None,
                         title_locale_map: Mapping[str, str] | None = None,
                         description_locale_map: Mapping[str, str] | None = None,
                         unlocked_description_override: str | None = None, is_archived: bool | None = None,
                         is_secret: bool | None = None, unlocked_image: Image | None = None,
                         locked_image: Image | None = None) -> Call[str]:
        """Create the definition ``api_name`` or update it (upsert, D23); returns its id, the same every
        time. Parameters left None keep their stored value. Icons (bytes, or (filename, bytes, type)) go as
        multipart files. App token. Safe to retry."""
        app_id = self._client._require_app_id()
        files = {name: _image_part(name, image) for name, image in
                 (("unlocked_image_file", unlocked_image), ("locked_image_file", locked_image)) if image is not None}
        # An upsert by api_name (D23): a repeat leaves the same definition (a re-sent icon replaces the
        # identical one) and answers the same id.
        return Call("POST", f"/{app_id}/achievement_definitions", params(
            api_name=api_name, achievement_type=achievement_type, achievement_write_policy=write_policy,
            target=target, bitfield_length=bitfield_length, title=title, description=description,
            title_locale_map=title_locale_map, description_locale_map=description_locale_map,
            unlocked_description_override=unlocked_description_override, is_archived=is_archived,
            is_secret=is_secret,
        ), lambda body: str(body["id"]), safe=True, files=files or None)

    @endpoint
    def definitions_page(self, *, api_names: Sequence[str] | None = None, include_archived: bool = False,
                         fields: Sequence[DefinitionField] = DEFINITION_FIELDS, limit: int | None = None,
                         after: str | None = None, before: str | None = None) -> Call[Page[AchievementDefinition]]:
        """One page of the app's definitions in creation order (``include_archived`` with an app token, D26)."""
        return Call("GET", f"/{self._client._require_app_id()}/achievement_definitions", params(
            api_names=None if api_names is None else list(api_names),  # a JSON array, as Meta's examples
            include_archived=True if include_archived else None, fields=",".join(fields), limit=limit,
            after=after, before=before,
        ), page_parser(AchievementDefinition.from_json), safe=True)

    @paged
    def definitions(self, *, api_names: Sequence[str] | None = None, include_archived: bool = False,
                    fields: Sequence[DefinitionField] = DEFINITION_FIELDS,
                    limit: int | None = None) -> Call[Page[AchievementDefinition]]:
        """Every definition (or those named), following ``paging.next`` (D21); ``limit`` is the page size."""
        return _Achievements.definitions_page.build(
            self, api_names=api_names, include_archived=include_archived, fields=fields, limit=limit)

    @endpoint
    def get_definition(self, definition_id: Id, *,
                       fields: Sequence[DefinitionField] = DEFINITION_FIELDS) -> Call[AchievementDefinition]:
        """One definition by id (``GET /{achievement_definition_id}``)."""
        return Call("GET", f"/{id_str(definition_id, 'definition_id')}", params(fields=",".join(fields)),
                    AchievementDefinition.from_json, safe=True)

    @endpoint
    def add_count(self, user_id: Id, api_name: str, count: int) -> Call[AchievementWrite]:
        """Add ``count`` to a COUNT achievement (D23); ``just_unlocked`` when this call reached the target.
        Not retried (a repeat would count twice)."""
        if isinstance(count, bool) or not isinstance(count, int):
            raise TypeError("add_count must be an int (1…2**63-1, D23)")
        return _progress_write(user_id, api_name, add_count=count)

    @endpoint
    def add_bits(self, user_id: Id, api_name: str, bits: str) -> Call[AchievementWrite]:
        """OR the ``0``/``1`` string ``bits`` into a BITFIELD achievement (D23). Not retried after a
        failure that may have applied it (the repeat would answer ``just_unlocked=False``)."""
        return _progress_write(user_id, api_name, add_bits=bits)

    @endpoint
    def force_unlock(self, user_id: Id, api_name: str) -> Call[AchievementWrite]:
        """Unlock an achievement of any type. Not retried after a failure that may have applied it (the
        repeat would answer ``just_unlocked=False``)."""
        return _progress_write(user_id, api_name, force_unlock=True)

    @endpoint
    def progress_page(self, user_id: Id, *, api_names: Sequence[str] | None = None, include_archived: bool = False,
                      fields: Sequence[ProgressField] = PROGRESS_FIELDS,
                      definition_fields: Sequence[DefinitionField] = DEFINITION_FIELDS, limit: int | None = None,
                      after: str | None = None, before: str | None = None) -> Call[Page[AchievementProgress]]:
        """One page of a user's progress rows (only achievements with written progress have one)."""
        return Call("GET", f"/{id_str(user_id, 'user_id')}/achievements", params(
            api_names=None if api_names is None else list(api_names),
            include_archived=True if include_archived else None,
            fields=nested(fields, "definition", ",".join(definition_fields)), limit=limit, after=after, before=before,
        ), page_parser(AchievementProgress.from_json), safe=True)

    @paged
    def progress(self, user_id: Id, *, api_names: Sequence[str] | None = None, include_archived: bool = False,
                 fields: Sequence[ProgressField] = PROGRESS_FIELDS,
                 definition_fields: Sequence[DefinitionField] = DEFINITION_FIELDS,
                 limit: int | None = None) -> Call[Page[AchievementProgress]]:
        """Every progress row of the user, following ``paging.next``; ``definition`` filled with
        ``definition_fields``. App token, or the user's own token."""
        return _Achievements.progress_page.build(
            self, user_id, api_names=api_names, include_archived=include_archived, fields=fields,
            definition_fields=definition_fields, limit=limit)

    @endpoint
    def remove_all(self, user_id: Id) -> Call[None]:
        """Delete all of a user's progress (``POST /achievement_remove_all``). App token. Safe to retry."""
        # Removing the progress of a user who has none is harmless.
        return Call("POST", "/achievement_remove_all", params(user_id=id_str(user_id, "user_id")), success,
                    safe=True)


def _progress_write(user_id: Id, api_name: str, *, add_count: int | None = None, add_bits: str | None = None,
                    force_unlock: bool = False) -> Call[AchievementWrite]:
    # Never repeated after a failure that may have applied the write: add_count would count twice; add_bits
    # (an OR) and force_unlock would leave the same state but answer just_unlocked=False to the very call
    # whose first try unlocked (D24), and the caller could not tell. Graph honours no idempotency key.
    return Call("POST", f"/{id_str(user_id, 'user_id')}/achievements", params(
        api_name=api_name, add_count=add_count, add_bits=add_bits, force_unlock=True if force_unlock else None,
    ), _write, safe=False)


class Achievements(_Achievements[Client]):
    """``client.achievements``: definitions, progress writes and reads, reset (graph-api.md §2)."""


class AsyncAchievements(_Achievements[AsyncClient]):
    """``AsyncClient.achievements``: the methods of ``Achievements``, awaited (the lists: ``async for``)."""
