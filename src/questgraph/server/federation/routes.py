"""The federated-user routes (graph-api.md A.2): method, documented path, handler (federation/views.py).
Meta's documentation writes some with a trailing slash and some without; both forms reach every route."""

from __future__ import annotations

from questgraph.server.federation.service import FederationService
from questgraph.server.federation.views import (
    federated_user_create,
    federated_user_delete,
    federated_user_gen_access_token,
    federated_user_get,
    federated_user_update,
    federated_users,
)
from questgraph.server.graph.routing import FIELDS, PAGING, ObjectRoute, Param, Route, RouteTable

PERSISTENT_ID = Param("persistent_id", required=True)

ROUTES: RouteTable[FederationService] = (
    Route("POST", "/{federated_app_id}/federated_user_create", federated_user_create,
          (PERSISTENT_ID, Param("display_name", required=True), FIELDS), "FederatedUser"),
    Route("POST", "/{federated_app_id}/federated_user_gen_access_token", federated_user_gen_access_token,
          (PERSISTENT_ID,), "AccessToken"),
    Route("GET", "/{federated_app_id}/federated_users", federated_users,
          (Param("persistent_id"), FIELDS, *PAGING), "FederatedUsers"),
    Route("POST", "/{app_id}/federated_user_update", federated_user_update,
          (PERSISTENT_ID, Param("display_name"), FIELDS), "FederatedUser"),
    Route("DELETE", "/{federated_app_id}/federated_user", federated_user_delete, (PERSISTENT_ID,)),
    ObjectRoute("federated_user", get=federated_user_get, answer="FederatedUser"),  # GET /{id}
)
