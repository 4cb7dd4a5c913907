"""The ``fields`` parameter (D5): the parser on its own, then the projection over real HTTP."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from questgraph.server.errors import InvalidParameter
from questgraph.server.graph.fields import MAX_FIELDS_LENGTH, Field, NodeType, parse_fields
from tests.conftest import ADA_ID, APP_ID, APP_TOKEN, GRACE_ID, RunningServer, assert_graph_error, start_server
from tests.redis_support import drop_prefix, redis_url, require_redis

BOARD = "best_leaderboard"
APP_AUTH = {"Authorization": f"Bearer {APP_TOKEN}"}


# --- parse_fields, unit ---------------------------------------------------------------------------------
def test_parse_flat_list() -> None:
    """D5: a comma list of names, in order."""
    assert parse_fields("id,rank,score") == [("id", None), ("rank", None), ("score", None)]


def test_parse_nested_selection() -> None:
    """D5: braces select subfields of a field."""
    assert parse_fields("user{id,alias,profile_url},rank") == [
        ("user", [("id", None), ("alias", None), ("profile_url", None)]),
        ("rank", None),
    ]


def test_parse_nesting_to_any_depth() -> None:
    """D5: braces nest to any depth, and siblings after a closed group stay at their level."""
    assert parse_fields("a{b{c{d{e,f}},g},h},i") == [
        ("a", [("b", [("c", [("d", [("e", None), ("f", None)])]), ("g", None)]), ("h", None)]),
        ("i", None),
    ]
    deep = "x{" * 50 + "leaf" + "}" * 50
    selection = parse_fields(deep)
    for _ in range(50):
        ((name, sub),) = selection
        assert name == "x" and sub is not None
        selection = sub
    assert selection == [("leaf", None)]


def test_parse_whitespace_around_names() -> None:
    """D5: spaces, tabs and newlines around names and braces are ignored."""
    assert parse_fields(" user { id ,\talias } ,\n rank ") == parse_fields("user{id,alias},rank")


def test_parse_empty_items_are_skipped() -> None:
    """D5 (lenient input): empty items between commas are skipped, not errors."""
    assert parse_fields("rank,,score,") == [("rank", None), ("score", None)]
    assert parse_fields("") == []


@pytest.mark.parametrize("text", ["user{id", "user{id{alias}", "a{b{c}", "user{"])
def test_parse_unclosed_brace(text: str) -> None:
    """D5/D7: an unclosed '{' is a 400 that names the fields parameter."""
    with pytest.raises(InvalidParameter, match="fields"):
        parse_fields(text)


@pytest.mark.parametrize("text", ["user}", "user{id}}", "}", "rank},score"])
def test_parse_unmatched_closing_brace(text: str) -> None:
    """D5/D7: a '}' that closes nothing is a 400."""
    with pytest.raises(InvalidParameter, match="fields"):
        parse_fields(text)


@pytest.mark.parametrize("text", ["{id}", "rank,{id}", "user{id}{alias}", "user{ {id} }"])
def test_parse_brace_without_a_name(text: str) -> None:
    """D5/D7: a '{' must follow a field name."""
    with pytest.raises(InvalidParameter, match="fields"):
        parse_fields(text)


@pytest.mark.parametrize("text", ["user.id", "ra nk", "score;drop", "id,<b>"])
def test_parse_invalid_name(text: str) -> None:
    """D5/D7: names are letters, digits and underscores only."""
    with pytest.raises(InvalidParameter, match="fields"):
        parse_fields(text)


def test_parse_length_limit() -> None:
    """D5/D7: an oversized fields value is refused before parsing (bounded work)."""
    assert len(parse_fields(",".join(["id"] * (MAX_FIELDS_LENGTH // 3)))) == MAX_FIELDS_LENGTH // 3
    with pytest.raises(InvalidParameter, match="fields"):
        parse_fields("a," * MAX_FIELDS_LENGTH)


def test_node_validate_names_the_unknown_field_at_any_depth() -> None:
    """D5: validation names the unknown field and the node type it was asked of, nested or not."""
    inner = NodeType("Inner", {"id": Field(lambda o: o), "name": Field(lambda o: o)})
    outer = NodeType("Outer", {"id": Field(lambda o: o), "inner": Field(lambda o: o, inner)})
    outer.validate(parse_fields("inner{name}"))
    with pytest.raises(InvalidParameter, match=r"\(nope\).*\(Inner\)"):
        outer.validate(parse_fields("inner{name,nope}"))
    with pytest.raises(InvalidParameter, match=r"\(bad\).*\(Outer\)"):
        outer.validate(parse_fields("id,bad"))
    with pytest.raises(InvalidParameter, match="name"):
        outer.validate(parse_fields("inner{name{x}}"))


# --- over HTTP --------------------------------------------------------------------------------------------
@pytest.fixture(name="two_entries")
def two_entries_fixture(http: httpx.Client) -> None:
    two_entries(http)


def two_entries(http: httpx.Client) -> None:
    for user_id, score in ((ADA_ID, 10), (GRACE_ID, 20)):
        response = http.post("/leaderboard_submit_entry", headers=APP_AUTH,
                             data={"api_name": BOARD, "score": str(score), "user_id": user_id,
                                   "extra_data_base64": "aGk="})
        assert response.status_code == 200, response.text


def entries(http: httpx.Client, fields: str | None = None, raw_query: str | None = None) -> httpx.Response:
    if raw_query is not None:
        return http.get(f"/leaderboard_entries?api_name={BOARD}&{raw_query}", headers=APP_AUTH)
    params = {"api_name": BOARD}
    if fields is not None:
        params["fields"] = fields
    return http.get("/leaderboard_entries", headers=APP_AUTH, params=params)


@pytest.mark.usefixtures("two_entries")
def test_default_projection_is_ids_only(http: httpx.Client) -> None:
    """D5: without fields, a list returns each row's id only."""
    for response in (entries(http), entries(http, "")):
        assert response.status_code == 200, response.text
        rows = response.json()["data"]
        assert len(rows) == 2
        assert all(set(row) == {"id"} for row in rows), rows
        assert all(isinstance(row["id"], str) and row["id"].isdigit() for row in rows)
    boards = http.get(f"/{APP_ID}/leaderboards", headers=APP_AUTH)
    assert boards.status_code == 200, boards.text
    assert len(boards.json()["data"]) == 3
    assert all(set(row) == {"id"} for row in boards.json()["data"])


@pytest.mark.usefixtures("two_entries")
def test_nested_user_fields(http: httpx.Client) -> None:
    """D5: user{id,alias,profile_url} selects those subfields of the user, and only those."""
    response = entries(http, "user{id,alias},rank,score,extra_data_base64")
    assert response.status_code == 200, response.text
    rows = response.json()["data"]
    assert [(r["user"], r["rank"], r["score"], r["extra_data_base64"]) for r in rows] == [
        ({"id": GRACE_ID, "alias": "grace"}, 1, 20, "aGk="),
        ({"id": ADA_ID, "alias": "ada"}, 2, 10, "aGk="),
    ]
    assert all(set(r) == {"id", "user", "rank", "score", "extra_data_base64"} for r in rows)


@pytest.mark.usefixtures("two_entries")
def test_subselection_includes_the_nested_id(http: httpx.Client) -> None:
    """D5: a node's id comes with any selection of it, at the top and nested."""
    response = entries(http, "user{alias}")
    assert response.status_code == 200, response.text
    assert [r["user"] for r in response.json()["data"]] == [{"id": GRACE_ID, "alias": "grace"},
                                                           {"id": ADA_ID, "alias": "ada"}]
    assert all(set(r) == {"id", "user"} for r in response.json()["data"])


@pytest.mark.usefixtures("two_entries")
def test_whitespace_in_fields(http: httpx.Client) -> None:
    """D5: whitespace around names and braces gives the same answer as without."""
    tight = entries(http, "user{id,alias},rank")
    loose = entries(http, "  user {  id ,  alias } ,   rank  ")
    assert loose.status_code == 200, loose.text
    assert [{k: v for k, v in r.items() if k != "id"} for r in loose.json()["data"]] == [
        {"user": {"id": GRACE_ID, "alias": "grace"}, "rank": 1},
        {"user": {"id": ADA_ID, "alias": "ada"}, "rank": 2},
    ]
    assert loose.json() == tight.json()


@pytest.mark.usefixtures("two_entries")
@pytest.mark.parametrize("raw", [
    "fields=user%7Bid%2Calias%7D%2Crank",
    "fields=user%7bid%2calias%7d%2crank",
    "fields=user{id,alias},rank",
    "fields=user%7Bid,alias%7D,rank",
    "fields=user%20%7B%20id%20%2C%20alias%20%7D%20%2C%20rank",
    "fields=user+%7B+id+%2C+alias+%7D+%2C+rank",
])
def test_url_encoded_braces_and_commas(http: httpx.Client, raw: str) -> None:
    """D5: braces and commas may be percent-encoded (either case), raw, or mixed; '+' is a space."""
    response = entries(http, raw_query=raw)
    assert response.status_code == 200, response.text
    assert [(r["user"], r["rank"]) for r in response.json()["data"]] == [
        ({"id": GRACE_ID, "alias": "grace"}, 1), ({"id": ADA_ID, "alias": "ada"}, 2)]


@pytest.mark.usefixtures("two_entries")
def test_fields_from_a_form_body(http: httpx.Client) -> None:
    """D5/D2/D3: fields in a POST body of a method=GET read work like fields in the query."""
    response = http.post("/leaderboard_entries", headers=APP_AUTH,
                         data={"api_name": BOARD, "method": "GET", "fields": "score"})
    assert response.status_code == 200, response.text
    assert [r["score"] for r in response.json()["data"]] == [20, 10]


@pytest.mark.usefixtures("two_entries")
@pytest.mark.parametrize(("fields", "named"), [
    ("bogus", "bogus"),
    ("rank,score,not_a_field", "not_a_field"),
    ("user{id,secret_thing}", "secret_thing"),
    ("USER", "USER"),
    ("rank{x}", "rank"),
    ("user{alias{x}}", "alias"),
])
def test_unknown_field_is_a_400_naming_it(http: httpx.Client, fields: str, named: str) -> None:
    """D5/D7: an unknown field (or subfields of a plain value) is 400 code 100 naming the field."""
    error = assert_graph_error(entries(http, fields), 400, 100, "OCApiException")
    assert named in error["message"], error


def test_unknown_field_on_leaderboard_list_and_object(http: httpx.Client) -> None:
    """D5/D7: the same check applies to the app's leaderboard list and to GET /{id}."""
    error = assert_graph_error(
        http.get(f"/{APP_ID}/leaderboards", headers=APP_AUTH, params={"fields": "api_name,owner_secret"}), 400, 100)
    assert "owner_secret" in error["message"]
    board_id = http.get(f"/{APP_ID}/leaderboards", headers=APP_AUTH).json()["data"][0]["id"]
    error = assert_graph_error(http.get(f"/{board_id}", headers=APP_AUTH, params={"fields": "nonexistent"}), 400, 100)
    assert "nonexistent" in error["message"]


@pytest.mark.parametrize("fields", ["user{id", "user{id}}", "{id}", "user}", "user{id,alias", "rank,user{"])
def test_unbalanced_braces_are_a_400(http: httpx.Client, fields: str) -> None:
    """D5/D7: unbalanced braces are a 400 code 100 about the fields parameter."""
    error = assert_graph_error(entries(http, fields), 400, 100, "OCApiException")
    assert "fields" in error["message"]


def test_leaderboard_fields_over_http(http: httpx.Client) -> None:
    """D5: the leaderboard list projects the fields asked for, id always included."""
    response = http.get(f"/{APP_ID}/leaderboards", headers=APP_AUTH,
                        params={"fields": "api_name, sort_order ,entry_write_policy"})
    assert response.status_code == 200, response.text
    rows = {r["api_name"]: r for r in response.json()["data"]}
    assert set(rows) == {"best_leaderboard", "server_board", "MY_NEW_LEADERBOARD"}
    assert rows["server_board"]["sort_order"] == "LOWER_IS_BETTER"
    assert rows["server_board"]["entry_write_policy"] == "SERVER_AUTHORITATIVE"
    assert rows["MY_NEW_LEADERBOARD"]["entry_write_policy"] == "CLIENT_AUTHORITATIVE"
    assert all(set(r) == {"id", "api_name", "sort_order", "entry_write_policy"} for r in rows.values())


# --- pages answered from the rank index alone ----------------------------------------------------------
def test_rows_needed_only_for_fields_the_index_lacks() -> None:
    """What a rank index page holds: rank, score, timestamp, the entry's id and its user's id. Anything
    else (extra data, a profile field of the user) needs the entries' rows."""
    from questgraph.server.leaderboards.views import rows_needed

    for text in ("", "id", "rank,score", "timestamp", "user", "user{id}", "user{}", "id,rank,score,timestamp,user{id}"):
        assert rows_needed(parse_fields(text) if text else None) is False, text
    for text in ("extra_data_base64", "user{alias}", "user{id,display_name}", "rank,user{profile_url}",
                 "user{id},extra_data_base64"):
        assert rows_needed(parse_fields(text)) is True, text


@pytest.fixture(params=["memory", "redis"])
def index_http(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[httpx.Client]:
    """A client of a server on the test's backend with the in-memory rank index (the shared test server) or
    a Redis one (its own), and the two entries of ``two_entries``."""
    if request.param == "memory":
        server: RunningServer = request.getfixturevalue("qg")
        started = None
    else:
        require_redis()
        prefix = f"qgtest-{secrets.token_hex(6)}"
        server = started = start_server(tmp_path, rank_index=redis_url(prefix=prefix))
    try:
        with server.client() as client:
            two_entries(client)
            yield client
    finally:
        if started is not None:
            started.stop()
            drop_prefix(prefix)


@pytest.mark.parametrize("fields", ["", "rank,score,user{id}", "id,rank,score,timestamp,user{id}", "user", "timestamp"])
def test_a_page_of_index_fields_equals_the_page_built_from_rows(index_http: httpx.Client, fields: str) -> None:
    """These fields are answered from the rank index alone (it holds the user id beside the key, in memory
    and in Redis); the same fields asked with extra_data_base64 are built from the rows. Both must give
    the same rows, counts and cursors, page after page, on either index."""
    http = index_http

    def page(wanted: str, after: str | None) -> dict[str, object]:
        params = {"api_name": BOARD, "fields": wanted, "limit": "1", "summary": "true"}
        if after is not None:
            params["after"] = after
        response = http.get("/leaderboard_entries", headers=APP_AUTH, params=params)
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body

    after: str | None = None
    seen = []
    for _ in range(2):
        alone, with_rows = page(fields, after), page(f"{fields},extra_data_base64".lstrip(","), after)
        rows = with_rows["data"]
        assert isinstance(rows, list) and all(row.pop("extra_data_base64") == "aGk=" for row in rows)
        assert alone["data"] == rows and alone["summary"] == with_rows["summary"] == {"total_count": 2}
        cursors = alone["paging"]["cursors"]  # type: ignore[index]
        assert cursors == with_rows["paging"]["cursors"]  # type: ignore[index]
        seen.extend(rows)
        after = cursors["after"]
    assert len(seen) == 2 and seen[0] != seen[1]
    if "score" in fields:
        assert [row["score"] for row in seen] == [20, 10] and [row["user"]["id"] for row in seen] == [GRACE_ID, ADA_ID]
