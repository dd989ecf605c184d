"""Assessment cycles: start, submit for review, approve (four eyes), lock, reopen, comment."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select

from riskmap.service.core import READERS, Tx, snapshot, use_case
from riskmap.service.errors import FourEyesViolation, ValidationError
from riskmap.service.seeding import active_units, baseline_rows, create_cycle
from riskmap.store.models import Comment, ControlRating, Cycle, RiskRating, Unit, utcnow

HOW = ("clone", "empty")


@use_case("officer", ministry_wide=True)
def start_cycle(tx: Tx, label: str, *, how: str = "clone", from_cycle: str | None = None) -> dict:
    """Start a cycle for every active unit.

    `how="empty"`: ratings prefilled from the catalogue defaults of each unit's type;
    `how="clone"`: the previous cycle's ratings (`from_cycle`, default the latest) and its
    open actions. Either way every rating starts unconfirmed.
    """
    label = str(label).strip()
    if not label or len(label) > 40:
        raise ValidationError("cycle label", "give a label of 1 to 40 characters, e.g. 2026")
    if how not in HOW:
        raise ValidationError("how to start", f"choose {' or '.join(HOW)} (got {how!r})")
    if tx.session.scalar(select(Cycle.id).where(Cycle.label == label)) is not None:
        raise ValidationError("cycle label", f"a cycle labelled {label} already exists")
    previous = None
    if from_cycle is not None:
        previous = tx.cycle(from_cycle)
    else:
        previous = tx.session.scalar(
            select(Cycle).order_by(Cycle.started_at.desc(), Cycle.id.desc()).limit(1)
        )
    if how == "clone" and previous is None:
        raise ValidationError("previous cycle", "there is no cycle to start from: start empty")
    units = active_units(tx)
    if not units:
        raise ValidationError("units", "there is no active unit to assess; add units first")
    source = previous if how == "clone" else None
    risk_rows, control_rows = baseline_rows(tx, units, source)
    cycle = create_cycle(tx, label, source, risk_rows, control_rows, how=how)
    return snapshot(cycle)


@use_case(*READERS)
def list_cycles(tx: Tx) -> pd.DataFrame:
    cycles = tx.session.scalars(select(Cycle).order_by(Cycle.started_at, Cycle.id)).all()
    labels = {c.id: c.label for c in cycles}
    cols = [
        "label",
        "status",
        "previous",
        "drafted_by",
        "submitted_by",
        "approved_by",
        "started_at",
        "approved_at",
        "locked_at",
        "catalogue_version",
        "version",
    ]
    rows = [
        {
            **snapshot(c),
            "previous": labels.get(c.previous_cycle_id) if c.previous_cycle_id else None,
        }
        for c in cycles
    ]
    return pd.DataFrame(rows, columns=cols)


@use_case(*READERS)
def get_cycle(tx: Tx, label: str) -> dict:
    """The cycle with its progress: ratings in it, how many are still unconfirmed."""
    cycle = tx.cycle(label)
    out = snapshot(cycle)
    for name, model in (("risk_ratings", RiskRating), ("control_ratings", ControlRating)):
        count = select(func.count()).select_from(model).where(model.cycle_id == cycle.id)
        count = tx.only_visible(count, model.unit_id)  # a scoped reader's units only
        out[name] = tx.session.scalar(count)
        out[f"{name}_unconfirmed"] = tx.session.scalar(count.where(model.confirmed.is_(False)))
    out["previous"] = (
        tx.session.get(Cycle, cycle.previous_cycle_id).label if cycle.previous_cycle_id else None
    )
    return out


def _transition(
    tx: Tx, cycle: Cycle, values: dict, expected_version: int | None, reason=""
) -> dict:
    return tx.update(
        cycle,
        values,
        expected_version=cycle.version if expected_version is None else expected_version,
        what=f"cycle {cycle.label}",
        entity="cycle",
        entity_id=cycle.label,
        action=f"cycle.{tx.use_case.removesuffix('_cycle')}",
        reason=reason,
        cycle_id=cycle.id,
    )


def unconfirmed_units(tx: Tx, cycle: Cycle) -> list[str]:
    codes: set[str] = set()
    for model in (RiskRating, ControlRating):
        codes.update(
            tx.session.scalars(
                select(Unit.code)
                .join(model, model.unit_id == Unit.id)
                .where(model.cycle_id == cycle.id, model.confirmed.is_(False))
                .distinct()
            )
        )
    return sorted(codes)


@use_case("officer", ministry_wide=True)
def submit_cycle(tx: Tx, label: str, *, expected_version: int | None = None) -> dict:
    """Send a draft for review; every rating must have been confirmed first."""
    cycle = tx.cycle(label)
    tx.writable(cycle, "draft")
    pending = unconfirmed_units(tx, cycle)
    if pending:
        shown = ", ".join(pending[:5]) + (" ..." if len(pending) > 5 else "")
        raise ValidationError(
            "ratings",
            f"{len(pending)} unit(s) still have unconfirmed ratings ({shown}); "
            "confirm or change them before submitting",
        )
    values = {"status": "in_review", "submitted_by": tx.who, "submitted_at": utcnow()}
    return _transition(tx, cycle, values, expected_version)


@use_case("manager", ministry_wide=True)
def approve_cycle(tx: Tx, label: str, *, expected_version: int | None = None) -> dict:
    """Approve a cycle under review: only someone who neither drafted nor submitted it."""
    cycle = tx.cycle(label)
    tx.writable(cycle, "in_review")
    for did, by in (("drafted", cycle.drafted_by), ("submitted", cycle.submitted_by)):
        if by == tx.who:
            raise FourEyesViolation(tx.who, tx.actor.role, tx.use_case, cycle.label, did)
    values = {
        "status": "approved",
        "approved_by": tx.who,
        "reviewed_by": tx.who,
        "approved_at": utcnow(),
    }
    return _transition(tx, cycle, values, expected_version)


@use_case("manager", ministry_wide=True)
def lock_cycle(tx: Tx, label: str, *, expected_version: int | None = None) -> dict:
    """Freeze an approved cycle for good: it becomes the record for the next cycle's trend."""
    cycle = tx.cycle(label)
    tx.writable(cycle, "approved")
    return _transition(tx, cycle, {"status": "locked", "locked_at": utcnow()}, expected_version)


@use_case("manager", ministry_wide=True)
def reopen_cycle(tx: Tx, label: str, *, reason: str, expected_version: int | None = None) -> dict:
    """Send a cycle under review or approved back to draft, saying why (locked is final)."""
    if not reason or not reason.strip():
        raise ValidationError("reason", "say why the cycle is reopened")
    cycle = tx.cycle(label)
    tx.writable(cycle, "in_review", "approved")
    values = {
        "status": "draft",
        "submitted_by": None,
        "submitted_at": None,
        "approved_by": None,
        "approved_at": None,
        "reviewed_by": None,
    }
    return _transition(tx, cycle, values, expected_version, reason.strip())


@use_case("officer", "manager")
def comment(tx: Tx, label: str, text: str) -> dict:
    if not text or not text.strip():
        raise ValidationError("comment", "must not be empty")
    cycle = tx.cycle(label)
    tx.writable(cycle)
    row = Comment(cycle_id=cycle.id, author=tx.who, text=text.strip())
    tx.session.add(row)
    tx.session.flush()
    after = snapshot(row)
    tx.audit("cycle.comment", "comment", row.id, after=after, cycle_id=cycle.id)
    return after


@use_case(*READERS)
def comments(tx: Tx, label: str) -> pd.DataFrame:
    cycle = tx.cycle(label)
    rows = tx.session.scalars(
        select(Comment).where(Comment.cycle_id == cycle.id).order_by(Comment.at, Comment.id)
    )
    return pd.DataFrame([snapshot(c) for c in rows], columns=["id", "author", "at", "text"])
