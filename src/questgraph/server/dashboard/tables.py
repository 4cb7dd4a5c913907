"""The web dashboard's tables: members of an organization who sign in to /dashboard, their browser
sessions (stored only as the SHA-256 of the cookie value, D11), and the audit log of every admin action.
Times are server-clock Unix seconds (D36)."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Index, Table, UniqueConstraint

from questgraph.server.db.columns import generated_key, integer, ref, text
from questgraph.server.db.tables import metadata

dashboard_members = Table(
    "dashboard_members", metadata,
    generated_key(),
    ref("org_id", "orgs.id"),
    text("email"),
    text("name"),
    text("role", CheckConstraint("role IN ('admin', 'developer')")),
    text("password_hash", nullable=True),
    integer("created_at"),
    UniqueConstraint("org_id", "email"),
)

dashboard_sessions = Table(
    "dashboard_sessions", metadata,
    text("session_hash", primary_key=True),
    ref("org_id", "orgs.id"),
    ref("member_id", "dashboard_members.id", nullable=True),
    text("actor"),
    text("role"),
    integer("created_at"),
    integer("expires_at"),
    Index("dashboard_sessions_by_member", "member_id"),
)

# No foreign key to orgs: the log outlives what it describes (an org may be re-created by a reset).
dashboard_audit = Table(
    "dashboard_audit", metadata,
    generated_key(),
    integer("at"),
    integer("org_id", nullable=True),
    text("actor"),
    text("action"),
    text("target"),
    text("detail"),
    Index("dashboard_audit_by_org", "org_id", "id"),
)
