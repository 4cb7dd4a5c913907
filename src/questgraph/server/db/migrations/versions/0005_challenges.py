"""Challenges (graph-api.md A.1): the challenges and their entries.

Revision ID: 0005_challenges
Revises: 0004_integrity
Create Date: 2026-12-07

Frozen, as 0001: it spells its types out instead of importing db/columns.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_challenges"
down_revision: str | None = "0004_integrity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INT = sa.Integer().with_variant(sa.BigInteger(), "postgresql")
TEXT = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
BLOB = sa.LargeBinary()


def upgrade() -> None:
    op.create_table(
        "challenges",
        sa.Column("id", INT, primary_key=True, autoincrement=False),
        sa.Column("app_id", INT, sa.ForeignKey("apps.id"), nullable=False),
        sa.Column("leaderboard_id", INT, nullable=False),
        sa.Column("title", TEXT, nullable=True),
        sa.Column("description", TEXT, nullable=True),
        sa.Column("visibility", TEXT, nullable=False),
        sa.Column("creation_type", TEXT, nullable=False),
        sa.Column("start_date", INT, nullable=False),
        sa.Column("end_date", INT, nullable=False),
        sa.Column("created_at", INT, nullable=False),
    )
    op.create_index("challenges_by_board", "challenges", ["leaderboard_id", "end_date"])
    op.create_index("challenges_by_app", "challenges", ["app_id", "start_date"])
    op.create_table(
        "challenge_entries",
        sa.Column("id", INT, primary_key=True, autoincrement=False),
        sa.Column("challenge_id", INT, sa.ForeignKey("challenges.id"), nullable=False),
        sa.Column("user_id", INT, sa.ForeignKey("app_users.id"), nullable=False),
        sa.Column("score", INT, nullable=False),
        sa.Column("extra_data", BLOB, nullable=False),
        sa.Column("written_us", INT, nullable=False),
        sa.UniqueConstraint("challenge_id", "user_id"),
    )
    op.create_index("challenge_entries_by_challenge", "challenge_entries",
                    ["challenge_id", "score", "written_us", "id"])


def downgrade() -> None:
    op.drop_table("challenge_entries")
    op.drop_table("challenges")
