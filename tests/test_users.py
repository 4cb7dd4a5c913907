"""Users and user verification (graph-api.md §4, D8, D10, D33) over real HTTP: ``GET /{user_id}``,
``GET /me`` (user token and SSO link), and ``user_nonce_validate`` with nonces minted by the admin API."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from questgraph.server.auth.callers import LinkCaller
from tests.ach_support import bearer, state
from tests.conftest import (
    ADA_ID,
    ADA_TOKEN,
    APP_TOKEN,
    GRACE_ID,
    RIVAL_APP_TOKEN,
    RIVAL_ID,
    UNENTITLED_ID,
    RunningServer,
    assert_graph_error,
    start_server,
)

ALL_FIELDS = "id,alias,display_name,profile_url,org_scoped_id"


def _org_scoped_id(admin: httpx.Client, user_id: str) -> str:
    return str(admin.get(f"/_admin/users/{user_id}").json()["org_scoped_id"])


def _nonce(admin: httpx.Client, user_id: str, **params: str) -> str:
    response = admin.post(f"/_admin/users/{user_id}/nonces", data=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"nonce", "expires_at"} and len(body["nonce"]) >= 32
    return str(body["nonce"])


def _validate(http: httpx.Client, nonce: str, user_id: str, token: str = APP_TOKEN) -> httpx.Response:
    return http.post("/user_nonce_validate", data={"access_token": token, "nonce": nonce, "user_id": user_id})


# --- GET /{user_id} (§4.2) --------------------------------------------------------------------------------

def test_user_node_documented_fields(http: httpx.Client, admin: httpx.Client) -> None:
    """§4.2: the documented ``fields=org_scoped_id`` and the fields clients ask for."""
    org_scoped = _org_scoped_id(admin, ADA_ID)
    response = http.get(f"/{ADA_ID}", params={"access_token": APP_TOKEN, "fields": "org_scoped_id"})
    assert response.status_code == 200
    assert response.json() == {"id": ADA_ID, "org_scoped_id": org_scoped}
    full = http.get(f"/{ADA_ID}", params={"access_token": APP_TOKEN, "fields": ALL_FIELDS}).json()
    assert full == {"id": ADA_ID, "alias": "ada", "display_name": "ada",
                    "profile_url": "https://questgraph.invalid/profile/ada.png", "org_scoped_id": org_scoped}


def test_user_node_default_is_id_and_alias(http: httpx.Client) -> None:
    """Without fields: ``{"id","alias"}``, the shape of §4.3's response (docs/fidelity.md D10)."""
    assert http.get(f"/{GRACE_ID}", params={"access_token": APP_TOKEN}).json() == {"id": GRACE_ID, "alias": "grace"}


def test_user_node_unknown_field_is_400(http: httpx.Client) -> None:
    response = http.get(f"/{ADA_ID}", params={"access_token": APP_TOKEN, "fields": "id,age_category"})
    assert "age_category" in assert_graph_error(response, 400, 100, "OCApiException")["message"]


def test_user_node_of_another_app_is_forbidden(http: httpx.Client) -> None:
    """D7: the rival app cannot read our users, nor we theirs; a user token reads only itself."""
    assert_graph_error(http.get(f"/{ADA_ID}", params={"access_token": RIVAL_APP_TOKEN}), 403, 200, "OAuthException")
    assert_graph_error(http.get(f"/{RIVAL_ID}", params={"access_token": APP_TOKEN}), 403, 200, "OAuthException")
    assert_graph_error(http.get(f"/{GRACE_ID}", headers=bearer(ADA_TOKEN)), 403, 200)
    assert http.get(f"/{ADA_ID}", headers=bearer(ADA_TOKEN)).json() == {"id": ADA_ID, "alias": "ada"}


def test_unknown_user_id_is_404(http: httpx.Client) -> None:
    assert_graph_error(http.get("/123456789012345", params={"access_token": APP_TOKEN}), 404, 100,
                       "GraphMethodException", 33)


# --- GET /me (§4.3) ---------------------------------------------------------------------------------------

def test_me_with_the_documented_fields(http: httpx.Client, admin: httpx.Client) -> None:
    """§4.3: ``/me?fields=id,alias`` → ``{"id":…,"alias":…}``; the OAuth header form clients use works."""
    response = http.get("/me", params={"access_token": ADA_TOKEN, "fields": "id,alias"})
    assert response.status_code == 200 and response.json() == {"id": ADA_ID, "alias": "ada"}
    header = http.get("/me", headers={"Authorization": f"OAuth {ADA_TOKEN}"}, params={"fields": ALL_FIELDS})
    assert header.json()["org_scoped_id"] == _org_scoped_id(admin, ADA_ID)
    assert header.json()["display_name"] == "ada"


def test_me_needs_a_token_and_refuses_an_app_token(http: httpx.Client) -> None:
    assert_graph_error(http.get("/me"), 401, 104, "OAuthException")
    assert_graph_error(http.get("/me", params={"access_token": "OCnotAtokenWeKnow00000000000000"}), 401, 190)
    assert_graph_error(http.get("/me", params={"access_token": APP_TOKEN}), 403, 200, "OAuthException")


@pytest.fixture
def linked(tmp_path: Path) -> RunningServer:
    """A server whose authenticator knows one SSO oauth_token (the account-linking feature's hook)."""
    server = start_server(tmp_path)
    with server.admin() as admin:
        org_scoped = int(_org_scoped_id(admin, ADA_ID))
    person = server.server.identity_store.get_user(int(ADA_ID))
    assert person is not None
    link = LinkCaller(org_id=1000000000000001, org_scoped_id=org_scoped, person_id=person.person_id)
    server.server.auth.resolve_link = lambda token: link if token == "OCAe" + "L" * 95 else None
    return server


def test_me_with_an_sso_link_returns_the_org_scoped_id(linked: RunningServer) -> None:
    """D33: with an oauth_token ``id`` is the org-scoped id; only ``id`` and ``alias`` may be asked."""
    token = "OCAe" + "L" * 95
    with linked.client() as http, linked.admin() as admin:
        org_scoped = _org_scoped_id(admin, ADA_ID)
        assert http.get("/me", params={"access_token": token}).json() == {"id": org_scoped, "alias": "ada"}
        assert http.get("/me", params={"access_token": token, "fields": "alias"}).json() == {
            "id": org_scoped, "alias": "ada"}
        for field in ("display_name", "profile_url", "org_scoped_id"):
            response = http.get("/me", params={"access_token": token, "fields": f"id,{field}"})
            assert field in assert_graph_error(response, 400, 100, "OCApiException")["message"]
        # The oauth_token is for /me only (D33).
        assert_graph_error(http.get(f"/{ADA_ID}", params={"access_token": token}), 403, 200)
    linked.stop()


# --- user_nonce_validate (§4.1, D8) -----------------------------------------------------------------------

def test_nonce_validates_once_then_false(http: httpx.Client, admin: httpx.Client) -> None:
    nonce = _nonce(admin, ADA_ID)
    first = _validate(http, nonce, ADA_ID)
    assert first.status_code == 200 and first.json() == {"is_valid": True}
    second = _validate(http, nonce, ADA_ID)
    assert second.status_code == 200 and second.json() == {"is_valid": False}


def test_nonce_accepts_json_query_and_form(http: httpx.Client, admin: httpx.Client) -> None:
    """§4.1: clients send query parameters, a form body or a JSON body."""
    json_nonce, query_nonce = _nonce(admin, ADA_ID), _nonce(admin, ADA_ID)
    body = http.post("/user_nonce_validate", json={"access_token": APP_TOKEN, "nonce": json_nonce,
                                                   "user_id": ADA_ID})
    assert body.json() == {"is_valid": True}
    query = http.post(f"/user_nonce_validate?access_token={APP_TOKEN}&nonce={query_nonce}&user_id={ADA_ID}")
    assert query.json() == {"is_valid": True}
    numeric = http.post("/user_nonce_validate", json={"access_token": APP_TOKEN, "nonce": _nonce(admin, ADA_ID),
                                                      "user_id": int(ADA_ID)})
    assert numeric.json() == {"is_valid": True}


def test_nonce_expires_after_five_minutes(http: httpx.Client, admin: httpx.Client) -> None:
    """docs/fidelity.md D8: a nonce lives 300 s on the server clock (D36)."""
    fresh, stale = _nonce(admin, ADA_ID), _nonce(admin, ADA_ID)
    admin.post("/_admin/clock", data={"advance_seconds": "299"}).raise_for_status()
    assert _validate(http, fresh, ADA_ID).json() == {"is_valid": True}
    admin.post("/_admin/clock", data={"advance_seconds": "1"}).raise_for_status()
    assert _validate(http, stale, ADA_ID).json() == {"is_valid": False}
    short = _nonce(admin, ADA_ID, ttl_seconds="10")
    admin.post("/_admin/clock", data={"advance_seconds": "10"}).raise_for_status()
    assert _validate(http, short, ADA_ID).json() == {"is_valid": False}


def test_nonce_of_another_user_or_app_is_false(http: httpx.Client, admin: httpx.Client) -> None:
    """D8: a wrong user, another app's nonce, an unknown or absurd nonce: 200 ``is_valid:false``; such
    attempts do not spend the nonce for its rightful user."""
    nonce = _nonce(admin, ADA_ID)
    assert _validate(http, nonce, GRACE_ID).json() == {"is_valid": False}
    assert _validate(http, nonce, ADA_ID, RIVAL_APP_TOKEN).json() == {"is_valid": False}
    assert _validate(http, nonce, RIVAL_ID, RIVAL_APP_TOKEN).json() == {"is_valid": False}
    rival_nonce = _nonce(admin, RIVAL_ID)
    assert _validate(http, rival_nonce, RIVAL_ID, APP_TOKEN).json() == {"is_valid": False}
    for wrong in ("x", "a" * 5000, "Ω' OR 1=1 --"):
        assert _validate(http, wrong, ADA_ID).json() == {"is_valid": False}
    assert _validate(http, nonce, "999999999999999").json() == {"is_valid": False}
    assert _validate(http, nonce, ADA_ID).json() == {"is_valid": True}
    assert _validate(http, rival_nonce, RIVAL_ID, RIVAL_APP_TOKEN).json() == {"is_valid": True}


def test_nonce_of_an_unentitled_user_is_false(http: httpx.Client, admin: httpx.Client) -> None:
    """§4.1: Meta answers false when the user is not set up for the app (docs/fidelity.md D8)."""
    assert _validate(http, _nonce(admin, UNENTITLED_ID), UNENTITLED_ID).json() == {"is_valid": False}


def test_nonce_validate_errors(http: httpx.Client, admin: httpx.Client) -> None:
    """Missing parameters and wrong token kinds are errors (D7); they spend nothing."""
    nonce = _nonce(admin, ADA_ID)
    before = state(admin)
    assert_graph_error(http.post("/user_nonce_validate", data={"nonce": nonce, "user_id": ADA_ID}), 401, 104)
    assert_graph_error(http.post("/user_nonce_validate", data={"access_token": APP_TOKEN, "user_id": ADA_ID}),
                       400, 100)
    assert_graph_error(http.post("/user_nonce_validate", data={"access_token": APP_TOKEN, "nonce": nonce}), 400, 100)
    assert_graph_error(http.post("/user_nonce_validate", data={"access_token": APP_TOKEN, "nonce": nonce,
                                                               "user_id": "ada"}), 400, 100)
    assert_graph_error(_validate(http, nonce, ADA_ID, ADA_TOKEN), 403, 200, "OAuthException")
    assert state(admin) == before
    assert _validate(http, nonce, ADA_ID).json() == {"is_valid": True}


def test_nonce_is_random_and_stored_hashed(admin: httpx.Client) -> None:
    """D11: nonces are random; the database holds only their digest."""
    nonces = {_nonce(admin, ADA_ID) for _ in range(5)}
    assert len(nonces) == 5
    dump = str(state(admin)["user_nonces"])
    assert not any(n in dump for n in nonces)


def test_admin_nonce_errors(admin: httpx.Client) -> None:
    assert_graph_error(admin.post("/_admin/users/999999999999999/nonces"), 404, 100)
    assert_graph_error(admin.post(f"/_admin/users/{ADA_ID}/nonces", data={"ttl_seconds": "0"}), 400, 100)
    assert_graph_error(admin.post(f"/_admin/users/{ADA_ID}/nonces", data={"ttl_seconds": "soon"}), 400, 100)
