"""The remediation plan of a cycle: built from the scoring and planning cores, then managed.

`build_plan` stores the actions the budget selects. Rebuilding replaces only generated
actions nobody has touched yet; actions carried from the last cycle, added by hand or
already edited are kept, and a gap they already address gets no second action.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import delete, func, insert, select

from riskmap import vocabulary
from riskmap.planning import OBJECTIVES, Plan, plan
from riskmap.service.core import READERS, Tx, snapshot, use_case
from riskmap.service.errors import NotFound, ValidationError
from riskmap.service.scored import scored
from riskmap.service.seeding import OPEN_STATUSES
from riskmap.store.models import Action, ControlRating, Cycle, Unit

STATUSES = vocabulary.ACTION_STATUSES
ACTION_LIST_COLUMNS = [
    "id",
    "unit_code",
    "unit",
    "control_id",
    "control",
    "from_level",
    "to_level",
    "priority",
    "residual_removed",
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
    register, f = scored(tx, cyc)  # read and scored once per data version
    cat = tx.catalogue
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


# How a chosen action would be (or was) stored against the cycle's actions.
ADDED, REPLACED, KEPT = "added", "replaced", "kept"
STORED_AS_HELP = (
    "added: a new action; replaced: rewrites a generated action nobody touched; kept: an "
    "open action (carried, hand-made or edited) already addresses the gap and keeps its date."
)


def _replaceable(cyc: Cycle):
    """Generated actions nobody touched: a new plan replaces or removes them."""
    return (
        (Action.cycle_id == cyc.id)
        & Action.manual.is_(False)
        & Action.carried_from_id.is_(None)
        & (Action.status == "planned")
        & (Action.version == 1)
    )


def against_stored(tx: Tx, cyc: Cycle, chosen: pd.DataFrame, today: date) -> pd.DataFrame:
    """The plan's `chosen` actions as storing them would leave them, read before storing.

    `stored_as`: `added` (a new action), `replaced` (a generated action nobody touched is
    rewritten with the new target and date) or `kept` (an open action of the cycle already
    addresses the gap: carried from the last cycle, made by hand or edited; it keeps its
    own target and due date). A kept action's due date is the stored one, and it is
    `overdue` when that date has passed: the preview says so before anything is stored.
    """
    from riskmap.service.overview import with_overdue  # the one lateness rule, per action

    out = chosen.copy()
    if out.empty:
        return out.assign(stored_as=[], overdue=[], days_overdue=[], kept_action_id=[])
    rows = tx.session.execute(
        select(Unit.code, Action.control_id, Action.id, Action.due_date, _replaceable(cyc))
        .join(Unit, Unit.id == Action.unit_id)
        .where(Action.cycle_id == cyc.id, Action.status.in_(OPEN_STATUSES))
    ).all()
    kept = {(u, c): (i, d) for u, c, i, d, gen in rows if not gen}
    generated = {(u, c) for u, c, _, _, gen in rows if gen}
    keys = list(zip(out["unit_code"], out["control_id"], strict=True))
    out["stored_as"] = [KEPT if k in kept else REPLACED if k in generated else ADDED for k in keys]
    out["kept_action_id"] = [kept[k][0] if k in kept else None for k in keys]
    due = zip(keys, out["due_date"], strict=True)
    out["due_date"] = [kept[k][1] if k in kept else d for k, d in due]
    out["status"] = "planned"
    return with_overdue(out, today).drop(columns="status")


@dataclass(frozen=True)
class StoredPlan:
    """What `build_plan` stored: the plan, and what it did to the cycle's actions.

    `chosen` is the plan's actions as stored (`against_stored`: added, replaced or kept,
    with the due date each carries and whether it is overdue); `removed` counts generated
    actions nobody touched that the new plan no longer chooses. Attributes of the `Plan`
    (ranking, actions, summary, registers) read through.
    """

    plan: Plan
    chosen: pd.DataFrame
    added: int
    replaced: int
    kept: int
    removed: int

    def __getattr__(self, name: str):
        # Only for the Plan's own fields: never for dunders or `plan` itself (copy and
        # pickle look attributes up before the fields are set).
        if name.startswith("__") or name == "plan":
            raise AttributeError(name)
        return getattr(self.plan, name)

    def report(self) -> str:
        """The officer's message: what was stored, and the due dates it carries."""
        parts = [f"{self.added} added", f"{self.replaced} replaced", f"{self.kept} kept"]
        text = (
            f"Plan stored: {len(self.chosen)} actions chosen for "
            f"{float(self.plan.summary.get('effort_days') or 0):,.0f} person-days "
            f"({', '.join(parts)}); {self.removed} earlier generated actions removed."
        )
        due = pd.to_datetime(self.chosen.get("due_date"), errors="coerce").dropna()
        if len(due):
            text += f" Due {due.min():%Y-%m-%d} to {due.max():%Y-%m-%d}."
        late = int(self.chosen["overdue"].sum()) if "overdue" in self.chosen else 0
        if late:
            text += f" {late} kept actions are already overdue."
        return text


@use_case("officer", ministry_wide=True)
def build_plan(
    tx: Tx,
    cycle: str,
    *,
    budget_days: float | None = None,
    budget_money: float | None = None,
    start: date | None = None,
    objective: str = "residual",
    today: date | None = None,
) -> StoredPlan:
    """Rank the cycle's control gaps, select what the budget affords and store it as actions.

    Returns what was stored (`StoredPlan`): the officer and the audit event see the same
    counts of added, replaced, kept and removed actions, and the due dates stored.
    """
    cyc = tx.cycle(cycle)
    tx.writable(cyc, "draft")
    result = compute_plan(tx, cyc, budget_days, budget_money, start, objective)
    chosen = against_stored(tx, cyc, result.actions, today or date.today())
    before = tx.session.scalar(select(func.count()).where(Action.cycle_id == cyc.id))
    deleted = tx.session.execute(delete(Action).where(_replaceable(cyc))).rowcount
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
        unit_id = ids[a.unit_code]
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
                "reduction": float(a.residual_removed),  # the store's name: see actions()
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
    counts = chosen["stored_as"].value_counts() if len(chosen) else pd.Series(dtype=int)
    added, replaced = int(counts.get(ADDED, 0)), int(counts.get(REPLACED, 0))
    kept = int(counts.get(KEPT, 0))
    if added + replaced != len(rows):  # the two readings of the cycle's actions disagree
        raise RuntimeError("plan storage: chosen actions and inserted rows differ")
    removed = int(deleted) - replaced
    due = pd.to_datetime(chosen.get("due_date"), errors="coerce").dropna()
    tx.audit(
        "plan.build",
        "cycle",
        cyc.label,
        after={
            **summary,
            "actions_before": int(before or 0),
            "actions_after": int(before or 0) - removed + added,
            "actions_added": added,
            "actions_replaced": replaced,
            "actions_kept": kept,
            "actions_removed": removed,
            "kept_overdue": int(chosen["overdue"].sum()) if len(chosen) else 0,
            "due_from": due.min().date().isoformat() if len(due) else None,
            "due_to": due.max().date().isoformat() if len(due) else None,
        },
        cycle_id=cyc.id,
    )
    return StoredPlan(result, chosen, added, replaced, kept, removed)


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
    stmt = tx.only_visible(stmt, Action.unit_id)
    if status is not None:
        stmt = stmt.where(Action.status == status)
    names = {c.id: c.name for c in tx.catalogue.controls}
    rows = [
        {
            **snapshot(a),
            # The one mapping of the plan's absolute amount: `residual_removed` everywhere
            # outside the store, whose column keeps its first name `reduction`.
            "residual_removed": a.reduction,
            "unit_code": code,
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
    tx.guard(tx.session.get(Unit, action.unit_id).code)
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
