"""Initial schema: every table of riskmap.store.models, and an append-only audit log.

Revision ID: 0001
Revises:
Create Date: 2024-11-23

The database itself refuses UPDATE and DELETE on `audit_events` (and TRUNCATE on
PostgreSQL), so the log stays append-only even for code that bypasses the application.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY_MESSAGE = "audit_events is append-only"

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_organisation"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(200), nullable=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(300), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit_type", sa.String(64), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("headcount", sa.Integer(), nullable=False),
        sa.Column("exposure", sa.JSON(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_units"),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name="fk_units_organisation_id"
        ),
        sa.ForeignKeyConstraint(["parent_id"], ["units.id"], name="fk_units_parent_id"),
        sa.UniqueConstraint("code", name="uq_units_code"),
    )
    op.create_table(
        "cycles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(40), nullable=False),
        sa.Column("catalogue_version", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("previous_cycle_id", sa.Integer(), nullable=True),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("drafted_by", sa.String(80), nullable=False),
        sa.Column("submitted_by", sa.String(80), nullable=True),
        sa.Column("submitted_at", TZ, nullable=True),
        sa.Column("reviewed_by", sa.String(80), nullable=True),
        sa.Column("approved_by", sa.String(80), nullable=True),
        sa.Column("approved_at", TZ, nullable=True),
        sa.Column("locked_at", TZ, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cycles"),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name="fk_cycles_organisation_id"
        ),
        sa.ForeignKeyConstraint(
            ["previous_cycle_id"], ["cycles.id"], name="fk_cycles_previous_cycle_id"
        ),
        sa.UniqueConstraint("organisation_id", "label", name="uq_cycles_organisation_id_label"),
    )
    op.create_table(
        "risk_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("risk_id", sa.String(64), nullable=False),
        sa.Column("applicable", sa.Boolean(), nullable=False),
        sa.Column("likelihood", sa.Integer(), nullable=False),
        sa.Column("impact", sa.Integer(), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(80), nullable=True),
        sa.Column("updated_at", TZ, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_risk_ratings"),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycles.id"], name="fk_risk_ratings_cycle_id"),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name="fk_risk_ratings_unit_id"),
        sa.UniqueConstraint(
            "cycle_id", "unit_id", "risk_id", name="uq_risk_ratings_cycle_id_unit_id_risk_id"
        ),
    )
    op.create_index("ix_risk_ratings_cycle_id", "risk_ratings", ["cycle_id"])
    op.create_table(
        "control_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("control_id", sa.String(64), nullable=False),
        sa.Column("applicable", sa.Boolean(), nullable=False),
        sa.Column("maturity", sa.Integer(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(80), nullable=True),
        sa.Column("updated_at", TZ, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_control_ratings"),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycles.id"], name="fk_control_ratings_cycle_id"),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name="fk_control_ratings_unit_id"),
        sa.UniqueConstraint(
            "cycle_id",
            "unit_id",
            "control_id",
            name="uq_control_ratings_cycle_id_unit_id_control_id",
        ),
    )
    op.create_index("ix_control_ratings_cycle_id", "control_ratings", ["cycle_id"])
    op.create_table(
        "actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("control_id", sa.String(64), nullable=False),
        sa.Column("from_level", sa.Integer(), nullable=False),
        sa.Column("to_level", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("reduction", sa.Float(), nullable=False),
        sa.Column("effort_days", sa.Float(), nullable=False),
        sa.Column("cost", sa.Float(), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("indicator", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("carried_from_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_actions"),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycles.id"], name="fk_actions_cycle_id"),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name="fk_actions_unit_id"),
        sa.ForeignKeyConstraint(
            ["carried_from_id"], ["actions.id"], name="fk_actions_carried_from_id"
        ),
    )
    op.create_index("ix_actions_cycle_id", "actions", ["cycle_id"])
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("risk_id", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(80), nullable=False),
        sa.Column("recorded_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name="fk_incidents_unit_id"),
    )
    op.create_index("ix_incidents_unit_id", "incidents", ["unit_id"])
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(80), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_comments"),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycles.id"], name="fk_comments_cycle_id"),
    )
    op.create_index("ix_comments_cycle_id", "comments", ["cycle_id"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("entity_id", sa.String(80), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
        sa.UniqueConstraint("hash", name="uq_audit_events_hash"),
    )
    op.create_index("ix_audit_events_cycle_id", "audit_events", ["cycle_id"])
    _create_append_only_triggers()


def _create_append_only_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger, event in (
            ("audit_events_no_update", "UPDATE"),
            ("audit_events_no_delete", "DELETE"),
        ):
            op.execute(
                f"CREATE TRIGGER {trigger} BEFORE {event} ON audit_events "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_events_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}' "
            "USING ERRCODE = 'integrity_constraint_violation'; "
            "END $$"
        )
        for trigger, event, level in (
            ("audit_events_no_update", "UPDATE", "ROW"),
            ("audit_events_no_delete", "DELETE", "ROW"),
            ("audit_events_no_truncate", "TRUNCATE", "STATEMENT"),
        ):
            op.execute(
                f"CREATE TRIGGER {trigger} BEFORE {event} ON audit_events "
                f"FOR EACH {level} EXECUTE FUNCTION audit_events_append_only()"
            )
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise NotImplementedError(f"append-only audit triggers not written for {dialect}")


def _drop_append_only_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
    elif dialect == "postgresql":
        for trigger in (
            "audit_events_no_update",
            "audit_events_no_delete",
            "audit_events_no_truncate",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")


def downgrade() -> None:
    _drop_append_only_triggers()
    for index, table in (
        ("ix_audit_events_cycle_id", "audit_events"),
        ("ix_comments_cycle_id", "comments"),
        ("ix_incidents_unit_id", "incidents"),
        ("ix_actions_cycle_id", "actions"),
        ("ix_control_ratings_cycle_id", "control_ratings"),
        ("ix_risk_ratings_cycle_id", "risk_ratings"),
    ):
        op.drop_index(index, table_name=table)
    for table in (
        "audit_events",
        "comments",
        "incidents",
        "actions",
        "control_ratings",
        "risk_ratings",
        "cycles",
        "units",
        "users",
        "organisation",
    ):
        op.drop_table(table)
