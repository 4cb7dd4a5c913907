"""HTTP handlers of the leaderboard endpoints (graph-api.md §1): parse, call the service, render."""

from __future__ import annotations

import base64
import json
from typing import Any

from questgraph.server.errors import InvalidParameter
from questgraph.server.graph.fields import Field, NodeType
from questgraph.server.graph.objects import ObjectKinds
from questgraph.server.graph.params import parse_id
from questgraph.server.graph.request import GraphRequest, require_param
from questgraph.server.graph.routing import Router
from questgraph.server.identity.records import User
from questgraph.server.leaderboards.records import Leaderboard
from questgraph.server.leaderboards.service import (
    DEFAULT_LIMIT,
    FILTERS,
    MAX_LIMIT,
    SORT_ORDERS,
    START_AT,
    START_AT_ALIASES,
    WRITE_POLICIES,
    EntriesQuery,
    LeaderboardService,
    RankedEntry,
    decode_extra_data,
)
from questgraph.server.ranking.keys import decode_cursor, encode_cursor

USER_NODE = NodeType("User", {
    "id": Field(lambda u: str(u.id)),
    "alias": Field(lambda u: u.alias),
    "display_name": Field(lambda u: u.display_name),
    "profile_url": Field(lambda u: u.profile_url),
})


def _title(board: Leaderboard) -> str | None:
    if not board.title_locale_map:
        return None
    titles: dict[str, str] = json.loads(board.title_locale_map)
    return titles.get("en_US") or next(iter(titles.values()), None)


def leaderboard_node(service: LeaderboardService) -> NodeType:
    return NodeType("Leaderboard", {
        "id": Field(lambda b: str(b.id)),
        "api_name": Field(lambda b: b.api_name),
        "sort_order": Field(lambda b: b.sort_order),
        "entry_write_policy": Field(lambda b: b.entry_write_policy),
        "entry_count": Field(service.entry_count),
        "earliest_allowed_entry_time": Field(lambda b: b.earliest_allowed_entry_time),
        "latest_allowed_entry_time": Field(lambda b: b.latest_allowed_entry_time),
        "title": Field(_title),
        "title_locale_map": Field(lambda b: json.loads(b.title_locale_map) if b.title_locale_map else None),
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


def register(router: Router, objects: ObjectKinds, service: LeaderboardService) -> None:
    board_node = leaderboard_node(service)

    def create_or_update(request: GraphRequest) -> dict[str, Any]:
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

    def list_boards(request: GraphRequest) -> dict[str, Any]:
        selection = request.fields(board_node)
        api_name = request.params.get("api_name")
        boards = service.boards(request.caller, request.path_id("app_id"), api_name.strip() if api_name else None)
        return {"data": [board_node.render(b, selection) for b in boards]}

    def submit_entry(request: GraphRequest) -> dict[str, Any]:
        params = request.params
        api_name = require_param(request, "api_name")
        score = params.int64("score", required=True)
        assert score is not None
        extra = decode_extra_data(params.get("extra_data_base64"))
        force = params.boolean("force_update")
        user_id = params.get("user_id")
        did_update = service.submit(
            request.caller, api_name, score, extra, force,
            None if user_id is None or user_id == "" else parse_id("user_id", user_id),
        )
        return {"success": True, "did_update": did_update, "updated_challenge_ids": []}  # D15

    def entries(request: GraphRequest) -> dict[str, Any]:
        params = request.params
        selection = request.fields(ENTRY_NODE)
        start_at = params.enum("start_at", START_AT, default="TOP", aliases=START_AT_ALIASES)
        offset = 0
        if start_at == "OFFSET":
            offset = params.int64("offset", required=True, minimum=0) or 0
        limit = params.int64("limit", minimum=0)
        query = EntriesQuery(
            api_name=require_param(request, "api_name"),
            filter=params.enum("filter", FILTERS, default="NONE") or "NONE",
            user_ids=params.id_list("user_ids"),
            start_at=start_at or "TOP",
            offset=offset,
            limit=DEFAULT_LIMIT if limit is None else min(limit, MAX_LIMIT),
            after=_cursor(request, "after"),
            before=_cursor(request, "before"),
        )
        if query.filter == "USER_IDS" and "user_ids" not in params:
            raise InvalidParameter("The parameter user_ids is required with filter=USER_IDS")
        page = service.entries(request.caller, query)
        body: dict[str, Any] = {"data": [ENTRY_NODE.render(r, selection) for r in page.rows]}
        if params.boolean("summary"):
            body["summary"] = {"total_count": page.total_count}
        if page.keys:
            body["paging"] = request.paging(encode_cursor(page.keys[0]), encode_cursor(page.keys[-1]),
                                            page.has_previous, page.has_next)
        return body

    def remove_all(request: GraphRequest) -> dict[str, Any]:
        service.remove_all_entries(request.caller, require_param(request, "api_name"))
        return {"success": True}

    def get_board(request: GraphRequest, board_id: int) -> dict[str, Any]:
        selection = request.fields(board_node)
        return board_node.render(service.board_by_id(request.caller, board_id), selection)

    def delete_board(request: GraphRequest, board_id: int) -> dict[str, Any]:
        service.delete_board(request.caller, board_id)
        return {"success": True}

    def get_entry(request: GraphRequest, entry_id: int) -> dict[str, Any]:
        selection = request.fields(ENTRY_NODE)
        return ENTRY_NODE.render(service.entry(request.caller, entry_id)[1], selection)

    def delete_entry(request: GraphRequest, entry_id: int) -> dict[str, Any]:
        service.delete_entry(request.caller, entry_id)
        return {"success": True}

    router.add("POST", "/{app_id}/leaderboards", create_or_update)
    router.add("GET", "/{app_id}/leaderboards", list_boards)
    router.add("POST", "/leaderboard_submit_entry", submit_entry)
    router.add("GET", "/leaderboard_entries", entries)
    router.add("POST", "/leaderboard_remove_all_entries", remove_all)
    objects.register("leaderboard", get=get_board, delete=delete_board)
    objects.register("entry", get=get_entry, delete=delete_entry)


def _cursor(request: GraphRequest, name: str) -> int | None:
    value = request.params.get(name)
    if value is None or value == "":
        return None
    key = decode_cursor(value.strip())
    if key is None:
        raise InvalidParameter(f"Param {name} is not a valid cursor")
    return key
