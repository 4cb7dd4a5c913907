"""User proof nonces declared in the world file (``nonces`` of ``[[users.apps]]``, docs/config.md; issue 3
§5): applied like ``POST /_admin/users/{id}/nonces`` — stored hashed (D11), single use and expiring on the
server clock (D8, D36) — and checked when the world is loaded, with errors that never repeat the nonce."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from questgraph.server.users.service import MAX_NONCE_TTL_SECONDS
from questgraph.server.world import World, WorldError
from tests.conftest import RunningServer, dump_database, start_server

APP = "4000000000000002"
APP_TOKEN = f"OC|{APP}|abcdef0123456789abcdef0123456789"
OTHER_APP = "4100000000000002"
OTHER_APP_TOKEN = f"OC|{OTHER_APP}|0123456789abcdef0123456789abcdef"
ADA, BOB, ADA_ELSEWHERE = "400000000000003", "400000000000004", "410000000000003"
SHORT_LIVED = "AdaShortLivedNonce000000000000001"  # the default life, 300 s (as the admin API, D8)
LONG_LIVED = "AdaLongLivedNonce_base64url-Ok+/=."  # every allowed punctuation mark
ELSEWHERE = "AdaInTheOtherApp0000000000000001"

WORLD: dict[str, Any] = {
    "orgs": [
        {"id": "4000000000000001", "name": "Studio",
         "apps": [{"id": APP, "name": "Game", "secret": "abcdef0123456789abcdef0123456789"}]},
        {"id": "4100000000000001", "name": "Other Studio",
         "apps": [{"id": OTHER_APP, "name": "Other", "secret": "0123456789abcdef0123456789abcdef"}]},
    ],
    "users": [
        {"alias": "ada", "apps": [
            {"app": APP, "id": ADA, "nonces": [SHORT_LIVED, {"nonce": LONG_LIVED, "ttl_seconds": 86400}]},
            {"app": OTHER_APP, "id": ADA_ELSEWHERE, "nonces": [{"nonce": ELSEWHERE}]},
        ]},
        {"alias": "bob", "apps": [{"app": APP, "id": BOB}]},
    ],
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    running = start_server(tmp_path, World(data=copy.deepcopy(WORLD), source="test"))
    yield running
    running.stop()


def valid(server: RunningServer, nonce: str, user_id: str, token: str = APP_TOKEN) -> bool:
    with server.client() as http:
        response = http.post("/user_nonce_validate", data={"nonce": nonce, "user_id": user_id},
                             headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return bool(response.json()["is_valid"])


def advance(server: RunningServer, seconds: int) -> None:
    with server.admin() as admin:
        assert admin.post("/_admin/clock", data={"advance_seconds": str(seconds)}).status_code == 200


def test_a_declared_nonce_validates_once_then_is_false(server: RunningServer) -> None:
    """D8: the world's nonce is a real user proof: true once for its user and app, then false."""
    assert valid(server, SHORT_LIVED, ADA) is True
    assert valid(server, SHORT_LIVED, ADA) is False
    assert valid(server, LONG_LIVED, ADA) is True  # the other nonce of the same user is its own
    assert valid(server, LONG_LIVED, ADA) is False


def test_the_default_life_is_the_admin_apis_300_seconds(server: RunningServer) -> None:
    """D8/D36: without ttl_seconds a declared nonce lives 300 s from when the world is applied, on the
    server clock; one with ttl_seconds lives that long. (The clock runs: the world was applied a moment
    before this test, so 290 s leaves a margin, and 300 s from now is past the life for sure.)"""
    advance(server, 290)
    assert valid(server, SHORT_LIVED, ADA) is True
    advance(server, 290)
    assert valid(server, LONG_LIVED, ADA) is True  # 86400 s: still alive at 580 s


def test_a_declared_nonce_expires_on_the_server_clock(server: RunningServer) -> None:
    """D36: moving the emulator clock past the life makes the nonce false, unspent or not."""
    advance(server, 300)
    assert valid(server, SHORT_LIVED, ADA) is False  # valid while now < expires_at
    advance(server, 86400)
    assert valid(server, LONG_LIVED, ADA) is False


def test_another_app_or_user_cannot_spend_a_declared_nonce(server: RunningServer) -> None:
    """D8 isolation: another app's token, or the nonce named for another user (of this app or the same
    person in another app), is false, and does not spend the nonce for its rightful user and app."""
    assert valid(server, SHORT_LIVED, ADA, OTHER_APP_TOKEN) is False
    assert valid(server, SHORT_LIVED, ADA_ELSEWHERE, OTHER_APP_TOKEN) is False
    assert valid(server, SHORT_LIVED, BOB) is False
    assert valid(server, ELSEWHERE, ADA) is False  # the other app's nonce, shown to this app
    assert valid(server, SHORT_LIVED, ADA) is True
    assert valid(server, ELSEWHERE, ADA_ELSEWHERE, OTHER_APP_TOKEN) is True


def test_declared_nonces_are_stored_only_hashed(server: RunningServer) -> None:
    """D11: the database holds no declared nonce in the clear."""
    dump = dump_database(server)
    for nonce in (SHORT_LIVED, LONG_LIVED, ELSEWHERE):
        assert nonce not in dump


def test_a_reset_plants_the_declared_nonces_again(server: RunningServer) -> None:
    """``POST /_admin/reset`` applies the world afresh: a spent declared nonce is live again."""
    assert valid(server, SHORT_LIVED, ADA) is True
    with server.admin() as admin:
        assert admin.post("/_admin/reset").json() == {"success": True}
    assert valid(server, SHORT_LIVED, ADA) is True
    assert valid(server, SHORT_LIVED, ADA) is False


def with_nonces(nonces: Any, user: int = 0) -> dict[str, Any]:
    data = copy.deepcopy(WORLD)
    data["users"][user]["apps"][0]["nonces"] = nonces
    return data


SECRET = "ThisNonceMustNeverBeEchoed0001"


@pytest.mark.parametrize(("nonces", "message"), [
    ("abc", "users[0] (ada).apps[0].nonces: must be a list"),
    ([7], "users[0] (ada).apps[0].nonces[0]: must be a nonce (a string) or a table"),
    ([{"nonce": SECRET, "ttl": 5}], "users[0] (ada).apps[0].nonces[0]: unknown key 'ttl' (known keys: nonce, "
                                     "ttl_seconds)"),
    ([{"ttl_seconds": 5}], "users[0] (ada).apps[0].nonces[0]: a nonce must be a string of 16 to 1024"),
    (["short"], "users[0] (ada).apps[0].nonces[0]: a nonce must be a string of 16 to 1024"),
    ([SECRET + " with spaces"], "users[0] (ada).apps[0].nonces[0]: a nonce must be a string of 16 to 1024"),
    ([SECRET + "\n"], "users[0] (ada).apps[0].nonces[0]: a nonce must be a string of 16 to 1024"),
    (["x" * 1025], "users[0] (ada).apps[0].nonces[0]: a nonce must be a string of 16 to 1024"),
    ([{"nonce": SECRET, "ttl_seconds": 0}], "nonces[0]: ttl_seconds must be an integer from 1 to 2592000"),
    ([{"nonce": SECRET, "ttl_seconds": True}], "nonces[0]: ttl_seconds must be an integer from 1 to"),
    ([{"nonce": SECRET, "ttl_seconds": "60"}], "nonces[0]: ttl_seconds must be an integer from 1 to"),
    ([{"nonce": SECRET, "ttl_seconds": MAX_NONCE_TTL_SECONDS + 1}], "ttl_seconds must be an integer from 1 to"),
    ([SECRET, {"nonce": SECRET}], "users[0] (ada).apps[0].nonces[1]: the same nonce is already given to "
                                  "users[0] (ada).apps[0].nonces[0]"),
])
def test_bad_nonces_are_refused_at_load_without_echoing_them(nonces: Any, message: str) -> None:
    """Checked at load like the rest of the world; the nonce, a secret, is never in the message (D11)."""
    with pytest.raises(WorldError) as caught:
        World(with_nonces(nonces), "bad.toml")
    text = str(caught.value)
    assert text.startswith("bad.toml: ") and message in text, text
    assert SECRET not in text


def test_the_same_nonce_for_two_users_is_refused() -> None:
    """A nonce is one row keyed by its digest (D8): two users cannot be given the same one."""
    data = with_nonces([SECRET])
    data["users"][1]["apps"][0]["nonces"] = [SECRET]
    with pytest.raises(WorldError, match=r"users\[1\] \(bob\)\.apps\[0\]\.nonces\[0\]: the same nonce is already "
                                         r"given to users\[0\] \(ada\)\.apps\[0\]\.nonces\[0\]"):
        World(data, "bad.toml")


def test_the_longest_nonce_validate_accepts_can_be_declared(tmp_path: Path) -> None:
    """1024 characters, the most ``user_nonce_validate`` looks up (D8), is accepted and validates."""
    longest = "N" * 1024
    running = start_server(tmp_path, World(with_nonces([longest]), "test"))
    try:
        assert valid(running, longest, ADA) is True
    finally:
        running.stop()


def test_the_admin_api_still_mints_alongside_declared_nonces(server: RunningServer) -> None:
    """Minting through the admin API is unchanged by the world's nonces (both live side by side)."""
    with server.admin() as admin:
        minted = admin.post(f"/_admin/users/{ADA}/nonces", data={"ttl_seconds": "60"}).json()
    assert set(minted) == {"nonce", "expires_at"} and minted["nonce"] not in (SHORT_LIVED, LONG_LIVED)
    assert valid(server, minted["nonce"], ADA) is True
    assert valid(server, SHORT_LIVED, ADA) is True


def test_user_nonce_validate_with_a_declared_nonce_over_get(server: RunningServer) -> None:
    """The GET form of user_nonce_validate (docs/api.md) reads a declared nonce the same way."""
    response = httpx.get(f"{server.url}/user_nonce_validate",
                         params={"access_token": APP_TOKEN, "nonce": SHORT_LIVED, "user_id": ADA})
    assert response.status_code == 200 and response.json() == {"is_valid": True}
