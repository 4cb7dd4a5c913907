"""Account linking's tables (sso_passwords, sso_login_failures, sso_sessions, sso_links, sso_codes,
sso_tokens, sso_refresh_codes, redirect_uris) in portable SQL, shared by SQLite and PostgreSQL
(``db/core.py``); single use is a conditional ``UPDATE … WHERE used_at IS NULL`` whose row count says
who won (D32, D34)."""

from __future__ import annotations

from questgraph.server.db.core import Database
from questgraph.server.sso.records import SsoCode, SsoLink, SsoRefreshCode, SsoSession, SsoToken

_LINK = ("id, org_id, org_scoped_id, person_id, app_id, created_at, refreshed_at, revoked_at, "
         "revoked_why")
_CODE = ("code_hash, org_id, org_scoped_id, person_id, redirect_uri, created_at, expires_at, used_at, "
         "link_id")


class SsoStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- redirect URIs (D30) ----------------------------------------------------------------------
    def add_redirect_uri(self, org_id: int, uri: str) -> None:
        self.db.run("INSERT INTO redirect_uris VALUES (?, ?) ON CONFLICT DO NOTHING", (org_id, uri))

    def list_redirect_uris(self, org_id: int) -> list[str]:
        return [r[0] for r in self.db.all("SELECT uri FROM redirect_uris WHERE org_id = ? ORDER BY uri", (org_id,))]

    # --- passwords and rate limits ----------------------------------------------------------------
    def set_password_hash(self, person_id: int, password_hash: str, now: int) -> None:
        self.db.run("INSERT INTO sso_passwords VALUES (?, ?, ?) ON CONFLICT(person_id) DO UPDATE SET "
                    "password_hash = excluded.password_hash, updated_at = excluded.updated_at",
                    (person_id, password_hash, now))

    def get_password_hash(self, person_id: int) -> str | None:
        row = self.db.one("SELECT password_hash FROM sso_passwords WHERE person_id = ?", (person_id,))
        return None if row is None else str(row[0])

    def add_login_failure(self, subject: str, at: int) -> None:
        self.db.run("INSERT INTO sso_login_failures VALUES (?, ?)", (subject, at))

    def count_login_failures(self, subject: str, since: int) -> int:
        return int(self.db.one("SELECT COUNT(*) FROM sso_login_failures WHERE subject = ? AND at >= ?",
                               (subject, since))[0])

    def clear_login_failures(self, subject: str) -> None:
        self.db.run("DELETE FROM sso_login_failures WHERE subject = ?", (subject,))

    def prune_login_failures(self, before: int) -> None:
        self.db.run("DELETE FROM sso_login_failures WHERE at < ?", (before,))

    # --- sessions ---------------------------------------------------------------------------------
    def insert_sso_session(self, session: SsoSession) -> None:
        self.db.run("INSERT INTO sso_sessions VALUES (?, ?, ?, ?)",
                    (session.session_hash, session.person_id, session.created_at, session.expires_at))

    def get_sso_session(self, session_hash: str) -> SsoSession | None:
        row = self.db.one("SELECT session_hash, person_id, created_at, expires_at FROM sso_sessions "
                          "WHERE session_hash = ?", (session_hash,))
        return None if row is None else SsoSession(*row)

    def delete_sso_session(self, session_hash: str) -> None:
        self.db.run("DELETE FROM sso_sessions WHERE session_hash = ?", (session_hash,))

    def prune_sso_sessions(self, now: int) -> None:
        self.db.run("DELETE FROM sso_sessions WHERE expires_at <= ?", (now,))

    # --- codes, links, tokens ---------------------------------------------------------------------
    def insert_sso_code(self, code: SsoCode) -> None:
        self.db.run(f"INSERT INTO sso_codes ({_CODE}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (code.code_hash, code.org_id, code.org_scoped_id, code.person_id, code.redirect_uri,
                     code.created_at, code.expires_at, code.used_at, code.link_id))

    def get_sso_code(self, code_hash: str) -> SsoCode | None:
        row = self.db.one(f"SELECT {_CODE} FROM sso_codes WHERE code_hash = ?", (code_hash,))
        return None if row is None else SsoCode(*row)

    def use_sso_code(self, code_hash: str, now: int) -> bool:
        """Mark the code used; True for exactly one caller (a conditional update, D32)."""
        cursor = self.db.run("UPDATE sso_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL",
                             (now, code_hash))
        return cursor.rowcount == 1

    def set_sso_code_link(self, code_hash: str, link_id: int) -> None:
        self.db.run("UPDATE sso_codes SET link_id = ? WHERE code_hash = ?", (link_id, code_hash))

    def insert_sso_link(self, link: SsoLink) -> None:
        self.db.run(f"INSERT INTO sso_links ({_LINK}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (link.id, link.org_id, link.org_scoped_id, link.person_id, link.app_id, link.created_at,
                     link.refreshed_at, link.revoked_at, link.revoked_why))

    def get_sso_link(self, link_id: int) -> SsoLink | None:
        row = self.db.one(f"SELECT {_LINK} FROM sso_links WHERE id = ?", (link_id,))
        return None if row is None else SsoLink(*row)

    def list_sso_links(self, person_id: int) -> list[SsoLink]:
        rows = self.db.all(f"SELECT {_LINK} FROM sso_links WHERE person_id = ? ORDER BY created_at, id", (person_id,))
        return [SsoLink(*r) for r in rows]

    def revoke_sso_link(self, link_id: int, now: int, why: str) -> bool:
        """Revoke the link and so every token of it; True when it was active."""
        cursor = self.db.run("UPDATE sso_links SET revoked_at = ?, revoked_why = ? WHERE id = ? AND revoked_at IS NULL",
                             (now, why, link_id))
        return cursor.rowcount == 1

    def touch_sso_link(self, link_id: int, now: int) -> None:
        self.db.run("UPDATE sso_links SET refreshed_at = ? WHERE id = ?", (now, link_id))

    def insert_sso_token(self, token: SsoToken) -> None:
        self.db.run("INSERT INTO sso_tokens VALUES (?, ?, ?, ?)",
                    (token.token_hash, token.link_id, token.created_at, token.expires_at))

    def get_sso_token(self, token_hash: str) -> SsoToken | None:
        row = self.db.one("SELECT token_hash, link_id, created_at, expires_at FROM sso_tokens WHERE token_hash = ?",
                          (token_hash,))
        return None if row is None else SsoToken(*row)

    def count_live_sso_tokens(self, link_id: int, now: int) -> int:
        return int(self.db.one("SELECT COUNT(*) FROM sso_tokens WHERE link_id = ? AND expires_at > ?",
                               (link_id, now))[0])

    def insert_sso_refresh_code(self, code: SsoRefreshCode) -> None:
        self.db.run("INSERT INTO sso_refresh_codes VALUES (?, ?, ?, ?)",
                    (code.code_hash, code.link_id, code.created_at, code.used_at))

    def get_sso_refresh_code(self, code_hash: str) -> SsoRefreshCode | None:
        row = self.db.one("SELECT code_hash, link_id, created_at, used_at FROM sso_refresh_codes WHERE code_hash = ?",
                          (code_hash,))
        return None if row is None else SsoRefreshCode(*row)

    def use_sso_refresh_code(self, code_hash: str, now: int) -> bool:
        """Mark the refresh code used; True for exactly one caller (rotation, D34)."""
        cursor = self.db.run("UPDATE sso_refresh_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL",
                             (now, code_hash))
        return cursor.rowcount == 1
