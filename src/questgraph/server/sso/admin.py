"""Admin API of account linking (docs/config.md): list a person's links, revoke one, set a password for the
SSO page's production sign-in. Routed by admin/routes.py; same envelope and admin key as the rest."""

from __future__ import annotations

from typing import Any

from questgraph.server.graph.request import GraphRequest, require_param
from questgraph.server.sso.records import SsoLink
from questgraph.server.sso.service import LinkView, SsoService


def link_view(link: SsoLink, alias: str | None = None, live_tokens: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(link.id), "org_id": str(link.org_id), "org_scoped_id": str(link.org_scoped_id),
        "app_id": str(link.app_id), "created_at": link.created_at, "refreshed_at": link.refreshed_at,
        "revoked": link.revoked_at is not None, "revoked_at": link.revoked_at, "revoked_reason": link.revoked_why,
    }
    if alias is not None:
        out["alias"] = alias
    if live_tokens is not None:
        out["live_tokens"] = live_tokens
    return out


def _view(view: LinkView) -> dict[str, Any]:
    return link_view(view.link, view.alias, view.live_tokens)


def list_links(service: SsoService, request: GraphRequest) -> Any:
    """By app-scoped user id or by org-scoped id: the person's links with every organization."""
    person = service.person_of(request.path_id("user_id"))
    return {"data": [_view(v) for v in service.links(person)]}


def revoke_link(service: SsoService, request: GraphRequest) -> Any:
    """Every oauth_token and refresh code of the link stops working at once."""
    return {"success": True, "link": link_view(service.revoke(request.path_id("link_id")))}


def set_password(service: SsoService, request: GraphRequest) -> Any:
    person = service.person_of(request.path_id("user_id"))
    # Not trimmed: spaces are part of a password.
    service.set_password(person.id, request.params.get("password") or "")
    return {"success": True}


def add_redirect_uri(service: SsoService, request: GraphRequest) -> Any:
    org_id = request.path_id("org_id")
    service.add_redirect_uri(org_id, require_param(request, "redirect_uri"))
    return {"data": service.redirect_uris(org_id)}


def list_redirect_uris(service: SsoService, request: GraphRequest) -> Any:
    return {"data": service.redirect_uris(request.path_id("org_id"))}
