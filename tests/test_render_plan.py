"""``NodeType.renderer`` (the selection worked out once per page, issue 14) renders exactly as ``render``:
the same keys in the same order (id first, D5), the same omitted None values, nested nodes included."""

from __future__ import annotations

import itertools

import pytest

from questgraph.server.graph.fields import parse_fields
from questgraph.server.identity.records import User
from questgraph.server.leaderboards.records import Entry
from questgraph.server.leaderboards.service import RankedEntry
from questgraph.server.leaderboards.views import ENTRY_NODE, USER_NODE

NAMES = ["id", "rank", "score", "timestamp", "extra_data_base64", "user", "user{id}", "user{alias,display_name}",
         "user{profile_url,id}"]
ROWS = [
    RankedEntry(Entry(101, 7, 55, -3, b"\x00hi", 1_700_000_123_456_789), 1,
                User(55, 9, 3, "ada", "Ada", "https://example.com/ada", "AD")),
    RankedEntry(Entry(102, 7, 56, 2**62, b"", 0), 2, User(56, 9, 4, "bob", "", "", "CH")),
]


SOME = [", ".join(c) for n in (1, 2, 3) for c in itertools.permutations(NAMES, n)][::7]


@pytest.mark.parametrize("text", [*SOME, "", "score,score", "user{id},user{alias}", "rank,id,rank"])
def test_renderer_renders_as_render(text: str) -> None:
    selection = parse_fields(text) if text else None
    render = ENTRY_NODE.renderer(selection)
    for row in ROWS:
        expected = ENTRY_NODE.render(row, selection)
        got = render(row)
        assert got == expected and list(got) == list(expected), text
        assert next(iter(got)) == "id"


def test_a_none_value_is_omitted_but_an_unselected_id_is_kept() -> None:
    user = User(55, 9, 3, "ada", None, None, "AD")  # type: ignore[arg-type]  # no display name, no profile
    selection = parse_fields("alias,display_name,profile_url")
    assert USER_NODE.renderer(selection)(user) == USER_NODE.render(user, selection) == {"id": "55", "alias": "ada"}
