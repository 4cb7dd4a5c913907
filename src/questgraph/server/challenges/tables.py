"""Challenges' tables: the challenges and their entries (a submit to the board while a challenge runs)."""

from __future__ import annotations

from sqlalchemy import Index, Table, UniqueConstraint

from questgraph.server.db.columns import blob, integer, key, ref, text
from questgraph.server.db.tables import metadata

# leaderboard_id has no foreign key: deleting a board (leaderboards/store.py) knows nothing of challenges,
# so a challenge whose board is gone is simply never found again (every read joins its board).
challenges = Table(
    "challenges", metadata,
    key(),
    ref("app_id", "apps.id"),
    integer("leaderboard_id"),
    text("title", nullable=True),
    text("description", nullable=True),
    text("visibility"),
    text("creation_type"),
    integer("start_date"),
    integer("end_date"),
    integer("created_at"),
    Index("challenges_by_board", "leaderboard_id", "end_date"),
    Index("challenges_by_app", "app_id", "start_date"),
)

challenge_entries = Table(
    "challenge_entries", metadata,
    key(),
    ref("challenge_id", "challenges.id"),
    ref("user_id", "app_users.id"),
    integer("score"),
    blob("extra_data"),
    integer("written_us"),
    UniqueConstraint("challenge_id", "user_id"),
    Index("challenge_entries_by_challenge", "challenge_id", "score", "written_us", "id"),
)
