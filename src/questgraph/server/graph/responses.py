"""The one place that writes Graph responses: JSON bodies and the error envelope (D6)."""

from __future__ import annotations

import json
import os
import string
from typing import Any

from starlette.responses import Response

from questgraph.server.errors import GraphError

_TRACE_ALPHABET = string.ascii_letters + string.digits
_TRACE_TABLE = bytes(ord(_TRACE_ALPHABET[n % len(_TRACE_ALPHABET)]) for n in range(256))


def new_trace_id() -> str:
    """23 characters, like Meta's fbtrace_id (§0.7). Random bytes mapped onto letters and digits: one call
    per request, so it must be cheap; a trace id correlates logs and is no secret, so the slight bias of
    256 onto 62 does not matter."""
    return os.urandom(23).translate(_TRACE_TABLE).decode("ascii")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def error_body(error: GraphError, trace_id: str) -> dict[str, Any]:
    envelope: dict[str, Any] = {"message": error.message, "type": error.type, "code": error.code}
    if error.subcode is not None:
        envelope["error_subcode"] = error.subcode
    envelope["is_transient"] = error.is_transient
    envelope["error_data"] = {}
    envelope["fbtrace_id"] = trace_id
    return {"error": envelope}


def error_response(error: GraphError, trace_id: str | None = None) -> Response:
    trace_id = trace_id or new_trace_id()
    headers = {"x-fb-trace-id": trace_id}
    if error.status == 405:
        headers["allow"] = "GET, POST, DELETE"
    if error.status == 401:
        headers["www-authenticate"] = 'OAuth "Facebook Platform" "invalid_token"'
    return json_response(error_body(error, trace_id), error.status, headers)
