"""Dashboard accounts: organization members with a role, browser sessions, CSRF tokens, and the
audit log. Plain Python, no HTTP; the pages (pages.py) and the admin API (admin.py) both call it.

Roles: ``admin`` sees and rotates secrets, manages members and runs the emulator controls; ``developer``
does everything else. Passwords are scrypt strings (sso/service.py, D34); a session cookie is random and
stored only as its SHA-256 (D11); a form's CSRF token is an HMAC keyed by the session's secret value.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from questgraph.server.auth.secrets import digest
from questgraph.server.clock import Clock
from questgraph.server.dashboard.records import (
    NO_SEARCH,
    ROLES,
    AuditEvent,
    AuditSearch,
    DashboardMember,
    DashboardSession,
)
from questgraph.server.dashboard.store import DashboardStore
from questgraph.server.db import Database
from questgraph.server.errors import InvalidParameter, NotFound
from questgraph.server.identity.service import IdentityService
from questgraph.server.identity.store import IdentityStore
from questgraph.server.sso.limiter import LoginLimiter
from questgraph.server.sso.service import _dummy_hash, check_password_rules, hash_password, verify_password
from questgraph.server.sso.store import SsoStore

SESSION_TTL_SECONDS = 8 * 3600  # a working day; then sign in again
EMULATOR_ACTOR = "localhost admin (emulator)"
ADMIN_API_ACTOR = "admin API (admin key)"
_SESSION = re.compile(r"[A-Za-z0-9_-]{43}")
_ORG_ID = re.compile(r"[0-9]{1,18}")  # ASCII digits (str.isdigit() takes "²") that surely fit int64
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}")
_CSRF_CONTEXT = b"questgraph-dashboard-csrf-v1"
_LOGIN_CSRF_CONTEXT = b"questgraph-dashboard-login-csrf-v1"


@dataclass(frozen=True)
class Viewer:
    """Who is signed in: what every page and action checks on the server."""

    session: DashboardSession
    cookie: str  # the secret cookie value (for the CSRF token); never shown

    @property
    def org_id(self) -> int:
        return self.session.org_id

    @property
    def is_admin(self) -> bool:
        return self.session.role == "admin"

    @property
    def actor(self) -> str:
        return self.session.actor


def csrf_for(cookie: str, context: bytes = _CSRF_CONTEXT) -> str:
    """A form token another site can neither read (same-origin policy) nor compute (it lacks the cookie)."""
    return hmac.new(cookie.encode(), context, hashlib.sha256).hexdigest()


def check_csrf(cookie: str | None, sent: str | None, context: bytes = _CSRF_CONTEXT) -> bool:
    if not cookie or not sent:
        return False
    return hmac.compare_digest(csrf_for(cookie, context).encode(), sent.encode())


def login_csrf(pre_cookie: str) -> str:
    return csrf_for(pre_cookie, _LOGIN_CSRF_CONTEXT)


def check_login_csrf(pre_cookie: str | None, sent: str | None) -> bool:
    return check_csrf(pre_cookie, sent, _LOGIN_CSRF_CONTEXT)


def check_member(email: str, role: str | None, password: str | None) -> str:
    """The rules of a member (the admin API's and the world file's): the email, normalized; InvalidParameter
    naming the bad field otherwise (never repeating a password)."""
    email = email.strip().lower()
    if not _EMAIL.fullmatch(email):
        raise InvalidParameter("Param email must be an email address")
    if role is not None and role not in ROLES:
        raise InvalidParameter(f"Param role must be one of {', '.join(ROLES)}")
    if password:
        check_password_rules(password)
    return email


class DashboardService:
    def __init__(self, db: Database, store: DashboardStore, identity_store: IdentityStore, sso_store: SsoStore,
                 clock: Clock, identity: IdentityService) -> None:
        self.db = db
        self.store = store
        self.identity_store = identity_store
        self.clock = clock
        self.identity = identity
        # The SSO page's limiter (one implementation), in its own namespace: dashboard failures and SSO
        # failures never count against each other (docs/fidelity.md).
        self.login_limiter = LoginLimiter(db, sso_store, clock, "dashboard:", account_kind="email")

    # --- members ----------------------------------------------------------------------------------
    def put_member(self, org_id: int, email: str, name: str | None, role: str | None,
                   password: str | None) -> DashboardMember:
        """Create a member, or change an existing member's role (and password, when one is given)."""
        self.identity.org(org_id)
        email = check_member(email, role, password)
        hashed = hash_password(password) if password else None
        with self.db.transaction():
            existing = self.store.find_dashboard_member(org_id, email)
            if existing is None:
                member_id = self.store.insert_dashboard_member(
                    org_id, email, (name or "").strip()[:128] or email.split("@")[0], role or "developer",
                    hashed, self.clock.now())
            else:
                member_id = existing.id
                self.store.update_dashboard_member(member_id, role or existing.role, hashed)
        found = self.store.get_dashboard_member(member_id)
        assert found is not None
        return found

    def members(self, org_id: int) -> list[DashboardMember]:
        return self.store.list_dashboard_members(self.identity.org(org_id).id)

    def member(self, member_id: int) -> DashboardMember:
        found = self.store.get_dashboard_member(member_id)
        if found is None:
            raise NotFound(f"Object with ID '{member_id}' does not exist")
        return found

    def remove_member(self, member_id: int) -> DashboardMember:
        member = self.member(member_id)
        self.store.delete_dashboard_member(member.id)
        return member

    # --- sign-in and sessions ---------------------------------------------------------------------
    def _operator_now(self) -> int:
        """Session times follow the operator's real time: the emulator clock without its offset. Moving the
        emulated world a week ahead (D36) must not sign out the person who moved it (docs/fidelity.md)."""
        return self.clock.now() - self.clock.offset_us // 1_000_000

    def sign_in_password(self, email: str | None, password: str | None, client: str) -> DashboardMember | None:
        """The member whose password matches; None otherwise. An unknown email costs one scrypt too, so
        timing does not tell which emails are members. Failures are rate-limited per email and per client
        address (sso/limiter.py): TooManyAttempts, before any password is checked, once either is locked."""
        email = (email or "").strip().lower()
        self.login_limiter.check(email, client)
        found = self._match_password(email, password)
        if found is None:
            self.login_limiter.failed(email, client)
        else:
            self.login_limiter.succeeded(email)
        return found

    def _match_password(self, email: str, password: str | None) -> DashboardMember | None:
        candidates = [m for m in self.store.find_dashboard_members_by_email(email) if m.password_hash]
        if not candidates or not password:
            verify_password(password or "", _dummy_hash())
            return None
        for member in candidates:
            assert member.password_hash is not None
            if verify_password(password, member.password_hash):
                return member
        return None

    def new_session(self, org_id: int, member: DashboardMember | None, role: str, actor: str) -> str:
        """A new session; the cookie value is returned once and stored only as a digest (D11)."""
        now = self._operator_now()
        value = secrets.token_urlsafe(32)
        self.store.prune_dashboard_sessions(now)
        self.store.insert_dashboard_session(DashboardSession(
            digest(value), org_id, None if member is None else member.id, actor, role, now,
            now + SESSION_TTL_SECONDS))
        return value

    def viewer(self, cookie: str | None) -> Viewer | None:
        if cookie is None or not _SESSION.fullmatch(cookie):
            return None
        found = self.store.get_dashboard_session(digest(cookie))
        if found is None or found.expires_at <= self._operator_now():
            return None
        if found.member_id is not None:
            # The role is read again on every request: a demoted or removed member loses rights at once.
            member = self.store.get_dashboard_member(found.member_id)
            if member is None:
                return None
            if member.role != found.role:
                found = DashboardSession(found.session_hash, found.org_id, found.member_id, found.actor,
                                         member.role, found.created_at, found.expires_at)
        if self.identity_store.get_org(found.org_id) is None:
            return None
        return Viewer(found, cookie)

    def end_session(self, cookie: str) -> None:
        self.store.delete_dashboard_session(digest(cookie))

    # --- audit log --------------------------------------------------------------------------------
    def audit(self, org_id: int | None, actor: str, action: str, target: str, detail: str = "") -> None:
        """Record one admin action. Callers pass names and ids only, never a secret or token value."""
        self.store.insert_audit_event(self.clock.now(), org_id, actor[:200], action[:100], target[:200],
                                      detail[:1000])

    def audit_log(self, org_id: int | None, limit: int = 100, before_id: int | None = None,
                  search: AuditSearch = NO_SEARCH) -> list[AuditEvent]:
        return self.store.list_audit_events(org_id, min(max(limit, 1), 500), before_id, search)

    def audit_admin_call(self, method: str, path: str, params: list[tuple[str, str]]) -> None:
        """An admin API call that changed something: its route, and the names (never the values) of its
        parameters, which may carry a secret, a password or a token. A reset or a snapshot import replaces the
        whole state, the log included, with a given one: logging it would make "reset to empty" not empty
        and an import not equal to its snapshot, so those two are left out (docs/fidelity.md)."""
        parts = path.strip("/").split("/")
        if parts[1:] in (["reset"], ["snapshot"]):
            return
        org_id = int(parts[2]) if len(parts) > 2 and parts[1] == "orgs" and _ORG_ID.fullmatch(parts[2]) else None
        action = method + " /" + "/".join("{id}" if p.isascii() and p.isdigit() else p for p in parts)
        names = sorted({k for k, _ in params if k != "access_token"})
        self.audit(org_id, ADMIN_API_ACTOR, action, path, "params: " + ", ".join(names) if names else "")
