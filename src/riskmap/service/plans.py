"""The remediation plan of a cycle: built from the scoring and planning cores, then managed.

`build_plan` stores the actions the budget selects. Rebuilding replaces only generated
actions nobody has touched yet; actions carried from the last cycle, added by hand or
already edited are kept, and a gap they already address gets no second action.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import delete, insert, select

from riskmap.planning import OBJECTIVES, Plan, plan
from riskmap.scoring import score
from riskmap.service import frames
from riskmap.service.core import READERS, Tx, snapshot, use_case
from riskmap.service.errors import NotFound, ValidationError
from riskmap.service.seeding import OPEN_STATUSES
from riskmap.store.models import Action, ControlRating, Cycle, Unit

STATUSES = ("planned", "in_progress", "done", "cancelled")
ACTION_LIST_COLUMNS = [
    "id",
    "unit_id",
    "unit",
    "control_id",
    "control",
    "from_level",
    "to_level",
    "priority",
    "reduction",
    "effort_days",
    "cost",
    "owner",
    "due_date",
    "status",
    "indicator",
    "notes",
    "manual",
    "carried_from_id",
    "version",
]


def default_indicator(tx: Tx, control_id: str, to_level: int) -> str:
    control = tx.catalogue.control_by_id[control_id]
    level = tx.catalogue.method.maturity.levels[to_level].name
    return f"maturity {to_level} ({level}) shown by: {control.evidence[0]}"


def compute_plan(
    tx: Tx,
    cyc: Cycle,
    budget_days: float | None,
    budget_money: float | None,
    start: date | None,
    objective: str = "residual",
) -> Plan:
    """The plan a budget buys for `cyc`: scored, ranked, cut, re-scored (nothing stored).

    One computation for the officer who stores a plan and the reader who tries budgets.
    """
    for name, value in (("budget in person-days", budget_days), ("budget", budget_money)):
        if value is not None and value < 0:
            raise ValidationError(name, "must be zero or more")
    if objective not in OBJECTIVES:
        raise ValidationError("objective", f"must be one of {', '.join(OBJECTIVES)}")
    f = frames.cycle_frames(tx.session, cyc)
    cat = tx.catalogue
    register = score(f.risk_ratings, f.control_ratings, f.units, cat)
    return plan(
        register,
        f.control_ratings,
        f.units,
        f.risk_ratings,
        cat,
        budget_days,
        budget_money,
        start,
        objective=objective,
    )


@use_case("officer")
def build_plan(
    tx: Tx,
    cycle: str,
    *,
    budget_days: float | None = None,
    budget_money: float | None = None,
    start: date | None = None,
    objective: str = "residual",
) -> Plan:
    """Rank the cycle's control gaps, select what the budget affords and store it as actions."""
    cyc = tx.cycle(cycle)
    tx.writable(cyc, "draft")
    result = compute_plan(tx, cyc, budget_days, budget_money, start, objective)
    replaced = tx.session.execute(
        delete(Action).where(
            Action.cycle_id == cyc.id,
            Action.manual.is_(False),
            Action.carried_from_id.is_(None),
            Action.status == "planned",
            Action.version == 1,
        )
    ).rowcount
    ids = dict(tx.session.execute(select(Unit.code, Unit.id)).all())
    kept = set(
        tx.session.execute(
            select(Action.unit_id, Action.control_id).where(
                Action.cycle_id == cyc.id, Action.status.in_(OPEN_STATUSES)
            )
        ).all()
    )
    rows = []
    for a in result.actions.itertuples(index=False):
        unit_id = ids[a.unit_id]
        if (unit_id, a.control_id) in kept:
            continue
        rows.append(
            {
                "cycle_id": cyc.id,
                "unit_id": unit_id,
                "control_id": a.control_id,
                "from_level": int(a.from_level),
                "to_level": int(a.to_level),
                "priority": int(a.priority),
                "reduction": float(a.reduction),
                "effort_days": float(a.effort_days),
                "cost": float(a.cost),
                "owner": a.owner_role,
                "due_date": a.due_date,
                "status": "planned",
                "indicator": default_indicator(tx, a.control_id, int(a.to_level)),
                "notes": "",
                "manual": False,
                "version": 1,
            }
        )
    if rows:
        tx.session.execute(insert(Action.__table__), rows)
    summary = {
        k: (v if v is None or isinstance(v, str) else float(v)) for k, v in result.summary.items()
    }
    tx.audit(
        "plan.build",
        "cycle",
        cyc.label,
        after={**summary, "actions_added": len(rows), "actions_replaced": replaced},
        cycle_id=cyc.id,
    )
    return result


@use_case(*READERS)
def actions(tx: Tx, cycle: str, *, status: str | None = None) -> pd.DataFrame:
    """The cycle's actions with their version (to edit them) and the unit's code."""
    cyc = tx.cycle(cycle)
    stmt = (
        select(Action, Unit.code, Unit.name)
        .join(Unit, Unit.id == Action.unit_id)
        .where(Action.cycle_id == cyc.id)
        .order_by(Action.priority.is_(None), Action.priority, Action.id)
    )
    if status is not None:
        stmt = stmt.where(Action.status == status)
    names = {c.id: c.name for c in tx.catalogue.controls}
    rows = [
        {
            **snapshot(a),
            "unit_id": code,
            "unit": name,
            "control": names.get(a.control_id, a.control_id),
            "due_date": a.due_date,
        }
        for a, code, name in tx.session.execute(stmt)
    ]
    return pd.DataFrame(rows, columns=ACTION_LIST_COLUMNS)


def _status(value: str) -> str:
    if value not in STATUSES:
        raise ValidationError("status", f"choose one of {', '.join(STATUSES)} (got {value!r})")
    return value


def _due(value: date | None) -> date | None:
    if value is not None and not isinstance(value, date):
        raise ValidationError("due date", "give a date (YYYY-MM-DD)")
    return value


@use_case("officer")
def update_action(
    tx: Tx,
    action_id: int,
    *,
    expected_version: int,
    owner: str | None = None,
    due_date: date | None = None,
    status: str | None = None,
    notes: str | None = None,
    indicator: str | None = None,
    reason: str = "",
) -> dict:
    """Edit an action's owner, due date, status, notes or indicator (fields left None stay)."""
    action = tx.session.get(Action, action_id)
    if action is None:
        raise NotFound(f"no action with id {action_id}")
    cyc = tx.session.get(Cycle, action.cycle_id)
    tx.writable(cyc)
    values: dict = {}
    if owner is not None:
        values["owner"] = owner.strip()
    if due_date is not None:
        values["due_date"] = _due(due_date)
    if status is not None:
        values["status"] = _status(status)
    if notes is not None:
        values["notes"] = notes.strip()
    if indicator is not None:
        values["indicator"] = indicator.strip()
    return tx.update(
        action,
        values,
        expected_version=expected_version,
        what=f"action {action_id} ({action.control_id})",
        entity="action",
        entity_id=str(action_id),
        action="action.edit",
        reason=reason,
        cycle_id=cyc.id,
    )


@use_case("officer")
def add_action(
    tx: Tx,
    cycle: str,
    unit: str,
    control_id: str,
    *,
    to_level: int,
    owner: str = "",
    due_date: date | None = None,
    notes: str = "",
    indicator: str = "",
) -> dict:
    """Add an action by hand: raise a control of a unit to `to_level`."""
    cyc = tx.cycle(cycle)
    tx.writable(cyc)
    u = tx.unit(unit)
    cat = tx.catalogue
    control = cat.control_by_id.get(control_id)
    if control is None or u.unit_type not in control.unit_types:
        raise ValidationError(
            "control", f"{control_id!r} is not a control for a {u.unit_type} unit"
        )
    current = tx.session.scalar(
        select(ControlRating.maturity).where(
            ControlRating.cycle_id == cyc.id,
            ControlRating.unit_id == u.id,
            ControlRating.control_id == control_id,
        )
    )
    from_level = int(current or 0)
    top = cat.method.maturity.max
    if not isinstance(to_level, int) or not from_level < to_level <= top:
        raise ValidationError(
            "target maturity", f"must be above the current level {from_level} and at most {top}"
        )
    steps = to_level - from_level
    row = Action(
        cycle_id=cyc.id,
        unit_id=u.id,
        control_id=control_id,
        from_level=from_level,
        to_level=to_level,
        priority=None,
        reduction=0.0,
        effort_days=steps * control.effort_days,
        cost=steps * getattr(cat.method.cost_classes, control.cost_class),
        owner=owner.strip() or control.owner_role,
        due_date=_due(due_date),
        status="planned",
        indicator=indicator.strip() or default_indicator(tx, control_id, to_level),
        notes=notes.strip(),
        manual=True,
    )
    tx.session.add(row)
    tx.session.flush()
    after = snapshot(row)
    tx.audit("action.add", "action", row.id, after=after, cycle_id=cyc.id)
    return after
