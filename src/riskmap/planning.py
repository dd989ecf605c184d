"""The remediation planner: control gaps become ranked steps, and a budget cuts the ranking.

A gap is an applicable control below its target maturity in a unit (the target follows the
inherent band of the worst risk the control mitigates there). A gap is climbed in one-level
steps ("raise control C in unit U from m to m + 1"), so that a budget is never blocked by
one large multi-level action and no effort is spent on a level that buys nothing. Steps are
ranked greedily by the residual risk they remove per person-day, recomputing marginal gains
after every choice, because two controls on the same risk share its reduction (the product
rule gives diminishing returns) and a control's next level gains at most what its last did.

Gains only interact inside a unit, and each unit's greedy sequence has non-increasing
ratios, so the global greedy ranking is the merge of per-unit sequences; the per-unit steps
run for all units at once, vectorised. The plan for a budget is the longest prefix of the
ranking that fits; each (unit, control)'s chosen steps merge into one action. Guarantee:
the objective (total residual removed, as a function of the maturity levels) is monotone and
DR-submodular on the integer lattice (submodular across controls, concave along each), so a
greedy prefix costing C removes at least (1 - e^(-C/B)) of what the best possible choice of
levels within budget B could remove (Wolsey 1982; Khuller, Moss and Naor 1999; Soma and
Yoshida 2015). Because the plan is a prefix of one budget-independent ranking, a bigger
budget always buys a superset of steps, never less reduction.
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
CLOSED_STATUSES = ("done", "cancelled")


@dataclass(frozen=True)
class Plan:
    """The ranked steps, the budget's cut through them, the actions chosen, the register after.

    `ranking` has one row per one-level step (raise C in U from m to m + 1) with `selected`
    marking the budget's prefix; `actions` merges each (unit, control)'s chosen steps into
    one action from its first level to its last.
    """

    ranking: pd.DataFrame
    actions: pd.DataFrame
    register_before: pd.DataFrame
    register_after: pd.DataFrame
    budget_days: float | None
    budget_money: float | None
    summary: dict[str, float | int | None] = field(default_factory=dict)


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
    out["effort_per_level"] = effort
    out["cost_per_level"] = unit_cost
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
    """Greedy marginal-gain ranking of one-level steps (all units stepped at once).

    Each candidate climbs one maturity level per pick, so a step's effort is one level of
    the control's effort; its next level becomes a candidate once the step is chosen.
    """
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

    edges = candidates[["unit_id", "control_id"]].reset_index(names="k")
    edges = edges.merge(
        mitigation_frame(catalogue)[["control_id", "risk_id", "weight"]], on="control_id"
    )
    edges["p"] = pair_key.get_indexer(pd.MultiIndex.from_frame(edges[["unit_id", "risk_id"]]))
    edges = edges[edges["p"] >= 0]
    k_e = edges["k"].to_numpy()
    p_e = edges["p"].to_numpy()
    w = edges["weight"].to_numpy(dtype=float)

    def residual_l(prod: np.ndarray, p: np.ndarray) -> np.ndarray:
        return np.maximum(floor[p], likelihood[p] * np.maximum(1 - rule.reduction_cap, prod))

    n = len(candidates)
    level = candidates["from_level"].to_numpy(dtype=int).copy()
    target = candidates["to_level"].to_numpy(dtype=int)
    effort = candidates["effort_per_level"].to_numpy(dtype=float)
    unit_code = pd.factorize(candidates["unit_id"])[0]
    remaining = level < target
    steps: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]] = []
    for it in range(int((target - level).sum()) + 1):
        live = remaining[k_e]
        if not live.any():
            break
        pe, ke, we = p_e[live], k_e[live], w[live]
        change = (1 - we * (level[ke] + 1) / top) / (1 - we * level[ke] / top)
        before = residual_l(product[pe], pe)
        after = residual_l(product[pe] * change, pe)
        gain = np.bincount(ke, weights=impact[pe] * (before - after), minlength=n)
        ratio = np.where(remaining & (gain > _EPS), gain / effort, -np.inf)
        order = np.lexsort((np.arange(n), -ratio, unit_code))
        first = np.ones(n, dtype=bool)
        first[1:] = unit_code[order][1:] != unit_code[order][:-1]
        picks = order[first & np.isfinite(ratio[order])]
        if not len(picks):
            break
        steps.append((picks, level[picks].copy(), gain[picks], ratio[picks], it))
        picked = np.isin(ke, picks)
        np.multiply.at(product, pe[picked], change[picked])
        level[picks] += 1
        remaining[picks] = level[picks] < target[picks]
        # A unit whose best step gains nothing is finished: gains only shrink (the
        # objective is DR-submodular), so its other steps would gain nothing either.
        done_units = np.setdiff1d(unit_code[remaining], unit_code[picks])
        remaining &= ~np.isin(unit_code, done_units)

    if steps:
        k = np.concatenate([s[0] for s in steps])
        start_level = np.concatenate([s[1] for s in steps])
        gains = np.concatenate([s[2] for s in steps])
        ratios = np.concatenate([s[3] for s in steps])
        its = np.concatenate([np.full(len(s[0]), s[4]) for s in steps])
    else:
        k = start_level = its = np.array([], dtype=int)
        gains = ratios = np.array([], dtype=float)
    ranked = candidates.iloc[k].reset_index(drop=True)
    ranked = ranked.assign(
        from_level=start_level,
        to_level=start_level + 1,
        effort_days=ranked["effort_per_level"].to_numpy(dtype=float),
        cost=ranked["cost_per_level"].to_numpy(dtype=float),
        reduction=gains,
        reduction_per_day=ratios,
        _step=its,
        _unit=unit_code[k],
    ).sort_values(["_unit", "_step"])
    # Exact arithmetic makes each unit's ratios non-increasing; the running minimum
    # removes rounding noise so the merge never reorders a unit's own sequence.
    ranked["_key"] = ranked.groupby("_unit")["reduction_per_day"].cummin()
    ranked = ranked.sort_values(["_key", "_unit", "_step"], ascending=[False, True, True])
    return ranked.drop(columns=["_step", "_unit", "_key"]).reset_index(drop=True)


def merge_steps(steps: pd.DataFrame) -> pd.DataFrame:
    """One action per (unit, control) from its chosen steps: from the first level to the last."""
    if steps.empty:
        return steps.reset_index(drop=True)
    grouped = steps.groupby(["unit_id", "control_id"], sort=False)
    merged = grouped.agg(
        first_priority=("priority", "min"),
        from_level=("from_level", "min"),
        to_level=("to_level", "max"),
        reduction=("reduction", "sum"),
        effort_days=("effort_days", "sum"),
        cost=("cost", "sum"),
    ).reset_index()
    firsts = steps.drop_duplicates(["unit_id", "control_id"])
    keep = [c for c in ACTION_COLUMNS if c not in merged.columns]
    merged = merged.merge(firsts[["unit_id", "control_id", *keep]], on=["unit_id", "control_id"])
    merged = merged.sort_values("first_priority", ignore_index=True)
    merged["priority"] = np.arange(1, len(merged) + 1)
    merged["reduction_per_day"] = merged["reduction"] / merged["effort_days"]
    merged["cumulative_days"] = merged["effort_days"].cumsum()
    merged["cumulative_cost"] = merged["cost"].cumsum()
    return merged[ACTION_COLUMNS]


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
    """Rank every gap's steps and select the prefix of the ranking the budget affords."""
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

    chosen = merge_steps(ranked[ranked["selected"]])
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
    return Plan(ranked, chosen, register, register_after, budget_days, budget_money, summary)


def apply_actions(control_ratings: pd.DataFrame, actions: pd.DataFrame) -> pd.DataFrame:
    """Control ratings as they would be once `actions` are carried out (pure)."""
    base = control_ratings[["unit_id", "control_id", "applicable", "maturity"]]
    raised = actions[["unit_id", "control_id", "to_level"]].rename(columns={"to_level": "maturity"})
    raised = raised.assign(applicable=True)
    merged = pd.concat([base, raised[base.columns]], ignore_index=True)
    merged = merged.drop_duplicates(["unit_id", "control_id"], keep="last")
    return merged.reset_index(drop=True)


def overdue(actions: pd.DataFrame, today: date) -> pd.Series:
    """True for each action still open (not done or cancelled) and due before `today`.

    The one rule of lateness, shared by the service's key figures and the timeline chart.
    """
    if actions is None or actions.empty:
        return pd.Series(dtype=bool)
    due = pd.to_datetime(actions["due_date"], errors="coerce")
    late = (due < pd.Timestamp(today).normalize()).fillna(False).astype(bool)
    if "status" not in actions.columns:
        return late
    return late & ~actions["status"].fillna("planned").isin(CLOSED_STATUSES)
