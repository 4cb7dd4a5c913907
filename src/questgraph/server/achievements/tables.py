"""Achievements' tables: definitions, per-user progress and uploaded icons (graph-api.md §2). Definitions
and progress rows have global object ids (D9)."""

from __future__ import annotations

from sqlalchemy import Index, Table, UniqueConstraint

from questgraph.server.db.columns import blob, integer, key, ref, text
from questgraph.server.db.tables import metadata

achievement_definitions = Table(
    "achievement_definitions", metadata,
    key(),
    ref("app_id", "apps.id"),
    text("api_name"),
    text("achievement_type"),
    text("write_policy"),
    integer("target"),
    integer("bitfield_length"),
    integer("is_archived"),
    integer("is_secret"),
    text("title"),
    text("description"),
    text("unlocked_description_override", nullable=True),
    text("title_locale_map", nullable=True),
    text("description_locale_map", nullable=True),
    text("unlocked_image", nullable=True),
    text("locked_image", nullable=True),
    integer("created_us"),
    UniqueConstraint("app_id", "api_name"),
    Index("achievement_definitions_by_app", "app_id", "created_us", "id"),
)

achievement_progress = Table(
    "achievement_progress", metadata,
    key(),
    ref("definition_id", "achievement_definitions.id"),
    ref("user_id", "app_users.id"),
    integer("count"),
    text("bits"),
    integer("unlocked"),
    integer("unlock_time", nullable=True),
    integer("created_us"),
    UniqueConstraint("definition_id", "user_id"),
    Index("achievement_progress_by_user", "user_id", "created_us", "id"),
)

media_files = Table("media_files", metadata, text("key", primary_key=True), ref("app_id", "apps.id"),
                    text("content_type"), blob("data"), integer("created_at"))
