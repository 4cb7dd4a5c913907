"""Shared fixtures: a real questgraph server (uvicorn on a free port, on a real SQLite file or a real
PostgreSQL schema) and HTTP clients.

Most tests share one server per session and reset it to ``tests/world.toml`` before each test through
the admin API; tests that need their own settings start their own server with ``start_server``.

Every integration test runs on both backends (issue 6): a test that uses the shared server, asks for the
``backend`` fixture, or lives in a module that imports ``start_server`` is parametrized ``[sqlite]`` and
``[postgres]``. A PostgreSQL server gets a schema of its own in the test database (``qg_t_<random>``,
dropped when the session ends), so tests never see each other's state. Without a reachable PostgreSQL
the ``[postgres]`` variants skip, except when the ``CI`` environment variable is set: then they fail (as
does every test that would skip for a missing Redis, playwright or chromium: ``skip_or_fail``).
Tests that only make sense on SQLite (they read or write its file) carry ``@pytest.mark.sqlite_only``;
tests only about PostgreSQL carry ``@pytest.mark.postgres_only`` (no ``[sqlite]`` variant that would skip).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import secrets
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote

import httpx
import pytest
import uvicorn

from questgraph.server.app import Server
from questgraph.server.http_protocol import protocol_class
from questgraph.server.settings import Settings
from questgraph.server.world import World

WORLD_FILE = Path(__file__).with_name("world.toml")
BACKENDS = ("sqlite", "postgres")
# The PostgreSQL database the tests use (trust auth on CI's machine and here); each server gets a schema.
POSTGRES_URL = os.environ.get("QUESTGRAPH_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
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
                                log_level="warning", lifespan="on", proxy_headers=False, http=protocol_class())
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
        self.server.db.close()  # PostgreSQL: give the pool's connections back

    @property
    def backend(self) -> str:
        return "postgres" if self.settings.database.startswith("postgresql://") else "sqlite"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)

    def admin(self) -> httpx.Client:
        return self.client(headers={"Authorization": f"Bearer {self.settings.admin_key}"})


# --- backends -----------------------------------------------------------------------------------------------
_current_backend = "sqlite"  # of the running test: start_server's default (set by _backend_of_test)
_schemas: dict[str, str] = {}  # database key (a path) → its PostgreSQL URL, one schema each
_postgres_problem: list[str | None] = []  # memo: why PostgreSQL cannot be used, None when it can


def postgres_problem() -> str | None:
    """None when the test PostgreSQL answers; else why not (checked once per session)."""
    if not _postgres_problem:
        try:
            import psycopg

            with psycopg.connect(POSTGRES_URL, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            _postgres_problem.append(None)
        except Exception as exc:  # driver missing, refused, unknown database…
            _postgres_problem.append(f"PostgreSQL is not reachable at {POSTGRES_URL}: {type(exc).__name__}: {exc}")
    return _postgres_problem[0]


def skip_or_fail(reason: str) -> NoReturn:
    """Skip, saying why (a laptop without PostgreSQL, Redis, playwright, chromium or curl); when the ``CI``
    environment variable is set, fail instead: CI's machine has all of them, and a test that skips there
    tests nothing while the run stays green. Usable at module level too."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this test may not skip)")
    pytest.skip(reason, allow_module_level=True)


def import_or_skip(module: str, reason: str) -> Any:
    """``pytest.importorskip`` that fails under CI (``skip_or_fail``)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        skip_or_fail(reason)


def require_postgres() -> None:
    """Skip (a laptop without PostgreSQL) or, when CI is set, fail: CI's machine has PostgreSQL."""
    problem = postgres_problem()
    if problem is not None:
        skip_or_fail(problem)


def postgres_database(key: str) -> str:
    """The URL of the PostgreSQL schema standing for the database ``key`` (a file path a test would have
    used with SQLite): the same key gives the same schema, so a restarted server finds its data."""
    if key not in _schemas or key == ":memory:":
        import psycopg

        schema = f"qg_t_{secrets.token_hex(6)}"
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        _schemas[key] = f"{POSTGRES_URL}?options={quote(f'-c search_path={schema}')}"
    return _schemas[key]


def drop_postgres_schemas() -> None:
    if not _schemas:
        return
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '10s'")
        for url in _schemas.values():
            schema = url.rsplit("%3D", 1)[1]
            # A server a test never stopped may still hold a lock: then the schema is left behind.
            with contextlib.suppress(psycopg.Error):
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    _schemas.clear()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: the test reads or writes SQLite's file; not run on PostgreSQL")
    config.addinivalue_line("markers", "postgres_only: the test is about PostgreSQL; run only as [postgres]")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Integration tests run once per backend (see the module docstring)."""
    if metafunc.definition.get_closest_marker("sqlite_only") is not None:
        return
    names = metafunc.fixturenames
    if "shared_server" in names or "backend" in names or hasattr(metafunc.module, "start_server"):
        if "backend" not in names:
            names.append("backend")  # a test calling start_server itself: request the fixture for it
        only_postgres = metafunc.definition.get_closest_marker("postgres_only") is not None
        metafunc.parametrize("backend", ("postgres",) if only_postgres else BACKENDS, indirect=True, scope="session")


def pytest_sessionfinish(session: pytest.Session) -> None:
    drop_postgres_schemas()


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    """The storage backend of the test: "sqlite" or "postgres"."""
    name = str(getattr(request, "param", "sqlite"))
    if name == "postgres":
        require_postgres()
    return name


@pytest.fixture(autouse=True)
def _backend_of_test(request: pytest.FixtureRequest) -> Iterator[None]:
    global _current_backend
    callspec = getattr(request.node, "callspec", None)
    _current_backend = callspec.params.get("backend", "sqlite") if callspec is not None else "sqlite"
    if _current_backend == "postgres":
        require_postgres()
    yield
    _current_backend = "sqlite"


def start_server(tmp_path: Path, world: World | None = None, *, backend: str | None = None,
                 **settings: Any) -> RunningServer:
    """A new server on a fresh database: a SQLite file in ``tmp_path`` (or the ``database`` given), or,
    when the test runs on PostgreSQL, a schema standing for that file."""
    options: dict[str, Any] = {"database": str(tmp_path / "questgraph.sqlite3"), "port": free_port(),
                               "admin_key": ADMIN_KEY}
    options.update(settings)
    if (backend or _current_backend) == "postgres" and not str(options["database"]).startswith("postgresql://"):
        options["database"] = postgres_database(str(options["database"]))
    return RunningServer(Settings(**options), world if world is not None else World.load(WORLD_FILE)).start()


def run_sql(server: RunningServer, sql: str, params: tuple[Any, ...] = ()) -> int:
    """Change the server's database directly (``?`` placeholders, either backend): for states no API can
    make. Returns the number of rows changed."""
    return int(server.server.db.run(sql, params).rowcount)


def database_failure(server: RunningServer) -> Exception:
    """What the server's own driver raises when its database fails (an I/O error, a lost connection), for
    a test to inject: sqlite3's error on SQLite, psycopg's on PostgreSQL, never one the backend cannot raise."""
    if server.backend == "sqlite":
        return sqlite3.OperationalError("disk I/O error")
    import psycopg

    return psycopg.OperationalError("server closed the connection unexpectedly")


def dump_database(server: RunningServer) -> str:
    """Every value the server's database holds, as text, on either backend: SQLite's SQL dump of the file,
    or every PostgreSQL table row by row (for "this secret is stored nowhere" checks, D11)."""
    if server.backend == "sqlite":
        with contextlib.closing(sqlite3.connect(server.settings.database)) as conn:
            return "\n".join(conn.iterdump())
    import psycopg

    lines: list[str] = []
    with psycopg.connect(server.settings.database) as conn:
        for table in server.server.db.tables():
            lines.extend(repr(row) for row in conn.execute(f"SELECT * FROM {table}"))
    return "\n".join(lines)


@pytest.fixture(scope="session")
def shared_server(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp(f"shared-{backend}"), backend=backend)
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
