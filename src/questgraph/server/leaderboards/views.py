"""HTTP handlers of the leaderboard endpoints (graph-api.md §1): parse, call the service, render."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from questgraph.server.errors import InvalidParameter
from questgraph.server.graph.cursors import ENTRIES_PAGE, cursor_param, decode_rank_cursor, encode_rank_cursor
from questgraph.server.graph.fields import Field, NodeType, Selection
from questgraph.server.graph.params import parse_id
from questgraph.server.graph.request import GraphRequest, require_param
from questgraph.server.identity.records import User
from questgraph.server.leaderboards.records import IndexedEntry, Leaderboard
from questgraph.server.leaderboards.service import (
    FILTERS,
    SORT_ORDERS,
    START_AT,
    START_AT_ALIASES,
    WRITE_POLICIES,
    EntriesPage,
    EntriesQuery,
    LeaderboardService,
    RankedEntry,
    Submit,
    decode_extra_data,
)
from questgraph.server.users.fields import presence_fields

USER_NODE = NodeType("User", {
    "id": Field(lambda u: str(u.id)),
    "alias": Field(lambda u: u.alias),
    "display_name": Field(lambda u: u.display_name),
    "profile_url": Field(lambda u: u.profile_url),
    **presence_fields(lambda u: u.profile_url),
})


def _title(board: Leaderboard) -> str | None:
    if not board.title_locale_map:
        return None
    titles: dict[str, str] = json.loads(board.title_locale_map)
    return titles.get("en_US") or next(iter(titles.values()), None)


# Rendered as (service, board): the entry count is the service's (the rank index), the rest the board's.
LEADERBOARD_NODE = NodeType("Leaderboard", {
    "id": Field(lambda s: str(s[1].id)),
    "api_name": Field(lambda s: s[1].api_name),
    "sort_order": Field(lambda s: s[1].sort_order),
    "entry_write_policy": Field(lambda s: s[1].entry_write_policy),
    "entry_count": Field(lambda s: s[0].entry_count(s[1])),
    "earliest_allowed_entry_time": Field(lambda s: s[1].earliest_allowed_entry_time),
    "latest_allowed_entry_time": Field(lambda s: s[1].latest_allowed_entry_time),
    "title": Field(lambda s: _title(s[1])),
    "title_locale_map": Field(lambda s: json.loads(s[1].title_locale_map) if s[1].title_locale_map else None),
})


def _user(ranked: RankedEntry) -> User:
    return ranked.user


ENTRY_NODE = NodeType("LeaderboardEntry", {
    "id": Field(lambda r: str(r.entry.id)),
    "user": Field(_user, USER_NODE),
    "rank": Field(lambda r: r.rank),
    "score": Field(lambda r: r.entry.score),
    "timestamp": Field(lambda r: r.entry.timestamp),
    "extra_data_base64": Field(lambda r: base64.b64encode(r.entry.extra_data).decode()),  # standard (D18)
})


# A page answered from the rank index alone (IndexedEntry): the fields it can render are the ones it needs
# no rows for (``rows_needed``); its user is rendered from the same tuple.
USER_ID_NODE = NodeType("User", {"id": Field(lambda r: str(r.user_id))})
INDEXED_ENTRY_NODE = NodeType("LeaderboardEntry", {
    "id": Field(lambda r: str(r.id)),
    "user": Field(lambda r: r, USER_ID_NODE),
    "rank": Field(lambda r: r.rank),
    "score": Field(lambda r: r.score),
    "timestamp": Field(lambda r: r.written_us // 1_000_000),
})


def rows_needed(selection: Selection | None) -> bool:
    """Whether the fields asked need the entries' rows (extra data, user profiles), not just the index."""
    for name, sub in selection or ():
        if name not in INDEXED_ENTRY_NODE.fields:
            return True
        if name == "user" and any(field not in USER_ID_NODE.fields for field, _ in sub or ()):
            return True
    return False


def leaderboards_create_or_update(service: LeaderboardService, request: GraphRequest) -> dict[str, Any]:
    params = request.params
    board = service.upsert(
        request.caller,
        request.path_id("app_id"),
        require_param(request, "api_name"),
        sort_order=params.enum("sort_order", SORT_ORDERS),
        entry_write_policy=params.enum("entry_write_policy", WRITE_POLICIES),
        earliest=params.int64("earliest_allowed_entry_time", minimum=0),
        latest=params.int64("latest_allowed_entry_time", minimum=0),
        title_locale_map=params.text("title_locale_map", max_length=16384),
    )
    return {"id": str(board.id)}


def leaderboards(service: LeaderboardService, request: GraphRequest) -> dict[str, Any]:
    selection = request.fields(LEADERBOARD_NODE)
    api_name = request.params.get("api_name")
    boards = service.boards(request.caller, request.path_id("app_id"), api_name.strip() if api_name else None)
    return {"data": [LEADERBOARD_NODE.render((service, b), selection) for b in boards]}


def leaderboard_submit_entry(service: LeaderboardService, request: GraphRequest) -> dict[str, Any]:
    submit = submit_of(request)
    did_update, challenge_ids = service.submit_with_challenges(
        submit.caller, submit.api_name, submit.score, submit.extra_data, submit.force_update, submit.user_id)
    return submit_answer(did_update, challenge_ids)


def submit_of(request: GraphRequest) -> Submit:
    """A submit's parameters, checked in the order the SDK's errors come (and its caller)."""
    params = request.params
    api_name = require_param(request, "api_name")
    score = params.int64("score", required=True)
    assert score is not None
    extra = decode_extra_data(params.get("extra_data_base64"))
    force = params.boolean("force_update")
    user_id = params.get("user_id")
    return Submit(request.caller, api_name, score, extra, force,
                  None if user_id is None or user_id == "" else parse_id("user_id", user_id))


def submit_answer(did_update: bool, challenge_ids: Sequence[int] = ()) -> dict[str, Any]:
    return {"success": True, "did_update": did_update,
            "updated_challenge_ids": [str(i) for i in challenge_ids]}  # D15


def leaderboard_entries(service: LeaderboardService, request: GraphRequest) -> dict[str, Any]:
    selection, query = entries_query(request)
    return entries_answer(request, selection, service.entries(request.caller, query))


def entries_query(request: GraphRequest) -> tuple[Selection | None, EntriesQuery]:
    """A page read's fields and query, checked in the order the SDK's errors come."""
    params = request.params
    selection = request.fields(ENTRY_NODE)
    start_at = params.enum("start_at", START_AT, default="TOP", aliases=START_AT_ALIASES)
    offset = 0
    if start_at == "OFFSET":
        offset = params.int64("offset", required=True, minimum=0) or 0
    limit = ENTRIES_PAGE.limit(params)
    query = EntriesQuery(
        api_name=require_param(request, "api_name"),
        filter=params.enum("filter", FILTERS, default="NONE") or "NONE",
        user_ids=params.id_list("user_ids"),
        start_at=start_at or "TOP",
        offset=offset,
        limit=limit,
        after=cursor_param(params, "after", decode_rank_cursor),
        before=cursor_param(params, "before", decode_rank_cursor),
        rows_needed=rows_needed(selection),
    )
    if query.filter == "USER_IDS" and "user_ids" not in params:
        raise InvalidParameter("The parameter user_ids is required with filter=USER_IDS")
    return selection, query


def entries_answer(request: GraphRequest, selection: Selection | None, page: EntriesPage) -> dict[str, Any]:
    indexed = bool(page.rows) and isinstance(page.rows[0], IndexedEntry)
    render = (INDEXED_ENTRY_NODE if indexed else ENTRY_NODE).renderer(selection)
    body: dict[str, Any] = {"data": [render(r) for r in page.rows]}
    if request.params.boolean("summary"):
        body["summary"] = {"total_count": page.total_count}
    if page.keys:
        body["paging"] = request.paging(encode_rank_cursor(page.keys[0]), encode_rank_cursor(page.keys[-1]),
                                        page.has_previous, page.has_next)
    return body


def leaderboard_remove_all_entries(service: LeaderboardService, request: GraphRequest) -> dict[str, Any]:
    service.remove_all_entries(request.caller, require_param(request, "api_name"))
    return {"success": True}


def leaderboard_get(service: LeaderboardService, request: GraphRequest, board_id: int) -> dict[str, Any]:
    selection = request.fields(LEADERBOARD_NODE)
    return LEADERBOARD_NODE.render((service, service.board_by_id(request.caller, board_id)), selection)


def leaderboard_delete(service: LeaderboardService, request: GraphRequest, board_id: int) -> dict[str, Any]:
    service.delete_board(request.caller, board_id)
    return {"success": True}


def leaderboard_entry_get(service: LeaderboardService, request: GraphRequest, entry_id: int) -> dict[str, Any]:
    selection = request.fields(ENTRY_NODE)
    return ENTRY_NODE.render(service.entry(request.caller, entry_id)[1], selection)


def leaderboard_entry_delete(service: LeaderboardService, request: GraphRequest, entry_id: int) -> dict[str, Any]:
    service.delete_entry(request.caller, entry_id)
    return {"success": True}
