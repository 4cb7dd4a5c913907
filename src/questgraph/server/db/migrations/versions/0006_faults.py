"""Fault injection's rules (docs/fault-injection.md).

Revision ID: 0006_faults
Revises: 0005_challenges
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_faults"
down_revision: str | None = "0005_challenges"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INT = sa.Integer().with_variant(sa.BigInteger(), "postgresql")
TEXT = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "fault_rules",
        sa.Column("id", INT, sa.Identity(), primary_key=True),
        sa.Column("spec", TEXT, nullable=False),
        sa.Column("remaining", INT, nullable=True),
        sa.Column("hits", INT, nullable=False),
        sa.Column("created_at", INT, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("fault_rules")
