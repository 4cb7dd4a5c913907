"""The account-linking Graph routes (graph-api.md §5.2, §5.3): method, documented path, handler (sso/views.py).
The SSO page itself (``/sso/``, HTML) is sso/pages.py."""

from __future__ import annotations

from questgraph.server.graph.routing import Route, RouteTable
from questgraph.server.sso.service import SsoService
from questgraph.server.sso.views import sso_authorize_code, sso_authorize_refresh_code

ROUTES: RouteTable[SsoService] = (
    Route("POST", "/sso_authorize_code", sso_authorize_code),
    Route("POST", "/sso_authorize_refresh_code", sso_authorize_refresh_code),
)
