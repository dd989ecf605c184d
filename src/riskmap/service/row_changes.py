"""An audited change of a versioned row, and what the audit trail says changed since.

Apart from `riskmap.service.core` (which re-exports every name) to keep each module small:
the JSON-safe snapshot of a row (what audit events hold), the fields changed since a
version and by whom (`changes_since`, what a conflict shows), and `Update`, one change
`Tx.update` / `Tx.update_many` applies.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from riskmap.service.errors import Change, ConflictError
from riskmap.store.models import AuditEvent


def json_value(value: Any) -> Any:
    if isinstance(value, (datetime, date)):  # a tuple: faster than `datetime | date`
        return value.isoformat()
    return value


def snapshot(row: Any, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """The row's columns as JSON-safe values: what audit events and use cases return."""
    skip = set(exclude)
    return {
        c.key: json_value(getattr(row, c.key)) for c in row.__table__.columns if c.key not in skip
    }


_BOOKKEEPING = {"version", "updated_by", "updated_at"}


def changes_since(session: Session, entity: str, entity_id: str, version: int) -> list[Change]:
    """Fields changed (and by whom) in the audited updates made after `version`."""
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id)
        .order_by(AuditEvent.id)
    )
    out: list[Change] = []
    for event in events:
        before, after = event.before or {}, event.after or {}
        if int(before.get("version", -1)) < version:
            continue
        for key, value in after.items():
            if key not in _BOOKKEEPING and before.get(key) != value:
                out.append(Change(key.replace("_", " "), event.actor, json_value(event.at)))
    return out


def conflict(
    session: Session, what: str, entity: str, entity_id: str, expected: int, current: int | None
) -> ConflictError:
    return ConflictError(
        what, expected, current, changes_since(session, entity, entity_id, expected)
    )


@dataclass(frozen=True)
class Update:
    """One audited change of a versioned row (`Tx.update`, `Tx.update_many`)."""

    row: Any
    values: dict[str, Any]
    expected_version: int | None
    what: str  # "the rating of risk BOR-01 in unit BC-001", for a conflict's message
    entity: str
    entity_id: str
    action: str
    reason: str = ""
    cycle_id: int | None = None
    exclude: tuple[str, ...] = ()
