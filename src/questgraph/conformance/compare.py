"""Two answers to the same step → their differences: status, error type and code, JSON shape, paging.

Values never count: only what a client's code depends on (the status, the error's type/code/subcode, which
keys exist and what JSON types they hold, and whether and how a list pages)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from questgraph.conformance.shape import Shape, shape_of, types_text

KINDS = ("transport", "status", "error", "shape", "paging")


@dataclass(frozen=True)
class Answer:
    """What one server answered to one step: its status and decoded JSON body (None when it was not JSON),
    or ``failure``, the name of the transport error when there was no answer at all."""

    status: int | None
    body: Any = None
    json: bool = True
    failure: str | None = None

    def error(self) -> tuple[Any, Any, Any] | None:
        """(type, code, error_subcode) of a Graph error envelope, or None."""
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            error = self.body["error"]
            return error.get("type"), error.get("code"), error.get("error_subcode")
        return None

    def shape(self) -> Shape:
        return shape_of(self.body) if self.json else {"$": frozenset({"not-json"})}


@dataclass(frozen=True)
class Difference:
    step: str
    kind: str  # one of KINDS
    detail: str  # what differs: a path, or "status"
    target: str
    questgraph: str


def compare(step: str, target: Answer, local: Answer) -> list[Difference]:
    """Every difference between the target's answer and questgraph's, in a stable order."""
    if target.failure or local.failure:
        if target.failure != local.failure:
            return [Difference(step, "transport", "answer", target.failure or "answered",
                               local.failure or "answered")]
        return []
    found: list[Difference] = []
    if target.status != local.status:
        found.append(Difference(step, "status", "status", str(target.status), str(local.status)))
    if target.error() != local.error():
        found.append(Difference(step, "error", "type/code/subcode", _error_text(target.error()),
                                _error_text(local.error())))
    for path, theirs, ours in shape_differences(target.shape(), local.shape()):
        kind = "paging" if path == "$.paging" or path.startswith("$.paging.") else "shape"
        found.append(Difference(step, kind, path, theirs, ours))
    return found


def shape_differences(target: Shape, local: Shape) -> list[tuple[str, str, str]]:
    """(path, target's types, questgraph's types) where the shapes disagree.

    A key counts as missing only where its parent is an object on that side: under an empty list or a null
    nothing is known, since that depends on the data, not on the server. For the same reason null is
    compatible with every type (a field is null or not depending on the data)."""
    found = []
    for path in sorted(set(target) | set(local)):
        theirs, ours = target.get(path), local.get(path)
        if theirs is None or ours is None:
            absent_side = target if theirs is None else local
            parent = absent_side.get(_parent(path), frozenset())
            if path.endswith("[]") or "object" not in parent:
                continue
        elif _compatible(theirs, ours):
            continue
        found.append((path, types_text(theirs), types_text(ours)))
    return found


def _compatible(theirs: frozenset[str], ours: frozenset[str]) -> bool:
    theirs, ours = theirs - {"null"}, ours - {"null"}
    return not theirs or not ours or theirs == ours


def _parent(path: str) -> str:
    if path.endswith("[]"):
        return path[:-2]
    return path.rsplit(".", 1)[0]


def _error_text(error: tuple[Any, Any, Any] | None) -> str:
    if error is None:
        return "none"
    kind, code, subcode = error
    return f"{kind} {code}" + (f"/{subcode}" if subcode is not None else "")
