"""Achievements (graph-api.md §2, docs/api.md; D23–D26): every endpoint, as ``qg.achievements.…``.

``AchievementCalls`` builds the calls (no I/O); ``Achievements`` and ``AsyncAchievements`` send them.
Which calls are repeated after a transient failure is said per method ("safe to retry").
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from questgraph.client._base import Call, params
from questgraph.client._models import (
    DEFINITION_FIELDS,
    PROGRESS_FIELDS,
    AchievementDefinition,
    AchievementProgress,
    AchievementType,
    AchievementWrite,
    AchievementWritePolicy,
    DefinitionField,
    Page,
    ProgressField,
    id_str,
    page_parser,
)

if TYPE_CHECKING:
    from questgraph.client._async_client import AsyncClient
    from questgraph.client._client import Client

Id = int | str
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


def progress_fields(fields: Sequence[ProgressField], definition_fields: Sequence[DefinitionField]) -> str:
    """The ``fields`` value (D5), with the definition's subfields in braces."""
    return ",".join(f"definition{{{','.join(definition_fields)}}}" if f == "definition" else f for f in fields)


def _write(body: Any) -> AchievementWrite:
    return AchievementWrite(str(body["id"]), str(body["api_name"]), body.get("just_unlocked") is True)


def _success(body: Any) -> None:
    if not (isinstance(body, dict) and body.get("success") is True):
        raise ValueError(f"unexpected answer: {body!r}")


class AchievementCalls:
    """The achievement calls, built without I/O (shared by both clients)."""

    @staticmethod
    def create_or_update(app_id: str, api_name: str, *, achievement_type: AchievementType | None,
                         write_policy: AchievementWritePolicy | None, target: int | None,
                         bitfield_length: int | None, title: str | None, description: str | None,
                         title_locale_map: Mapping[str, str] | None, description_locale_map: Mapping[str, str] | None,
                         unlocked_description_override: str | None, is_archived: bool | None,
                         is_secret: bool | None, unlocked_image: Image | None,
                         locked_image: Image | None) -> Call[str]:
        files = {name: _image_part(name, image) for name, image in
                 (("unlocked_image_file", unlocked_image), ("locked_image_file", locked_image)) if image is not None}
        # An upsert by api_name (D23): a repeat leaves the same definition (a re-sent icon replaces the
        # identical one) and answers the same id. Safe to repeat.
        return Call("POST", f"/{app_id}/achievement_definitions", params(
            api_name=api_name, achievement_type=achievement_type, achievement_write_policy=write_policy,
            target=target, bitfield_length=bitfield_length, title=title, description=description,
            title_locale_map=title_locale_map, description_locale_map=description_locale_map,
            unlocked_description_override=unlocked_description_override, is_archived=is_archived,
            is_secret=is_secret,
        ), lambda body: str(body["id"]), safe=True, files=files or None)

    @staticmethod
    def definitions_page(app_id: str, *, api_names: Sequence[str] | None, include_archived: bool,
                         fields: Sequence[DefinitionField], limit: int | None, after: str | None,
                         before: str | None) -> Call[Page[AchievementDefinition]]:
        return Call("GET", f"/{app_id}/achievement_definitions", params(
            api_names=None if api_names is None else list(api_names),  # a JSON array, as Meta's examples
            include_archived=True if include_archived else None, fields=",".join(fields), limit=limit,
            after=after, before=before,
        ), page_parser(AchievementDefinition.from_json), safe=True)

    @staticmethod
    def get_definition(definition_id: Id, fields: Sequence[DefinitionField]) -> Call[AchievementDefinition]:
        return Call("GET", f"/{id_str(definition_id, 'definition_id')}", params(fields=",".join(fields)),
                    AchievementDefinition.from_json, safe=True)

    @staticmethod
    def write(user_id: Id, api_name: str, *, add_count: int | None, add_bits: str | None,
              force_unlock: bool) -> Call[AchievementWrite]:
        if add_count is not None and (isinstance(add_count, bool) or not isinstance(add_count, int)):
            raise TypeError("add_count must be an int (1…2**63-1, D23)")
        # add_count adds: a repeat after a lost answer would count twice, so it is never repeated. add_bits
        # OR-merges and force_unlock sets (D23): a repeat leaves the same state (though it answers
        # just_unlocked=False if the first try unlocked), so those are safe.
        return Call("POST", f"/{id_str(user_id, 'user_id')}/achievements", params(
            api_name=api_name, add_count=add_count, add_bits=add_bits, force_unlock=True if force_unlock else None,
        ), _write, safe=add_count is None)

    @staticmethod
    def progress_page(user_id: Id, *, api_names: Sequence[str] | None, include_archived: bool,
                      fields: Sequence[ProgressField], definition_fields: Sequence[DefinitionField],
                      limit: int | None, after: str | None, before: str | None) -> Call[Page[AchievementProgress]]:
        return Call("GET", f"/{id_str(user_id, 'user_id')}/achievements", params(
            api_names=None if api_names is None else list(api_names),
            include_archived=True if include_archived else None, fields=progress_fields(fields, definition_fields),
            limit=limit, after=after, before=before,
        ), page_parser(AchievementProgress.from_json), safe=True)

    @staticmethod
    def remove_all(user_id: Id) -> Call[None]:
        # Removing the progress of a user who has none is harmless: safe to repeat.
        return Call("POST", "/achievement_remove_all", params(user_id=id_str(user_id, "user_id")), _success,
                    safe=True)


class Achievements:
    """``client.achievements``: definitions, progress writes and reads, reset (graph-api.md §2)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def create_or_update(self, api_name: str, *, achievement_type: AchievementType | None = None,
                         write_policy: AchievementWritePolicy | None = None, target: int | None = None,
                         bitfield_length: int | None = None, title: str | None = None, description: str | None = None,
                         title_locale_map: Mapping[str, str] | None = None,
                         description_locale_map: Mapping[str, str] | None = None,
                         unlocked_description_override: str | None = None, is_archived: bool | None = None,
                         is_secret: bool | None = None, unlocked_image: Image | None = None,
                         locked_image: Image | None = None) -> str:
        """Create the definition ``api_name`` or update it (upsert, D23); returns its id, the same every
        time. Parameters left None keep their stored value. Icons (bytes, or (filename, bytes, type)) go as
        multipart files. App token. Safe to retry."""
        return self._client.send(AchievementCalls.create_or_update(
            self._client._require_app_id(), api_name, achievement_type=achievement_type, write_policy=write_policy,
            target=target, bitfield_length=bitfield_length, title=title, description=description,
            title_locale_map=title_locale_map, description_locale_map=description_locale_map,
            unlocked_description_override=unlocked_description_override, is_archived=is_archived,
            is_secret=is_secret, unlocked_image=unlocked_image, locked_image=locked_image))

    def definitions_page(self, *, api_names: Sequence[str] | None = None, include_archived: bool = False,
                         fields: Sequence[DefinitionField] = DEFINITION_FIELDS, limit: int | None = None,
                         after: str | None = None, before: str | None = None) -> Page[AchievementDefinition]:
        """One page of the app's definitions in creation order (``include_archived`` with an app token, D26)."""
        return self._client.send(AchievementCalls.definitions_page(
            self._client._require_app_id(), api_names=api_names, include_archived=include_archived, fields=fields,
            limit=limit, after=after, before=before))

    def definitions(self, *, api_names: Sequence[str] | None = None, include_archived: bool = False,
                    fields: Sequence[DefinitionField] = DEFINITION_FIELDS,
                    limit: int | None = None) -> Iterator[AchievementDefinition]:
        """Every definition (or those named), following ``paging.next`` (D21); ``limit`` is the page size."""
        call = AchievementCalls.definitions_page(
            self._client._require_app_id(), api_names=api_names, include_archived=include_archived, fields=fields,
            limit=limit, after=None, before=None)
        for page in self._client.pages(call):
            yield from page.data

    def get_definition(self, definition_id: Id, *,
                       fields: Sequence[DefinitionField] = DEFINITION_FIELDS) -> AchievementDefinition:
        """One definition by id (``GET /{achievement_definition_id}``)."""
        return self._client.send(AchievementCalls.get_definition(definition_id, fields))

    def add_count(self, user_id: Id, api_name: str, count: int) -> AchievementWrite:
        """Add ``count`` to a COUNT achievement (D23); ``just_unlocked`` when this call reached the target.
        Not retried (a repeat would count twice)."""
        return self._client.send(AchievementCalls.write(user_id, api_name, add_count=count, add_bits=None,
                                                        force_unlock=False))

    def add_bits(self, user_id: Id, api_name: str, bits: str) -> AchievementWrite:
        """OR the ``0``/``1`` string ``bits`` into a BITFIELD achievement (D23). Safe to retry."""
        return self._client.send(AchievementCalls.write(user_id, api_name, add_count=None, add_bits=bits,
                                                        force_unlock=False))

    def force_unlock(self, user_id: Id, api_name: str) -> AchievementWrite:
        """Unlock an achievement of any type. Safe to retry (a repeat answers ``just_unlocked=False``)."""
        return self._client.send(AchievementCalls.write(user_id, api_name, add_count=None, add_bits=None,
                                                        force_unlock=True))

    def progress_page(self, user_id: Id, *, api_names: Sequence[str] | None = None, include_archived: bool = False,
                      fields: Sequence[ProgressField] = PROGRESS_FIELDS,
                      definition_fields: Sequence[DefinitionField] = DEFINITION_FIELDS, limit: int | None = None,
                      after: str | None = None, before: str | None = None) -> Page[AchievementProgress]:
        """One page of a user's progress rows (only achievements with written progress have one)."""
        return self._client.send(AchievementCalls.progress_page(
            user_id, api_names=api_names, include_archived=include_archived, fields=fields,
            definition_fields=definition_fields, limit=limit, after=after, before=before))

    def progress(self, user_id: Id, *, api_names: Sequence[str] | None = None, include_archived: bool = False,
                 fields: Sequence[ProgressField] = PROGRESS_FIELDS,
                 definition_fields: Sequence[DefinitionField] = DEFINITION_FIELDS,
                 limit: int | None = None) -> Iterator[AchievementProgress]:
        """Every progress row of the user, following ``paging.next``; ``definition`` filled with
        ``definition_fields``. App token, or the user's own token."""
        call = AchievementCalls.progress_page(
            user_id, api_names=api_names, include_archived=include_archived, fields=fields,
            definition_fields=definition_fields, limit=limit, after=None, before=None)
        for page in self._client.pages(call):
            yield from page.data

    def remove_all(self, user_id: Id) -> None:
        """Delete all of a user's progress (``POST /achievement_remove_all``). App token. Safe to retry."""
        self._client.send(AchievementCalls.remove_all(user_id))


class AsyncAchievements:
    """``AsyncClient.achievements``: the methods of ``Achievements``, awaited."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create_or_update(self, api_name: str, *, achievement_type: AchievementType | None = None,
                               write_policy: AchievementWritePolicy | None = None, target: int | None = None,
                               bitfield_length: int | None = None, title: str | None = None,
                               description: str | None = None, title_locale_map: Mapping[str, str] | None = None,
                               description_locale_map: Mapping[str, str] | None = None,
                               unlocked_description_override: str | None = None, is_archived: bool | None = None,
                               is_secret: bool | None = None, unlocked_image: Image | None = None,
                               locked_image: Image | None = None) -> str:
        """See ``Achievements.create_or_update``."""
        return await self._client.send(AchievementCalls.create_or_update(
            self._client._require_app_id(), api_name, achievement_type=achievement_type, write_policy=write_policy,
            target=target, bitfield_length=bitfield_length, title=title, description=description,
            title_locale_map=title_locale_map, description_locale_map=description_locale_map,
            unlocked_description_override=unlocked_description_override, is_archived=is_archived,
            is_secret=is_secret, unlocked_image=unlocked_image, locked_image=locked_image))

    async def definitions_page(self, *, api_names: Sequence[str] | None = None, include_archived: bool = False,
                               fields: Sequence[DefinitionField] = DEFINITION_FIELDS, limit: int | None = None,
                               after: str | None = None, before: str | None = None) -> Page[AchievementDefinition]:
        """See ``Achievements.definitions_page``."""
        return await self._client.send(AchievementCalls.definitions_page(
            self._client._require_app_id(), api_names=api_names, include_archived=include_archived, fields=fields,
            limit=limit, after=after, before=before))

    async def definitions(self, *, api_names: Sequence[str] | None = None, include_archived: bool = False,
                          fields: Sequence[DefinitionField] = DEFINITION_FIELDS,
                          limit: int | None = None) -> AsyncIterator[AchievementDefinition]:
        """See ``Achievements.definitions``: ``async for``."""
        call = AchievementCalls.definitions_page(
            self._client._require_app_id(), api_names=api_names, include_archived=include_archived, fields=fields,
            limit=limit, after=None, before=None)
        async for page in self._client.pages(call):
            for row in page.data:
                yield row

    async def get_definition(self, definition_id: Id, *,
                             fields: Sequence[DefinitionField] = DEFINITION_FIELDS) -> AchievementDefinition:
        """See ``Achievements.get_definition``."""
        return await self._client.send(AchievementCalls.get_definition(definition_id, fields))

    async def add_count(self, user_id: Id, api_name: str, count: int) -> AchievementWrite:
        """See ``Achievements.add_count`` (not retried)."""
        return await self._client.send(AchievementCalls.write(user_id, api_name, add_count=count, add_bits=None,
                                                              force_unlock=False))

    async def add_bits(self, user_id: Id, api_name: str, bits: str) -> AchievementWrite:
        """See ``Achievements.add_bits``."""
        return await self._client.send(AchievementCalls.write(user_id, api_name, add_count=None, add_bits=bits,
                                                              force_unlock=False))

    async def force_unlock(self, user_id: Id, api_name: str) -> AchievementWrite:
        """See ``Achievements.force_unlock``."""
        return await self._client.send(AchievementCalls.write(user_id, api_name, add_count=None, add_bits=None,
                                                              force_unlock=True))

    async def progress_page(self, user_id: Id, *, api_names: Sequence[str] | None = None,
                            include_archived: bool = False, fields: Sequence[ProgressField] = PROGRESS_FIELDS,
                            definition_fields: Sequence[DefinitionField] = DEFINITION_FIELDS,
                            limit: int | None = None, after: str | None = None,
                            before: str | None = None) -> Page[AchievementProgress]:
        """See ``Achievements.progress_page``."""
        return await self._client.send(AchievementCalls.progress_page(
            user_id, api_names=api_names, include_archived=include_archived, fields=fields,
            definition_fields=definition_fields, limit=limit, after=after, before=before))

    async def progress(self, user_id: Id, *, api_names: Sequence[str] | None = None, include_archived: bool = False,
                       fields: Sequence[ProgressField] = PROGRESS_FIELDS,
                       definition_fields: Sequence[DefinitionField] = DEFINITION_FIELDS,
                       limit: int | None = None) -> AsyncIterator[AchievementProgress]:
        """See ``Achievements.progress``: ``async for``."""
        call = AchievementCalls.progress_page(
            user_id, api_names=api_names, include_archived=include_archived, fields=fields,
            definition_fields=definition_fields, limit=limit, after=None, before=None)
        async for page in self._client.pages(call):
            for row in page.data:
                yield row

    async def remove_all(self, user_id: Id) -> None:
        """See ``Achievements.remove_all``."""
        await self._client.send(AchievementCalls.remove_all(user_id))
