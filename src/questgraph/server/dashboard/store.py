"""The dashboard's tables (dashboard_members, dashboard_sessions, dashboard_audit) in portable SQL: SQLite
and PostgreSQL run the same text (``db/core.py``)."""

from __future__ import annotations

from questgraph.server.dashboard.records import NO_SEARCH, AuditEvent, AuditSearch, DashboardMember, DashboardSession
from questgraph.server.db.core import Database

_MEMBER = "SELECT id, org_id, email, name, role, password_hash, created_at FROM dashboard_members"
_SESSION = "SELECT session_hash, org_id, member_id, actor, role, created_at, expires_at FROM dashboard_sessions"
_AUDIT = "SELECT id, at, org_id, actor, action, target, detail FROM dashboard_audit"


class DashboardStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def insert_dashboard_member(self, org_id: int, email: str, name: str, role: str, password_hash: str | None,
                                created_at: int) -> int:
        """The new member's id; the caller checks ``find_dashboard_member`` first, inside the same
        transaction, so no unique-key failure reaches the database."""
        return self.db.insert_id("INSERT INTO dashboard_members (org_id, email, name, role, password_hash, created_at) "
                                 "VALUES (?, ?, ?, ?, ?, ?)", (org_id, email, name, role, password_hash, created_at))

    def find_dashboard_member(self, org_id: int, email: str) -> DashboardMember | None:
        row = self.db.one(_MEMBER + " WHERE org_id = ? AND email = ?", (org_id, email))
        return None if row is None else DashboardMember(*row)

    def find_dashboard_members_by_email(self, email: str) -> list[DashboardMember]:
        return [DashboardMember(*r) for r in self.db.all(_MEMBER + " WHERE email = ? ORDER BY id", (email,))]

    def get_dashboard_member(self, member_id: int) -> DashboardMember | None:
        row = self.db.one(_MEMBER + " WHERE id = ?", (member_id,))
        return None if row is None else DashboardMember(*row)

    def list_dashboard_members(self, org_id: int) -> list[DashboardMember]:
        return [DashboardMember(*r) for r in self.db.all(_MEMBER + " WHERE org_id = ? ORDER BY id", (org_id,))]

    def update_dashboard_member(self, member_id: int, role: str, password_hash: str | None) -> None:
        self.db.run("UPDATE dashboard_members SET role = ?, password_hash = COALESCE(?, password_hash) WHERE id = ?",
                    (role, password_hash, member_id))

    def delete_dashboard_member(self, member_id: int) -> None:
        """The member and every session of theirs (signed out everywhere at once)."""
        with self.db.transaction():
            self.db.run("DELETE FROM dashboard_sessions WHERE member_id = ?", (member_id,))
            self.db.run("DELETE FROM dashboard_members WHERE id = ?", (member_id,))

    def insert_dashboard_session(self, session: DashboardSession) -> None:
        self.db.run("INSERT INTO dashboard_sessions (session_hash, org_id, member_id, actor, role, created_at, "
                    "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (session.session_hash, session.org_id, session.member_id, session.actor, session.role,
                     session.created_at, session.expires_at))

    def get_dashboard_session(self, session_hash: str) -> DashboardSession | None:
        row = self.db.one(_SESSION + " WHERE session_hash = ?", (session_hash,))
        return None if row is None else DashboardSession(*row)

    def delete_dashboard_session(self, session_hash: str) -> None:
        self.db.run("DELETE FROM dashboard_sessions WHERE session_hash = ?", (session_hash,))

    def prune_dashboard_sessions(self, now: int) -> None:
        self.db.run("DELETE FROM dashboard_sessions WHERE expires_at <= ?", (now,))

    def insert_audit_event(self, at: int, org_id: int | None, actor: str, action: str, target: str,
                           detail: str) -> int:
        return self.db.insert_id("INSERT INTO dashboard_audit (at, org_id, actor, action, target, detail) "
                                 "VALUES (?, ?, ?, ?, ?, ?)", (at, org_id, actor, action, target, detail))

    def list_audit_events(self, org_id: int | None, limit: int, before_id: int | None = None,
                          search: AuditSearch = NO_SEARCH) -> list[AuditEvent]:
        """Newest first; ``org_id`` None lists every organization's events (emulator-wide actions included).
        ``search`` narrows them: action and actor contain the text (any case), at within since..until."""
        where: list[str] = []
        params: list[int | str] = []
        if org_id is not None:
            where.append("(org_id = ? OR org_id IS NULL)")  # emulator-wide actions concern every organization
            params.append(org_id)
        if before_id is not None:
            where.append("id < ?")
            params.append(before_id)
        for column, text in (("action", search.action), ("actor", search.actor)):
            if text:
                # LOWER on both sides: SQLite's LIKE ignores ASCII case, PostgreSQL's does not.
                where.append(f"LOWER({column}) LIKE ? ESCAPE '!'")
                params.append("%" + _like_escape(text.lower()) + "%")
        if search.since is not None:
            where.append("at >= ?")
            params.append(search.since)
        if search.until is not None:
            where.append("at <= ?")
            params.append(search.until)
        sql = _AUDIT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC LIMIT ?"
        return [AuditEvent(*r) for r in self.db.all(sql, [*params, limit])]


def _like_escape(text: str) -> str:
    """The text as a LIKE pattern matching itself (with ESCAPE '!')."""
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
