"""Evidence items: files (content-addressed by SHA-256) and references on a rating.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03

The files themselves live in the evidence store beside the database, not in it; a row
keeps the hash, size and type, and is superseded, never overwritten.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evidence_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("control_id", sa.String(64), nullable=True),
        sa.Column("risk_id", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("checklist_entry", sa.Text(), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=True),
        sa.Column("media_type", sa.String(100), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("added_by", sa.String(80), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("superseded_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_evidence_items"),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycles.id"], name="fk_evidence_items_cycle_id"),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name="fk_evidence_items_unit_id"),
        sa.ForeignKeyConstraint(
            ["superseded_by"], ["evidence_items.id"], name="fk_evidence_items_superseded_by"
        ),
    )
    op.create_index("ix_evidence_items_cycle_id", "evidence_items", ["cycle_id"])


def downgrade() -> None:
    op.drop_index("ix_evidence_items_cycle_id", table_name="evidence_items")
    op.drop_table("evidence_items")
