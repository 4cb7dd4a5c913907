"""Shared fixtures: a real questgraph server (uvicorn on a free port, a real SQLite file) and HTTP clients.

Most tests share one server per session and reset it to ``tests/world.toml`` before each test through
the admin API; tests that need their own settings start their own server with ``start_server``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from questgraph.server.app import Server
from questgraph.server.settings import Settings
from questgraph.server.world import World

WORLD_FILE = Path(__file__).with_name("world.toml")
ADMIN_KEY = "test-admin-key"

# Identities of tests/world.toml (Meta's documentation examples use the first app, user and tokens).
APP_ID = "1234757621998335"
APP_SECRET = "1234f7a788b0c0b270f9691d0a06d5a5"
APP_TOKEN = f"OC|{APP_ID}|{APP_SECRET}"
ADA_ID = "123402235207175"
ADA_TOKEN = "OC1234OYRxTfgiFehJN4PrZBx4PH1D5SfGWn7z1ix06dpsZAhHPhN9z1F"
GRACE_ID = "123402235207176"
GRACE_TOKEN = "FRL12342GhFccWvUBxPMR4KXzM5s2ZCMp0mlWGq0ZBrOMXyjh4EmuAPvaXiMCAMV9okNm9DXdUA2EWNplrQ"
LINUS_ID = "123402235207177"
LINUS_TOKEN = "OCtestLinusToken000000000000000000000000000000000000000000000000000000000000000000000"
UNENTITLED_ID = "123402235207178"
UNENTITLED_TOKEN = "OCtestUnentitledToken0000000000000000000000000000000000000000000000000000000000000000"
RIVAL_APP_ID = "2000000000000002"
RIVAL_APP_TOKEN = f"OC|{RIVAL_APP_ID}|99999999999999999999999999999999"
RIVAL_ID = "200000000000003"
RIVAL_TOKEN = "OCtestRivalToken000000000000000000000000000000000000000000000000000000000000000000000"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    """A questgraph server in a background thread, reachable over real HTTP."""

    settings: Settings
    world: World | None
    server: Server = field(init=False)
    _uvicorn: uvicorn.Server = field(init=False)
    _thread: threading.Thread = field(init=False)

    def start(self) -> RunningServer:
        self.server = Server(self.settings, self.world)
        config = uvicorn.Config(self.server.asgi(), host="127.0.0.1", port=self.settings.port,
                                log_level="warning", lifespan="on", proxy_headers=False)
        self._uvicorn = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._uvicorn.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/_health/ready", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        raise RuntimeError("questgraph test server did not become ready")

    def stop(self) -> None:
        self._uvicorn.should_exit = True
        self._thread.join(timeout=10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)

    def admin(self) -> httpx.Client:
        return self.client(headers={"Authorization": f"Bearer {self.settings.admin_key}"})


def start_server(tmp_path: Path, world: World | None = None, **settings: Any) -> RunningServer:
    """A new server on a fresh SQLite file in ``tmp_path`` (or the ``database`` given)."""
    options: dict[str, Any] = {"database": str(tmp_path / "questgraph.sqlite3"), "port": free_port(),
                               "admin_key": ADMIN_KEY}
    options.update(settings)
    return RunningServer(Settings(**options), world if world is not None else World.load(WORLD_FILE)).start()


@pytest.fixture(scope="session")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("shared"))
    yield server
    server.stop()


@pytest.fixture
def qg(shared_server: RunningServer) -> Iterator[RunningServer]:
    """The shared server, reset to tests/world.toml (clock included) before the test."""
    with shared_server.admin() as admin:
        admin.post("/_admin/reset").raise_for_status()
    yield shared_server


@pytest.fixture
def http(qg: RunningServer) -> Iterator[httpx.Client]:
    """A plain HTTP client of the reset shared server, with no token set."""
    with qg.client() as client:
        yield client


@pytest.fixture
def admin(qg: RunningServer) -> Iterator[httpx.Client]:
    with qg.admin() as client:
        yield client


def assert_graph_error(response: httpx.Response, status: int, code: int, type_: str | None = None,
                       subcode: int | None = None) -> dict[str, Any]:
    """The D6 envelope with the D7 row; returns the error object for further checks."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code, error
    if type_ is not None:
        assert error["type"] == type_, error
    if subcode is not None:
        assert error.get("error_subcode") == subcode, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["is_transient"], bool)
    assert len(error["fbtrace_id"]) == 23
    assert response.headers["x-fb-trace-id"] == error["fbtrace_id"]
    return dict(error)
