"""Helpers shared by the leaderboard tests: short HTTP calls, bulk users, a whole-state probe, and replays
of Meta's documentation examples (raw HTTP blocks and Windows curl command lines) against the test server.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

import httpx

from tests.conftest import APP_ID, APP_TOKEN, RIVAL_APP_ID, RIVAL_APP_TOKEN


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_users(admin: httpx.Client, count: int, prefix: str = "player", app_id: str = APP_ID,
               entitled: bool = True) -> list[str]:
    """``count`` new users of ``app_id`` (entitled unless told otherwise), made through the admin API."""
    ids = []
    for n in range(count):
        response = admin.post(f"/_admin/apps/{app_id}/users",
                              data={"alias": f"{prefix}{n}", "entitled": "true" if entitled else "false"})
        assert response.status_code == 200, response.text
        ids.append(response.json()["id"])
    return ids


def submit(http: httpx.Client, token: str, api_name: str, score: int | str, user_id: str | None = None,
           **params: str) -> httpx.Response:
    data: dict[str, Any] = {"api_name": api_name, "score": str(score), **params}
    if user_id is not None:
        data["user_id"] = user_id
    return http.post("/leaderboard_submit_entry", headers=bearer(token), data=data)


def submit_ok(http: httpx.Client, token: str, api_name: str, score: int | str, user_id: str | None = None,
              **params: str) -> bool:
    """Submit and return ``did_update``; the body must be exactly the D15 shape."""
    response = submit(http, token, api_name, score, user_id, **params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"success", "did_update", "updated_challenge_ids"}, body
    assert body["success"] is True and body["updated_challenge_ids"] == []
    assert isinstance(body["did_update"], bool)
    return bool(body["did_update"])


ENTRY_FIELDS = "id,user{id,alias,profile_url},rank,score,timestamp,extra_data_base64"


def entries(http: httpx.Client, token: str, api_name: str, **params: Any) -> httpx.Response:
    query: dict[str, Any] = {"api_name": api_name, "fields": ENTRY_FIELDS, "summary": "true", **params}
    return http.get("/leaderboard_entries", headers=bearer(token), params=query)


def entries_ok(http: httpx.Client, token: str, api_name: str, **params: Any) -> dict[str, Any]:
    response = entries(http, token, api_name, **params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def ranking(http: httpx.Client, token: str, api_name: str, **params: Any) -> list[tuple[str, int, int]]:
    """(user id, rank, score) of every row of one page."""
    body = entries_ok(http, token, api_name, **params)
    return [(e["user"]["id"], e["rank"], e["score"]) for e in body["data"]]


def board_id(http: httpx.Client, api_name: str, token: str = APP_TOKEN, app_id: str = APP_ID) -> str:
    response = http.get(f"/{app_id}/leaderboards", headers=bearer(token), params={"api_name": api_name})
    assert response.status_code == 200, response.text
    return str(response.json()["data"][0]["id"])


def follow(http: httpx.Client, url: str) -> dict[str, Any]:
    """Fetch a paging URL exactly as a client does: absolute, token inside, no extra header."""
    response = http.get(url)
    assert response.status_code == 200, response.text
    return dict(response.json())


BOARD_FIELDS = ("api_name,sort_order,entry_write_policy,entry_count,earliest_allowed_entry_time,"
                "latest_allowed_entry_time,title")


def state(http: httpx.Client, admin: httpx.Client, token: str = APP_TOKEN,
          rival_token: str = RIVAL_APP_TOKEN) -> dict[str, Any]:
    """Everything a leaderboard request could change, read two ways: the stored rows (admin snapshot) and
    what the Graph API serves (every board of both apps, with every entry, its rank and the counts)."""
    snapshot = admin.get("/_admin/snapshot")
    assert snapshot.status_code == 200, snapshot.text
    tables = snapshot.json()["tables"]
    served: dict[str, Any] = {}
    for app_id, app_token in ((APP_ID, token), (RIVAL_APP_ID, rival_token)):
        listing = http.get(f"/{app_id}/leaderboards", headers=bearer(app_token), params={"fields": BOARD_FIELDS})
        assert listing.status_code == 200, listing.text
        for board in listing.json()["data"]:
            rows = []
            page = entries_ok(http, app_token, board["api_name"], limit=100)
            while True:
                rows.extend(page["data"])
                url = page.get("paging", {}).get("next")
                if not url:
                    break
                page = follow(http, url)
            served[board["id"]] = {"board": board, "entries": rows, "total": page["summary"]["total_count"]}
    return {
        "leaderboards": sorted(tables["leaderboards"], key=lambda r: r["id"]),
        "entries": sorted(tables["entries"], key=lambda r: r["id"]),
        "objects": sorted((r for r in tables["objects"] if r["kind"] in ("leaderboard", "entry")),
                          key=lambda r: r["id"]),
        "served": served,
    }


# --- replaying Meta's documentation examples ------------------------------------------------------------

HEADER = re.compile(r"[A-Za-z-]+: ")

def replay_raw(http: httpx.Client, block: str) -> httpx.Response:
    """Send a documentation "Example Request" block with only the host changed.

    The blocks are printed for reading, not as valid HTTP: some wrap the request line (a query continued
    on the next line, ``HTTP/1.1`` alone on a line, a space after ``&``). Wrapping is undone: the lines of
    the request line are joined and the whitespace the wrap introduced (at the join, or right after
    ``&``) is removed; every other character, spaces inside values included, is sent as printed (httpx
    percent-encodes what HTTP cannot carry raw). ``Host`` is replaced by the test server's.
    """
    lines = [line.rstrip() for line in block.strip("\n").splitlines()]
    request_line = lines.pop(0).strip()
    headers: dict[str, str] = {}
    for line in lines:
        if HEADER.match(line):
            name, _, value = line.partition(":")
            if name.strip().lower() != "host":
                headers[name.strip()] = value.strip()
        elif line.strip().startswith("HTTP/"):
            request_line += " " + line.strip()
        else:
            request_line += line.strip()  # a wrapped query: join without the wrap's whitespace
    method, _, rest = request_line.partition(" ")
    target = rest.rsplit(" HTTP/", 1)[0].strip()
    while "& " in target:
        target = target.replace("& ", "&")
    return http.request(method, str(http.base_url).rstrip("/") + target, headers=headers)


def replay_curl(http: httpx.Client, command: str) -> httpx.Response:
    """Run a documentation curl command (Windows cmd syntax, ``^`` continuations) against the test server.

    Follows curl's own rules: every ``-d`` value is sent as typed (no URL encoding), several are joined
    with ``&`` into an ``application/x-www-form-urlencoded`` body and make the request a POST; ``-G`` moves
    them into the query string of a GET instead; ``-X`` overrides the method, body kept.
    """
    text = command.replace("^\n", " ").replace("\n", " ").strip()
    words = shlex.split(text)
    if words[0] == "$":
        words.pop(0)
    assert words.pop(0) == "curl"
    data: list[str] = []
    method: str | None = None
    as_get = False
    url = ""
    while words:
        word = words.pop(0)
        if word == "-d":
            data.append(words.pop(0))
        elif word == "-X":
            method = words.pop(0)
        elif word == "-G":
            as_get = True
        elif word.startswith("https://graph.oculus.com"):
            url = str(http.base_url).rstrip("/") + word[len("https://graph.oculus.com"):]
        else:
            raise AssertionError(f"curl option not understood: {word}")
    body = "&".join(data)
    if as_get:
        if body:
            url += ("&" if "?" in url else "?") + body
        return http.request(method or "GET", url)
    if not data:
        return http.request(method or "GET", url)
    return http.request(method or "POST", url, content=body.encode(),
                        headers={"Content-Type": "application/x-www-form-urlencoded"})


def json_body(http: httpx.Client, path: str, token: str, document: dict[str, Any]) -> httpx.Response:
    """POST a JSON object of parameters (D2), keeping big integers exact."""
    return http.post(path, headers={**bearer(token), "Content-Type": "application/json"},
                     content=json.dumps(document).encode())
