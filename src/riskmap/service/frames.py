"""A cycle's data as the frames the pure cores take (units, ratings, incidents).

Units are named by their code in the `unit_id` column, so frames read from the database
look like the CSV form of `riskmap score` and stay comparable across cycles.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from riskmap.store.models import ControlRating, Cycle, Incident, RiskRating, Unit


@dataclass(frozen=True)
class CycleFrames:
    units: pd.DataFrame
    risk_ratings: pd.DataFrame
    control_ratings: pd.DataFrame
    incidents: pd.DataFrame


def read(session: Session, stmt: Select, bools: tuple[str, ...] = ()) -> pd.DataFrame:
    frame = pd.read_sql(stmt, session.connection())
    for col in bools:
        frame[col] = frame[col].astype(bool)
    return frame


def unit_frame(session: Session, cycle: Cycle) -> pd.DataFrame:
    """The units assessed in `cycle` (those with ratings in it, even if retired since)."""
    parent = aliased(Unit)
    in_cycle = (
        select(RiskRating.unit_id)
        .where(RiskRating.cycle_id == cycle.id)
        .union(select(ControlRating.unit_id).where(ControlRating.cycle_id == cycle.id))
    )
    stmt = (
        select(
            Unit.code.label("unit_id"),
            Unit.name.label("unit"),
            Unit.unit_type,
            Unit.region,
            parent.code.label("parent"),
            Unit.headcount,
            Unit.exposure,
        )
        .outerjoin(parent, parent.id == Unit.parent_id)
        .where(Unit.id.in_(in_cycle))
        .order_by(Unit.code)
    )
    frame = read(session, stmt)
    # The mean exposure factor (the keys are the method's factors: the service checks them
    # on every save); the profile itself stays in the store.
    frame["exposure_index"] = [_mean(e) for e in frame.pop("exposure")]
    return frame


def _mean(profile) -> float:
    if isinstance(profile, str):  # some drivers hand JSON back as text
        import json

        profile = json.loads(profile)
    values = [float(v) for v in (profile or {}).values()]
    return sum(values) / len(values) if values else float("nan")


def risk_frame(session: Session, cycle: Cycle, unit: str | None = None) -> pd.DataFrame:
    r = RiskRating
    stmt = (
        select(
            Unit.code.label("unit_id"),
            r.risk_id,
            r.applicable,
            r.likelihood,
            r.impact,
            r.justification,
            r.confirmed,
            r.version,
            r.updated_by,
            r.updated_at,
        )
        .join(Unit, Unit.id == r.unit_id)
        .where(r.cycle_id == cycle.id)
        .order_by(Unit.code, r.risk_id)
    )
    if unit is not None:
        stmt = stmt.where(Unit.code == unit)
    return read(session, stmt, ("applicable", "confirmed"))


def control_frame(session: Session, cycle: Cycle, unit: str | None = None) -> pd.DataFrame:
    c = ControlRating
    stmt = (
        select(
            Unit.code.label("unit_id"),
            c.control_id,
            c.applicable,
            c.maturity,
            c.evidence,
            c.justification,
            c.confirmed,
            c.version,
            c.updated_by,
            c.updated_at,
        )
        .join(Unit, Unit.id == c.unit_id)
        .where(c.cycle_id == cycle.id)
        .order_by(Unit.code, c.control_id)
    )
    if unit is not None:
        stmt = stmt.where(Unit.code == unit)
    return read(session, stmt, ("applicable", "confirmed"))


def incident_frame(session: Session, unit_codes: list[str] | None = None) -> pd.DataFrame:
    stmt = (
        select(
            Incident.id,
            Unit.code.label("unit_id"),
            Incident.risk_id,
            Incident.occurred_on,
            Incident.kind,
            Incident.outcome,
            Incident.description,
            Incident.recorded_by,
        )
        .join(Unit, Unit.id == Incident.unit_id)
        .order_by(Incident.occurred_on, Incident.id)
    )
    if unit_codes is not None:
        stmt = stmt.where(Unit.code.in_(unit_codes))
    return read(session, stmt)


def cycle_frames(session: Session, cycle: Cycle) -> CycleFrames:
    units = unit_frame(session, cycle)
    return CycleFrames(
        units=units,
        risk_ratings=risk_frame(session, cycle),
        control_ratings=control_frame(session, cycle),
        incidents=incident_frame(session),
    )
