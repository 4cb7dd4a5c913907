"""Dashboard storage (issue 7): organization members who sign in to /dashboard, their browser sessions,
and the durable audit log of every admin action.

Secrets never reach this layer in the clear: a session is keyed by the SHA-256 of its cookie value (D11)
and a password is a scrypt string (as the SSO page's, D34). Members and audit events take ids from the
backend (``INTEGER PRIMARY KEY`` here, an identity column in PostgreSQL): they are not Graph objects, so
they claim no global object id (D9).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

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


class DashboardStore(Protocol):
    def insert_dashboard_member(self, org_id: int, email: str, name: str, role: str, password_hash: str | None,
                                created_at: int) -> int:
        """The new member's id; ``sqlite3.IntegrityError``-like failure is avoided by the caller checking
        ``find_dashboard_member`` first inside the same transaction."""
        ...

    def find_dashboard_member(self, org_id: int, email: str) -> DashboardMember | None: ...
    def find_dashboard_members_by_email(self, email: str) -> list[DashboardMember]: ...
    def get_dashboard_member(self, member_id: int) -> DashboardMember | None: ...
    def list_dashboard_members(self, org_id: int) -> list[DashboardMember]: ...
    def update_dashboard_member(self, member_id: int, role: str, password_hash: str | None) -> None: ...
    def delete_dashboard_member(self, member_id: int) -> None:
        """The member and every session of theirs (signed out everywhere at once)."""
        ...

    def insert_dashboard_session(self, session: DashboardSession) -> None: ...
    def get_dashboard_session(self, session_hash: str) -> DashboardSession | None: ...
    def delete_dashboard_session(self, session_hash: str) -> None: ...
    def prune_dashboard_sessions(self, now: int) -> None: ...
    def insert_audit_event(self, at: int, org_id: int | None, actor: str, action: str, target: str,
                           detail: str) -> int: ...
    def list_audit_events(self, org_id: int | None, limit: int, before_id: int | None = None) -> list[AuditEvent]:
        """Newest first; ``org_id`` None lists every organization's events (emulator-wide actions included)."""
        ...
