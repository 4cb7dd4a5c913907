"""Devices declared in the world file (``devices`` of ``[[orgs.apps]]``, docs/config.md): known to their app
(device_ban and device_ban_status accept them), banned for ``banned_minutes`` on the server clock from when
the world is applied, and checked when the world is loaded."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from questgraph.server.world import World, WorldError
from tests.conftest import RunningServer, start_server

APP = "4200000000000002"
APP_TOKEN = f"OC|{APP}|abcdef0123456789abcdef0123456789"
OTHER_APP = "4300000000000002"
OTHER_APP_TOKEN = f"OC|{OTHER_APP}|0123456789abcdef0123456789abcdef"

WORLD: dict[str, Any] = {
    "orgs": [
        {"id": "4200000000000001", "name": "Studio",
         "apps": [{"id": APP, "name": "Game", "secret": "abcdef0123456789abcdef0123456789",
                   "devices": ["quest-device-free", {"unique_id": "quest-device-banned", "banned_minutes": 90}]}]},
        {"id": "4300000000000001", "name": "Other Studio",
         "apps": [{"id": OTHER_APP, "name": "Other", "secret": "0123456789abcdef0123456789abcdef",
                   "devices": [{"unique_id": "other-device-01"}]}]},
    ],
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    running = start_server(tmp_path, World(data=copy.deepcopy(WORLD), source="test"))
    yield running
    running.stop()


def status(http: httpx.Client, unique_id: str, token: str = APP_TOKEN) -> httpx.Response:
    return http.get("/platform_integrity/device_ban_status", params={"unique_id": unique_id, "access_token": token})


def test_declared_devices_and_bans(server: RunningServer) -> None:
    with server.client() as http, server.admin() as admin:
        assert status(http, "quest-device-free").json()["data"][0] == {
            "message": "Success", "is_banned": False, "remaining_time_in_minute": 0}
        assert status(http, "quest-device-banned").json()["data"][0] == {
            "message": "Success", "is_banned": True, "remaining_time_in_minute": 90}
        listing = http.get("/platform_integrity/device_ban_ids", params={"access_token": APP_TOKEN}).json()
        assert len(listing["data"][0]["all_ban_ids"]) == 1
        # each app knows only its own devices
        assert status(http, "other-device-01", APP_TOKEN).json()["error"]["error_subcode"] == 1614027
        assert status(http, "quest-device-free", OTHER_APP_TOKEN).json()["error"]["error_subcode"] == 1614027
        # a minted token names a declared device; its ban runs out on the server clock
        minted = admin.post(f"/_admin/apps/{APP}/attestation_tokens",
                            data={"unique_id": "quest-device-banned"}).json()
        claims = http.get("/platform_integrity/verify", params={"token": minted["token"], "access_token": APP_TOKEN})
        assert claims.json()["data"][0]["message"] == "success"
        assert admin.post("/_admin/clock", data={"advance_seconds": str(90 * 60)}).status_code == 200
        assert status(http, "quest-device-banned").json()["data"][0]["is_banned"] is False
        # a reset plants the devices and bans afresh
        assert admin.post("/_admin/reset").status_code == 200
        assert status(http, "quest-device-banned").json()["data"][0]["remaining_time_in_minute"] == 90


def with_devices(devices: Any) -> dict[str, Any]:
    data = copy.deepcopy(WORLD)
    data["orgs"][0]["apps"][0]["devices"] = devices
    return data


@pytest.mark.parametrize(("devices", "message"), [
    ("quest-device-free", "orgs[0] (Studio).apps[0] (Game).devices: must be a list"),
    ([42], "devices[0]: must be a unique id (a string) or a table"),
    (["short"], "devices[0]: unique_id must be 8 to 128 letters, digits or _ - ="),
    (["has spaces in it"], "devices[0]: unique_id must be 8 to 128"),
    ([{"banned_minutes": 5}], "devices[0]: unique_id must be 8 to 128"),
    ([{"unique_id": "quest-device-x", "banned": 5}], "devices[0]: unknown key 'banned'"),
    ([{"unique_id": "quest-device-x", "banned_minutes": -1}], "banned_minutes must be an integer from 0 to 52560000"),
    ([{"unique_id": "quest-device-x", "banned_minutes": 52560001}], "banned_minutes must be an integer from 0"),
    ([{"unique_id": "quest-device-x", "banned_minutes": True}], "banned_minutes must be an integer from 0"),
    ([{"unique_id": "quest-device-x", "banned_minutes": "5"}], "banned_minutes must be an integer from 0"),
    (["quest-device-x", "quest-device-x"], "devices[1]: unique_id 'quest-device-x' is already declared by"),
    (["other-device-01"], "devices[0]: unique_id 'other-device-01' is already declared by"),
])
def test_bad_devices_are_refused_at_load(devices: Any, message: str) -> None:
    with pytest.raises(WorldError) as caught:
        World(with_devices(devices), "bad.toml")
    assert str(caught.value).startswith("bad.toml: ") and message in str(caught.value), str(caught.value)
