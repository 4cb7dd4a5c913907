"""Graph endpoints of account linking (graph-api.md §5.2, §5.3; D32-D34): parse, call the service, render.

Both take the parameters anywhere Graph accepts them (query, form, JSON; D2) and answer exactly
``{"oauth_token": …, "refresh_code": …}``.
"""

from __future__ import annotations

from typing import Any

from questgraph.server.auth.callers import AppCaller
from questgraph.server.errors import Forbidden
from questgraph.server.graph.params import parse_id
from questgraph.server.graph.request import GraphRequest, require_param
from questgraph.server.sso.service import Grant, SsoService

APP_TOKEN_NEEDED = "This call needs an app access token (OC|app_id|app_secret) of an app of the organization"


def _app_caller(request: GraphRequest) -> AppCaller:
    caller = request.caller  # an SSO oauth_token is refused here (D33)
    if not isinstance(caller, AppCaller):
        raise Forbidden(APP_TOKEN_NEEDED)
    return caller


def _grant(grant: Grant) -> dict[str, Any]:
    return {"oauth_token": grant.oauth_token, "refresh_code": grant.refresh_code}


def sso_authorize_code(service: SsoService, request: GraphRequest) -> dict[str, Any]:
    """D32: exchange the code from the redirect fragment for a 30-day oauth_token and a refresh_code."""
    app = _app_caller(request).app
    code = require_param(request, "code")
    org_scoped_id = parse_id("org_scoped_id", require_param(request, "org_scoped_id"), what="id")
    redirect_uri = request.params.get("redirect_uri")
    return _grant(service.exchange_code(app, code, org_scoped_id, redirect_uri or None))


def sso_authorize_refresh_code(service: SsoService, request: GraphRequest) -> dict[str, Any]:
    """D34: a new oauth_token and a new refresh_code; the old refresh_code stops working at once."""
    app = _app_caller(request).app
    org_scoped_id = parse_id("org_scoped_id", require_param(request, "org_scoped_id"), what="id")
    refresh_code = require_param(request, "refresh_code")
    return _grant(service.refresh(app, org_scoped_id, refresh_code))
