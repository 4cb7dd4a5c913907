"""Users and user verification (graph-api.md §4): ``GET /{user_id}``, ``GET /me``, ``user_nonce_validate``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from questgraph.client._base import Call, params
from questgraph.client._models import User, id_str

if TYPE_CHECKING:
    from questgraph.client._async_client import AsyncClient
    from questgraph.client._client import Client

ProfileField = Literal["id", "alias", "display_name", "profile_url", "org_scoped_id"]
PROFILE_FIELDS: tuple[ProfileField, ...] = ("id", "alias", "display_name", "profile_url", "org_scoped_id")
ME_FIELDS: tuple[ProfileField, ...] = ("id", "alias")  # all an SSO oauth_token may ask for (D33)


def _valid(body: Any) -> bool:
    return body.get("is_valid") is True


class UserCalls:
    """The user calls, built without I/O."""

    @staticmethod
    def get(user_id: int | str, fields: Sequence[ProfileField]) -> Call[User]:
        return Call("GET", f"/{id_str(user_id, 'user_id')}", params(fields=",".join(fields)), User.from_json,
                    safe=True)

    @staticmethod
    def me(fields: Sequence[ProfileField]) -> Call[User]:
        return Call("GET", "/me", params(fields=",".join(fields)), User.from_json, safe=True)

    @staticmethod
    def validate_nonce(nonce: str, user_id: int | str) -> Call[bool]:
        # A nonce is single use: a repeat after a lost answer would say False. Never repeated.
        return Call("POST", "/user_nonce_validate", params(nonce=nonce, user_id=id_str(user_id, "user_id")), _valid)


class Users:
    """``client.users``: profiles and user proof validation."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def get(self, user_id: int | str, *, fields: Sequence[ProfileField] = PROFILE_FIELDS) -> User:
        """A user of the app by app-scoped id (app token)."""
        return self._client.send(UserCalls.get(user_id, fields))

    def me(self, *, fields: Sequence[ProfileField] = ME_FIELDS) -> User:
        """The user behind the client's user token or SSO oauth_token (``GET /me``)."""
        return self._client.send(UserCalls.me(fields))

    def validate_nonce(self, nonce: str, user_id: int | str) -> bool:
        """Whether a user proof nonce from the headset is valid (``is_valid``, D8); spends it. Not retried."""
        return self._client.send(UserCalls.validate_nonce(nonce, user_id))


class AsyncUsers:
    """``AsyncClient.users``: the methods of ``Users``, awaited."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def get(self, user_id: int | str, *, fields: Sequence[ProfileField] = PROFILE_FIELDS) -> User:
        return await self._client.send(UserCalls.get(user_id, fields))

    async def me(self, *, fields: Sequence[ProfileField] = ME_FIELDS) -> User:
        return await self._client.send(UserCalls.me(fields))

    async def validate_nonce(self, nonce: str, user_id: int | str) -> bool:
        return await self._client.send(UserCalls.validate_nonce(nonce, user_id))
