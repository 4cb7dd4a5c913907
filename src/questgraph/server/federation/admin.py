"""Control-plane endpoints of federated users (docs/config.md): list, create and delete an app's federated
users without its app token. The routes are in admin/routes.py."""

from __future__ import annotations

from typing import Any

from questgraph.server.auth.callers import AppCaller
from questgraph.server.federation.records import FederatedUser
from questgraph.server.federation.service import FederationService
from questgraph.server.graph.params import parse_id
from questgraph.server.graph.request import GraphRequest


def _shown(user: FederatedUser) -> dict[str, Any]:
    return {"id": str(user.id), "app_id": str(user.app_id), "persistent_id": user.persistent_id,
            "unique_name": user.unique_name, "display_name": user.display_name, "created_at": user.created_at}


def list_federated_users(federation: FederationService, request: GraphRequest) -> Any:
    return {"data": [_shown(u) for u in federation.all_of_app(request.path_id("app_id"))]}


def create_federated_user(federation: FederationService, request: GraphRequest) -> Any:
    params = request.params
    fixed = params.get("id")
    user = federation.create_in_app(request.path_id("app_id"), params.get("persistent_id"),
                                    params.get("display_name"), None if not fixed else parse_id("id", fixed, "id"))
    return _shown(user)


def delete_federated_user(federation: FederationService, request: GraphRequest) -> Any:
    app = federation.identity.app(request.path_id("app_id"))
    federation.delete_in_app(AppCaller(app), request.params.get("persistent_id"))
    return {"success": True}
