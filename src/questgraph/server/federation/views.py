"""HTTP handlers of the federated-user endpoints (graph-api.md A.2): parse, call the service, render."""

from __future__ import annotations

from typing import Any

from questgraph.server.federation.records import FederatedUser
from questgraph.server.federation.service import FederationService
from questgraph.server.graph.cursors import FEDERATED_PAGE, cursor_param, encode_json_cursor, json_cursor_decoder
from questgraph.server.graph.fields import Field, NodeType
from questgraph.server.graph.request import GraphRequest
from questgraph.server.identity.records import User

FEDERATED_USER_NODE = NodeType("FederatedUser", {
    "id": Field(lambda u: str(u.id)),
    "persistent_id": Field(lambda u: u.persistent_id),
    "unique_name": Field(lambda u: u.unique_name),
    "display_name": Field(lambda u: u.display_name),
})
# Without ``fields``, every field: the response tables of A.2 list the four.
ALL_FIELDS: list[tuple[str, Any]] = [(name, None) for name in FEDERATED_USER_NODE.fields]
_ID_CURSOR = json_cursor_decoder((0,))  # a federated user's id


def render_federated_user(request: GraphRequest, user: FederatedUser) -> dict[str, Any]:
    return FEDERATED_USER_NODE.render(user, request.fields(FEDERATED_USER_NODE) or ALL_FIELDS)


def _app_id(request: GraphRequest) -> int:
    # Meta's paths name it {federated_app_id}, but {app-id} for federated_user_update (A.2).
    return request.path_id("app_id" if "app_id" in request.path_params else "federated_app_id")


def federated_user_create(service: FederationService, request: GraphRequest) -> dict[str, Any]:
    request.fields(FEDERATED_USER_NODE)  # an unknown field is a 400 before anything is written (D5)
    params = request.params
    user = service.create(request.caller, _app_id(request), params.get("persistent_id"), params.get("display_name"))
    return render_federated_user(request, user)


def federated_user_gen_access_token(service: FederationService, request: GraphRequest) -> dict[str, Any]:
    token = service.gen_access_token(request.caller, _app_id(request), request.params.get("persistent_id"))
    return {"access_token": token}


def federated_users(service: FederationService, request: GraphRequest) -> dict[str, Any]:
    """The app's federated users, or the one with ``persistent_id``; ``paging.previous`` and
    ``paging.next`` are URLs, or empty strings where there is no such page (A.2)."""
    request.fields(FEDERATED_USER_NODE)
    params = request.params
    persistent_id = params.get("persistent_id") or None  # empty: no filter (the parameter is optional)
    if persistent_id is not None:
        user = service.find(request.caller, _app_id(request), persistent_id)
        return {"data": [render_federated_user(request, user)], "paging": {"previous": "", "next": ""}}
    after = cursor_param(params, "after", _ID_CURSOR)
    before = cursor_param(params, "before", _ID_CURSOR)
    page = service.page(request.caller, _app_id(request), None if after is None else int(after[0]),
                        None if before is None else int(before[0]), FEDERATED_PAGE.limit(params))
    paging: dict[str, Any] = {"previous": "", "next": ""}
    if page.users:
        first, last = encode_json_cursor((page.users[0].id,)), encode_json_cursor((page.users[-1].id,))
        paging = {"cursors": {"before": first, "after": last},
                  "previous": request.page_url("before", first) if page.has_previous else "",
                  "next": request.page_url("after", last) if page.has_next else ""}
    return {"data": [render_federated_user(request, u) for u in page.users], "paging": paging}


def federated_user_get(service: FederationService, request: GraphRequest, user_id: int) -> dict[str, Any]:
    request.fields(FEDERATED_USER_NODE)
    return render_federated_user(request, service.node(request.caller, user_id))


def federated_user_update(service: FederationService, request: GraphRequest) -> dict[str, Any]:
    request.fields(FEDERATED_USER_NODE)
    params = request.params
    user = service.update(request.caller, _app_id(request), params.get("persistent_id"), params.get("display_name"))
    return render_federated_user(request, user)


def federated_user_delete(service: FederationService, request: GraphRequest) -> dict[str, Any]:
    service.delete(request.caller, _app_id(request), request.params.get("persistent_id"))
    return {"success": True}


def me_of_federated(service: FederationService, request: GraphRequest, user: User) -> dict[str, Any] | None:
    """``/me`` with a federated user token: the federated user node (A.2); None for any other user."""
    federated = service.of_user(user.id)
    return None if federated is None else render_federated_user(request, federated)
