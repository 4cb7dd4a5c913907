"""``questgraph notify`` (Graph API) and ``questgraph notifications`` (admin API) against the shared server
(D37): tables, ``--json``, and the Graph error of a wrong token kind."""

from __future__ import annotations

import json

import pytest

from questgraph.cli import main
from tests.conftest import ADA_ID, ADA_TOKEN, ADMIN_KEY, APP_ID, APP_TOKEN, GRACE_ID, RunningServer


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("QUESTGRAPH_BASE_URL", "QUESTGRAPH_ADMIN_KEY", "QUESTGRAPH_ACCESS_TOKEN", "QUESTGRAPH_APP_ID"):
        monkeypatch.delenv(name, raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_add_notify_and_list(qg: RunningServer, capsys: pytest.CaptureFixture[str]) -> None:
    admin = ["--base-url", qg.url, "--admin-key", ADMIN_KEY]
    code, out, _ = run(capsys, "notifications", "add", APP_ID, "events", "--name", "Level up", "--id",
                       "7000000000000001", *admin, "--json")
    assert code == 0 and json.loads(out)["id"] == "7000000000000001" and json.loads(out)["category"] == "EVENTS"
    code, out, _ = run(capsys, "notifications", "add", APP_ID, "SOCIAL", "--id", "7000000000000002", *admin)
    assert code == 0 and out.split()[:4] == ["ID", "CATEGORY", "NAME", "CREATED_AT"]
    code, out, _ = run(capsys, "notify", "7000000000000001", ADA_ID, GRACE_ID, "--base-url", qg.url,
                       "--token", APP_TOKEN)
    assert code == 0 and out.strip() == "notification 7000000000000001 sent to 2 user(s)"
    code, out, err = run(capsys, "notify", "7000000000000002", GRACE_ID, "--base-url", qg.url, "--token", APP_TOKEN)
    assert code != 0 and "Social" in err and "user access token" in err  # the Graph error, not an admin-key hint
    code, out, err = run(capsys, "notify", "7000000000000002", GRACE_ID, "--base-url", qg.url, "--token", ADA_TOKEN,
                         "--app-id", APP_ID, "--json")
    assert code == 0 and json.loads(out) == {"success": True}, err
    code, out, _ = run(capsys, "notifications", "sent", APP_ID, *admin, "--json")
    rows = json.loads(out)
    assert code == 0 and [(r["request_id"], r["recipient_ids"], r["sender_id"]) for r in rows] == [
        ("7000000000000001", [ADA_ID, GRACE_ID], None), ("7000000000000002", [GRACE_ID], ADA_ID)]
    code, out, _ = run(capsys, "notifications", "sent", APP_ID, *admin)
    assert code == 0 and f"{ADA_ID},{GRACE_ID}" in out
    code, out, _ = run(capsys, "notifications", "requests", APP_ID, *admin)
    assert code == 0 and "7000000000000001" in out and "Level up" in out
