"""``GET /metrics``: Prometheus text exposition with bounded labels and no secrets (issue 6).

Requests are counted by route template (never the raw path with its ids), method and status; latencies
are histograms; errors are counted by kind; the rank index's state is a gauge. A token sent in a header,
the query string or the body never appears, and neither does an id from a path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADA_TOKEN, ADMIN_KEY, APP_ID, APP_TOKEN, RunningServer, start_server
from tests.lb_support import bearer

BOARD = "best_leaderboard"
SAMPLE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_]+="([^"\\]|\\.)*",?)*\})? [-+0-9.eEinfNa]+$')


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    running = start_server(tmp_path)
    yield running
    running.stop()


def scrape(client: httpx.Client) -> dict[str, float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for line in response.text.splitlines():
        if not line or line.startswith("#"):
            assert not line or line.startswith(("# HELP ", "# TYPE ")), line
            continue
        assert SAMPLE.match(line), line  # the text format: name{labels} value
        name, value = line.rsplit(" ", 1)
        samples[name] = float(value)
    return samples


def test_requests_are_counted_by_route_template_and_status(server: RunningServer) -> None:
    """Route templates, not paths: ``/{id}`` for an entry read, ``/{app_id}/leaderboards``; 404s of
    unknown paths share ``unmatched``; errors are counted by kind; latency is a histogram."""
    with server.client() as client:
        before = scrape(client)
        for _ in range(3):
            assert client.get("/leaderboard_entries", headers=bearer(APP_TOKEN),
                              params={"api_name": BOARD}).status_code == 200
        assert client.get(f"/{APP_ID}/leaderboards", headers=bearer(APP_TOKEN)).status_code == 200
        assert client.get("/123456789", headers=bearer(APP_TOKEN)).status_code == 404
        assert client.get("/no/such/path/42", headers=bearer(APP_TOKEN)).status_code == 404
        assert client.get("/leaderboard_entries", params={"api_name": BOARD}).status_code == 401
        after = scrape(client)
    entries = 'questgraph_requests_total{method="GET",route="/leaderboard_entries",status="200"}'
    assert after[entries] - before.get(entries, 0) == 3
    assert after['questgraph_requests_total{method="GET",route="/{app_id}/leaderboards",status="200"}'] == 1
    assert after['questgraph_requests_total{method="GET",route="/{id}",status="404"}'] == 1
    assert after['questgraph_requests_total{method="GET",route="unmatched",status="404"}'] == 1
    assert after['questgraph_errors_total{kind="client",route="/leaderboard_entries"}'] == 1
    assert after['questgraph_request_duration_seconds_count{route="/leaderboard_entries"}'] >= 4
    assert after['questgraph_request_duration_seconds_bucket{le="+Inf",route="/leaderboard_entries"}'] >= 4
    assert after['questgraph_rank_index_state{kind="memory",state="ready"}'] == 1
    assert after['questgraph_rank_index_state{kind="memory",state="down"}'] == 0


def test_no_token_key_or_id_ever_appears(server: RunningServer) -> None:
    """Labels come from the route table only: tokens (header, query, body), the admin key and the ids of
    paths never reach the exposition."""
    with server.client() as client:
        client.get("/leaderboard_entries", params={"api_name": BOARD, "access_token": ADA_TOKEN})
        client.post("/leaderboard_submit_entry", data={"api_name": BOARD, "score": "1", "access_token": APP_TOKEN})
        client.get("/me", headers=bearer(ADA_TOKEN))
        client.get("/_admin/orgs", headers=bearer(ADMIN_KEY))
        client.get(f"/{APP_ID}/leaderboards", headers=bearer(APP_TOKEN))
        client.get(f"/{APP_TOKEN}/leaderboards")  # a token pasted into a path
        client.request("PROPFIND", "/me")  # a method the server has no use for (FOO: the parser refuses it)
        text = client.get("/metrics").text
    for secret in (ADA_TOKEN, APP_TOKEN, APP_TOKEN.split("|")[2], ADMIN_KEY, APP_ID):
        assert secret not in text
    assert 'route="/_admin/orgs"' in text and 'method="other"' in text
