"""Helpers shared by the achievement and user tests: define achievements through the Graph API, write and
read progress, and a whole-state probe to prove that a refused request changed nothing."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import APP_ID, APP_TOKEN, RIVAL_APP_ID, RIVAL_APP_TOKEN, RIVAL_ID

ALL_DEFINITION_FIELDS = (
    "api_name,achievement_type,achievement_write_policy,target,bitfield_length,is_archived,title,description,"
    "unlocked_description_override,is_secret,locked_image_uri,unlocked_image_uri,title_locale_map,"
    "description_locale_map"
)
PROGRESS_FIELDS = "id,unlock_time,is_unlocked,count_progress,bitfield_progress,definition{api_name,target}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def define(http: httpx.Client, api_name: str, achievement_type: str = "SIMPLE", *, app_id: str = APP_ID,
           token: str = APP_TOKEN, **params: Any) -> str:
    """Create or update a definition through the Graph API; returns its id."""
    data = {"access_token": token, "api_name": api_name, "achievement_type": achievement_type,
            "achievement_write_policy": "CLIENT_AUTHORITATIVE", "title": f"Title of {api_name}",
            "description": f"Description of {api_name}", **{k: str(v) for k, v in params.items()}}
    response = http.post(f"/{app_id}/achievement_definitions", data=data)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"id"} and body["id"].isdigit()
    return str(body["id"])


def write(http: httpx.Client, user_id: str, api_name: str, token: str = APP_TOKEN, **params: Any) -> httpx.Response:
    data = {"access_token": token, "api_name": api_name, **{k: str(v) for k, v in params.items()}}
    return http.post(f"/{user_id}/achievements", data=data)


def write_ok(http: httpx.Client, user_id: str, api_name: str, token: str = APP_TOKEN, **params: Any) -> bool:
    response = write(http, user_id, api_name, token, **params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == user_id and body["api_name"] == api_name and set(body) == {"id", "api_name", "just_unlocked"}
    return bool(body["just_unlocked"])


def progress(http: httpx.Client, user_id: str, token: str = APP_TOKEN, **params: Any) -> dict[str, dict[str, Any]]:
    """The user's progress rows by api_name (all fields)."""
    response = http.get(f"/{user_id}/achievements",
                        params={"access_token": token, "fields": PROGRESS_FIELDS, **params})
    assert response.status_code == 200, response.text
    return {row["definition"]["api_name"]: row for row in response.json()["data"]}


def definitions(http: httpx.Client, token: str = APP_TOKEN, app_id: str = APP_ID,
                **params: Any) -> dict[str, dict[str, Any]]:
    response = http.get(f"/{app_id}/achievement_definitions",
                        params={"access_token": token, "fields": ALL_DEFINITION_FIELDS, **params})
    assert response.status_code == 200, response.text
    return {row["api_name"]: row for row in response.json()["data"]}


def state(admin: httpx.Client) -> dict[str, Any]:
    """Every table except the clock setting: equal before and after means nothing changed."""
    response = admin.get("/_admin/snapshot")
    assert response.status_code == 200
    return dict(response.json()["tables"])


def rival_setup(http: httpx.Client) -> None:
    """The rival app defines an achievement of the same api_name, and its user unlocks it."""
    define(http, "SHARED_NAME", "COUNT", app_id=RIVAL_APP_ID, token=RIVAL_APP_TOKEN, target=5)
    assert write_ok(http, RIVAL_ID, "SHARED_NAME", RIVAL_APP_TOKEN, add_count=5) is True
