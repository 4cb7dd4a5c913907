"""Hostile input is answered, never a 500 or a transient 503 (D2, D6, D7), on both backends, and changes no
state: JSON nested past any real need, text that is not text (a lone UTF-16 surrogate, percent-encoded
bytes that are not UTF-8, a NUL), wherever a parameter can come from, on Graph and admin routes. Each
answer is the D6 envelope, a 400 code 100 that names the parameter (or the body) and is not transient."""

from __future__ import annotations

import base64
import json
import tempfile
from typing import Any, ClassVar

import httpx
import pytest
import starlette.formparsers

from questgraph.server.graph.params import MAX_JSON_DEPTH
from tests.conftest import ADA_ID, ADA_TOKEN, ADMIN_KEY, APP_ID, APP_TOKEN, assert_graph_error

BOARD = "best_leaderboard"
ADMIN = f"admin:{ADMIN_KEY}"  # stands for the admin key in the tables below
DEEP = "[" * 1000 + "]" * 1000
DEEPER = "[" * 200_000 + "]" * 200_000
LONE_SURROGATE = '"\\ud800"'  # JSON text: an escape that decodes to no character
LOW_SURROGATE = '"x\\udfff"'
NUL = '"a\\u0000b"'


def state(qg_admin: httpx.Client) -> Any:
    """Everything the server stores (a snapshot), to show that a refused request changed nothing."""
    response = qg_admin.get("/_admin/snapshot")
    assert response.status_code == 200, response.text
    return response.json()["tables"]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token.removeprefix('admin:')}"}


def refused(response: httpx.Response, *names: str) -> None:
    """A 400 code 100 that is not transient and whose message names every one of ``names``."""
    error = assert_graph_error(response, 400, 100, "OCApiException")
    assert error["is_transient"] is False, error
    for name in names:
        assert name in error["message"], error


def call(http: httpx.Client, method: str, path: str, token: str | None, params: dict[str, str]) -> httpx.Response:
    """In a form body (D3's ``method=`` for reads): a value of hundreds of kilobytes fits no URL."""
    return http.post(path, data={**params, "method": method}, headers=auth(token) if token else {})


# --- JSON-valued parameters and cursors -------------------------------------------------------------------
# (method, path, token, other parameters, the JSON parameter, whether it holds an array or an object)
JSON_PARAMS: list[tuple[str, str, str, dict[str, str], str, str]] = [
    ("GET", "/leaderboard_entries", APP_TOKEN, {"api_name": BOARD, "filter": "USER_IDS"}, "user_ids", "array"),
    ("GET", f"/{APP_ID}/achievement_definitions", APP_TOKEN, {}, "api_names", "array"),
    ("GET", f"/{ADA_ID}/achievements", APP_TOKEN, {}, "api_names", "array"),
    ("GET", "/application/subscriptions", APP_TOKEN, {}, "skus", "array"),
    ("POST", f"/{APP_ID}/leaderboards", APP_TOKEN, {"api_name": BOARD}, "title_locale_map", "object"),
    ("POST", f"/{APP_ID}/achievement_definitions", APP_TOKEN,
     {"api_name": "hardened", "achievement_type": "SIMPLE", "description": "d"}, "title_locale_map", "object"),
    ("POST", f"/{APP_ID}/achievement_definitions", APP_TOKEN,
     {"api_name": "hardened", "achievement_type": "SIMPLE", "title": "t"}, "description_locale_map", "object"),
    ("POST", "/_admin/snapshot", ADMIN, {"version": "1"}, "tables", "object"),
]
# Base64 cursors of JSON keys: (method, path, token, the cursor parameter)
CURSORS: list[tuple[str, str, str, str]] = [
    ("GET", f"/{APP_ID}/viewer_purchases", ADA_TOKEN, "after"),
    ("GET", f"/{APP_ID}/viewer_purchases", ADA_TOKEN, "before"),
    ("GET", "/application/available_purchases", APP_TOKEN, "after"),
    ("GET", "/application/available_purchases", ADA_TOKEN, "before"),
    ("GET", "/application/subscriptions", APP_TOKEN, "after"),
]
# JSON values that decode (or would recurse) but are not acceptable input.
BAD_JSON_VALUES = {"deep": DEEP, "deeper": DEEPER, "lone surrogate": LONE_SURROGATE,
                   "low surrogate": LOW_SURROGATE, "NUL": NUL}


def wrapped(value: str, shape: str) -> str:
    return f"[{value}]" if shape == "array" else f'{{"en_US":{value}}}'


def cursor(value: str) -> str:
    """A cursor in the commerce lists' format (versioned JSON, base64url) holding ``value`` as its key."""
    return base64.urlsafe_b64encode(f'["qgc1",{value}]'.encode()).decode().rstrip("=")


@pytest.mark.parametrize("bad", list(BAD_JSON_VALUES))
def test_json_parameters_and_cursors_refuse_what_cannot_be_decoded_or_stored(
        http: httpx.Client, admin: httpx.Client, bad: str) -> None:
    """Every JSON-valued parameter and every base64 cursor goes through one bounded decoder: nesting past
    MAX_JSON_DEPTH, a lone surrogate or a NUL in a string is a 400 naming the parameter."""
    before = state(admin)
    value = BAD_JSON_VALUES[bad]
    for method, path, token, params, name, shape in JSON_PARAMS:
        refused(call(http, method, path, token, {**params, name: wrapped(value, shape)}), name)
    for method, path, token, name in CURSORS:
        refused(call(http, method, path, token, {name: cursor(value)}), name)
    assert state(admin) == before


def test_json_nesting_up_to_the_bound_is_accepted(http: httpx.Client) -> None:
    """The bound refuses only what no real input needs: MAX_JSON_DEPTH levels are still read (here, a
    title map's string holding brackets, and an api_names list inside its depth)."""
    response = http.post(f"/{APP_ID}/leaderboards", headers=auth(APP_TOKEN),
                         data={"api_name": BOARD, "title_locale_map": json.dumps({"en_US": "[" * 5000})})
    assert response.status_code == 200, response.text
    names = "[" * (MAX_JSON_DEPTH - 1) + '"x"' + "]" * (MAX_JSON_DEPTH - 1)
    response = http.get(f"/{APP_ID}/achievement_definitions", headers=auth(APP_TOKEN), params={"api_names": names})
    refused(response, "api_names")  # within the depth: decoded, and refused as not a list of strings


# --- JSON bodies --------------------------------------------------------------------------------------------
# Every route reads its body before anything else (D7's order), so none needs a valid token for this.
BODY_ROUTES: list[tuple[str, str | None]] = [
    ("/me", None), ("/leaderboard_submit_entry", APP_TOKEN), ("/no_such_route", None),
    (f"/_admin/apps/{APP_ID}/users", ADMIN),
]


@pytest.mark.parametrize("depth", [1000, 200_000])
def test_a_deeply_nested_json_body_is_a_400(http: httpx.Client, admin: httpx.Client, depth: int) -> None:
    before = state(admin)
    for body in ('{"a":' + "[" * depth + "]" * depth + "}", "[" * depth + "]" * depth,
                 '{"a":' + '{"b":' * depth + "1" + "}" * depth + "}"):
        for path, token in BODY_ROUTES:
            headers = {"Content-Type": "application/json", **(auth(token) if token else {})}
            refused(http.post(path, content=body, headers=headers), "JSON body")
    assert state(admin) == before


# --- text that is not text, from every source ----------------------------------------------------------------
# (path, token, other parameters, the text parameter): Graph reads and writes and an admin write.
TEXT_PARAMS: list[tuple[str, str, dict[str, str], str]] = [
    ("/leaderboard_entries", APP_TOKEN, {"method": "GET"}, "api_name"),
    ("/leaderboard_submit_entry", APP_TOKEN, {"score": "5", "user_id": ADA_ID}, "api_name"),
    ("/leaderboard_submit_entry", APP_TOKEN, {"api_name": BOARD, "score": "5", "user_id": ADA_ID}, "extra_data_base64"),
    (f"/{APP_ID}/verify_entitlement", APP_TOKEN, {"user_id": ADA_ID}, "sku"),
    ("/application/cancel_subscription", APP_TOKEN, {"sku": "monthly"}, "owner_alias"),
    ("/user_nonce_validate", APP_TOKEN, {"user_id": ADA_ID}, "nonce"),
    ("/me", ADA_TOKEN, {"method": "GET"}, "fields"),
    (f"/_admin/apps/{APP_ID}/users", ADMIN, {}, "alias"),
]


def send(http: httpx.Client, source: str, path: str, token: str, params: dict[str, str], name: str,
         raw: str) -> httpx.Response:
    """``name`` carries ``raw`` (for query and form, already percent-encoded; for JSON, JSON text)."""
    headers = auth(token)
    if source == "query":
        return http.post(f"{path}?{name}={raw}", data=params, headers=headers)
    if source == "form":
        form = f"{httpx.QueryParams(params)}&{name}={raw}"
        return http.post(path, content=form, headers={**headers, "Content-Type": "application/x-www-form-urlencoded"})
    if source == "json":
        text = json.dumps(params)[:-1] + (", " if params else "") + f'"{name}": {raw}}}'
        return http.post(path, content=text, headers={**headers, "Content-Type": "application/json"})
    assert source == "multipart"
    boundary = "qgHardeningBoundary"
    fields = [*params.items(), (name, raw)]
    payload = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode() + v.encode()
                       + b"\r\n" for k, v in fields) + f"--{boundary}--\r\n".encode()
    headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    return http.post(path, content=payload, headers=headers)


# The same bad text in each source's own encoding.
NOT_TEXT: dict[str, dict[str, str]] = {
    "NUL": {"query": "a%00b", "form": "a%00b", "json": NUL, "multipart": "a\x00b"},
    "surrogate": {"query": "%ED%A0%80", "form": "%ED%A0%80", "json": LONE_SURROGATE},
    "invalid UTF-8": {"query": "caf%E9", "form": "%FF%FE", "json": LOW_SURROGATE},
    "nested": {"json": '{"en_US": "\\ud800"}'},
}


@pytest.mark.parametrize("kind", list(NOT_TEXT))
def test_text_that_is_not_text_is_a_400_naming_the_parameter(http: httpx.Client, admin: httpx.Client,
                                                             kind: str) -> None:
    """PostgreSQL cannot store a NUL and neither backend can encode a lone surrogate: both refuse them at the
    parameter layer, the same way (SQLite used to answer 404/200 and PostgreSQL a transient 503; a lone
    surrogate was a 500). Percent-encoded bytes that are not UTF-8 are refused, not replaced by U+FFFD."""
    before = state(admin)
    for source, raw in NOT_TEXT[kind].items():
        for path, token, params, name in TEXT_PARAMS:
            refused(send(http, source, path, token, params, name, raw), name)
    assert state(admin) == before


def test_a_parameter_name_that_is_not_text_is_a_400(http: httpx.Client, admin: httpx.Client) -> None:
    before = state(admin)
    for body in ("a%00b=1", "%ED%A0%80=1"):
        response = http.post("/leaderboard_submit_entry", content=f"api_name={BOARD}&{body}",
                             headers={**auth(APP_TOKEN), "Content-Type": "application/x-www-form-urlencoded"})
        refused(response, "parameter name")
    response = http.post("/leaderboard_submit_entry", content='{"\\ud800": 1}',
                         headers={**auth(APP_TOKEN), "Content-Type": "application/json"})
    refused(response, "parameter name")
    # A name of any length is repeated only in part.
    response = http.post("/leaderboard_submit_entry", content=f"{'n' * 5000}=a%00",
                         headers={**auth(APP_TOKEN), "Content-Type": "application/x-www-form-urlencoded"})
    refused(response, "n" * 64 + "…")
    assert len(response.json()["error"]["message"]) < 200
    assert state(admin) == before


def test_text_that_is_text_still_works(http: httpx.Client) -> None:
    """Astral characters (a valid surrogate pair in JSON), percent-encoded UTF-8 and control characters other
    than NUL are text: stored and answered as sent."""
    def title_after(path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> str:
        response = http.post(path, headers={**auth(APP_TOKEN), **(headers or {})}, **kwargs)
        assert response.status_code == 200, response.text
        listed = http.get(f"/{APP_ID}/achievement_definitions", headers=auth(APP_TOKEN),
                          params={"api_names": "hardened", "fields": "title"})
        return str(listed.json()["data"][0]["title"])

    created = {"api_name": "hardened", "achievement_type": "SIMPLE", "description": "d"}
    path = f"/{APP_ID}/achievement_definitions"
    body = json.dumps(created)[:-1] + ', "title": "ada\\ud83d\\ude00 zo\\u00eb\\tx"}'
    assert title_after(path, content=body, headers={"Content-Type": "application/json"}) == "ada😀 zoë\tx"
    assert title_after(f"{path}?title=caf%C3%A9%01x", data=created) == "café\x01x"
    assert title_after(path, data={**created, "title_locale_map": '{"en_US":"\\ud83d\\ude00"}'}) == "😀"


def test_a_media_key_that_is_not_text_is_unknown(http: httpx.Client) -> None:
    """The one path segment that is text (an icon's key): a NUL in it is an unknown key, a 404 on both
    backends (the key's format is checked before any lookup, which PostgreSQL could not even make)."""
    for path in ("/_media/a%00b", "/_media/%00", "/_media/%ED%A0%80"):
        assert_graph_error(http.get(path), 404, 100, "GraphMethodException")


class _Spooled(tempfile.SpooledTemporaryFile):  # type: ignore[type-arg]
    """The temporary file of a multipart upload, remembered so the test can see whether it was closed."""

    made: ClassVar[list[_Spooled]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.made.append(self)


@pytest.mark.parametrize("refusal", ["nul param", "two tokens", "unknown route", "wrong method", "no admin key",
                                     "repeated file"])
def test_every_uploaded_file_is_closed_whatever_the_answer(http: httpx.Client, monkeypatch: pytest.MonkeyPatch,
                                                           refusal: str) -> None:
    """Found by the fuzzer (tests/test_fuzz.py): a multipart upload refused before its handler ran (a NUL in
    another parameter, a second token, an unknown route or method, the admin key missing) left its spooled
    temporary file open, and so did the first of two files under one name."""
    monkeypatch.setattr(starlette.formparsers, "SpooledTemporaryFile", _Spooled)
    _Spooled.made.clear()
    png = ("icon.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png")
    data = {"api_name": "ICON", "achievement_type": "SIMPLE", "title": "t", "description": "d"}
    files: list[tuple[str, Any]] = [("unlocked_image_file", png)]
    path, headers = f"/{APP_ID}/achievement_definitions", auth(APP_TOKEN)
    if refusal == "nul param":
        data["title"] = "a\x00b"
    elif refusal == "two tokens":
        data["access_token"] = ADA_TOKEN
    elif refusal == "unknown route":
        path = f"/{APP_ID}/achievement_definitionz"
    elif refusal == "no admin key":
        path, headers = "/_admin/orgs", {}
    elif refusal == "repeated file":
        files.append(("unlocked_image_file", png))
    method = "DELETE" if refusal == "wrong method" else "POST"
    answer = http.request(method, path, data=data, files=files, headers=headers)
    assert answer.status_code == (200 if refusal == "repeated file" else
                                  {"no admin key": 401, "unknown route": 404, "wrong method": 405}.get(refusal, 400))
    assert len(_Spooled.made) == len(files)
    assert all(spooled.closed for spooled in _Spooled.made)


@pytest.mark.sqlite_only  # no server: the parameter reader alone
def test_string_lists_read_every_form_real_clients_send() -> None:
    """One reader for ``skus``, achievement names and certificate digests (D20): a JSON array (with " or '
    quotes), a comma list, or repeated; items stripped, empty ones dropped; anything else a 400 naming it."""
    from questgraph.server.errors import InvalidParameter
    from questgraph.server.graph.params import Params

    for given, wanted in (([("k", '["a", " b "]')], ["a", "b"]), ([("k", "['a','b']")], ["a", "b"]),
                          ([("k", "a, b,,c")], ["a", "b", "c"]), ([("k", "a"), ("k", "b")], ["a", "b"]),
                          ([("k", "")], []), ([], [])):
        assert Params(given).string_list("k") == wanted, given
    for bad in ("[1, 2]", "[\"a\"", "{\"a\": 1}", "[[\"a\"]]"):
        with pytest.raises(InvalidParameter, match="Param k must be a JSON array of strings"):
            Params([("k", bad)]).string_list("k")
