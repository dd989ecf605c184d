"""A unit's profile for the manager: its risks, control gaps, actions, calibration flags,
incidents and history across cycles.

Its own module because it reads differently from the cycle-wide reads of
`riskmap.service.overview`: only the unit and the peers of its type are scored (the
outlier check needs them), and every cycle that rated the unit is read for its history.
The missing controls and the lateness of actions are the overview's rules, asked here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import select

from riskmap.catalogue import Catalogue
from riskmap.figures import action_figures
from riskmap.planning import gaps
from riskmap.scoring import by_unit, calibration_flags, score
from riskmap.service import frames
from riskmap.service.core import READERS, Tx, use_case, within
from riskmap.service.errors import ValidationError
from riskmap.service.overview import missing_controls, with_overdue
from riskmap.service.plans import actions as _actions_case
from riskmap.store.models import Cycle, RiskRating, Unit

GAP_COLUMNS = [
    "control_id",
    "control",
    "principle",
    "from_level",
    "to_level",
    "levels",
    "effort_days",
    "cost",
    "owner_role",
    "risks",
]
HISTORY_COLUMNS = [
    "cycle",
    "status",
    "pairs",
    "mean_inherent",
    "mean_residual",
    "max_residual",
    "worst_band",
]


@dataclass(frozen=True)
class UnitProfile:
    """One unit in one cycle, and its history."""

    cycle: str
    unit: dict[str, Any]
    risks: pd.DataFrame
    gaps: pd.DataFrame
    actions: pd.DataFrame
    flags: pd.DataFrame
    incidents: pd.DataFrame
    history: pd.DataFrame
    missing: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


@use_case(*READERS)
def unit_profile(tx: Tx, cycle: str, unit: str, *, today: date | None = None) -> UnitProfile:
    """A unit's risks, control gaps, actions, calibration flags, incidents and history.

    Calibration compares the unit with the other units of its type in the cycle (the only
    peers the outlier check uses), so only those are scored.
    """
    today = today or date.today()
    cat = tx.catalogue
    cyc = tx.cycle(cycle)
    u = tx.unit(unit)
    all_units = frames.unit_frame(tx.session, cyc)
    if unit not in set(all_units["unit_code"]):
        raise ValidationError("unit", f"{unit} was not assessed in cycle {cyc.label}")
    peers = all_units[all_units["unit_type"] == u.unit_type].reset_index(drop=True)
    rr = frames.risk_frame(tx.session, cyc)
    cr = frames.control_frame(tx.session, cyc)
    ids = set(peers["unit_code"])
    rr_p, cr_p = rr[rr["unit_code"].isin(ids)], cr[cr["unit_code"].isin(ids)]
    reg_peers = score(rr_p, cr_p, peers, cat)
    own = peers[peers["unit_code"] == unit].reset_index(drop=True)
    cr_u = cr_p[cr_p["unit_code"] == unit].reset_index(drop=True)
    reg = reg_peers[reg_peers["unit_code"] == unit].reset_index(drop=True)
    incidents = frames.incident_frame(tx.session, [unit])

    # The cycle's one calibration rule, over the peers (the outlier check needs them).
    flags = calibration_flags(reg_peers, incidents[["unit_code", "risk_id"]], cat, own, cr_u)
    flags = flags[flags["unit_code"] == unit].reset_index(drop=True)
    risk_titles = {r.id: r.title for r in cat.risks}
    flags.insert(2, "risk", flags["risk_id"].map(risk_titles))

    g = gaps(reg, cr_u, own, cat) if len(reg) else pd.DataFrame()
    if len(g):
        principle = {c.id: cat.principle_of_statement[c.principle].title for c in cat.controls}
        g = g.assign(
            principle=g["control_id"].map(principle),
            levels=g["to_level"] - g["from_level"],
            risks=g["risks"].str.replace(";", ", "),
        )
        g = g.sort_values(["levels", "control"], ascending=[False, True], ignore_index=True)
        g = g[GAP_COLUMNS]
    else:
        g = pd.DataFrame(columns=GAP_COLUMNS)

    acts = within(tx, tx.who, _actions_case, cyc.label)
    acts = with_overdue(acts[acts["unit_code"] == unit].reset_index(drop=True), today)

    history = _history(tx, u, cat)
    risks = reg.sort_values(["residual", "inherent"], ascending=False, ignore_index=True)
    info = own.iloc[0].to_dict()
    type_names = {t.id: t.name for t in cat.unit_types}
    info.update(
        unit_type_name=type_names.get(u.unit_type, u.unit_type),
        headcount=u.headcount,
        exposure=dict(u.exposure or {}),
        retired=u.retired,
    )
    summary = {
        "pairs": len(reg),
        "mean_residual": float(reg["residual"].mean()) if len(reg) else 0.0,
        "max_residual": float(reg["residual"].max()) if len(reg) else 0.0,
        "gaps": len(g),
        **{k: v for k, v in action_figures(acts, today).items() if k != "actions"},
        "flags": len(flags),
        "incidents": len(incidents),
    }
    for band in cat.method.bands:
        summary[f"n_{band.id}"] = int((reg["residual_band"] == band.id).sum())
    return UnitProfile(
        cycle=cyc.label,
        unit=info,
        risks=risks,
        gaps=g,
        actions=acts,
        flags=flags,
        incidents=incidents,
        history=history,
        missing=missing_controls(reg, cr_u, own, cat),
        summary=summary,
    )


def _history(tx: Tx, unit: Unit, cat: Catalogue) -> pd.DataFrame:
    """The unit's residual in every cycle that rated it, oldest first."""
    cycles = tx.session.scalars(
        select(Cycle)
        .where(
            Cycle.id.in_(
                select(RiskRating.cycle_id).where(RiskRating.unit_id == unit.id).distinct()
            )
        )
        .order_by(Cycle.started_at, Cycle.id)
    ).all()
    rows = []
    band_ids = [b.id for b in cat.method.bands]
    for cyc in cycles:
        units = frames.unit_frame(tx.session, cyc)
        units = units[units["unit_code"] == unit.code]
        reg = score(
            frames.risk_frame(tx.session, cyc, unit.code),
            frames.control_frame(tx.session, cyc, unit.code),
            units,
            cat,
        )
        row: dict[str, Any] = {"cycle": cyc.label, "status": cyc.status, "pairs": len(reg)}
        if len(reg):
            row.update(
                mean_inherent=float(reg["inherent"].mean()),
                mean_residual=float(reg["residual"].mean()),
                max_residual=float(reg["residual"].max()),
                worst_band=by_unit(reg, cat)["worst_band"].iloc[0],
            )
        for b in band_ids:
            row[f"n_{b}"] = int((reg["residual_band"] == b).sum()) if len(reg) else 0
        rows.append(row)
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS + [f"n_{b}" for b in band_ids])
