"""Event-based user notifications (graph-api.md §A.3, D37) over real HTTP on both backends: Meta's example
with only the host changed, the token rule per category, every bad input (a Graph error and nothing
recorded), the admin API of templates and of what was sent, and isolation between apps."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import httpx
import pytest

from questgraph.server.world import World, WorldError
from tests.conftest import (
    ADA_ID,
    ADA_TOKEN,
    APP_ID,
    APP_TOKEN,
    GRACE_ID,
    RIVAL_APP_ID,
    RIVAL_APP_TOKEN,
    RIVAL_ID,
    RIVAL_TOKEN,
    RunningServer,
    assert_graph_error,
    start_server,
)
from tests.dash_support import csrf, sign_in_emulator

EVENTS_REQUEST, SOCIAL_REQUEST, RIVAL_REQUEST = "7000000000000001", "7000000000000002", "7000000000000003"


def register(admin: httpx.Client, app_id: str, category: str, request_id: str | None = None,
             name: str = "") -> httpx.Response:
    data = {"category": category, "name": name, **({"id": request_id} if request_id else {})}
    return admin.post(f"/_admin/apps/{app_id}/notif_requests", data=data)


@pytest.fixture
def templates(admin: httpx.Client) -> None:
    for app_id, category, request_id in ((APP_ID, "EVENTS", EVENTS_REQUEST), (APP_ID, "Social", SOCIAL_REQUEST),
                                         (RIVAL_APP_ID, "PROMOTION", RIVAL_REQUEST)):
        assert register(admin, app_id, category, request_id).status_code == 200


def sent(admin: httpx.Client, app_id: str = APP_ID) -> list[dict[str, Any]]:
    response = admin.get(f"/_admin/apps/{app_id}/notifications")
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def trigger(http: httpx.Client, request_id: str, token: str = APP_TOKEN, **params: str) -> httpx.Response:
    return http.post(f"/{request_id}/triggered_notifs_with_text_map", data={"access_token": token, **params})


def now(admin: httpx.Client) -> int:
    return int(admin.get("/_admin/clock").json()["now"])


# --- the documented request ---------------------------------------------------------------------------------
@pytest.mark.usefixtures("templates")
def test_meta_example_verbatim(http: httpx.Client, admin: httpx.Client) -> None:
    """D-NOTIF's curl line, query string and all, with only the host changed: ``{"success": true}``, and the
    notification is recorded with its recipients, no sender (an app token) and the server time."""
    admin.post("/_admin/clock", data={"set": "1800000000", "freeze": "true"}).raise_for_status()
    response = http.post(f"/{EVENTS_REQUEST}/triggered_notifs_with_text_map"
                         f"?recipient_ids=['{ADA_ID}', '{GRACE_ID}']&notif_request={EVENTS_REQUEST}"
                         f"&access_token={APP_TOKEN}")
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}
    (row,) = sent(admin)
    assert row == {"id": row["id"], "app_id": APP_ID, "request_id": EVENTS_REQUEST,
                   "recipient_ids": [ADA_ID, GRACE_ID], "sender_id": None, "sent_at": 1800000000}


@pytest.mark.usefixtures("templates")
@pytest.mark.parametrize("recipients", [f'["{ADA_ID}","{GRACE_ID}"]', f"{ADA_ID},{GRACE_ID}",
                                        f"[{ADA_ID}, {GRACE_ID}]", f" {ADA_ID} , {GRACE_ID} ,"])
def test_recipient_list_forms(http: httpx.Client, admin: httpx.Client, recipients: str) -> None:
    """D2/D20: a JSON array (strings or numbers), a comma list; notif_request may be left out."""
    assert trigger(http, EVENTS_REQUEST, recipient_ids=recipients).json() == {"success": True}
    assert [r["recipient_ids"] for r in sent(admin)] == [[ADA_ID, GRACE_ID]]


@pytest.mark.usefixtures("templates")
def test_repeated_parameter_and_repeated_id(http: httpx.Client, admin: httpx.Client) -> None:
    """A repeated ``recipient_ids`` adds ids (D20); an id given twice is notified once."""
    response = http.post(f"/{EVENTS_REQUEST}/triggered_notifs_with_text_map",
                         params=[("recipient_ids", GRACE_ID), ("recipient_ids", ADA_ID),
                                 ("recipient_ids", GRACE_ID), ("access_token", APP_TOKEN)])
    assert response.json() == {"success": True}
    assert [r["recipient_ids"] for r in sent(admin)] == [[GRACE_ID, ADA_ID]]


@pytest.mark.usefixtures("templates")
def test_social_category_takes_a_user_token_and_records_the_sender(http: httpx.Client, admin: httpx.Client) -> None:
    """D-NOTIF: "Social" notifications are sent with a user token; the sender is that token's user."""
    response = trigger(http, SOCIAL_REQUEST, ADA_TOKEN, recipient_ids=f"['{GRACE_ID}']", notif_request=SOCIAL_REQUEST)
    assert response.json() == {"success": True}
    (row,) = sent(admin)
    assert (row["request_id"], row["recipient_ids"], row["sender_id"]) == (SOCIAL_REQUEST, [GRACE_ID], ADA_ID)


# --- the token rule -------------------------------------------------------------------------------------------
@pytest.mark.usefixtures("templates")
def test_wrong_token_kind_for_the_category_is_a_403(http: httpx.Client, admin: httpx.Client) -> None:
    """D-NOTIF: user token for Social, app credentials for the others; nothing is recorded."""
    error = assert_graph_error(trigger(http, SOCIAL_REQUEST, APP_TOKEN, recipient_ids=GRACE_ID), 403, 200,
                               "OAuthException")
    assert "Social" in error["message"] and "user access token" in error["message"]
    error = assert_graph_error(trigger(http, EVENTS_REQUEST, ADA_TOKEN, recipient_ids=GRACE_ID), 403, 200)
    assert "app access token" in error["message"]
    assert_graph_error(http.post(f"/{EVENTS_REQUEST}/triggered_notifs_with_text_map",
                                 data={"recipient_ids": ADA_ID}), 401, 104)
    assert sent(admin) == []


# --- bad input ------------------------------------------------------------------------------------------------
@pytest.mark.usefixtures("templates")
@pytest.mark.parametrize(("params", "named"), [
    ({}, "recipient_ids"),
    ({"recipient_ids": ""}, "recipient_ids"),
    ({"recipient_ids": "[]"}, "recipient_ids"),
    ({"recipient_ids": "[1,"}, "recipient_ids"),
    ({"recipient_ids": '{"a": 1}'}, "recipient_ids"),
    ({"recipient_ids": "ada"}, "recipient_ids"),
    ({"recipient_ids": "-5"}, "recipient_ids"),
    ({"recipient_ids": "99999999999999999999999"}, "recipient_ids"),
    ({"recipient_ids": "123400000000000"}, "123400000000000"),  # no such user
    ({"recipient_ids": f"{ADA_ID},{RIVAL_ID}"}, RIVAL_ID),  # another app's user, after a good one
    ({"recipient_ids": ",".join(str(10**15 + i) for i in range(1001))}, "1000"),
    ({"recipient_ids": ADA_ID, "notif_request": SOCIAL_REQUEST}, "notif_request"),
    ({"recipient_ids": ADA_ID, "notif_request": "abc"}, "notif_request"),
    ({"recipient_ids": "1\x00"}, "recipient_ids"),
])
def test_bad_input_is_a_400_and_records_nothing(http: httpx.Client, admin: httpx.Client, params: dict[str, str],
                                                named: str) -> None:
    error = assert_graph_error(trigger(http, EVENTS_REQUEST, **params), 400, 100)
    assert named in error["message"]
    assert sent(admin) == []


@pytest.mark.usefixtures("templates")
@pytest.mark.parametrize("request_id", ["7000000000000009", "123", "abc", "99999999999999999999999", ADA_ID])
def test_unknown_request_id_is_a_404(http: httpx.Client, admin: httpx.Client, request_id: str) -> None:
    """D7: an id that is no notification request (unknown, not a number, or another kind of object)."""
    assert_graph_error(trigger(http, request_id, recipient_ids=ADA_ID), 404, 100, "GraphMethodException", 33)
    assert sent(admin) == []


@pytest.mark.usefixtures("templates")
def test_request_id_is_not_a_readable_object_and_post_only(http: httpx.Client) -> None:
    """D7: a request id has no view at GET /{id}; the trigger path is POST only (405 otherwise)."""
    assert_graph_error(http.get(f"/{EVENTS_REQUEST}", params={"access_token": APP_TOKEN}), 404, 100, subcode=33)
    response = http.get(f"/{EVENTS_REQUEST}/triggered_notifs_with_text_map",
                        params={"access_token": APP_TOKEN, "recipient_ids": ADA_ID})
    assert_graph_error(response, 405, 100)
    assert "POST" in response.headers["allow"]


# --- isolation between apps -------------------------------------------------------------------------------------
@pytest.mark.usefixtures("templates")
def test_another_apps_request_id_is_a_403_both_ways(http: httpx.Client, admin: httpx.Client) -> None:
    """D7: a request id of another app is a 403 code 200, whatever the recipients; nothing recorded for
    either app."""
    assert_graph_error(trigger(http, RIVAL_REQUEST, APP_TOKEN, recipient_ids=ADA_ID), 403, 200)
    assert_graph_error(trigger(http, EVENTS_REQUEST, RIVAL_APP_TOKEN, recipient_ids=RIVAL_ID), 403, 200)
    assert_graph_error(trigger(http, SOCIAL_REQUEST, RIVAL_TOKEN, recipient_ids=RIVAL_ID), 403, 200)
    assert sent(admin) == [] and sent(admin, RIVAL_APP_ID) == []


@pytest.mark.usefixtures("templates")
def test_each_app_sees_only_its_own_notifications(http: httpx.Client, admin: httpx.Client) -> None:
    assert trigger(http, EVENTS_REQUEST, recipient_ids=ADA_ID).json() == {"success": True}
    assert trigger(http, RIVAL_REQUEST, RIVAL_APP_TOKEN, recipient_ids=RIVAL_ID).json() == {"success": True}
    assert [(r["app_id"], r["recipient_ids"]) for r in sent(admin)] == [(APP_ID, [ADA_ID])]
    assert [(r["app_id"], r["recipient_ids"]) for r in sent(admin, RIVAL_APP_ID)] == [(RIVAL_APP_ID, [RIVAL_ID])]
    listed = admin.get(f"/_admin/apps/{RIVAL_APP_ID}/notif_requests").json()["data"]
    assert [r["id"] for r in listed] == [RIVAL_REQUEST]


# --- admin API of templates ---------------------------------------------------------------------------------------
def test_register_and_list_requests(admin: httpx.Client) -> None:
    """Categories in any case; a chosen or a random 16-digit id (D9); listed by id."""
    first = register(admin, APP_ID, "social", name="Friend sent gems")
    assert first.status_code == 200, first.text
    body = first.json()
    assert body == {"id": body["id"], "app_id": APP_ID, "category": "SOCIAL", "name": "Friend sent gems",
                    "created_at": body["created_at"]}
    assert len(body["id"]) == 16 and body["id"].isdigit()
    second = register(admin, APP_ID, "EVENTS", EVENTS_REQUEST).json()
    listed = admin.get(f"/_admin/apps/{APP_ID}/notif_requests").json()["data"]
    assert [r["id"] for r in listed] == sorted([body["id"], EVENTS_REQUEST], key=int)
    assert second["id"] == EVENTS_REQUEST and listed[[r["id"] for r in listed].index(EVENTS_REQUEST)] == second


@pytest.mark.parametrize(("data", "status"), [
    ({"category": "SPAM"}, 400), ({}, 400), ({"category": "EVENTS", "name": "x" * 257}, 400),
    ({"category": "EVENTS", "id": "12"}, 400), ({"category": "EVENTS", "id": ADA_ID}, 400),
])
def test_register_bad_input(admin: httpx.Client, data: dict[str, str], status: int) -> None:
    assert_graph_error(admin.post(f"/_admin/apps/{APP_ID}/notif_requests", data=data), status, 100)
    assert admin.get(f"/_admin/apps/{APP_ID}/notif_requests").json()["data"] == []


def test_unknown_app_is_a_404(admin: httpx.Client) -> None:
    assert_graph_error(register(admin, "1999999999999999", "EVENTS"), 404, 100)
    assert_graph_error(admin.get("/_admin/apps/1999999999999999/notifications"), 404, 100)


# --- the world file ---------------------------------------------------------------------------------------------
NOTIF_WORLD = {
    "orgs": [{"name": "Studio", "apps": [{
        "id": "1234757621998335", "name": "Game", "secret": "1234f7a788b0c0b270f9691d0a06d5a5",
        "notif_requests": [{"id": "7100000000000001", "category": "events", "name": "Level up"},
                           {"id": 7100000000000002, "category": "SOCIAL"}],
    }]}],
    "users": [{"alias": "ada", "apps": [{"app": "1234757621998335", "id": "123402235207175"}]}],
}


def test_world_file_declares_request_templates(tmp_path: Path) -> None:
    """``[[orgs.apps.notif_requests]]`` registers templates as the admin API does; a reset plants them again."""
    server = start_server(tmp_path, World(data=NOTIF_WORLD, source="notif.toml"))
    try:
        with server.admin() as admin, server.client() as http:
            listed = admin.get("/_admin/apps/1234757621998335/notif_requests").json()["data"]
            assert [(r["id"], r["category"], r["name"]) for r in listed] == [
                ("7100000000000001", "EVENTS", "Level up"), ("7100000000000002", "SOCIAL", "")]
            response = trigger(http, "7100000000000001", recipient_ids=ADA_ID)
            assert response.json() == {"success": True}
            admin.post("/_admin/reset").raise_for_status()
            assert sent(admin) == []
            assert len(admin.get("/_admin/apps/1234757621998335/notif_requests").json()["data"]) == 2
    finally:
        server.stop()


@pytest.mark.parametrize(("change", "message"), [
    ({"category": "SPAM"}, "category must be one of"),
    ({"id": "12"}, "15 to 17 digits"),
    ({"id": "1234757621998335"}, "already used"),
    ({"colour": "red"}, "colour"),
    ({"name": 5}, "name must be a string"),
])
def test_world_file_bad_templates_name_the_item(change: dict[str, Any], message: str) -> None:
    world = copy.deepcopy(NOTIF_WORLD)
    world["orgs"][0]["apps"][0]["notif_requests"][0].update(change)
    with pytest.raises(WorldError, match=message) as raised:
        World(data=world, source="notif.toml")
    assert "notif_requests[0]" in str(raised.value)


# --- the dashboard ------------------------------------------------------------------------------------------------
@pytest.mark.usefixtures("templates")
def test_dashboard_page_lists_requests_and_what_was_sent(qg: RunningServer, http: httpx.Client,
                                                         admin: httpx.Client) -> None:
    """The app's Notifications page: its request templates (not another app's), a form that adds one, and
    every notification sent with its recipients and sender."""
    trigger(http, SOCIAL_REQUEST, ADA_TOKEN, recipient_ids=GRACE_ID).raise_for_status()
    with qg.client(follow_redirects=False) as browser:
        sign_in_emulator(browser)
        page = browser.get(f"/dashboard/apps/{APP_ID}/notifications")
        assert page.status_code == 200, page.text
        assert EVENTS_REQUEST in page.text and SOCIAL_REQUEST in page.text and RIVAL_REQUEST not in page.text
        assert f'href="/dashboard/users/{GRACE_ID}"' in page.text and f'href="/dashboard/users/{ADA_ID}"' in page.text
        added = browser.post(f"/dashboard/apps/{APP_ID}/notifications",
                             data={"csrf_token": csrf(page.text), "category": "PROMOTION", "name": "Sale <b>"})
        assert added.status_code == 303 and added.headers["location"] == f"/dashboard/apps/{APP_ID}/notifications"
        listed = admin.get(f"/_admin/apps/{APP_ID}/notif_requests").json()["data"]
        assert [r["name"] for r in listed if r["category"] == "PROMOTION"] == ["Sale <b>"]
        again = browser.get(f"/dashboard/apps/{APP_ID}/notifications").text
        assert "Sale &lt;b&gt;" in again and "Sale <b>" not in again
        # Another organization's app is no app at all (dashboard rule).
        assert browser.get(f"/dashboard/apps/{RIVAL_APP_ID}/notifications").status_code == 404
        refused = browser.post(f"/dashboard/apps/{APP_ID}/notifications",
                               data={"csrf_token": csrf(page.text), "category": "SPAM"})
        assert refused.status_code == 400
    assert len(admin.get(f"/_admin/apps/{APP_ID}/notif_requests").json()["data"]) == 3
