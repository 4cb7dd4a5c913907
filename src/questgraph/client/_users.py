"""Users and user verification (graph-api.md §4): ``GET /{user_id}``, ``GET /me``, ``user_nonce_validate``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from questgraph.client._async_client import AsyncClient
from questgraph.client._base import Call, params
from questgraph.client._client import Client
from questgraph.client._group import C, Group, endpoint
from questgraph.client._models import User, id_str

ProfileField = Literal["id", "alias", "display_name", "profile_url", "org_scoped_id",
                       "presence", "presence_status", "profile_url_small"]  # the last three: asked for by name (D10)
PROFILE_FIELDS: tuple[ProfileField, ...] = ("id", "alias", "display_name", "profile_url", "org_scoped_id")
ME_FIELDS: tuple[ProfileField, ...] = ("id", "alias")  # all an SSO oauth_token may ask for (D33)


def me_call(fields: Sequence[ProfileField], token: str | None = None) -> Call[User]:
    """``GET /me`` with the client's token, or with ``token`` (an SSO oauth_token)."""
    return Call("GET", "/me", params(fields=",".join(fields)), User.from_json, safe=True, token=token)


class _Users(Group[C]):
    @endpoint
    def get(self, user_id: int | str, *, fields: Sequence[ProfileField] = PROFILE_FIELDS) -> Call[User]:
        """A user of the app by app-scoped id (app token)."""
        return Call("GET", f"/{id_str(user_id, 'user_id')}", params(fields=",".join(fields)), User.from_json,
                    safe=True)

    @endpoint
    def me(self, *, fields: Sequence[ProfileField] = ME_FIELDS) -> Call[User]:
        """The user behind the client's user token or SSO oauth_token (``GET /me``)."""
        return me_call(fields)

    @endpoint
    def validate_nonce(self, nonce: str, user_id: int | str) -> Call[bool]:
        """Whether a user proof nonce from the headset is valid (``is_valid``, D8); spends it. Not retried."""
        # A nonce is single use: a repeat after a lost answer would say False.
        return Call("POST", "/user_nonce_validate", params(nonce=nonce, user_id=id_str(user_id, "user_id")),
                    lambda body: body.get("is_valid") is True)


class Users(_Users[Client]):
    """``client.users``: profiles and user proof validation."""


class AsyncUsers(_Users[AsyncClient]):
    """``AsyncClient.users``: the methods of ``Users``, awaited."""
