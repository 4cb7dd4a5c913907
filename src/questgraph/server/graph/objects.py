"""``GET /{id}`` and ``DELETE /{id}``: one id namespace (D9), dispatched on the kind of object."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from questgraph.server.db import ObjectIds
from questgraph.server.errors import NotFound
from questgraph.server.graph.request import GraphRequest
from questgraph.server.graph.routing import FIELDS, Route

ObjectHandler = Callable[[GraphRequest, int], Any]


class ObjectKinds:
    def __init__(self, ids: ObjectIds) -> None:
        self.ids = ids
        self.getters: dict[str, ObjectHandler] = {}
        self.deleters: dict[str, ObjectHandler] = {}

    def register(self, kind: str, *, get: ObjectHandler | None = None, delete: ObjectHandler | None = None) -> None:
        if get is not None:
            self.getters[kind] = get
        if delete is not None:
            self.deleters[kind] = delete

    def _dispatch(self, table: dict[str, ObjectHandler], request: GraphRequest) -> Any:
        object_id = request.path_id("id")
        kind = self.ids.object_kind(object_id)
        handler = table.get(kind or "")
        if handler is None:
            raise NotFound(
                f"Unsupported {request.method.lower()} request. Object with ID '{object_id}' does not exist, "
                "cannot be loaded due to missing permissions, or does not support this operation."
            )
        return handler(request, object_id)

    def get(self, request: GraphRequest) -> Any:
        return self._dispatch(self.getters, request)

    def delete(self, request: GraphRequest) -> Any:
        return self._dispatch(self.deleters, request)


# After every feature's table: the kinds registered, these dispatch on them (literal routes still win).
# "Object" is any kind's answer (server/openapi.py gathers them from the tables' ObjectRoutes).
ROUTES: tuple[Route[ObjectKinds], ...] = (
    Route("GET", "/{id}", ObjectKinds.get, (FIELDS,), "Object"),
    Route("DELETE", "/{id}", ObjectKinds.delete),
)
