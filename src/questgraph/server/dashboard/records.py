"""Dashboard records: organization members who sign in to /dashboard, their browser sessions,
and the durable audit log of every admin action.

Secrets never reach this layer in the clear: a session is keyed by the SHA-256 of its cookie value (D11)
and a password is a scrypt string (as the SSO page's, D34). Members and audit events take ids from the
backend (``INTEGER PRIMARY KEY`` here, an identity column in PostgreSQL): they are not Graph objects, so
they claim no global object id (D9).
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("admin", "developer")


@dataclass(frozen=True, slots=True)
class DashboardMember:
    id: int
    org_id: int
    email: str
    name: str
    role: str  # one of ROLES
    password_hash: str | None  # None: cannot sign in with a password (emulator one-click only)
    created_at: int


@dataclass(frozen=True, slots=True)
class DashboardSession:
    session_hash: str
    org_id: int
    member_id: int | None  # None for the emulator's one-click localhost admin
    actor: str  # who the audit log names
    role: str
    created_at: int
    expires_at: int


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    at: int  # server clock, Unix seconds (D36)
    org_id: int | None
    actor: str
    action: str  # e.g. "app.rotate_secret"
    target: str  # the object acted on, e.g. "app 1234"
    detail: str  # never a secret or token: callers pass masked values only


@dataclass(frozen=True, slots=True)
class AuditSearch:
    """What the audit log page narrows to: text the action and the actor contain, and a time range."""

    action: str = ""
    actor: str = ""
    since: int | None = None  # Unix seconds, inclusive
    until: int | None = None


NO_SEARCH = AuditSearch()
