"""A dropped connection (docs/fault-injection.md): the answer to a ``drop`` rule is no answer at all.

``questgraph serve`` and the test servers run uvicorn through server/http_protocol.py, whose protocols
put a ``DROP_KEY`` callable in each request's ``scope["state"]`` that closes the request's connection. Under
another ASGI server the response starts with a length it never sends, so the client still sees the
connection end without an answer (that server logs it as an incomplete response)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

DROP_KEY = "questgraph.drop_connection"
DROPPED = 444  # nginx's "connection closed without response": what /metrics and the inspector record


class DroppedResponse(Response):
    def __init__(self) -> None:
        super().__init__(b"", status_code=DROPPED)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        drop = scope.get("state", {}).get(DROP_KEY)
        if drop is None:
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1")]})
            return
        drop()
        while (await receive())["type"] != "http.disconnect":  # until the server has seen the connection go
            pass
