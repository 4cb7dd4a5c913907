"""Platform integrity: attestation signing keys, devices and device bans (graph-api.md A.4).

Revision ID: 0004_integrity
Revises: 0003_federated_users
Create Date: 2026-12-07

Frozen, like 0001: the types are spelt out rather than imported from db/columns.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_integrity"
down_revision: str | None = "0003_federated_users"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INT = sa.Integer().with_variant(sa.BigInteger(), "postgresql")
TEXT = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
BLOB = sa.LargeBinary()


def upgrade() -> None:
    op.create_table(
        "attestation_keys",
        sa.Column("app_id", INT, sa.ForeignKey("apps.id"), primary_key=True, autoincrement=False),
        sa.Column("secret", BLOB, nullable=False),
    )
    op.create_table(
        "integrity_devices",
        sa.Column("unique_id", TEXT, primary_key=True),
        sa.Column("app_id", INT, sa.ForeignKey("apps.id"), nullable=False),
        sa.Column("created_at", INT, nullable=False),
    )
    op.create_table(
        "device_bans",
        sa.Column("id", INT, sa.Identity(), primary_key=True),
        sa.Column("ban_id", TEXT, nullable=False, unique=True),
        sa.Column("app_id", INT, sa.ForeignKey("apps.id"), nullable=False),
        sa.Column("unique_id", TEXT, nullable=False, unique=True),
        sa.Column("created_at", INT, nullable=False),
        sa.Column("expires_at", INT, nullable=False),
    )
    op.create_index("device_bans_by_app", "device_bans", ["app_id", "id"])


def downgrade() -> None:
    op.drop_index("device_bans_by_app", "device_bans")
    op.drop_table("device_bans")
    op.drop_table("integrity_devices")
    op.drop_table("attestation_keys")
