"""Achievements (graph-api.md §2, D23–D26) over real HTTP: Meta's documented requests replayed with only the
host changed, then the semantics of definitions and progress."""

from __future__ import annotations

import json
import struct
import zlib

import httpx

from tests.ach_support import (
    bearer,
    define,
    definitions,
    progress,
    state,
    write,
    write_ok,
)
from tests.conftest import (
    ADA_ID,
    ADA_TOKEN,
    APP_ID,
    APP_TOKEN,
    GRACE_ID,
    GRACE_TOKEN,
    UNENTITLED_ID,
    UNENTITLED_TOKEN,
    RunningServer,
    assert_graph_error,
)

INT64_MAX = 2**63 - 1


def _png(size: int = 4) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x7f" * size for _ in range(size))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


# --- Meta's examples ---------------------------------------------------------------------------------------

def test_s2s_basics_unlock_example_verbatim_with_the_page_app(qg: RunningServer, admin: httpx.Client) -> None:
    """Seed 000/001 "Example S2S Call": the page's own app id and secret, the exact curl -d body, the
    documented response with the user id as "id" (D24)."""
    org = admin.post("/_admin/orgs", data={"name": "Page Studio"}).json()["id"]
    made = admin.post(f"/_admin/orgs/{org}/apps", data={"name": "Page Game", "id": "1120829788014273",
                                                        "secret": "5f8730a4n51c5f8v8122aaf971b937e7"})
    assert made.status_code == 200, made.text
    user_id = admin.post("/_admin/apps/1120829788014273/users", data={"alias": "page_user"}).json()["id"]
    with qg.client() as http:
        define(http, "MY_SIMPLE_ACHIEVEMENT", app_id="1120829788014273",
               token="OC|1120829788014273|5f8730a4n51c5f8v8122aaf971b937e7")
        # curl -d a -d b -d c: one form body joined by "&", the token's "|" unescaped.
        body = ("access_token=OC|1120829788014273|5f8730a4n51c5f8v8122aaf971b937e7&api_name=MY_SIMPLE_ACHIEVEMENT"
                "&force_unlock=true")
        response = http.post(f"/{user_id}/achievements", content=body,
                             headers={"content-type": "application/x-www-form-urlencoded"})
        assert response.status_code == 200, response.text
        assert response.json() == {"id": user_id, "api_name": "MY_SIMPLE_ACHIEVEMENT", "just_unlocked": True}
        # The same call again: already unlocked, so just_unlocked is false (D24).
        again = http.post(f"/{user_id}/achievements", content=body,
                          headers={"content-type": "application/x-www-form-urlencoded"})
        assert again.json() == {"id": user_id, "api_name": "MY_SIMPLE_ACHIEVEMENT", "just_unlocked": False}


def test_s2s_basics_unlock_example_2025_form(http: httpx.Client) -> None:
    """Seed 002: ``curl -d "access_token=OC|$APP_ID|$APP_SECRET" -d "api_name=MY_SIMPLE_ACHIEVEMENT"
    -d "force_unlock=true" https://graph.oculus.com/$USER_ID/achievements`` with the test world's app."""
    define(http, "MY_SIMPLE_ACHIEVEMENT")
    response = http.post(f"/{ADA_ID}/achievements", data={"access_token": APP_TOKEN,
                                                          "api_name": "MY_SIMPLE_ACHIEVEMENT",
                                                          "force_unlock": "true"})
    assert response.status_code == 200
    assert response.text.replace(" ", "") == (
        f'{{"id":"{ADA_ID}","api_name":"MY_SIMPLE_ACHIEVEMENT","just_unlocked":true}}'
    )


def test_definition_query_example_with_json_array_api_names(http: httpx.Client) -> None:
    """§2.2: ``api_names=["VISIT_3_CONTINENTS","WALK_500_MILES"]`` and the documented field list; the
    answer has exactly the documented keys for a BITFIELD definition."""
    define(http, "VISIT_3_CONTINENTS", "BITFIELD", target=3, bitfield_length=7,
           achievement_write_policy="SERVER_AUTHORITATIVE", unlocked_description_override="You did it")
    define(http, "WALK_500_MILES", "COUNT", target=500)
    define(http, "NOT_ASKED", "SIMPLE")
    fields = ("api_name,achievement_type,achievement_write_policy,target,bitfield_length,is_archived,title,"
              "description,unlocked_description_override,is_secret,locked_image_uri,unlocked_image_uri")
    response = http.get(f"/{APP_ID}/achievement_definitions", params={
        "access_token": APP_TOKEN, "api_names": '["VISIT_3_CONTINENTS","WALK_500_MILES"]', "fields": fields})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert [d["api_name"] for d in data] == ["VISIT_3_CONTINENTS", "WALK_500_MILES"]
    visit = data[0]
    assert set(visit) == {"id", *fields.split(",")}
    assert {k: visit[k] for k in ("achievement_type", "achievement_write_policy", "target", "bitfield_length",
                                  "is_archived", "is_secret", "unlocked_description_override")} == {
        "achievement_type": "BITFIELD", "achievement_write_policy": "SERVER_AUTHORITATIVE", "target": 3,
        "bitfield_length": 7, "is_archived": False, "is_secret": False,
        "unlocked_description_override": "You did it"}
    assert visit["unlocked_image_uri"].startswith(f"{str(http.base_url).rstrip('/')}/_media/")
    assert data[1]["target"] == 500 and "bitfield_length" not in data[1]


def test_definitions_default_projection_is_ids_only(http: httpx.Client) -> None:
    """§0.3: without ``fields`` each row is ``{"id": …}`` (D5)."""
    first = define(http, "A1")
    second = define(http, "A2", "COUNT", target=2)
    body = http.get(f"/{APP_ID}/achievement_definitions", params={"access_token": APP_TOKEN}).json()
    assert body == {"data": [{"id": first}, {"id": second}], "paging": body["paging"]}
    assert "next" not in body["paging"] and "previous" not in body["paging"]


def test_progress_read_example_shape(http: httpx.Client) -> None:
    """§2.4's old-doc example: ``fields=id,unlock_time,is_unlocked,count_progress,bitfield_progress,
    definition{api_name,target}`` gives exactly those keys; the bits are "1001100"-style strings."""
    define(http, "VISIT_3_CONTINENTS", "BITFIELD", target=3, bitfield_length=7)
    assert write_ok(http, ADA_ID, "VISIT_3_CONTINENTS", add_bits="1001100") is True
    response = http.get(f"/{ADA_ID}/achievements", params={
        "access_token": APP_TOKEN,
        "fields": "id,unlock_time,is_unlocked,count_progress,bitfield_progress,definition{api_name,target}"})
    assert response.status_code == 200
    (row,) = response.json()["data"]
    assert set(row) == {"id", "unlock_time", "is_unlocked", "count_progress", "bitfield_progress", "definition"}
    assert row["definition"] == {"id": row["definition"]["id"], "api_name": "VISIT_3_CONTINENTS", "target": 3}
    assert row["bitfield_progress"] == "1001100" and row["count_progress"] == 0 and row["is_unlocked"] is True
    assert isinstance(row["unlock_time"], int) and row["unlock_time"] > 1_600_000_000
    # The current doc's example also asks for target (contradiction 8): accepted.
    extra = http.get(f"/{ADA_ID}/achievements", params={"access_token": APP_TOKEN, "fields": "target,api_name"})
    assert extra.json()["data"][0]["target"] == 3


def test_achievement_remove_all_example(http: httpx.Client) -> None:
    """§2.5: ``POST /achievement_remove_all`` with access_token and user_id → ``{"success":true}``; every
    row of that user goes, locked and unlocked; other users keep theirs."""
    define(http, "S")
    define(http, "C", "COUNT", target=10)
    write_ok(http, ADA_ID, "S", force_unlock="true")
    write_ok(http, ADA_ID, "C", add_count=3)
    write_ok(http, GRACE_ID, "C", add_count=4)
    response = http.post("/achievement_remove_all", data={"access_token": APP_TOKEN, "user_id": ADA_ID})
    assert response.status_code == 200 and response.json() == {"success": True}
    assert progress(http, ADA_ID) == {}
    assert progress(http, GRACE_ID)["C"]["count_progress"] == 4
    # After a reset the achievement can be unlocked again, and the unlock is reported again.
    assert write_ok(http, ADA_ID, "S", force_unlock="true") is True


# --- definitions: upsert ---------------------------------------------------------------------------------

def test_upsert_keeps_the_id_and_updates_only_what_is_sent(http: httpx.Client) -> None:
    """D23 (as D19): the same id on every call; absent parameters keep their stored value."""
    first = define(http, "COLLECT", "COUNT", target=10, is_secret="true",
                   unlocked_description_override="Well done")
    second = http.post(f"/{APP_ID}/achievement_definitions", data={
        "access_token": APP_TOKEN, "api_name": "COLLECT", "target": "20", "title": "Collector"})
    assert second.json() == {"id": first}
    row = definitions(http)["COLLECT"]
    assert (row["target"], row["title"], row["description"], row["is_secret"],
            row["unlocked_description_override"]) == (20, "Collector", "Description of COLLECT", True, "Well done")


def test_create_requires_type_title_description_and_target(http: httpx.Client, admin: httpx.Client) -> None:
    """§2.1: achievement_type, title, description are required to create; target for COUNT/BITFIELD, and
    bitfield_length for BITFIELD. Each refusal is a 400 code 100 and creates nothing."""
    before = state(admin)
    base = {"access_token": APP_TOKEN, "api_name": "NEW", "achievement_type": "COUNT", "target": "3",
            "title": "t", "description": "d"}
    for missing in ("achievement_type", "title", "description", "target"):
        data = {k: v for k, v in base.items() if k != missing}
        error = assert_graph_error(http.post(f"/{APP_ID}/achievement_definitions", data=data), 400, 100,
                                   "OCApiException")
        assert missing in error["message"]
    bitfield = {**base, "achievement_type": "BITFIELD"}
    error = assert_graph_error(http.post(f"/{APP_ID}/achievement_definitions", data=bitfield), 400, 100)
    assert "bitfield_length" in error["message"]
    assert state(admin) == before


def test_locale_maps_give_title_and_description(http: httpx.Client) -> None:
    """§0.2's ``title_locale_map={"en_US":"Soccer"}`` form: the en_US value is the title; the maps are
    readable as fields."""
    response = http.post(f"/{APP_ID}/achievement_definitions", data={
        "access_token": APP_TOKEN, "api_name": "SOCCER", "achievement_type": "SIMPLE",
        "title_locale_map": '{"de_DE":"Fußball","en_US":"Soccer"}', "description_locale_map": '{"en_US":"Kick"}'})
    assert response.status_code == 200, response.text
    row = definitions(http)["SOCCER"]
    assert row["title"] == "Soccer" and row["description"] == "Kick"
    assert row["title_locale_map"] == {"de_DE": "Fußball", "en_US": "Soccer"}


def test_changing_the_type_of_an_existing_achievement_is_refused(http: httpx.Client, admin: httpx.Client) -> None:
    """Progress of one type means nothing under another: 400, nothing changed (docs/fidelity.md D23)."""
    define(http, "KIND", "COUNT", target=3)
    before = state(admin)
    response = http.post(f"/{APP_ID}/achievement_definitions", data={
        "access_token": APP_TOKEN, "api_name": "KIND", "achievement_type": "BITFIELD", "bitfield_length": "5"})
    assert_graph_error(response, 400, 100)
    assert state(admin) == before


def test_image_files_are_stored_and_served(http: httpx.Client) -> None:
    """§2.1: ``unlocked_image_file``/``locked_image_file`` as multipart files; the definition's image URIs
    serve the same bytes; without a locked file the locked URI shows the unlocked image; a replaced file
    stops being served."""
    icon, locked = _png(4), _png(8)
    response = http.post(f"/{APP_ID}/achievement_definitions", data={
        "access_token": APP_TOKEN, "api_name": "PICTURED", "achievement_type": "SIMPLE", "title": "t",
        "description": "d"}, files={"unlocked_image_file": ("icon.png", icon, "image/png")})
    assert response.status_code == 200, response.text
    row = definitions(http)["PICTURED"]
    served = httpx.get(row["unlocked_image_uri"])
    assert served.status_code == 200 and served.content == icon and served.headers["content-type"] == "image/png"
    assert row["locked_image_uri"] == row["unlocked_image_uri"]
    replaced = http.post(f"/{APP_ID}/achievement_definitions", data={"access_token": APP_TOKEN,
                                                                     "api_name": "PICTURED"},
                         files={"unlocked_image_file": ("new.png", locked, "image/png"),
                                "locked_image_file": ("locked.png", locked, "application/octet-stream")})
    assert replaced.status_code == 200, replaced.text
    new_row = definitions(http)["PICTURED"]
    assert httpx.get(new_row["locked_image_uri"]).content == locked
    assert httpx.get(new_row["unlocked_image_uri"]).content == locked
    gone = httpx.get(row["unlocked_image_uri"])
    assert_graph_error(gone, 404, 100)


def test_default_icons_are_served(http: httpx.Client) -> None:
    """Without files a default icon is used (§2.1): both URIs answer with a PNG."""
    define(http, "PLAIN")
    row = definitions(http)["PLAIN"]
    for key in ("unlocked_image_uri", "locked_image_uri"):
        served = httpx.get(row[key])
        assert served.status_code == 200 and served.content.startswith(b"\x89PNG")
    assert row["unlocked_image_uri"] != row["locked_image_uri"]


def test_a_file_that_is_not_an_image_is_refused(http: httpx.Client, admin: httpx.Client) -> None:
    before = state(admin)
    response = http.post(f"/{APP_ID}/achievement_definitions", data={
        "access_token": APP_TOKEN, "api_name": "BAD_ICON", "achievement_type": "SIMPLE", "title": "t",
        "description": "d"}, files={"unlocked_image_file": ("x.txt", b"hello", "text/plain")})
    assert "unlocked_image_file" in assert_graph_error(response, 400, 100)["message"]
    assert state(admin) == before


# --- progress: COUNT, BITFIELD, SIMPLE ------------------------------------------------------------------

def test_count_accumulates_and_unlocks_once_at_the_target(http: httpx.Client) -> None:
    """D23/D24: add_count adds; the write that reaches the target reports just_unlocked, later ones not;
    the count keeps growing past the target."""
    define(http, "WALK", "COUNT", target=10)
    assert write_ok(http, ADA_ID, "WALK", add_count=4) is False
    assert write_ok(http, ADA_ID, "WALK", add_count=5) is False
    row = progress(http, ADA_ID)["WALK"]
    assert (row["count_progress"], row["is_unlocked"], row["unlock_time"]) == (9, False, 0)
    assert write_ok(http, ADA_ID, "WALK", add_count=1) is True
    assert write_ok(http, ADA_ID, "WALK", add_count=7) is False
    row = progress(http, ADA_ID)["WALK"]
    assert (row["count_progress"], row["is_unlocked"]) == (17, True)


def test_count_saturates_at_int64_max(http: httpx.Client) -> None:
    """D23: the counter never wraps or overflows."""
    define(http, "HUGE", "COUNT", target=INT64_MAX)
    assert write_ok(http, ADA_ID, "HUGE", add_count=INT64_MAX - 1) is False
    assert write_ok(http, ADA_ID, "HUGE", add_count=INT64_MAX) is True
    assert write_ok(http, ADA_ID, "HUGE", add_count=5) is False
    assert progress(http, ADA_ID)["HUGE"]["count_progress"] == INT64_MAX


def test_bits_or_merge_and_never_clear(http: httpx.Client) -> None:
    """§2 and D23: 10011 + 00110 → 10111; a shorter string is aligned to the left; zeros clear nothing;
    unlock when the number of set bits reaches the target."""
    define(http, "CONTINENTS", "BITFIELD", target=4, bitfield_length=5)
    assert write_ok(http, ADA_ID, "CONTINENTS", add_bits="10011") is False
    assert write_ok(http, ADA_ID, "CONTINENTS", add_bits="00110") is True  # 10111: four bits set
    assert progress(http, ADA_ID)["CONTINENTS"]["bitfield_progress"] == "10111"
    assert write_ok(http, ADA_ID, "CONTINENTS", add_bits="00000") is False
    assert write_ok(http, ADA_ID, "CONTINENTS", add_fields="01") is False  # the SDK's name, aligned left
    assert progress(http, ADA_ID)["CONTINENTS"]["bitfield_progress"] == "11111"


def test_bitfield_unlocks_exactly_at_the_target_count_of_bits(http: httpx.Client) -> None:
    define(http, "THREE", "BITFIELD", target=3, bitfield_length=7)
    assert write_ok(http, ADA_ID, "THREE", add_bits="1100000") is False
    assert write_ok(http, ADA_ID, "THREE", add_bits="1100000") is False  # same bits: still two
    assert write_ok(http, ADA_ID, "THREE", add_bits="0000001") is True


def test_force_unlock_works_for_every_type_and_reports_once(http: httpx.Client) -> None:
    define(http, "S")
    define(http, "C", "COUNT", target=100)
    define(http, "B", "BITFIELD", target=2, bitfield_length=3)
    for name in ("S", "C", "B"):
        assert write_ok(http, ADA_ID, name, force_unlock="true") is True
        assert write_ok(http, ADA_ID, name, force_unlock="TRUE") is False
    rows = progress(http, ADA_ID)
    assert all(rows[n]["is_unlocked"] for n in ("S", "C", "B"))
    assert rows["C"]["count_progress"] == 0 and rows["B"]["bitfield_progress"] == "000"


def test_only_written_achievements_have_rows(http: httpx.Client) -> None:
    """§2.4 (INFERRED): a row appears once progress was written; other users' progress is separate."""
    define(http, "S")
    define(http, "C", "COUNT", target=5)
    write_ok(http, ADA_ID, "C", add_count=1)
    assert set(progress(http, ADA_ID)) == {"C"}
    assert progress(http, GRACE_ID) == {}


def test_progress_read_filters_by_api_names(http: httpx.Client) -> None:
    for name in ("A", "B", "C"):
        define(http, name)
        write_ok(http, ADA_ID, name, force_unlock="true")
    assert set(progress(http, ADA_ID, api_names='["A","C"]')) == {"A", "C"}
    assert set(progress(http, ADA_ID, api_names="B, C")) == {"B", "C"}
    assert set(progress(http, ADA_ID, api_names="['A']")) == {"A"}
    assert progress(http, ADA_ID, api_names='["UNKNOWN"]') == {}


# --- token rules (D25) -----------------------------------------------------------------------------------

def test_user_token_writes_client_authoritative_for_itself_only(http: httpx.Client, admin: httpx.Client) -> None:
    """D25: a user token writes CLIENT_AUTHORITATIVE achievements of its own user; SERVER_AUTHORITATIVE or
    another user's path is a 403 code 200 and changes nothing; the app token writes both."""
    define(http, "CLIENT", "COUNT", target=2)
    define(http, "SERVER", "COUNT", target=2, achievement_write_policy="SERVER_AUTHORITATIVE")
    assert write_ok(http, ADA_ID, "CLIENT", ADA_TOKEN, add_count=1) is False
    before = state(admin)
    assert_graph_error(write(http, ADA_ID, "SERVER", ADA_TOKEN, add_count=1), 403, 200, "OAuthException")
    assert_graph_error(write(http, GRACE_ID, "CLIENT", ADA_TOKEN, add_count=1), 403, 200, "OAuthException")
    assert state(admin) == before
    assert write_ok(http, ADA_ID, "SERVER", add_count=2) is True
    assert write_ok(http, ADA_ID, "CLIENT", add_count=1) is True


def test_user_token_reads_its_own_progress_only(http: httpx.Client) -> None:
    define(http, "S")
    write_ok(http, GRACE_ID, "S", force_unlock="true")
    own = http.get(f"/{GRACE_ID}/achievements", headers=bearer(GRACE_TOKEN), params={"fields": "is_unlocked"})
    assert own.status_code == 200 and own.json()["data"][0]["is_unlocked"] is True
    assert_graph_error(http.get(f"/{GRACE_ID}/achievements", headers=bearer(ADA_TOKEN)), 403, 200)


def test_user_token_cannot_define_or_remove_all(http: httpx.Client, admin: httpx.Client) -> None:
    define(http, "S")
    write_ok(http, ADA_ID, "S", force_unlock="true")
    before = state(admin)
    response = http.post(f"/{APP_ID}/achievement_definitions", headers=bearer(ADA_TOKEN), data={
        "api_name": "S", "achievement_type": "SIMPLE", "title": "changed", "description": "d"})
    assert_graph_error(response, 403, 200, "OAuthException")
    response = http.post("/achievement_remove_all", headers=bearer(ADA_TOKEN), data={"user_id": ADA_ID})
    assert_graph_error(response, 403, 200, "OAuthException")
    assert state(admin) == before


def test_user_token_may_read_definitions(http: httpx.Client) -> None:
    """§2.2 (old doc: app or user token)."""
    define(http, "S")
    assert set(definitions(http, ADA_TOKEN)) == {"S"}


def test_unentitled_user_cannot_get_progress(http: httpx.Client, admin: httpx.Client) -> None:
    """As D16 for leaderboards: a user who does not own the app cannot earn its achievements (403
    OCApiException code 200), with either token kind."""
    define(http, "S")
    before = state(admin)
    assert_graph_error(write(http, UNENTITLED_ID, "S", force_unlock="true"), 403, 200, "OCApiException")
    assert_graph_error(write(http, UNENTITLED_ID, "S", UNENTITLED_TOKEN, force_unlock="true"), 403, 200,
                       "OCApiException")
    assert state(admin) == before


# --- archived and secret (D26, §2) -----------------------------------------------------------------------

def test_archived_achievements_are_hidden_and_their_progress_kept(http: httpx.Client, admin: httpx.Client) -> None:
    """D26: archiving hides the definition and its progress from reads; include_archived=true shows them to
    an app token only; writes to it are a 404; unarchiving brings back the same progress."""
    define(http, "OLD", "COUNT", target=10)
    define(http, "NEW")
    write_ok(http, ADA_ID, "OLD", add_count=6)
    write_ok(http, ADA_ID, "NEW", force_unlock="true")
    define(http, "OLD", "COUNT", is_archived="true")
    assert set(definitions(http)) == {"NEW"}
    assert set(definitions(http, include_archived="true")) == {"OLD", "NEW"}
    assert definitions(http, include_archived="true")["OLD"]["is_archived"] is True
    assert set(definitions(http, ADA_TOKEN, include_archived="true")) == {"NEW"}
    assert set(progress(http, ADA_ID)) == {"NEW"}
    assert set(progress(http, ADA_ID, include_archived="true")) == {"OLD", "NEW"}
    assert set(progress(http, ADA_ID, ADA_TOKEN, include_archived="true")) == {"NEW"}
    before = state(admin)
    assert_graph_error(write(http, ADA_ID, "OLD", add_count=1), 404, 100, "GraphMethodException")
    assert state(admin) == before
    define(http, "OLD", "COUNT", is_archived="false")
    assert progress(http, ADA_ID)["OLD"]["count_progress"] == 6


def test_secret_achievements_hide_details_from_users_until_unlocked(http: httpx.Client) -> None:
    """§2: is_secret hides title, description, icon and progress until unlocked. The app token (the
    developer's server) sees everything; a user token sees them once that user unlocked it."""
    define(http, "HIDDEN", "COUNT", target=3, is_secret="true")
    write_ok(http, ADA_ID, "HIDDEN", add_count=1)
    app_view = definitions(http)["HIDDEN"]
    assert app_view["title"] == "Title of HIDDEN" and "unlocked_image_uri" in app_view
    user_view = definitions(http, ADA_TOKEN)["HIDDEN"]
    assert user_view["is_secret"] is True
    assert not {"title", "description", "unlocked_image_uri", "locked_image_uri"} & set(user_view)
    row = progress(http, ADA_ID, ADA_TOKEN)["HIDDEN"]
    assert "count_progress" not in row and row["is_unlocked"] is False
    assert progress(http, ADA_ID)["HIDDEN"]["count_progress"] == 1
    write_ok(http, ADA_ID, "HIDDEN", add_count=2)
    assert definitions(http, ADA_TOKEN)["HIDDEN"]["title"] == "Title of HIDDEN"
    assert progress(http, ADA_ID, ADA_TOKEN)["HIDDEN"]["count_progress"] == 3
    assert "title" not in definitions(http, GRACE_TOKEN)["HIDDEN"]


# --- paging (D21) and object reads (D9) ------------------------------------------------------------------

def test_definitions_page_with_cursors_and_links(http: httpx.Client) -> None:
    """D21: keyset pages in creation order; paging.next/previous repeat the request (token included)."""
    names = [f"P{n:02d}" for n in range(7)]
    for name in names:
        define(http, name)
    seen: list[str] = []
    url: str | None = f"/{APP_ID}/achievement_definitions?fields=api_name&limit=3&access_token={APP_TOKEN}"
    pages = 0
    while url:
        body = http.get(url).json()
        seen.extend(row["api_name"] for row in body["data"])
        if pages:
            assert "previous" in body["paging"]
        url = body["paging"].get("next")
        pages += 1
    assert seen == names and pages == 3
    back = http.get(f"/{APP_ID}/achievement_definitions", params={
        "access_token": APP_TOKEN, "fields": "api_name", "limit": 3, "before": body["paging"]["cursors"]["before"]})
    assert [r["api_name"] for r in back.json()["data"]] == names[3:6]


def test_progress_pages(http: httpx.Client) -> None:
    for n in range(5):
        define(http, f"Q{n}")
        write_ok(http, ADA_ID, f"Q{n}", force_unlock="true")
    first = http.get(f"/{ADA_ID}/achievements", params={"access_token": APP_TOKEN, "limit": 2,
                                                        "fields": "definition{api_name}"}).json()
    assert [r["definition"]["api_name"] for r in first["data"]] == ["Q0", "Q1"]
    second = http.get(first["paging"]["next"]).json()
    assert [r["definition"]["api_name"] for r in second["data"]] == ["Q2", "Q3"]


def test_get_definition_by_id(http: httpx.Client) -> None:
    """D9: a definition id answers ``GET /{id}`` with the definition's fields."""
    definition_id = define(http, "BY_ID", "COUNT", target=4)
    response = http.get(f"/{definition_id}", params={"access_token": APP_TOKEN, "fields": "api_name,target"})
    assert response.json() == {"id": definition_id, "api_name": "BY_ID", "target": 4}


def test_world_file_achievements_and_progress(tmp_path: object) -> None:
    """docs/config.md: ``[[orgs.apps.achievements]]`` with initial ``progress``; archived ones keep it."""
    from pathlib import Path

    from questgraph.server.world import World
    from tests.conftest import start_server

    world = World(data={
        "orgs": [{"id": "1000000000000001", "name": "O", "apps": [{
            "id": "1234757621998335", "name": "G", "secret": "1234f7a788b0c0b270f9691d0a06d5a5",
            "achievements": [
                {"api_name": "WALK", "achievement_type": "COUNT", "target": 10, "title": "Walk",
                 "description": "Walk far", "progress": [{"user": "ada", "add_count": 10}]},
                {"api_name": "GONE", "achievement_type": "SIMPLE", "title": "g", "description": "g",
                 "is_archived": True, "progress": [{"user": "ada", "force_unlock": True}]},
            ]}]}],
        "users": [{"alias": "ada", "apps": [{"app": "1234757621998335", "id": ADA_ID}]}],
    }, source="test")
    server = start_server(Path(str(tmp_path)), world=world)
    try:
        with server.client() as http:
            assert progress(http, ADA_ID)["WALK"]["is_unlocked"] is True
            assert set(progress(http, ADA_ID, include_archived="true")) == {"WALK", "GONE"}
            assert definitions(http)["WALK"]["title"] == "Walk"
    finally:
        server.stop()


def test_world_file_rejects_bad_achievements() -> None:
    import pytest

    from questgraph.server.world import World, WorldError

    app = {"id": "1234757621998335", "name": "G"}
    bad = [
        ({"api_name": "X", "achievement_type": "COUNT", "title": "t", "description": "d"}, "target"),
        ({"api_name": "X", "achievement_type": "PLATINUM", "title": "t", "description": "d"}, "achievement_type"),
        ({"api_name": "X", "achievement_type": "SIMPLE", "title": "t", "description": "d", "colour": 1}, "colour"),
        ({"api_name": "X", "achievement_type": "SIMPLE", "title": "t", "description": "d",
          "progress": [{"user": "nobody", "force_unlock": True}]}, "nobody"),
        ({"api_name": "X", "achievement_type": "SIMPLE", "title": "t", "description": "d",
          "progress": [{"user": "ada", "add_count": 1}]}, "add_count"),
    ]
    for achievement, word in bad:
        data = {"orgs": [{"name": "O", "apps": [{**app, "achievements": [achievement]}]}],
                "users": [{"alias": "ada", "apps": [{"app": "1234757621998335"}]}]}
        with pytest.raises(WorldError, match=word):
            World(data=json.loads(json.dumps(data)), source="t")
