"""Reading a Starlette request into Graph terms: merged parameters (D2), method override (D3), the access
token (D4) and the public base URL for paging links (D21)."""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect, Request

from questgraph.server.errors import InvalidParameter
from questgraph.server.graph.params import (
    JsonRefused,
    Params,
    json_text_problem,
    json_value_to_param,
    parse_json,
    shown_name,
)

METHODS = ("GET", "POST", "DELETE")
# The status counted (metrics, access log) for a request whose client left before its body had arrived:
# no answer can be sent, and it is nobody's error here. nginx's "client closed request".
CLIENT_CLOSED = 499
_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def request_path(request: Request) -> str:
    """The path as Starlette's ``request.url.path`` shows it (decoded by the server, with "?", "#" and "\\"
    escaped again), without building the whole URL: this runs for every request."""
    return str(request.scope["path"]).replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")


def _too_large(max_bytes: int, raise_with: str) -> InvalidParameter:
    hint = f" ({raise_with})" if raise_with else ""
    return InvalidParameter(f"The request body is larger than {max_bytes} bytes{hint}")


async def _body(request: Request, max_bytes: int, raise_with: str = "") -> bytes:
    # The ASGI messages themselves rather than request.stream(): the body is read once, on every request.
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes, raise_with)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _query(request: Request) -> str:
    raw: bytes = request.scope.get("query_string", b"")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidParameter("The query string is not valid UTF-8") from None


def _pairs(text: str) -> list[tuple[str, str]]:
    # Percent-encoded bytes that are not UTF-8 become lone surrogates, which Params.check_text() refuses
    # naming the parameter (D2), rather than U+FFFD replacing them silently in what is stored.
    return parse_qsl(text, keep_blank_values=True, errors="surrogateescape")


async def read_params(request: Request, max_bytes: int,
                      raise_with: str = "") -> tuple[Params, dict[str, UploadFile]]:
    """Query, then body: a body value wins over a query value, the last repeat wins (D2). Every name and
    value is text (Params.check_text). ``raise_with`` says how to raise the limit, in the 400 of a body
    over it. The caller closes the files (``close_files``); if this raises, it has closed them."""
    params, files = await _read_params(request, max_bytes, raise_with)
    try:
        params.check_text()
    except InvalidParameter:
        close_files(files)
        raise
    return params, files


def close_files(files: dict[str, UploadFile]) -> None:
    """Multipart files are spooled to temporary files: free them once the request is answered."""
    for upload in files.values():
        upload.file.close()


async def _read_params(request: Request, max_bytes: int,
                       raise_with: str) -> tuple[Params, dict[str, UploadFile]]:
    query = _query(request)
    params = Params(_pairs(query) if query else [])
    files: dict[str, UploadFile] = {}
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes, raise_with)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        # Read under the size limit first (a chunked body has no Content-Length), then parse: a malformed
        # body is a 400 in the Graph envelope, not Starlette's HTTPException (D6).
        raw = await _body(request, max_bytes, raise_with)

        async def chunks() -> AsyncGenerator[bytes, None]:
            yield raw

        try:
            form = await MultiPartParser(request.headers, chunks(), max_files=100, max_fields=1000).parse()
        except (MultiPartException, AssertionError, ValueError, KeyError) as exc:
            detail = exc.message if isinstance(exc, MultiPartException) else type(exc).__name__
            raise InvalidParameter(f"The multipart body cannot be parsed: {detail}") from None
        for key, value in form.multi_items():
            if isinstance(value, str):
                params.add(key, value)
            else:
                if key in files:  # the last repeat wins (D2): the earlier file is not kept
                    files[key].file.close()
                files[key] = value
        return params, files
    body = await _body(request, max_bytes, raise_with)
    if not body.strip():
        return params, files
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            # Strings are checked below, per parameter, so that the answer names the parameter.
            document: Any = parse_json(body, check_text=False)
        except JsonRefused as exc:
            raise InvalidParameter(f"The JSON body cannot be accepted: {exc}") from None
        except ValueError:  # not JSON, or not UTF-8 (UnicodeDecodeError)
            raise InvalidParameter("The JSON body cannot be parsed") from None
        if not isinstance(document, dict):
            raise InvalidParameter("The JSON body must be an object of parameters")
        # Only a \u escape makes a NUL or a lone surrogate in strictly decoded UTF-8 (a UTF-16 body: look).
        escaped = b"\\u" in body or not body.isascii()
        for key, value in document.items():
            # A nested value becomes JSON text with \u escapes again, which check_text() would not see.
            problem = json_text_problem(value) if escaped and not isinstance(value, str) else None
            if problem is not None:
                raise InvalidParameter(f"Param {shown_name(key)} holds {problem}")
            params.add(str(key), json_value_to_param(value))
        return params, files
    # Form-encoded, as curl -d sends it; a missing or unknown content type is read the same way.
    _add_form(params, body)
    return params, files


def _add_form(params: Params, body: bytes) -> None:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidParameter("The request body is not valid UTF-8") from None
    for key, value in _pairs(text):
        params.add(key, value)


def form_fields(request: Request, body: bytes) -> Params:
    """The query string's and a form-encoded body's fields (the body's win), for the HTML pages: read and
    checked as every Graph parameter is (D2: UTF-8, no NUL, no lone surrogate), else InvalidParameter
    naming the field, so a value no backend can store never reaches the database."""
    query = _query(request)
    params = Params(_pairs(query) if query else [])
    _add_form(params, body)
    params.check_text()
    return params


def effective_method(request: Request, params: Params) -> str:
    """``method=GET|POST|DELETE`` overrides the HTTP method (D3)."""
    override = params.get("method")
    if override is None or override.strip() == "":
        return request.method.upper()
    method = override.strip().upper()
    if method not in METHODS:
        raise InvalidParameter("Param method must be one of {GET, POST, DELETE}")
    return method


def access_token(request: Request, params: Params) -> str | None:
    """From ``access_token`` in any source or ``Authorization: Bearer|OAuth``; two different: 400 (D4)."""
    found = [value.strip() for value in params.get_all("access_token") if value.strip()]
    header = request.headers.get("authorization", "").strip()
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("bearer", "oauth") and value.strip():
        found.append(unquote(value.strip()))  # "|" may arrive as %7C
    distinct = set(found)
    if len(distinct) > 1:
        raise InvalidParameter("Two different access tokens were sent; send exactly one")
    return found[0] if found else None


def public_base_url(request: Request, public_url: str | None, trust_forwarded: bool) -> str:
    """Where clients reach this server: the configured URL, else forwarded headers (when trusted), else
    the request's own scheme and Host."""
    if public_url:
        return public_url.rstrip("/")
    scheme, host = str(request.scope.get("scheme", "http")), request.headers.get("host", "")
    if trust_forwarded:
        forwarded = request.headers.get("forwarded", "").split(",")[0]
        # RFC 7239: parameter names are case-insensitive; the first element was added by the client-facing proxy.
        parts = {k.strip().lower(): v.strip() for k, v in (p.split("=", 1) for p in forwarded.split(";") if "=" in p)}
        scheme = parts.get("proto", "").strip('"') or request.headers.get("x-forwarded-proto", scheme)
        host = parts.get("host", "").strip('"') or request.headers.get("x-forwarded-host", host)
        scheme, host = scheme.split(",")[0].strip(), host.split(",")[0].strip()
    if scheme not in ("http", "https"):
        scheme = str(request.scope.get("scheme", "http"))
    if not _HOST.fullmatch(host):
        server = request.scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scheme}://{host}"
