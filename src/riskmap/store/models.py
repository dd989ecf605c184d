"""SQLAlchemy 2 models: everything an assessment records, in one schema for SQLite and PostgreSQL.

Rows that officers edit concurrently carry a `version` column used by SQLAlchemy's
optimistic versioning: an UPDATE only succeeds if the row is still at the version the
editor read, so a stale copy can never silently overwrite a newer save.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, declared_attr, mapped_column

from riskmap import texts


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Versioned:
    """Optimistic concurrency: the mapper bumps `version` and checks it on every UPDATE."""

    version: Mapped[int] = mapped_column(Integer, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        return {"version_id_col": cls.__table__.c.version}


class Organisation(Base):
    __tablename__ = "organisation"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    is_demo: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(300), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class UserScope(Base):
    """One entry of a user's need-to-know scope (`riskmap.scopes`): a unit (with its
    descendants), a region or a unit type. No entries: the whole ministry."""

    __tablename__ = "user_scopes"
    __table_args__ = (UniqueConstraint("user_id", "kind", "value"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # unit | region | unit_type
    value: Mapped[str] = mapped_column(String(100), nullable=False)


class Unit(Versioned, Base):
    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False)
    code: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    unit_type: Mapped[str] = mapped_column(String(64), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), nullable=True)
    region: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    headcount: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    exposure: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    retired: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class Cycle(Versioned, Base):
    __tablename__ = "cycles"
    __table_args__ = (UniqueConstraint("organisation_id", "label"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False)
    label: Mapped[str] = mapped_column(String(40), nullable=False)
    catalogue_version: Mapped[str] = mapped_column(String(64), nullable=False)
    # draft -> in_review -> approved -> locked; reopen returns to draft with a reason.
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="draft")
    previous_cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id"), nullable=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    drafted_by: Mapped[str] = mapped_column(String(80), nullable=False)
    submitted_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    locked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RiskRating(Versioned, Base):
    __tablename__ = "risk_ratings"
    __table_args__ = (UniqueConstraint("cycle_id", "unit_id", "risk_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), nullable=False, index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), nullable=False)
    risk_id: Mapped[str] = mapped_column(String(64), nullable=False)
    applicable: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    likelihood: Mapped[int] = mapped_column(Integer, nullable=False)
    impact: Mapped[int] = mapped_column(Integer, nullable=False)
    justification: Mapped[str] = mapped_column(Text, nullable=False, default="")
    confirmed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    updated_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ControlRating(Versioned, Base):
    __tablename__ = "control_ratings"
    __table_args__ = (UniqueConstraint("cycle_id", "unit_id", "control_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), nullable=False, index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), nullable=False)
    control_id: Mapped[str] = mapped_column(String(64), nullable=False)
    applicable: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    maturity: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    evidence: Mapped[str] = mapped_column(Text, nullable=False, default="")
    justification: Mapped[str] = mapped_column(Text, nullable=False, default="")
    confirmed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    updated_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Action(Versioned, Base):
    __tablename__ = "actions"
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), nullable=False, index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), nullable=False)
    control_id: Mapped[str] = mapped_column(String(64), nullable=False)
    from_level: Mapped[int] = mapped_column(Integer, nullable=False)
    to_level: Mapped[int] = mapped_column(Integer, nullable=False)
    priority: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The plan's residual_removed (absolute, not the register's fraction `reduction`): the
    # service maps the name in `service.plans` (no migration renames the column).
    reduction: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    effort_days: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    cost: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    owner: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    # planned | in_progress | done | cancelled
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="planned")
    indicator: Mapped[str] = mapped_column(Text, nullable=False, default="")
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    manual: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    carried_from_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id"), nullable=True)


class Incident(Base):
    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), nullable=False, index=True)
    occurred_on: Mapped[date] = mapped_column(Date, nullable=False)
    risk_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # complaint | disciplinary | prosecution | conviction | other
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    outcome: Mapped[str] = mapped_column(Text, nullable=False, default="")
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    recorded_by: Mapped[str] = mapped_column(String(80), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), nullable=False, index=True)
    author: Mapped[str] = mapped_column(String(80), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    text: Mapped[str] = mapped_column(Text, nullable=False)


class AuditEvent(Base):
    """Append-only: the database refuses UPDATE and DELETE (triggers in the migration).

    Each event carries the hash of the one before, so any edit made behind the
    application's back breaks the chain at a point `riskmap audit verify` can name.
    """

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    actor: Mapped[str] = mapped_column(String(80), nullable=False)
    action: Mapped[str] = mapped_column(String(60), nullable=False)
    entity: Mapped[str] = mapped_column(String(40), nullable=False)
    entity_id: Mapped[str] = mapped_column(String(80), nullable=False, default="")
    cycle_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    before: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)


class EvidenceItem(Base):
    """A file or a reference that shows a rated control (or justifies a risk rating).

    Never overwritten: a correction is a new item, and the old one names it in
    `superseded_by`. A file's bytes live in the evidence store under their SHA-256
    (`riskmap.evidence_files`); the row keeps the hash an auditor checks a copy against.
    """

    __tablename__ = "evidence_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), nullable=False, index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), nullable=False)
    control_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    risk_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # file | reference
    checklist_entry: Mapped[str] = mapped_column(Text, nullable=False, default="")
    file_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    media_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reference: Mapped[str] = mapped_column(Text, nullable=False, default="")
    added_by: Mapped[str] = mapped_column(String(80), nullable=False)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    superseded_by: Mapped[int | None] = mapped_column(
        ForeignKey("evidence_items.id"), nullable=True
    )


# --- every text checked before it reaches the database --------------------------------


@event.listens_for(Session, "before_flush")
def _refuse_unstorable_text(session: Session, _context: Any, _instances: Any) -> None:
    """No row is flushed with a text `riskmap.texts` refuses (too long for its field, or a
    control character): SQLite would store it and PostgreSQL raise a raw DataError on a
    NUL; this way both refuse it with `TextRefused`, naming the table and field."""
    for row in (*session.new, *session.dirty):
        table = getattr(row, "__table__", None)
        if table is None:
            continue
        for column in table.columns:
            if isinstance(column.type, String):  # Text is a String
                value = getattr(row, column.key, None)
                problem = texts.column_problem(column, value)
                if problem:
                    raise texts.TextRefused(column.name, problem, table=table.name)
