"""Callers cached per process (auth/tokens.py) across the processes of one deployment (issue 14).

Leaderboard reads and submits take their caller from a per-process cache; what that cache rests on (an
app's secret) may change through another process. Two OS processes share PostgreSQL and Redis; every
change made through one is refused or used by the other on its very next request, again and again (D12:
a rotated secret stops at once). Also on one process (SQLite or PostgreSQL): the same, within it.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import pytest

from tests.conftest import (
    ADA_ID,
    ADA_TOKEN,
    ADMIN_KEY,
    APP_ID,
    APP_TOKEN,
    GRACE_ID,
    WORLD_FILE,
    RunningServer,
    assert_graph_error,
    free_port,
)
from tests.lb_support import bearer, submit
from tests.redis_support import redis_url
from tests.test_workers import _postgres_url, _spawn, _stop, prefix  # noqa: F401 (prefix: a fixture)

BOARD = "best_leaderboard"


def _read(client: httpx.Client, token: str, **params: str) -> httpx.Response:
    return client.get("/leaderboard_entries", headers=bearer(token),
                      params={"api_name": BOARD, "fields": "score,user{id}", **params})


def _rotate(admin: httpx.Client) -> str:
    secret = secrets.token_hex(16)
    answer = admin.post(f"/_admin/apps/{APP_ID}/secret", data={"secret": secret})
    assert answer.status_code == 200, answer.text
    return f"OC|{APP_ID}|{secret}"


def _flip_order(admin_graph: httpx.Client, token: str, order: str) -> None:
    answer = admin_graph.post(f"/{APP_ID}/leaderboards", data={"api_name": BOARD, "sort_order": order},
                              headers=bearer(token))
    assert answer.status_code == 200, answer.text


def _every_change_is_seen_at_once(changer: httpx.Client, changer_admin: httpx.Client, other: httpx.Client) -> None:
    """Through ``changer``: rotate the secret, flip the board's order; ``other`` (whose cache holds the
    callers) must refuse the old secret and use the new order on its very next request, each time."""
    token = APP_TOKEN
    assert submit(other, token, BOARD, 10, ADA_ID).status_code == 200  # fills other's cache
    assert submit(other, token, BOARD, 30, GRACE_ID).status_code == 200
    assert _read(other, ADA_TOKEN, start_at="CENTERED_ON_VIEWER").status_code == 200
    order = "HIGHER_IS_BETTER"
    for round_ in range(5):
        assert _read(other, token).status_code == 200  # the old token is cached in the other process
        assert submit(other, token, BOARD, 1, ADA_ID).status_code == 200
        old, token = token, _rotate(changer_admin)
        # The very next request of the other process, a submit or a read, refuses the old secret (D12) …
        if round_ % 2 == 0:
            assert_graph_error(submit(other, old, BOARD, 5, ADA_ID), 401, 190)
        assert_graph_error(_read(other, old), 401, 190)
        assert_graph_error(submit(other, old, BOARD, 5, ADA_ID), 401, 190)
        # … and takes the new one.
        assert submit(other, token, BOARD, 1, ADA_ID).status_code == 200
        # A board changed through one process is read in its new state by the other's next request.
        order = "LOWER_IS_BETTER" if order == "HIGHER_IS_BETTER" else "HIGHER_IS_BETTER"
        _flip_order(changer, token, order)
        scores = [row["score"] for row in _read(other, token).json()["data"]]
        assert scores == sorted(scores, reverse=order == "HIGHER_IS_BETTER") and len(set(scores)) > 1, scores
        centered = _read(other, ADA_TOKEN, start_at="CENTERED_ON_VIEWER").json()["data"]
        assert [r["score"] for r in centered] == sorted((r["score"] for r in centered),
                                                        reverse=order == "HIGHER_IS_BETTER")
    # A user token stays cached through all of it, and still reads its own app only.
    mine = _read(other, ADA_TOKEN, start_at="CENTERED_ON_VIEWER").json()["data"]
    assert ADA_ID in {row["user"]["id"] for row in mine}


@pytest.mark.postgres_only  # a SQLite file is refused for several processes
def test_two_processes_refuse_a_rotated_secret_on_the_next_request(tmp_path: Path, prefix: str,  # noqa: F811
                                                                   backend: str) -> None:
    database = _postgres_url(tmp_path)
    common = ["--db", database, "--rank-index", redis_url(prefix=prefix), "--config", str(WORLD_FILE),
              "--admin-key", ADMIN_KEY, "--log-level", "warning"]
    ports = [free_port(), free_port()]
    one = _spawn(common, ports[0])
    try:
        two = _spawn(common, ports[1])
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{ports[0]}", timeout=30) as changer, \
                 httpx.Client(base_url=f"http://127.0.0.1:{ports[0]}", timeout=30,
                              headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as changer_admin, \
                 httpx.Client(base_url=f"http://127.0.0.1:{ports[1]}", timeout=30) as other:
                _every_change_is_seen_at_once(changer, changer_admin, other)
        finally:
            _stop(two)
    finally:
        _stop(one)


def test_one_process_refuses_a_rotated_secret_at_once(qg: RunningServer) -> None:
    with qg.client() as client, qg.admin() as admin:
        try:
            _every_change_is_seen_at_once(client, admin, client)
        finally:
            admin.post("/_admin/reset").raise_for_status()  # the world's secret again, for the next tests
