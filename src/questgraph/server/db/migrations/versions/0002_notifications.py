"""User notifications (D37): the request templates of each app and the notifications sent.

Revision ID: 0002_notifications
Revises: 0001_schema7
Create Date: 2026-12-07

Frozen like 0001: types spelled out, not imported from db/columns.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_notifications"
down_revision: str | None = "0001_schema7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INT = sa.Integer().with_variant(sa.BigInteger(), "postgresql")
TEXT = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "notif_requests",
        sa.Column("id", INT, primary_key=True, autoincrement=False),
        sa.Column("app_id", INT, sa.ForeignKey("apps.id"), nullable=False),
        sa.Column("category", TEXT, nullable=False),
        sa.Column("name", TEXT, nullable=False),
        sa.Column("created_at", INT, nullable=False),
    )
    op.create_table(
        "sent_notifications",
        sa.Column("id", INT, sa.Identity(), primary_key=True),
        sa.Column("app_id", INT, sa.ForeignKey("apps.id"), nullable=False),
        sa.Column("request_id", INT, sa.ForeignKey("notif_requests.id"), nullable=False),
        sa.Column("recipient_ids", TEXT, nullable=False),
        sa.Column("sender_id", INT, sa.ForeignKey("app_users.id"), nullable=True),
        sa.Column("sent_at", INT, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sent_notifications")
    op.drop_table("notif_requests")
