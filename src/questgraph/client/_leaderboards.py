"""Leaderboards (graph-api.md §1, docs/api.md): every endpoint, as ``qg.leaderboards.…``.

``LeaderboardCalls`` builds the calls (no I/O); ``Leaderboards`` and ``AsyncLeaderboards`` send them.
Which calls are repeated after a transient failure is said per method ("safe to retry").
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from questgraph.client._base import Call, params
from questgraph.client._errors import NotFound
from questgraph.client._models import (
    ENTRY_FIELDS,
    LEADERBOARD_FIELDS,
    USER_FIELDS,
    EntriesPage,
    EntryField,
    EntryFilter,
    Leaderboard,
    LeaderboardEntry,
    LeaderboardField,
    SortOrder,
    StartAt,
    SubmitResult,
    UserField,
    WritePolicy,
    encode_base64,
    id_str,
)

if TYPE_CHECKING:
    from questgraph.client._async_client import AsyncClient
    from questgraph.client._client import Client

Id = int | str


def entry_fields(fields: Sequence[EntryField], user_fields: Sequence[UserField]) -> str:
    """The ``fields`` value (D5), with the user's subfields in braces."""
    return ",".join(f"user{{{','.join(user_fields)}}}" if f == "user" else f for f in fields)


def _success(body: Any) -> None:
    if not (isinstance(body, dict) and body.get("success") is True):
        raise ValueError(f"unexpected answer: {body!r}")


def _page(body: Any) -> EntriesPage:
    paging = body.get("paging") or {}
    cursors = paging.get("cursors") or {}
    summary = body.get("summary")
    return EntriesPage(
        entries=[LeaderboardEntry.from_json(row) for row in body.get("data", [])],
        total_count=int(summary["total_count"]) if isinstance(summary, dict) and "total_count" in summary else None,
        before=cursors.get("before"), after=cursors.get("after"),
        has_next="next" in paging, has_previous="previous" in paging, next_url=paging.get("next"),
    )


class LeaderboardCalls:
    """The leaderboard calls, built without I/O (shared by both clients)."""

    @staticmethod
    def create_or_update(app_id: str, api_name: str, *, sort_order: SortOrder | None,
                         entry_write_policy: WritePolicy | None, earliest_allowed_entry_time: int | None,
                         latest_allowed_entry_time: int | None,
                         title_locale_map: Mapping[str, str] | None) -> Call[str]:
        # An upsert by api_name (D19): a repeat leaves the same board and answers the same id.
        return Call("POST", f"/{app_id}/leaderboards", params(
            api_name=api_name, sort_order=sort_order, entry_write_policy=entry_write_policy,
            earliest_allowed_entry_time=earliest_allowed_entry_time,
            latest_allowed_entry_time=latest_allowed_entry_time, title_locale_map=title_locale_map,
        ), lambda body: str(body["id"]), safe=True)

    @staticmethod
    def submit_entry(api_name: str, score: int, *, user_id: Id | None, extra_data: bytes | None,
                     force_update: bool) -> Call[SubmitResult]:
        if isinstance(score, bool) or not isinstance(score, int):
            raise TypeError("score must be an int (a signed 64-bit integer, D13)")
        return Call("POST", "/leaderboard_submit_entry", params(
            api_name=api_name, score=score, user_id=None if user_id is None else id_str(user_id, "user_id"),
            extra_data_base64=None if extra_data is None else encode_base64(extra_data),
            force_update=True if force_update else None,
        ), lambda body: SubmitResult(bool(body.get("success")), bool(body.get("did_update")),
                                     [str(i) for i in body.get("updated_challenge_ids", [])]),
            # Keep-best (D15): a repeat of the same score is not strictly better, so it changes nothing.
            # A forced write is not: the repeat moves the write time and the entry's place among ties.
            safe=not force_update)

    @staticmethod
    def boards(app_id: str, fields: Sequence[LeaderboardField], api_name: str | None = None) -> Call[list[Leaderboard]]:
        return Call("GET", f"/{app_id}/leaderboards", params(api_name=api_name, fields=",".join(fields)),
                    lambda body: [Leaderboard.from_json(row) for row in body.get("data", [])], safe=True)

    @staticmethod
    def get_by_id(leaderboard_id: Id, fields: Sequence[LeaderboardField]) -> Call[Leaderboard]:
        return Call("GET", f"/{id_str(leaderboard_id, 'leaderboard_id')}", params(fields=",".join(fields)),
                    Leaderboard.from_json, safe=True)

    @staticmethod
    def entries_page(api_name: str, *, start_at: StartAt | None, offset: int | None, filter: EntryFilter | None,
                     user_ids: Sequence[Id] | None, limit: int | None, summary: bool, after: str | None,
                     before: str | None, fields: Sequence[EntryField],
                     user_fields: Sequence[UserField]) -> Call[EntriesPage]:
        if user_ids is not None and filter is None:
            filter = "USER_IDS"
        return Call("GET", "/leaderboard_entries", params(
            api_name=api_name, start_at=start_at, offset=offset, filter=filter,
            user_ids=None if user_ids is None else ",".join(id_str(u, "user_ids") for u in user_ids),
            limit=limit, summary=True if summary else None, after=after, before=before,
            fields=entry_fields(fields, user_fields),
        ), _page, safe=True)

    @staticmethod
    def get_entry(entry_id: Id, fields: Sequence[EntryField],
                  user_fields: Sequence[UserField]) -> Call[LeaderboardEntry]:
        return Call("GET", f"/{id_str(entry_id, 'entry_id')}", params(fields=entry_fields(fields, user_fields)),
                    LeaderboardEntry.from_json, safe=True)

    @staticmethod
    def delete(object_id: Id, name: str) -> Call[None]:
        # Not repeated: if the first try was applied, a repeat answers 404 for a delete that succeeded.
        return Call("DELETE", f"/{id_str(object_id, name)}", {}, _success)

    @staticmethod
    def remove_all(api_name: str) -> Call[None]:
        # Emptying an empty board is harmless: safe to repeat.
        return Call("POST", "/leaderboard_remove_all_entries", params(api_name=api_name), _success, safe=True)


def _one(api_name: str) -> Any:
    def parse(boards: list[Leaderboard]) -> Leaderboard:
        if not boards:
            raise NotFound(f"No leaderboard with api_name {api_name}", status=404, code=100)
        return boards[0]
    return parse


class Leaderboards:
    """``client.leaderboards``: create/update, submit, metadata, entries, delete (graph-api.md §1)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def create_or_update(self, api_name: str, *, sort_order: SortOrder | None = None,
                         entry_write_policy: WritePolicy | None = None,
                         earliest_allowed_entry_time: int | None = None, latest_allowed_entry_time: int | None = None,
                         title_locale_map: Mapping[str, str] | None = None) -> str:
        """Create the board ``api_name`` or update it (upsert, D19); returns its id, the same every time.
        ``sort_order`` is required to create. App token. Safe to retry."""
        return self._client.send(LeaderboardCalls.create_or_update(
            self._client._require_app_id(), api_name, sort_order=sort_order, entry_write_policy=entry_write_policy,
            earliest_allowed_entry_time=earliest_allowed_entry_time,
            latest_allowed_entry_time=latest_allowed_entry_time, title_locale_map=title_locale_map))

    def submit_entry(self, api_name: str, score: int, *, user_id: Id | None = None, extra_data: bytes | None = None,
                     force_update: bool = False) -> SubmitResult:
        """Write a user's entry (D15, D16): ``user_id`` with an app token, none with a user token.
        ``did_update`` is False when the score is not better (unless ``force_update``). Retried only when
        not forced."""
        return self._client.send(LeaderboardCalls.submit_entry(
            api_name, score, user_id=user_id, extra_data=extra_data, force_update=force_update))

    def list(self, *, fields: Sequence[LeaderboardField] = LEADERBOARD_FIELDS) -> list[Leaderboard]:
        """Every board of the client's app, with ``fields`` (all by default)."""
        return self._client.send(LeaderboardCalls.boards(self._client._require_app_id(), fields))

    def get(self, api_name: str, *, fields: Sequence[LeaderboardField] = LEADERBOARD_FIELDS) -> Leaderboard:
        """One board's metadata by ``api_name``; ``NotFound`` if the app has no such board."""
        boards = self._client.send(LeaderboardCalls.boards(self._client._require_app_id(), fields, api_name))
        result: Leaderboard = _one(api_name)(boards)
        return result

    def get_by_id(self, leaderboard_id: Id, *, fields: Sequence[LeaderboardField] = LEADERBOARD_FIELDS) -> Leaderboard:
        """One board by id (``GET /{leaderboard_id}``)."""
        return self._client.send(LeaderboardCalls.get_by_id(leaderboard_id, fields))

    def entries_page(self, api_name: str, *, start_at: StartAt | None = None, offset: int | None = None,
                     filter: EntryFilter | None = None, user_ids: Sequence[Id] | None = None,
                     limit: int | None = None, summary: bool = False, after: str | None = None,
                     before: str | None = None, fields: Sequence[EntryField] = ENTRY_FIELDS,
                     user_fields: Sequence[UserField] = USER_FIELDS) -> EntriesPage:
        """One page of ranked entries (D20, D21). ``user_ids`` implies ``filter="USER_IDS"``; viewer
        options and ``FRIENDS`` need a user token (``client.as_user(token)``)."""
        return self._client.send(LeaderboardCalls.entries_page(
            api_name, start_at=start_at, offset=offset, filter=filter, user_ids=user_ids, limit=limit,
            summary=summary, after=after, before=before, fields=fields, user_fields=user_fields))

    def entries(self, api_name: str, *, start_at: StartAt | None = None, offset: int | None = None,
                filter: EntryFilter | None = None, user_ids: Sequence[Id] | None = None, limit: int | None = None,
                fields: Sequence[EntryField] = ENTRY_FIELDS,
                user_fields: Sequence[UserField] = USER_FIELDS) -> Iterator[LeaderboardEntry]:
        """Every entry from ``start_at`` on, fetching pages of ``limit`` as it goes (follows ``paging.next``)."""
        call = LeaderboardCalls.entries_page(
            api_name, start_at=start_at, offset=offset, filter=filter, user_ids=user_ids, limit=limit,
            summary=False, after=None, before=None, fields=fields, user_fields=user_fields)
        for page in self._client.pages(call):
            yield from page.entries

    def get_entry(self, entry_id: Id, *, fields: Sequence[EntryField] = ENTRY_FIELDS,
                  user_fields: Sequence[UserField] = USER_FIELDS) -> LeaderboardEntry:
        """One entry by id (``GET /{entry_id}``)."""
        return self._client.send(LeaderboardCalls.get_entry(entry_id, fields, user_fields))

    def delete_entry(self, entry_id: Id) -> None:
        """Delete one entry (``DELETE /{entry_id}``). Not retried."""
        self._client.send(LeaderboardCalls.delete(entry_id, "entry_id"))

    def remove_all(self, api_name: str) -> None:
        """Delete every entry of a board (cannot be undone). App token. Safe to retry."""
        self._client.send(LeaderboardCalls.remove_all(api_name))

    def delete(self, leaderboard_id: Id) -> None:
        """Delete a board and its entries (``DELETE /{leaderboard_id}``). App token. Not retried."""
        self._client.send(LeaderboardCalls.delete(leaderboard_id, "leaderboard_id"))


class AsyncLeaderboards:
    """``AsyncClient.leaderboards``: the methods of ``Leaderboards``, awaited."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create_or_update(self, api_name: str, *, sort_order: SortOrder | None = None,
                               entry_write_policy: WritePolicy | None = None,
                               earliest_allowed_entry_time: int | None = None,
                               latest_allowed_entry_time: int | None = None,
                               title_locale_map: Mapping[str, str] | None = None) -> str:
        """See ``Leaderboards.create_or_update``."""
        return await self._client.send(LeaderboardCalls.create_or_update(
            self._client._require_app_id(), api_name, sort_order=sort_order, entry_write_policy=entry_write_policy,
            earliest_allowed_entry_time=earliest_allowed_entry_time,
            latest_allowed_entry_time=latest_allowed_entry_time, title_locale_map=title_locale_map))

    async def submit_entry(self, api_name: str, score: int, *, user_id: Id | None = None,
                           extra_data: bytes | None = None, force_update: bool = False) -> SubmitResult:
        """See ``Leaderboards.submit_entry``."""
        return await self._client.send(LeaderboardCalls.submit_entry(
            api_name, score, user_id=user_id, extra_data=extra_data, force_update=force_update))

    async def list(self, *, fields: Sequence[LeaderboardField] = LEADERBOARD_FIELDS) -> list[Leaderboard]:
        """See ``Leaderboards.list``."""
        return await self._client.send(LeaderboardCalls.boards(self._client._require_app_id(), fields))

    async def get(self, api_name: str, *, fields: Sequence[LeaderboardField] = LEADERBOARD_FIELDS) -> Leaderboard:
        """See ``Leaderboards.get``."""
        boards = await self._client.send(LeaderboardCalls.boards(self._client._require_app_id(), fields, api_name))
        result: Leaderboard = _one(api_name)(boards)
        return result

    async def get_by_id(self, leaderboard_id: Id, *,
                        fields: Sequence[LeaderboardField] = LEADERBOARD_FIELDS) -> Leaderboard:
        """See ``Leaderboards.get_by_id``."""
        return await self._client.send(LeaderboardCalls.get_by_id(leaderboard_id, fields))

    async def entries_page(self, api_name: str, *, start_at: StartAt | None = None, offset: int | None = None,
                           filter: EntryFilter | None = None, user_ids: Sequence[Id] | None = None,
                           limit: int | None = None, summary: bool = False, after: str | None = None,
                           before: str | None = None, fields: Sequence[EntryField] = ENTRY_FIELDS,
                           user_fields: Sequence[UserField] = USER_FIELDS) -> EntriesPage:
        """See ``Leaderboards.entries_page``."""
        return await self._client.send(LeaderboardCalls.entries_page(
            api_name, start_at=start_at, offset=offset, filter=filter, user_ids=user_ids, limit=limit,
            summary=summary, after=after, before=before, fields=fields, user_fields=user_fields))

    async def entries(self, api_name: str, *, start_at: StartAt | None = None, offset: int | None = None,
                      filter: EntryFilter | None = None, user_ids: Sequence[Id] | None = None,
                      limit: int | None = None, fields: Sequence[EntryField] = ENTRY_FIELDS,
                      user_fields: Sequence[UserField] = USER_FIELDS) -> AsyncIterator[LeaderboardEntry]:
        """See ``Leaderboards.entries``: ``async for entry in qg.leaderboards.entries(…)``."""
        call = LeaderboardCalls.entries_page(
            api_name, start_at=start_at, offset=offset, filter=filter, user_ids=user_ids, limit=limit,
            summary=False, after=None, before=None, fields=fields, user_fields=user_fields)
        async for page in self._client.pages(call):
            for entry in page.entries:
                yield entry

    async def get_entry(self, entry_id: Id, *, fields: Sequence[EntryField] = ENTRY_FIELDS,
                        user_fields: Sequence[UserField] = USER_FIELDS) -> LeaderboardEntry:
        """See ``Leaderboards.get_entry``."""
        return await self._client.send(LeaderboardCalls.get_entry(entry_id, fields, user_fields))

    async def delete_entry(self, entry_id: Id) -> None:
        """See ``Leaderboards.delete_entry``."""
        await self._client.send(LeaderboardCalls.delete(entry_id, "entry_id"))

    async def remove_all(self, api_name: str) -> None:
        """See ``Leaderboards.remove_all``."""
        await self._client.send(LeaderboardCalls.remove_all(api_name))

    async def delete(self, leaderboard_id: Id) -> None:
        """See ``Leaderboards.delete``."""
        await self._client.send(LeaderboardCalls.delete(leaderboard_id, "leaderboard_id"))
