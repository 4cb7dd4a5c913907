"""Bad input for every parameter of every leaderboard endpoint: each call gets its D7 error, and the data is
exactly as before (stored rows and what the Graph API serves, compared before and after each call).

Every case is one valid base call (``test_base_calls_are_valid`` proves each one succeeds) with exactly
one thing wrong: a token, a path id, or one parameter.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.conftest import (
    ADA_ID,
    ADA_TOKEN,
    APP_ID,
    APP_SECRET,
    APP_TOKEN,
    GRACE_ID,
    GRACE_TOKEN,
    LINUS_ID,
    LINUS_TOKEN,
    RIVAL_APP_ID,
    RIVAL_APP_TOKEN,
    RIVAL_ID,
    RIVAL_TOKEN,
    UNENTITLED_ID,
    RunningServer,
    assert_graph_error,
)
from tests.lb_support import ENTRY_FIELDS, bearer, board_id, entries_ok, state, submit_ok

EXPIRED = "<a user token past its ttl>"
ROTATED = "<the app token from before a secret rotation>"
DEFAULT = "<the base call's token>"
DROP = object()  # removes a parameter from the base call

# The valid base call of every endpoint; {placeholders} are ids from the seeded world.
BASE: dict[str, tuple[str, str, dict[str, str], str]] = {
    "create": ("POST", "/{app}/leaderboards",
               {"api_name": "best_leaderboard", "sort_order": "LOWER_IS_BETTER",
                "entry_write_policy": "SERVER_AUTHORITATIVE"}, APP_TOKEN),
    "submit": ("POST", "/leaderboard_submit_entry",
               {"api_name": "best_leaderboard", "score": "1000", "user_id": GRACE_ID, "force_update": "true",
                "extra_data_base64": "AQID"}, APP_TOKEN),
    "entries": ("GET", "/leaderboard_entries",
                {"api_name": "best_leaderboard", "fields": ENTRY_FIELDS, "summary": "true", "limit": "10"}, APP_TOKEN),
    "list": ("GET", "/{app}/leaderboards", {"api_name": "best_leaderboard", "fields": "entry_count"}, APP_TOKEN),
    "get_board": ("GET", "/{board}", {"fields": "api_name,entry_count"}, APP_TOKEN),
    "get_entry": ("GET", "/{entry_grace}", {"fields": "rank,score"}, APP_TOKEN),
    "delete_entry": ("DELETE", "/{entry_grace}", {}, APP_TOKEN),
    "remove_all": ("POST", "/leaderboard_remove_all_entries", {"api_name": "best_leaderboard"}, APP_TOKEN),
    "delete_board": ("DELETE", "/{board}", {}, APP_TOKEN),
}


@dataclass(frozen=True)
class Case:
    endpoint: str
    status: int
    code: int
    type: str | None = None
    params: dict[str, Any] = field(default_factory=dict)  # overrides; DROP removes
    path: str | None = None
    token: str | None = DEFAULT
    json_body: bool = False
    extra_headers: dict[str, str] = field(default_factory=dict)
    method: str | None = None
    message: str | None = None  # a word the message must contain


def _case(id_: str, *args: Any, **kwargs: Any) -> Any:
    return pytest.param(Case(*args, **kwargs), id=id_)


AUTH_401 = "OAuthException"
FORBIDDEN = ("OAuthException",)
PARAM = "OCApiException"
MISSING = "GraphMethodException"

BAD_TOKENS: list[tuple[str, str | None, int, int]] = [
    ("no-token", None, 401, 104),
    ("garbage", "garbage", 401, 190),
    ("wrong-secret", f"OC|{APP_ID}|{'0' * 32}", 401, 190),
    ("unknown-app", f"OC|999999999999999|{APP_SECRET}", 401, 190),
    ("app-token-truncated", APP_TOKEN[:-1], 401, 190),
    ("app-id-missing", f"OC|{APP_SECRET}", 401, 190),  # the doc's metadata example
    ("pipes-missing", f"OC{APP_ID}{APP_SECRET[4:]}", 401, 190),  # the doc's delete-entry example
    ("user-token-truncated", ADA_TOKEN[:-1], 401, 190),
    ("unknown-user-token", "OC" + "Z" * 90, 401, 190),
    ("expired-user-token", EXPIRED, 401, 190),
    ("rotated-secret", ROTATED, 401, 190),
]

TOKEN_CASES = [
    _case(f"{endpoint}-{name}", endpoint, status, code, AUTH_401, token=token)
    for endpoint in BASE for name, token, status, code in BAD_TOKENS
] + [
    _case(f"{endpoint}-two-different-tokens", endpoint, 400, 100, PARAM, params={"access_token": ADA_TOKEN})
    for endpoint in BASE
]

KIND_CASES = [
    _case("create-user-token", "create", 403, 200, *FORBIDDEN, token=ADA_TOKEN),
    _case("create-rival-app-token", "create", 403, 200, *FORBIDDEN, token=RIVAL_APP_TOKEN),
    _case("create-rival-user-token", "create", 403, 200, *FORBIDDEN, token=RIVAL_TOKEN),
    _case("submit-user-token-on-server-board", "submit", 403, 200, *FORBIDDEN, token=ADA_TOKEN,
          params={"api_name": "server_board", "user_id": DROP}),
    _case("submit-rival-app-token", "submit", 400, 100, PARAM, token=RIVAL_APP_TOKEN, message="user id"),
    _case("entries-centred-with-app-token", "entries", 403, 200, *FORBIDDEN, params={"start_at": "CENTERED_ON_VIEWER"}),
    _case("entries-viewer-alias-with-app-token", "entries", 403, 200, *FORBIDDEN, params={"start_at": "VIEWER"}),
    _case("entries-friends-with-app-token", "entries", 403, 200, *FORBIDDEN, params={"filter": "FRIENDS"}),
    _case("list-rival-app-token", "list", 403, 200, *FORBIDDEN, token=RIVAL_APP_TOKEN),
    _case("list-rival-user-token", "list", 403, 200, *FORBIDDEN, token=RIVAL_TOKEN),
    _case("get-board-rival-app-token", "get_board", 403, 200, *FORBIDDEN, token=RIVAL_APP_TOKEN),
    _case("get-entry-rival-user-token", "get_entry", 403, 200, *FORBIDDEN, token=RIVAL_TOKEN),
    _case("delete-entry-other-users-token", "delete_entry", 403, 200, *FORBIDDEN, token=ADA_TOKEN),
    _case("delete-entry-own-on-server-board", "delete_entry", 403, 200, *FORBIDDEN, token=LINUS_TOKEN,
          path="/{entry_linus_server}"),
    _case("delete-entry-rival-app-token", "delete_entry", 403, 200, *FORBIDDEN, token=RIVAL_APP_TOKEN),
    _case("delete-entry-rival-user-token", "delete_entry", 403, 200, *FORBIDDEN, token=RIVAL_TOKEN),
    _case("remove-all-user-token", "remove_all", 403, 200, *FORBIDDEN, token=ADA_TOKEN),
    _case("remove-all-rival-user-token", "remove_all", 403, 200, *FORBIDDEN, token=RIVAL_TOKEN),
    _case("delete-board-user-token", "delete_board", 403, 200, *FORBIDDEN, token=GRACE_TOKEN),
    _case("delete-board-rival-app-token", "delete_board", 403, 200, *FORBIDDEN, token=RIVAL_APP_TOKEN),
    _case("delete-rival-board-with-our-token", "delete_board", 403, 200, *FORBIDDEN, path="/{rival_board}"),
    _case("delete-rival-entry-with-our-token", "delete_entry", 403, 200, *FORBIDDEN, path="/{rival_entry}"),
]

CREATE_CASES = [
    _case("create-app-id-of-the-doc", "create", 404, 100, MISSING, path="/12347576219/leaderboards"),
    _case("create-app-id-of-rival", "create", 403, 200, *FORBIDDEN, path=f"/{RIVAL_APP_ID}/leaderboards"),
    _case("create-app-id-zero", "create", 404, 100, MISSING, path="/0/leaderboards"),
    _case("create-app-id-not-a-number", "create", 404, 100, MISSING, path="/doc_game/leaderboards"),
    _case("create-app-id-20-digits", "create", 404, 100, MISSING, path="/12345678901234567890/leaderboards"),
    _case("create-app-id-negative", "create", 404, 100, MISSING, path="/-1234757621998335/leaderboards"),
    _case("create-user-id-as-app-id", "create", 404, 100, MISSING, path=f"/{ADA_ID}/leaderboards"),
    _case("create-api-name-missing", "create", 400, 100, PARAM, params={"api_name": DROP}, message="api_name"),
    _case("create-api-name-empty", "create", 400, 100, PARAM, params={"api_name": ""}, message="api_name"),
    _case("create-api-name-65", "create", 400, 100, PARAM, params={"api_name": "b" * 65}, message="api_name"),
    _case("create-api-name-oversized", "create", 400, 100, PARAM, params={"api_name": "b" * 100_000}),
    _case("create-api-name-space", "create", 400, 100, PARAM, params={"api_name": "best leaderboard"}),
    _case("create-api-name-unicode", "create", 400, 100, PARAM, params={"api_name": "bést"}),
    _case("create-sort-order-unknown", "create", 400, 100, PARAM, params={"sort_order": "UP"}, message="sort_order"),
    _case("create-sort-order-number", "create", 400, 100, PARAM, params={"sort_order": "1"}, message="sort_order"),
    _case("create-sort-order-missing-for-new", "create", 400, 100, PARAM,
          params={"api_name": "brand_new", "sort_order": DROP}, message="sort_order"),
    _case("create-write-policy-unknown", "create", 400, 100, PARAM, params={"entry_write_policy": "ANYONE"},
          message="entry_write_policy"),
    _case("create-write-policy-json-array", "create", 400, 100, PARAM,
          params={"entry_write_policy": ["CLIENT_AUTHORITATIVE"]}, json_body=True),
    *[_case(f"create-{name}-{label}", "create", 400, 100, PARAM, params={name: value}, message=name)
      for name in ("earliest_allowed_entry_time", "latest_allowed_entry_time")
      for label, value in (("text", "tomorrow"), ("float", "1463875200.5"), ("negative", "-1"),
                           ("over-int64", str(2**63)), ("iso-date", "2016-05-22"))],
    _case("create-window-reversed", "create", 400, 100, PARAM,
          params={"earliest_allowed_entry_time": "1464480000", "latest_allowed_entry_time": "1463875200"}),
    _case("create-window-empty", "create", 400, 100, PARAM,
          params={"earliest_allowed_entry_time": "1463875200", "latest_allowed_entry_time": "1463875200"}),
    _case("create-window-json-float", "create", 400, 100, PARAM, params={"earliest_allowed_entry_time": 1.5e9},
          json_body=True),
    *[_case(f"create-title-locale-map-{label}", "create", 400, 100, PARAM, params={"title_locale_map": value},
            message="title_locale_map")
      for label, value in (("not-json", "Soccer"), ("array", '["Soccer"]'), ("number-value", '{"en_US": 1}'),
                           ("unclosed", '{"en_US":"Soccer"'), ("oversized", json.dumps({"en_US": "x" * 20_000})))],
]

SUBMIT_CASES = [
    _case("submit-api-name-missing", "submit", 400, 100, PARAM, params={"api_name": DROP}, message="api_name"),
    _case("submit-api-name-empty", "submit", 400, 100, PARAM, params={"api_name": " "}, message="api_name"),
    _case("submit-api-name-unknown", "submit", 404, 100, MISSING, params={"api_name": "no_such_board"}),
    _case("submit-api-name-wrong-case", "submit", 404, 100, MISSING, params={"api_name": "BEST_LEADERBOARD"}),
    _case("submit-api-name-of-rival-app", "submit", 404, 100, MISSING, params={"api_name": "rival_only"}),
    _case("submit-api-name-oversized", "submit", 404, 100, MISSING, params={"api_name": "b" * 10_000}),
    _case("submit-score-missing", "submit", 400, 100, PARAM, params={"score": DROP}, message="score"),
    *[_case(f"submit-score-{label}", "submit", 400, 100, PARAM, params={"score": value}, message="score")
      for label, value in (("empty", ""), ("float", "1.5"), ("exponent", "1e3"), ("suffix", "12abc"),
                           ("over-int64", str(2**63)), ("under-int64", str(-(2**63) - 1)), ("hex", "0x10"),
                           ("oversized", "9" * 10_000))],
    *[_case(f"submit-json-score-{label}", "submit", 400, 100, PARAM, params={"score": value}, json_body=True)
      for label, value in (("float", 1.5), ("true", True), ("null", None), ("list", [1]), ("over-int64", 2**63))],
    *[_case(f"submit-extra-data-{label}", "submit", 400, 100, PARAM, params={"extra_data_base64": value},
            message="extra_data_base64")
      for label, value in (("garbage", "!!!!"), ("one-char", "A"), ("inner-padding", "AQ==AQ=="),
                           ("2049-bytes", base64.b64encode(bytes(2049)).decode()),
                           ("oversized", "A" * 50_000))],
    *[_case(f"submit-force-update-{label}", "submit", 400, 100, PARAM, params={"force_update": value},
            message="force_update")
      for label, value in (("yes", "yes"), ("two", "2"), ("typo", "truee"), ("json-list", "[true]"))],
    *[_case(f"submit-user-id-{label}", "submit", 400, 100, PARAM, params={"user_id": value}, message="user_id")
      for label, value in (("missing", DROP), ("empty", ""), ("text", "ada"), ("negative", "-1"), ("float", "1.5"),
                           ("20-digits", "1" * 20), ("unknown", "100000000000999"), ("of-rival-app", RIVAL_ID),
                           ("app-id", APP_ID), ("json-list", f"[{GRACE_ID}]"))],
    _case("submit-user-id-with-user-token", "submit", 400, 100, PARAM, token=ADA_TOKEN, params={"user_id": ADA_ID},
          message="user_id"),
    _case("submit-user-id-unentitled", "submit", 403, 200, "OCApiException", params={"user_id": UNENTITLED_ID}),
    _case("submit-outside-window", "submit", 400, 100, PARAM, params={"api_name": "closed"}, message="too late"),
    _case("submit-body-over-limit", "submit", 400, 100, PARAM, params={"extra_data_base64": "A" * (11 * 2**20)}),
    _case("submit-wrong-method", "submit", 405, 100, MISSING, method="GET"),
    _case("submit-typo-path", "submit", 404, 100, MISSING, path="/leaderboards_submit_entry"),
]

ENTRIES_CASES = [
    _case("entries-api-name-missing", "entries", 400, 100, PARAM, params={"api_name": DROP}, message="api_name"),
    _case("entries-api-name-unknown", "entries", 404, 100, MISSING, params={"api_name": "no_such_board"}),
    _case("entries-api-name-of-rival-app", "entries", 404, 100, MISSING, params={"api_name": "rival_only"}),
    *[_case(f"entries-fields-{label}", "entries", 400, 100, PARAM, params={"fields": value}, message=word)
      for label, value, word in (("unknown", "rank,bogus", "bogus"), ("unknown-nested", "user{bogus}", "bogus"),
                                 ("board-field", "sort_order", "sort_order"), ("no-subfields", "rank{id}", "rank"),
                                 ("unclosed", "user{id", "fields"), ("unopened", "id}", "fields"),
                                 ("brace-first", "{id}", "fields"), ("oversized", "id," * 3000, "fields"))],
    _case("entries-filter-unknown", "entries", 400, 100, PARAM, params={"filter": "ALL"}, message="filter"),
    _case("entries-filter-user-ids-without-ids", "entries", 400, 100, PARAM, params={"filter": "USER_IDS"},
          message="user_ids"),
    *[_case(f"entries-user-ids-{label}", "entries", 400, 100, PARAM,
            params={"filter": "USER_IDS", "user_ids": value}, message="user_ids")
      for label, value in (("text", "ada"), ("broken-json", f"[{ADA_ID},"), ("json-strings", '["x"]'),
                           ("json-object", f'{{"id": {ADA_ID}}}'), ("float", "1.5"), ("negative", "-5"),
                           ("too-many", ",".join(str(10**15 + n) for n in range(1001))))],
    _case("entries-start-at-unknown", "entries", 400, 100, PARAM, params={"start_at": "MIDDLE"}, message="start_at"),
    _case("entries-centred-not-ranked", "entries", 404, 12074, None, token=LINUS_TOKEN,
          params={"start_at": "CENTERED_ON_VIEWER"}, message="not yet ranked"),
    _case("entries-offset-missing", "entries", 400, 100, PARAM, params={"start_at": "OFFSET"}, message="offset"),
    *[_case(f"entries-offset-{label}", "entries", 400, 100, PARAM, params={"start_at": "OFFSET", "offset": value},
            message="offset")
      for label, value in (("negative", "-1"), ("text", "ten"), ("float", "1.5"), ("over-int64", str(2**63)))],
    *[_case(f"entries-limit-{label}", "entries", 400, 100, PARAM, params={"limit": value}, message="limit")
      for label, value in (("negative", "-1"), ("text", "all"), ("float", "2.5"), ("over-int64", str(2**63)))],
    _case("entries-summary-not-boolean", "entries", 400, 100, PARAM, params={"summary": "maybe"}, message="summary"),
    _case("entries-after-garbage", "entries", 400, 100, PARAM, params={"after": "QVFIUlliZ"}, message="after"),
    _case("entries-before-garbage", "entries", 400, 100, PARAM, params={"before": "nope"}, message="before"),
    _case("entries-wrong-method", "entries", 405, 100, MISSING, method="DELETE"),
]

READ_CASES = [
    _case("list-app-id-unknown", "list", 404, 100, MISSING, path="/12347576219/leaderboards"),
    _case("list-app-id-of-rival", "list", 403, 200, *FORBIDDEN, path=f"/{RIVAL_APP_ID}/leaderboards"),
    _case("list-api-name-unknown", "list", 404, 100, MISSING, params={"api_name": "no_such_board"}),
    _case("list-api-name-of-rival-app", "list", 404, 100, MISSING, params={"api_name": "rival_only"}),
    _case("list-fields-unknown", "list", 400, 100, PARAM, params={"fields": "entry_count,bogus"}, message="bogus"),
    _case("list-fields-entry-field", "list", 400, 100, PARAM, params={"fields": "score"}, message="score"),
    _case("list-fields-unclosed", "list", 400, 100, PARAM, params={"fields": "title{"}),
    _case("get-board-fields-unknown", "get_board", 400, 100, PARAM, params={"fields": "bogus"}, message="bogus"),
    _case("get-board-fields-entry-field", "get_board", 400, 100, PARAM, params={"fields": "rank"}, message="rank"),
    _case("get-board-unknown-id", "get_board", 404, 100, MISSING, path="/12345567893"),
    _case("get-board-of-rival", "get_board", 403, 200, *FORBIDDEN, path="/{rival_board}"),
    _case("get-entry-fields-unknown", "get_entry", 400, 100, PARAM, params={"fields": "user{secret}"},
          message="secret"),
    _case("get-entry-fields-board-field", "get_entry", 400, 100, PARAM, params={"fields": "entry_count"}),
    _case("get-entry-unknown-id", "get_entry", 404, 100, MISSING, path="/12345"),
    _case("get-entry-of-rival", "get_entry", 403, 200, *FORBIDDEN, path="/{rival_entry}"),
]

DELETE_CASES = [
    *[_case(f"delete-entry-id-{label}", "delete_entry", 404, 100, MISSING, path=path)
      for label, path in (("doc-placeholder", "/12345"), ("unknown-19-digits", "/1000000000000001234"),
                          ("not-a-number", "/entry"), ("negative", "/-12345"), ("20-digits", "/" + "1" * 20),
                          ("a-user", f"/{ADA_ID}"), ("an-app", f"/{APP_ID}"), ("float", "/12345.0"))],
    _case("remove-all-api-name-missing", "remove_all", 400, 100, PARAM, params={"api_name": DROP},
          message="api_name"),
    _case("remove-all-api-name-empty", "remove_all", 400, 100, PARAM, params={"api_name": ""}, message="api_name"),
    _case("remove-all-api-name-unknown", "remove_all", 404, 100, MISSING, params={"api_name": "no_such_board"}),
    _case("remove-all-api-name-of-rival-app", "remove_all", 404, 100, MISSING, params={"api_name": "rival_only"}),
    _case("remove-all-our-board-with-rival-app-token", "remove_all", 404, 100, MISSING, token=RIVAL_APP_TOKEN,
          params={"api_name": "server_board"}),
    _case("remove-all-wrong-method", "remove_all", 405, 100, MISSING, method="GET"),
    *[_case(f"delete-board-id-{label}", "delete_board", 404, 100, MISSING, path=path)
      for label, path in (("doc-placeholder", "/12345567893"), ("not-a-number", "/best_leaderboard"),
                          ("an-org", "/1000000000000001"))],
]

ALL_CASES = TOKEN_CASES + KIND_CASES + CREATE_CASES + SUBMIT_CASES + ENTRIES_CASES + READ_CASES + DELETE_CASES


@dataclass
class Seeded:
    http: httpx.Client
    admin: httpx.Client
    ids: dict[str, str]
    tables: str  # the seeded snapshot, JSON
    baseline: dict[str, Any]  # lb_support.state() of the seeded world

    def fresh_state(self) -> dict[str, Any]:
        """The current state, put back to the seeded one first if an earlier test changed anything."""
        current = state(self.http, self.admin)
        if current != self.baseline:
            restored = self.admin.post("/_admin/snapshot", data={"version": "1", "tables": self.tables})
            assert restored.status_code == 200, restored.text
            current = state(self.http, self.admin)
        assert current == self.baseline
        return current


@pytest.fixture(scope="module")
def seeded(shared_server: RunningServer) -> Iterator[Seeded]:
    """One seeded world for the whole module. Refused calls change nothing, so there is no reset per test
    (that keeps ~300 cases fast); each test checks the state against the seeded baseline first and
    restores the snapshot whenever a previous test (a valid base call, or a bug) changed it."""
    with shared_server.client() as http, shared_server.admin() as admin:
        admin.post("/_admin/reset").raise_for_status()
        ids = _seed(http)
        tables = json.dumps(admin.get("/_admin/snapshot").json()["tables"])
        yield Seeded(http, admin, ids, tables, state(http, admin))
        admin.post("/_admin/reset").raise_for_status()


def _seed(http: httpx.Client) -> dict[str, str]:
    submit_ok(http, ADA_TOKEN, "best_leaderboard", 100, extra_data_base64="T2N1bHVz")
    submit_ok(http, GRACE_TOKEN, "best_leaderboard", 50)
    submit_ok(http, APP_TOKEN, "server_board", 10, LINUS_ID)
    submit_ok(http, APP_TOKEN, "MY_NEW_LEADERBOARD", 1, ADA_ID)
    rival = http.post(f"/{RIVAL_APP_ID}/leaderboards", headers=bearer(RIVAL_APP_TOKEN),
                      data={"api_name": "rival_only", "sort_order": "HIGHER_IS_BETTER"})
    assert rival.status_code == 200, rival.text
    submit_ok(http, RIVAL_TOKEN, "rival_only", 3)
    closed = http.post(f"/{APP_ID}/leaderboards", headers=bearer(APP_TOKEN),
                       data={"api_name": "closed", "sort_order": "HIGHER_IS_BETTER",
                             "earliest_allowed_entry_time": "1463875200", "latest_allowed_entry_time": "1464480000"})
    assert closed.status_code == 200, closed.text

    def entry_of(token: str, api_name: str, user_id: str) -> str:
        rows = entries_ok(http, token, api_name, filter="USER_IDS", user_ids=user_id)["data"]
        return str(rows[0]["id"])

    return {
        "app": APP_ID,
        "board": board_id(http, "best_leaderboard"),
        "entry_grace": entry_of(APP_TOKEN, "best_leaderboard", GRACE_ID),
        "entry_linus_server": entry_of(APP_TOKEN, "server_board", LINUS_ID),
        "rival_board": board_id(http, "rival_only", RIVAL_APP_TOKEN, RIVAL_APP_ID),
        "rival_entry": entry_of(RIVAL_APP_TOKEN, "rival_only", RIVAL_ID),
    }


def _send(http: httpx.Client, case: Case, ids: dict[str, str], token: str | None) -> httpx.Response:
    method, path, params, _ = BASE[case.endpoint]
    merged: dict[str, Any] = dict(params)
    for key, value in case.params.items():
        if value is DROP:
            merged.pop(key, None)
        else:
            merged[key] = value
    url = (case.path or path).format(**ids)
    headers = {**(bearer(token) if token is not None else {}), **case.extra_headers}
    method = case.method or method
    if case.json_body:
        return http.request(method, url, headers={**headers, "Content-Type": "application/json"},
                            content=json.dumps(merged).encode())
    if method == "GET":
        return http.request(method, url, headers=headers, params=merged)
    return http.request(method, url, headers=headers, data=merged)


@pytest.mark.parametrize("endpoint", list(BASE))
def test_base_calls_are_valid(seeded: Seeded, endpoint: str) -> None:
    """Each base call succeeds as is, so every error below comes from the one thing its case changes."""
    seeded.fresh_state()
    response = _send(seeded.http, Case(endpoint, 200, 0), seeded.ids, BASE[endpoint][3])
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("case", ALL_CASES)
def test_bad_input_is_refused_and_changes_nothing(seeded: Seeded, case: Case) -> None:
    """D7: the status, type and code of the case's row (D13–D21 for what counts as bad), a message naming
    the fault that never echoes a secret, and no change at all: stored rows, served boards, entries, ranks
    and counts are identical before and after (compared with a token that still works)."""
    http, admin = seeded.http, seeded.admin
    reader = APP_TOKEN
    token = BASE[case.endpoint][3] if case.token == DEFAULT else case.token
    before = seeded.fresh_state()
    if token == EXPIRED:
        # A margin on a running clock: valid for 60 s, then moved 61 s on.
        minted = admin.post(f"/_admin/users/{GRACE_ID}/tokens", data={"ttl_seconds": "60"})
        token = minted.json()["access_token"]
        assert entries_ok(http, token, "best_leaderboard")["summary"]["total_count"] == 2  # valid until expiry
        admin.post("/_admin/clock", data={"advance_seconds": "61"}).raise_for_status()
    try:
        if token == ROTATED:
            rotated = admin.post(f"/_admin/apps/{APP_ID}/secret")
            assert rotated.status_code == 200, rotated.text
            reader = rotated.json()["app_access_token"]
            assert reader != APP_TOKEN
            token = APP_TOKEN
        response = _send(http, case, seeded.ids, token)
        error = assert_graph_error(response, case.status, case.code, case.type)
        if case.message is not None:
            assert case.message.lower() in error["message"].lower(), error["message"]
        for secret in (APP_SECRET, "99999999999999999999999999999999"):
            assert secret not in response.text
        assert state(http, admin, reader) == before
    finally:
        if reader != APP_TOKEN:  # put the world's secret back for the next case
            admin.post(f"/_admin/apps/{APP_ID}/secret", data={"secret": APP_SECRET}).raise_for_status()
