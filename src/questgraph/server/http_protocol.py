"""uvicorn's HTTP/1.1 protocols, answering the requests their parsers refuse in the Graph envelope (D6).

A parser refuses some requests before any application code runs: httptools (llhttp, the fast C parser)
does not know a method such as FOO, and both parsers refuse a malformed request line or header. uvicorn
then writes a plain-text 400. These subclasses write what questgraph answers to any bad request instead:
the Graph 405 every unsupported method gets for an unknown method, a Graph 400 for anything else, as
JSON with a trace id. ``questgraph serve`` and the test servers use them (``protocol_class``).
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from questgraph.server.errors import GraphError, InvalidParameter, MethodNotAllowed
from questgraph.server.faults.transport import DROP_KEY
from questgraph.server.graph.responses import error_body, new_trace_id

PARSERS = ("auto", "httptools", "h11")
_REASONS = {400: b"Bad Request", 405: b"Method Not Allowed"}


def refusal(error: GraphError) -> bytes:
    """A whole HTTP/1.1 response for ``error``, closing the connection (the parser cannot go on)."""
    trace_id = new_trace_id()
    body = json.dumps(error_body(error, trace_id), separators=(",", ":")).encode()
    head = [b"HTTP/1.1 %d %s" % (error.status, _REASONS[error.status]),
            b"content-type: application/json; charset=utf-8", b"content-length: %d" % len(body),
            b"x-fb-trace-id: " + trace_id.encode(), b"connection: close"]
    if error.status == 405:
        head.append(b"allow: GET, POST, DELETE")
    return b"\r\n".join(head) + b"\r\n\r\n" + body


MALFORMED = "The HTTP request could not be parsed"


class HeadWithBody:
    """One response's transport (a uvicorn request cycle's): the status line and headers, uvicorn's first
    write, go out together with the body's first piece, in one send() instead of two (two system calls
    and two TCP segments per response, each waking the client). Everything else is the connection's."""

    def __init__(self, transport: Any) -> None:
        self.transport = transport
        self.head: bytes | None = None
        self.started = False

    def write(self, data: bytes) -> None:
        if not self.started:
            self.started, self.head = True, bytes(data)
            return
        if self.head is not None:
            data, self.head = self.head + data, None
        self.transport.write(data)

    def flush(self) -> None:
        if self.head is not None:
            head, self.head = self.head, None
            self.transport.write(head)

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


def offer_drop(protocol: Any) -> None:
    """Give each request of the connection a way to close it unanswered (a fault rule's drop,
    server/faults/transport.py): through the per-request copy uvicorn makes of ``app_state``."""
    protocol.app_state = {**protocol.app_state, DROP_KEY: lambda: protocol.transport.close()}


class GraphH11Protocol(H11Protocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        offer_drop(self)

    def send_400_response(self, msg: str) -> None:
        self.transport.write(refusal(InvalidParameter(MALFORMED)))
        self.transport.close()


try:  # the server extra installs httptools; without it, h11 serves alone
    import httptools
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - depends on the installation
    HAS_HTTPTOOLS = False
else:
    HAS_HTTPTOOLS = True

    # Module-level classes: `serve --workers` pickles the protocol class into each worker process.
    class GraphParser(httptools.HttpRequestParser):
        """Remembers that the method was what the parser refused."""

        def __init__(self, protocol: Any) -> None:
            super().__init__(protocol)
            self.protocol = protocol

        def feed_data(self, data: Any) -> None:
            try:
                super().feed_data(data)
            except httptools.HttpParserInvalidMethodError:
                # The method, for the message, when the refused request starts this chunk (it nearly always
                # does: a new request's first bytes are its method).
                token = bytes(data[:32]).split(b" ", 1)[0]
                self.protocol.refused_method = token.decode().lower() if token.isalpha() else "unknown"
                raise

    class GraphHttpToolsProtocol(HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.refused_method: str | None = None
            self.parser = GraphParser(self)
            offer_drop(self)
            with contextlib.suppress(AttributeError):  # as uvicorn sets up its own (httptools >= 0.6.3)
                self.parser.set_dangerous_leniencies(lenient_data_after_close=True)

        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            cycle = getattr(self, "cycle", None)
            if cycle is not None:
                head_with_body = HeadWithBody(cycle.transport)
                cycle.transport = head_with_body
                answered = cycle.on_response

                def on_response() -> None:
                    head_with_body.flush()  # a response with no body (HEAD) has written its head by now
                    answered()

                cycle.on_response = on_response

        def send_400_response(self, msg: str) -> None:
            error: GraphError = (MethodNotAllowed(f"Unsupported {self.refused_method} request.")
                                 if self.refused_method is not None else InvalidParameter(MALFORMED))
            self.transport.write(refusal(error))
            self.transport.close()


def protocol_class(parser: str = "auto") -> type[Any]:
    """The protocol for ``--http``: ``auto`` is httptools when it is installed (the server extra), else h11."""
    if parser not in PARSERS:
        raise ValueError(f"unknown HTTP parser {parser!r}: use one of {', '.join(PARSERS)}")
    if parser == "h11" or (parser == "auto" and not HAS_HTTPTOOLS):
        return GraphH11Protocol
    if not HAS_HTTPTOOLS:
        raise RuntimeError("--http httptools needs httptools: pip install 'questgraph[server]'")
    return GraphHttpToolsProtocol
