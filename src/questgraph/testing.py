"""``questgraph.testing``: a pytest plugin that gives each test its own questgraph server.

Registered as a ``pytest11`` entry point, so it is active wherever questgraph is installed (with the
``server`` extra). It adds fixtures only, and imports the server lazily, when a test asks for one.

Fixtures:

* ``questgraph_world``: the world (a dict in the world-file shape, docs/config.md) the ``questgraph``
  fixture starts from. Override it in a conftest.py or a test module, or mark a test with
  ``@pytest.mark.questgraph_world({...})``. The default is ``DEFAULT_WORLD``: one app with a leaderboard
  and two users.
* ``questgraph``: a fresh server for the test (in-memory SQLite, uvicorn in a thread on a free port),
  a ``QuestgraphServer`` with ``url``, ``client()``, ``user_client(alias)``, ``admin`` and ``token(alias)``.
* ``questgraph_client``: ``questgraph.client()``, a ``Client`` with the first app's token.
* ``questgraph_attestation``: ``mint(**claims)``, an attestation token of the first app with the chosen
  claims (``device_integrity_state="Basic"``, ``unique_id=…``, ``ttl_seconds=…``), signed by the server so
  that ``GET /platform_integrity/verify`` accepts it: a game's anti-cheat path can run in CI.
* ``questgraph_faults``: the server's fault rules (docs/fault-injection.md): ``add(**rule)``, ``list()``,
  ``get(id)``, ``clear()``; cleared after the test.
* ``questgraph_factory``: a function ``make(world) -> QuestgraphServer`` for tests that need several
  servers or build their world on the fly. Every server it starts stops at the end of the test.

Example (in your own back-end's tests)::

    @pytest.mark.questgraph_world({"orgs": [{"name": "S", "apps": [{"id": "1234567890123456", "name": "G",
        "secret": "s3cr3ts3cr3ts3cr3t", "leaderboards": [{"api_name": "laps", "sort_order": "LOWER_IS_BETTER"}]}]}],
        "users": [{"alias": "ada", "apps": [{"app": "1234567890123456"}]}]})
    def test_my_backend_posts_lap_times(questgraph, questgraph_client):
        my_backend = MyBackend(graph_url=questgraph.url, app_token=questgraph.app_token())
        my_backend.finish_lap(questgraph.user_id("ada"), 61234)
        assert [e.score for e in questgraph_client.leaderboards.entries("laps")] == [61234]

The world takes every key of a world file, so a test can start from any state of every feature:
achievement definitions with progress (``"achievements"`` of an app), an IAP catalogue (``"items"``), and,
per user and app, grants (``"purchases"``) and user proof nonces (``"nonces"``, single use, 300 s by
default)::

    SHOP = {"orgs": [{"name": "S", "apps": [{"id": "6666666666666666", "name": "Shop", "secret": "abcdefabcdefabcdef01",
        "achievements": [{"api_name": "laps", "achievement_type": "COUNT", "target": 10, "title": "Laps",
                          "description": "10 laps", "progress": [{"user": "zoe", "add_count": 9}]}],
        "items": [{"sku": "sword", "type": "DURABLE", "name": "Sword", "price": 299},
                  {"sku": "pass", "type": "SUBSCRIPTION", "name": "Pass", "price": 499,
                   "subscription_term": "MONTHLY", "trial_type": "FREE_TRIAL", "trial_term": "WEEKLY"}]}]}],
        "users": [{"alias": "zoe", "apps": [{"app": "6666666666666666", "purchases": ["sword", {"sku": "pass"}],
                                             "nonces": ["PluginTestNonce00000000000000001"]}]}]}

    @pytest.mark.questgraph_world(SHOP)
    def test_my_backend_unlocks_content(questgraph, questgraph_client):
        zoe = questgraph.user_id("zoe")
        assert questgraph_client.entitlements.verify(zoe, sku="sword")
        assert questgraph_client.users.validate_nonce("PluginTestNonce00000000000000001", zoe)

Federated (cross-play) users are declared per app (``"federated_users"``) and play as any user;
``questgraph.federated_client(persistent_id)`` is a ``Client`` with a token of one::

    @pytest.mark.questgraph_world({"orgs": [{"name": "S", "apps": [{"id": "1234567890123456", "name": "G",
        "secret": "s3cr3ts3cr3ts3cr3t", "leaderboards": [{"api_name": "laps", "sort_order": "LOWER_IS_BETTER"}],
        "federated_users": [{"persistent_id": "steam-1", "display_name": "Lancelot"}]}]}]})
    def test_cross_play_laps(questgraph):
        questgraph.federated_client("steam-1").leaderboards.submit_entry("laps", 61234)

A world that cannot be applied (say a grant of a sku not in the catalogue) fails the test at set-up with a
``WorldError`` naming the item at fault.
"""

from __future__ import annotations

import copy
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from questgraph.client import AdminClient, Client, MintedAttestation, SentNotification

if TYPE_CHECKING:
    import uvicorn

    from questgraph.server.app import Server

C = TypeVar("C", Client, AdminClient)
ADMIN_KEY = "questgraph-testing-admin-key"
DEFAULT_APP_ID = "1234757621998335"
DEFAULT_APP_SECRET = "0123456789abcdef0123456789abcdef"
DEFAULT_WORLD: dict[str, Any] = {
    "orgs": [{
        "id": "1000000000000001", "name": "Test Studio",
        "sso_redirect_uris": ["http://localhost:3000/auth/callback"],
        "apps": [{
            "id": DEFAULT_APP_ID, "name": "Test Game", "secret": DEFAULT_APP_SECRET,
            "leaderboards": [{"api_name": "best_leaderboard", "sort_order": "HIGHER_IS_BETTER"}],
        }],
    }],
    "users": [
        {"alias": "ada", "friends": ["grace"],
         "apps": [{"app": DEFAULT_APP_ID, "id": "123402235207175",
                   "tokens": ["OCadaTestToken0000000000000000000000000000000000000000000000000000000000000000"]}]},
        {"alias": "grace",
         "apps": [{"app": DEFAULT_APP_ID, "id": "123402235207176",
                   "tokens": ["OCgraceTestToken00000000000000000000000000000000000000000000000000000000000000"]}]},
    ],
}


SKIP_INI = "questgraph_skip_without_server"
_skip_without_server = False  # the ini option, read at configure time


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(SKIP_INI, "skip (instead of failing) tests that need the questgraph server when its extra "
                            "is not installed", type="bool", default=False)


def pytest_configure(config: pytest.Config) -> None:
    global _skip_without_server
    _skip_without_server = bool(config.getini(SKIP_INI))
    config.addinivalue_line("markers", "questgraph_world(world): the world (a world-file dict) of the questgraph "
                                       "fixture for this test")


class QuestgraphServer:
    """A questgraph server running in this process for one test, with clients for its apps and users."""

    def __init__(self, world: dict[str, Any]) -> None:
        try:
            import uvicorn

            from questgraph.server.app import Server
            from questgraph.server.http_protocol import protocol_class
            from questgraph.server.settings import Settings
            from questgraph.server.world import World
        except ImportError as exc:
            missing: str | None = exc.name
        else:
            missing = None
        if missing is not None:
            # A failure, not a skip: a CI run that tests nothing must not go green. Skipping is an opt-in.
            message = (f"questgraph.testing needs the questgraph server ({missing} is missing): "
                       'pip install "questgraph[server]"')
            if _skip_without_server:
                pytest.skip(f"{message} (skipped: {SKIP_INI} is set)")
            pytest.fail(f"{message}, or set `{SKIP_INI} = true` in your pytest configuration to skip these tests "
                        "instead", pytrace=False)
        self.world = copy.deepcopy(world)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        settings = Settings(database=":memory:", port=port, admin_key=ADMIN_KEY)
        self.server: Server = Server(settings, World(data=copy.deepcopy(world), source="questgraph_world"))
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(self.server.asgi(), host="127.0.0.1", port=port, log_level="warning",
                                lifespan="on", proxy_headers=False, access_log=False, http=protocol_class())
        self._uvicorn: uvicorn.Server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._uvicorn.run, name=f"questgraph:{port}", daemon=True)
        self._clients: list[Client | AdminClient] = []
        self._thread.start()
        self._wait_ready()
        self.admin = self._keep(AdminClient(self.url, admin_key=ADMIN_KEY))

    def _wait_ready(self) -> None:
        import httpx

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if not self._thread.is_alive():
                raise RuntimeError("the questgraph test server stopped while starting")
            try:
                if httpx.get(f"{self.url}/_health/ready", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.01)
        raise RuntimeError("the questgraph test server did not become ready in 30 s")

    def _keep(self, client: C) -> C:
        self._clients.append(client)
        return client

    def _apps(self) -> list[dict[str, Any]]:
        return [app for org in self.world.get("orgs", []) for app in org.get("apps", [])]

    def app_token(self, app_id: str | None = None) -> str:
        """``OC|id|secret`` of the app ``app_id`` (default: the world's first app); it needs ``id`` and
        ``secret`` in the world."""
        for app in self._apps():
            if app_id is None or str(app.get("id")) == str(app_id):
                if "id" not in app or "secret" not in app:
                    raise ValueError(f"app {app.get('name')!r} needs an id and a secret in the world for a token")
                return f"OC|{app['id']}|{app['secret']}"
        raise ValueError(f"no app {app_id} in the world" if app_id else "the world has no app")

    def client(self, app_id: str | None = None, **options: Any) -> Client:
        """A ``Client`` of this server with the app token of ``app_id`` (default: the first app)."""
        return self._keep(Client(access_token=self.app_token(app_id), base_url=self.url, **options))

    def _member(self, alias: str, app_id: str | None) -> tuple[dict[str, Any], str]:
        app = str(app_id or next(iter(self._apps()), {}).get("id"))
        for user in self.world.get("users", []):
            if user.get("alias") == alias:
                for member in user.get("apps", []):
                    if str(member.get("app")) == app:
                        return member, app
        raise ValueError(f"no user {alias!r} in app {app} of the world")

    def user_id(self, alias: str, app_id: str | None = None) -> str:
        """The app-scoped id of ``alias`` in the app (default: the first app)."""
        member, app = self._member(alias, app_id)
        if "id" in member:
            return str(member["id"])
        return next(u.id for u in self.admin.users(app) if u.alias == alias)

    def token(self, alias: str, app_id: str | None = None) -> str:
        """A user access token of ``alias``: the first declared in the world, else a new one."""
        member, app = self._member(alias, app_id)
        tokens = member.get("tokens") or []
        return str(tokens[0]) if tokens else self.admin.mint_token(self.user_id(alias, app))

    def user_client(self, alias: str, app_id: str | None = None, **options: Any) -> Client:
        """A ``Client`` with a user token of ``alias`` (for viewer-centred reads and client writes)."""
        _, app = self._member(alias, app_id)
        return self._keep(Client(app_id=app, access_token=self.token(alias, app_id), base_url=self.url,
                                 **options))

    def federated_client(self, persistent_id: str, app_id: str | None = None, **options: Any) -> Client:
        """A ``Client`` with a new user token of the app's federated user ``persistent_id`` (A.2; declared
        under ``"federated_users"`` of the app, or created by the test)."""
        app = str(app_id or next(iter(self._apps()), {}).get("id"))
        token = self.client(app).federated_users.gen_access_token(persistent_id)
        return self._keep(Client(app_id=app, access_token=token, base_url=self.url, **options))

    def attestation_token(self, app_id: str | None = None, **claims: Any) -> MintedAttestation:
        """An attestation token of the app (default: the first) with the chosen claims (``unique_id``,
        ``nonce``, ``app_integrity_state``, ``device_integrity_state``, ``package_id``, ``version``,
        ``package_cert_sha256_digest``, ``ttl_seconds``), for ``GET /platform_integrity/verify``."""
        app = str(app_id or next(iter(self._apps()), {}).get("id"))
        return self.admin.mint_attestation_token(app, **claims)

    def stop(self) -> None:
        for client in self._clients:
            client.close()
        self._uvicorn.should_exit = True
        self._thread.join(timeout=10)

    def __repr__(self) -> str:
        return f"QuestgraphServer(url={self.url!r})"


@pytest.fixture
def questgraph_world(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The world of the ``questgraph`` fixture: a ``questgraph_world`` mark's, else ``DEFAULT_WORLD``."""
    marker = request.node.get_closest_marker("questgraph_world")
    if marker is not None:
        if len(marker.args) != 1 or not isinstance(marker.args[0], dict):
            raise pytest.UsageError("@pytest.mark.questgraph_world takes one dict in the world-file shape")
        return dict(marker.args[0])
    return copy.deepcopy(DEFAULT_WORLD)


@pytest.fixture
def questgraph_factory() -> Iterator[Callable[[dict[str, Any]], QuestgraphServer]]:
    """``make(world)`` starts a fresh questgraph server with that world; all stop after the test."""
    started: list[QuestgraphServer] = []

    def make(world: dict[str, Any]) -> QuestgraphServer:
        server = QuestgraphServer(world)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def questgraph(questgraph_factory: Callable[[dict[str, Any]], QuestgraphServer],
               questgraph_world: dict[str, Any]) -> QuestgraphServer:
    """A fresh questgraph server for this test, started from ``questgraph_world``."""
    return questgraph_factory(questgraph_world)


@pytest.fixture
def questgraph_client(questgraph: QuestgraphServer) -> Client:
    """A ``Client`` of the test's questgraph server with the first app's token."""
    return questgraph.client()


# --- fault injection (docs/fault-injection.md) -------------------------------------------------------------
class FaultRules:
    """The fault rules of a test's server, through its admin API (``/_admin/faults``)."""

    def __init__(self, server: QuestgraphServer) -> None:
        self.url = f"{server.url}/_admin/faults"
        self.headers = {"Authorization": f"Bearer {ADMIN_KEY}"}

    def add(self, **rule: Any) -> dict[str, Any]:
        """A new rule (the fields of docs/fault-injection.md: ``route``, ``app_id``, ``kind``, ``status``,
        ``code``, ``latency_ms``, ``count``, ``probability``, ``seed``, …); returns it, with its ``id``."""
        import httpx

        values = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in rule.items() if v is not None}
        response = httpx.post(self.url, data=values, headers=self.headers, timeout=10)
        if response.status_code != 200:
            raise ValueError(f"the fault rule was refused: {response.json()['error']['message']}")
        return dict(response.json())

    def list(self) -> list[dict[str, Any]]:
        """Every rule, with its ``remaining`` count and ``hits``."""
        import httpx

        response = httpx.get(self.url, headers=self.headers, timeout=10)
        response.raise_for_status()
        return list(response.json()["data"])

    def get(self, rule_id: str) -> dict[str, Any]:
        return next(r for r in self.list() if r["id"] == str(rule_id))

    def clear(self) -> None:
        import httpx

        httpx.delete(self.url, headers=self.headers, timeout=10).raise_for_status()


@pytest.fixture
def questgraph_faults(questgraph: QuestgraphServer) -> Iterator[FaultRules]:
    """Fault rules of the ``questgraph`` server: ``questgraph_faults.add(route="/leaderboard_submit_entry",
    status=503, count=1)`` makes the next submit answer Meta's transient 503; cleared after the test."""
    rules = FaultRules(questgraph)
    yield rules
    rules.clear()
# --- user notifications (D37) ----------------------------------------------------------------------------------
@pytest.fixture
def questgraph_notifications(questgraph: QuestgraphServer) -> Callable[..., list[SentNotification]]:
    """``sent(app_id=None)``: every notification the app (default: the world's first app) triggered on the
    test's server, oldest first, to assert on what a backend sent. Nothing is delivered anywhere."""

    def sent(app_id: str | None = None) -> list[SentNotification]:
        app = app_id or next((str(a["id"]) for a in questgraph._apps() if "id" in a), None)
        if app is None:
            raise ValueError("the world's first app needs an id; pass app_id")
        return questgraph.admin.notifications(app)

    return sent


@pytest.fixture
def questgraph_attestation(questgraph: QuestgraphServer) -> Callable[..., MintedAttestation]:
    """``mint(**claims)``: an attestation token of the first app with the chosen claims, as the headset would
    hand the game (``mint(device_integrity_state="Basic").token``); verify it with
    ``questgraph_client.integrity.verify``."""
    return questgraph.attestation_token
