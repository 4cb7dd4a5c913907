from __future__ import annotations

from dataclasses import dataclass

from questgraph.server.storage.records import App, User


@dataclass(frozen=True)
class AppCaller:
    """An app token ``OC|app_id|secret``: the app's trusted server."""

    app: App


@dataclass(frozen=True)
class UserCaller:
    """A user access token: one user of one app (D11)."""

    app: App
    user: User


Caller = AppCaller | UserCaller
