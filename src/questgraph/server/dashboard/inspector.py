"""The request inspector: the last N Graph requests of every app, kept in memory.

Bounded: one ring buffer (``deque(maxlen=N)``) per app, and each record bounded too (at most
``MAX_PARAMS`` parameters, names cut at ``MAX_NAME_CHARS``, values at ``MAX_VALUE_CHARS``, the path at
``MAX_VALUE_CHARS``, the response at ``MAX_RESPONSE_CHARS``), and each app's ring at ``MAX_RING_CHARS`` of
kept text (the oldest records leave first), so memory is bounded whatever the traffic. Off when N is 0;
sampled with ``sample_rate`` (by default every request in the emulator, none in production: a developer
turns it on deliberately, see docs/config.md).

Nothing secret is kept: every parameter or response field whose name marks it as a secret (access_token,
secret, code, refresh_code, nonce, password, oauth_token, …) is replaced by a short prefix and its length
before it is stored, so neither a page nor a leak of the process memory shows one (D11).
"""

from __future__ import annotations

import itertools
import json
import random
import re
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from questgraph.server.auth.callers import AnyCaller, AppCaller, UserCaller

DEFAULT_SIZE = 200
MAX_SIZE = 100_000
MAX_VALUE_CHARS = 512  # a long parameter (extra_data, a locale map) is cut: the inspector is for reading
MAX_RESPONSE_CHARS = 8_192
# A request may carry tens of thousands of parameters (a 10 MiB form body): a record keeps the first ones.
MAX_PARAMS = 100
MAX_NAME_CHARS = 128
# What one app's ring may hold in kept text (~ bytes), whatever N: with the limits above one record holds
# under 80 000 characters, so a full default ring (200) of the largest records fits in 16 M.
MAX_RING_CHARS = 16_000_000
_RECORD_OVERHEAD = 256  # the fixed fields of a record, counted against the ring's budget
PREFIX_CHARS = 4
# Names (or parts of names) that mark a secret. "code" alone, not as a part: error "code"s stay readable.
SECRET_NAMES = frozenset({"access_token", "secret", "app_secret", "client_secret", "code", "refresh_code",
                          "nonce", "password", "oauth_token", "token", "authorization", "admin_key"})
_SECRET_PART = re.compile(r"token|secret|password|nonce|refresh_code")
_ASCII_DIGITS = re.compile(r"[0-9]{1,19}")
_APP_TOKEN = re.compile(r"(OC\|[0-9]{1,19}\|)(.*)", re.S)
# Whether a JSON text may hold a field that is_secret_name() marks (every name above contains one of these).
_MAY_NAME_SECRET = re.compile(r"token|secret|password|nonce|code|authorization|admin_key", re.I)


def is_secret_name(name: str) -> bool:
    lowered = name.strip().lower()
    return lowered in SECRET_NAMES or bool(_SECRET_PART.search(lowered))


def mask(value: str) -> str:
    """A secret as the inspector shows it: a short prefix (enough to tell two tokens apart by eye) and its
    length. An app token keeps its app id, which is public, and loses its secret whole."""
    app_token = _APP_TOKEN.fullmatch(value)
    if app_token:
        return f"{app_token.group(1)}•••• ({len(app_token.group(2))} chars)"
    if len(value) <= PREFIX_CHARS * 2:  # too short for a prefix to be safe: show nothing of it
        return f"•••• ({len(value)} chars)"
    return f"{value[:PREFIX_CHARS]}•••• ({len(value)} chars)"


def _cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[:limit] + f"… ({len(value)} chars)"


def mask_params(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Masked and bounded: at most MAX_PARAMS pairs (then one pair saying how many more were sent)."""
    kept: list[tuple[str, str]] = []
    more = 0
    for k, v in pairs:
        if len(kept) == MAX_PARAMS:
            more += 1
            continue
        # A secret is recognised by its whole name; the name is cut only after that.
        kept.append((_cut(k, MAX_NAME_CHARS), mask(v) if is_secret_name(k) else _cut(v, MAX_VALUE_CHARS)))
    if more:
        kept.append(("…", f"{more} more parameters not kept"))
    return kept


def mask_json(value: Any) -> Any:
    """A response body with every secret-named field masked, at any depth."""
    if isinstance(value, dict):
        # Only strings are masked: an error envelope's numeric "code" is no secret and stays readable.
        return {k: mask(v) if isinstance(v, str) and is_secret_name(str(k)) else mask_json(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [mask_json(v) for v in value]
    return value


@dataclass(frozen=True)
class InspectedRequest:
    seq: int  # increasing over the process: the request's id on the inspector pages
    at_us: int  # server clock (D36)
    app_id: int
    method: str
    path: str
    params: list[tuple[str, str]]  # masked
    token_source: str  # "query", "body", "header" or "none"
    token: str  # masked: the public app id of an app token, or a user token's first characters
    caller: str  # "app" or "user"
    user_id: int | None  # the calling user, or the user_id the request names
    status: int
    error_code: int | None
    error_type: str | None
    error_message: str | None
    latency_ms: float
    trace_id: str
    response: str  # masked, compact JSON, cut to MAX_RESPONSE_CHARS
    fault: str | None = None  # the fault rule injected into it ("rule 3: error 503 code 2"), docs/fault-injection.md

    @property
    def endpoint(self) -> str:
        """The path with every id replaced by ``{id}``: what the endpoint filter matches."""
        return re.sub(r"/[0-9]{1,19}(?=/|$)", "/{id}", self.path.rstrip("/") or "/")

    def param(self, key: str) -> str | None:
        for k, v in self.params:
            if k == key:
                return v
        return None


class RequestInspector:
    def __init__(self, size: int = DEFAULT_SIZE, sample_rate: float = 1.0) -> None:
        self.size = max(0, min(size, MAX_SIZE))
        self.sample_rate = min(max(sample_rate, 0.0), 1.0)
        self._buffers: dict[int, deque[InspectedRequest]] = {}
        self._chars: dict[int, int] = {}  # per app: the kept text of its ring (MAX_RING_CHARS)
        self._lock = threading.Lock()
        self._seq = itertools.count(1)

    @property
    def enabled(self) -> bool:
        return self.size > 0 and self.sample_rate > 0

    def wants(self) -> bool:
        """Decided before any work is done for the record, so a production server pays nothing when off."""
        return self.enabled and (self.sample_rate >= 1.0 or random.random() < self.sample_rate)

    def record(self, *, at_us: int, caller: AnyCaller | None, method: str, path: str,
               params: Iterable[tuple[str, str]], token: str | None, token_source: str, status: int, body: bytes,
               latency_ms: float, trace_id: str, fault: str | None = None) -> InspectedRequest | None:
        """Keep one answered Graph request. Only authenticated app and user calls are kept: the app is then
        known for sure, so nobody can fill another app's inspector with made-up requests."""
        if not isinstance(caller, AppCaller | UserCaller):
            return None
        pairs = [(k, v) for k, v in params if k != "access_token"]
        user_id = (caller.user.id if isinstance(caller, UserCaller)
                   else _int(next((v for k, v in reversed(pairs) if k == "user_id"), None)))
        text = body.decode("utf-8", "replace")
        error: dict[str, Any] = {}
        if status >= 400 or _MAY_NAME_SECRET.search(text):
            try:
                decoded = json.loads(body) if body else None
            except ValueError:
                decoded = None
            found = decoded.get("error") if isinstance(decoded, dict) and status >= 400 else None
            error = found if isinstance(found, dict) else {}
            response = json.dumps(mask_json(decoded), separators=(",", ":"), ensure_ascii=False)
        else:
            # No field name in it could mark a secret (a submit's answer, a page of entries): our own
            # compact JSON is kept as it is, without decoding and encoding it again per request.
            response = text
        entry = InspectedRequest(
            next(self._seq), at_us, caller.app.id, method, _cut(path, MAX_VALUE_CHARS), mask_params(pairs),
            token_source,
            "" if token is None else mask(token),
            "user" if isinstance(caller, UserCaller) else "app", user_id, status,
            error.get("code") if isinstance(error.get("code"), int) else None,
            str(error["type"]) if "type" in error else None,
            _cut(str(error["message"]), MAX_VALUE_CHARS) if "message" in error else None,
            round(latency_ms, 2), trace_id, _cut(response, MAX_RESPONSE_CHARS), fault,
        )
        size = _chars(entry)
        with self._lock:
            buffer = self._buffers.get(entry.app_id)
            if buffer is None:
                buffer = self._buffers[entry.app_id] = deque(maxlen=self.size)
            held = self._chars.get(entry.app_id, 0)
            if len(buffer) == buffer.maxlen:
                held -= _chars(buffer[0])  # append() drops it
            buffer.append(entry)
            held += size
            while held > MAX_RING_CHARS and len(buffer) > 1:
                held -= _chars(buffer.popleft())
            self._chars[entry.app_id] = held
        return entry

    def recent(self, app_id: int, *, endpoint: str | None = None, status: str | None = None,
               user_id: int | None = None) -> list[InspectedRequest]:
        """Newest first. ``status`` is an exact code ("404"), a class ("4xx"), "error" or "ok"."""
        with self._lock:
            rows = list(self._buffers.get(app_id, ()))
        rows.reverse()
        if endpoint:
            rows = [r for r in rows if endpoint in r.endpoint or endpoint in r.path]
        if status:
            rows = [r for r in rows if _status_matches(r.status, status)]
        if user_id is not None:
            rows = [r for r in rows if r.user_id == user_id]
        return rows

    def get(self, app_id: int, seq: int) -> InspectedRequest | None:
        with self._lock:
            return next((r for r in self._buffers.get(app_id, ()) if r.seq == seq), None)

    def clear(self) -> None:
        with self._lock:
            self._buffers.clear()
            self._chars.clear()


def _chars(entry: InspectedRequest) -> int:
    """The text a record keeps, counted against its app's ring budget."""
    return (_RECORD_OVERHEAD + len(entry.path) + len(entry.response) + len(entry.error_message or "")
            + sum(len(k) + len(v) for k, v in entry.params))


def _status_matches(status: int, wanted: str) -> bool:
    wanted = wanted.strip().lower()
    if wanted == "error":
        return status >= 400
    if wanted == "ok":
        return status < 400
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    if len(wanted) == 3 and wanted.endswith("xx") and wanted[0] in "0123456789":
        return status // 100 == int(wanted[0])
    return _ASCII_DIGITS.fullmatch(wanted) is not None and status == int(wanted)


def _int(value: str | None) -> int | None:
    text = (value or "").strip()
    return int(text) if _ASCII_DIGITS.fullmatch(text) else None


def token_source(headers: Any, query_keys: Iterable[str], token: str | None) -> str:
    """Where the request's token came from (D4), for the inspector: the value itself is never kept."""
    if token is None:
        return "none"
    if headers.get("authorization"):
        return "header"
    return "query" if "access_token" in set(query_keys) else "body"
