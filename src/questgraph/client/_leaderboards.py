"""Leaderboards (graph-api.md §1, docs/api.md): every endpoint, as ``qg.leaderboards.…``.

Each method is written once and builds its call; ``Leaderboards`` sends it, ``AsyncLeaderboards`` awaits
it (_group.py). Which calls are repeated after a transient failure is said per method ("safe to retry").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from questgraph.client._async_client import AsyncClient
from questgraph.client._base import Call, nested, params, success
from questgraph.client._client import Client
from questgraph.client._errors import NotFound
from questgraph.client._group import C, Group, endpoint, paged
from questgraph.client._models import (
    ENTRY_FIELDS,
    LEADERBOARD_FIELDS,
    USER_FIELDS,
    EntriesPage,
    EntryField,
    EntryFilter,
    Id,
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
    opt_id,
    page_parser,
)

_entry_rows = page_parser(LeaderboardEntry.from_json)


def _page(body: Any) -> EntriesPage:
    page, summary = _entry_rows(body), body.get("summary")
    return EntriesPage(
        entries=page.data,
        total_count=int(summary["total_count"]) if isinstance(summary, dict) and "total_count" in summary else None,
        before=page.before, after=page.after, has_next=page.has_next, has_previous=page.has_previous,
        next_url=page.next_url)


def _boards(body: Any) -> list[Leaderboard]:
    return [Leaderboard.from_json(row) for row in body.get("data", [])]


class _Leaderboards(Group[C]):
    @endpoint
    def create_or_update(self, api_name: str, *, sort_order: SortOrder | None = None,
                         entry_write_policy: WritePolicy | None = None,
                         earliest_allowed_entry_time: int | None = None, latest_allowed_entry_time: int | None = None,
                         title_locale_map: Mapping[str, str] | None = None) -> Call[str]:
        """Create the board ``api_name`` or update it (upsert, D19); returns its id, the same every time.
        ``sort_order`` is required to create. App token. Safe to retry."""
        # An upsert by api_name (D19): a repeat leaves the same board and answers the same id.
        return Call("POST", f"/{self._client._require_app_id()}/leaderboards", params(
            api_name=api_name, sort_order=sort_order, entry_write_policy=entry_write_policy,
            earliest_allowed_entry_time=earliest_allowed_entry_time,
            latest_allowed_entry_time=latest_allowed_entry_time, title_locale_map=title_locale_map,
        ), lambda body: str(body["id"]), safe=True)

    @endpoint
    def submit_entry(self, api_name: str, score: int, *, user_id: Id | None = None, extra_data: bytes | None = None,
                     force_update: bool = False) -> Call[SubmitResult]:
        """Write a user's entry (D15, D16): ``user_id`` with an app token, none with a user token.
        ``did_update`` is False when the score is not better (unless ``force_update``). Not retried after
        a failure that may have applied it (a 5xx, a read timeout, a dropped connection)."""
        if isinstance(score, bool) or not isinstance(score, int):
            raise TypeError("score must be an int (a signed 64-bit integer, D13)")
        return Call("POST", "/leaderboard_submit_entry", params(
            api_name=api_name, score=score, user_id=opt_id(user_id, "user_id"),
            extra_data_base64=None if extra_data is None else encode_base64(extra_data),
            force_update=True if force_update else None,
        ), lambda body: SubmitResult(bool(body.get("success")), bool(body.get("did_update")),
                                     [str(i) for i in body.get("updated_challenge_ids", [])]),
            # Never repeated once it may have been applied. A keep-best repeat would leave the same state
            # but answer did_update=False for the client's own write (its first try made the score the
            # entry's, so the repeat is not strictly better), and the caller could not tell; Graph honours
            # no idempotency key that would let it. A forced repeat would also move the write time (D14).
            safe=False)

    @endpoint
    def list(self, *, fields: Sequence[LeaderboardField] = LEADERBOARD_FIELDS) -> Call[list[Leaderboard]]:
        """Every board of the client's app, with ``fields`` (all by default)."""
        return Call("GET", f"/{self._client._require_app_id()}/leaderboards", params(fields=",".join(fields)),
                    _boards, safe=True)

    @endpoint
    def get(self, api_name: str, *, fields: Sequence[LeaderboardField] = LEADERBOARD_FIELDS) -> Call[Leaderboard]:
        """One board's metadata by ``api_name``; ``NotFound`` if the app has no such board."""
        def first(body: Any) -> Leaderboard:
            boards = _boards(body)
            if not boards:
                raise NotFound(f"No leaderboard with api_name {api_name}", status=404, code=100)
            return boards[0]
        return Call("GET", f"/{self._client._require_app_id()}/leaderboards",
                    params(api_name=api_name, fields=",".join(fields)), first, safe=True)

    @endpoint
    def get_by_id(self, leaderboard_id: Id, *,
                  fields: Sequence[LeaderboardField] = LEADERBOARD_FIELDS) -> Call[Leaderboard]:
        """One board by id (``GET /{leaderboard_id}``)."""
        return Call("GET", f"/{id_str(leaderboard_id, 'leaderboard_id')}", params(fields=",".join(fields)),
                    Leaderboard.from_json, safe=True)

    @endpoint
    def entries_page(self, api_name: str, *, start_at: StartAt | None = None, offset: int | None = None,
                     filter: EntryFilter | None = None, user_ids: Sequence[Id] | None = None,
                     limit: int | None = None, summary: bool = False, after: str | None = None,
                     before: str | None = None, fields: Sequence[EntryField] = ENTRY_FIELDS,
                     user_fields: Sequence[UserField] = USER_FIELDS) -> Call[EntriesPage]:
        """One page of ranked entries (D20, D21). ``user_ids`` implies ``filter="USER_IDS"``; viewer
        options and ``FRIENDS`` need a user token (``client.as_user(token)``)."""
        if user_ids is not None and filter is None:
            filter = "USER_IDS"
        return Call("GET", "/leaderboard_entries", params(
            api_name=api_name, start_at=start_at, offset=offset, filter=filter,
            user_ids=None if user_ids is None else ",".join(id_str(u, "user_ids") for u in user_ids),
            limit=limit, summary=True if summary else None, after=after, before=before,
            fields=nested(fields, "user", ",".join(user_fields)),
        ), _page, safe=True)

    @paged
    def entries(self, api_name: str, *, start_at: StartAt | None = None, offset: int | None = None,
                filter: EntryFilter | None = None, user_ids: Sequence[Id] | None = None, limit: int | None = None,
                fields: Sequence[EntryField] = ENTRY_FIELDS,
                user_fields: Sequence[UserField] = USER_FIELDS) -> Call[EntriesPage]:
        """Every entry from ``start_at`` on, fetching pages of ``limit`` as it goes (follows ``paging.next``)."""
        return _Leaderboards.entries_page.build(
            self, api_name, start_at=start_at, offset=offset, filter=filter, user_ids=user_ids, limit=limit,
            fields=fields, user_fields=user_fields)

    @endpoint
    def get_entry(self, entry_id: Id, *, fields: Sequence[EntryField] = ENTRY_FIELDS,
                  user_fields: Sequence[UserField] = USER_FIELDS) -> Call[LeaderboardEntry]:
        """One entry by id (``GET /{entry_id}``)."""
        return Call("GET", f"/{id_str(entry_id, 'entry_id')}",
                    params(fields=nested(fields, "user", ",".join(user_fields))), LeaderboardEntry.from_json,
                    safe=True)

    @endpoint
    def remove_all(self, api_name: str) -> Call[None]:
        """Delete every entry of a board (cannot be undone). App token. Safe to retry."""
        # Emptying an empty board is harmless.
        return Call("POST", "/leaderboard_remove_all_entries", params(api_name=api_name), success, safe=True)

    # Deletes are not repeated: if the first try was applied, a repeat answers 404 for a delete that succeeded.
    @endpoint
    def delete_entry(self, entry_id: Id) -> Call[None]:
        """Delete one entry (``DELETE /{entry_id}``). Not retried."""
        return Call("DELETE", f"/{id_str(entry_id, 'entry_id')}", {}, success)

    @endpoint
    def delete(self, leaderboard_id: Id) -> Call[None]:
        """Delete a board and its entries (``DELETE /{leaderboard_id}``). App token. Not retried."""
        return Call("DELETE", f"/{id_str(leaderboard_id, 'leaderboard_id')}", {}, success)


class Leaderboards(_Leaderboards[Client]):
    """``client.leaderboards``: create/update, submit, metadata, entries, delete (graph-api.md §1)."""


class AsyncLeaderboards(_Leaderboards[AsyncClient]):
    """``AsyncClient.leaderboards``: the methods of ``Leaderboards``, awaited (``entries``: ``async for``)."""
