"""The one rooted tree of errors the server can answer with (D6, D7).

Feature code raises these; the Graph layer turns them into the JSON envelope in one place
(``graph.responses.error_response``). Each class carries its D7 row: HTTP status, type and code.
"""

from __future__ import annotations


class GraphError(Exception):
    """Base of every error that reaches a client as a Graph error envelope."""

    status = 500
    type = "OCApiException"
    code = 1
    subcode: int | None = None
    is_transient: bool = False

    def __init__(self, message: str, *, code: int | None = None, subcode: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if subcode is not None:
            self.subcode = subcode


class MissingToken(GraphError):
    status, type, code = 401, "OAuthException", 104


class InvalidToken(GraphError):
    """Token malformed, unknown, expired, revoked, or its app secret rotated."""

    status, type, code = 401, "OAuthException", 190


class Forbidden(GraphError):
    """Wrong token kind, token of another app, or the object's policy forbids the call."""

    status, type, code = 403, "OAuthException", 200


class NotEntitled(GraphError):
    status, type, code = 403, "OCApiException", 200


class InvalidParameter(GraphError):
    status, type, code = 400, "OCApiException", 100


class NotFound(GraphError):
    status, type, code = 404, "GraphMethodException", 100
    subcode: int | None = 33


class MethodNotAllowed(GraphError):
    status, type, code = 405, "GraphMethodException", 100


class RateLimited(GraphError):
    status, type, code, is_transient = 429, "OCApiException", 4, True


class InternalError(GraphError):
    status, type, code, is_transient = 500, "OCApiException", 1, True


class Unavailable(GraphError):
    """A dependency (database, rank index) is down or not ready yet."""

    status, type, code, is_transient = 503, "OCApiException", 2, True


class NotRanked(NotFound):
    """A CENTERED_ON_VIEWER read while the viewer has no entry (D20; the SDK's error 12074)."""

    code, subcode = 12074, None
