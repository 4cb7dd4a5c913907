"""Platform integrity from the Python client (sync and async), the CLI and the pytest plugin: mint an
attestation token with chosen claims, verify it, ban and lift its device (graph-api.md A.4)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest

from questgraph.cli import main
from questgraph.client import (
    AdminClient,
    AsyncAdminClient,
    AsyncClient,
    AttestationVerdict,
    BanStatus,
    Client,
    InvalidParameter,
    MintedAttestation,
)
from questgraph.testing import QuestgraphServer
from tests.conftest import ADMIN_KEY, APP_ID, APP_SECRET, RIVAL_APP_ID, RunningServer


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("QUESTGRAPH_BASE_URL", "QUESTGRAPH_ADMIN_KEY", "QUESTGRAPH_ACCESS_TOKEN", "QUESTGRAPH_APP_ID"):
        monkeypatch.delenv(name, raising=False)


def test_sync_client_round_trip(qg: RunningServer) -> None:
    with AdminClient(qg.url, admin_key=ADMIN_KEY) as admin, \
            Client(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url) as client:
        minted = admin.mint_attestation_token(APP_ID, device_integrity_state="NotTrusted", unique_id="client-dev-1",
                                              package_cert_sha256_digest=["aa", "bb"], ttl_seconds=60)
        assert isinstance(minted, MintedAttestation) and minted.token not in repr(minted)
        verdict = client.integrity.verify(minted.token)
        assert verdict.ok and verdict.claims == minted.claims
        assert verdict.claims["device_state"] == {"device_integrity_state": "NotTrusted", "unique_id": "client-dev-1"}
        assert verdict.claims["app_state"]["package_cert_sha256_digest"] == ["aa", "bb"]
        assert client.integrity.verify(minted.token[:-2] + "AA") == AttestationVerdict("invalid signature")
        ban_id = client.integrity.ban_device(unique_id="client-dev-1", minutes=15)
        assert client.integrity.ban_status(ban_id=ban_id) == BanStatus(True, 15)
        assert client.integrity.verify(minted.token).claims["device_ban"] == {  # type: ignore[index]
            "is_banned": True, "remaining_ban_time": 15}
        assert [b.ban_id for b in client.integrity.ban_ids()] == [ban_id]
        assert [b["unique_id"] for b in admin.device_bans(APP_ID)] == ["client-dev-1"]
        client.integrity.lift_ban(ban_id=ban_id)
        assert client.integrity.ban_status(unique_id="client-dev-1") == BanStatus(False, 0)
        with pytest.raises(InvalidParameter) as raised:
            client.integrity.ban_status(ban_id=ban_id)
        assert raised.value.code == -1 and raised.value.subcode == 1614033
        admin.advance_clock(60)
        assert client.integrity.verify(minted.token) == AttestationVerdict("token expired")
        with pytest.raises(ValueError):
            client.integrity.ban_status()


def test_ban_ids_follow_the_pages(qg: RunningServer) -> None:
    with AdminClient(qg.url, admin_key=ADMIN_KEY) as admin, \
            Client(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url) as client:
        made = [client.integrity.ban_device(unique_id=admin.mint_attestation_token(APP_ID).unique_id, minutes=5)
                for _ in range(5)]
        assert [b.ban_id for b in client.integrity.ban_ids(limit=2)] == made
        page = client.integrity.ban_ids_page(limit=2)
        assert [b.ban_id for b in page.data] == made[:2] and page.has_next and len(page.data[0].creation_date) == 10
        rest = client.integrity.ban_ids_page(limit=10, after=page.after)
        assert [b.ban_id for b in rest.data] == made[2:] and not rest.has_next


def test_async_client_round_trip(qg: RunningServer) -> None:
    async def run() -> tuple[AttestationVerdict, BanStatus, AttestationVerdict]:
        async with AsyncAdminClient(qg.url, admin_key=ADMIN_KEY) as admin, \
                AsyncClient(app_id=RIVAL_APP_ID, access_token=f"OC|{RIVAL_APP_ID}|99999999999999999999999999999999",
                            base_url=qg.url) as rival:
            minted = await admin.mint_attestation_token(RIVAL_APP_ID, app_integrity_state="NotEvaluated")
            verdict = await rival.integrity.verify(minted.token)
            ban_id = await rival.integrity.ban_device(unique_id=minted.unique_id, minutes=3)
            status = await rival.integrity.ban_status(ban_id=ban_id)
            bans = [b.ban_id async for b in rival.integrity.ban_ids()]
            assert bans == [ban_id]
            await rival.integrity.lift_ban(unique_id=minted.unique_id)
            return verdict, status, await rival.integrity.verify(minted.token)

    verdict, status, after = asyncio.run(run())
    assert verdict.ok and verdict.claims and verdict.claims["app_state"]["app_integrity_state"] == "NotEvaluated"
    assert status == BanStatus(True, 3)
    assert after.ok and after.claims and "device_ban" not in after.claims


def test_cli_mint_and_bans(qg: RunningServer, capsys: pytest.CaptureFixture[str]) -> None:
    admin = ["--base-url", qg.url, "--admin-key", ADMIN_KEY]
    assert main(["attestation", "mint", APP_ID, "--device-state", "Basic", "--unique-id", "cli-device-01",
                 "--cert-digest", "ab", "--cert-digest", "cd", "--ttl", "90", *admin, "--json"]) == 0
    minted = json.loads(capsys.readouterr().out)
    assert minted["unique_id"] == "cli-device-01" and minted["claims"]["device_state"]["device_integrity_state"] == \
        "Basic"
    assert minted["claims"]["app_state"]["package_cert_sha256_digest"] == ["ab", "cd"]
    assert main(["attestation", "mint", APP_ID, *admin]) == 0
    token = capsys.readouterr().out.strip()
    assert token.count(".") == 2
    with Client(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url) as client:
        assert client.integrity.verify(token).ok
        client.integrity.ban_device(unique_id="cli-device-01", minutes=4)
    assert main(["attestation", "bans", APP_ID, *admin]) == 0
    out = capsys.readouterr().out
    assert out.split()[:4] == ["BAN_ID", "UNIQUE_ID", "CREATED_AT", "EXPIRES_AT"] and "cli-device-01" in out
    assert main(["attestation", "bans", APP_ID, *admin, "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["unique_id"] == "cli-device-01" and row["expires_at"] - row["created_at"] == 240
    assert main(["attestation", "mint", APP_ID, "--nonce", "short", *admin]) != 0
    assert "nonce" in capsys.readouterr().err


def test_pytest_fixture(questgraph: QuestgraphServer, questgraph_client: Client,
                        questgraph_attestation: Callable[..., MintedAttestation]) -> None:
    """The plugin's fixture: a token of the first app, accepted by the same server's verify."""
    minted = questgraph_attestation(device_integrity_state="Basic", unique_id="plugin-device-1")
    verdict = questgraph_client.integrity.verify(minted.token)
    assert verdict.ok and verdict.claims and verdict.claims["device_state"]["unique_id"] == "plugin-device-1"
    assert questgraph_client.integrity.ban_device(unique_id="plugin-device-1", minutes=1)
    assert questgraph_client.integrity.ban_status(unique_id="plugin-device-1").is_banned
