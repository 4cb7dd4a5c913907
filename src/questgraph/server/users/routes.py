"""The user routes (graph-api.md §4): method, documented path, handler (users/views.py)."""

from __future__ import annotations

from questgraph.server.graph.routing import ObjectRoute, Route, RouteTable
from questgraph.server.users.service import UserService
from questgraph.server.users.views import me, user_get, user_nonce_validate

ROUTES: RouteTable[UserService] = (
    Route("GET", "/me", me),
    Route("POST", "/user_nonce_validate", user_nonce_validate),
    Route("GET", "/user_nonce_validate", user_nonce_validate),  # clients send it with query parameters too
    ObjectRoute("user", get=user_get),  # GET /{user_id}
)
