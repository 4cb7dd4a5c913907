"""The OpenAPI document (server/openapi.py): made from the route tables, so it names every route and the
parameters each handler reads; its answer schemas are the node types' fields; it is served at
/_openapi.json (outside the Graph namespace) and docs/openapi.json is a current copy of it."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import schemathesis

from questgraph.server import openapi
from questgraph.server.achievements import views as achievement_views
from questgraph.server.commerce import views as commerce_views
from questgraph.server.commerce.views import ListNode
from questgraph.server.errors import NotRanked
from questgraph.server.federation import views as federation_views
from questgraph.server.graph.fields import NodeType
from questgraph.server.graph.objects import ObjectKinds
from questgraph.server.graph.routing import ObjectRoute, Route
from questgraph.server.leaderboards import views as leaderboard_views
from questgraph.server.users import views as user_views
from tests.conftest import APP_TOKEN, assert_graph_error

COMMITTED = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"
REGENERATE = "PYTHONPATH=src python -m questgraph.server.openapi docs/openapi.json"


def test_the_committed_copy_is_current() -> None:
    assert json.loads(COMMITTED.read_text()) == openapi.build(), f"docs/openapi.json is stale: run {REGENERATE}"


def test_the_document_is_a_valid_openapi_3_1_document() -> None:
    document = openapi.build()
    assert document["openapi"] == "3.1.0"
    schemathesis.openapi.from_dict(document).validate()


def test_the_document_is_served_outside_the_graph_namespace(http: httpx.Client) -> None:
    answer = http.get("/_openapi.json")  # no token: it is the documentation
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    assert answer.json() == openapi.build()
    assert http.get("/_openapi.json/").json() == answer.json()
    assert_graph_error(http.post("/_openapi.json"), 405, 100)
    # The Graph router never sees it: near misses are Graph 404s, as any unknown path (D7).
    assert_graph_error(http.get("/_openapi.yaml", params={"access_token": APP_TOKEN}), 404, 100, subcode=33)


def test_every_route_of_every_table_is_an_operation() -> None:
    document = openapi.build()
    operations = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    routes = {(row.method, row.path) for _, table in openapi.GRAPH_TABLES for row in table if isinstance(row, Route)}
    routes |= {(row.method, row.path) for table in openapi.ADMIN_TABLES for row in table if isinstance(row, Route)}
    assert operations == routes
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    submit = document["paths"]["/leaderboard_submit_entry"]["post"]
    form = submit["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert form["required"] == ["api_name", "score"] and form["properties"]["force_update"]["type"] == "boolean"
    entries = {p["name"]: p for p in document["paths"]["/leaderboard_entries"]["get"]["parameters"]}
    assert entries["api_name"]["required"] and entries["after"]["schema"]["format"] == "cursor"
    icons = document["paths"]["/{app_id}/achievement_definitions"]["post"]["requestBody"]["content"]
    assert icons["multipart/form-data"]["schema"]["properties"]["unlocked_image_file"]["format"] == "binary"
    assert "unlocked_image_file" not in icons["application/json"]["schema"]["properties"]
    assert document["paths"]["/{id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == \
        openapi.ref("Object")
    assert document["paths"]["/_admin/reset"]["post"]["security"] == [{"adminKey": []}]


def test_the_error_envelope_and_its_rows() -> None:
    error = openapi.build()["components"]["schemas"]["Error"]
    envelope = error["properties"]["error"]
    assert set(envelope["required"]) == {"message", "type", "code", "is_transient", "error_data", "fbtrace_id"}
    assert envelope["properties"]["type"]["enum"] == ["GraphMethodException", "OAuthException", "OCApiException"]
    assert "| 404 | NotRanked | GraphMethodException | 12074 |  | false |" in error["description"]
    assert NotRanked.code == 12074


# --- the answer schemas are the node types ------------------------------------------------------------------
ROOTS: dict[str, NodeType] = {
    "Leaderboard": leaderboard_views.LEADERBOARD_NODE, "LeaderboardEntry": leaderboard_views.ENTRY_NODE,
    "AchievementDefinition": achievement_views.definition_node(""),
    "AchievementProgress": achievement_views.progress_node(""), "User": user_views.USER_NODE,
    "IAPItem": commerce_views.ITEM_NODE, "Purchase": commerce_views.PURCHASE_NODE,
    "Subscription": commerce_views.SUBSCRIPTION_NODE,
    "FederatedUser": federation_views.FEDERATED_USER_NODE,
}


def _check_node(name: str, node: NodeType, seen: set[str]) -> None:
    seen.add(name)
    properties = openapi.GRAPH_SCHEMAS[name]["properties"]
    assert set(properties) == set(node.fields), name
    for field_name, found in node.fields.items():
        prop = properties[field_name]
        if found.node is None:
            assert "$ref" not in prop and "items" not in prop, (name, field_name)
            continue
        listed = isinstance(found.node, ListNode)
        target = prop["items"]["$ref"] if listed else prop["$ref"]
        inner = found.node.inner if isinstance(found.node, ListNode) else found.node
        _check_node(target.rsplit("/", 1)[1], inner, seen)


def test_the_answer_schemas_have_the_fields_of_the_node_types() -> None:
    seen: set[str] = set()
    for name, node in ROOTS.items():
        _check_node(name, node, seen)
    assert {"UserRef", "Offer", "PaidOffer", "TrialOffer", "BillingPlan", "Price", "PriceTerm"} <= seen
    assert set(user_views.LINKED_NODE.fields) <= set(openapi.GRAPH_SCHEMAS["User"]["properties"])  # /me, D33
    kinds = [row.answer for _, table in openapi.GRAPH_TABLES for row in table if isinstance(row, ObjectRoute)]
    assert sorted(kinds) == ["AchievementDefinition", "FederatedUser", "Leaderboard", "LeaderboardEntry", "User"]


# --- the declared parameters are the ones the handlers read ---------------------------------------------------
_READS = (re.compile(r'params\.\w+\(\s*"(\w+)"'), re.compile(r'(?:params|request),\s*"(\w+)"'))
_CALLS = re.compile(r"\b(\w+)\(")


def _source(function: Callable[..., Any], seen: set[str] | None = None) -> str:
    """The function's source and that of the helpers of its module it calls, at any depth."""
    seen = set() if seen is None else seen
    seen.add(function.__name__)
    module = inspect.getmodule(function)
    text = inspect.getsource(function)
    for name in _CALLS.findall(text):
        helper = getattr(module, name, None)
        if name not in seen and inspect.isfunction(helper) and inspect.getmodule(helper) is module:
            text += _source(helper, seen)
    return text


def _read(function: Callable[..., Any]) -> tuple[set[str], str]:
    text = _source(function)
    names = {name for pattern in _READS for name in pattern.findall(text)}
    if "request.fields(" in text:
        names.add("fields")
    if ".limit(params)" in text:
        names.add("limit")
    return names, text


def _handlers() -> list[tuple[str, Callable[..., Any], set[str]]]:
    rows: list[tuple[str, Callable[..., Any], set[str]]] = []
    tables = [table for _, table in openapi.GRAPH_TABLES] + list(openapi.ADMIN_TABLES)
    for table in tables:
        for row in table:
            if isinstance(row, Route) and row.handler not in (ObjectKinds.get, ObjectKinds.delete):
                rows.append((f"{row.method} {row.path}", row.handler, {p.name for p in row.params}))
            elif isinstance(row, ObjectRoute):
                rows += [(f"GET /{{{row.kind}_id}}", h, {"fields"}) for h in (row.get,) if h is not None]
                rows += [(f"DELETE /{{{row.kind}_id}}", h, set()) for h in (row.delete,) if h is not None]
    return rows


def test_every_parameter_a_handler_reads_is_declared_and_every_declared_one_is_read() -> None:
    rows = _handlers()
    assert len(rows) > 60
    for label, handler, declared in rows:
        read, text = _read(handler)
        assert read <= declared, f"{label} reads {sorted(read - declared)} that its route does not declare"
        unread = {name for name in declared - read if f'"{name}"' not in text}
        assert not unread, f"{label} declares {sorted(unread)} that its handler never reads"
