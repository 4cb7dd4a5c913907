"""Schema 7: the baseline, equal to the seven SQL scripts of questgraph's first releases.

Revision ID: 0001_schema7
Revises:
Create Date: 2026-12-06

A database those releases made (``schema_migrations`` holding 1..7) is stamped with this revision rather
than running it (db/migrate.py). Frozen: it spells its types out instead of importing db/columns.py, so
that a later change to the declaration cannot change what it creates. An int64 is SQLite's INTEGER (a
single-column key is then the rowid) and PostgreSQL's BIGINT; text is compared by code point on both
(PostgreSQL's "C" collation); a key the database assigns is an identity column on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_schema7"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INT = sa.Integer().with_variant(sa.BigInteger(), "postgresql")
TEXT = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
BLOB = sa.LargeBinary()


def upgrade() -> None:
    op.create_table(
        "objects",
        sa.Column("id", INT, primary_key=True, autoincrement=False),
        sa.Column("kind", TEXT, nullable=False),
    )
    op.create_table(
        "settings",
        sa.Column("key", TEXT, primary_key=True),
        sa.Column("value", TEXT, nullable=False),
    )
    op.create_table(
        "orgs",
        sa.Column("id", INT, primary_key=True, autoincrement=False),
        sa.Column("name", TEXT, nullable=False),
        sa.Column("created_at", INT, nullable=False),
    )
    op.create_table(
        "apps",
        sa.Column("id", INT, primary_key=True, autoincrement=False),
        sa.Column("org_id", INT, sa.ForeignKey("orgs.id"), nullable=False),
        sa.Column("name", TEXT, nullable=False),
        sa.Column("secret_hash", TEXT, nullable=False),
        sa.Column("created_at", INT, nullable=False),
    )
    op.create_table(
        "persons",
        sa.Column("id", INT, sa.Identity(), primary_key=True),
        sa.Column("alias", TEXT, nullable=False, unique=True),
        sa.Column("display_name", TEXT, nullable=False),
        sa.Column("profile_url", TEXT, nullable=False),
        sa.Column("age_category", TEXT, sa.CheckConstraint("age_category IN ('CH', 'TN', 'AD')"), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "app_users",
        sa.Column("id", INT, primary_key=True, autoincrement=False),
        sa.Column("app_id", INT, sa.ForeignKey("apps.id"), nullable=False),
        sa.Column("person_id", INT, sa.ForeignKey("persons.id"), nullable=False),
        sa.UniqueConstraint("app_id", "person_id"),
    )
    op.create_table(
        "org_users",
        sa.Column("id", INT, primary_key=True, autoincrement=False),
        sa.Column("org_id", INT, sa.ForeignKey("orgs.id"), nullable=False),
        sa.Column("person_id", INT, sa.ForeignKey("persons.id"), nullable=False),
        sa.UniqueConstraint("org_id", "person_id"),
    )
    op.create_table(
        "friendships",
        sa.Column("person_a", INT, sa.ForeignKey("persons.id"), nullable=False),
        sa.Column("person_b", INT, sa.ForeignKey("persons.id"), nullable=False),
        sa.PrimaryKeyConstraint("person_a", "person_b"),
    )
    op.create_table(
        "user_tokens",
        sa.Column("token_hash", TEXT, primary_key=True),
        sa.Column("user_id", INT, sa.ForeignKey("app_users.id"), nullable=False),
        sa.Column("app_id", INT, sa.ForeignKey("apps.id"), nullable=False),
        sa.Column("created_at", INT, nullable=False),
        sa.Column("expires_at", INT, nullable=True),
    )
    op.create_table(
        "entitlements",
        sa.Column("user_id", INT, sa.ForeignKey("app_users.id"), nullable=False),
        sa.Column("app_id", INT, sa.ForeignKey("apps.id"), nullable=False),
        sa.Column("granted_at", INT, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "app_id"),
    )
    op.create_table(
        "leaderboards",
        sa.Column("id", INT, primary_key=True, autoincrement=False),
        sa.Column("app_id", INT, sa.ForeignKey("apps.id"), nullable=False),
        sa.Column("api_name", TEXT, nullable=False),
        sa.Column("sort_order", TEXT, nullable=False),
        sa.Column("entry_write_policy", TEXT, nullable=False),
        sa.Column("earliest_allowed_entry_time", INT, nullable=True),
        sa.Column("latest_allowed_entry_time", INT, nullable=True),
        sa.Column("title_locale_map", TEXT, nullable=True),
        sa.Column("created_at", INT, nullable=False),
        sa.UniqueConstraint("app_id", "api_name"),
    )
    op.create_table(
        "entries",
        sa.Column("id", INT, primary_key=True, autoincrement=False),
        sa.Column("leaderboard_id", INT, sa.ForeignKey("leaderboards.id"), nullable=False),
        sa.Column("user_id", INT, sa.ForeignKey("app_users.id"), nullable=False),
        sa.Column("score", INT, nullable=False),
        sa.Column("extra_data", BLOB, nullable=False),
        sa.Column("written_us", INT, nullable=False),
        sa.UniqueConstraint("leaderboard_id", "user_id"),
    )
    op.create_index("entries_by_board", "entries", ["leaderboard_id", "score", "written_us", "id"])
    op.create_table(
        "index_pending",
        sa.Column("id", INT, sa.Identity(), primary_key=True),
        sa.Column("leaderboard_id", INT, nullable=False),
        sa.Column("entry_id", INT, nullable=True),
        sqlite_autoincrement=True,
        comment="ids only grow: a shared rank index orders the updates of an entry by them (D22)",
    )
    op.create_table(
        "achievement_definitions",
        sa.Column("id", INT, primary_key=True, autoincrement=False),
        sa.Column("app_id", INT, sa.ForeignKey("apps.id"), nullable=False),
        sa.Column("api_name", TEXT, nullable=False),
        sa.Column("achievement_type", TEXT, nullable=False),
        sa.Column("write_policy", TEXT, nullable=False),
        sa.Column("target", INT, nullable=False),
        sa.Column("bitfield_length", INT, nullable=False),
        sa.Column("is_archived", INT, nullable=False),
        sa.Column("is_secret", INT, nullable=False),
        sa.Column("title", TEXT, nullable=False),
        sa.Column("description", TEXT, nullable=False),
        sa.Column("unlocked_description_override", TEXT, nullable=True),
        sa.Column("title_locale_map", TEXT, nullable=True),
        sa.Column("description_locale_map", TEXT, nullable=True),
        sa.Column("unlocked_image", TEXT, nullable=True),
        sa.Column("locked_image", TEXT, nullable=True),
        sa.Column("created_us", INT, nullable=False),
        sa.UniqueConstraint("app_id", "api_name"),
    )
    op.create_index("achievement_definitions_by_app", "achievement_definitions", ["app_id", "created_us", "id"])
    op.create_table(
        "achievement_progress",
        sa.Column("id", INT, primary_key=True, autoincrement=False),
        sa.Column("definition_id", INT, sa.ForeignKey("achievement_definitions.id"), nullable=False),
        sa.Column("user_id", INT, sa.ForeignKey("app_users.id"), nullable=False),
        sa.Column("count", INT, nullable=False),
        sa.Column("bits", TEXT, nullable=False),
        sa.Column("unlocked", INT, nullable=False),
        sa.Column("unlock_time", INT, nullable=True),
        sa.Column("created_us", INT, nullable=False),
        sa.UniqueConstraint("definition_id", "user_id"),
    )
    op.create_index("achievement_progress_by_user", "achievement_progress", ["user_id", "created_us", "id"])
    op.create_table(
        "media_files",
        sa.Column("key", TEXT, primary_key=True),
        sa.Column("app_id", INT, sa.ForeignKey("apps.id"), nullable=False),
        sa.Column("content_type", TEXT, nullable=False),
        sa.Column("data", BLOB, nullable=False),
        sa.Column("created_at", INT, nullable=False),
    )
    op.create_table(
        "user_nonces",
        sa.Column("nonce_hash", TEXT, primary_key=True),
        sa.Column("user_id", INT, sa.ForeignKey("app_users.id"), nullable=False),
        sa.Column("app_id", INT, sa.ForeignKey("apps.id"), nullable=False),
        sa.Column("created_at", INT, nullable=False),
        sa.Column("expires_at", INT, nullable=False),
        sa.Column("used", INT, nullable=False, server_default=sa.text("0")),
    )
    op.create_table(
        "iap_items",
        sa.Column("id", INT, primary_key=True, autoincrement=False),
        sa.Column("app_id", INT, sa.ForeignKey("apps.id"), nullable=False),
        sa.Column("sku", TEXT, nullable=False),
        sa.Column(
            "item_type",
            TEXT,
            sa.CheckConstraint("item_type IN ('DURABLE', 'CONSUMABLE', 'SUBSCRIPTION')"),
            nullable=False,
        ),
        sa.Column("name", TEXT, nullable=False),
        sa.Column("description", TEXT, nullable=False),
        sa.Column("price_hundredths", INT, nullable=False),
        sa.Column("currency", TEXT, nullable=False),
        sa.Column("offer_id", INT, nullable=False),
        sa.Column("subscription_term", TEXT, nullable=True),
        sa.Column("trial_type", TEXT, nullable=True),
        sa.Column("trial_term", TEXT, nullable=True),
        sa.Column("trial_max_term_count", INT, nullable=True),
        sa.Column("trial_price_hundredths", INT, nullable=True),
        sa.Column("trial_offer_id", INT, nullable=True),
        sa.Column("created_at", INT, nullable=False),
        sa.UniqueConstraint("app_id", "sku"),
    )
    op.create_table(
        "purchases",
        sa.Column("id", INT, primary_key=True, autoincrement=False),
        sa.Column("app_id", INT, sa.ForeignKey("apps.id"), nullable=False),
        sa.Column("user_id", INT, sa.ForeignKey("app_users.id"), nullable=False),
        sa.Column("item_id", INT, sa.ForeignKey("iap_items.id"), nullable=False),
        sa.Column("granted_at", INT, nullable=False),
        sa.Column("expires_at", INT, nullable=True),
        sa.Column("consumed_at", INT, nullable=True),
        sa.Column("refunded_at", INT, nullable=True),
        sa.Column("refund_reason", TEXT, nullable=True),
    )
    op.create_index("purchases_by_user", "purchases", ["user_id", "item_id", "granted_at"])
    op.create_table(
        "subscriptions",
        sa.Column("id", INT, primary_key=True, autoincrement=False),
        sa.Column("app_id", INT, sa.ForeignKey("apps.id"), nullable=False),
        sa.Column("user_id", INT, sa.ForeignKey("app_users.id"), nullable=False),
        sa.Column("item_id", INT, sa.ForeignKey("iap_items.id"), nullable=False),
        sa.Column("started_at", INT, nullable=False),
        sa.Column("period_start0", INT, nullable=False),
        sa.Column("anchor", INT, nullable=False),
        sa.Column("renewals", INT, nullable=False),
        sa.Column("trial_at_zero", INT, nullable=False),
        sa.Column("auto_renew", INT, nullable=False),
        sa.Column("cancelled_at", INT, nullable=True),
        sa.Column("cancel_reason", INT, nullable=True),
        sa.Column("extension_days", INT, nullable=False),
    )
    op.create_index("subscriptions_by_app", "subscriptions", ["app_id", "started_at", "id"])
    op.create_index("subscriptions_by_user", "subscriptions", ["user_id", "item_id"])
    op.create_table(
        "redirect_uris",
        sa.Column("org_id", INT, sa.ForeignKey("orgs.id"), nullable=False),
        sa.Column("uri", TEXT, nullable=False),
        sa.PrimaryKeyConstraint("org_id", "uri"),
    )
    op.create_table(
        "sso_passwords",
        sa.Column("person_id", INT, sa.ForeignKey("persons.id"), primary_key=True, autoincrement=False),
        sa.Column("password_hash", TEXT, nullable=False),
        sa.Column("updated_at", INT, nullable=False),
    )
    op.create_table(
        "sso_login_failures",
        sa.Column("subject", TEXT, nullable=False),
        sa.Column("at", INT, nullable=False),
    )
    op.create_index("sso_login_failures_by_subject", "sso_login_failures", ["subject", "at"])
    op.create_table(
        "sso_sessions",
        sa.Column("session_hash", TEXT, primary_key=True),
        sa.Column("person_id", INT, sa.ForeignKey("persons.id"), nullable=True),
        sa.Column("created_at", INT, nullable=False),
        sa.Column("expires_at", INT, nullable=False),
    )
    op.create_table(
        "sso_links",
        sa.Column("id", INT, primary_key=True, autoincrement=False),
        sa.Column("org_id", INT, sa.ForeignKey("orgs.id"), nullable=False),
        sa.Column("org_scoped_id", INT, nullable=False),
        sa.Column("person_id", INT, sa.ForeignKey("persons.id"), nullable=False),
        sa.Column("app_id", INT, sa.ForeignKey("apps.id"), nullable=False),
        sa.Column("created_at", INT, nullable=False),
        sa.Column("refreshed_at", INT, nullable=True),
        sa.Column("revoked_at", INT, nullable=True),
        sa.Column("revoked_why", TEXT, nullable=True),
    )
    op.create_index("sso_links_by_person", "sso_links", ["person_id"])
    op.create_table(
        "sso_codes",
        sa.Column("code_hash", TEXT, primary_key=True),
        sa.Column("org_id", INT, sa.ForeignKey("orgs.id"), nullable=False),
        sa.Column("org_scoped_id", INT, nullable=False),
        sa.Column("person_id", INT, sa.ForeignKey("persons.id"), nullable=False),
        sa.Column("redirect_uri", TEXT, nullable=False),
        sa.Column("created_at", INT, nullable=False),
        sa.Column("expires_at", INT, nullable=False),
        sa.Column("used_at", INT, nullable=True),
        sa.Column("link_id", INT, sa.ForeignKey("sso_links.id"), nullable=True),
    )
    op.create_table(
        "sso_tokens",
        sa.Column("token_hash", TEXT, primary_key=True),
        sa.Column("link_id", INT, sa.ForeignKey("sso_links.id"), nullable=False),
        sa.Column("created_at", INT, nullable=False),
        sa.Column("expires_at", INT, nullable=False),
    )
    op.create_index("sso_tokens_by_link", "sso_tokens", ["link_id"])
    op.create_table(
        "sso_refresh_codes",
        sa.Column("code_hash", TEXT, primary_key=True),
        sa.Column("link_id", INT, sa.ForeignKey("sso_links.id"), nullable=False),
        sa.Column("created_at", INT, nullable=False),
        sa.Column("used_at", INT, nullable=True),
    )
    op.create_index("sso_refresh_codes_by_link", "sso_refresh_codes", ["link_id"])
    op.create_table(
        "dashboard_members",
        sa.Column("id", INT, sa.Identity(), primary_key=True),
        sa.Column("org_id", INT, sa.ForeignKey("orgs.id"), nullable=False),
        sa.Column("email", TEXT, nullable=False),
        sa.Column("name", TEXT, nullable=False),
        sa.Column("role", TEXT, sa.CheckConstraint("role IN ('admin', 'developer')"), nullable=False),
        sa.Column("password_hash", TEXT, nullable=True),
        sa.Column("created_at", INT, nullable=False),
        sa.UniqueConstraint("org_id", "email"),
    )
    op.create_table(
        "dashboard_sessions",
        sa.Column("session_hash", TEXT, primary_key=True),
        sa.Column("org_id", INT, sa.ForeignKey("orgs.id"), nullable=False),
        sa.Column("member_id", INT, sa.ForeignKey("dashboard_members.id"), nullable=True),
        sa.Column("actor", TEXT, nullable=False),
        sa.Column("role", TEXT, nullable=False),
        sa.Column("created_at", INT, nullable=False),
        sa.Column("expires_at", INT, nullable=False),
    )
    op.create_index("dashboard_sessions_by_member", "dashboard_sessions", ["member_id"])
    op.create_table(
        "dashboard_audit",
        sa.Column("id", INT, sa.Identity(), primary_key=True),
        sa.Column("at", INT, nullable=False),
        sa.Column("org_id", INT, nullable=True),
        sa.Column("actor", TEXT, nullable=False),
        sa.Column("action", TEXT, nullable=False),
        sa.Column("target", TEXT, nullable=False),
        sa.Column("detail", TEXT, nullable=False),
    )
    op.create_index("dashboard_audit_by_org", "dashboard_audit", ["org_id", "id"])


def downgrade() -> None:
    raise NotImplementedError("schema 7 is the first revision: start from an empty database instead")
