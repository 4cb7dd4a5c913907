"""Challenges (graph-api.md A.1, docs/api.md; deprecated by Meta, still served), as ``qg.challenges.…``.

Each method is written once and builds its call; ``Challenges`` sends it, ``AsyncChallenges`` awaits it
(_group.py). Dates are given as Unix seconds (ints) and answered as ISO 8601 text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from questgraph.client._async_client import AsyncClient
from questgraph.client._base import Call, nested, params, success
from questgraph.client._client import Client
from questgraph.client._group import C, Group, endpoint, paged
from questgraph.client._models import (
    CHALLENGE_ENTRY_FIELDS,
    CHALLENGE_FIELDS,
    USER_FIELDS,
    Challenge,
    ChallengeEntry,
    ChallengeStartAt,
    EntryFilter,
    Id,
    Page,
    UserField,
    Visibility,
    id_str,
    page_parser,
)

_entry_page = page_parser(ChallengeEntry.from_json)


def _list(body: Any) -> list[Challenge]:
    return [Challenge.from_json(row) for row in body.get("data", [])]


def _fields(fields: Sequence[str]) -> str:
    return nested(fields, "leaderboard", "id")


class _Challenges(Group[C]):
    @endpoint
    def create(self, leaderboard_api_name: str, visibility: Visibility, *, title: str | None = None,
               description: str | None = None, start_date: int | None = None,
               end_date: int | None = None) -> Call[Challenge]:
        """Create a challenge on a board (start: now; end: start + 3 days by default). App token. Not retried
        (a repeat would make a second challenge)."""
        return Call("POST", f"/{self._client._require_app_id()}/challenges", params(
            leaderboard_api_name=leaderboard_api_name, creation_type="DEVELOPER_CREATED", visibility=visibility,
            title=title, description=description, start_date=start_date, end_date=end_date,
            fields=_fields(CHALLENGE_FIELDS),
        ), Challenge.from_json, safe=False)

    @endpoint
    def update(self, challenge_id: Id, *, visibility: Visibility | None = None, title: str | None = None,
               description: str | None = None, start_date: int | None = None,
               end_date: int | None = None) -> Call[None]:
        """Change a challenge (``POST /{challenge_id}``). App token. Safe to retry (it sets values)."""
        return Call("POST", f"/{id_str(challenge_id, 'challenge_id')}", params(
            visibility=visibility, title=title, description=description, start_date=start_date, end_date=end_date,
        ), success, safe=True)

    @endpoint
    def delete(self, challenge_id: Id) -> Call[None]:
        """Delete a challenge and its entries. App token. Not retried (a repeat would answer 404)."""
        return Call("DELETE", f"/{id_str(challenge_id, 'challenge_id')}", {}, success)

    @endpoint
    def get(self, challenge_id: Id, *, fields: Sequence[str] = CHALLENGE_FIELDS) -> Call[Challenge]:
        """One challenge (``GET /{challenge_id}``)."""
        return Call("GET", f"/{id_str(challenge_id, 'challenge_id')}", params(fields=_fields(fields)),
                    Challenge.from_json, safe=True)

    @endpoint
    def list(self, *, leaderboard_api_name: str | None = None, active: bool = True, past: bool = False,
             future: bool = False, fields: Sequence[str] = CHALLENGE_FIELDS) -> Call[list[Challenge]]:
        """The app's challenges: running ones by default, past and future ones when asked."""
        return Call("GET", f"/{self._client._require_app_id()}/challenges", params(
            leaderboard_api_name=leaderboard_api_name, include_active_challenges=active,
            include_past_challenges=past, include_future_challenges=future, fields=_fields(fields),
        ), _list, safe=True)

    @endpoint
    def entries_page(self, challenge_id: Id, *, start_at: ChallengeStartAt | None = None, offset: int | None = None,
                     filter: EntryFilter | None = None, user_ids: Sequence[Id] | None = None,
                     limit: int | None = None, after: str | None = None, before: str | None = None,
                     fields: Sequence[str] = CHALLENGE_ENTRY_FIELDS,
                     user_fields: Sequence[UserField] = USER_FIELDS) -> Call[Page[ChallengeEntry]]:
        """One page of a challenge's ranked entries; ``user_ids`` implies ``filter="USER_IDS"``; viewer
        options and ``FRIENDS`` need a user token."""
        if user_ids is not None and filter is None:
            filter = "USER_IDS"
        return Call("GET", f"/{id_str(challenge_id, 'challenge_id')}/entries", params(
            start_at=start_at, offset=offset, filter=filter,
            user_ids=None if user_ids is None else ",".join(id_str(u, "user_ids") for u in user_ids),
            limit=limit, after=after, before=before, fields=nested(fields, "user", ",".join(user_fields)),
        ), _entry_page, safe=True)

    @paged
    def entries(self, challenge_id: Id, *, start_at: ChallengeStartAt | None = None, offset: int | None = None,
                filter: EntryFilter | None = None, user_ids: Sequence[Id] | None = None, limit: int | None = None,
                fields: Sequence[str] = CHALLENGE_ENTRY_FIELDS,
                user_fields: Sequence[UserField] = USER_FIELDS) -> Call[Page[ChallengeEntry]]:
        """Every entry from ``start_at`` on, page by page (follows ``paging.next``)."""
        return _Challenges.entries_page.build(
            self, challenge_id, start_at=start_at, offset=offset, filter=filter, user_ids=user_ids, limit=limit,
            fields=fields, user_fields=user_fields)


class Challenges(_Challenges[Client]):
    """``client.challenges``: create, update, delete, get, list, entries (graph-api.md A.1)."""


class AsyncChallenges(_Challenges[AsyncClient]):
    """``AsyncClient.challenges``: the methods of ``Challenges``, awaited (``entries``: ``async for``)."""
