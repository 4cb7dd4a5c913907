"""The user routes (graph-api.md §4): method, documented path, handler (users/views.py)."""

from __future__ import annotations

from questgraph.server.graph.routing import FIELDS, ObjectRoute, Param, Route, RouteTable
from questgraph.server.users.service import UserService
from questgraph.server.users.views import me, user_get, user_nonce_validate

NONCE = (Param("nonce", required=True), Param("user_id", "id", required=True))

ROUTES: RouteTable[UserService] = (
    Route("GET", "/me", me, (FIELDS,), "User"),
    Route("POST", "/user_nonce_validate", user_nonce_validate, NONCE, "NonceValidation"),
    # clients send it with query parameters too
    Route("GET", "/user_nonce_validate", user_nonce_validate, NONCE, "NonceValidation"),
    ObjectRoute("user", get=user_get, answer="User"),  # GET /{user_id}
)
