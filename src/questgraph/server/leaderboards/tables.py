"""Leaderboards' tables: boards, their entries, and the rank index updates not yet known to have
reached a shared rank index (D22)."""

from __future__ import annotations

from sqlalchemy import Index, Table, UniqueConstraint

from questgraph.server.db.columns import blob, generated_key, integer, key, ref, text
from questgraph.server.db.tables import metadata

leaderboards = Table(
    "leaderboards", metadata,
    key(),
    ref("app_id", "apps.id"),
    text("api_name"),
    text("sort_order"),
    text("entry_write_policy"),
    integer("earliest_allowed_entry_time", nullable=True),
    integer("latest_allowed_entry_time", nullable=True),
    text("title_locale_map", nullable=True),
    integer("created_at"),
    UniqueConstraint("app_id", "api_name"),
)

entries = Table(
    "entries", metadata,
    key(),
    ref("leaderboard_id", "leaderboards.id"),
    ref("user_id", "app_users.id"),
    integer("score"),
    blob("extra_data"),
    integer("written_us"),
    UniqueConstraint("leaderboard_id", "user_id"),
    Index("entries_by_board", "leaderboard_id", "score", "written_us", "id"),
)

# A leaderboard write records a row here in the SAME transaction as the entry write, and deletes it once
# the index update succeeded; a row that outlives its writer (kill -9 between the commit and the index
# update) is repaired at start-up or by any live process (ranking/keeper.py). entry_id NULL: the whole
# board. No foreign keys: the row must outlive the board or entry it names. Ids only grow (AUTOINCREMENT
# on SQLite, an identity column on PostgreSQL): a shared index orders the updates of one entry by them.
index_pending = Table(
    "index_pending", metadata,
    generated_key(),
    integer("leaderboard_id"),
    integer("entry_id", nullable=True),
    sqlite_autoincrement=True,
    comment="ids only grow: a shared rank index orders the updates of an entry by them (D22)",
)
