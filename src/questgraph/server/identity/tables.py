"""Identity's tables: orgs, apps, people, app- and org-scoped users, tokens, entitlements and friends.
Ids are the global object ids of D9, stored as int64; a person's id is the database's (never reused)."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, PrimaryKeyConstraint, Table, UniqueConstraint

from questgraph.server.db.columns import generated_key, integer, key, ref, text
from questgraph.server.db.tables import metadata

orgs = Table("orgs", metadata, key(), text("name"), integer("created_at"))

apps = Table("apps", metadata, key(), ref("org_id", "orgs.id"), text("name"), text("secret_hash"),
             integer("created_at"))

persons = Table(
    "persons", metadata,
    generated_key(),
    text("alias", unique=True),
    text("display_name"),
    text("profile_url"),
    text("age_category", CheckConstraint("age_category IN ('CH', 'TN', 'AD')")),
    sqlite_autoincrement=True,
)

app_users = Table("app_users", metadata, key(), ref("app_id", "apps.id"), ref("person_id", "persons.id"),
                  UniqueConstraint("app_id", "person_id"))

org_users = Table("org_users", metadata, key(), ref("org_id", "orgs.id"), ref("person_id", "persons.id"),
                  UniqueConstraint("org_id", "person_id"))

friendships = Table("friendships", metadata, ref("person_a", "persons.id"), ref("person_b", "persons.id"),
                    PrimaryKeyConstraint("person_a", "person_b"))

user_tokens = Table("user_tokens", metadata, text("token_hash", primary_key=True), ref("user_id", "app_users.id"),
                    ref("app_id", "apps.id"), integer("created_at"), integer("expires_at", nullable=True))

entitlements = Table("entitlements", metadata, ref("user_id", "app_users.id"), ref("app_id", "apps.id"),
                     integer("granted_at"), PrimaryKeyConstraint("user_id", "app_id"))
