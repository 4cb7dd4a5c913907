"""The ``questgraph`` commands of achievements, IAP, subscriptions and account linking, run through
``questgraph.cli.main`` against the shared server: tables, ``--json``, and errors that say what to do."""

from __future__ import annotations

import json

import httpx
import pytest

from questgraph.cli import main
from questgraph.client import Client
from tests import sso_support
from tests.conftest import ADA_ID, ADMIN_KEY, APP_ID, APP_SECRET, APP_TOKEN, GRACE_ID, RunningServer
from tests.test_cli import table


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("QUESTGRAPH_BASE_URL", "QUESTGRAPH_ADMIN_KEY", "QUESTGRAPH_ACCESS_TOKEN", "QUESTGRAPH_APP_ID"):
        monkeypatch.delenv(name, raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_catalogue_grant_history_purchases_and_subscriptions(qg: RunningServer,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """Admin: catalogue add/list, grant, history; Graph: purchases USER and subscriptions list (D29, §3.3, §6.1)."""
    admin = ["--base-url", qg.url, "--admin-key", ADMIN_KEY]
    graph = ["--base-url", qg.url, "--token", APP_TOKEN]
    code, out, _ = run(capsys, "catalogue", "add", APP_ID, "EXAMPLE1", "DURABLE", "Sword", "--price", "299", *admin,
                       "--json")
    assert code == 0 and json.loads(out)["sku"] == "EXAMPLE1" and json.loads(out)["price"] == 299
    code, out, _ = run(capsys, "catalogue", "add", APP_ID, "subs-bronze", "SUBSCRIPTION", "Bronze", "--price", "199",
                       "--subscription-term", "MONTHLY", "--trial-type", "FREE_TRIAL", "--trial-term", "WEEKLY", *admin)
    assert code == 0 and out.splitlines()[0].split()[:3] == ["SKU", "TYPE", "NAME"] and "subs-bronze" in out
    code, out, _ = run(capsys, "catalogue", "list", APP_ID, *admin, "--json")
    assert [i["sku"] for i in json.loads(out)] == ["EXAMPLE1", "subs-bronze"]
    code, out, _ = run(capsys, "catalogue", "grant", ADA_ID, "EXAMPLE1", *admin)
    assert code == 0 and "purchase" in out and "EXAMPLE1" in out
    code, out, _ = run(capsys, "catalogue", "grant", GRACE_ID, "subs-bronze", "--no-trial", *admin, "--json")
    assert code == 0 and json.loads(out)["is_trial"] is False and json.loads(out)["period_end_time"].endswith("+0000")
    code, _, err = run(capsys, "catalogue", "grant", ADA_ID, "EXAMPLE1", *admin)
    assert code == 1 and "already owns" in err and "HTTP 400" in err
    code, out, _ = run(capsys, "catalogue", "history", ADA_ID, *admin, "--json")
    assert [r["sku"] for r in json.loads(out)] == ["EXAMPLE1"]
    code, out, _ = run(capsys, "purchases", ADA_ID, *graph)
    assert code == 0 and out.splitlines()[0].split()[:3] == ["SKU", "NAME", "PRICE"] and "2.99 USD" in out
    code, out, _ = run(capsys, "purchases", GRACE_ID, *graph, "--json")
    assert [p["item"]["sku"] for p in json.loads(out)] == ["subs-bronze"]
    code, out, _ = run(capsys, "subscriptions", "list", "--active", *graph)
    assert code == 0 and "grace" in out and "subs-bronze" in out and "+0000" in out
    code, out, _ = run(capsys, "subscriptions", "list", "--owner-id", ADA_ID, *graph, "--json")
    assert json.loads(out) == []
    code, _, err = run(capsys, "purchases", ADA_ID, "--base-url", qg.url)
    assert code == 1 and "--token" in err


def test_achievements_nonces_and_links(qg: RunningServer, capsys: pytest.CaptureFixture[str]) -> None:
    """Graph: achievements list/progress; admin: nonces mint, links list/revoke (D32–D34)."""
    admin = ["--base-url", qg.url, "--admin-key", ADMIN_KEY]
    graph = ["--base-url", qg.url, "--token", APP_TOKEN]
    with Client(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url) as client:
        client.achievements.create_or_update("first_win", achievement_type="SIMPLE", title="First win",
                                             description="Win")
        client.achievements.force_unlock(ADA_ID, "first_win")
        with httpx.Client(base_url=qg.url) as browser:
            linked = sso_support.link(browser)
        tokens = client.account_linking.exchange_code(linked.code, linked.org_scoped_id)
    code, out, _ = run(capsys, "achievements", "list", *graph)
    assert code == 0 and "first_win" in out and "SIMPLE" in out
    code, out, _ = run(capsys, "achievements", "progress", ADA_ID, *graph, "--json")
    assert [(p["api_name"], p["is_unlocked"]) for p in json.loads(out)] == [("first_win", True)]
    code, out, _ = run(capsys, "nonces", "mint", ADA_ID, "--ttl", "60", *admin)
    nonce = out.strip()
    assert code == 0 and nonce
    with Client(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url) as client:
        assert client.users.validate_nonce(nonce, ADA_ID) is True
    code, out, _ = run(capsys, "links", "list", ADA_ID, *admin, "--json")
    links = json.loads(out)
    assert code == 0 and len(links) == 1 and links[0]["org_scoped_id"] == linked.org_scoped_id
    assert tokens.oauth_token not in out and tokens.refresh_code not in out
    code, out, _ = run(capsys, "links", "revoke", links[0]["id"], *admin)
    assert code == 0 and out.rstrip().endswith("Revoked: the link's oauth_tokens and refresh code no longer work.")
    [revoked] = table(out.rstrip().rsplit("\n", 1)[0])
    assert revoked["id"] == links[0]["id"] and revoked["org_scoped_id"] == linked.org_scoped_id
    assert revoked["revoked"] == "True"
    code, _, err = run(capsys, "links", "list", ADA_ID, "--base-url", qg.url, "--admin-key", "wrong")
    assert code == 1 and "admin key was refused" in err and "wrong" not in err
