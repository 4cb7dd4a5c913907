"""The client's account-linking helpers (graph-api.md §5; D30–D35) end to end against the real server:
the SSO page URL the client builds is the page, the browser flow is driven with httpx as in
tests/sso_support.py, the fragment is decoded by the client, then exchange, /me, refresh, reuse detection,
and the SSO admin calls (links, revoke, password); plus the fragment decoder's lenient input."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator

import httpx
import pytest

from questgraph import AsyncClient, AuthError, Client, InvalidParameter, PermissionDenied
from questgraph.client import AdminClient, AsyncAdminClient, LinkFragment, decode_fragment, sso_url
from tests import sso_support
from tests.conftest import ADA_ID, ADA_TOKEN, ADMIN_KEY, APP_ID, APP_SECRET, RIVAL_APP_TOKEN, RunningServer
from tests.sso_support import OAUTH_TOKEN, ORG_ID, REDIRECT_URI


@pytest.fixture
def client(qg: RunningServer) -> Iterator[Client]:
    with Client(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url) as c:
        yield c


def browse(qg: RunningServer, client: Client, alias: str = "ada") -> str:
    """The user's side: open the URL the client built, sign in, link; the redirect Location."""
    url = client.account_linking.sso_url(ORG_ID, REDIRECT_URI)
    assert url == f"{qg.url}/sso/?redirect_uri={REDIRECT_URI.replace(':', '%3A').replace('/', '%2F')}" \
                  f"&organization_id={ORG_ID}"
    with httpx.Client(base_url=qg.url) as browser:
        assert browser.get(url).status_code == 200  # the built URL is the page itself
        return sso_support.link(browser, alias).location


def fragment_of(data: dict[str, str], *, urlsafe: bool = False, pad: bool = True) -> str:
    raw = json.dumps(data).encode()
    text = (base64.urlsafe_b64encode(raw) if urlsafe else base64.b64encode(raw)).decode()
    return text if pad else text.rstrip("=")


def test_sso_url_for_meta_and_questgraph() -> None:
    """§5.1: Meta's page is on auth.oculus.com; a questgraph server serves it at /sso/ (D30)."""
    assert sso_url(ORG_ID, "https://a.example/cb?x=1") == (
        "https://auth.oculus.com/sso/?redirect_uri=https%3A%2F%2Fa.example%2Fcb%3Fx%3D1"
        f"&organization_id={ORG_ID}")
    assert sso_url(int(ORG_ID), "https://a/cb", base_url="http://127.0.0.1:8080/").startswith(
        "http://127.0.0.1:8080/sso/?redirect_uri=")
    assert sso_url(ORG_ID, "https://a/cb", sso_base_url="https://login.test/sso/").startswith("https://login.test/sso/?")
    with pytest.raises(ValueError):
        sso_url("org; drop", "https://a/cb")
    with pytest.raises(ValueError):
        sso_url(ORG_ID, "")


def test_decode_fragment_is_lenient_and_never_echoes_the_code() -> None:
    """D31: a whole URL or the bare hash; standard or URL-safe base64, padded or not, percent-encoded;
    the id under org_scoped_id or org-scoped_id. A bad fragment is a ValueError without the code."""
    code = "A" * 64
    both = {"code": code, "org_scoped_id": "555555555555555", "org-scoped_id": "555555555555555"}
    expected = LinkFragment(code, "555555555555555")
    assert decode_fragment(f"https://studio.example/cb#{fragment_of(both)}") == expected
    assert decode_fragment("#" + fragment_of(both, urlsafe=True, pad=False)) == expected
    assert decode_fragment(fragment_of({"code": code, "org-scoped_id": "555555555555555"})) == expected
    assert decode_fragment(fragment_of(both).replace("=", "%3D")) == expected
    assert code not in repr(expected)
    for bad in ("https://studio.example/cb", "#not-base64!", "#" + fragment_of({"code": code}),
                "#" + base64.b64encode(b"[1]").decode(), "#" + fragment_of({"org_scoped_id": "5"})):
        with pytest.raises(ValueError) as error:
            decode_fragment(bad)
        assert code not in str(error.value)


def test_link_exchange_me_refresh_and_reuse_detection(client: Client, qg: RunningServer) -> None:
    """D32–D34 end to end through the client: exchange → /me (id = org-scoped id) → refresh rotates the
    code; presenting the old one is a 400 that revokes every token; a code works once."""
    fragment = decode_fragment(browse(qg, client))
    linking = client.account_linking
    tokens = linking.exchange_code(fragment, redirect_uri=REDIRECT_URI)
    assert OAUTH_TOKEN.fullmatch(tokens.oauth_token) and len(tokens.refresh_code) == 64
    assert tokens.oauth_token not in repr(tokens) and tokens.refresh_code not in repr(tokens)
    me = linking.me(tokens.oauth_token)
    assert (me.id, me.alias) == (fragment.org_scoped_id, "ada")
    with pytest.raises(InvalidParameter):
        linking.me(tokens.oauth_token, fields=["id", "display_name"])  # D33: only id and alias
    with pytest.raises(InvalidParameter) as reused:
        linking.exchange_code(fragment.code, fragment.org_scoped_id)  # single use (D32)
    assert fragment.code not in str(reused.value)
    with pytest.raises(AuthError):
        linking.me(tokens.oauth_token)  # the second use revoked what the first issued


def test_refresh_rotation_and_admin_revoke(client: Client, qg: RunningServer) -> None:
    """D34: the new refresh code works, the old one is refused and revokes the link; the admin API lists
    and revokes links and sets the production sign-in password."""
    fragment = decode_fragment(browse(qg, client))
    linking = client.account_linking
    first = linking.exchange_code(fragment.code, int(fragment.org_scoped_id))
    second = linking.refresh(fragment.org_scoped_id, first.refresh_code)
    assert second.oauth_token != first.oauth_token and second.refresh_code != first.refresh_code
    assert linking.me(first.oauth_token).id == linking.me(second.oauth_token).id == fragment.org_scoped_id
    third = linking.refresh(fragment.org_scoped_id, second.refresh_code)
    with AdminClient(qg.url, admin_key=ADMIN_KEY) as admin:
        links = admin.links(ADA_ID)
        assert len(links) == 1 and links[0].org_scoped_id == fragment.org_scoped_id and not links[0].revoked
        assert admin.links(fragment.org_scoped_id) == links  # by org-scoped id as well
        assert third.oauth_token not in repr(links)
        revoked = admin.revoke_link(links[0].id)
        assert revoked.revoked and revoked.revoked_at is not None
        assert admin.revoke_link(links[0].id).revoked  # again: still revoked
        admin.set_password(ADA_ID, "correct horse battery")
        with pytest.raises(InvalidParameter):
            admin.set_password(ADA_ID, "short")
    with pytest.raises(AuthError):
        linking.me(third.oauth_token)
    with pytest.raises(InvalidParameter):
        linking.refresh(fragment.org_scoped_id, third.refresh_code)


def test_old_refresh_code_is_refused_and_revokes(client: Client, qg: RunningServer) -> None:
    """D34 reuse detection seen through the client; only an app token of the organization may exchange."""
    fragment = decode_fragment(browse(qg, client))
    with Client(access_token=RIVAL_APP_TOKEN, base_url=qg.url) as rival, pytest.raises(InvalidParameter):
        rival.account_linking.exchange_code(fragment)  # another organization's app
    with pytest.raises(PermissionDenied):
        client.as_user(ADA_TOKEN).account_linking.exchange_code(fragment)  # a user token
    first = client.account_linking.exchange_code(fragment)
    second = client.account_linking.refresh(fragment.org_scoped_id, first.refresh_code)
    with pytest.raises(InvalidParameter):
        client.account_linking.refresh(fragment.org_scoped_id, first.refresh_code)
    with pytest.raises(AuthError):
        client.account_linking.me(second.oauth_token)


def test_async_account_linking(qg: RunningServer) -> None:
    """The async twins: exchange, /me, refresh, and the async SSO admin calls."""
    with Client(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url) as sync:
        location = browse(qg, sync)

    async def run() -> None:
        async with AsyncClient(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url) as c, \
                AsyncAdminClient(qg.url, admin_key=ADMIN_KEY) as admin:
            linking = c.account_linking
            assert linking.sso_url(ORG_ID, REDIRECT_URI).startswith(f"{qg.url}/sso/?")
            fragment = linking.decode_fragment(location)
            tokens = await linking.exchange_code(fragment)
            assert (await linking.me(tokens.oauth_token)).alias == "ada"
            fresh = await linking.refresh(fragment.org_scoped_id, tokens.refresh_code)
            assert (await linking.me(fresh.oauth_token)).id == fragment.org_scoped_id
            links = await admin.links(ADA_ID)
            assert (await admin.revoke_link(links[0].id)).revoked
            await admin.set_password(ADA_ID, "another long password")
            with pytest.raises(AuthError):
                await linking.me(fresh.oauth_token)

    asyncio.run(run())
