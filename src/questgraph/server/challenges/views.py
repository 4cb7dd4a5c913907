"""HTTP handlers of the challenge endpoints (graph-api.md A.1): parse, call the service, render."""

from __future__ import annotations

import base64
from typing import Any

from questgraph.server.challenges.records import Challenge
from questgraph.server.challenges.service import (
    CREATION_TYPES,
    FILTERS,
    MAX_TEXT,
    START_AT,
    START_AT_ALIASES,
    VISIBILITIES,
    ChallengeEntriesQuery,
    ChallengeService,
    iso_date,
    parse_date,
)
from questgraph.server.errors import InvalidParameter, MethodNotAllowed
from questgraph.server.graph.cursors import ENTRIES_PAGE, cursor_param, decode_rank_cursor, encode_rank_cursor
from questgraph.server.graph.fields import Field, NodeType, Selection
from questgraph.server.graph.params import Params
from questgraph.server.graph.request import GraphRequest, require_param
from questgraph.server.leaderboards.views import LEADERBOARD_NODE, USER_NODE


def _users(users: list[Any]) -> dict[str, Any]:
    return {"data": [USER_NODE.render(u, None) for u in users]}


# Rendered as (challenge id, ranked entry).
CHALLENGE_ENTRY_NODE = NodeType("ChallengeEntry", {
    "id": Field(lambda r: str(r[1].entry.id)),
    "challenge": Field(lambda r: {"id": str(r[0])}),
    "user": Field(lambda r: r[1].user, USER_NODE),
    "rank": Field(lambda r: r[1].rank),
    "score": Field(lambda r: r[1].entry.score),
    "timestamp": Field(lambda r: r[1].entry.timestamp),
    "extra_data": Field(lambda r: base64.b64encode(r[1].entry.extra_data).decode()),  # as the board's (D18)
})
# The ``entries`` field of a challenge: its top entries, each with its user, rank and score.
ENTRY_SUMMARY: Selection = [("id", None), ("user", None), ("rank", None), ("score", None)]

# Rendered as (service, challenge): the board and the participants are the service's to read.
CHALLENGE_NODE = NodeType("Challenge", {
    "id": Field(lambda s: str(s[1].id)),
    "title": Field(lambda s: s[1].title),
    "description": Field(lambda s: s[1].description),
    "start_date": Field(lambda s: iso_date(s[1].start_date)),
    "end_date": Field(lambda s: iso_date(s[1].end_date)),
    "leaderboard": Field(lambda s: (s[0].leaderboards, s[0].board_of(s[1])), LEADERBOARD_NODE),
    "creation_type": Field(lambda s: s[1].creation_type),
    "visibility": Field(lambda s: s[1].visibility),
    "invited_users": Field(lambda s: {"data": []}),  # no S2S call invites (challenges/service.py)
    "participants": Field(lambda s: _users(s[0].participants(s[1]))),
    "entries": Field(lambda s: {"data": [CHALLENGE_ENTRY_NODE.render((s[1].id, r), ENTRY_SUMMARY)
                                         for r in s[0].top_entries(s[1])]}),
})
# The create example's answer, when no fields are asked for (D-CH).
CREATED = [("id", None), ("title", None), ("start_date", None), ("end_date", None), ("leaderboard", None)]
# GET /{challenge_id}'s example answer.
GOT = [("id", None), ("title", None), ("description", None), ("leaderboard", None)]


def date_param(params: Params, key: str) -> int | None:
    value = params.get(key)
    return None if value is None or not value.strip() else parse_date(key, value)


def text_param(params: Params, key: str) -> str | None:
    value = params.text(key, max_length=MAX_TEXT)
    return None if value is None else value.strip()


def _render(service: ChallengeService, request: GraphRequest, challenge: Challenge,
            default: list[tuple[str, Any]]) -> dict[str, Any]:
    return CHALLENGE_NODE.render((service, challenge), request.fields(CHALLENGE_NODE) or default)


def challenges_create(service: ChallengeService, request: GraphRequest) -> dict[str, Any]:
    params = request.params
    api_name = require_param(request, "leaderboard_api_name")
    creation_type = params.enum("creation_type", CREATION_TYPES)
    visibility = params.enum("visibility", VISIBILITIES)
    if creation_type is None:
        raise InvalidParameter("The parameter creation_type is required")
    if visibility is None:
        raise InvalidParameter("The parameter visibility is required")
    request.fields(CHALLENGE_NODE)  # a bad selection is refused before anything is made
    challenge, _ = service.create(
        request.caller, request.path_id("app_id"), api_name, creation_type, visibility,
        text_param(params, "title"), text_param(params, "description"), date_param(params, "start_date"),
        date_param(params, "end_date"),
    )
    return _render(service, request, challenge, CREATED)


def challenges(service: ChallengeService, request: GraphRequest) -> dict[str, Any]:
    params = request.params
    selection = request.fields(CHALLENGE_NODE)
    api_name = params.get("leaderboard_api_name")
    found = service.challenges(
        request.caller, request.path_id("app_id"), api_name.strip() if api_name and api_name.strip() else None,
        active=params.boolean("include_active_challenges", True),
        past=params.boolean("include_past_challenges"),
        future=params.boolean("include_future_challenges"),
    )
    return {"data": [CHALLENGE_NODE.render((service, c), selection) for c in found]}


def challenge_update(service: ChallengeService, request: GraphRequest) -> dict[str, Any]:
    """``POST /{id}``: only challenges take it; any other object keeps the 405 it always had."""
    challenge_id = request.path_id("challenge_id")
    if service.ids.object_kind(challenge_id) != "challenge":
        raise MethodNotAllowed("Unsupported post request.")
    params = request.params
    request.fields(CHALLENGE_NODE)
    service.update(
        request.caller, challenge_id, visibility=params.enum("visibility", VISIBILITIES),
        title=text_param(params, "title"), description=text_param(params, "description"),
        start_date=date_param(params, "start_date"), end_date=date_param(params, "end_date"),
    )
    return {"success": True}


def challenge_get(service: ChallengeService, request: GraphRequest, challenge_id: int) -> dict[str, Any]:
    selection = request.fields(CHALLENGE_NODE)
    return _render(service, request, service.get(request.caller, challenge_id), selection or GOT)


def challenge_delete(service: ChallengeService, request: GraphRequest, challenge_id: int) -> dict[str, Any]:
    service.delete(request.caller, challenge_id)
    return {"success": True}


def challenge_entries(service: ChallengeService, request: GraphRequest) -> dict[str, Any]:
    params = request.params
    selection = request.fields(CHALLENGE_ENTRY_NODE)
    challenge_id = request.path_id("challenge_id")
    start_at = params.enum("start_at", START_AT, default="TOP", aliases=START_AT_ALIASES) or "TOP"
    query = ChallengeEntriesQuery(
        filter=params.enum("filter", FILTERS, default="NONE") or "NONE",
        user_ids=tuple(params.id_list("user_ids")),
        start_at=start_at,
        offset=(params.int64("offset", required=True, minimum=0) or 0) if start_at == "OFFSET" else 0,
        limit=ENTRIES_PAGE.limit(params),
        after=cursor_param(params, "after", decode_rank_cursor),
        before=cursor_param(params, "before", decode_rank_cursor),
    )
    if query.filter == "USER_IDS" and "user_ids" not in params:
        raise InvalidParameter("The parameter user_ids is required with filter=USER_IDS")
    page = service.entries(request.caller, challenge_id, query)
    body: dict[str, Any] = {"data": [CHALLENGE_ENTRY_NODE.render((challenge_id, r), selection) for r in page.rows]}
    if params.boolean("summary"):
        body["summary"] = {"total_count": page.total_count}
    if page.keys:
        body["paging"] = request.paging(encode_rank_cursor(page.keys[0]), encode_rank_cursor(page.keys[-1]),
                                        page.has_previous, page.has_next)
    return body


