"""The rule the scored-cycle memo stands on: a change to what a cycle's scores read is
audited, with that cycle, in the same transaction.

`service.scored` keeps a cycle's register for as long as the cycle's data version (its
latest audit event, and the latest event of no cycle) stands still. A write that changed a
rating, an evidence item, a unit or an incident without its audit event would leave every
reader on the old scores, and a plan stored from them. So every service transaction is
checked at commit: the rows its flushes changed, by the cycle they belong to (none for
units and incidents), must each be covered by an audit event of that cycle. A transaction
that breaks the rule is rolled back with `UnauditedChange`, naming the table and cycle.

Writes outside a service transaction (migrations, a test editing rows behind the
service's back) are not checked; core `insert`/`update` statements are not seen (the demo
and restore write that way, and audit each step).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from riskmap.audit import AUDITED_CYCLES
from riskmap.store.models import ControlRating, EvidenceItem, Incident, RiskRating, Unit

CHECKED = "riskmap.audited.checked"  # session.info: this transaction is checked
_CHANGED = "riskmap.audited.changed"  # session.info: {(table, cycle id or None)}
_PER_CYCLE = (RiskRating, ControlRating, EvidenceItem)
_OF_NO_CYCLE = (Unit, Incident)


class UnauditedChange(RuntimeError):
    """A change the scores read, committed without its audit event: a bug in a writer."""


def check(session: Session) -> None:
    """Check this session's transaction at commit (`Service.transaction` calls it)."""
    session.info[CHECKED] = True


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _context: Any) -> None:
    if not session.info.get(CHECKED):
        return
    changed = session.info.setdefault(_CHANGED, set())
    dirty = [r for r in session.dirty if session.is_modified(r, include_collections=False)]
    for row in (*session.new, *dirty, *session.deleted):  # `session.dirty` is built per call
        if isinstance(row, _PER_CYCLE):
            changed.add((row.__tablename__, row.cycle_id))
        elif isinstance(row, _OF_NO_CYCLE):
            changed.add((row.__tablename__, None))


@event.listens_for(Session, "before_commit")
def _refuse_unaudited(session: Session) -> None:
    if not session.info.get(CHECKED):
        return
    session.flush()  # what is pending is a change too
    audited = session.info.get(AUDITED_CYCLES, set())
    missing = sorted((t, c) for t, c in session.info.get(_CHANGED, set()) if c not in audited)
    if missing:
        table, cycle = missing[0]
        where = "no cycle" if cycle is None else f"cycle id {cycle}"
        raise UnauditedChange(
            f"{table} changed with no audit event of {where} in the same transaction: the "
            "scores of that cycle would not move (a writer must record its change)"
        )


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_CHANGED, None)
    session.info.pop(AUDITED_CYCLES, None)
