"""The Graph and admin APIs fuzzed against their OpenAPI document (server/openapi.py): schemathesis makes
requests that fit the document and requests that do not, hypothesis makes the values of the JSON-valued
parameters, the cursors and the ``fields`` selections; each operation gets ``EXAMPLES`` of them, on SQLite
and on PostgreSQL + Redis, with the tokens of tests/world.toml (app, users, another app's, none, made-up).

Every answer must be: not a 5xx (the server is healthy: there is no outage to excuse one); of the document
(status, content type, headers, the schema of the answer or of the error envelope, D6); an error envelope
whose trace id is the header's; and a refused request (any 4xx), like any read, must leave the data as it
was (the admin snapshot before and after). Set ``QG_FUZZ_EXAMPLES`` for a longer run.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks

from questgraph.server import openapi
from questgraph.server.world import World
from tests.conftest import (
    ADA_ID,
    ADA_TOKEN,
    ADMIN_KEY,
    APP_ID,
    APP_TOKEN,
    GRACE_ID,
    GRACE_TOKEN,
    LINUS_ID,
    LINUS_TOKEN,
    RIVAL_APP_ID,
    RIVAL_APP_TOKEN,
    RIVAL_ID,
    RIVAL_TOKEN,
    UNENTITLED_ID,
    UNENTITLED_TOKEN,
    WORLD_FILE,
    RunningServer,
    start_server,
)
from tests.redis_support import drop_prefix, redis_url, require_redis

EXAMPLES = int(os.environ.get("QG_FUZZ_EXAMPLES", "10"))  # per operation and backend: ~1.5 minutes each
DOCUMENT = openapi.build()
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
OPERATIONS = {op.ok().label: op.ok() for op in SCHEMA.get_all_operations()}
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_headers_conformance, checks.response_schema_conformance]
ORG_ID, RIVAL_ORG_ID = "1000000000000001", "2000000000000001"
# Weighted to the app's own tokens, so that most requests get past authentication to the handler.
GRAPH_TOKENS = [APP_TOKEN] * 5 + [ADA_TOKEN] * 2 + [GRACE_TOKEN, LINUS_TOKEN, UNENTITLED_TOKEN, RIVAL_APP_TOKEN,
                                                    RIVAL_TOKEN, None, "", "OC" + "x" * 60, "not a token",
                                                    "OC|1234757621998335|00000000000000000000000000000000"]
ADMIN_TOKENS = [ADMIN_KEY] * 8 + [None, "wrong-admin-key"]
# Admin writes after which the next requests would no longer be about the test world (its tokens, its clock).
UNSETTLING = {"/_admin/reset", "/_admin/snapshot", "/_admin/clock", "/_admin/apps/{app_id}/secret",
              "/_admin/orgs/{org_id}/apps"}
# What the world below holds, for the parameters a random string would (almost) never name.
KNOWN: dict[str, list[str]] = {
    "api_name": ["best_leaderboard", "server_board", "MY_NEW_LEADERBOARD", "LAPS_100", "FIRST_FINISH", "CONTINENTS"],
    "api_names": ["LAPS_100,CONTINENTS", '["FIRST_FINISH"]'],
    "sku": ["EXAMPLE1", "gems_100", "PASS"], "skus": ["EXAMPLE1,PASS", '["PASS"]'],
    "user_id": [ADA_ID, GRACE_ID, LINUS_ID, UNENTITLED_ID, RIVAL_ID], "owner_id": [ADA_ID, GRACE_ID],
    "owner_alias": ["ada", "grace"], "friend_id": [GRACE_ID, RIVAL_ID], "user_ids": [f"{ADA_ID},{GRACE_ID}"],
    "filter": ["FRIENDS", "USER_IDS"], "start_at": ["CENTERED_ON_VIEWER", "OFFSET"], "score": ["100", "-5"],
}
# tests/world.toml, with achievements, a catalogue and purchases in the first app (so reads have rows).
EXTRA_APP = """
    [[orgs.apps.achievements]]
    api_name = "FIRST_FINISH"
    achievement_type = "SIMPLE"
    title = "First finish"
    description = "Finish a race"
    progress = [{ user = "grace", force_unlock = true }]

    [[orgs.apps.achievements]]
    api_name = "LAPS_100"
    achievement_type = "COUNT"
    target = 100
    title = "Century"
    description = "Drive 100 laps"
    progress = [{ user = "ada", add_count = 42 }]

    [[orgs.apps.achievements]]
    api_name = "CONTINENTS"
    achievement_type = "BITFIELD"
    target = 3
    bitfield_length = 7
    title = "Globetrotter"
    description = "Race on three continents"
    is_secret = true
    progress = [{ user = "ada", add_bits = "1001000" }]

    [[orgs.apps.items]]
    sku = "EXAMPLE1"
    type = "DURABLE"
    name = "Red car"
    price = 299

    [[orgs.apps.items]]
    sku = "gems_100"
    type = "CONSUMABLE"
    name = "100 gems"
    price = 99

    [[orgs.apps.items]]
    sku = "PASS"
    type = "SUBSCRIPTION"
    name = "Racer Pass"
    price = 199
    subscription_term = "MONTHLY"
    trial_type = "FREE_TRIAL"
    trial_term = "WEEKLY"

"""


def fuzz_world(folder: Path) -> World:
    text = WORLD_FILE.read_text()
    rival = text.index("[[orgs]]", text.index("[[orgs]]") + 1)
    text = text[:rival] + EXTRA_APP + text[rival:]
    for token, purchases in ((ADA_TOKEN, '["EXAMPLE1", "gems_100", "PASS"]'), (GRACE_TOKEN, '[{ sku = "PASS" }]')):
        text = text.replace(f'tokens = ["{token}"]', f'tokens = ["{token}"]\n  purchases = {purchases}')
    path = folder / "fuzz-world.toml"
    path.write_text(text)
    return World.load(path)


ENVELOPE_KEYS = {"message", "type", "code", "is_transient", "error_data", "fbtrace_id"}


# --- hypothesis: the values schemathesis cannot know ----------------------------------------------------------
def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
ID_TEXT = st.sampled_from([APP_ID, ADA_ID, GRACE_ID, RIVAL_ID, "0", "9" * 19, "9" * 20, "-1"]) | st.from_regex(
    r"\A[0-9]{1,20}\Z")
NAMES = st.sampled_from(["best_leaderboard", "server_board", "MY_NEW_LEADERBOARD", "EXAMPLE1", "x"]) | st.text(
    max_size=10)
DEEP = st.integers(60, 80).map(lambda n: "[" * n + "]" * n)  # past the decoder's 64 levels (D2)


def _lists(item: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    """A list as a JSON array, a comma list, Meta's quoted form, or anything JSON."""
    items = st.lists(item, max_size=5)
    quoted = items.map(lambda xs: "[" + ",".join(f"'{x}'" for x in xs) + "]")
    return st.one_of(items.map(json.dumps), items.map(lambda xs: ",".join(map(str, xs))), quoted,
                     JSON_VALUES.map(json.dumps), DEEP)


CURSORS = st.one_of(
    st.binary(min_size=24, max_size=24).map(lambda key: _b64(b"\x01" + key)),  # leaderboard entries
    st.tuples(st.integers(0, 2**64), st.integers(0, 2**64)).map(lambda k: _b64(f"a1:{k[0]}:{k[1]}".encode())),
    st.lists(JSON_VALUES, max_size=3).map(lambda key: _b64(json.dumps(["qgc1", *key]).encode())),  # commerce lists
    DEEP.map(lambda text: _b64(text.encode())), st.binary(max_size=40).map(_b64), st.text(max_size=30),
)
FIELD_NAMES = sorted({name for schema in openapi.GRAPH_SCHEMAS.values() for name in schema.get("properties", {})})
_SELECTED = st.recursive(
    st.sampled_from(FIELD_NAMES),
    lambda inner: st.builds(lambda name, subs: f"{name}{{{','.join(subs)}}}", st.sampled_from(FIELD_NAMES),
                            st.lists(inner, max_size=3)),
    max_leaves=8,
)
FIELDS = st.lists(_SELECTED, max_size=5).map(", ".join) | st.text(alphabet="{},_ az", max_size=20)

schemathesis.openapi.format("cursor", CURSORS)
schemathesis.openapi.format("json", st.one_of(
    JSON_VALUES.map(json.dumps), st.dictionaries(st.text(max_size=6), st.text(max_size=8)).map(json.dumps), DEEP,
    st.text(max_size=20)))
schemathesis.openapi.format("id-list", _lists(ID_TEXT))
schemathesis.openapi.format("name-list", _lists(NAMES))
schemathesis.openapi.format("fields", FIELDS)


# --- the server and what the fuzzer knows of its world ----------------------------------------------------------
@dataclass
class Fuzzed:
    server: RunningServer
    session: requests.Session = field(default_factory=requests.Session)
    admin: requests.Session = field(default_factory=requests.Session)
    object_ids: list[str] = field(default_factory=list)
    snapshot: Any = None
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.admin.headers["Authorization"] = f"Bearer {ADMIN_KEY}"

    def get(self, path: str, **params: str) -> Any:
        response = self.admin.get(self.server.url + path, params=params, timeout=30)
        response.raise_for_status()
        return response.json()

    def take_snapshot(self) -> Any:
        self.snapshot = self.get("/_admin/snapshot")
        return self.snapshot

    def reset(self) -> None:
        self.admin.post(self.server.url + "/_admin/reset", timeout=60).raise_for_status()
        # The ids a GET or DELETE /{id} can name: boards and entries are made anew by every reset (D9).
        ids = [ADA_ID, RIVAL_ID, APP_ID]
        for app_id, token in ((APP_ID, APP_TOKEN), (RIVAL_APP_ID, RIVAL_APP_TOKEN)):
            boards = self.session.get(f"{self.server.url}/{app_id}/leaderboards",
                                      headers={"Authorization": f"Bearer {token}"}, timeout=30).json()["data"]
            ids += [b["id"] for b in boards]
        entries = self.session.get(f"{self.server.url}/leaderboard_entries", params={"api_name": "best_leaderboard"},
                                   headers={"Authorization": f"Bearer {RIVAL_APP_TOKEN}"}, timeout=30).json()
        ids += [e["id"] for e in entries["data"]]
        self.object_ids = ids
        self.take_snapshot()

    def path_values(self, name: str) -> list[str]:
        return {
            "app_id": [APP_ID, RIVAL_APP_ID],
            "user_id": [ADA_ID, GRACE_ID, LINUS_ID, UNENTITLED_ID, RIVAL_ID],
            "org_id": [ORG_ID, RIVAL_ORG_ID],
            "id": self.object_ids,
        }.get(name, [])


@pytest.fixture(scope="module")
def fuzzed(backend: str, tmp_path_factory: pytest.TempPathFactory,
           request: pytest.FixtureRequest) -> Iterator[Fuzzed]:
    """A server of its own: the fuzzer writes, resets and moves the clock. PostgreSQL runs with Redis."""
    prefix = None
    options: dict[str, Any] = {}
    if backend == "postgres":
        require_redis()
        prefix = f"qgfuzz{secrets.token_hex(4)}"
        options["rank_index"] = redis_url(prefix=prefix)
    folder = tmp_path_factory.mktemp(f"fuzz-{backend}")
    server = start_server(folder, fuzz_world(folder), backend=backend, **options)
    state = Fuzzed(server)
    try:
        yield state
    finally:
        state.session.close()
        state.admin.close()
        server.stop()
        if prefix is not None:
            drop_prefix(prefix)
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        if reporter is not None and capture is not None:
            with capture.global_and_fixture_disabled():
                statuses = ", ".join(f"{k}xx: {v}" for k, v in sorted(state.statuses.items()))
                reporter.write_line(f"\nfuzz [{backend}]: {state.requests} requests against {len(OPERATIONS)} "
                                    f"operations ({statuses})")


# --- the checks ---------------------------------------------------------------------------------------------
def check_envelope(response: schemathesis.Response) -> None:
    """D6: every error is the envelope, its trace id the header's."""
    error = response.json()["error"]
    assert ENVELOPE_KEYS <= set(error) <= ENVELOPE_KEYS | {"error_subcode"}, error
    assert isinstance(error["message"], str) and error["message"], error
    assert isinstance(error["code"], int) and isinstance(error["is_transient"], bool), error
    assert [error["fbtrace_id"]] == response.headers["x-fb-trace-id"], error
    assert not error["is_transient"], error  # a transient error is an outage, and this server has none


def changes_data(case: Any) -> bool:
    """Whether the request may write: not a GET, or a GET that ``method=`` turns into a write (D3)."""
    sent = {**(case.query or {}), **(case.body if isinstance(case.body, dict) else {})}
    return case.method.upper() != "GET" or "method" in sent


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_fuzz(label: str, fuzzed: Fuzzed) -> None:
    operation = OPERATIONS[label]
    admin = operation.path.startswith("/_admin")
    strategies = {mode: operation.as_strategy(generation_mode=mode) for mode in GenerationMode}
    fuzzed.reset()

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate, Phase.shrink])
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        case = data.draw(strategies[data.draw(st.sampled_from(list(GenerationMode)), label="mode")], label="case")
        for name in list(case.path_parameters or {}):
            known = fuzzed.path_values(name)
            if known and data.draw(st.integers(0, 3), label=f"known {name}") > 0:
                case.path_parameters[name] = data.draw(st.sampled_from(known), label=name)
        for container in (case.query, case.body):
            if isinstance(container, dict):
                for name in [n for n in container if n in KNOWN]:
                    if data.draw(st.booleans(), label=f"known {name}"):
                        container[name] = data.draw(st.sampled_from(KNOWN[name]), label=name)
        # Our tokens, not the document's schemes': in one of the places D4 reads them from.
        if case.query:
            case.query.pop("access_token", None)
        if case.headers:
            case.headers.pop("Authorization", None)
        token = data.draw(st.sampled_from(ADMIN_TOKENS if admin else GRAPH_TOKENS), label="token")
        headers: dict[str, str] = {}
        place = data.draw(st.sampled_from(["Bearer", "OAuth", "access_token"]), label="token place")
        if token is not None and place == "access_token":
            case.query = {**(case.query or {}), "access_token": token}
        elif token is not None:
            headers["Authorization"] = f"{place} {token}"
        try:
            response = case.call(base_url=fuzzed.server.url, session=fuzzed.session, headers=headers, timeout=30)
        except (UnicodeError, requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL):
            return  # a request that requests cannot send (a header or URL of no encoding)
        fuzzed.requests += 1
        fuzzed.statuses[response.status_code // 100] += 1
        case.validate_response(response, checks=CHECKS, headers=headers)
        status = response.status_code
        if status >= 400:
            check_envelope(response)
        if status >= 400 or not changes_data(case):
            before = fuzzed.snapshot
            assert fuzzed.take_snapshot() == before, f"{label} answered {status} and changed the data"
        elif admin and operation.path in UNSETTLING:
            fuzzed.reset()
        else:
            fuzzed.take_snapshot()

    run()

