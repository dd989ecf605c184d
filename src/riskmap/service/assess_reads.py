"""What the Assess walk-through shows, computed once here rather than in the page.

- `unit_progress`: per unit of a cycle, how many of its ratings are confirmed;
- `next_unit`: the unit an officer goes to next (the next one, in code order, that still
  has unconfirmed ratings, wrapping around);
- `unit_summary`: a unit's register now and last cycle's, the figures the summary shows
  (bands from the method file, never hard-coded ids), what changed since last cycle, and
  what is still unconfirmed.

Read use cases, open to every reader, like the ratings they summarise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import case, func, select

from riskmap.scoring import score
from riskmap.service import frames
from riskmap.service.core import READERS, Tx, use_case
from riskmap.service.ratings import with_baseline
from riskmap.store.models import ControlRating, Cycle, RiskRating, Unit


def _progress(tx: Tx, cyc: Cycle) -> pd.DataFrame:
    """Counted in the database (one grouped SELECT per kind), without reading the cycle."""
    in_cycle = (
        select(RiskRating.unit_id)
        .where(RiskRating.cycle_id == cyc.id)
        .union(select(ControlRating.unit_id).where(ControlRating.cycle_id == cyc.id))
    )
    rows = tx.session.execute(
        tx.only_visible(
            select(Unit.code, Unit.name).where(Unit.id.in_(in_cycle)).order_by(Unit.code), Unit.id
        )
    ).all()
    units = pd.DataFrame(rows, columns=["unit_code", "unit"])
    for kind, model in (("risk", RiskRating), ("control", ControlRating)):
        counted = tx.session.execute(
            select(
                Unit.code,
                func.sum(case((model.confirmed, 1), else_=0)),
                func.count(),
            )
            .join(Unit, Unit.id == model.unit_id)
            .where(model.cycle_id == cyc.id)
            .group_by(Unit.code)
        ).all()
        done = {code: int(d or 0) for code, d, _ in counted}
        total = {code: int(n) for code, _, n in counted}
        units[f"{kind}_done"] = units["unit_code"].map(done).fillna(0).astype(int)
        units[f"{kind}_total"] = units["unit_code"].map(total).fillna(0).astype(int)
    units["done"] = units["risk_done"] + units["control_done"]
    units["total"] = units["risk_total"] + units["control_total"]
    return units.reset_index(drop=True)


@use_case(*READERS)
def unit_progress(tx: Tx, cycle: str) -> pd.DataFrame:
    """One row per unit of the cycle (code order): `unit_code`, `unit`, `risk_done`,
    `risk_total`, `control_done`, `control_total`, `done`, `total` (confirmed of all)."""
    return _progress(tx, tx.cycle(cycle))


def pick_next(progress: pd.DataFrame, current: str | None) -> str | None:
    """The first unit after `current` (code order) with unconfirmed ratings, else the first
    such unit before it; None when every other unit is done."""
    pending = [
        str(u)
        for u, d, t in zip(progress["unit_code"], progress["done"], progress["total"], strict=True)
        if d < t and u != current
    ]
    if not pending:
        return None
    after = [u for u in pending if current is None or u > current]
    return (after or pending)[0]


@use_case(*READERS)
def next_unit(tx: Tx, cycle: str, current: str | None = None) -> str | None:
    """The unit to assess after `current`: see `pick_next`."""
    return pick_next(_progress(tx, tx.cycle(cycle)), current)


@dataclass(frozen=True)
class UnitSummary:
    """The summary of one unit in one cycle (see `unit_summary`)."""

    unit: str
    cycle: str
    previous: str | None
    now: pd.DataFrame  # the unit's register rows (applicable risks), residual first
    before: pd.DataFrame  # last cycle's register rows of the unit (may be empty)
    mean_inherent: float | None
    mean_residual: float | None
    residual_change: float | None  # against last cycle's mean residual
    worst_band: str | None  # band id of the highest residual
    serious_bands: tuple[str, ...]  # the method's two highest bands (ids)
    serious_count: int  # risks whose residual band is one of them
    changes: list[dict[str, Any]] = field(default_factory=list)
    open_risks: list[str] = field(default_factory=list)
    open_controls: list[str] = field(default_factory=list)


def _changes(
    risks: pd.DataFrame, controls: pd.DataFrame, prev_controls: pd.DataFrame | None
) -> list[dict[str, Any]]:
    """What moved since the starting point: one entry per risk or control, never two.

    A risk that does not apply is listed once, with its reason; an applicable risk whose
    likelihood x impact left its baseline with the levels and the justification; a control
    whose maturity or applicability changed since last cycle with both values.
    """
    out: list[dict[str, Any]] = []
    for _, r in risks.iterrows():
        if not r["applicable"]:
            out.append(
                {"kind": "risk", "id": r["risk_id"], "what": "does not apply",
                 "before": None, "after": None, "why": r["justification"] or ""}
            )  # fmt: skip
            continue
        if pd.isna(r["baseline_likelihood"]):
            continue
        before = (int(r["baseline_likelihood"]), int(r["baseline_impact"]))
        after = (int(r["likelihood"]), int(r["impact"]))
        if before != after:
            out.append(
                {"kind": "risk", "id": r["risk_id"], "what": "likelihood x impact",
                 "before": f"{before[0]} × {before[1]}", "after": f"{after[0]} × {after[1]}",
                 "why": r["justification"] or ""}
            )  # fmt: skip
    if prev_controls is not None and len(prev_controls):
        old = prev_controls.set_index("control_id")
        for _, c in controls.iterrows():
            if c["control_id"] not in old.index:
                continue
            o = old.loc[c["control_id"]]
            moved = int(o["maturity"]) != int(c["maturity"])
            if moved or bool(o["applicable"]) != bool(c["applicable"]):
                out.append(
                    {"kind": "control", "id": c["control_id"],
                     "what": "maturity" if c["applicable"] else "does not apply",
                     "before": int(o["maturity"]), "after": int(c["maturity"]),
                     "why": c["justification"] or ""}
                )  # fmt: skip
    return out


@use_case(*READERS)
def unit_summary(tx: Tx, cycle: str, unit: str) -> UnitSummary:
    """The unit's summary: register now and last cycle's, figures, changes, open ratings."""
    cyc = tx.cycle(cycle)
    cat = tx.catalogue
    tx.guard(unit)
    f = frames.cycle_frames(tx.session, cyc)
    reg = score(f.risk_ratings, f.control_ratings, f.units, cat)
    now = reg[reg["unit_code"] == unit].sort_values("residual", ascending=False)
    previous: Cycle | None = (
        tx.session.get(Cycle, cyc.previous_cycle_id) if cyc.previous_cycle_id else None
    )
    before = now.iloc[0:0]
    prev_controls = None
    if previous is not None:
        pf = frames.cycle_frames(tx.session, previous)
        prev_reg = score(pf.risk_ratings, pf.control_ratings, pf.units, cat)
        before = prev_reg[prev_reg["unit_code"] == unit]
        prev_controls = pf.control_ratings[pf.control_ratings["unit_code"] == unit]
    risks = f.risk_ratings[f.risk_ratings["unit_code"] == unit].copy()
    risks = with_baseline(tx, cyc, risks.reset_index(drop=True), f.units)
    controls = f.control_ratings[f.control_ratings["unit_code"] == unit]
    bands = sorted(cat.method.bands, key=lambda b: b.min)
    serious = tuple(b.id for b in bands[-2:])
    has = len(now) > 0
    mean_res = float(now["residual"].mean()) if has else None
    change = None
    if has and len(before):
        change = round(mean_res - float(before["residual"].mean()), 2)
    return UnitSummary(
        unit=unit,
        cycle=cyc.label,
        previous=previous.label if previous else None,
        now=now.reset_index(drop=True),
        before=before.reset_index(drop=True),
        mean_inherent=float(now["inherent"].mean()) if has else None,
        mean_residual=mean_res,
        residual_change=change,
        # The highest band of its cells (with a declared matrix, not always the band of the
        # highest score).
        worst_band=max(now["residual_band"], key=cat.method.band_rank().get) if has else None,
        serious_bands=serious,
        serious_count=int(now["residual_band"].isin(serious).sum()) if has else 0,
        changes=_changes(risks, controls, prev_controls),
        open_risks=sorted(risks.loc[~risks["confirmed"], "risk_id"]),
        open_controls=sorted(controls.loc[~controls["confirmed"], "control_id"]),
    )
