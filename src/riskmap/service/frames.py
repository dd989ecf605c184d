"""A cycle's data as the frames the pure cores take (units, ratings, incidents).

Units are named by their code in the `unit_code` column, so frames read from the database
look like the CSV form of `riskmap score` and stay comparable across cycles.

Every frame holds only the units the acting person may see (`riskmap.scopes`; the
transaction puts them in `session.info`): whatever a use case reads through here, a
scoped officer's or manager's figures and maps cover their units only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import JSON, Date, DateTime, Select, Time, select
from sqlalchemy.orm import Session, aliased

from riskmap.service.core import VISIBLE_UNITS
from riskmap.store.models import (
    ControlRating,
    Cycle,
    EvidenceItem,
    Incident,
    RiskRating,
    Unit,
)


@dataclass(frozen=True)
class CycleFrames:
    units: pd.DataFrame
    risk_ratings: pd.DataFrame
    control_ratings: pd.DataFrame
    incidents: pd.DataFrame


# Past this many visible units the scope is applied to the rows read (pandas), not in the
# query: a bound parameter per code, under SQLite's and PostgreSQL's limits (32,766; 65,535).
_MOST_CODES_IN_A_QUERY = 20_000


def read(session: Session, stmt: Select, bools: tuple[str, ...] = ()) -> pd.DataFrame:
    """The rows of `stmt` as a frame (the `bools` columns as booleans), visible units only.

    A scoped reader's rows are chosen in the query (`unit_code IN` their codes), so a
    region's manager reads the region's ratings, not the ministry's; `visible` then checks
    the frame again (and is the only filter past `_MOST_CODES_IN_A_QUERY` codes)."""
    codes = session.info.get(VISIBLE_UNITS)
    columns = stmt.selected_columns
    if codes is not None and "unit_code" in columns and len(codes) <= _MOST_CODES_IN_A_QUERY:
        stmt = stmt.where(columns["unit_code"].in_(sorted(codes)))
    frame = _plain_rows(session, stmt, bools)
    if frame is None:
        frame = pd.read_sql(stmt, session.connection())
    frame = visible(session, frame)
    for col in bools:
        frame[col] = frame[col].astype(bool)
    return frame


# Dates, times and JSON are left to read_sql on every database: a driver may hand them back
# as they are (psycopg's time zones are not pandas' "UTC"), where read_sql's frame is the one
# the rest of the code knows.
_CONVERTED = (Date, DateTime, Time, JSON)


def _plain_rows(session: Session, stmt: Select, bools: tuple[str, ...]) -> pd.DataFrame | None:
    """`stmt`'s rows fetched by the driver's own cursor, when no column needs SQLAlchemy's
    conversion of a value (text and numbers, and the `bools`, cast after; no dates); else
    None.

    The same rows in the same transaction as `pd.read_sql`, without building a SQLAlchemy
    row per record: at 10,000 units a cycle's 300,000 control ratings read in about half
    the time, and reading was most of a manager's page on cold data.
    """
    conn = session.connection()
    dialect = conn.dialect
    for column in stmt.selected_columns:
        if column.name in bools:
            continue
        if isinstance(column.type, _CONVERTED) or column.type._cached_result_processor(
            dialect, None
        ):
            return None
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    params: Any = compiled.params
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup or ())
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), params)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    columns = list(stmt.selected_columns.keys())
    return pd.DataFrame.from_records(rows, columns=columns, coerce_float=True)


def visible(session: Session, frame: pd.DataFrame, column: str = "unit_code") -> pd.DataFrame:
    """`frame` without the rows of units outside the actor's scope (codes in `column`)."""
    codes = session.info.get(VISIBLE_UNITS)
    if codes is None or column not in frame.columns:
        return frame
    return frame[frame[column].isin(codes)].reset_index(drop=True)


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
            Unit.code.label("unit_code"),
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


def risk_frame(
    session: Session, cycle: Cycle, unit: str | list[str] | None = None, *, lean: bool = False
) -> pd.DataFrame:
    """Risk ratings; `lean`: only what scoring and the key figures read (see `_ratings`)."""
    r = RiskRating
    stmt = _ratings(r, r.risk_id, (r.likelihood, r.impact), cycle, unit, lean)
    return read(session, stmt, ("applicable", "confirmed"))


def _ratings(
    model: Any, item: Any, levels: tuple, cycle: Cycle, unit: Any, lean: bool = False
) -> Select:
    """The cycle's ratings of one kind (risk or control) by unit code and item, with the
    fields every rating has around its own `levels`; one unit's if `unit` is given.

    `lean` leaves out the fields of the editor (justification, version, who and when):
    the manager's maps and figures never show them, and at 10,000 units converting
    300,000 timestamps was most of reading the cycle."""
    editing = () if lean else (model.justification,)
    edited = () if lean else (model.version, model.updated_by, model.updated_at)
    stmt = (
        select(
            Unit.code.label("unit_code"),
            item,
            model.applicable,
            *levels,
            *editing,
            model.confirmed,
            *edited,
        )
        .join(Unit, Unit.id == model.unit_id)
        .where(model.cycle_id == cycle.id)
        .order_by(Unit.code, item)
    )
    if isinstance(unit, (list, tuple)):  # a part's units (a questionnaire's): their rows only
        return stmt.where(Unit.code.in_(unit))
    return stmt if unit is None else stmt.where(Unit.code == unit)


def control_frame(
    session: Session,
    cycle: Cycle,
    unit: str | list[str] | None = None,
    today: date | None = None,
    *,
    lean: bool = False,
) -> pd.DataFrame:
    """Control ratings as the scoring core reads them (evidence items credited)."""
    c = ControlRating
    stmt = _ratings(c, c.control_id, (c.maturity, c.evidence), cycle, unit, lean)
    frame = read(session, stmt, ("applicable", "confirmed"))
    return credit_evidence_items(frame, evidence_counts(session, cycle, as_of(cycle, today)))


def as_of(cycle: Cycle, today: date | None = None) -> date:
    """The day evidence is judged on: `today`, else the day a locked cycle was locked (its
    scores do not move afterwards), else the current day."""
    if today is not None:
        return today
    if cycle.locked_at is not None:
        return cycle.locked_at.date()
    return date.today()


def evidence_counts(session: Session, cycle: Cycle, day: date) -> pd.DataFrame:
    """Per (unit, control) of the cycle: current (not superseded) items, and those valid on
    `day` (no valid-until, or valid until `day` or later)."""
    e = EvidenceItem
    stmt = (
        select(Unit.code.label("unit_code"), e.control_id, e.valid_until)
        .join(Unit, Unit.id == e.unit_id)
        .where(e.cycle_id == cycle.id, e.control_id.is_not(None), e.superseded_by.is_(None))
    )
    items = read(session, stmt)
    items["valid"] = [pd.isna(v) or pd.Timestamp(v).date() >= day for v in items["valid_until"]]
    return items.groupby(["unit_code", "control_id"], as_index=False).agg(
        items=("valid", "size"), valid_items=("valid", "sum")
    )


def credit_evidence_items(frame: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    """The one place evidence items meet "credit needs evidence" (`scoring.residual` reads
    the `evidence` column): where a (unit, control) has items, `evidence` is non-blank
    only if one of them is valid: the typed text when there is one, else "N valid
    evidence item(s)"; blank when every item has expired, whatever text was typed. A
    rating without items keeps its free text as before. `evidence_text` keeps what was
    typed (the form edits that), `evidence_items` and `valid_evidence_items` say what was
    counted."""
    out = frame.copy()
    n, valid = (pd.Series(v, index=out.index) for v in _item_counts(frame, counts))
    has_items = n > 0
    typed = out["evidence"].fillna("").astype(str)
    # One text per count (a handful), not one Python call per rating.
    words = {k: f"{k} valid evidence item" + ("s" if k != 1 else "") for k in valid.unique()}
    counted = valid.map(words)
    shown = typed.where(typed.str.strip() != "", counted)
    out["evidence"] = typed.where(~has_items, shown.where(valid > 0, ""))
    out["evidence_text"] = typed
    out["evidence_items"] = n
    out["valid_evidence_items"] = valid
    return out


def _item_counts(frame: pd.DataFrame, counts: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per rating of `frame`: its (unit, control)'s items and valid items in `counts` (0
    where none), looked up by position, not merged: at 10,000 units a left merge of the
    300,000 ratings on two text keys was a tenth of reading the cycle."""
    if counts.empty:
        zeros = np.zeros(len(frame), dtype=int)
        return zeros, zeros.copy()
    keys = ["unit_code", "control_id"]
    at = pd.MultiIndex.from_frame(counts[keys]).get_indexer(pd.MultiIndex.from_frame(frame[keys]))
    found = at >= 0
    items = counts["items"].to_numpy(dtype=int)
    valid = counts["valid_items"].to_numpy(dtype=int)
    return (
        np.where(found, items[np.where(found, at, 0)], 0),
        np.where(found, valid[np.where(found, at, 0)], 0),
    )


def incident_frame(session: Session, unit_codes: list[str] | None = None) -> pd.DataFrame:
    stmt = (
        select(
            Incident.id,
            Unit.code.label("unit_code"),
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


def cycle_frames(session: Session, cycle: Cycle, *, lean: bool = False) -> CycleFrames:
    """The cycle's frames; `lean`: ratings without the editor's fields (`_ratings`), for
    reads that score and count but show no rating's history (the manager's pages)."""
    units = unit_frame(session, cycle)
    return CycleFrames(
        units=units,
        risk_ratings=risk_frame(session, cycle, lean=lean),
        control_ratings=control_frame(session, cycle, lean=lean),
        incidents=incident_frame(session),
    )
