"""The first thing a newcomer does: read the seeded board with the app token."""

from __future__ import annotations

import httpx

from tests.conftest import ADA_ID, APP_TOKEN


def test_submit_then_read_the_board(http: httpx.Client) -> None:
    auth = {"Authorization": f"Bearer {APP_TOKEN}"}
    response = http.post("/leaderboard_submit_entry", headers=auth,
                         data={"api_name": "best_leaderboard", "score": "42", "user_id": ADA_ID})
    assert response.json() == {"success": True, "did_update": True, "updated_challenge_ids": []}
    page = http.get("/leaderboard_entries", headers=auth,
                    params={"api_name": "best_leaderboard", "fields": "user{id},rank,score", "summary": "true"})
    body = page.json()
    assert [(e["user"]["id"], e["rank"], e["score"]) for e in body["data"]] == [(ADA_ID, 1, 42)]
    assert body["summary"] == {"total_count": 1}
