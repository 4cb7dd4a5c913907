"""HTTP handlers of the user endpoints (graph-api.md §4): ``GET /{user_id}``, ``GET /me`` and
``POST /user_nonce_validate``; and the control-plane side of the device SDK (minting user proof nonces)."""

from __future__ import annotations

from typing import Any

from questgraph.server.auth.callers import UserCaller
from questgraph.server.graph.fields import Field, NodeType
from questgraph.server.graph.params import parse_id
from questgraph.server.graph.request import GraphRequest, require_param
from questgraph.server.users.fields import presence_fields
from questgraph.server.users.service import LinkedPerson, ShownUser, UserService

USER_NODE = NodeType("User", {
    "id": Field(lambda s: str(s.user.id)),
    "alias": Field(lambda s: s.user.alias),
    "display_name": Field(lambda s: s.user.display_name),
    "profile_url": Field(lambda s: s.user.profile_url),
    "org_scoped_id": Field(lambda s: None if s.org_scoped_id is None else str(s.org_scoped_id)),
    **presence_fields(lambda s: s.user.profile_url),
})
# With an SSO oauth_token only these two exist: any other field is the D5 "nonexisting field" 400 (D33).
LINKED_NODE = NodeType("User", {
    "id": Field(lambda p: str(p.org_scoped_id)),
    "alias": Field(lambda p: p.alias),
})
DEFAULT_FIELDS: list[tuple[str, Any]] = [("id", None), ("alias", None)]  # §4.3's response shape


def render_user(request: GraphRequest, shown: ShownUser | LinkedPerson) -> dict[str, Any]:
    node = LINKED_NODE if isinstance(shown, LinkedPerson) else USER_NODE
    selection = request.fields(node)
    return node.render(shown, selection or DEFAULT_FIELDS)


def user_get(service: UserService, request: GraphRequest, user_id: int) -> dict[str, Any]:
    request.fields(USER_NODE)  # an unknown field is a 400 before any lookup (D5)
    return render_user(request, service.user_node(request.caller, user_id))


def me(service: UserService, request: GraphRequest) -> dict[str, Any]:
    caller = request.any_caller  # the one Graph call an SSO oauth_token may make (D33)
    if isinstance(caller, UserCaller) and service.me_override is not None:
        overridden = service.me_override(request, caller.user)  # a federated user's node (A.2)
        if overridden is not None:
            return overridden
    return render_user(request, service.me(caller))


def user_nonce_validate(service: UserService, request: GraphRequest) -> dict[str, Any]:
    caller = request.caller
    nonce = require_param(request, "nonce")
    user_id = parse_id("user_id", require_param(request, "user_id"))
    return {"is_valid": service.validate_nonce(caller, nonce, user_id)}  # D8: a "no" is a 200
