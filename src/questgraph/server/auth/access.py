"""Access rules shared by every feature."""

from __future__ import annotations

from questgraph.server.auth.callers import AppCaller, Caller
from questgraph.server.errors import Forbidden, NotFound
from questgraph.server.identity.store import IdentityStore


def require_path_app(store: IdentityStore, caller: Caller, app_id: int | None) -> None:
    """A path's app id must be the token's app: another app's is a 403, an unknown id a 404 (D7).
    ``None`` (a route without the app id) means the token's app."""
    if app_id is None or caller.app.id == app_id:
        return
    if store.get_app(app_id) is None:
        raise NotFound(f"Unsupported request. Object with ID '{app_id}' does not exist")
    raise Forbidden("The access token belongs to another app")


def require_app_token(caller: Caller, what: str) -> AppCaller:
    """Control actions (creating boards, refunds, cancelling subscriptions…) are the app's, never a user's."""
    if not isinstance(caller, AppCaller):
        raise Forbidden(f"{what} needs an app access token (OC|app_id|app_secret)")
    return caller
