"""Access rules shared by every feature."""

from __future__ import annotations

from questgraph.server.auth.callers import Caller
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
