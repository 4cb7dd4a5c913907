"""Federated users (graph-api.md A.2, cross-play): ``client.federated_users``. Every call needs the app
token of the federated app (the client's ``app_id``), but ``get`` and ``me``, which a federated user's own
token may make too."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from questgraph.client._async_client import AsyncClient
from questgraph.client._base import Call, params, success
from questgraph.client._client import Client
from questgraph.client._group import C, Group, endpoint, paged
from questgraph.client._models import Id, Page, id_str

FederatedField = Literal["id", "persistent_id", "unique_name", "display_name"]
FEDERATED_FIELDS: tuple[FederatedField, ...] = ("id", "persistent_id", "unique_name", "display_name")


@dataclass(frozen=True)
class FederatedUser:
    """A federated user: a user of the app from outside Meta's platforms, named by a ``persistent_id``."""

    id: str
    persistent_id: str | None = None
    unique_name: str | None = None  # "{display_name}#{n}"
    display_name: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FederatedUser:
        return cls(id=str(data["id"]), persistent_id=data.get("persistent_id"), unique_name=data.get("unique_name"),
                   display_name=data.get("display_name"))


def _page(body: Any) -> Page[FederatedUser]:
    # paging.previous / next are URLs or empty strings (A.2), never absent: an empty one is no page.
    paging = body.get("paging") or {}
    cursors = paging.get("cursors") or {}
    return Page(data=[FederatedUser.from_json(r) for r in body.get("data", [])], before=cursors.get("before"),
                after=cursors.get("after"), has_next=bool(paging.get("next")),
                has_previous=bool(paging.get("previous")), next_url=paging.get("next") or None)


def _fields(fields: Sequence[FederatedField]) -> str:
    return ",".join(fields)


class _FederatedUsers(Group[C]):
    def _path(self, action: str) -> str:
        return f"/{self._client._require_app_id()}/{action}"

    @endpoint
    def create(self, persistent_id: str, display_name: str) -> Call[FederatedUser]:
        """A new federated user (``federated_user_create``). Not retried: a repeat would be a duplicate."""
        return Call("POST", self._path("federated_user_create"),
                    params(persistent_id=persistent_id, display_name=display_name), FederatedUser.from_json)

    @endpoint
    def gen_access_token(self, persistent_id: str) -> Call[str]:
        """A user token of the federated user (``federated_user_gen_access_token``)."""
        return Call("POST", self._path("federated_user_gen_access_token/"), params(persistent_id=persistent_id),
                    lambda body: str(body["access_token"]))

    @endpoint
    def get(self, user_id: Id, *, fields: Sequence[FederatedField] = FEDERATED_FIELDS) -> Call[FederatedUser]:
        """A federated user by id (``GET /{id}``)."""
        return Call("GET", f"/{id_str(user_id, 'user_id')}", params(fields=_fields(fields)), FederatedUser.from_json,
                    safe=True)

    @endpoint
    def me(self, *, fields: Sequence[FederatedField] = FEDERATED_FIELDS) -> Call[FederatedUser]:
        """The federated user behind the client's (federated user) token (``GET /me``)."""
        return Call("GET", "/me", params(fields=_fields(fields)), FederatedUser.from_json, safe=True)

    @endpoint
    def find(self, persistent_id: str, *,
             fields: Sequence[FederatedField] = FEDERATED_FIELDS) -> Call[FederatedUser]:
        """The federated user with that persistent id (``GET /{federated_app_id}/federated_users``)."""
        return Call("GET", self._path("federated_users"), params(persistent_id=persistent_id, fields=_fields(fields)),
                    lambda body: FederatedUser.from_json(body["data"][0]), safe=True)

    @endpoint
    def list_page(self, *, fields: Sequence[FederatedField] = FEDERATED_FIELDS, limit: int | None = None,
                  after: str | None = None, before: str | None = None) -> Call[Page[FederatedUser]]:
        """One page of the app's federated users, in id order."""
        return Call("GET", self._path("federated_users"),
                    params(fields=_fields(fields), limit=limit, after=after, before=before), _page, safe=True)

    @paged
    def list(self, *, fields: Sequence[FederatedField] = FEDERATED_FIELDS,
             limit: int | None = None) -> Call[Page[FederatedUser]]:
        """Every federated user of the app, following ``paging.next``; ``limit`` is the page size."""
        return _FederatedUsers.list_page.build(self, fields=fields, limit=limit)

    @endpoint
    def update(self, persistent_id: str, display_name: str) -> Call[FederatedUser]:
        """A new display name (and so unique name) for the federated user (``federated_user_update``)."""
        return Call("POST", self._path("federated_user_update/"),
                    params(persistent_id=persistent_id, display_name=display_name), FederatedUser.from_json, safe=True)

    @endpoint
    def delete(self, persistent_id: str) -> Call[None]:
        """Delete the federated user with their scores and achievements; cannot be undone."""
        return Call("DELETE", self._path("federated_user/"), params(persistent_id=persistent_id), success)


class FederatedUsers(_FederatedUsers[Client]):
    """``client.federated_users``: cross-play users of the app (A.2)."""


class AsyncFederatedUsers(_FederatedUsers[AsyncClient]):
    """``AsyncClient.federated_users``: the methods of ``FederatedUsers``, awaited."""
