"""The comparison's rules on plain answers, without servers (docs/conformance.md, "What it compares")."""

from __future__ import annotations

from typing import Any

from questgraph.conformance.compare import Answer, compare
from questgraph.conformance.report import REDACTED, redact
from questgraph.conformance.shape import shape_of


def _kinds(target: Any, local: Any, statuses: tuple[int, int] = (200, 200)) -> set[tuple[str, str, str, str]]:
    found = compare("s", Answer(statuses[0], target), Answer(statuses[1], local))
    return {(d.kind, d.detail, d.target, d.questgraph) for d in found}


def test_shape_is_keys_and_types_with_lists_as_the_union_of_their_elements() -> None:
    shape = shape_of({"data": [{"id": "1", "score": 3}, {"id": "2", "extra": None}], "ok": True})
    assert shape == {"$": {"object"}, "$.data": {"list"}, "$.data[]": {"object"}, "$.data[].id": {"string"},
                     "$.data[].score": {"integer"}, "$.data[].extra": {"null"}, "$.ok": {"boolean"}}


def test_values_never_count_but_keys_and_types_do() -> None:
    assert _kinds({"id": "1", "n": 2}, {"id": "999", "n": 7}) == set()
    assert _kinds({"id": "1"}, {"id": 1}) == {("shape", "$.id", "string", "integer")}
    assert _kinds({"id": "1", "alias": "a"}, {"id": "1"}) == {("shape", "$.alias", "string", "absent")}
    assert _kinds({"id": "1"}, {"id": "1", "extra": 1.5}) == {("shape", "$.extra", "absent", "number")}


def test_what_depends_on_the_data_is_no_difference() -> None:
    # An empty list says nothing about its elements; null goes with every type.
    assert _kinds({"data": []}, {"data": [{"id": "1"}]}) == set()
    assert _kinds({"t": None}, {"t": 5}) == set()
    assert _kinds({"u": None}, {"u": {"id": "1"}}) == set()
    assert _kinds({"t": ["a", None]}, {"t": ["a"]}) == set()


def test_status_error_and_paging_are_their_own_kinds() -> None:
    error = {"error": {"message": "x", "type": "OAuthException", "code": 190, "fbtrace_id": "A"}}
    other = {"error": {"message": "y", "type": "OAuthException", "code": 102, "fbtrace_id": "B"}}
    assert _kinds(error, other, (401, 400)) == {("status", "status", "401", "400"),
                                               ("error", "type/code/subcode", "OAuthException 190",
                                                "OAuthException 102")}
    paged = {"data": [{"id": "1"}], "paging": {"cursors": {"before": "a", "after": "b"}, "next": "u"}}
    last = {"data": [{"id": "1"}], "paging": {"cursors": {"before": "a", "after": "b"}}}
    assert _kinds(paged, last) == {("paging", "$.paging.next", "string", "absent")}


def test_an_answer_that_is_not_json_has_a_shape_of_its_own() -> None:
    found = compare("s", Answer(502, json=False), Answer(200, {"data": []}))
    assert {(d.kind, d.detail) for d in found} == {("status", "status"), ("shape", "$")}


def test_redact_removes_given_secrets_and_anything_token_like() -> None:
    text = redact("a=s3cr3tvalue b=OC|123|abcDEF c=https://x/?access_token=EAAB123&after=z", ["s3cr3tvalue"])
    assert text == f"a={REDACTED} b={REDACTED} c=https://x/?access_token={REDACTED}&after=z"
