"""Federated users (graph-api.md A.2, cross-play) on both backends: Meta's documented requests replayed with
only the host changed, the semantics (persistent_id unique and immutable, unique_name numbering, the
cascading delete), bad input for every parameter, and cross-app isolation for every endpoint."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import (
    ADA_ID,
    APP_ID,
    APP_TOKEN,
    RIVAL_APP_ID,
    RIVAL_APP_TOKEN,
    RunningServer,
    assert_graph_error,
    dump_database,
)

AUTH = {"Authorization": f"Bearer {APP_TOKEN}"}
RIVAL = {"Authorization": f"Bearer {RIVAL_APP_TOKEN}"}


def create(http: httpx.Client, persistent_id: str, display_name: str, app_id: str = APP_ID,
           headers: dict[str, str] = AUTH) -> httpx.Response:
    return http.post(f"/{app_id}/federated_user_create", params={"persistent_id": persistent_id,
                                                                  "display_name": display_name}, headers=headers)


def created(http: httpx.Client, persistent_id: str, display_name: str) -> dict[str, Any]:
    response = create(http, persistent_id, display_name)
    assert response.status_code == 200, response.text
    return dict(response.json())


def token_of(http: httpx.Client, persistent_id: str) -> str:
    response = http.post(f"/{APP_ID}/federated_user_gen_access_token/", params={"persistent_id": persistent_id},
                         headers=AUTH)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def listed(http: httpx.Client, headers: dict[str, str] = AUTH, **params: Any) -> dict[str, Any]:
    response = http.get(f"/{APP_ID}/federated_users", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


# --- the documented requests ---------------------------------------------------------------------------
def test_the_documented_requests_replay_with_only_the_host_changed(http: httpx.Client) -> None:
    # POST https://graph.oculus.com/{federated_app_id}/federated_user_create, query parameters, app token
    response = http.post(f"/{APP_ID}/federated_user_create?persistent_id=steam-76561198000000001"
                         f"&display_name=Sir%20Lancelot&access_token=OC|{APP_ID}|1234f7a788b0c0b270f9691d0a06d5a5")
    assert response.status_code == 200, response.text
    user = response.json()
    assert list(user) == ["id", "persistent_id", "unique_name", "display_name"]
    assert user["id"].isdigit() and user["persistent_id"] == "steam-76561198000000001"
    assert user["display_name"] == "Sir Lancelot" and user["unique_name"] == "Sir Lancelot#1"

    # POST …/federated_user_gen_access_token/ (always with the trailing slash in Meta's pages)
    token = token_of(http, "steam-76561198000000001")
    # GET /me with the federated user token
    me = http.get("/me", params={"access_token": token})
    assert me.status_code == 200, me.text
    assert me.json() == user
    # GET /{id} with fields
    node = http.get(f"/{user['id']}", params={"fields": "id,persistent_id,unique_name,display_name"}, headers=AUTH)
    assert node.json() == user
    # GET /{federated_app_id}/federated_users?persistent_id=…
    found = listed(http, persistent_id="steam-76561198000000001", fields="persistent_id,unique_name")
    assert found == {"data": [{"id": user["id"], "persistent_id": "steam-76561198000000001",
                               "unique_name": "Sir Lancelot#1"}], "paging": {"previous": "", "next": ""}}
    # GET /{federated_app_id}/federated_users: one page, empty-string paging
    everyone = listed(http)
    assert everyone["data"] == [user] and everyone["paging"]["previous"] == everyone["paging"]["next"] == ""
    # POST /{app-id}/federated_user_update/ with the app token in a header
    updated = http.post(f"/{APP_ID}/federated_user_update/", headers=AUTH,
                        params={"persistent_id": "steam-76561198000000001", "display_name": "Galahad"})
    assert updated.status_code == 200, updated.text
    assert updated.json() == {**user, "display_name": "Galahad", "unique_name": "Galahad#1"}
    # DELETE /{federated_app_id}/federated_user/
    deleted = http.delete(f"/{APP_ID}/federated_user/", params={"persistent_id": "steam-76561198000000001"},
                          headers=AUTH)
    assert deleted.status_code == 200 and deleted.json() == {"success": True}
    assert listed(http) == {"data": [], "paging": {"previous": "", "next": ""}}
    assert_graph_error(http.get(f"/{user['id']}", headers=AUTH), 404, 100)
    assert_graph_error(http.get("/me", params={"access_token": token}), 401, 190)


# --- semantics ------------------------------------------------------------------------------------------
def test_persistent_id_is_unique_per_app_and_immutable(http: httpx.Client) -> None:
    first = created(http, "p-1", "Morgana")
    duplicate = create(http, "p-1", "Someone Else")
    assert_graph_error(duplicate, 400, 100)
    assert "persistent_id" in duplicate.json()["error"]["message"]
    assert listed(http)["data"] == [first]
    # update selects by persistent_id and cannot change it: an extra persistent_id-like param changes nothing
    http.post(f"/{APP_ID}/federated_user_update/", headers=AUTH,
              params={"persistent_id": "p-1", "display_name": "Morgana", "new_persistent_id": "p-2"})
    assert listed(http)["data"] == [first]
    # the same persistent id is free in another app
    rival = create(http, "p-1", "Morgana", RIVAL_APP_ID, RIVAL)
    assert rival.status_code == 200 and rival.json()["id"] != first["id"]


def test_unique_names_take_the_smallest_free_number_per_app_and_display_name(http: httpx.Client) -> None:
    names = [created(http, f"n-{i}", "Arthur")["unique_name"] for i in range(3)]
    assert names == ["Arthur#1", "Arthur#2", "Arthur#3"]
    assert created(http, "other", "Merlin")["unique_name"] == "Merlin#1"
    http.delete(f"/{APP_ID}/federated_user", params={"persistent_id": "n-1"}, headers=AUTH).raise_for_status()
    assert created(http, "n-again", "Arthur")["unique_name"] == "Arthur#2"  # the freed number again
    # renaming gives a number of the new name; the same name keeps its own
    moved = http.post(f"/{APP_ID}/federated_user_update", headers=AUTH,
                      params={"persistent_id": "n-0", "display_name": "Merlin"}).json()
    assert moved["unique_name"] == "Merlin#2"
    same = http.post(f"/{APP_ID}/federated_user_update", headers=AUTH,
                     params={"persistent_id": "n-2", "display_name": "Arthur"}).json()
    assert same["unique_name"] == "Arthur#3"
    # numbering is per app: another app's first Arthur is #1
    assert create(http, "r", "Arthur", RIVAL_APP_ID, RIVAL).json()["unique_name"] == "Arthur#1"


def test_display_names_of_any_script_count_code_points(http: httpx.Client) -> None:
    assert created(http, "u1", "岳飞王")["unique_name"] == "岳飞王#1"  # 3 characters, 9 UTF-8 bytes
    assert created(http, "u2", "🐉" * 30)["display_name"] == "🐉" * 30


def test_federated_users_play_leaderboards_and_achievements_and_their_deletion_removes_it_all(
        http: httpx.Client) -> None:
    fed = created(http, "player-9", "Percival")
    token = token_of(http, "player-9")
    # a submit with the federated user's token, and one with the app token and user_id
    submit = http.post("/leaderboard_submit_entry", params={"api_name": "best_leaderboard", "score": 9000,
                                                            "access_token": token})
    assert submit.status_code == 200 and submit.json()["did_update"] is True, submit.text
    server = http.post("/leaderboard_submit_entry", headers=AUTH,
                       params={"api_name": "server_board", "score": 3, "user_id": fed["id"]})
    assert server.status_code == 200, server.text
    http.post("/leaderboard_submit_entry", headers=AUTH,
              params={"api_name": "best_leaderboard", "score": 10, "user_id": ADA_ID}).raise_for_status()
    entries = http.get("/leaderboard_entries", headers=AUTH, params={
        "api_name": "best_leaderboard", "fields": "rank,score,user{id,alias,display_name}"}).json()["data"]
    mine = [e for e in entries if e["user"]["id"] == fed["id"]]
    assert mine and mine[0]["rank"] == 1 and mine[0]["score"] == 9000
    assert mine[0]["user"]["display_name"] == "Percival" and mine[0]["user"]["alias"].startswith("Percival#1")
    # achievements: an app-token write for the federated user
    http.post(f"/{APP_ID}/achievement_definitions", headers=AUTH, params={
        "api_name": "GRAIL", "achievement_type": "SIMPLE", "achievement_write_policy": "SERVER_AUTHORITATIVE",
        "title": "Grail", "description": "Found it"}).raise_for_status()
    unlocked = http.post(f"/{fed['id']}/achievements", headers=AUTH,
                         params={"api_name": "GRAIL", "force_unlock": "true"})
    assert unlocked.status_code == 200 and unlocked.json()["just_unlocked"] is True, unlocked.text
    progress = http.get(f"/{fed['id']}/achievements", headers=AUTH, params={"fields": "is_unlocked"}).json()
    assert [p["is_unlocked"] for p in progress["data"]] == [True]

    deleted = http.delete(f"/{APP_ID}/federated_user", params={"persistent_id": "player-9"}, headers=AUTH)
    assert deleted.json() == {"success": True}
    after = http.get("/leaderboard_entries", headers=AUTH, params={
        "api_name": "best_leaderboard", "fields": "rank,score,user{id}", "summary": "true"}).json()
    assert [(e["user"]["id"], e["rank"]) for e in after["data"]] == [(ADA_ID, 1)]  # the rank index forgot it
    assert after["summary"]["total_count"] == 1
    boards = http.get(f"/{APP_ID}/leaderboards", headers=AUTH, params={"api_name": "server_board",
                                                                       "fields": "entry_count"}).json()
    assert boards["data"][0]["entry_count"] == 0
    gone = http.get(f"/{fed['id']}/achievements", headers=AUTH)
    assert gone.status_code >= 400  # no such user any more
    resubmit = http.post("/leaderboard_submit_entry", params={"api_name": "best_leaderboard", "score": 1,
                                                              "access_token": token})
    assert_graph_error(resubmit, 401, 190)


def test_the_list_pages_with_real_cursors_and_empty_strings_at_the_ends(http: httpx.Client) -> None:
    ids = sorted((created(http, f"page-{i}", f"Knight {i}")["id"] for i in range(5)), key=int)
    first = listed(http, limit=2)
    assert [u["id"] for u in first["data"]] == ids[:2]
    assert first["paging"]["previous"] == "" and first["paging"]["next"].startswith("http")
    second = http.get(first["paging"]["next"]).json()
    assert [u["id"] for u in second["data"]] == ids[2:4]
    assert second["paging"]["previous"] and second["paging"]["next"]
    third = http.get(second["paging"]["next"]).json()
    assert [u["id"] for u in third["data"]] == ids[4:] and third["paging"]["next"] == ""
    back = http.get(third["paging"]["previous"]).json()
    assert [u["id"] for u in back["data"]] == ids[2:4]


# --- bad input: a Graph error, data unchanged -------------------------------------------------------------
@pytest.mark.parametrize(("params", "status"), [
    ({"display_name": "Gawain"}, 400),  # persistent_id missing
    ({"persistent_id": "", "display_name": "Gawain"}, 400),
    ({"persistent_id": "has space", "display_name": "Gawain"}, 400),
    ({"persistent_id": "tab\there", "display_name": "Gawain"}, 400),
    ({"persistent_id": "x" * 256, "display_name": "Gawain"}, 400),
    ({"persistent_id": "nul\x00", "display_name": "Gawain"}, 400),
    ({"persistent_id": "ok"}, 400),  # display_name missing
    ({"persistent_id": "ok", "display_name": "Ga"}, 400),  # 2 characters
    ({"persistent_id": "ok", "display_name": "G" * 31}, 400),
    ({"persistent_id": "ok", "display_name": "   "}, 400),
    ({"persistent_id": "ok", "display_name": "Gawain", "fields": "id,alias"}, 400),
])
def test_bad_create_input_is_a_graph_error_and_changes_nothing(qg: RunningServer, http: httpx.Client,
                                                               params: dict[str, str], status: int) -> None:
    created(http, "keep", "Bedivere")
    before = dump_database(qg)
    response = http.post(f"/{APP_ID}/federated_user_create", data=params, headers=AUTH)
    assert_graph_error(response, status, 100)
    assert dump_database(qg) == before


@pytest.mark.parametrize(("method", "path", "params"), [
    ("POST", "federated_user_gen_access_token/", {"persistent_id": "nobody"}),
    ("POST", "federated_user_update/", {"persistent_id": "nobody", "display_name": "Tristan"}),
    ("DELETE", "federated_user/", {"persistent_id": "nobody"}),
    ("GET", "federated_users", {"persistent_id": "nobody"}),
])
def test_an_unknown_persistent_id_is_a_404_everywhere(http: httpx.Client, method: str, path: str,
                                                      params: dict[str, str]) -> None:
    created(http, "somebody", "Bors")
    response = http.request(method, f"/{APP_ID}/{path}", params=params, headers=AUTH)
    assert_graph_error(response, 404, 100)
    assert listed(http)["data"][0]["persistent_id"] == "somebody"


@pytest.mark.parametrize("params", [
    {"display_name": "Tristan"},  # persistent_id missing
    {"persistent_id": "keep", "display_name": "Tr"},
    {"persistent_id": "keep", "display_name": "T" * 31},
    {"persistent_id": "keep bad", "display_name": "Tristan"},
])
def test_bad_update_input_is_a_graph_error_and_changes_nothing(qg: RunningServer, http: httpx.Client,
                                                               params: dict[str, str]) -> None:
    created(http, "keep", "Bedivere")
    before = dump_database(qg)
    assert_graph_error(http.post(f"/{APP_ID}/federated_user_update/", data=params, headers=AUTH), 400, 100)
    assert dump_database(qg) == before


@pytest.mark.parametrize("params", [{}, {"persistent_id": ""}, {"persistent_id": "a b"}])
def test_bad_token_and_delete_input_is_a_400(http: httpx.Client, params: dict[str, str]) -> None:
    created(http, "keep", "Bedivere")
    assert_graph_error(http.post(f"/{APP_ID}/federated_user_gen_access_token/", data=params, headers=AUTH), 400, 100)
    assert_graph_error(http.delete(f"/{APP_ID}/federated_user/", params=params, headers=AUTH), 400, 100)
    assert len(listed(http)["data"]) == 1


def test_bad_cursors_and_fields_on_the_list_are_400s(http: httpx.Client) -> None:
    assert_graph_error(http.get(f"/{APP_ID}/federated_users", params={"after": "garbage!"}, headers=AUTH), 400, 100)
    assert_graph_error(http.get(f"/{APP_ID}/federated_users", params={"fields": "alias"}, headers=AUTH), 400, 100)
    assert_graph_error(http.get(f"/{APP_ID}/federated_users", params={"limit": "-1"}, headers=AUTH), 400, 100)


def test_an_unknown_federated_app_is_a_404(http: httpx.Client) -> None:
    assert_graph_error(create(http, "p", "Lamorak", app_id="999999999999999"), 404, 100)


def test_user_tokens_cannot_manage_federated_users(http: httpx.Client) -> None:
    created(http, "keep", "Bedivere")
    token = token_of(http, "keep")
    user = {"Authorization": f"Bearer {token}"}
    assert_graph_error(create(http, "p", "Lamorak", headers=user), 403, 200)
    assert_graph_error(http.get(f"/{APP_ID}/federated_users", headers=user), 403, 200)
    assert_graph_error(http.delete(f"/{APP_ID}/federated_user", params={"persistent_id": "keep"}, headers=user),
                       403, 200)
    assert len(listed(http)["data"]) == 1


# --- cross-app isolation -----------------------------------------------------------------------------------
def test_another_apps_token_reaches_none_of_it(qg: RunningServer, http: httpx.Client) -> None:
    fed = created(http, "mine", "Gareth")
    before = dump_database(qg)
    calls = [
        ("POST", f"/{APP_ID}/federated_user_create", {"persistent_id": "theirs", "display_name": "Mordred"}),
        ("POST", f"/{APP_ID}/federated_user_gen_access_token/", {"persistent_id": "mine"}),
        ("GET", f"/{APP_ID}/federated_users", {}),
        ("GET", f"/{APP_ID}/federated_users", {"persistent_id": "mine"}),
        ("POST", f"/{APP_ID}/federated_user_update/", {"persistent_id": "mine", "display_name": "Mordred"}),
        ("DELETE", f"/{APP_ID}/federated_user/", {"persistent_id": "mine"}),
    ]
    for method, path, params in calls:
        assert_graph_error(http.request(method, path, params=params, headers=RIVAL), 403, 200)
    assert_graph_error(http.get(f"/{fed['id']}", headers=RIVAL), 404, 100)
    # on its own path, the rival app sees only its own (no) federated users, and cannot reach ours by id
    own = http.get(f"/{RIVAL_APP_ID}/federated_users", headers=RIVAL).json()
    assert own == {"data": [], "paging": {"previous": "", "next": ""}}
    assert_graph_error(http.post(f"/{RIVAL_APP_ID}/federated_user_gen_access_token/", headers=RIVAL,
                                 params={"persistent_id": "mine"}), 404, 100)
    assert_graph_error(http.post(f"/{fed['id']}/achievements", headers=RIVAL,
                                 params={"api_name": "X", "force_unlock": "true"}), 403, 200)
    assert dump_database(qg) == before


def test_a_federated_user_token_reads_only_itself(http: httpx.Client) -> None:
    one, two = created(http, "one", "Ector"), created(http, "two", "Kay the Seneschal")
    token = token_of(http, "one")
    assert http.get(f"/{one['id']}", params={"access_token": token}).json() == one
    assert_graph_error(http.get(f"/{two['id']}", params={"access_token": token}), 404, 100)


# --- admin API ---------------------------------------------------------------------------------------------
def test_the_admin_api_lists_creates_and_deletes_federated_users(http: httpx.Client, admin: httpx.Client) -> None:
    made = admin.post(f"/_admin/apps/{APP_ID}/federated_users",
                      data={"persistent_id": "adm-1", "display_name": "Elaine", "id": "555000000000001"})
    assert made.status_code == 200, made.text
    assert made.json() == {"id": "555000000000001", "app_id": APP_ID, "persistent_id": "adm-1",
                           "unique_name": "Elaine#1", "display_name": "Elaine", "created_at": made.json()["created_at"]}
    assert listed(http)["data"] == [{"id": "555000000000001", "persistent_id": "adm-1", "unique_name": "Elaine#1",
                                     "display_name": "Elaine"}]
    assert [u["persistent_id"] for u in admin.get(f"/_admin/apps/{APP_ID}/federated_users").json()["data"]] == ["adm-1"]
    assert admin.get(f"/_admin/apps/{RIVAL_APP_ID}/federated_users").json() == {"data": []}
    again = admin.post(f"/_admin/apps/{APP_ID}/federated_users", data={"persistent_id": "adm-1", "display_name": "X1"})
    assert_graph_error(again, 400, 100)
    assert_graph_error(admin.post(f"/_admin/apps/{APP_ID}/federated_users",
                                  data={"persistent_id": "adm-2", "display_name": "Elaine", "id": "555000000000001"}),
                       400, 100)
    assert_graph_error(admin.get("/_admin/apps/999999999999999/federated_users"), 404, 100)
    gone = admin.delete(f"/_admin/apps/{APP_ID}/federated_users", params={"persistent_id": "adm-1"})
    assert gone.json() == {"success": True}
    assert listed(http)["data"] == []
    assert_graph_error(admin.delete(f"/_admin/apps/{APP_ID}/federated_users", params={"persistent_id": "adm-1"}),
                       404, 100)


# --- world file --------------------------------------------------------------------------------------------
WORLD = """
[[orgs]]
name = "Cross"
id = 1000000000000077
  [[orgs.apps]]
  name = "Crossplay"
  id = 1234000000000077
  secret = "crossplaysecret0000000000000000"
    [[orgs.apps.leaderboards]]
    api_name = "arena"
    sort_order = "HIGHER_IS_BETTER"
    [[orgs.apps.federated_users]]
    persistent_id = "steam-1"
    display_name = "Lancelot"
    id = 555000000000077
    tokens = ["OCfederatedLancelot0000000000000000000000"]
    [[orgs.apps.federated_users]]
    persistent_id = "steam-2"
    display_name = "Lancelot"
"""


def test_a_world_file_declares_federated_users(tmp_path: Any) -> None:
    import tomllib

    from questgraph.server.world import World
    from tests.conftest import start_server

    server = start_server(tmp_path, World(tomllib.loads(WORLD), "federated world"))
    try:
        with server.client() as http:
            app = {"Authorization": "Bearer OC|1234000000000077|crossplaysecret0000000000000000"}
            users = http.get("/1234000000000077/federated_users", headers=app).json()["data"]
            assert [(u["persistent_id"], u["unique_name"]) for u in users if u["id"] == "555000000000077"] == [
                ("steam-1", "Lancelot#1")]
            assert sorted(u["unique_name"] for u in users) == ["Lancelot#1", "Lancelot#2"]
            token = "OCfederatedLancelot0000000000000000000000"
            assert http.get("/me", params={"access_token": token}).json()["persistent_id"] == "steam-1"
            submit = http.post("/leaderboard_submit_entry", params={"api_name": "arena", "score": 5,
                                                                    "access_token": token})
            assert submit.json()["did_update"] is True
    finally:
        server.stop()


SECOND = 'persistent_id = "steam-2"\n    display_name = "Lancelot"'


@pytest.mark.parametrize(("second", "message"), [
    ('persistent_id = "steam-2"\n    display_name = "La"', "display_name must be 3 to 30"),
    ('persistent_id = "steam-1"\n    display_name = "Lancelot"', "already declared"),
    ('persistent_id = "steam 2"\n    display_name = "Lancelot"', "persistent_id must not hold white space"),
    ('persistent_id = "steam-2"\n    display_name = "Lancelot"\n    tokens = ["nope"]', "tokens must be"),
    ('persistent_id = "steam-2"\n    display_name = "Lancelot"\n    alias = "x"', "unknown key 'alias'"),
])
def test_a_bad_federated_user_in_a_world_names_the_item(second: str, message: str) -> None:
    import tomllib

    from questgraph.server.world import World, WorldError

    assert SECOND in WORLD
    with pytest.raises(WorldError, match=message) as raised:
        World(tomllib.loads(WORLD.replace(SECOND, second)), "bad world")
    assert "federated_users[1]" in str(raised.value)


# --- dashboard ---------------------------------------------------------------------------------------------
def test_the_dashboard_lists_the_apps_federated_users(qg: RunningServer, http: httpx.Client) -> None:
    from tests.dash_support import sign_in_emulator

    fed = created(http, "steam-<b>", "Dagonet <i>")
    with qg.client(follow_redirects=False) as browser:
        sign_in_emulator(browser)
        page = browser.get(f"/dashboard/apps/{APP_ID}/federated_users")
        assert page.status_code == 200
        assert "<code>steam-&lt;b&gt;</code>" in page.text and "Dagonet &lt;i&gt;#1" in page.text  # escaped
        assert f'href="/dashboard/users/{fed["id"]}"' in page.text and "1 federated users" in page.text
        assert f'href="/dashboard/apps/{APP_ID}/federated_users"' in browser.get(f"/dashboard/apps/{APP_ID}").text
        # the user page of a federated user works as any user's
        assert browser.get(f"/dashboard/users/{fed['id']}").status_code == 200
        # another organization's app is no app
        assert browser.get(f"/dashboard/apps/{RIVAL_APP_ID}/federated_users").status_code == 404


def test_deleting_a_federated_user_leaves_no_row_naming_them(qg: RunningServer, http: httpx.Client,
                                                             admin: httpx.Client) -> None:
    """All associated user data (A.2): purchases, subscriptions, nonces and tokens too, not only scores."""
    fed = created(http, "all-of-it", "Pellinore")
    token_of(http, "all-of-it")
    item = {"sku": "sword", "type": "DURABLE", "name": "Sword"}
    admin.post(f"/_admin/apps/{APP_ID}/items", data=item).raise_for_status()
    admin.post(f"/_admin/users/{fed['id']}/purchases", data={"sku": "sword"}).raise_for_status()
    admin.post(f"/_admin/users/{fed['id']}/nonces").raise_for_status()
    http.post("/leaderboard_submit_entry", headers=AUTH, params={"api_name": "best_leaderboard", "score": 1,
                                                                 "user_id": fed["id"]}).raise_for_status()
    assert fed["id"] in dump_database(qg)
    http.delete(f"/{APP_ID}/federated_user", params={"persistent_id": "all-of-it"}, headers=AUTH).raise_for_status()
    # The admin audit log keeps its history of the admin calls made (their paths name the id): not user data.
    dump = "\n".join(line for line in dump_database(qg).splitlines() if "_admin/" not in line)
    assert fed["id"] not in dump and "all-of-it" not in dump and "Pellinore" not in dump
    # the persistent id and the name are free again
    assert created(http, "all-of-it", "Pellinore")["unique_name"] == "Pellinore#1"


def test_deleting_a_federated_user_who_sent_a_notification_keeps_the_record_without_its_sender(
        http: httpx.Client, admin: httpx.Client) -> None:
    """A SOCIAL notification sent with the federated user's own token names them as its sender: the delete
    still succeeds (no foreign key holds it back), and the app's record of the notification stays, sender
    gone."""
    created(http, "notifier", "Gawain")
    token = token_of(http, "notifier")
    request_id = admin.post(f"/_admin/apps/{APP_ID}/notif_requests", data={"category": "SOCIAL"}).json()["id"]
    sent = http.post(f"/{request_id}/triggered_notifs_with_text_map", headers={"Authorization": f"Bearer {token}"},
                     data={"recipient_ids": f"['{ADA_ID}']"})
    assert sent.json() == {"success": True}, sent.text
    deleted = http.delete(f"/{APP_ID}/federated_user", params={"persistent_id": "notifier"}, headers=AUTH)
    assert deleted.status_code == 200 and deleted.json() == {"success": True}, deleted.text
    record = admin.get(f"/_admin/apps/{APP_ID}/notifications").json()["data"]
    assert [(n["request_id"], n["recipient_ids"], n["sender_id"]) for n in record] == [(request_id, [ADA_ID], None)]
