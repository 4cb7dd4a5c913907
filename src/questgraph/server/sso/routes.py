"""The account-linking Graph routes (graph-api.md §5.2, §5.3): method, documented path, handler (sso/views.py).
The SSO page itself (``/sso/``, HTML) is sso/pages.py."""

from __future__ import annotations

from questgraph.server.graph.routing import Param, Route, RouteTable
from questgraph.server.sso.service import SsoService
from questgraph.server.sso.views import sso_authorize_code, sso_authorize_refresh_code

ROUTES: RouteTable[SsoService] = (
    Route("POST", "/sso_authorize_code", sso_authorize_code, (
        Param("code", required=True), Param("org_scoped_id", "id", required=True), Param("redirect_uri"),
    ), "OAuthGrant"),
    Route("POST", "/sso_authorize_refresh_code", sso_authorize_refresh_code, (
        Param("org_scoped_id", "id", required=True), Param("refresh_code", required=True),
    ), "OAuthGrant"),
)
