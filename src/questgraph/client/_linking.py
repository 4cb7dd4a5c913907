"""Account linking (graph-api.md §5; D30–D35) as ``qg.account_linking.…``: build the SSO page URL,
decode the redirect fragment, exchange the code, refresh, and ``/me`` with the oauth_token.

The flow: send the browser to ``sso_url(org_id, redirect_uri)``; the page redirects it to
``{redirect_uri}#{base64(JSON)}``; your page reads the fragment (it never reaches your server unless your
page posts it) and hands it to ``decode_fragment``; your back-end calls ``exchange_code`` with its app
token, stores the ``refresh_code``, and later ``refresh`` (each refresh code works once, D34).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from questgraph.client._async_client import AsyncClient
from questgraph.client._base import DEFAULT_BASE_URL, Call, params
from questgraph.client._client import Client
from questgraph.client._group import C, Group, endpoint
from questgraph.client._models import Id, LinkFragment, LinkTokens, User, id_str
from questgraph.client._users import ME_FIELDS, ProfileField, me_call

META_SSO_URL = "https://auth.oculus.com/sso/"  # graph-api.md §5.1: Meta serves the page on another host


def sso_url(organization_id: Id, redirect_uri: str, *, base_url: str = DEFAULT_BASE_URL,
            sso_base_url: str | None = None) -> str:
    """The SSO page for ``organization_id`` that redirects to ``redirect_uri`` (which must be registered
    for the organization, D30). The page is Meta's ``auth.oculus.com/sso/`` for graph.oculus.com, and
    ``{base_url}/sso/`` for a questgraph server, unless ``sso_base_url`` says otherwise (a questgraph
    server configured with a separate public SSO URL)."""
    if not redirect_uri:
        raise ValueError("redirect_uri is required (a URI registered for the organization, D30)")
    if sso_base_url is None:
        sso_base_url = META_SSO_URL if base_url.rstrip("/") == DEFAULT_BASE_URL else f"{base_url.rstrip('/')}/sso/"
    # The order of Meta's guide: redirect_uri, then organization_id.
    query = urlencode({"redirect_uri": redirect_uri, "organization_id": id_str(organization_id, "organization_id")})
    return f"{sso_base_url}?{query}"


def decode_fragment(location: str) -> LinkFragment:
    """The code and org-scoped id of the SSO redirect (D31), from the whole redirect URL, or just its
    fragment (with or without ``#``, as JavaScript's ``location.hash`` gives it). The base64 may be
    standard or URL-safe, padded or not, or percent-encoded; the id is read from ``org_scoped_id`` or
    ``org-scoped_id``. A malformed fragment is a ``ValueError`` that does not repeat it (it holds a code)."""
    text = location.strip()
    if "#" in text:
        text = text.partition("#")[2]
    elif urlsplit(text).scheme in ("http", "https"):
        raise ValueError("the redirect URL has no fragment: the SSO page puts the code after '#'")
    text = unquote(text).strip().replace("-", "+").replace("_", "/")
    try:
        data: Any = json.loads(base64.b64decode(text + "=" * (-len(text) % 4), validate=True))
    except (binascii.Error, ValueError):
        raise ValueError("the fragment is not base64-encoded JSON (D31)") from None
    if not isinstance(data, dict):
        raise ValueError("the fragment's JSON is not an object (D31)")
    code = data.get("code")
    org_scoped_id = data.get("org_scoped_id", data.get("org-scoped_id"))
    if not isinstance(code, str) or not code:
        raise ValueError("the fragment has no code")
    if org_scoped_id is None or not str(org_scoped_id).isdigit():
        raise ValueError("the fragment has no org_scoped_id")
    return LinkFragment(code=code, org_scoped_id=str(org_scoped_id))


class _AccountLinking(Group[C]):
    def sso_url(self, organization_id: Id, redirect_uri: str, *, sso_base_url: str | None = None) -> str:
        """See ``questgraph.client.sso_url``: the page on this client's server (or Meta's)."""
        return sso_url(organization_id, redirect_uri, base_url=self._client.base_url, sso_base_url=sso_base_url)

    @staticmethod
    def decode_fragment(location: str) -> LinkFragment:
        """See ``questgraph.client.decode_fragment``."""
        return decode_fragment(location)

    @endpoint
    def exchange_code(self, code: str | LinkFragment, org_scoped_id: Id | None = None, *,
                      redirect_uri: str | None = None) -> Call[LinkTokens]:
        """Exchange the fragment's code for a 30-day ``oauth_token`` and a ``refresh_code`` (D32); give a
        ``LinkFragment`` or the code and the org-scoped id. Not retried (a code is single use)."""
        code, org_scoped_id = _code_and_id(code, org_scoped_id)
        scoped = id_str(org_scoped_id, "org_scoped_id")
        # Never repeated: a code is single use, and a second presentation revokes what the first issued (D32).
        return Call("POST", "/sso_authorize_code", params(code=code, org_scoped_id=scoped, redirect_uri=redirect_uri),
                    LinkTokens.parser(scoped))

    @endpoint
    def refresh(self, org_scoped_id: Id, refresh_code: str) -> Call[LinkTokens]:
        """A new oauth_token and refresh code; the old refresh code stops at once (D34). Not retried: a
        repeat would present a spent refresh code, which revokes every token of the link."""
        scoped = id_str(org_scoped_id, "org_scoped_id")
        # After a lost answer, start the link again (reuse detection, D34).
        return Call("POST", "/sso_authorize_refresh_code", params(org_scoped_id=scoped, refresh_code=refresh_code),
                    LinkTokens.parser(scoped))

    @endpoint
    def me(self, oauth_token: str, *, fields: Sequence[ProfileField] = ME_FIELDS) -> Call[User]:
        """``GET /me`` with an oauth_token: ``id`` is the org-scoped id; only ``id`` and ``alias`` (D33)."""
        return me_call(fields, oauth_token)


class AccountLinking(_AccountLinking[Client]):
    """``client.account_linking``: the SSO page URL, the fragment, code exchange and refresh (§5).
    The exchange and refresh need the app token of an app of the organization."""


class AsyncAccountLinking(_AccountLinking[AsyncClient]):
    """``AsyncClient.account_linking``: the methods of ``AccountLinking``, awaited (the URL helpers are not)."""


def _code_and_id(code: str | LinkFragment, org_scoped_id: Id | None) -> tuple[str, Id]:
    if isinstance(code, LinkFragment):
        return code.code, org_scoped_id if org_scoped_id is not None else code.org_scoped_id
    if org_scoped_id is None:
        raise ValueError("exchange_code needs org_scoped_id (or pass the LinkFragment)")
    return code, org_scoped_id
