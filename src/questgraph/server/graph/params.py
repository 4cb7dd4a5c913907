"""Request parameters merged from every source real clients use (D2–D4), with typed readers.

Every reader raises ``InvalidParameter`` naming the parameter, so handlers never format errors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from questgraph.server.errors import InvalidParameter

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_TRUE, _FALSE = {"true", "1"}, {"false", "0"}
_DECIMAL = re.compile(r"[+-]?[0-9]+")
_ID = re.compile(r"[0-9]{1,19}")


def json_value_to_param(value: Any) -> str:
    """A JSON body value as the string a form would have carried (lists and objects stay JSON)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(value, separators=(",", ":"))


class Params:
    """Merged parameters: later sources win (query < body, D2); repeated keys keep every value."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._values: dict[str, list[str]] = {}
        for key, value in pairs:
            self.add(key, value)

    def add(self, key: str, value: str) -> None:
        # Names are trimmed: Meta's own examples wrap lines inside query strings ("& sort_order=…").
        self._values.setdefault(key.strip(), []).append(value)

    def replace(self, key: str, values: list[str]) -> None:
        self._values[key] = values

    def pop(self, key: str) -> list[str]:
        return self._values.pop(key, [])

    def items(self) -> list[tuple[str, str]]:
        """The last value of every key, in first-seen order (for repeating a request in a paging URL)."""
        return [(k, v[-1]) for k, v in self._values.items()]

    def __contains__(self, key: str) -> bool:
        return key in self._values

    def get(self, key: str) -> str | None:
        values = self._values.get(key)
        return values[-1] if values else None

    def get_all(self, key: str) -> list[str]:
        return list(self._values.get(key, []))

    # --- typed readers ----------------------------------------------------------------------------
    def text(self, key: str, *, max_length: int = 1024) -> str | None:
        value = self.get(key)
        if value is not None and len(value) > max_length:
            raise InvalidParameter(f"Param {key} must be at most {max_length} characters long")
        return value

    def boolean(self, key: str, default: bool = False) -> bool:
        value = self.get(key)
        if value is None or value == "":
            return default
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise InvalidParameter(f"Param {key} must be a boolean (true or false)")

    def int64(self, key: str, *, required: bool = False, minimum: int = INT64_MIN,
              maximum: int = INT64_MAX) -> int | None:
        value = self.get(key)
        if value is None or value == "":
            if required:
                raise InvalidParameter(f"The parameter {key} is required")
            return None
        return parse_int(key, value, minimum=minimum, maximum=maximum)

    def enum(self, key: str, choices: Iterable[str], *, default: str | None = None,
             aliases: dict[str, str] | None = None) -> str | None:
        value = self.get(key)
        if value is None or value == "":
            return default
        upper = value.strip().upper()
        if aliases and upper in aliases:
            upper = aliases[upper]
        allowed = list(choices)
        if upper not in allowed:
            raise InvalidParameter(f"Param {key} must be one of {{{', '.join(allowed)}}}")
        return upper

    def id_list(self, key: str) -> list[int]:
        """Ids given as a JSON array, a comma list, or repeated (D20)."""
        ids: list[int] = []
        for raw in self.get_all(key):
            text = raw.strip()
            items: list[Any]
            if text.startswith("["):
                try:
                    items = json.loads(text)
                except ValueError:
                    raise InvalidParameter(f"Param {key} must be a JSON array or a comma-separated list of ids") \
                        from None
                if not isinstance(items, list):
                    raise InvalidParameter(f"Param {key} must be a list of ids")
            else:
                items = [part for part in text.split(",") if part.strip()]
            for item in items:
                ids.append(parse_id(key, item))
        return ids


def parse_int(key: str, value: Any, *, minimum: int = INT64_MIN, maximum: int = INT64_MAX) -> int:
    """A signed integer given as a decimal string (or JSON integer); anything else is a 400 (D13)."""
    text = str(value).strip() if not isinstance(value, bool) else ""
    if not _DECIMAL.fullmatch(text) or len(text) > 21:
        raise InvalidParameter(f"Param {key} must be an integer")
    number = int(text)
    if number < minimum or number > maximum:
        raise InvalidParameter(f"Param {key} must be between {minimum} and {maximum}")
    return number


def parse_id(key: str, value: Any, what: str = "user id") -> int:
    """A decimal object id (D9); the message is the SDK's "Parameter …: invalid user id: …"."""
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not _ID.fullmatch(text) or int(text) > INT64_MAX:
        raise InvalidParameter(f"Parameter {key}: invalid {what}: {str(value)[:64]}")
    return int(text)
