"""What a Graph handler receives: merged parameters, path ids, the caller, and the public base URL."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from questgraph.server.auth.callers import AnyCaller, Caller, LinkCaller
from questgraph.server.errors import Forbidden, InvalidParameter, MissingToken, NotFound
from questgraph.server.graph.fields import NodeType, Selection, parse_fields
from questgraph.server.graph.params import Params, parse_id

# Parameters that position a page; a paging URL replaces them with its own cursor (D21).
_POSITION_PARAMS = {"after", "before", "method"}


@dataclass
class GraphRequest:
    method: str
    path: str
    params: Params
    path_params: dict[str, str]
    base_url: str
    token: str | None = None
    caller_: AnyCaller | None = None
    files: dict[str, Any] = field(default_factory=dict)
    fault: str | None = None  # the fault rule injected into this request, for the inspector (server/faults/)

    @property
    def any_caller(self) -> AnyCaller:
        """The caller of any kind, SSO links included: only ``/me`` takes those."""
        if self.caller_ is None:
            raise MissingToken("An active access token must be used to query information about the current user.")
        return self.caller_

    @property
    def caller(self) -> Caller:
        """An app or user caller; an SSO oauth_token is refused here (D33: it is for /me only)."""
        caller = self.any_caller
        if isinstance(caller, LinkCaller):
            raise Forbidden("An account-linking oauth_token can only be used with /me")
        return caller

    def path_id(self, name: str) -> int:
        """An id of the path; a number too large to be any object's id is an unknown object (404, D9)."""
        value = self.path_params[name]
        try:
            return parse_id(name, value, what="id")
        except InvalidParameter:
            raise NotFound(
                f"Unsupported {self.method.lower()} request. Object with ID '{value[:64]}' does not exist, "
                "cannot be loaded due to missing permissions, or does not support this operation."
            ) from None

    def fields(self, node: NodeType) -> Selection | None:
        """The validated ``fields`` selection (D5), or None when the request has none."""
        text = self.params.get("fields")
        if text is None or not text.strip():
            return None
        selection = parse_fields(text)
        node.validate(selection)
        return selection

    def paging(self, first: str, last: str, has_previous: bool, has_next: bool) -> dict[str, Any]:
        """The ``paging`` object of a page whose rows span cursors ``first``..``last`` (D21): opaque cursors,
        and absolute ``previous``/``next`` links only where such a page exists."""
        paging: dict[str, Any] = {"cursors": {"before": first, "after": last}}
        if has_previous:
            paging["previous"] = self.page_url("before", first)
        if has_next:
            paging["next"] = self.page_url("after", last)
        return paging

    def page_url(self, cursor_name: str, cursor: str) -> str:
        """This request again, every parameter and the token included, at another cursor (D21)."""
        # Every value of every key, in order: a repeated list (user_ids=1&user_ids=2) stays whole, and a key
        # given twice still resolves to the same last value (D2). The token once, whatever its source (D4).
        pairs = [(k, v) for k, _ in self.params.items() if k not in _POSITION_PARAMS and k != "access_token"
                 for v in self.params.get_all(k)]
        if self.token is not None:
            pairs.append(("access_token", self.token))
        pairs.append((cursor_name, cursor))
        return f"{self.base_url}{self.path}?{urlencode(pairs)}"


def require_param(request: GraphRequest, key: str) -> str:
    value = request.params.get(key)
    if value is None or not value.strip():
        raise InvalidParameter(f"The parameter {key} is required")
    return value.strip()
