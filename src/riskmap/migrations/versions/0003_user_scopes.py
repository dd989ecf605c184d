"""Need-to-know scopes: the units, regions or unit types a user may see and rate.

Revision ID: 0003_user_scopes
Revises: 0002
Create Date: 2026-12-03

No rows for a user means the whole ministry, so existing databases keep working.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_user_scopes"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_scopes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "kind", "value"),
    )
    op.create_index("ix_user_scopes_user_id", "user_scopes", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_user_scopes_user_id", table_name="user_scopes")
    op.drop_table("user_scopes")
