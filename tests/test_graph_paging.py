"""Paging links (D21): absolute URLs on the public base URL that repeat the request, token included, and
that walk a board exactly once in either direction."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import pytest

from tests.conftest import (
    ADA_ID,
    APP_ID,
    APP_TOKEN,
    GRACE_ID,
    GRACE_TOKEN,
    LINUS_ID,
    RunningServer,
    start_server,
)

BOARD = "best_leaderboard"
APP_AUTH = {"Authorization": f"Bearer {APP_TOKEN}"}
# Ties on purpose: equal scores are ordered by write time then id (D14), and paging must still be exact.
SCORES = [50, 40, 40, 40, 30, 20, 20, 10, 5]


def populate(client: httpx.Client, admin: httpx.Client, scores: list[int] = SCORES) -> list[str]:
    """One entry per score, written through the Graph API; users beyond the world's three entitled ones
    are added through the admin API. Returns the user ids in the order written."""
    users = [ADA_ID, GRACE_ID, LINUS_ID]
    for n in range(len(scores) - len(users)):
        made = admin.post(f"/_admin/apps/{APP_ID}/users", data={"alias": f"pager{n}"})
        assert made.status_code == 200, made.text
        users.append(made.json()["id"])
    for user_id, score in zip(users, scores, strict=False):
        response = client.post("/leaderboard_submit_entry", headers=APP_AUTH,
                               data={"api_name": BOARD, "score": str(score), "user_id": user_id})
        assert response.status_code == 200, response.text
    return users[:len(scores)]


def first_page(client: httpx.Client, headers: dict[str, str] | None = None,
               params: dict[str, str] | None = None) -> dict[str, object]:
    response = client.get("/leaderboard_entries", headers={**APP_AUTH, **(headers or {})},
                          params={"api_name": BOARD, "limit": "2", **(params or {})})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def next_url(body: dict[str, object]) -> str:
    paging = body["paging"]
    assert isinstance(paging, dict)
    url = paging["next"]
    assert isinstance(url, str)
    return url


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


@pytest.fixture
def board(http: httpx.Client, admin: httpx.Client) -> list[str]:
    return populate(http, admin)


# --- the base URL -------------------------------------------------------------------------------------------
@pytest.mark.usefixtures("board")
def test_default_base_is_the_request_host(qg: RunningServer, http: httpx.Client) -> None:
    """D21: without public_url, links are absolute on the scheme and Host the request came in on."""
    body = first_page(http)
    assert next_url(body).startswith(f"{qg.url}/leaderboard_entries?")
    port = qg.settings.port
    for host in (f"localhost:{port}", "questgraph.internal:8080", "[::1]:9000"):
        url = next_url(first_page(http, headers={"Host": host}))
        assert url.startswith(f"http://{host}/leaderboard_entries?"), url


@pytest.mark.usefixtures("board")
@pytest.mark.parametrize("headers", [
    {"X-Forwarded-Host": "evil.example"},
    {"X-Forwarded-Host": "evil.example", "X-Forwarded-Port": "443"},
    {"Forwarded": "proto=https;host=evil.example"},
    {"Forwarded": 'for=10.0.0.1;proto=https;host="evil.example"'},
])
def test_forwarded_headers_are_ignored_unless_trusted(qg: RunningServer, http: httpx.Client,
                                                      headers: dict[str, str]) -> None:
    """D21: without trust_forwarded, X-Forwarded-* and Forwarded do not change the links."""
    url = next_url(first_page(http, headers=headers))
    assert url.startswith(f"{qg.url}/leaderboard_entries?"), url
    assert "evil.example" not in url


@pytest.mark.usefixtures("board")
def test_forwarded_proto_is_ignored_unless_trusted(qg: RunningServer, http: httpx.Client) -> None:
    """D21: without trust_forwarded, X-Forwarded-Proto does not turn the links into https."""
    url = next_url(first_page(http, headers={"X-Forwarded-Proto": "https"}))
    assert url.startswith(f"{qg.url}/leaderboard_entries?"), url


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("public"), public_url="https://qg.example", backend=backend)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("proxied"), trust_forwarded=True, backend=backend)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def public_board(public: RunningServer) -> RunningServer:
    with public.client() as client, public.admin() as admin:
        populate(client, admin)
    return public


@pytest.fixture(scope="module")
def proxied_board(proxied: RunningServer) -> RunningServer:
    with proxied.client() as client, proxied.admin() as admin:
        populate(client, admin, SCORES[:5])
    return proxied


@pytest.mark.parametrize("headers", [{}, {"Host": "other.example:81"},
                                     {"X-Forwarded-Host": "evil.example", "Forwarded": "host=evil.example"}])
def test_public_url_setting_is_used(public_board: RunningServer, headers: dict[str, str]) -> None:
    """D21: with public_url set, next and previous are on it, whatever Host or forwarded headers say, and
    following them (on the real address) continues the walk."""
    with public_board.client() as client:
        page1 = first_page(client, headers=headers)
        url = next_url(page1)
        assert url.startswith("https://qg.example/leaderboard_entries?"), url
        page2 = client.get(url.replace("https://qg.example", public_board.url))
        assert page2.status_code == 200, page2.text
        paging = page2.json()["paging"]
        assert paging["previous"].startswith("https://qg.example/leaderboard_entries?")
        assert paging["next"].startswith("https://qg.example/leaderboard_entries?")


@pytest.mark.parametrize(("headers", "base"), [
    ({"X-Forwarded-Proto": "https", "X-Forwarded-Host": "proxy.example"}, "https://proxy.example"),
    ({"X-Forwarded-Proto": "https", "X-Forwarded-Host": "proxy.example:8443"}, "https://proxy.example:8443"),
    ({"X-Forwarded-Host": "proxy.example, inner.example", "X-Forwarded-Proto": "https, http"},
     "https://proxy.example"),
    ({"Forwarded": "for=192.0.2.60;proto=https;host=fwd.example"}, "https://fwd.example"),
    ({"Forwarded": 'proto=https;host="fwd.example:8443"'}, "https://fwd.example:8443"),
    ({"Forwarded": "proto=https;host=first.example, proto=http;host=second.example"}, "https://first.example"),
    ({"Forwarded": "For=192.0.2.60;Proto=https;Host=fwd.example"}, "https://fwd.example"),
    ({"Forwarded": "proto=https;host=fwd.example", "X-Forwarded-Host": "xfh.example"}, "https://fwd.example"),
    ({"X-Forwarded-Host": "proxy.example"}, "http://proxy.example"),
])
def test_forwarded_headers_when_trusted(proxied_board: RunningServer, headers: dict[str, str], base: str) -> None:
    """D21: with trust_forwarded, links use the proxy's scheme and host from Forwarded (RFC 7239, parameter
    names in any case, first hop) or X-Forwarded-Proto/-Host (first value)."""
    with proxied_board.client() as client:
        url = next_url(first_page(client, headers=headers))
    assert url.startswith(f"{base}/leaderboard_entries?"), url


@pytest.mark.parametrize("headers", [
    {"X-Forwarded-Host": "evil.example/steal?x="},
    {"X-Forwarded-Host": "evil example"},
    {"Forwarded": 'host="evil.example@attacker"'},
    {"X-Forwarded-Proto": "javascript", "X-Forwarded-Host": "proxy.example"},
])
def test_malformed_forwarded_values_are_not_used(proxied_board: RunningServer, headers: dict[str, str]) -> None:
    """D21: a trusted proxy's header that is not a plain host (or scheme) is not copied into the links."""
    with proxied_board.client() as client:
        url = next_url(first_page(client, headers=headers))
    split = urlsplit(url)
    assert split.scheme in ("http", "https")
    assert "evil" not in split.netloc and "attacker" not in split.netloc and " " not in url
    assert split.path == "/leaderboard_entries"


# --- what the links carry -----------------------------------------------------------------------------------
@pytest.mark.usefixtures("board")
def test_links_repeat_every_parameter_and_the_header_token(http: httpx.Client) -> None:
    """D21: next/previous repeat every request parameter (unknown ones too), and carry the access token
    even when it came in the Authorization header; the position parameter is replaced, not repeated."""
    params = {"fields": "user{id},rank,score", "summary": "true", "filter": "NONE", "start_at": "TOP",
              "pretty": "1", "unknown_param": "kept"}
    page1 = first_page(http, params=params)
    first = query_of(next_url(page1))
    expected = {"api_name": [BOARD], "limit": ["2"], **{k: [v] for k, v in params.items()},
                "access_token": [APP_TOKEN]}
    assert {k: v for k, v in first.items() if k != "after"} == expected
    assert first["after"] == [page1["paging"]["cursors"]["after"]]  # type: ignore[index]
    page2 = http.get(next_url(page1)).json()
    previous = query_of(page2["paging"]["previous"])
    assert {k: v for k, v in previous.items() if k != "before"} == expected
    assert previous["before"] == [page2["paging"]["cursors"]["before"]]
    second = query_of(page2["paging"]["next"])
    assert "before" not in second and second["after"] == [page2["paging"]["cursors"]["after"]]


@pytest.mark.usefixtures("board")
@pytest.mark.parametrize("token", [APP_TOKEN, APP_TOKEN.replace("|", "%7C")])
def test_query_token_appears_once(http: httpx.Client, token: str) -> None:
    """D21/D4: a token sent as access_token is in the links exactly once, decoded to its real value."""
    response = http.get(f"/leaderboard_entries?api_name={BOARD}&limit=3&access_token={token}")
    assert response.status_code == 200, response.text
    url = response.json()["paging"]["next"]
    assert query_of(url)["access_token"] == [APP_TOKEN]
    assert [k for k, _ in parse_qsl(urlsplit(url).query)].count("access_token") == 1


@pytest.mark.usefixtures("board")
def test_links_of_a_user_token_read_carry_that_token(http: httpx.Client) -> None:
    """D21: the token of the links is the caller's token, whatever kind it is."""
    response = http.get("/leaderboard_entries", headers={"Authorization": f"OAuth {GRACE_TOKEN}"},
                        params={"api_name": BOARD, "limit": "2"})
    assert response.status_code == 200, response.text
    assert query_of(response.json()["paging"]["next"])["access_token"] == [GRACE_TOKEN]


@pytest.mark.usefixtures("board")
def test_override_read_links_are_plain_get_urls(http: httpx.Client) -> None:
    """D21/D3: a read sent as POST with method=GET gets links that work as plain GET URLs."""
    response = http.post("/leaderboard_entries", headers=APP_AUTH,
                         data={"api_name": BOARD, "limit": "2", "method": "GET", "fields": "score"})
    assert response.status_code == 200, response.text
    url = response.json()["paging"]["next"]
    assert "method" not in query_of(url)
    page2 = http.get(url)
    assert page2.status_code == 200, page2.text
    assert [r["score"] for r in page2.json()["data"]] == [40, 40]


# --- walking -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("limit", [1, 2, 4, 9, 25])
def test_following_next_visits_every_entry_once(http: httpx.Client, board: list[str], limit: int) -> None:
    """D21: following next with plain GETs (no header: the link carries the token) until it is absent
    visits every entry exactly once, in rank order, with no previous link on the first page."""
    response = http.get("/leaderboard_entries", headers=APP_AUTH,
                        params={"api_name": BOARD, "limit": str(limit), "fields": "user{id},rank,score"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "previous" not in body.get("paging", {})
    seen: list[tuple[str, int, int]] = []
    pages = 0
    while True:
        pages += 1
        assert len(body["data"]) <= limit
        seen += [(r["user"]["id"], r["rank"], r["score"]) for r in body["data"]]
        url = body.get("paging", {}).get("next")
        if url is None:
            break
        assert pages < 20, "paging does not end"
        following = httpx.get(url, timeout=10)
        assert following.status_code == 200, following.text
        body = following.json()
    assert pages == -(-len(SCORES) // limit)
    assert sorted(u for u, _, _ in seen) == sorted(board)
    assert [rank for _, rank, _ in seen] == list(range(1, len(SCORES) + 1))
    assert [score for _, _, score in seen] == sorted(SCORES, reverse=True)
    # Ties keep write order (D14): the three 40s were written by users 2, 3 and 4.
    assert [u for u, _, s in seen if s == 40] == board[1:4]


def test_following_previous_walks_back_to_the_first_page(http: httpx.Client, board: list[str]) -> None:
    """D21: from the last page, previous links lead back through every entry once, to a page with no
    previous link, the same pages as forward."""
    forward: list[list[str]] = []
    body = http.get("/leaderboard_entries", headers=APP_AUTH, params={"api_name": BOARD, "limit": "2"}).json()
    while True:
        forward.append([r["id"] for r in body["data"]])
        if "next" not in body["paging"]:
            break
        body = httpx.get(body["paging"]["next"], timeout=10).json()
    backward: list[list[str]] = [[r["id"] for r in body["data"]]]
    while "previous" in body["paging"]:
        body = httpx.get(body["paging"]["previous"], timeout=10).json()
        backward.append([r["id"] for r in body["data"]])
    assert backward[::-1] == forward
    assert len({i for page in forward for i in page}) == len(board)


@pytest.mark.usefixtures("board")
def test_cursor_stays_valid_with_another_limit(http: httpx.Client) -> None:
    """D21: a next link with its limit changed continues right after the same position."""
    page1 = first_page(http, params={"fields": "score"})
    after = page1["paging"]["cursors"]["after"]  # type: ignore[index]
    response = http.get("/leaderboard_entries", headers=APP_AUTH,
                        params={"api_name": BOARD, "limit": "5", "after": after, "fields": "rank"})
    assert [r["rank"] for r in response.json()["data"]] == [3, 4, 5, 6, 7]


def test_repeated_parameters_survive_paging(http: httpx.Client, board: list[str]) -> None:
    """D21/D20: a list given by repeating a key (user_ids=…&user_ids=…) is repeated whole in the links, so
    the next pages keep the same filter."""
    chosen = [board[0], board[4], board[6], board[8]]
    query = "&".join(f"user_ids={u}" for u in chosen)
    url: str | None = f"/leaderboard_entries?api_name={BOARD}&filter=USER_IDS&{query}&limit=1&fields=user{{id}},rank"
    seen: list[tuple[str, int]] = []
    while url is not None:
        response = http.get(url, headers=APP_AUTH)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [(r["user"]["id"], r["rank"]) for r in body["data"]]
        url = body.get("paging", {}).get("next")
        assert len(seen) <= len(chosen)
    assert seen == [(u, n) for n, u in enumerate(chosen, start=1)]


@pytest.mark.usefixtures("board")
def test_links_keep_body_over_query(http: httpx.Client) -> None:
    """D21/D2: a key sent in both the query and the body means the body's value on the next pages too."""
    response = http.post("/leaderboard_entries?limit=1&fields=score", headers=APP_AUTH,
                         data={"api_name": BOARD, "method": "GET", "limit": "3", "fields": "rank"})
    assert response.status_code == 200, response.text
    assert [r["rank"] for r in response.json()["data"]] == [1, 2, 3]
    page2 = http.get(response.json()["paging"]["next"])
    assert page2.status_code == 200, page2.text
    assert [r["rank"] for r in page2.json()["data"]] == [4, 5, 6]
    assert all(set(r) == {"id", "rank"} for r in page2.json()["data"])


def test_no_links_when_everything_fits(http: httpx.Client, admin: httpx.Client) -> None:
    """D21: next and previous are omitted when there is no such page."""
    populate(http, admin, SCORES[:3])
    body = http.get("/leaderboard_entries", headers=APP_AUTH, params={"api_name": BOARD, "limit": "3"}).json()
    assert len(body["data"]) == 3
    assert "next" not in body["paging"] and "previous" not in body["paging"]
    assert set(body["paging"]["cursors"]) == {"before", "after"}
