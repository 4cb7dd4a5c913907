"""Federated users (graph-api.md A.2): the ``federated_users`` table.

Revision ID: 0003_federated_users
Revises: 0002_notifications
Create Date: 2026-12-07

Frozen, as every revision: its types are spelled out rather than imported from db/columns.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_federated_users"
down_revision: str | None = "0002_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INT = sa.Integer().with_variant(sa.BigInteger(), "postgresql")
TEXT = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "federated_users",
        sa.Column("user_id", INT, sa.ForeignKey("app_users.id"), primary_key=True, autoincrement=False),
        sa.Column("app_id", INT, sa.ForeignKey("apps.id"), nullable=False),
        sa.Column("persistent_id", TEXT, nullable=False),
        sa.Column("display_name", TEXT, nullable=False),
        sa.Column("name_number", INT, nullable=False),
        sa.Column("created_at", INT, nullable=False),
        sa.UniqueConstraint("app_id", "persistent_id"),
        sa.UniqueConstraint("app_id", "display_name", "name_number"),
    )


def downgrade() -> None:
    op.drop_table("federated_users")
