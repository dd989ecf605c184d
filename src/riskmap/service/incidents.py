"""Integrity incidents on record: complaints, disciplinary cases, prosecutions, convictions.

Incidents belong to a unit, not to a cycle: they feed the calibration check that flags a
risk rated unlikely where incidents on that very risk are on record.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from riskmap.service import frames
from riskmap.service.core import READERS, Tx, snapshot, use_case
from riskmap.service.errors import ValidationError
from riskmap.store.models import Incident

KINDS = ("complaint", "disciplinary", "prosecution", "conviction", "other")


@use_case("officer")
def record_incident(
    tx: Tx,
    unit: str,
    occurred_on: date,
    kind: str,
    *,
    risk_id: str | None = None,
    outcome: str = "",
    description: str = "",
) -> dict:
    u = tx.unit(unit)
    if kind not in KINDS:
        raise ValidationError("kind of incident", f"choose one of {', '.join(KINDS)}")
    if not isinstance(occurred_on, date):
        raise ValidationError("date of the incident", "give a date (YYYY-MM-DD)")
    if occurred_on > date.today():
        raise ValidationError("date of the incident", "cannot be in the future")
    if risk_id is not None and risk_id not in tx.catalogue.risk_by_id:
        raise ValidationError("risk", f"{risk_id!r} is not a risk of the catalogue")
    row = Incident(
        unit_id=u.id,
        occurred_on=occurred_on,
        risk_id=risk_id,
        kind=kind,
        outcome=outcome.strip(),
        description=description.strip(),
        recorded_by=tx.who,
    )
    tx.session.add(row)
    tx.session.flush()
    after = {**snapshot(row), "unit": unit}
    tx.audit("incident.record", "incident", row.id, after=after)
    return after


@use_case(*READERS)
def incidents(tx: Tx, unit: str | None = None) -> pd.DataFrame:
    if unit:
        tx.guard(unit)
    return frames.incident_frame(tx.session, [unit] if unit else None)
