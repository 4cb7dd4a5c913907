from __future__ import annotations

from dataclasses import dataclass

from questgraph.server.identity.records import App, User


@dataclass(frozen=True)
class AppCaller:
    """An app token ``OC|app_id|secret``: the app's trusted server."""

    app: App


@dataclass(frozen=True)
class UserCaller:
    """A user access token: one user of one app (D11)."""

    app: App
    user: User


@dataclass(frozen=True)
class LinkCaller:
    """An SSO ``oauth_token`` (D33): one person's account link with one organization. It may call
    ``/me`` only; every other Graph call refuses it (403)."""

    org_id: int
    org_scoped_id: int
    person_id: int


Caller = AppCaller | UserCaller
AnyCaller = AppCaller | UserCaller | LinkCaller
