"""Baseline (a), the ceiling: the smallest ASGI app, answering every request with the same fixed JSON.

Run under the same server as questgraph (uvicorn, same worker count) by ``bench/load.py``: its
throughput is what uvicorn + HTTP/1.1 over loopback allow on this machine, before any application
work. It is a baseline for comparison only, not part of questgraph.

    uvicorn --app-dir bench/peers ceiling:app --workers 2 --no-access-log
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]

BODY = b'{"success":true,"did_update":false,"updated_challenge_ids":[]}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope: Scope, receive: Callable[[], Awaitable[Message]],
              send: Callable[[Message], Awaitable[None]]) -> None:
    if scope["type"] == "lifespan":  # uvicorn probes lifespan; answer it so start-up is quiet
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    # Drain the request body (a POST like a submit), as a real endpoint would have to.
    more = True
    while more:
        message = await receive()
        more = bool(message.get("more_body"))
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
