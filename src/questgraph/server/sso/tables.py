"""Account linking's tables (SSO, D30-D35). Every secret (session, code, oauth_token, refresh_code) is
stored only as its SHA-256 digest (D11); passwords as a scrypt string. Times are server-clock Unix
seconds (D36). A link is one grant: one code exchange and every token and refresh code issued from it."""

from __future__ import annotations

from sqlalchemy import Index, PrimaryKeyConstraint, Table

from questgraph.server.db.columns import integer, key, ref, text
from questgraph.server.db.tables import metadata

redirect_uris = Table("redirect_uris", metadata, ref("org_id", "orgs.id"), text("uri"),
                      PrimaryKeyConstraint("org_id", "uri"))

sso_passwords = Table("sso_passwords", metadata, key("person_id", references="persons.id"),
                      text("password_hash"), integer("updated_at"))

sso_login_failures = Table("sso_login_failures", metadata, text("subject"), integer("at"),
                           Index("sso_login_failures_by_subject", "subject", "at"))

sso_sessions = Table("sso_sessions", metadata, text("session_hash", primary_key=True),
                     ref("person_id", "persons.id", nullable=True), integer("created_at"), integer("expires_at"))

sso_links = Table(
    "sso_links", metadata,
    key(),
    ref("org_id", "orgs.id"),
    integer("org_scoped_id"),
    ref("person_id", "persons.id"),
    ref("app_id", "apps.id"),
    integer("created_at"),
    integer("refreshed_at", nullable=True),
    integer("revoked_at", nullable=True),
    text("revoked_why", nullable=True),
    Index("sso_links_by_person", "person_id"),
)

sso_codes = Table(
    "sso_codes", metadata,
    text("code_hash", primary_key=True),
    ref("org_id", "orgs.id"),
    integer("org_scoped_id"),
    ref("person_id", "persons.id"),
    text("redirect_uri"),
    integer("created_at"),
    integer("expires_at"),
    integer("used_at", nullable=True),
    ref("link_id", "sso_links.id", nullable=True),
)

sso_tokens = Table("sso_tokens", metadata, text("token_hash", primary_key=True), ref("link_id", "sso_links.id"),
                   integer("created_at"), integer("expires_at"), Index("sso_tokens_by_link", "link_id"))

sso_refresh_codes = Table("sso_refresh_codes", metadata, text("code_hash", primary_key=True),
                          ref("link_id", "sso_links.id"), integer("created_at"), integer("used_at", nullable=True),
                          Index("sso_refresh_codes_by_link", "link_id"))
