"""Creating a cycle's rows in bulk: one INSERT per table, one audit event per cycle.

A cycle holds a rating for every (active unit, catalogue risk of its type) and every
(active unit, catalogue control of its type). They start from the previous cycle's answers
when there is one, else from the catalogue defaults (`riskmap.rules`: where an item
applies, the default rating), unconfirmed either way: the officer confirms or changes each
one. Shared by `start_cycle` and the demo ministry.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from riskmap import rules, vocabulary
from riskmap.catalogue import Catalogue
from riskmap.service.core import Tx, snapshot
from riskmap.store.models import Action, ControlRating, Cycle, RiskRating, Unit

OPEN_STATUSES = vocabulary.OPEN_ACTION_STATUSES


def active_units(tx: Tx) -> list[Unit]:
    org = tx.organisation()
    return list(
        tx.session.scalars(
            select(Unit)
            .where(Unit.organisation_id == org.id, Unit.retired.is_(False))
            .order_by(Unit.id)
        )
    )


def _answers(
    tx: Tx, previous: Cycle | None, model: Any, item: str, levels: tuple[str, ...]
) -> dict[tuple[int, str], Any]:
    """Last cycle's answers of one kind (risk or control ratings) by unit key and item: what
    a new cycle starts from (none without a previous cycle)."""
    if previous is None:
        return {}
    c = model.__table__.c
    cols = [c.unit_id, c[item], c.applicable, *(c[k] for k in levels), c.justification]
    rows = tx.session.execute(select(*cols).where(c.cycle_id == previous.id))
    return {(row.unit_id, getattr(row, item)): row for row in rows}


def baseline_rows(
    tx: Tx, units: list[Unit], previous: Cycle | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Risk and control rating rows (without cycle) for `units`: previous answers or defaults."""
    cat: Catalogue = tx.catalogue
    prev_risk = _answers(tx, previous, RiskRating, "risk_id", ("likelihood", "impact"))
    prev_ctl = _answers(tx, previous, ControlRating, "control_id", ("maturity", "evidence"))

    risks_of = {t.id: [r for r in cat.risks if rules.risk_applies(r, t.id)] for t in cat.unit_types}
    controls_of = {
        t.id: [c for c in cat.controls if rules.control_applies(c, t.id)] for t in cat.unit_types
    }
    not_in_place = rules.default_control_maturity(cat)
    risk_rows: list[dict[str, Any]] = []
    control_rows: list[dict[str, Any]] = []
    for unit in units:
        for risk in risks_of.get(unit.unit_type, ()):
            prev = prev_risk.get((unit.id, risk.id))
            start = rules.risk_baseline(
                risk,
                unit.unit_type,
                cat,
                (prev.likelihood, prev.impact) if prev else None,
                unit.exposure,
            )
            assert start is not None  # the risk applies to the unit's type
            risk_rows.append(
                {
                    "unit_id": unit.id,
                    "risk_id": risk.id,
                    "applicable": prev.applicable if prev else True,
                    "likelihood": start.likelihood,
                    "impact": start.impact,
                    "justification": prev.justification if prev else "",
                }
            )
        for control in controls_of.get(unit.unit_type, ()):
            prev = prev_ctl.get((unit.id, control.id))
            control_rows.append(
                {
                    "unit_id": unit.id,
                    "control_id": control.id,
                    "applicable": prev.applicable if prev else True,
                    "maturity": prev.maturity if prev else not_in_place,
                    "evidence": prev.evidence if prev else "",
                    "justification": prev.justification if prev else "",
                }
            )
    return risk_rows, control_rows


def create_cycle(
    tx: Tx,
    label: str,
    previous: Cycle | None,
    risk_rows: list[dict[str, Any]],
    control_rows: list[dict[str, Any]],
    *,
    how: str,
) -> Cycle:
    """Insert the cycle, its ratings and the previous cycle's open actions; audit once."""
    org = tx.organisation()
    cycle = Cycle(
        organisation_id=org.id,
        label=label,
        catalogue_version=tx.catalogue.version,
        status="draft",
        previous_cycle_id=previous.id if previous else None,
        drafted_by=tx.who,
    )
    tx.session.add(cycle)
    tx.session.flush()
    common = {"cycle_id": cycle.id, "confirmed": False, "version": 1}
    if risk_rows:
        tx.session.execute(insert(RiskRating.__table__), [{**common, **row} for row in risk_rows])
    if control_rows:
        tx.session.execute(
            insert(ControlRating.__table__), [{**common, **row} for row in control_rows]
        )
    carried = carry_actions(tx, previous, cycle, {r["unit_id"] for r in control_rows})
    tx.audit(
        "cycle.start",
        "cycle",
        label,
        after={
            **snapshot(cycle),
            "how": how,
            "from": previous.label if previous else None,
            "risk_ratings": len(risk_rows),
            "control_ratings": len(control_rows),
            "actions_carried": carried,
        },
        cycle_id=cycle.id,
    )
    return cycle


def carry_actions(tx: Tx, previous: Cycle | None, cycle: Cycle, unit_ids: set[int]) -> int:
    """Copy the previous cycle's open actions (for units still assessed) into `cycle`."""
    if previous is None:
        return 0
    table = Action.__table__
    rows = tx.session.execute(
        select(table).where(table.c.cycle_id == previous.id, table.c.status.in_(OPEN_STATUSES))
    ).mappings()
    copies = []
    for row in rows:
        if row["unit_id"] not in unit_ids:
            continue
        copy = {k: v for k, v in row.items() if k != "id"}
        copy.update(cycle_id=cycle.id, carried_from_id=row["id"], version=1)
        copies.append(copy)
    if copies:
        tx.session.execute(insert(table), copies)
    return len(copies)
