"""``questgraph proxy``: an ``HTTPS_PROXY``-style forward proxy that answers only for Meta's two hosts, so a
client that honours ``HTTPS_PROXY`` (curl, Python requests and httpx, Go, .NET, Java with its proxy
properties) reaches ``questgraph serve --tls`` at an unmodified ``https://graph.oculus.com/…`` URL without a
hosts entry or port 443 (docs/drop-in.md).

It understands one request: ``CONNECT graph.oculus.com:443`` (or ``auth.oculus.com:443``), answers ``200`` and
then copies bytes both ways between the client and questgraph's TLS port. TLS stays end to end (the client
checks questgraph's certificate for graph.oculus.com; the proxy sees only ciphertext). Anything else (another
host or port, a plain-HTTP proxy request) is a ``403`` that says what it serves, and it connects nowhere
else: it is not an open proxy. ``502`` when questgraph does not answer at its address.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

META_HOSTS = ("graph.oculus.com", "auth.oculus.com")
MAX_HEAD = 8192  # a CONNECT request and its headers are a few hundred bytes
HEAD_TIMEOUT = 10.0  # seconds a client has to send its request
CHUNK = 65536

log = logging.getLogger("questgraph.proxy")


async def _answer(writer: asyncio.StreamWriter, status: str, message: str) -> None:
    body = (message + "\n").encode()
    writer.write(f"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
                 "Connection: close\r\n\r\n".encode() + body)
    with contextlib.suppress(ConnectionError):
        await writer.drain()
    writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(CHUNK):
            writer.write(chunk)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            writer.close()


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: tuple[str, int]) -> None:
    """One client connection: a CONNECT to a Meta host becomes a tunnel to questgraph; anything else a 403."""
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
        writer.close()
        return
    words = head.split(b"\r\n", 1)[0].decode("latin-1").split()
    served = " and ".join(f"{host}:443" for host in META_HOSTS)
    if len(words) != 3 or words[0].upper() != "CONNECT":
        await _answer(writer, "403 Forbidden", f"questgraph proxy: only CONNECT to {served} is served "
                      "(HTTPS_PROXY, not HTTP_PROXY)")
        return
    host, _, port = words[1].rpartition(":")
    if host.lower().rstrip(".") not in META_HOSTS or port != "443":
        await _answer(writer, "403 Forbidden", f"questgraph proxy: only {served} are served, not {words[1][:100]}")
        return
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection(*target)
    except OSError as exc:
        await _answer(writer, "502 Bad Gateway", f"questgraph proxy: questgraph does not answer at "
                      f"{target[0]}:{target[1]} ({exc.strerror or exc}); is `questgraph serve --tls` running there?")
        return
    writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
    await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))


async def serve(host: str, port: int, target: tuple[str, int]) -> None:
    server = await asyncio.start_server(lambda r, w: handle(r, w, target), host, port, limit=MAX_HEAD)
    log.info("questgraph proxy on %s:%d sends %s to %s:%d", host, port, ", ".join(META_HOSTS), *target)
    async with server:
        await server.serve_forever()


def run(host: str, port: int, target: tuple[str, int]) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(host, port, target))
