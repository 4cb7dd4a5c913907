"""A fault rule as the server applies it (docs/fault-injection.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

FaultKind = Literal["error", "latency", "drop"]


@dataclass(frozen=True)
class FaultRule:
    id: int
    method: str | None  # None: any method
    route: str | None  # a documented Graph path ("/{user_id}/achievements"); None: any route
    app_id: int | None  # None: any app
    kind: FaultKind
    status: int | None  # error: the HTTP status
    code: int | None  # error: the envelope's code, subcode, type, message and is_transient
    subcode: int | None
    type: str | None
    message: str | None
    is_transient: bool | None
    latency_ms: int | None  # latency: the delay before the request is served
    probability: float | None  # the share of matching requests it applies to (None: a count rule)
    seed: int | None  # probability: a seed makes the draws repeatable
    remaining: int | None  # count: the matching requests still to fail
    hits: int
    created_at: int

    @property
    def segments(self) -> tuple[str, ...] | None:
        return None if self.route is None else tuple(s for s in self.route.split("/") if s)

    def describe(self) -> str:
        """One line for the inspector and logs: ``rule 3: error 503 code 2``."""
        if self.kind == "error":
            return f"rule {self.id}: error {self.status} code {self.code}"
        if self.kind == "latency":
            return f"rule {self.id}: latency {self.latency_ms} ms"
        return f"rule {self.id}: drop"

    def spec(self) -> dict[str, Any]:
        """What is stored (and answered, with id, remaining, hits and created_at): the values that are set."""
        names = ("method", "route", "app_id", "kind", "status", "code", "subcode", "type", "message", "is_transient",
                 "latency_ms", "probability", "seed")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}
