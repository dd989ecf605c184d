"""Reads for the manager's view: key figures, the cycle's maps, a what-if plan.

Each read computes what a dashboard page shows in one transaction, from the same scoring
and planning cores the workbook and the CLI use, so the pages only lay results out:

- `data_version`: a number that changes with every audited change (pages key caches on it);
- `key_figures`: the cycle's figures beside the previous cycle's, with the change;
- `cycle_map`: the register now and after the cycle's stored actions, the top missing
  controls of every unit x risk, maturity per unit and principle;
- `cycle_register`: the scored register alone (the Overview's glance);
- (one unit's profile is `riskmap.service.unit_profile`, which asks the rules here);
- `preview_plan`: the plan a budget would buy, computed but not stored (any reader may ask
  "what if"; only an officer stores a plan, with `build_plan`);
- `top_missing`: per unit x risk, the mitigating controls furthest below their target.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from riskmap.catalogue import Catalogue
from riskmap.figures import action_figures
from riskmap.planning import Plan, apply_actions, gaps, overdue
from riskmap.scoring import (
    by_unit,
    maturity_by_principle,
    ministry,
    mitigation_frame,
    score,
)
from riskmap.service.core import READERS, Tx, use_case
from riskmap.service.plans import against_stored, compute_plan
from riskmap.service.scored import scored
from riskmap.store.models import Action, AuditEvent, Cycle, Unit

MISSING_COLUMNS = ["unit_code", "risk_id", "controls", "text"]
MATURITY_COLUMNS = ["unit_code", "unit_type", "region", "principle", "mean_maturity", "controls"]
# Figures where a fall is good news (the overview shows their change in inverse colours).
LOWER_IS_BETTER = ("mean_residual", "units_critical", "actions_overdue")


# ------------------------------------------------------------------------ pure helpers


def missing_controls(
    register: pd.DataFrame,
    control_ratings: pd.DataFrame,
    units: pd.DataFrame,
    catalogue: Catalogue,
    n: int = 3,
) -> pd.DataFrame:
    """Per unit x risk of `register`: up to `n` mitigating controls below their target.

    The target of a control in a unit is the planner's (`riskmap.planning.gaps`: the
    highest target maturity of the residual bands of the risks it mitigates there). Controls
    are ranked by what they could still do for the risk, weight x credit still to gain,
    then by name. `controls` lists the ids (";"), `text` says it in words, e.g.
    "Staff rotation (1→4); Supervision (0→3)" (from the level now to the target).
    """
    if register is None or register.empty:
        return pd.DataFrame(columns=MISSING_COLUMNS)
    g = gaps(register, control_ratings, units, catalogue)
    if g.empty:
        return pd.DataFrame(columns=MISSING_COLUMNS)
    edges = _gap_edges(g, mitigation_frame(catalogue), register)
    if edges.empty:
        return pd.DataFrame(columns=MISSING_COLUMNS)
    # What the control could still add: its weight times the credit between now and target.
    credit = catalogue.method.rule.credit
    # Rounded, so that equal potentials tie and the name decides, not float noise.
    edges["potential"] = (
        edges["weight"] * (edges["to_level"].map(credit) - edges["from_level"].map(credit))
    ).round(12)
    edges = edges.sort_values(
        ["unit_code", "risk_id", "potential", "control"],
        ascending=[True, True, False, True],
        kind="mergesort",
    )
    top = edges.groupby(["unit_code", "risk_id"], sort=False).head(n).copy()
    top["_id"] = top["control_id"].astype(object) + ";"
    top["_text"] = (
        top["control"].astype(object)
        + " ("
        + top["from_level"].astype(int).astype(str)
        + "→"
        + top["to_level"].astype(int).astype(str)
        + "); "
    )
    keys = [top["unit_code"], top["risk_id"]]
    out = pd.DataFrame(
        {
            "controls": top["_id"].groupby(keys, sort=True).sum().str[:-1],
            "text": top["_text"].groupby(keys, sort=True).sum().str[:-2],
        }
    ).reset_index()
    return out[MISSING_COLUMNS]


def _gap_edges(g: pd.DataFrame, mitigation: pd.DataFrame, register: pd.DataFrame) -> pd.DataFrame:
    """Each gap once per risk its control mitigates, for the (unit, risk) pairs of `register`.

    The same rows, in the same order, as merging the gaps onto the catalogue's links on
    `control_id` and then onto the register's pairs: done on integer positions, because at
    10,000 units the two merges on text keys (a million rows) took seconds.
    """
    mit = mitigation[["control_id", "risk_id", "weight"]].reset_index(drop=True)
    controls = pd.Index(pd.unique(mit["control_id"].to_numpy(dtype=object)))
    m_code = controls.get_indexer(mit["control_id"].to_numpy(dtype=object))
    by_control = np.argsort(m_code, kind="stable")  # each control's links in catalogue order
    counts = np.bincount(m_code, minlength=len(controls))
    starts = np.cumsum(counts) - counts
    g_code = controls.get_indexer(g["control_id"].to_numpy(dtype=object))
    n = np.where(g_code >= 0, counts[g_code], 0)
    left = np.repeat(np.arange(len(g)), n)
    within = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    right = by_control[np.repeat(np.where(g_code >= 0, starts[g_code], 0), n) + within]
    units = pd.Index(pd.unique(register["unit_code"].to_numpy(dtype=object)))
    risks = pd.Index(pd.unique(register["risk_id"].to_numpy(dtype=object)))
    pair = units.get_indexer(register["unit_code"].to_numpy(dtype=object)) * len(risks)
    pair += risks.get_indexer(register["risk_id"].to_numpy(dtype=object))
    e_unit = units.get_indexer(g["unit_code"].to_numpy(dtype=object))[left]
    e_risk = risks.get_indexer(mit["risk_id"].to_numpy(dtype=object))[right]
    keep = (e_unit >= 0) & (e_risk >= 0) & np.isin(e_unit * len(risks) + e_risk, pair)
    cols = ["unit_code", "control_id", "control", "from_level", "to_level"]
    edges = g[cols].iloc[left[keep]].reset_index(drop=True)
    edges["risk_id"] = mit["risk_id"].iloc[right[keep]].to_numpy()
    edges["weight"] = mit["weight"].iloc[right[keep]].to_numpy()
    return edges


def ratings_after_actions(
    control_ratings: pd.DataFrame, actions: pd.DataFrame, catalogue: Catalogue
) -> pd.DataFrame:
    """Control ratings once the cycle's `actions` are carried out: the planner's one rule
    (`riskmap.planning.apply_actions`: never below the credited level; a done action is
    evidenced)."""
    return apply_actions(control_ratings, actions, catalogue)


def with_overdue(actions: pd.DataFrame, today: date) -> pd.DataFrame:
    """`actions` with `overdue` (open and due before `today`) and `days_overdue`."""
    out = actions.copy()
    out["overdue"] = overdue(out, today).reindex(out.index, fill_value=False).astype(bool)
    due = pd.to_datetime(out["due_date"], errors="coerce")
    days = (pd.Timestamp(today) - due).dt.days
    out["days_overdue"] = days.where(out["overdue"], 0).fillna(0).astype(int)
    return out


def _unit_maturity(control_ratings: pd.DataFrame, units: pd.DataFrame, cat: Catalogue):
    """Mean maturity per unit and principle (with the count, to re-aggregate over a filter)."""
    if units.empty:
        return pd.DataFrame(columns=MATURITY_COLUMNS)
    keyed = units.assign(unit_key=units["unit_code"])
    out = maturity_by_principle(control_ratings, keyed, cat, by="unit_key")
    out = out.rename(columns={"unit_key": "unit_code"})
    meta = units[["unit_code", "unit_type", "region"]]
    return out.merge(meta, on="unit_code", how="left")[MATURITY_COLUMNS]


# ------------------------------------------------------------------------ helpers on tx


def previous_cycle(tx: Tx, cyc: Cycle) -> Cycle | None:
    """The cycle `cyc` was started from, else the latest cycle started before it."""
    if cyc.previous_cycle_id is not None:
        return tx.session.get(Cycle, cyc.previous_cycle_id)
    return tx.session.scalar(
        select(Cycle)
        .where(Cycle.organisation_id == cyc.organisation_id, Cycle.started_at < cyc.started_at)
        .order_by(Cycle.started_at.desc(), Cycle.id.desc())
        .limit(1)
    )


def _action_rows(tx: Tx, cyc: Cycle) -> pd.DataFrame:
    stmt = select(Unit.code, Action.control_id, Action.to_level, Action.status, Action.due_date)
    stmt = stmt.join(Unit, Unit.id == Action.unit_id).where(Action.cycle_id == cyc.id)
    rows = tx.session.execute(tx.only_visible(stmt, Action.unit_id)).all()
    return pd.DataFrame(rows, columns=["unit_code", "control_id", "to_level", "status", "due_date"])


def _figures(tx: Tx, cyc: Cycle, as_of: date) -> dict[str, Any]:
    cat = tx.catalogue
    reg, f = scored(tx, cyc)
    figures: dict[str, Any] = dict(ministry(reg, cat))
    figures["units_assessed"] = int(len(f.units))
    unconfirmed = set(f.risk_ratings.loc[~f.risk_ratings["confirmed"], "unit_code"])
    unconfirmed |= set(f.control_ratings.loc[~f.control_ratings["confirmed"], "unit_code"])
    figures["units_confirmed"] = int(len(set(f.units["unit_code"]) - unconfirmed))
    top = cat.method.bands[-1].id
    per_unit = by_unit(reg, cat) if len(reg) else pd.DataFrame(columns=["worst_band"])
    figures["units_critical"] = int((per_unit["worst_band"] == top).sum())
    figures.update(action_figures(_action_rows(tx, cyc), as_of))
    return figures


# ------------------------------------------------------------------------ use cases


@use_case(*READERS)
def data_version(tx: Tx) -> int:
    """The id of the latest audit event: every change is audited, so any change moves it."""
    return int(tx.session.scalar(select(func.max(AuditEvent.id))) or 0)


@use_case(*READERS)
def key_figures(tx: Tx, cycle: str, *, today: date | None = None) -> dict[str, Any]:
    """The cycle's key figures beside the previous cycle's, and the change between them.

    Figures: units assessed and confirmed (every rating confirmed), unit x risk pairs,
    pairs per residual band (`n_<band>`), mean and highest residual, units whose worst
    residual is in the top band (`units_critical`), actions, open, done and overdue.
    Overdue counts open actions due before `today` for the cycle in view, and before the
    day the cycle in view started for the previous cycle (when it was superseded).
    """
    today = today or date.today()
    cyc = tx.cycle(cycle)
    prev = previous_cycle(tx, cyc)
    now = _figures(tx, cyc, today)
    before = None
    change: dict[str, float | None] = {k: None for k in now}
    if prev is not None:
        started = cyc.started_at
        as_of = started.date() if isinstance(started, datetime) else today
        before = _figures(tx, prev, as_of)
        change = {k: (now[k] - before[k]) if k in before else None for k in now}
    return {
        "cycle": cyc.label,
        "status": cyc.status,
        "previous": prev.label if prev is not None else None,
        "today": today,
        "figures": now,
        "previous_figures": before,
        "change": change,
        "lower_is_better": LOWER_IS_BETTER,
    }


@dataclass(frozen=True)
class CycleMap:
    """What the heat map pages draw for one cycle."""

    cycle: str
    status: str
    register: pd.DataFrame
    register_after: pd.DataFrame
    missing: pd.DataFrame
    maturity: pd.DataFrame
    units: pd.DataFrame
    actions_applied: int


@use_case(*READERS)
def cycle_map(tx: Tx, cycle: str, *, missing_per_pair: int = 3, after: bool = True) -> CycleMap:
    """The register now and after the cycle's actions, top missing controls, maturity.

    "After" carries out every action of the cycle that is not cancelled (planned, in
    progress, and done ones whose new maturity is not rated yet), raising each control to
    the action's target, never lowering it. `missing_per_pair=0` leaves `missing` empty: the
    Heat maps page opens on groups past a few dozen units and asks `top_missing` only when
    it draws units, since the gaps are most of a cold map's work at 10,000 units.
    `after=False` leaves `register_after` empty (the page asks for it when "after the plan"
    is the view chosen: scoring the cycle again is a quarter of a cold map at that scale).
    """
    cyc = tx.cycle(cycle)
    cat = tx.catalogue
    reg, f = scored(tx, cyc)
    acts = _action_rows(tx, cyc)
    acts = acts[acts["status"] != "cancelled"]
    if after:
        after_ratings = ratings_after_actions(f.control_ratings, acts, cat)
        reg_after = score(f.risk_ratings, after_ratings, f.units, cat)
    else:
        reg_after = reg.iloc[:0].copy()
    return CycleMap(
        cycle=cyc.label,
        status=cyc.status,
        register=reg,
        register_after=reg_after,
        missing=missing_controls(reg, f.control_ratings, f.units, cat, missing_per_pair)
        if missing_per_pair > 0
        else pd.DataFrame(columns=MISSING_COLUMNS),
        maturity=_unit_maturity(f.control_ratings, f.units, cat),
        units=f.units,
        actions_applied=int(len(acts)),
    )


@use_case(*READERS)
def cycle_register(tx: Tx, cycle: str) -> pd.DataFrame:
    """The cycle's scored register (SCORE_COLUMNS), the one `key_figures` counts: what the
    Overview's glance draws, without the maps' extra work (after the plan, gaps)."""
    return scored(tx, tx.cycle(cycle))[0]


@use_case(*READERS)
def top_missing(tx: Tx, cycle: str, *, n: int = 3) -> pd.DataFrame:
    """Per unit x risk of the cycle: the `n` mitigating controls furthest below target."""
    reg, f = scored(tx, tx.cycle(cycle))
    return missing_controls(reg, f.control_ratings, f.units, tx.catalogue, n)


@use_case(*READERS)
def preview_plan(
    tx: Tx,
    cycle: str,
    *,
    budget_days: float | None = None,
    budget_money: float | None = None,
    start: date | None = None,
    objective: str = "residual",
    today: date | None = None,
) -> Plan:
    """The plan a budget would buy for the cycle: ranked, cut, re-scored; nothing stored.

    The same computation `build_plan` stores (an officer adopts a plan with it); here any
    reader may try budgets. Its actions say how storing takes them (`stored_as`) with the
    due date they would have: a kept action keeps its date, `overdue` once it has passed.
    """
    cyc = tx.cycle(cycle)
    result = compute_plan(tx, cyc, budget_days, budget_money, start, objective)
    chosen = against_stored(tx, cyc, result.actions, today or date.today())
    return replace(result, actions=chosen)
