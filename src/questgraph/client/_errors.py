"""The client's one error tree, mapped from Graph's error envelope (D6) and its status/code table (D7).

::

    QuestGraphError                 anything this client raises
    ├── TransportError              no HTTP answer: connection refused or reset, DNS, TLS
    │   ├── ConnectionFailed        no connection to the host: nothing was sent (safe to repeat)
    │   └── RequestTimeout          the call's timeout ran out
    └── GraphError                  an HTTP answer with an error (the D6 envelope, or a non-JSON body)
        ├── AuthError               401, or code 190 / 104: no token, bad, expired or revoked token
        ├── PermissionDenied        403, code 200: wrong token kind, another app's object, policy
        │   └── NotEntitled         403 OCApiException: the user does not own the app
        ├── NotFound                404: unknown id, api_name or route (code 100, subcode 33)
        │   └── NotRanked           404 code 12074: CENTERED_ON_VIEWER without a viewer entry
        ├── InvalidParameter        400, code 100: a missing, malformed or out-of-range parameter
        ├── RateLimited             429, code 4 (transient)
        └── ServerError             5xx: code 1 (internal), code 2 (dependency down) (transient)

Every ``GraphError`` carries ``status``, ``code``, ``subcode``, ``type``, ``message``, ``fbtrace_id`` and
``is_transient``. The text of an exception is the server's message (which never echoes a secret, D7) and
the codes; it never holds a URL, a header or a parameter, so no token can leak through it.
"""

from __future__ import annotations

from typing import Any


class QuestGraphError(Exception):
    """Base of every error raised by the questgraph client."""


class TransportError(QuestGraphError):
    """The request got no HTTP answer (connection refused or reset, DNS failure, TLS error)."""


class ConnectionFailed(TransportError):
    """No connection could be made to the server (refused, DNS, unreachable): nothing of the request was
    sent, so repeating it is harmless. The message names the host and port, never the path's query."""


class RequestTimeout(TransportError):
    """The call's timeout ran out before an answer came."""


class GraphError(QuestGraphError):
    """An error answer of the Graph API (or the admin API, which uses the same envelope)."""

    def __init__(self, message: str, *, status: int, code: int | None = None, subcode: int | None = None,
                 type: str | None = None, fbtrace_id: str | None = None, is_transient: bool = False,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.subcode = subcode
        self.type = type
        self.fbtrace_id = fbtrace_id
        self.is_transient = is_transient
        self.retry_after = retry_after  # seconds, from a Retry-After header

    def __str__(self) -> str:
        codes = f"code {self.code}" + (f", subcode {self.subcode}" if self.subcode is not None else "")
        return f"{self.message} (HTTP {self.status}, {self.type or 'no type'}, {codes}, fbtrace_id {self.fbtrace_id})"

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(status={self.status}, code={self.code}, subcode={self.subcode}, "
                f"type={self.type!r}, message={self.message!r}, fbtrace_id={self.fbtrace_id!r})")


class AuthError(GraphError):
    """401 (or code 190/104): no token, or a token that is malformed, unknown, expired or revoked."""


class PermissionDenied(GraphError):
    """403: the token may not make this call (token kind, another app's data, write policy)."""


class NotEntitled(PermissionDenied):
    """403 OCApiException: the user is not entitled to the app."""


class NotFound(GraphError):
    """404: unknown object id, api_name or route."""


class NotRanked(NotFound):
    """404 code 12074: a CENTERED_ON_VIEWER read while the viewer has no entry (D20)."""


class InvalidParameter(GraphError):
    """400 code 100: a missing, malformed or out-of-range parameter; the message names it."""


class RateLimited(GraphError):
    """429 code 4: too many calls; transient."""


class ServerError(GraphError):
    """5xx: an internal error (code 1) or a dependency down (code 2); transient."""


_BY_STATUS: dict[int, type[GraphError]] = {
    400: InvalidParameter, 401: AuthError, 403: PermissionDenied, 404: NotFound, 429: RateLimited,
}


def error_from_envelope(status: int, body: Any, retry_after: float | None = None) -> GraphError:
    """The exception for an error answer: the D6 envelope's fields, its class from D7's table.

    Codes win over statuses where Graph is known to vary the status (190 has been seen as a 400).
    """
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return _class_for(status, None, None, None)(
            f"HTTP {status} without a Graph error body", status=status,
            is_transient=status >= 500 or status == 429, retry_after=retry_after)
    code = _int(error.get("code"))
    subcode = _int(error.get("error_subcode"))
    type_ = _text(error.get("type"))
    message = _text(error.get("message")) or f"HTTP {status}"
    trace = _text(error.get("fbtrace_id"))
    transient = bool(error.get("is_transient", False)) or status >= 500 or status == 429
    return _class_for(status, code, type_, subcode)(
        message, status=status, code=code, subcode=subcode, type=type_, fbtrace_id=trace,
        is_transient=transient, retry_after=retry_after)


def _class_for(status: int, code: int | None, type_: str | None, subcode: int | None) -> type[GraphError]:
    if code in (190, 104):
        return AuthError
    if code == 4:
        return RateLimited
    if code == 12074:
        return NotRanked
    if status == 403 and type_ == "OCApiException":
        return NotEntitled
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, GraphError)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
