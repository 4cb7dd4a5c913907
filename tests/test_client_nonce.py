"""``AdminClient.mint_nonce`` (issue 5): a ``MintedNonce`` — the nonce string itself, so existing code keeps
working, with its ``expires_at`` on the server clock (D8, D36) — sync, async and from the CLI, and never
shown by ``repr`` (D11)."""

from __future__ import annotations

import asyncio
import json
import pickle

import pytest

from questgraph.cli import main
from questgraph.client import AdminClient, AsyncAdminClient, Client, MintedNonce
from tests.conftest import ADA_ID, ADMIN_KEY, APP_ID, APP_SECRET, GRACE_ID, RunningServer


def server_now(admin: AdminClient) -> int:
    return admin.clock().now


def test_mint_nonce_returns_the_nonce_and_its_expiry(qg: RunningServer) -> None:
    """The answer carries ``expires_at`` = server now + ttl (D36: the emulator clock, moved here by a day),
    and is still the nonce string that ``validate_nonce`` takes (backward compatible)."""
    with AdminClient(qg.url, admin_key=ADMIN_KEY) as admin, \
            Client(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url) as client:
        admin.advance_clock(86400)
        now = server_now(admin)
        minted = admin.mint_nonce(ADA_ID, ttl_seconds=120)
        assert isinstance(minted, MintedNonce) and isinstance(minted, str)
        assert now <= minted.expires_at - 120 <= now + 2  # the server clock, not the wall clock
        assert type(minted.nonce) is str and minted.nonce == minted and len(minted) == 64
        default = admin.mint_nonce(GRACE_ID)
        assert 300 <= default.expires_at - now <= 302  # the default life (D8)
        assert client.users.validate_nonce(minted, ADA_ID) is True  # passed on as before
        assert client.users.validate_nonce(minted.nonce, ADA_ID) is False  # single use


def test_minted_nonce_hides_itself_and_keeps_its_expiry() -> None:
    """D11: ``repr`` (logs, tracebacks) never shows the nonce; ``str``, formatting and JSON give it as
    before; a pickled copy keeps ``expires_at``."""
    minted = MintedNonce("Abc123Abc123Abc123", 1767225600)
    assert "Abc123" not in repr(minted) and "1767225600" in repr(minted)
    assert "Abc123" not in repr([minted]) and str(minted) == "Abc123Abc123Abc123"
    assert f"{minted}" == "Abc123Abc123Abc123" and json.dumps({"n": minted}) == '{"n": "Abc123Abc123Abc123"}'
    copy = pickle.loads(pickle.dumps(minted))
    assert isinstance(copy, MintedNonce) and copy == minted and copy.expires_at == 1767225600
    assert MintedNonce.from_json({"nonce": "x" * 64, "expires_at": "17"}).expires_at == 17


def test_async_mint_nonce(qg: RunningServer) -> None:
    """The async admin client answers the same typed result."""
    async def run() -> MintedNonce:
        async with AsyncAdminClient(qg.url, admin_key=ADMIN_KEY) as admin:
            return await admin.mint_nonce(ADA_ID, ttl_seconds=60)

    minted = asyncio.run(run())
    assert isinstance(minted, MintedNonce) and minted.expires_at > 0
    with Client(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url) as client:
        assert client.users.validate_nonce(minted, ADA_ID) is True


def test_cli_nonces_mint_json_has_the_expiry(qg: RunningServer, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """``questgraph nonces mint --json`` prints the nonce and ``expires_at``; without --json the bare nonce."""
    for name in ("QUESTGRAPH_BASE_URL", "QUESTGRAPH_ADMIN_KEY", "QUESTGRAPH_ACCESS_TOKEN", "QUESTGRAPH_APP_ID"):
        monkeypatch.delenv(name, raising=False)
    admin = ["--base-url", qg.url, "--admin-key", ADMIN_KEY]
    assert main(["nonces", "mint", ADA_ID, "--ttl", "90", *admin, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == {"nonce", "expires_at"} and isinstance(printed["expires_at"], int)
    assert main(["nonces", "mint", ADA_ID, *admin]) == 0
    bare = capsys.readouterr().out.strip()
    assert len(bare) == 64 and bare.isalnum()
    with Client(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url) as client:
        assert client.users.validate_nonce(printed["nonce"], ADA_ID) is True
        assert client.users.validate_nonce(bare, ADA_ID) is True
