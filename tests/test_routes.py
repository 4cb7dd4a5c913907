"""The route tables against the documentation: every documented Graph path (docs/api.md's coverage table)
and admin path (docs/config.md's endpoint table) is in a table, every route in a table is documented, and
each resolves to its table's handler, bound to the table's service. And the cursor formats, pinned."""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from questgraph.server.achievements import routes as achievement_routes
from questgraph.server.admin import routes as admin_routes
from questgraph.server.challenges import routes as challenge_routes
from questgraph.server.commerce import routes as commerce_routes
from questgraph.server.federation import routes as federation_routes
from questgraph.server.graph import objects as object_routes
from questgraph.server.graph.cursors import (
    decode_ban_cursor,
    decode_pair_cursor,
    decode_rank_cursor,
    encode_ban_cursor,
    encode_json_cursor,
    encode_pair_cursor,
    encode_rank_cursor,
    json_cursor_decoder,
)
from questgraph.server.graph.routing import ObjectRoute, Route, Router
from questgraph.server.integrity import routes as integrity_routes
from questgraph.server.leaderboards import routes as leaderboard_routes
from questgraph.server.notifications import routes as notification_routes
from questgraph.server.ranking.keys import sort_key
from questgraph.server.sso import routes as sso_routes
from questgraph.server.sso.pages import SsoPages
from questgraph.server.users import routes as user_routes

DOCS = Path(__file__).resolve().parent.parent / "docs"
GRAPH_TABLES: list[tuple[str, Any]] = [
    ("leaderboards", leaderboard_routes.ROUTES), ("sso", sso_routes.ROUTES),
    ("achievements", achievement_routes.ROUTES), ("users", user_routes.ROUTES),
    ("commerce", commerce_routes.ROUTES), ("notifications", notification_routes.ROUTES),
    ("federation", federation_routes.ROUTES), ("integrity", integrity_routes.ROUTES),
    ("challenges", challenge_routes.ROUTES),
]
ADMIN_TABLES: list[tuple[str, Any]] = [
    ("identity", admin_routes.IDENTITY), ("state", admin_routes.STATE), ("users", admin_routes.USERS),
    ("achievements", admin_routes.ACHIEVEMENTS), ("commerce", admin_routes.COMMERCE),
    ("dashboard", admin_routes.DASHBOARD), ("sso", admin_routes.SSO),
    ("faults", admin_routes.FAULTS),
    ("notifications", admin_routes.NOTIFICATIONS),
    ("notifications", admin_routes.NOTIFICATIONS), ("federation", admin_routes.FEDERATION),
    ("integrity", admin_routes.INTEGRITY), ("challenges", admin_routes.CHALLENGES),
]
# A method (or methods, `POST\|GET`) and a path, in backquotes.
_DOCUMENTED = re.compile(r"`((?:GET|POST|DELETE)(?:\\\|(?:GET|POST|DELETE))*) (/[^`\s?]*)[^`]*`")
_PLACEHOLDER = re.compile(r"\{[^}/]*\}")


def _template(path: str) -> str:
    """A path with its placeholders unnamed: docs say ``{link_id}`` or ``{id}`` where a route has one name."""
    return "/" + "/".join(_PLACEHOLDER.sub("{}", s) for s in path.split("/") if s)


def _documented(doc: str, marker: str) -> set[tuple[str, str]]:
    """(method, path template) of every backquoted route in the rows of ``doc``'s table whose first cell
    starts with ``marker``."""
    found: set[tuple[str, str]] = set()
    for line in (DOCS / doc).read_text().splitlines():
        cells = line.split(" | ")
        if not line.startswith("| ") or len(cells) < 2:
            continue
        cell = cells[0] if marker == "/_admin" else cells[1]
        if "out of scope" in line or marker not in cell:
            continue
        for methods, path in _DOCUMENTED.findall(cell):
            paths = [path]
            if "also without the app id" in cell:
                paths.append(path.removeprefix("/{app_id}"))
            verbs = methods.split("\\|") + (["GET"] if "(also GET)" in cell else [])
            found.update((verb, _template(p)) for verb in verbs for p in paths)
    return found


def _routes(tables: list[tuple[str, Any]]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for _, table in tables:
        for row in table:
            if isinstance(row, Route):
                found.add((row.method, _template(row.path)))
            else:  # an object kind: GET/DELETE /{<kind>_id}, dispatched by graph/objects.py
                found.update((method, "/{}") for method, handler in (("GET", row.get), ("DELETE", row.delete))
                             if handler is not None)
    return found


def _object_kinds() -> set[tuple[str, str]]:
    return {(method, row.kind) for _, table in GRAPH_TABLES for row in table if isinstance(row, ObjectRoute)
            for method, handler in (("GET", row.get), ("DELETE", row.delete)) if handler is not None}


def test_every_documented_graph_path_has_a_route() -> None:
    documented = _documented("api.md", "/")
    pages = {(m, p) for m, p in documented if SsoPages.handles(p)}  # the SSO page is HTML, not a Graph route
    assert pages == {("GET", "/sso")}
    routes = _routes(GRAPH_TABLES)
    assert documented - pages - routes == set()
    assert routes - documented == set()


def test_every_documented_object_kind_is_served() -> None:
    """``GET /{entry_id}``: the placeholder names the kind (``entry``) that graph/objects.py dispatches on."""
    documented = set()
    for line in (DOCS / "api.md").read_text().splitlines():
        for method, name in re.findall(r"(GET|DELETE) /\{(\w+)_id\}`", line):
            documented.add((method, name))
    assert documented == _object_kinds()


def test_every_documented_admin_path_has_a_route() -> None:
    documented = _documented("config.md", "/_admin")
    routes = _routes(ADMIN_TABLES)
    assert documented - routes == set()
    assert routes - documented == set()


@pytest.mark.parametrize(("name", "table"), GRAPH_TABLES + ADMIN_TABLES)
def test_each_route_resolves_to_its_handler_bound_to_the_service(name: str, table: Any) -> None:
    service, router = object(), Router()
    kinds: dict[str, Any] = {}

    class Kinds:  # what Router.add_table needs of graph/objects.py's ObjectKinds
        @staticmethod
        def register(kind: str, *, get: Any = None, delete: Any = None) -> None:
            kinds[kind] = (get, delete)

    router.add_table(table, service, Kinds())
    for row in table:
        if isinstance(row, Route):
            path = _PLACEHOLDER.sub("1234757621998335", row.path)
            handler, _ = router.resolve(row.method, path)
            assert isinstance(handler, partial) and handler.func is row.handler and handler.args == (service,)
        else:
            for bound, handler in zip(kinds[row.kind], (row.get, row.delete), strict=True):
                assert (bound is None) == (handler is None)
                if bound is not None:
                    assert bound.func is handler and bound.args == (service,)


def test_object_dispatch_comes_after_every_literal_route() -> None:
    router = Router()
    for _, table in GRAPH_TABLES:
        router.add_table([row for row in table if isinstance(row, Route)], object())
    router.add_table(object_routes.ROUTES, object())
    handler, found = router.resolve("GET", "/me")
    assert handler.func is user_routes.ROUTES[0].handler
    handler, found = router.resolve("DELETE", "/1234757621998335")
    assert handler.func is object_routes.ROUTES[1].handler and found == {"id": "1234757621998335"}


# Cursors clients hold must keep working: each format is pinned to what the server has always sent.
_RANK_KEY = sort_key("HIGHER_IS_BETTER", 1234, 1700000000123456, 1234757621998335)
PINNED_CURSORS: list[tuple[str, Any, Any, Any]] = [
    ("AX________stAAYKJBggIkAABGMBaXFi_w", _RANK_KEY, encode_rank_cursor, decode_rank_cursor),
    ("YTE6MTcwMDAwMDAwMDEyMzQ1NjoxMjM0NzU3NjIxOTk4MzM1", (1700000000123456, 1234757621998335),
     encode_pair_cursor, decode_pair_cursor),
    ("WyJxZ2MxIiwxNzAwMDAwMDAwLDEyMzQ3NTc2MjE5OTgzMzVd", (1700000000, 1234757621998335), encode_json_cursor,
     json_cursor_decoder((0, 0))),
    ("WyJxZ2MxIiwiZ29sZF9wYWNrIl0", ("gold_pack",), encode_json_cursor, json_cursor_decoder(("",))),
    ("WyJxZ2MxIiwiw6lww6llIl0", ("épée",), encode_json_cursor, json_cursor_decoder(("",))),
    ("YjE6NDI", 42, encode_ban_cursor, decode_ban_cursor),  # device_ban_ids
]


@pytest.mark.parametrize(("cursor", "key", "encode", "decode"), PINNED_CURSORS)
def test_cursor_formats_are_unchanged(cursor: str, key: Any, encode: Any, decode: Any) -> None:
    assert encode(key) == cursor
    assert decode(cursor) == key


def test_a_cursor_of_another_list_is_refused() -> None:
    rank, pair, by_time, by_sku = (c[0] for c in PINNED_CURSORS[:4])
    assert decode_rank_cursor(pair) is None and decode_pair_cursor(rank) is None
    assert json_cursor_decoder(("",))(by_time) is None and json_cursor_decoder((0, 0))(by_sku) is None
    assert decode_pair_cursor("not base64!") is None and json_cursor_decoder((0, 0))("////") is None
