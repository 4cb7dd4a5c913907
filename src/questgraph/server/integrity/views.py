"""HTTP handlers of platform integrity (graph-api.md A.4): attestation verification and device bans."""

from __future__ import annotations

import datetime
from typing import Any

from questgraph.server.errors import InvalidParameter
from questgraph.server.graph.cursors import cursor_param, decode_ban_cursor, encode_ban_cursor
from questgraph.server.graph.params import parse_int
from questgraph.server.graph.request import GraphRequest, require_param
from questgraph.server.integrity.service import BAD_MINUTES, BAN_IDS_PAGE, MAX_BAN_MINUTES, IntegrityService


def verify(service: IntegrityService, request: GraphRequest) -> dict[str, Any]:
    verdict = service.verify(request.caller, require_param(request, "token"))
    row: dict[str, Any] = {"message": verdict.message}
    if verdict.claims is not None:
        row["claims"] = verdict.claims
    return {"data": [row]}  # a refused token is a 200 too (A.4)


def _minutes(request: GraphRequest) -> int | None:
    value = request.params.get("remaining_time_in_minute")
    if value is None or not value.strip():
        return None
    try:
        return parse_int("remaining_time_in_minute", value, minimum=0, maximum=MAX_BAN_MINUTES)
    except InvalidParameter:
        raise InvalidParameter(BAD_MINUTES, code=1, subcode=1614028) from None


def _is_banned(request: GraphRequest) -> bool:
    require_param(request, "is_banned")  # always required, banning or lifting (A.4)
    return request.params.boolean("is_banned")


def _ids(request: GraphRequest) -> tuple[str | None, str | None]:
    unique_id = request.params.get("unique_id")
    ban_id = request.params.get("ban_id")
    return (unique_id.strip() if unique_id else None), (ban_id.strip() if ban_id else None)


def device_ban(service: IntegrityService, request: GraphRequest) -> dict[str, Any]:
    unique_id, ban_id = _ids(request)
    is_banned = _is_banned(request)
    ban = service.set_ban(request.caller, unique_id, ban_id, is_banned, _minutes(request))
    return {"message": "Success", "ban_id": ban}


def device_ban_status(service: IntegrityService, request: GraphRequest) -> dict[str, Any]:
    unique_id, ban_id = _ids(request)
    status = service.ban_status(request.caller, unique_id, ban_id)
    return {"data": [{"message": "Success", "is_banned": status.is_banned,
                      "remaining_time_in_minute": status.remaining_time_in_minute}]}


def device_ban_ids(service: IntegrityService, request: GraphRequest) -> dict[str, Any]:
    params = request.params
    limit = params.int64("limit", minimum=0)
    page = service.ban_ids(request.caller, BAN_IDS_PAGE if limit is None else min(limit, BAN_IDS_PAGE),
                           cursor_param(params, "after", decode_ban_cursor),
                           cursor_param(params, "before", decode_ban_cursor))
    body: dict[str, Any] = {"data": [{"message": "Success", "all_ban_ids": [
        {"ban_id": b.ban_id, "creation_date": _date(b.created_at)} for b in page.bans]}]}
    if page.bans:
        body["paging"] = request.paging(encode_ban_cursor(page.bans[0].id), encode_ban_cursor(page.bans[-1].id),
                                        page.has_previous, page.has_next)
    return body


def _date(unix_seconds: int) -> str:
    return datetime.datetime.fromtimestamp(unix_seconds, datetime.UTC).strftime("%Y-%m-%d")
