"""Graph routes at the server root (D1): literal segments and ``{name}`` segments that match object ids.

Each feature lists its routes in a table (its ``routes.py``): a ``Route`` per method and documented path,
an ``ObjectRoute`` per kind of object served at ``GET``/``DELETE /{id}`` (graph/objects.py). Handlers are
module-level functions taking the feature's service first; ``Router.add_table`` binds them to the service
once, at start-up, so resolving a request costs what it did when handlers were closures.

A row also names the parameters its handler reads and the shape of its answer (a component of
server/openapi.py): the OpenAPI document is made from the tables. Handlers read and check their parameters
themselves, so none of this is looked at while a request is served.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from questgraph.server.errors import MethodNotAllowed, NotFound

if TYPE_CHECKING:
    from questgraph.server.graph.objects import ObjectKinds
    from questgraph.server.graph.request import GraphRequest

_ID_SEGMENT = re.compile(r"[0-9]{1,19}")
Handler = Callable[..., Any]
S = TypeVar("S")


# What a parameter holds, as the OpenAPI document describes it: "id" a decimal object id (D9), "ids" and
# "list" a list (a JSON array, a comma list, or the parameter repeated; of ids or of names), "json" JSON text,
# "fields" a D5 selection, "cursor" a paging cursor (D21), "file" a multipart upload.
ParamType = Literal["string", "integer", "boolean", "id", "ids", "list", "json", "fields", "cursor", "file"]


@dataclass(frozen=True)
class Param:
    """A parameter a handler reads (from the query, a form, multipart or JSON: D2), for the documentation."""

    name: str
    type: ParamType = "string"
    required: bool = False
    enum: tuple[str, ...] = ()  # accepted in any case (D20)
    minimum: int | None = None
    maximum: int | None = None


FIELDS = Param("fields", "fields")
PAGING = (Param("limit", "integer", minimum=0), Param("after", "cursor"), Param("before", "cursor"))


@dataclass(frozen=True)
class Route(Generic[S]):
    """One row of a route table: the method, the path as documented, its handler(service, request), the
    parameters the handler reads and the name of its answer's schema (server/openapi.py)."""

    method: str
    path: str
    handler: Callable[[S, GraphRequest], Any]
    params: tuple[Param, ...] = ()
    answer: str = "Success"


@dataclass(frozen=True)
class ObjectRoute(Generic[S]):
    """One kind of object (D9) at ``GET``/``DELETE /{id}``: handler(service, request, object id); ``answer``
    names the schema of what ``GET`` answers (``fields`` selects from it; ``DELETE`` answers success)."""

    kind: str
    get: Callable[[S, GraphRequest, int], Any] | None = None
    delete: Callable[[S, GraphRequest, int], Any] | None = None
    answer: str = ""


RouteTable = Iterable[Route[S] | ObjectRoute[S]]


@dataclass(frozen=True)
class BoundRoute:
    """A route as the router matches it: the path split into segments, the handler bound to its service."""

    method: str
    segments: tuple[str, ...]
    handler: Handler

    def match(self, parts: list[str]) -> dict[str, str] | None:
        if len(parts) != len(self.segments):
            return None
        found: dict[str, str] = {}
        for template, part in zip(self.segments, parts, strict=True):
            if template.startswith("{"):
                if not _ID_SEGMENT.fullmatch(part):
                    return None
                found[template[1:-1]] = part
            elif template != part:
                return None
        return found


class Router:
    def __init__(self) -> None:
        self.routes: list[BoundRoute] = []
        # Routes without {id} segments by their segments and method: most requests (every leaderboard
        # call) resolve with one dict lookup, not a match against each route in turn.
        self._literal: dict[tuple[tuple[str, ...], str], Handler] = {}

    def add(self, method: str, path: str, handler: Handler) -> None:
        segments = tuple(s for s in path.split("/") if s)
        self.routes.append(BoundRoute(method.upper(), segments, handler))
        # Literal routes win over id routes of the same length.
        self.routes.sort(key=lambda r: sum(s.startswith("{") for s in r.segments))
        if not any(s.startswith("{") for s in segments):
            self._literal.setdefault((segments, method.upper()), handler)  # the first, as the scan finds it

    def add_table(self, table: RouteTable[S], service: S, objects: ObjectKinds | None = None) -> None:
        """Every route of ``table``, its handlers bound to ``service``; object kinds go to ``objects``."""
        for row in table:
            if isinstance(row, Route):
                self.add(row.method, row.path, partial(row.handler, service))
                continue
            if objects is None:
                raise ValueError(f"the table serves {row.kind} objects at /{{id}}: pass the ObjectKinds")
            objects.register(row.kind, get=None if row.get is None else partial(row.get, service),
                             delete=None if row.delete is None else partial(row.delete, service))

    def resolve(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        parts = [p for p in path.split("/") if p]  # with or without a trailing slash (D1)
        # An id segment is all digits and a literal one never is: a literal route that matches is the
        # route the scan below would find first.
        literal = self._literal.get((tuple(parts), method))
        if literal is not None:
            return literal, {}
        allowed = False
        for route in self.routes:
            found = route.match(parts)
            if found is None:
                continue
            if route.method == method:
                return route.handler, found
            allowed = True
        if allowed:
            raise MethodNotAllowed(f"Unsupported {method.lower()} request.")
        if len(parts) == 1 and _ID_SEGMENT.fullmatch(parts[0]):
            raise NotFound(
                f"Unsupported {method.lower()} request. Object with ID '{parts[0]}' does not exist, "
                "cannot be loaded due to missing permissions, or does not support this operation."
            )
        shown = "/" + "/".join(parts)
        raise NotFound(f"Unknown path components: {shown[:200]}")
