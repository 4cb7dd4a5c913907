"""Graph routes at the server root (D1): literal segments and ``{name}`` segments that match object ids."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from questgraph.server.errors import MethodNotAllowed, NotFound

_ID_SEGMENT = re.compile(r"[0-9]{1,19}")
Handler = Callable[..., Any]


@dataclass(frozen=True)
class Route:
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
        self.routes: list[Route] = []

    def add(self, method: str, path: str, handler: Handler) -> None:
        segments = tuple(s for s in path.split("/") if s)
        self.routes.append(Route(method.upper(), segments, handler))
        # Literal routes win over id routes of the same length.
        self.routes.sort(key=lambda r: sum(s.startswith("{") for s in r.segments))

    def resolve(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        parts = [p for p in path.split("/") if p]  # with or without a trailing slash (D1)
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
