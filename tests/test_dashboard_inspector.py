"""The request inspector's masking and bounds (issue 7), without a server."""

from __future__ import annotations

from questgraph.server.auth.callers import AppCaller
from questgraph.server.dashboard.inspector import RequestInspector, mask, mask_json, mask_params
from questgraph.server.identity.records import App

APP_ID = "1234757621998335"
APP_TOKEN = f"OC|{APP_ID}|1234f7a788b0c0b270f9691d0a06d5a5"


def test_masking_rules() -> None:
    """Issue 7: secret-named values keep a short prefix only; app tokens keep their public app id."""
    assert mask(APP_TOKEN) == f"OC|{APP_ID}|•••• (32 chars)"
    assert mask("OCAe" + "x" * 96) == "OCAe•••• (100 chars)"
    assert mask("short") == "•••• (5 chars)"
    masked = dict(mask_params([("code", "a" * 64), ("refresh_code", "b" * 64), ("api_name", "best"),
                               ("client_secret", "c" * 40)]))
    assert masked["api_name"] == "best" and all("••••" in masked[k] for k in ("code", "refresh_code",
                                                                              "client_secret"))
    body = mask_json({"oauth_token": "OCAe" + "y" * 96, "error": {"code": 190}, "data": [{"refresh_code": "z" * 64}]})
    assert body["error"]["code"] == 190 and "yyyy" not in str(body) and "zzzzz" not in str(body)


def test_ring_buffer_is_bounded() -> None:
    """Issue 7: the inspector keeps at most N requests per app, newest first, and can be off."""
    inspector = RequestInspector(size=3)
    app = App(1, 1, "a", "h", 0)
    for n in range(5):
        inspector.record(at_us=n, caller=AppCaller(app), method="GET", path=f"/p{n}", params=[], token=APP_TOKEN,
                         token_source="query", status=200, body=b"{}", latency_ms=1.0, trace_id=str(n))
    assert [r.path for r in inspector.recent(1)] == ["/p4", "/p3", "/p2"]
    assert not RequestInspector(size=0).wants() and not RequestInspector(sample_rate=0).wants()
