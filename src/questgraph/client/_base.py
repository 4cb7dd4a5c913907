"""Everything the two clients share and that does no I/O: configuration, token placement, request
building, response parsing and error mapping. ``Client`` and ``AsyncClient`` add only the sending."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Protocol, TypeVar
from urllib.parse import parse_qsl, urlsplit

import httpx

from questgraph.client._errors import (
    ConnectionFailed,
    GraphError,
    QuestGraphError,
    RequestTimeout,
    TransportError,
    error_from_envelope,
)
from questgraph.client._retry import RetryPolicy, parse_retry_after

DEFAULT_BASE_URL = "https://graph.oculus.com"
DEFAULT_TIMEOUT = 10.0
logger = logging.getLogger("questgraph.client")
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Rows(Protocol[T_co]):
    """A page of a list (D21): its rows and the link to the next page, if any."""

    @property
    def data(self) -> Sequence[T_co]: ...
    @property
    def next_url(self) -> str | None: ...


PageT = TypeVar("PageT", bound=Rows[Any])


@dataclass(frozen=True)
class Call(Generic[T_co]):
    """One API call, described without doing it: what to send, whether a repeat is harmless, how to read
    the answer. Resource groups build calls; the clients send them."""

    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    parse: Callable[[Any], T_co] = field(default=lambda body: body)
    safe: bool = False  # may be repeated after a transient failure (docs/client.md, "Retries")
    # Multipart files (name -> (filename, content, content type)); only achievement images use them (§2.1).
    files: Mapping[str, tuple[str, bytes, str]] | None = None
    # Another token than the client's for this call (the oauth_token of account linking's /me); never shown.
    token: str | None = field(default=None, repr=False)

    def following(self, next_url: str) -> Call[T_co]:
        """The call for a ``paging.next``/``previous`` link (D21): the link's parameters, minus its
        ``access_token``, on this call's path of the client's own base URL. The token goes in the header
        as for every call, and never to a host the client was not configured for."""
        query = [(k, v) for k, v in parse_qsl(urlsplit(next_url).query, keep_blank_values=True)
                 if k.strip() != "access_token"]
        return Call(self.method, self.path, dict(query), self.parse, self.safe, token=self.token)


class _Secret:
    """A credential that never shows in repr, str or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<hidden>"

    __str__ = __repr__


def _app_id_of(token: str) -> str | None:
    parts = token.split("|")
    return parts[1] if len(parts) == 3 and parts[0] == "OC" and parts[1].isdigit() else None


class BaseClient:
    """Configuration and the I/O-free half of every call. Not used directly: see Client / AsyncClient."""

    _is_async: ClassVar[bool] = False  # whether the groups' methods are awaited (_group.py)

    def __init__(self, *, app_id: int | str | None = None, app_secret: str | None = None,
                 access_token: str | None = None, base_url: str = DEFAULT_BASE_URL,
                 timeout: float | httpx.Timeout = DEFAULT_TIMEOUT, retry: RetryPolicy | None = None) -> None:
        if access_token is None and app_secret is not None:
            if app_id is None:
                raise ValueError("app_secret needs app_id (the app token is OC|app_id|app_secret)")
            access_token = f"OC|{app_id}|{app_secret}"
        self.app_id: str | None = str(app_id) if app_id is not None else (
            _app_id_of(access_token) if access_token else None)
        self._token = _Secret(access_token) if access_token else None
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.retry = retry if retry is not None else RetryPolicy()

    def __repr__(self) -> str:
        kind = "no token" if self._token is None else (
            "app token" if _app_id_of(self._token.reveal()) else "user token")
        return f"{type(self).__name__}(base_url={self.base_url!r}, app_id={self.app_id!r}, {kind})"

    def _require_app_id(self) -> str:
        if self.app_id is None:
            raise ValueError("this call needs the app id: create the client with app_id=…")
        return self.app_id

    # --- building and reading -------------------------------------------------------------------------
    def _build(self, http: httpx.Client | httpx.AsyncClient, call: Call[Any]) -> httpx.Request:
        token = call.token or (self._token.reveal() if self._token else None)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if call.method == "GET" or call.method == "DELETE":
            return http.build_request(call.method, call.path, params=call.params, headers=headers,
                                      timeout=self.timeout)
        if call.files:  # multipart/form-data: the other parameters go as its text parts (D2)
            return http.build_request(call.method, call.path, data=call.params, files=dict(call.files),
                                      headers=headers, timeout=self.timeout)
        return http.build_request(call.method, call.path, data=call.params, headers=headers, timeout=self.timeout)

    def _read(self, call: Call[T], response: httpx.Response) -> T:
        """The parsed answer, or the mapped error (D6/D7)."""
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if response.is_success:
            if body is None:
                raise GraphError(f"{call.method} {call.path}: the answer is not JSON", status=response.status_code)
            return call.parse(body)
        raise error_from_envelope(response.status_code, body, parse_retry_after(response.headers.get("retry-after")))

    @staticmethod
    def _transport_error(exc: httpx.TransportError, call: Call[Any]) -> QuestGraphError:
        """httpx's error without its text or request (which could hold the URL and a token in a link)."""
        where = f"{call.method} {call.path}"
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
            return ConnectionFailed(f"{where}: cannot connect to {_host(exc)} ({type(exc).__name__})")
        if isinstance(exc, httpx.TimeoutException):
            return RequestTimeout(f"{where}: timed out ({type(exc).__name__})")
        return TransportError(f"{where}: transport failure ({type(exc).__name__})")

    def _log(self, call: Call[Any], attempt: int, outcome: object) -> None:
        # Method and path only: the path holds ids, never a token; parameters and headers are not logged.
        logger.debug("%s %s try %d: %s", call.method, call.path, attempt + 1, outcome)


def _host(exc: httpx.TransportError) -> str:
    """``host:port`` of the failed request: never its user info, path or query (which may hold a token)."""
    try:
        url = exc.request.url
    except RuntimeError:  # an error raised without its request
        return "the server"
    return f"{url.host}:{url.port or (443 if url.scheme == 'https' else 80)}"


def params(**values: object) -> dict[str, str]:
    """Wire parameters: None left out, booleans as true/false, lists and mappings as JSON (graph-api.md §0.2)."""
    out: dict[str, str] = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, Mapping | list | tuple):
            out[key] = json.dumps(value if isinstance(value, Mapping) else list(value), separators=(",", ":"))
        else:
            out[key] = str(value)
    return out


def success(body: Any) -> None:
    """The parser of the calls that answer ``{"success": true}`` and nothing else."""
    if not (isinstance(body, dict) and body.get("success") is True):
        raise ValueError(f"unexpected answer: {body!r}")


def nested(fields: Sequence[str], name: str, subfields: str) -> str:
    """A ``fields`` value (D5) with the subfields of ``name`` in braces: ``user{id,alias}``."""
    return ",".join(f"{name}{{{subfields}}}" if f == name else f for f in fields)
