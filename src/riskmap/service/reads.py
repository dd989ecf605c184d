"""Reading a cycle: the scored register, roll-ups, calibration flags, trends, audit trail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import select

from riskmap import audit, checkpoints
from riskmap.figures import action_figures, direction
from riskmap.scoring import (
    by_risk,
    by_stage,
    by_unit,
    by_unit_type,
    calibration_flags,
    maturity_by_principle,
    ministry,
)
from riskmap.service import frames
from riskmap.service.core import READERS, Tx, json_value, use_case
from riskmap.service.errors import ValidationError
from riskmap.service.scored import scored
from riskmap.store.models import Action, AuditEvent, Cycle, Unit


def _register(tx: Tx, cyc: Cycle) -> tuple[pd.DataFrame, frames.CycleFrames]:
    return scored(tx, cyc)  # read and scored once per data version (the lean frames)


@use_case(*READERS)
def cycle_frames(tx: Tx, cycle: str) -> frames.CycleFrames:
    """The cycle's units, ratings and incidents as frames (for exports and the CLI)."""
    return frames.cycle_frames(tx.session, tx.cycle(cycle))


@use_case(*READERS)
def register(tx: Tx, cycle: str) -> pd.DataFrame:
    """Inherent and residual risk of every applicable unit x risk of the cycle."""
    return _register(tx, tx.cycle(cycle))[0]


@use_case(*READERS)
def aggregations(tx: Tx, cycle: str) -> dict[str, Any]:
    """Roll-ups of the register: ministry figures, per unit, unit type, stage, risk, principle."""
    reg, f = _register(tx, tx.cycle(cycle))
    cat = tx.catalogue
    return {
        "ministry": ministry(reg, cat),
        "by_unit": by_unit(reg, cat),
        "by_unit_type": by_unit_type(reg, cat),
        "by_stage": by_stage(reg, cat),
        "by_risk": by_risk(reg, cat),
        "maturity_by_principle": maturity_by_principle(f.control_ratings, f.units, cat),
    }


@use_case(*READERS)
def method_sensitivity(tx: Tx, cycle: str) -> pd.DataFrame:
    """Cells per residual band of the cycle with each method number moved one step each way."""
    from riskmap.scoring.sensitivity import sensitivity

    f = frames.cycle_frames(tx.session, tx.cycle(cycle))
    return sensitivity(f.risk_ratings, f.control_ratings, f.units, tx.catalogue)


@use_case(*READERS)
def calibration(tx: Tx, cycle: str) -> pd.DataFrame:
    """Ratings out of line with peer units, contradicted by incidents on record, or by the
    unit's own exposure profile; controls whose evidence expired."""
    reg, f = _register(tx, tx.cycle(cycle))
    incidents = f.incidents[["unit_code", "risk_id"]]
    return calibration_flags(reg, incidents, tx.catalogue, f.units, f.control_ratings)


@dataclass(frozen=True)
class Trend:
    """What changed from cycle `before` to cycle `after`."""

    before: str
    after: str
    per_unit: pd.DataFrame
    per_risk: pd.DataFrame
    movers: pd.DataFrame
    actions_completed: pd.DataFrame
    maturity: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def _compare(a: pd.DataFrame, b: pd.DataFrame, keys: list[str], labels: list[str]) -> pd.DataFrame:
    cols = [*keys, *labels, "mean_residual", "worst_band"]
    out = a[cols].merge(b[cols], on=[*keys, *labels], how="outer", suffixes=("_before", "_after"))
    out["change"] = out["mean_residual_after"] - out["mean_residual_before"]
    return out.sort_values("change", ascending=False, ignore_index=True)


@use_case(*READERS)
def trend(tx: Tx, before: str, after: str) -> Trend:
    """Residual per unit and per risk, band movers, actions completed, maturity gained."""
    cat = tx.catalogue
    ca, cb = tx.cycle(before), tx.cycle(after)
    reg_a, fa = _register(tx, ca)
    reg_b, fb = _register(tx, cb)
    per_unit = _compare(by_unit(reg_a, cat), by_unit(reg_b, cat), ["unit_code"], ["unit"])
    per_risk = _compare(by_risk(reg_a, cat), by_risk(reg_b, cat), ["risk_id"], ["risk"])

    keys = ["unit_code", "risk_id"]
    pair_cols = [*keys, "unit", "risk", "residual", "residual_band"]
    movers = reg_a[pair_cols].merge(
        reg_b[pair_cols], on=[*keys, "unit", "risk"], suffixes=("_before", "_after")
    )
    movers["change"] = movers["residual_after"] - movers["residual_before"]
    movers = movers[movers["residual_band_before"] != movers["residual_band_after"]].copy()
    movers["direction"] = pd.Series(direction(movers["change"]), index=movers.index).map(
        {"worse": "up", "better": "down", "unchanged": "same"}
    )
    movers = movers.reindex(movers["change"].abs().sort_values(ascending=False).index)
    movers = movers.reset_index(drop=True)

    done = _completed(tx, ca, cb)
    ma = maturity_by_principle(fa.control_ratings, fa.units, cat)
    mb = maturity_by_principle(fb.control_ratings, fb.units, cat)
    maturity = ma[["principle", "mean_maturity"]].merge(
        mb[["principle", "mean_maturity"]],
        on="principle",
        how="outer",
        suffixes=("_before", "_after"),
    )
    maturity["gained"] = maturity["mean_maturity_after"] - maturity["mean_maturity_before"]

    summary = {
        "mean_residual_before": float(reg_a["residual"].mean()) if len(reg_a) else 0.0,
        "mean_residual_after": float(reg_b["residual"].mean()) if len(reg_b) else 0.0,
        "pairs_up": int((movers["direction"] == "up").sum()),
        "pairs_down": int((movers["direction"] == "down").sum()),
        # The Overview's "Actions done" of the later cycle: one definition of the figure.
        "actions_completed": action_figures(_action_frame(tx, cb), date.today())["actions_done"],
    }
    return Trend(ca.label, cb.label, per_unit, per_risk, movers, done, maturity, summary)


def _action_frame(tx: Tx, cyc: Cycle) -> pd.DataFrame:
    rows = tx.session.execute(
        tx.only_visible(
            select(Action.status, Action.due_date).where(Action.cycle_id == cyc.id),
            Action.unit_id,
        )
    ).all()
    return pd.DataFrame(rows, columns=["status", "due_date"])


def _completed(tx: Tx, before: Cycle, after: Cycle) -> pd.DataFrame:
    """Actions marked done in the later cycle: the actions `actions_completed` counts.

    An action done in the earlier cycle was counted there; one carried open into the later
    cycle and done there counts once, in the later cycle.
    """
    labels = {after.id: after.label}
    rows = tx.session.execute(
        tx.only_visible(
            select(
                Unit.code,
                Unit.name,
                Action.control_id,
                Action.from_level,
                Action.to_level,
                Action.cycle_id,
                Action.manual,
            )
            .join(Unit, Unit.id == Action.unit_id)
            .where(Action.cycle_id.in_(list(labels)), Action.status == "done")
            .order_by(Unit.code, Action.control_id, Action.id),
            Action.unit_id,
        )
    ).all()
    cols = ["unit_code", "unit", "control_id", "from_level", "to_level", "completed_in", "manual"]
    out = [(c, n, ctl, lo, hi, labels[cy], m) for c, n, ctl, lo, hi, cy, m in rows]
    return pd.DataFrame(out, columns=cols)


# An event as the audit trail reads it: every column of the table, in its order, but the
# hash of the event before (the chain is `verify_audit`'s; an event's own hash is shown).
AUDIT_COLUMNS = [c.name for c in AuditEvent.__table__.columns if c.name != "prev_hash"]


@use_case("auditor", "admin")
def audit_trail(
    tx: Tx,
    *,
    cycle: str | None = None,
    entity: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Audit events, oldest first, optionally for one cycle, entity or actor."""
    found = audit.events(
        tx.session,
        cycle_id=tx.cycle(cycle).id if cycle is not None else None,
        entity=entity,
        entity_id=entity_id,
        actor=actor,
        limit=limit,
    )
    rows = [{c: json_value(getattr(e, c)) for c in AUDIT_COLUMNS} for e in found]
    return pd.DataFrame(rows, columns=AUDIT_COLUMNS)


def anchor(session: Any) -> dict[str, Any]:
    """The trail's head and its last checkpoint, as the workbook and the Audit trail page
    show them: what an auditor compares with the checkpoint file they keep."""
    now = checkpoints.head(session)
    last = checkpoints.last_recorded(session)
    taken = None
    if last is not None:
        after = last.after or {}
        taken = {
            "event_id": last.id,
            "at": json_value(last.at),
            "by": last.actor,
            **{k: after.get(k) for k in ("count", "head_id", "head_hash", "key_id")},
        }
    return {
        "events": now.count,
        "head_id": now.head_id,
        "head_hash": now.head_hash,
        "checkpoint": taken,
    }


@use_case("auditor", "admin")
def audit_anchor(tx: Tx) -> dict[str, Any]:
    """The audit trail's head (events, last id, its seal) and the last checkpoint taken."""
    return anchor(tx.session)


@use_case("auditor", "admin")
def take_checkpoint(tx: Tx) -> bytes:
    """A signed checkpoint of the trail (JSON bytes) for the auditor to keep away from the
    database; taking it is an audit event. Refused if the trail does not verify."""
    import json

    try:
        body = checkpoints.take_checked(tx.session, tx.who)
    except checkpoints.CheckpointError as exc:
        raise ValidationError("audit trail", str(exc)) from None
    return (json.dumps(body, indent=1) + "\n").encode("utf-8")


@use_case("auditor", "admin")
def verify_audit(tx: Tx) -> Any:
    """Check the audit chain end to end (the result of `riskmap.audit.verify`)."""
    return audit.verify(tx.session)
