"""Helpers of the dashboard tests (issue 7): sign in over plain HTTP and read a page's CSRF token."""

from __future__ import annotations

import re

import httpx

DOC_ORG_ID = "1000000000000001"
RIVAL_ORG_ID = "2000000000000001"
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def csrf(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in_emulator(client: httpx.Client, org_id: str = DOC_ORG_ID) -> None:
    """The emulator's one-click sign-in as an admin of the organization."""
    page = client.get("/dashboard/login")
    answer = client.post("/dashboard/login/emulator", data={"csrf_token": csrf(page.text), "org_id": org_id})
    assert answer.status_code == 303 and answer.headers["location"] == "/dashboard/overview", answer.text


def sign_in_password(client: httpx.Client, email: str, password: str) -> httpx.Response:
    page = client.get("/dashboard/login")
    return client.post("/dashboard/login", data={"csrf_token": csrf(page.text), "email": email, "password": password})


def add_member(admin: httpx.Client, email: str, role: str, password: str, org_id: str = DOC_ORG_ID) -> None:
    admin.post(f"/_admin/orgs/{org_id}/members", data={"email": email, "role": role, "password": password,
                                                      "name": email.split("@")[0]}).raise_for_status()
