"""Rating a unit's risks and controls, confirming ratings, reading them back.

The rules of a rating (scales, baselines, when a justification is needed) are
`riskmap.rules`, shared with the questionnaire and the CSV files; here they meet the
database: last cycle's rating, the row's version, the audit event.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import select, update

from riskmap import rules, texts
from riskmap.catalogue.models import Scale
from riskmap.service import frames
from riskmap.service.core import READERS, Tx, Update, use_case
from riskmap.service.errors import NotFound, ValidationError
from riskmap.store.models import ControlRating, Cycle, RiskRating, Unit, utcnow

LOOK_UP = object()  # risk_values: read the baseline of the row


def _level(scale: Scale, field: str, value: Any) -> int:
    if not rules.is_level(value, scale):
        names = ", ".join(f"{k} {lv.name}" for k, lv in sorted(scale.levels.items()))
        raise ValidationError(field, f"choose a level from {scale.min} to {scale.max} ({names})")
    return value


def _text(value: str | None, current: str, field: str = "justification") -> str:
    """The text a save stores (None keeps the row's), within `riskmap.texts`' rules."""
    if value is None:
        return current
    text = value.strip()
    problem = texts.text_problem(field, text)
    if problem:
        raise ValidationError(field, problem)
    return text


def _applicability(
    row: RiskRating | ControlRating, applicable: bool | None, justification: str | None
) -> tuple[bool, str]:
    """(applicable, justification) a save stores; None keeps the row's value."""
    new_a = row.applicable if applicable is None else bool(applicable)
    return new_a, _text(justification, row.justification)


def _refuse(problem: str | None) -> None:
    if problem is not None:
        raise ValidationError("justification", problem)


def rating_update(
    cyc: Cycle,
    unit_code: str,
    row: RiskRating | ControlRating,
    values: dict[str, Any],
    *,
    expected_version: int,
    reason: str | None,
) -> Update:
    """The audited change of rating `row` to `values`: what a conflict names, the audit
    event's entity and action. Every rating save is one (a page's, a file's row)."""
    kind = "risk" if isinstance(row, RiskRating) else "control"
    item_id = row.risk_id if kind == "risk" else row.control_id
    return Update(
        row,
        values,
        expected_version,
        what=f"the rating of {kind} {item_id} in unit {unit_code}",
        entity=f"{kind}_rating",
        entity_id=f"{cyc.label}/{unit_code}/{item_id}",
        action=f"{kind}_rating.save",
        reason=values["justification"] if reason is None else reason,
        cycle_id=cyc.id,
    )


def _save(
    tx: Tx,
    cyc: Cycle,
    u: Unit,
    row: RiskRating | ControlRating,
    values: dict[str, Any],
    *,
    expected_version: int,
    reason: str | None,
) -> dict:
    """Store `values` on rating `row`, audited."""
    change = rating_update(
        cyc, u.code, row, values, expected_version=expected_version, reason=reason
    )
    return tx.update_many([change])[0]


def _draft_unit(tx: Tx, cycle: str, unit: str) -> tuple[Cycle, Unit]:
    """The cycle and unit a page's rating save names: a rating changes only in a draft
    cycle, and only in a unit of the actor's scope (`Tx.unit` refuses the others)."""
    cyc = tx.cycle(cycle)
    tx.writable(cyc, "draft")
    return cyc, tx.unit(unit)


def baseline(tx: Tx, cycle: Cycle, unit: Unit, risk_id: str) -> rules.Baseline | None:
    """What a rating is compared with to require a justification (`rules.risk_baseline`)."""
    previous = None
    if cycle.previous_cycle_id is not None:
        previous = tx.session.execute(
            select(RiskRating.likelihood, RiskRating.impact).where(
                RiskRating.cycle_id == cycle.previous_cycle_id,
                RiskRating.unit_id == unit.id,
                RiskRating.risk_id == risk_id,
            )
        ).first()
    risk = tx.catalogue.risk_by_id.get(risk_id)
    if risk is None:
        return None
    return rules.risk_baseline(
        risk, unit.unit_type, tx.catalogue, tuple(previous) if previous else None, unit.exposure
    )


def risk_row(tx: Tx, cyc: Cycle, u: Unit, risk_id: str) -> RiskRating:
    row = tx.session.scalar(
        select(RiskRating).where(
            RiskRating.cycle_id == cyc.id, RiskRating.unit_id == u.id, RiskRating.risk_id == risk_id
        )
    )
    if row is None:
        raise NotFound(f"risk {risk_id} is not rated for unit {u.code} in cycle {cyc.label}")
    return row


def control_row(tx: Tx, cyc: Cycle, u: Unit, control_id: str) -> ControlRating:
    row = tx.session.scalar(
        select(ControlRating).where(
            ControlRating.cycle_id == cyc.id,
            ControlRating.unit_id == u.id,
            ControlRating.control_id == control_id,
        )
    )
    if row is None:
        raise NotFound(f"control {control_id} is not rated for unit {u.code} in cycle {cyc.label}")
    return row


def risk_values(
    tx: Tx,
    cyc: Cycle,
    u: Unit,
    row: RiskRating,
    *,
    likelihood: int | None = None,
    impact: int | None = None,
    applicable: bool | None = None,
    justification: str | None = None,
    confirm: bool = True,
    known_baseline: rules.Baseline | None | object = LOOK_UP,
) -> dict[str, Any]:
    """The values a save of risk rating `row` stores, or `ValidationError` naming the field.

    The rules of every risk save (a page, the command line or a questionnaire import):
    levels on the method's scales; "not applicable" needs a justification, and so does a
    likelihood x impact that differs from the baseline (last cycle's rating, else the
    catalogue default). Fields left None keep the row's value. `known_baseline`: the
    baseline already read for many rows at once (`with_baseline`), so that an import of
    thousands of rows does not look each one up; by default it is read here.
    """
    method = tx.catalogue.method
    new_l = _level(
        method.likelihood, "likelihood", row.likelihood if likelihood is None else likelihood
    )
    new_i = _level(method.impact, "impact", row.impact if impact is None else impact)
    new_a, text = _applicability(row, applicable, justification)
    _refuse(
        rules.risk_justification_problem(
            risk_id=row.risk_id,
            unit=u.code,
            applicable=new_a,
            likelihood=new_l,
            impact=new_i,
            justification=text,
            baseline=(
                baseline(tx, cyc, u, row.risk_id) if known_baseline is LOOK_UP else known_baseline
            ),
        )
    )
    return {
        "likelihood": new_l,
        "impact": new_i,
        "applicable": new_a,
        "justification": text,
        "confirmed": True if confirm else row.confirmed,
    }


def control_values(
    tx: Tx,
    u: Unit,
    row: ControlRating,
    *,
    maturity: int | None = None,
    applicable: bool | None = None,
    evidence: str | None = None,
    justification: str | None = None,
    confirm: bool = True,
) -> dict[str, Any]:
    """The values a save of control rating `row` stores, or `ValidationError` naming the field.

    The rules of every control save: a maturity on the method's scale, and a justification
    for a control marked not applicable. Fields left None keep the row's value.
    """
    new_m = _level(
        tx.catalogue.method.maturity, "maturity", row.maturity if maturity is None else maturity
    )
    new_a, text = _applicability(row, applicable, justification)
    _refuse(
        rules.control_justification_problem(
            control_id=row.control_id, unit=u.code, applicable=new_a, justification=text
        )
    )
    return {
        "maturity": new_m,
        "applicable": new_a,
        "evidence": _text(evidence, row.evidence, "evidence"),
        "justification": text,
        "confirmed": True if confirm else row.confirmed,
    }


@use_case("officer")
def rate_risk(
    tx: Tx,
    cycle: str,
    unit: str,
    risk_id: str,
    *,
    expected_version: int,
    likelihood: int | None = None,
    impact: int | None = None,
    applicable: bool | None = None,
    justification: str | None = None,
    confirm: bool = True,
) -> dict:
    """Save a risk rating (fields left None keep their value); saving confirms it."""
    cyc, u = _draft_unit(tx, cycle, unit)
    row = risk_row(tx, cyc, u, risk_id)
    values = risk_values(
        tx,
        cyc,
        u,
        row,
        likelihood=likelihood,
        impact=impact,
        applicable=applicable,
        justification=justification,
        confirm=confirm,
    )
    return _save(tx, cyc, u, row, values, expected_version=expected_version, reason=None)


@use_case("officer")
def rate_control(
    tx: Tx,
    cycle: str,
    unit: str,
    control_id: str,
    *,
    expected_version: int,
    maturity: int | None = None,
    applicable: bool | None = None,
    evidence: str | None = None,
    justification: str | None = None,
    confirm: bool = True,
) -> dict:
    """Save a control rating: maturity, applicability (with why not), evidence, justification."""
    cyc, u = _draft_unit(tx, cycle, unit)
    row = control_row(tx, cyc, u, control_id)
    values = control_values(
        tx,
        u,
        row,
        maturity=maturity,
        applicable=applicable,
        evidence=evidence,
        justification=justification,
        confirm=confirm,
    )
    return _save(tx, cyc, u, row, values, expected_version=expected_version, reason=None)


@use_case("officer")
def confirm_ratings(tx: Tx, cycle: str, unit: str | None = None) -> dict:
    """Confirm as they stand every unconfirmed rating of a unit (or of the whole cycle)."""
    cyc = tx.cycle(cycle)
    tx.writable(cyc, "draft")
    counts: dict[str, Any] = {"unit": unit}
    for name, model in (("risk_ratings", RiskRating), ("control_ratings", ControlRating)):
        table = model.__table__
        stmt = update(table).where(table.c.cycle_id == cyc.id, table.c.confirmed.is_(False))
        if unit is not None:
            stmt = stmt.where(table.c.unit_id == tx.unit(unit).id)
        stmt = tx.only_visible(stmt, table.c.unit_id)  # "all units": all of the scope's
        result = tx.session.execute(
            stmt.values(
                confirmed=True,
                version=table.c.version + 1,
                updated_by=tx.who,
                updated_at=utcnow(),
            )
        )
        counts[name] = result.rowcount
    if counts["risk_ratings"] or counts["control_ratings"]:
        tx.audit("ratings.confirm", "cycle", cyc.label, after=counts, cycle_id=cyc.id)
    return counts


def with_baseline(tx: Tx, cyc: Cycle, frame: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """`frame` (risk ratings of `cyc`) with the baseline each is compared with and its
    source (`rules.BASELINE_COLUMNS`)."""
    previous = None
    if cyc.previous_cycle_id is not None:
        previous = frames.risk_frame(tx.session, tx.session.get(Cycle, cyc.previous_cycle_id))
    # The units' exposure profiles move the catalogue default (as `baseline` does for one).
    codes = list(units["unit_code"].drop_duplicates())
    exposure = dict(
        tx.session.execute(select(Unit.code, Unit.exposure).where(Unit.code.in_(codes))).all()
    )
    units = units.assign(exposure=units["unit_code"].map(lambda c: exposure.get(c) or None))
    base = rules.risk_baselines(frame, units, tx.catalogue, previous)
    return frame.drop(columns=rules.BASELINE_COLUMNS, errors="ignore").join(base)


@use_case(*READERS)
def risk_ratings(tx: Tx, cycle: str, unit: str | None = None) -> pd.DataFrame:
    """Risk ratings of a cycle (or one unit) with version, confirmation and baseline
    (`baseline_likelihood`, `baseline_impact`, `baseline_source`: "last cycle's rating" or
    "catalogue default", per rating)."""
    cyc = tx.cycle(cycle)
    if unit is not None:
        tx.guard(unit)
    frame = frames.risk_frame(tx.session, cyc, unit)
    titles = {r.id: r.title for r in tx.catalogue.risks}
    frame.insert(2, "risk", frame["risk_id"].map(titles))
    return with_baseline(tx, cyc, frame, frames.unit_frame(tx.session, cyc))


@use_case(*READERS)
def control_ratings(tx: Tx, cycle: str, unit: str | None = None) -> pd.DataFrame:
    """Control ratings of a cycle (or one unit) with version and confirmation."""
    cyc = tx.cycle(cycle)
    if unit is not None:
        tx.guard(unit)
    frame = frames.control_frame(tx.session, cyc, unit)
    # What the officer typed, to edit; the credited text is the scoring frames' business.
    frame["evidence"] = frame.pop("evidence_text")
    names = {c.id: c.name for c in tx.catalogue.controls}
    frame.insert(2, "control", frame["control_id"].map(names))
    return frame
