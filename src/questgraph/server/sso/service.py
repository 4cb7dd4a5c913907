"""Account linking (graph-api.md §5, D30-D35): the rules behind the SSO page and the two Graph endpoints.
No HTTP here. The page (pages.py) and the Graph views (views.py) call this; so does the admin API.

Vocabulary: a *session* is a browser's sign-in on the SSO page; a *code* is what the page hands the studio
in the redirect fragment; a *link* is one grant made by exchanging a code: the oauth_tokens and refresh codes
issued from it all die with it. Every secret is random, shown once, stored only as its SHA-256 digest and
looked up by it (D11); passwords are scrypt hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import string
from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import urlsplit

from questgraph.server.auth.callers import LinkCaller
from questgraph.server.auth.secrets import digest
from questgraph.server.clock import Clock
from questgraph.server.db import Database
from questgraph.server.errors import Forbidden, InvalidParameter, InvalidToken, NotFound
from questgraph.server.identity import IdentityService
from questgraph.server.identity.records import App, Org, OrgMember, Person
from questgraph.server.identity.service import valid_redirect_uri
from questgraph.server.identity.store import IdentityStore
from questgraph.server.sso.limiter import LoginLimiter, TooManyAttempts
from questgraph.server.sso.records import SsoCode, SsoLink, SsoRefreshCode, SsoSession, SsoToken
from questgraph.server.sso.store import SsoStore

_ALNUM = string.ascii_letters + string.digits
OAUTH_TOKEN_LENGTH = 96  # after "OCAe": 100 characters in all, as the tokens seen in the wild (§0.6, D11)
CODE_LENGTH = 64  # code and refresh_code (D11)
CODE_TTL_SECONDS = 10 * 60  # D32
TOKEN_TTL_SECONDS = 30 * 24 * 3600  # D33
SESSION_TTL_SECONDS = 60 * 60  # a browser sign-in on the SSO page lasts one hour
_OAUTH_TOKEN = re.compile(r"OCAe[A-Za-z0-9]{60,200}")
_CODE = re.compile(r"[A-Za-z0-9]{64}")
_SESSION = re.compile(r"[A-Za-z0-9_-]{43}")
CHILD = "CH"  # age category of users under 13 (D10, D35)
MAX_PICKER_USERS = 200
# Sign-in rate limits (production mode): failures per username and per client address in a window, counted
# by the limiter the dashboard's sign-in shares (sso/limiter.py).
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
# scrypt: memory-hard (n * r * 128 bytes = 16 MiB per hash); parameters are stored with each hash.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_CSRF_CONTEXT = b"questgraph-sso-csrf-v1"


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def new_oauth_token() -> str:
    return "OCAe" + _random(OAUTH_TOKEN_LENGTH)


def new_code() -> str:
    return _random(CODE_LENGTH)


# --- passwords ------------------------------------------------------------------------------------------
def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, maxmem=64 * 1024 * 1024)
    salt_text, key_text = base64.b64encode(salt).decode(), base64.b64encode(key).decode()
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt_text}${key_text}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                                maxmem=64 * 1024 * 1024, dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# A hash to check unknown usernames against, so that a wrong username costs as much time as a wrong password.
_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_hex(16))
    return _DUMMY_HASH


def check_password_rules(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidParameter(f"Param password must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters")


# --- redirect URIs (D30) --------------------------------------------------------------------------------
def _uri_key(uri: str) -> tuple[str, str, int, str, bool, str] | None:
    """What must be equal for two redirect URIs to be the same destination: scheme and host (case-insensitive,
    as RFC 3986 says), port (the default one made explicit), and path and query exactly as written. None
    for anything we never redirect to: userinfo, a fragment, backslashes, spaces, controls, non-ASCII."""
    if not uri or len(uri) > 2048 or any(c in uri for c in "\\#@ \t\r\n") or not uri.isascii() \
            or any(ord(c) < 0x20 or ord(c) == 0x7F for c in uri):
        return None
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or not uri.lower().startswith(scheme + "://"):
        return None
    if port is None:
        port = 443 if scheme == "https" else 80
    # An empty query ("…/callback?") is a different URI from none: the "?" counts.
    return scheme, parts.hostname.lower(), port, parts.path, "?" in uri, parts.query


def match_redirect_uri(requested: str, registered: list[str]) -> str | None:
    """The registered URI that ``requested`` names, or None (D30). We redirect to the registered string,
    never to the request's own spelling of it."""
    if requested in registered:
        return requested
    key = _uri_key(requested)
    if key is None:
        return None
    for uri in registered:
        if _uri_key(uri) == key:
            return uri
    return None


class LinkRefused(Exception):
    """Why the SSO page cannot continue; the page shows it and redirects nowhere (D30, D35)."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


@dataclass(frozen=True)
class LinkRequest:
    """A checked ``/sso/`` request: the organization and the registered URI it will return to."""

    org: Org
    redirect_uri: str


@dataclass(frozen=True)
class Grant:
    oauth_token: str
    refresh_code: str


@dataclass(frozen=True)
class LinkView:
    link: SsoLink
    alias: str
    live_tokens: int


class _LostRace(Exception):
    """The conditional update found the code already used (a concurrent exchange won)."""


class SsoService:
    def __init__(self, db: Database, store: SsoStore, identity_store: IdentityStore, clock: Clock,
                 identity: IdentityService) -> None:
        self.db = db
        self.store = store
        self.identity_store = identity_store
        self.clock = clock
        self.identity = identity
        self.login_limiter = LoginLimiter(db, store, clock)  # subjects "alias:…" and "client:…"

    # --- redirect URIs (D30) ----------------------------------------------------------------------
    def add_redirect_uri(self, org_id: int, uri: str) -> None:
        """Register an SSO redirect URI; later requests must match it exactly (D30)."""
        self.identity.org(org_id)
        if not valid_redirect_uri(uri):
            raise InvalidParameter("Param redirect_uri must be an absolute http(s) URI with a host, without "
                                   "spaces or a fragment, at most 2048 characters")
        self.store.add_redirect_uri(org_id, uri)

    def redirect_uris(self, org_id: int) -> list[str]:
        """The organization's registered redirect URIs (NotFound for an unknown organization)."""
        return self.store.list_redirect_uris(self.identity.org(org_id).id)

    # --- the page's request -----------------------------------------------------------------------
    def check_request(self, organization_id: str | None, redirect_uri: str | None) -> LinkRequest:
        """The organization and its registered redirect URI, or LinkRefused saying what is wrong (D30)."""
        if organization_id is None or not organization_id.strip():
            raise LinkRefused(400, "Missing organization", "The request has no organization_id parameter. "
                              "The app that sent you here must name its organization.")
        text = organization_id.strip()
        if not text.isdigit() or len(text) > 19 or int(text) > 2**63 - 1:
            raise LinkRefused(400, "Unknown organization",
                              "The organization_id parameter is not an organization id (a number).")
        org = self.identity_store.get_org(int(text))
        if org is None:
            raise LinkRefused(400, "Unknown organization", f"No organization has the id {text}.")
        if redirect_uri is None or not redirect_uri.strip():
            raise LinkRefused(400, "Missing return address", "The request has no redirect_uri parameter, so "
                              "there is nowhere to send you back to.")
        registered = match_redirect_uri(redirect_uri, self.store.list_redirect_uris(org.id))
        if registered is None:
            raise LinkRefused(400, "Unregistered return address",
                              f"The redirect_uri is not a login URL registered by {org.name}. It must match a "
                              "registered URL exactly (scheme, host, port and path), so you were not sent "
                              "anywhere.")
        return LinkRequest(org, registered)

    # --- browser sessions -------------------------------------------------------------------------
    def new_session(self, person_id: int | None) -> str:
        """A new session; the cookie value is returned once and stored only as a digest."""
        now = self.clock.now()
        value = secrets.token_urlsafe(32)
        self.store.prune_sso_sessions(now)
        self.store.insert_sso_session(SsoSession(digest(value), person_id, now, now + SESSION_TTL_SECONDS))
        return value

    def session(self, value: str | None) -> SsoSession | None:
        if value is None or not _SESSION.fullmatch(value):
            return None
        found = self.store.get_sso_session(digest(value))
        if found is None or found.expires_at <= self.clock.now():
            return None
        return found

    def end_session(self, value: str) -> None:
        self.store.delete_sso_session(digest(value))

    @staticmethod
    def csrf_token(session_value: str) -> str:
        """The form token of a session: an HMAC keyed by the session secret (which only the browser and,
        hashed, the server hold), so a page of another site can neither read nor forge it."""
        return hmac.new(session_value.encode(), _CSRF_CONTEXT, hashlib.sha256).hexdigest()

    def check_csrf(self, session_value: str | None, sent: str | None) -> bool:
        if session_value is None or sent is None or self.session(session_value) is None:
            return False
        return hmac.compare_digest(self.csrf_token(session_value).encode(), sent.encode())

    # --- sign-in ----------------------------------------------------------------------------------
    def test_users(self, org_id: int) -> list[OrgMember]:
        """Emulator mode: the people the organization knows (they have an org-scoped id in it)."""
        return self.identity_store.list_org_members(org_id, MAX_PICKER_USERS)

    def sign_in_test_user(self, org_id: int, org_scoped_id: str | None) -> Person:
        text = (org_scoped_id or "").strip()
        member = self.identity_store.find_org_member(int(text)) if text.isdigit() and len(text) <= 18 else None
        if member is None or member.org_id != org_id:
            raise LinkRefused(400, "Choose a test user", "Choose one of the test users listed.")
        return member.person

    def sign_in_password(self, alias: str | None, password: str | None, client: str) -> Person:
        """Production mode: username and password, with failures rate-limited per username and per client."""
        alias, password = (alias or "").strip(), password or ""
        try:
            self.login_limiter.check(alias, client)
        except TooManyAttempts:
            raise LinkRefused(429, "Too many attempts", "Too many failed sign-in attempts. Wait "
                              f"{self.login_limiter.window_minutes} minutes and try again.") from None
        if not alias or not password or len(password) > MAX_PASSWORD_LENGTH:
            raise LinkRefused(400, "Sign-in failed", "Enter your username and password.")
        person_id = self.identity_store.find_person_by_alias(alias)
        stored = self.store.get_password_hash(person_id) if person_id is not None else None
        ok = verify_password(password, stored or _dummy_hash()) and stored is not None
        person = self.identity_store.get_person(person_id) if ok and person_id is not None else None
        if person is None:
            self.login_limiter.failed(alias, client)
            raise LinkRefused(400, "Sign-in failed", "The username or password is not right.")
        self.login_limiter.succeeded(alias)
        return person

    def set_password(self, person_id: int, password: str) -> None:
        check_password_rules(password)
        self.store.set_password_hash(person_id, hash_password(password), self.clock.now())

    def person(self, person_id: int) -> Person:
        person = self.identity_store.get_person(person_id)
        if person is None:
            raise LinkRefused(400, "Signed out", "Your account no longer exists. Sign in again.")
        return person

    # --- consent: issuing the code (D31, D32, D35) ------------------------------------------------
    def org_scoped_id(self, org_id: int, person_id: int) -> int:
        """The person's id in the organization; made on first use for a person who has none yet (D10)."""
        known = self.identity_store.get_org_scoped_id(org_id, person_id)
        if known is not None:
            return known
        with self.db.transaction():
            org_scoped_id = self.identity.claim_id("org_user")
            self.identity_store.insert_org_user(org_scoped_id, org_id, person_id)
        return org_scoped_id

    def issue_code(self, request: LinkRequest, person: Person) -> str:
        """The redirect target after consent: the registered URI and the base64 JSON fragment (D31)."""
        if person.age_category == CHILD:
            raise LinkRefused(403, "Account linking isn't available", "Account linking isn't available for "
                              "people under 13.")
        org_scoped_id = self.org_scoped_id(request.org.id, person.id)
        code = new_code()
        now = self.clock.now()
        self.store.insert_sso_code(SsoCode(digest(code), request.org.id, org_scoped_id, person.id,
                                           request.redirect_uri, now, now + CODE_TTL_SECONDS, None, None))
        payload = json.dumps({"code": code, "org_scoped_id": str(org_scoped_id),
                              "org-scoped_id": str(org_scoped_id)}, separators=(",", ":"))
        return f"{request.redirect_uri}#{base64.b64encode(payload.encode()).decode()}"

    # --- Graph: code exchange and refresh (D32-D34) -----------------------------------------------
    def exchange_code(self, app: App, code: str, org_scoped_id: int, redirect_uri: str | None) -> Grant:
        now = self.clock.now()
        code_hash = digest(code)
        stored = self.store.get_sso_code(code_hash) if _CODE.fullmatch(code) else None
        if stored is None:
            raise InvalidParameter("Param code is not a valid authorization code")
        if stored.used_at is not None:
            self._code_reused(stored)
        if stored.org_id != app.org_id:
            raise InvalidParameter("Param code was not issued to this app's organization")
        if stored.org_scoped_id != org_scoped_id:
            raise InvalidParameter("Param org_scoped_id is not the org-scoped id the code was issued for")
        if redirect_uri is not None and match_redirect_uri(redirect_uri, [stored.redirect_uri]) is None:
            raise InvalidParameter("Param redirect_uri is not the redirect URI the code was issued for")
        if stored.expires_at <= now:
            raise InvalidParameter("Param code has expired (codes are valid for 10 minutes)")
        self._refuse_child(stored.person_id)
        try:
            with self.db.transaction():
                if not self.store.use_sso_code(code_hash, now):
                    raise _LostRace
                link = SsoLink(self.identity.claim_id("sso_link"), stored.org_id, stored.org_scoped_id,
                               stored.person_id, app.id, now, None, None, None)
                self.store.insert_sso_link(link)
                self.store.set_sso_code_link(code_hash, link.id)
                return self._grant(link.id, now)
        except _LostRace:
            fresh = self.store.get_sso_code(code_hash)
            self._code_reused(fresh or stored)

    def _code_reused(self, stored: SsoCode) -> NoReturn:
        # D32: a code seen twice has leaked; whatever its first use issued is revoked.
        if stored.link_id is not None:
            self.store.revoke_sso_link(stored.link_id, self.clock.now(), "authorization code used twice")
        raise InvalidParameter("Param code has already been used; the tokens issued from it are revoked")

    def refresh(self, app: App, org_scoped_id: int, refresh_code: str) -> Grant:
        now = self.clock.now()
        code_hash = digest(refresh_code)
        stored = self.store.get_sso_refresh_code(code_hash) if _CODE.fullmatch(refresh_code) else None
        link = self.store.get_sso_link(stored.link_id) if stored is not None else None
        if stored is None or link is None:
            raise InvalidParameter("Param refresh_code is not a valid refresh code")
        if link.org_id != app.org_id:
            raise InvalidParameter("Param refresh_code was not issued to this app's organization")
        if stored.used_at is not None:
            # D34: a rotated refresh code presented again has leaked; the whole link goes.
            self.store.revoke_sso_link(link.id, now, "refresh code used twice")
            raise InvalidParameter("Param refresh_code has already been used; every token of this account link "
                                   "is revoked")
        if link.org_scoped_id != org_scoped_id:
            raise InvalidParameter("Param org_scoped_id is not the org-scoped id of this refresh code")
        if link.revoked_at is not None:
            raise InvalidParameter("Param refresh_code belongs to a revoked account link; link the account again")
        self._refuse_child(link.person_id)
        with self.db.transaction():
            if not self.store.use_sso_refresh_code(code_hash, now):
                raise InvalidParameter("Param refresh_code has already been used")
            self.store.touch_sso_link(link.id, now)
            return self._grant(link.id, now)

    def _grant(self, link_id: int, now: int) -> Grant:
        token, refresh_code = new_oauth_token(), new_code()
        self.store.insert_sso_token(SsoToken(digest(token), link_id, now, now + TOKEN_TTL_SECONDS))
        self.store.insert_sso_refresh_code(SsoRefreshCode(digest(refresh_code), link_id, now, None))
        return Grant(token, refresh_code)

    def _refuse_child(self, person_id: int) -> None:
        person = self.identity_store.get_person(person_id)
        if person is None or person.age_category == CHILD:
            raise Forbidden("Account linking is not available for users under 13")

    # --- oauth_tokens as callers (D33) ------------------------------------------------------------
    def resolve_link(self, token: str) -> LinkCaller | None:
        """The link behind an SSO oauth_token; None when the token is not one of ours (Authenticator then
        tries user tokens); InvalidToken when it is ours but expired or revoked."""
        if not _OAUTH_TOKEN.fullmatch(token):
            return None
        stored = self.store.get_sso_token(digest(token))
        if stored is None:
            return None
        link = self.store.get_sso_link(stored.link_id)
        if link is None or link.revoked_at is not None:
            raise InvalidToken("Error validating access token: the account link of this token has been revoked.")
        if stored.expires_at <= self.clock.now():
            raise InvalidToken("Error validating access token: Session has expired.")
        return LinkCaller(link.org_id, link.org_scoped_id, link.person_id)

    # --- control plane ----------------------------------------------------------------------------
    def person_of(self, user_or_org_scoped_id: int) -> Person:
        """The person behind an app-scoped user id or an org-scoped id (both are global ids, D9)."""
        user = self.identity_store.get_user(user_or_org_scoped_id)
        person_id = user.person_id if user is not None else None
        if person_id is None:
            member = self.identity_store.find_org_member(user_or_org_scoped_id)
            person_id = member.person.id if member is not None else None
        person = self.identity_store.get_person(person_id) if person_id is not None else None
        if person is None:
            raise NotFound(f"User {user_or_org_scoped_id} does not exist")
        return person

    def links(self, person: Person) -> list[LinkView]:
        now = self.clock.now()
        return [LinkView(link, person.alias, 0 if link.revoked_at is not None
                         else self.store.count_live_sso_tokens(link.id, now))
                for link in self.store.list_sso_links(person.id)]

    def revoke(self, link_id: int) -> SsoLink:
        link = self.store.get_sso_link(link_id)
        if link is None:
            raise NotFound(f"Account link {link_id} does not exist")
        self.store.revoke_sso_link(link_id, self.clock.now(), "revoked by an administrator")
        revoked = self.store.get_sso_link(link_id)
        assert revoked is not None
        return revoked
