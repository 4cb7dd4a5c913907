"""PostgreSQL becomes unreachable under a running server (D7): readiness says so within seconds, so a load
balancer takes the replica out of its rotation, Graph calls answer their transient 503 within a few
seconds (a bounded connect timeout and pool wait, docs/deployment.md), and all recovers by itself when
PostgreSQL is back. The server reaches PostgreSQL through a small TCP proxy that the test stops (closing
every connection it carried, as a failed host or a network cut would) and starts again on the same port."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from questgraph.server.db.postgres import POOL_CONNECT_TIMEOUT_S, POOL_WAIT_S
from questgraph.server.health import TIMEOUT_S, TTL_S
from tests import conftest
from tests.conftest import ADA_ID, APP_TOKEN, assert_graph_error

BOARD = "best_leaderboard"
# A Graph call during the outage waits at most for a pooled connection (which no new connection can
# fill), plus the time to find its pooled connections dead; the slack is for a loaded test machine.
GRAPH_503_WITHIN_S = POOL_WAIT_S + POOL_CONNECT_TIMEOUT_S + 2
READY_503_WITHIN_S = TIMEOUT_S + 2


class Proxy:
    """Forwards 127.0.0.1:<port> to PostgreSQL until stopped; started again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = conftest.free_port()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        """Refuse new connections and cut every open one."""
        assert self._listener is not None
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # stopped
                return
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def proxy() -> Iterator[Proxy]:
    conftest.require_postgres()
    host, port = conftest.POSTGRES_URL.split("@", 1)[1].split("/", 1)[0].split(":")
    running = Proxy((host, int(port)))
    running.start()
    yield running
    with contextlib.suppress(Exception):
        running.stop()


def timed(call: httpx.Client, method: str, path: str, **kwargs: object) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call.request(method, path, **kwargs)  # type: ignore[arg-type]
    return response, time.monotonic() - started


def test_postgres_unreachable_is_not_ready_and_graph_calls_fail_fast(tmp_path: Path, proxy: Proxy) -> None:
    database = conftest.postgres_database(str(tmp_path / "outage.sqlite3"))
    host_port = conftest.POSTGRES_URL.split("@", 1)[1].split("/", 1)[0]
    server = conftest.start_server(tmp_path, backend="postgres",
                                   database=database.replace(host_port, f"127.0.0.1:{proxy.port}", 1))
    headers = {"Authorization": f"Bearer {APP_TOKEN}"}
    read = {"api_name": BOARD, "fields": "score"}
    write = {"api_name": BOARD, "score": "7", "user_id": ADA_ID}
    try:
        with server.client() as http:
            ready = http.get("/_health/ready")
            assert ready.status_code == 200, ready.text
            assert ready.json()["database"] == {"kind": "postgres", "state": "up"}
            assert http.post("/leaderboard_submit_entry", headers=headers, data=write).status_code == 200

            proxy.stop()
            time.sleep(TTL_S)  # what readiness remembers of the last check
            health, took = timed(http, "GET", "/_health/ready")
            assert took < READY_503_WITHIN_S, took
            assert health.status_code == 503, health.text
            assert health.json()["status"] == "down"
            assert health.json()["database"] == {"kind": "postgres", "state": "down"}
            assert health.json()["rank_index"]["state"] == "ready"  # the index is fine; the database is not
            for _ in range(3):
                for method, kwargs in (("GET", {"params": read}), ("POST", {"data": write})):
                    response, took = timed(http, method, "/leaderboard_submit_entry" if method == "POST"
                                           else "/leaderboard_entries", headers=headers, **kwargs)
                    error = assert_graph_error(response, 503, 2, "OCApiException")
                    assert error["is_transient"] is True
                    assert took < GRAPH_503_WITHIN_S, (method, took)
            live = http.get("/_health/live")  # liveness never touches a dependency
            assert live.status_code == 200

            proxy.start()
            deadline = time.monotonic() + 60
            while http.get("/_health/ready").status_code != 200:
                assert time.monotonic() < deadline, "never ready again"
                time.sleep(0.2)
            deadline = time.monotonic() + 30
            while (response := http.get("/leaderboard_entries", headers=headers, params=read)).status_code != 200:
                assert response.status_code == 503, response.text  # a connection the outage left broken
                assert time.monotonic() < deadline, "Graph calls never recovered"
                time.sleep(0.2)
            assert [row["score"] for row in response.json()["data"]] == [7]  # the write before the outage
    finally:
        server.stop()
