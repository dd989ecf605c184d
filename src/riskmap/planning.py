"""The remediation planner: control gaps become ranked actions, and a budget cuts the ranking.

A gap is an applicable control below its target maturity in a unit (the target follows the
inherent band of the worst risk the control mitigates there). Each gap is a candidate action
"raise control C in unit U from m to the target". Actions are ranked greedily by the residual
risk they remove per person-day, recomputing marginal gains after every choice, because two
controls on the same risk share its reduction (the product rule gives diminishing returns).

Gains only interact inside a unit, and each unit's greedy sequence has non-increasing
ratios, so the global greedy ranking is the merge of per-unit sequences; the per-unit steps
run for all units at once, vectorised. The plan for a budget is the longest prefix of the
ranking that fits. Guarantee (Wolsey 1982; Khuller, Moss and Naor 1999): the objective
(total residual removed) is monotone and submodular, so a greedy prefix costing C removes
at least (1 - e^(-C/B)) of what the best possible set of actions within budget B could
remove. Because the plan is a prefix of one budget-independent ranking, a bigger budget
always buys a superset of actions, never less reduction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from riskmap.catalogue import Catalogue
from riskmap.scoring import contributions, require_columns, score
from riskmap.scoring.residual import CONTROL_RATING_COLUMNS, band_ids, mitigation_frame

ACTION_COLUMNS = [
    "priority",
    "unit_id",
    "unit",
    "unit_type",
    "control_id",
    "control",
    "from_level",
    "to_level",
    "reduction",
    "effort_days",
    "cost",
    "reduction_per_day",
    "cumulative_days",
    "cumulative_cost",
    "band",
    "due_date",
    "owner_role",
    "risks",
    "selected",
]

_EPS = 1e-12


@dataclass(frozen=True)
class Plan:
    """A ranked list of actions, the budget's cut through it, and the register after it."""

    ranking: pd.DataFrame
    register_before: pd.DataFrame
    register_after: pd.DataFrame
    budget_days: float | None
    budget_money: float | None
    summary: dict[str, float | int | None] = field(default_factory=dict)

    @property
    def actions(self) -> pd.DataFrame:
        return self.ranking[self.ranking["selected"]].reset_index(drop=True)


def gaps(
    register: pd.DataFrame,
    control_ratings: pd.DataFrame,
    units: pd.DataFrame,
    catalogue: Catalogue,
) -> pd.DataFrame:
    """Applicable controls below their target maturity, one row per (unit, control)."""
    require_columns(control_ratings, CONTROL_RATING_COLUMNS, "control ratings")
    applies = pd.DataFrame(
        [(c.id, t) for c in catalogue.controls for t in c.unit_types],
        columns=["control_id", "unit_type"],
    )
    pairs = units[["unit_id", "unit", "unit_type"]].merge(applies, on="unit_type", how="inner")
    pairs = pairs.merge(
        control_ratings[["unit_id", "control_id", "applicable", "maturity"]],
        on=["unit_id", "control_id"],
        how="left",
    )
    pairs = pairs[pairs["applicable"].fillna(True).astype(bool)].copy()
    pairs["from_level"] = pairs["maturity"].fillna(0).astype(int)

    targets = {b.id: b.target_maturity for b in catalogue.method.bands}
    edges = pairs[["unit_id", "control_id"]].merge(
        mitigation_frame(catalogue)[["control_id", "risk_id"]], on="control_id"
    )
    edges = edges.merge(
        register[["unit_id", "risk_id", "inherent_band", "residual"]], on=["unit_id", "risk_id"]
    )
    edges["target"] = edges["inherent_band"].map(targets)
    edges = edges.sort_values(["unit_id", "control_id", "risk_id"])
    # Sorted ids joined by summing "id;" strings (vectorised; a lambda per group is slow).
    edges["risks"] = edges["risk_id"].astype(object) + ";"
    per_pair = edges.groupby(["unit_id", "control_id"]).agg(
        to_level=("target", "max"),
        worst_residual=("residual", "max"),
        risks=("risks", "sum"),
    )
    per_pair["risks"] = per_pair["risks"].str[:-1]
    out = pairs.merge(per_pair.reset_index(), on=["unit_id", "control_id"], how="inner")
    out = out[out["from_level"] < out["to_level"]].reset_index(drop=True)
    ctl = catalogue.control_by_id
    money = catalogue.method.cost_classes
    levels = (out["to_level"] - out["from_level"]).astype(float)
    out["control"] = out["control_id"].map(lambda c: ctl[c].name)
    out["owner_role"] = out["control_id"].map(lambda c: ctl[c].owner_role)
    # astype(float): with no gap at all, map() keeps the ids' string dtype and `*` fails.
    effort = out["control_id"].map(lambda c: ctl[c].effort_days).astype(float)
    unit_cost = out["control_id"].map(lambda c: getattr(money, ctl[c].cost_class)).astype(float)
    out["effort_days"] = levels * effort
    out["cost"] = levels * unit_cost
    return out


def _rank(
    register: pd.DataFrame,
    control_ratings: pd.DataFrame,
    units: pd.DataFrame,
    candidates: pd.DataFrame,
    catalogue: Catalogue,
) -> pd.DataFrame:
    """Greedy marginal-gain ranking of the candidates (all units stepped at once)."""
    rule = catalogue.method.rule
    top = float(catalogue.method.maturity.max)
    pair_key = pd.MultiIndex.from_frame(register[["unit_id", "risk_id"]])
    likelihood = register["likelihood"].to_numpy(dtype=float)
    impact = register["impact"].to_numpy(dtype=float)
    floor = np.minimum(likelihood, rule.likelihood_floor)

    contrib = contributions(control_ratings, units, catalogue)
    product = np.ones(len(register))
    if len(contrib):
        prod = contrib.groupby(["unit_id", "risk_id"])["factor"].prod()
        pos = pair_key.get_indexer(prod.index)
        product[pos[pos >= 0]] = prod.to_numpy()[pos >= 0]

    edges = candidates[["unit_id", "control_id", "from_level", "to_level"]].reset_index(names="k")
    edges = edges.merge(
        mitigation_frame(catalogue)[["control_id", "risk_id", "weight"]], on="control_id"
    )
    edges["p"] = pair_key.get_indexer(pd.MultiIndex.from_frame(edges[["unit_id", "risk_id"]]))
    edges = edges[edges["p"] >= 0]
    k_e = edges["k"].to_numpy()
    p_e = edges["p"].to_numpy()
    w = edges["weight"].to_numpy(dtype=float)
    change = (1 - w * edges["to_level"].to_numpy() / top) / (
        1 - w * edges["from_level"].to_numpy() / top
    )

    def residual_l(prod: np.ndarray, p: np.ndarray) -> np.ndarray:
        return np.maximum(floor[p], likelihood[p] * np.maximum(1 - rule.reduction_cap, prod))

    n = len(candidates)
    effort = candidates["effort_days"].to_numpy(dtype=float)
    unit_code = pd.factorize(candidates["unit_id"])[0]
    remaining = np.ones(n, dtype=bool)
    step = np.full(n, -1)
    gain_at_pick = np.zeros(n)
    ratio_at_pick = np.zeros(n)
    for it in range(n):
        live = remaining[k_e]
        if not live.any():
            break
        pe, ke = p_e[live], k_e[live]
        before = residual_l(product[pe], pe)
        after = residual_l(product[pe] * change[live], pe)
        gain = np.bincount(ke, weights=impact[pe] * (before - after), minlength=n)
        ratio = np.where(remaining & (gain > _EPS), gain / effort, -np.inf)
        order = np.lexsort((np.arange(n), -ratio, unit_code))
        first = np.ones(n, dtype=bool)
        first[1:] = unit_code[order][1:] != unit_code[order][:-1]
        picks = order[first & np.isfinite(ratio[order])]
        if not len(picks):
            break
        step[picks] = it
        gain_at_pick[picks] = gain[picks]
        ratio_at_pick[picks] = ratio[picks]
        remaining[picks] = False
        picked_edges = np.isin(k_e, picks)
        np.multiply.at(product, p_e[picked_edges], change[picked_edges])
        # A unit whose best remaining candidate gains nothing is finished: drop the rest.
        done_units = np.setdiff1d(unit_code[remaining], unit_code[picks])
        remaining &= ~np.isin(unit_code, done_units)

    ranked = candidates.assign(
        reduction=gain_at_pick, reduction_per_day=ratio_at_pick, _step=step, _unit=unit_code
    )
    ranked = ranked[ranked["_step"] >= 0].sort_values(["_unit", "_step"])
    # Exact arithmetic makes each unit's ratios non-increasing; the running minimum
    # removes rounding noise so the merge never reorders a unit's own sequence.
    ranked["_key"] = ranked.groupby("_unit")["reduction_per_day"].cummin()
    ranked = ranked.sort_values(["_key", "_unit", "_step"], ascending=[False, True, True])
    return ranked.drop(columns=["_step", "_unit", "_key"]).reset_index(drop=True)


def plan(
    register: pd.DataFrame,
    control_ratings: pd.DataFrame,
    units: pd.DataFrame,
    risk_ratings: pd.DataFrame,
    catalogue: Catalogue,
    budget_days: float | None = None,
    budget_money: float | None = None,
    start: date | None = None,
) -> Plan:
    """Rank every gap and select the prefix of the ranking the budget affords."""
    start = start or date.today()
    candidates = gaps(register, control_ratings, units, catalogue)
    ranked = _rank(register, control_ratings, units, candidates, catalogue)
    ranked["priority"] = np.arange(1, len(ranked) + 1)
    ranked["cumulative_days"] = ranked["effort_days"].cumsum()
    ranked["cumulative_cost"] = ranked["cost"].cumsum()
    fits = np.ones(len(ranked), dtype=bool)
    if budget_days is not None:
        fits &= ranked["cumulative_days"].to_numpy() <= budget_days + 1e-9
    if budget_money is not None:
        fits &= ranked["cumulative_cost"].to_numpy() <= budget_money + 1e-9
    ranked["selected"] = np.logical_and.accumulate(fits) if len(fits) else fits
    ranked["band"] = band_ids(catalogue, ranked["worst_residual"]) if len(ranked) else []
    deadline = {b.id: b.deadline_days for b in catalogue.method.bands}
    ranked["due_date"] = [start + timedelta(days=deadline[b]) for b in ranked["band"]]
    ranked = ranked[ACTION_COLUMNS]

    chosen = ranked[ranked["selected"]]
    after_ratings = apply_actions(control_ratings, chosen)
    register_after = score(risk_ratings, after_ratings, units, catalogue)
    used = float(chosen["effort_days"].sum())
    summary: dict[str, float | int | None] = {
        "candidates": len(candidates),
        "ranked": len(ranked),
        "selected": len(chosen),
        "budget_days": budget_days,
        "budget_money": budget_money,
        "effort_days": used,
        "cost": float(chosen["cost"].sum()),
        "reduction": float(chosen["reduction"].sum()),
        "residual_before": float(register["residual"].sum()),
        "residual_after": float(register_after["residual"].sum()),
        "guarantee": (1 - math.exp(-used / budget_days)) if budget_days else None,
    }
    return Plan(ranked, register, register_after, budget_days, budget_money, summary)


def apply_actions(control_ratings: pd.DataFrame, actions: pd.DataFrame) -> pd.DataFrame:
    """Control ratings as they would be once `actions` are carried out (pure)."""
    base = control_ratings[["unit_id", "control_id", "applicable", "maturity"]]
    raised = actions[["unit_id", "control_id", "to_level"]].rename(columns={"to_level": "maturity"})
    raised = raised.assign(applicable=True)
    merged = pd.concat([base, raised[base.columns]], ignore_index=True)
    merged = merged.drop_duplicates(["unit_id", "control_id"], keep="last")
    return merged.reset_index(drop=True)
