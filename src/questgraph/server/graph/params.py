"""Request parameters merged from every source real clients use (D2–D4), with typed readers.

Every reader raises ``InvalidParameter`` naming the parameter, so handlers never format errors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from itertools import accumulate, repeat
from operator import sub
from typing import Any

from questgraph.server.errors import InvalidParameter

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_TRUE, _FALSE = {"true", "1"}, {"false", "0"}
_DECIMAL = re.compile(r"[+-]?[0-9]+")
_ID = re.compile(r"[0-9]{1,19}")
# JSON input (a body, a JSON-valued parameter, a cursor) may nest this deep. Real inputs nest a few levels
# (a snapshot: 4); without a bound, Python's recursive decoder fails with a RecursionError near 1000.
MAX_JSON_DEPTH = 64
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")  # 2 - 1 opens a level, 0 - 1 closes one
# What text may not hold (D2): a NUL (PostgreSQL text cannot store one and SQLite could; the backends
# must agree) and a lone UTF-16 surrogate (a JSON "\ud800" escape, or invalid UTF-8 percent-decoded with
# surrogateescape), which has no UTF-8 form, so it can be neither stored nor answered.
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


class JsonRefused(ValueError):
    """JSON that decodes but that questgraph does not accept: too deep, or a string that is not text. A
    ValueError, so that every reader's ``except ValueError`` answers it with its own message."""


def bad_text(value: str) -> str | None:
    """Why ``value`` cannot be a parameter's text, or None when it can."""
    if value.isascii() and "\x00" not in value:
        return None
    found = _BAD_TEXT.search(value)
    if found is None:
        return None
    return "a NUL character" if found.group() == "\x00" else "invalid UTF-8 (a lone surrogate)"


def shown_name(key: str) -> str:
    """A parameter name the client chose, as an error message may repeat it: any parameter may be sent,
    under a name of any length."""
    return key if len(key) <= 64 else key[:64] + "…"


def _json_depth_ok(text: str) -> bool:
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return True
    # Strings removed (a bracket inside one is text), then the depth is the largest running sum of
    # +1 per opening and -1 per closing bracket, summed in C (a 10 MiB body takes milliseconds).
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)).encode("ascii").translate(_BRACKET_STEPS)
    return max(accumulate(map(sub, brackets, repeat(1))), default=0) <= MAX_JSON_DEPTH


def json_text_problem(value: Any) -> str | None:
    """Why a decoded JSON value holds a string (or key) that is not text, at any depth, or None."""
    if isinstance(value, str):
        return bad_text(value)
    if isinstance(value, dict):
        items: Iterable[Any] = (x for pair in value.items() for x in pair)
    elif isinstance(value, list):
        items = value
    else:
        return None
    for item in items:
        problem = json_text_problem(item)
        if problem is not None:
            return problem
    return None


def parse_json(text: str | bytes, *, check_text: bool = True) -> Any:
    """``json.loads`` for input: the one decoder every body, JSON-valued parameter and cursor goes through.
    Raises ValueError (``UnicodeDecodeError``, ``json.JSONDecodeError`` or ``JsonRefused``) on anything it
    does not accept, never a RecursionError. Bytes must be UTF-8 (or UTF-16/32, as ``json.loads`` detects);
    ``json.loads`` itself would let invalid UTF-8 through as lone surrogates."""
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode(json.detect_encoding(text))
    if not _json_depth_ok(text):
        raise JsonRefused(f"JSON nested more than {MAX_JSON_DEPTH} levels deep")
    value = json.loads(text)
    # A string can hold a NUL or a lone surrogate only through a \u escape or by having one already.
    if check_text and ("\\u" in text or bad_text(text) is not None):
        problem = json_text_problem(value)
        if problem is not None:
            raise JsonRefused(f"a JSON string holds {problem}")
    return value


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

    def check_text(self) -> None:
        """Every name and value is text that can be stored and answered (D2); else a 400 naming it."""
        for key, values in self._values.items():
            if bad_text(key) is not None:
                raise InvalidParameter(f"A parameter name holds {bad_text(key)}")
            for value in values:
                problem = bad_text(value)
                if problem is not None:
                    raise InvalidParameter(f"Param {shown_name(key)} holds {problem}")

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

    def string_list(self, key: str) -> list[str]:
        """Strings given as a JSON array (``["A","B"]``, as Meta's examples, or with ``'`` quotes as its other
        examples), a comma list, or repeated; each stripped, empty ones dropped (D20)."""
        found: list[str] = []
        for raw in self.get_all(key):
            text = raw.strip()
            items: Any
            if text.startswith("["):
                try:
                    items = parse_json(text)
                except ValueError:
                    try:  # recipient_ids=['id1','id2']
                        items = parse_json(text.replace("'", '"'))
                    except ValueError:
                        raise InvalidParameter(f"Param {key} must be a JSON array of strings or a "
                                               "comma-separated list") from None
                if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                    raise InvalidParameter(f"Param {key} must be a JSON array of strings")
            elif text.startswith("{"):
                raise InvalidParameter(f"Param {key} must be a JSON array of strings or a comma-separated list")
            else:
                items = text.split(",")
            found.extend(i.strip() for i in items if i.strip())
        return found

    def id_list(self, key: str) -> list[int]:
        """Ids given as a JSON array, a comma list, or repeated (D20)."""
        ids: list[int] = []
        for raw in self.get_all(key):
            text = raw.strip()
            items: list[Any]
            if text.startswith("["):
                try:  # ids never hold quotes: ['1', '2'] (Meta's notification example) is read as ["1", "2"]
                    items = parse_json(text.replace("'", '"'))
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
        # A bound that is only int64's own is no rule of the parameter: not worth 19 digits in a message.
        if maximum == INT64_MAX and minimum != INT64_MIN:
            raise InvalidParameter(f"Param {key} must be at least {minimum}")
        if minimum == INT64_MIN and maximum != INT64_MAX:
            raise InvalidParameter(f"Param {key} must be at most {maximum}")
        raise InvalidParameter(f"Param {key} must be between {minimum} and {maximum}")  # a signed 64-bit integer
    return number


def parse_id(key: str, value: Any, what: str = "user id") -> int:
    """A decimal object id (D9); the message is the SDK's "Parameter …: invalid user id: …"."""
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not _ID.fullmatch(text) or int(text) > INT64_MAX:
        raise InvalidParameter(f"Parameter {key}: invalid {what}: {str(value)[:64]}")
    return int(text)
