"""The remediation planner: control gaps become ranked moves, and a budget selects the plan.

A gap is a control below its target maturity in a unit. The target and the deadline both
follow the band of the worst *residual* risk the control guards there, so a control on a
critical residual risk aims at the top of the scale and its action is due within the
critical deadline. A gap starts from the maturity the rule credits (a level claimed without
evidence is planned from the level credited: the plan counts the work of showing it).

Under the coverage rule a control's gain on a risk is proportional to the credit its new
level adds, and the controls of a unit add up (the rule is linear in the credits). The
credit table is not concave (a paper control earns little, an established one a lot), so
a one-level step from Nascent can look poor although the next level pays: the planner
therefore climbs each gap along the upper concave envelope of its credit curve, taking the
one- or multi-level *move* with the best gain per person-day from where the control stands.

Two objectives (method.yaml `planning`):
- ``residual``: most residual removed per person-day;
- ``critical_high``: fewest critical and high cells: a move is valued by the residual it
  removes plus, for every cell it brings down a band, the drop in that band's weight
  (critical 100, high 10, otherwise 1 in the shipped method: a cell leaving critical is
  worth 90, far more than the at most 25 points of residual a cell holds), trying every move
  length. Critical cells first, then high ones.

Gains are recomputed after every choice (a cell that left a band weighs less), units are
stepped at once (vectorised), and each unit's sequence of moves is merged with the others'
by ratio. For ``residual`` a unit's ratios never rise (gains are fixed and each envelope is
concave), so the merge is the global greedy order; for ``critical_high`` a move can gain
once another has brought a cell near a threshold, and the merge keeps each unit's own order
(a running minimum of its ratios), a heuristic with no bound claimed.

The plan takes the ranking in order and, once a move no longer fits, still takes any later
move that fits what is left (never a move whose previous level was skipped). For
``residual`` with a budget in person-days only this is within one move of the best
possible: no plan of that budget removes more than the plan's first rejected move plus the
moves before it (the bound the plan reports).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from riskmap.catalogue import Catalogue
from riskmap.scoring import require_columns, score
from riskmap.scoring.residual import (
    CONTROL_RATING_COLUMNS,
    band_ids,
    credit_of,
    credited_maturity,
    has_evidence,
    links,
)

OBJECTIVES = {
    "residual": "Most residual removed",
    "critical_high": "Fewest critical and high cells (critical first, then high)",
}

ACTION_COLUMNS = [
    "priority",
    "unit_id",
    "unit",
    "unit_type",
    "control_id",
    "control",
    "from_level",
    "to_level",
    "claimed_level",
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
    """The ranked moves, the budget's selection, the actions chosen, the register after.

    `ranking` has one row per move (raise C in U from m to m + k) with `selected` marking
    what the budget takes; `actions` merges each (unit, control)'s chosen moves into one
    action from its first level to its last.
    """

    ranking: pd.DataFrame
    actions: pd.DataFrame
    register_before: pd.DataFrame
    register_after: pd.DataFrame
    budget_days: float | None
    budget_money: float | None
    summary: dict[str, float | int | str | None] = field(default_factory=dict)


def _edges(register: pd.DataFrame, control_ratings: pd.DataFrame, catalogue: Catalogue):
    """The links of the register's cells with each one's residual removed per unit of credit."""
    edges = links(register, control_ratings, catalogue)
    cells = register[["unit_id", "risk_id", "likelihood", "impact", "residual", "residual_band"]]
    edges = edges.merge(cells, on=["unit_id", "risk_id"])
    total = edges.groupby(["unit_id", "risk_id"])["weight"].transform("sum")
    edges["coef"] = (
        catalogue.method.rule.max_reduction
        * edges["likelihood"].astype(float)
        * edges["impact"].astype(float)
        * edges["weight"]
        / total
    )
    return edges


def gaps(
    register: pd.DataFrame,
    control_ratings: pd.DataFrame,
    units: pd.DataFrame,
    catalogue: Catalogue,
) -> pd.DataFrame:
    """Controls below their target maturity, one row per (unit, control).

    Only controls counted in the coverage of a risk of the register (linked, applied to the
    unit's type, not rated "does not apply").
    """
    require_columns(control_ratings, CONTROL_RATING_COLUMNS, "control ratings")
    edges = _edges(register, control_ratings, catalogue)
    targets = {b.id: b.target_maturity for b in catalogue.method.bands}
    edges["target"] = edges["residual_band"].map(targets)
    # The worst residual band by rank, not the band of the highest residual: with a
    # declared band matrix a lower score can sit in a higher band.
    edges["band_rank"] = edges["residual_band"].map(catalogue.method.band_rank())
    edges = edges.sort_values(["unit_id", "control_id", "risk_id"])
    edges["risks"] = edges["risk_id"].astype(object) + ";"
    per_pair = edges.groupby(["unit_id", "control_id"], sort=True).agg(
        from_level=("credited", "first"),
        claimed_level=("maturity", "first"),
        to_level=("target", "max"),
        worst_residual=("residual", "max"),
        band_rank=("band_rank", "max"),
        risks=("risks", "sum"),
    )
    per_pair["risks"] = per_pair["risks"].str[:-1]
    band_id = [b.id for b in catalogue.method.bands]
    per_pair["band"] = [band_id[int(i)] for i in per_pair["band_rank"]]
    per_pair = per_pair.drop(columns="band_rank")
    out = per_pair.reset_index().merge(
        units[["unit_id", "unit", "unit_type"]], on="unit_id", how="inner"
    )
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


def best_moves(catalogue: Catalogue) -> tuple[np.ndarray, np.ndarray]:
    """For every (level now, target): the move length with the best credit per level, and
    that credit. The upper concave envelope of the credit curve, read from `now`."""
    credit = catalogue.method.rule.credit
    lo, hi = min(credit), max(credit)
    n = hi - lo + 1
    table = credit_of(np.arange(lo, hi + 1), catalogue)
    length = np.zeros((n, n), dtype=int)
    gained = np.zeros((n, n))
    for now in range(n):
        for target in range(now + 1, n):
            slopes = [(table[now + k] - table[now]) / k for k in range(1, target - now + 1)]
            k = int(np.argmax(slopes)) + 1  # ties: the shortest move
            length[now, target], gained[now, target] = k, table[now + k] - table[now]
    return length, gained


def _rank(
    register: pd.DataFrame,
    control_ratings: pd.DataFrame,
    candidates: pd.DataFrame,
    catalogue: Catalogue,
    objective: str,
) -> pd.DataFrame:
    """Greedy ranking of moves, all units stepped at once."""
    lo = min(catalogue.method.rule.credit)
    table = credit_of(np.arange(lo, max(catalogue.method.rule.credit) + 1), catalogue)
    length, _ = best_moves(catalogue)
    pair_key = pd.MultiIndex.from_frame(register[["unit_id", "risk_id"]])
    residual = register["residual"].to_numpy(dtype=float).copy()
    impact = register["impact"].to_numpy(dtype=float)
    band_weight = catalogue.method.planning.band_weights

    edges = _edges(register, control_ratings, catalogue)
    edges = edges.merge(
        candidates[["unit_id", "control_id"]].reset_index(names="k"), on=["unit_id", "control_id"]
    )
    edges["p"] = pair_key.get_indexer(pd.MultiIndex.from_frame(edges[["unit_id", "risk_id"]]))
    edges = edges[edges["p"] >= 0]
    k_e = edges["k"].to_numpy()
    p_e = edges["p"].to_numpy()
    coef = edges["coef"].to_numpy(dtype=float)

    def band_value(r: np.ndarray, cells: np.ndarray) -> np.ndarray:
        bands = band_ids(catalogue, r, r / impact[cells], impact[cells])
        return pd.Series(bands).map(band_weight).to_numpy(dtype=float)

    n = len(candidates)
    level = candidates["from_level"].to_numpy(dtype=int).copy()
    target = candidates["to_level"].to_numpy(dtype=int)
    effort = candidates["effort_per_level"].to_numpy(dtype=float)
    unit_code = pd.factorize(candidates["unit_id"])[0]
    remaining = level < target
    steps: list[tuple[np.ndarray, ...]] = []
    for it in range(int((target - level).sum()) + 1):
        live = remaining[k_e]
        if not live.any():
            break
        pe, ke, ce = p_e[live], k_e[live], coef[live]
        if objective == "residual":
            # The gain is linear in the credit: the best move follows the credit's envelope.
            move = length[level - lo, target - lo]
            credit_gain = table[np.minimum(level + move, target) - lo] - table[level - lo]
            removed = np.bincount(ke, weights=ce * credit_gain[ke], minlength=n)
            ratio = np.where(
                remaining & (removed > _EPS), removed / (np.maximum(move, 1) * effort), -np.inf
            )
        else:
            # Cells that leave a band gain its weight drop: try every move length.
            value_now = band_value(residual[pe], pe)
            ratio = np.full(n, -np.inf)
            move = np.zeros(n, dtype=int)
            removed = np.zeros(n)
            credit_gain = np.zeros(n)
            for k in range(1, int((target - level).max()) + 1):
                ok = remaining & (level + k <= target)
                gain_k = np.where(
                    ok, table[np.minimum(level + k, target) - lo] - table[level - lo], 0
                )
                drop = ce * gain_k[ke]
                valued = drop + value_now - band_value(residual[pe] - drop, pe)
                removed_k = np.bincount(ke, weights=drop, minlength=n)
                valued_k = np.bincount(ke, weights=valued, minlength=n)
                ratio_k = np.where(ok & (valued_k > _EPS), valued_k / (k * effort), -np.inf)
                better = ratio_k > ratio + 1e-12
                ratio = np.where(better, ratio_k, ratio)
                move = np.where(better, k, move)
                removed = np.where(better, removed_k, removed)
                credit_gain = np.where(better, gain_k, credit_gain)
        order = np.lexsort((np.arange(n), -ratio, unit_code))
        first = np.ones(n, dtype=bool)
        first[1:] = unit_code[order][1:] != unit_code[order][:-1]
        picks = order[first & np.isfinite(ratio[order])]
        if not len(picks):
            break
        steps.append((picks, level[picks].copy(), move[picks], removed[picks], ratio[picks], it))
        picked = np.isin(ke, picks)
        np.subtract.at(residual, pe[picked], (ce * credit_gain[ke])[picked])
        level[picks] += move[picks]
        remaining[picks] = level[picks] < target[picks]

    if steps:
        k, start, moved, gains, ratios, its = (
            np.concatenate([s[i] if i < 5 else np.full(len(s[0]), s[5]) for s in steps])
            for i in range(6)
        )
    else:
        k = start = moved = its = np.array([], dtype=int)
        gains = ratios = np.array([], dtype=float)
    ranked = candidates.iloc[k].reset_index(drop=True)
    ranked = ranked.assign(
        from_level=start,
        to_level=start + moved,
        effort_days=moved * ranked["effort_per_level"].to_numpy(dtype=float),
        cost=moved * ranked["cost_per_level"].to_numpy(dtype=float),
        reduction=gains,
        reduction_per_day=ratios,
        _step=its,
        _unit=unit_code[k],
    ).sort_values(["_unit", "_step"])
    # The running minimum keeps each unit's own order in the merge (for `residual` it only
    # removes rounding noise: there the ratios do not rise).
    ranked["_key"] = ranked.groupby("_unit")["reduction_per_day"].cummin()
    ranked = ranked.sort_values(["_key", "_unit", "_step"], ascending=[False, True, True])
    return ranked.drop(columns=["_step", "_unit", "_key"]).reset_index(drop=True)


def select(
    ranking: pd.DataFrame, budget_days: float | None, budget_money: float | None
) -> tuple[np.ndarray, int]:
    """Which moves a budget takes, and the length of the ranking's prefix that fits.

    The prefix first; then every later move that fits what is left, in ranking order, provided
    the control's previous move was taken (a level is never skipped).
    """
    n = len(ranking)
    days = ranking["effort_days"].to_numpy(dtype=float)
    money = ranking["cost"].to_numpy(dtype=float)
    fits = np.ones(n, dtype=bool)
    if budget_days is not None:
        fits &= np.cumsum(days) <= budget_days + 1e-9
    if budget_money is not None:
        fits &= np.cumsum(money) <= budget_money + 1e-9
    prefix = int(np.logical_and.accumulate(fits).sum()) if n else 0
    chosen = np.zeros(n, dtype=bool)
    chosen[:prefix] = True
    if prefix == n:
        return chosen, prefix
    days_left = np.inf if budget_days is None else budget_days - days[:prefix].sum()
    money_left = np.inf if budget_money is None else budget_money - money[:prefix].sum()
    keys = list(zip(ranking["unit_id"], ranking["control_id"], strict=True))
    frm = ranking["from_level"].to_numpy(dtype=int)
    to = ranking["to_level"].to_numpy(dtype=int)
    reached: dict[tuple, int] = {}
    blocked: set[tuple] = set()
    for i in range(prefix):
        reached[keys[i]] = to[i]
    for i in range(prefix, n):
        key = keys[i]
        if key in blocked or reached.get(key, frm[i]) != frm[i]:
            continue
        if days[i] <= days_left + 1e-9 and money[i] <= money_left + 1e-9:
            chosen[i] = True
            days_left -= days[i]
            money_left -= money[i]
            reached[key] = to[i]
        else:
            blocked.add(key)
    return chosen, prefix


def merge_steps(steps: pd.DataFrame) -> pd.DataFrame:
    """One action per (unit, control) from its chosen moves: from the first level to the last."""
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


def band_counts(register: pd.DataFrame, catalogue: Catalogue, column: str = "residual_band"):
    """Cells per band, every band of the method named (zero where none)."""
    counts = register[column].value_counts() if len(register) else pd.Series(dtype=int)
    return {b.id: int(counts.get(b.id, 0)) for b in catalogue.method.bands}


def plan(
    register: pd.DataFrame,
    control_ratings: pd.DataFrame,
    units: pd.DataFrame,
    risk_ratings: pd.DataFrame,
    catalogue: Catalogue,
    budget_days: float | None = None,
    budget_money: float | None = None,
    start: date | None = None,
    objective: str = "residual",
) -> Plan:
    """Rank every gap's moves and select what the budget affords."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {sorted(OBJECTIVES)}, got {objective!r}")
    start = start or date.today()
    candidates = gaps(register, control_ratings, units, catalogue)
    ranked = _rank(register, control_ratings, candidates, catalogue, objective)
    ranked["priority"] = np.arange(1, len(ranked) + 1)
    ranked["cumulative_days"] = ranked["effort_days"].cumsum()
    ranked["cumulative_cost"] = ranked["cost"].cumsum()
    chosen_mask, prefix = select(ranked, budget_days, budget_money)
    ranked["selected"] = chosen_mask
    # The deadline follows the worst residual band of the risks the control guards (gaps()).
    deadline = {b.id: b.deadline_days for b in catalogue.method.bands}
    ranked["due_date"] = [start + timedelta(days=deadline[b]) for b in ranked["band"]]
    ranked = ranked[ACTION_COLUMNS]

    chosen = merge_steps(ranked[ranked["selected"]])
    after_ratings = apply_actions(control_ratings, chosen, catalogue)
    register_after = score(risk_ratings, after_ratings, units, catalogue)
    removed = float(chosen["reduction"].sum())
    bound = None
    if objective == "residual" and budget_days is not None and budget_money is None:
        head = float(ranked["reduction"].iloc[:prefix].sum())
        bound = head + (float(ranked["reduction"].iloc[prefix]) if prefix < len(ranked) else 0.0)
    summary: dict[str, float | int | str | None] = {
        "objective": objective,
        "candidates": len(candidates),
        "ranked": len(ranked),
        "selected": len(chosen),
        "budget_days": budget_days,
        "budget_money": budget_money,
        "effort_days": float(chosen["effort_days"].sum()),
        "cost": float(chosen["cost"].sum()),
        "reduction": removed,
        "residual_before": float(register["residual"].sum()),
        "residual_after": float(register_after["residual"].sum()),
        "best_possible_at_most": bound,
    }
    for when, reg in (("before", register), ("after", register_after)):
        for band, count in band_counts(reg, catalogue).items():
            summary[f"{band}_{when}"] = count
    return Plan(ranked, chosen, register, register_after, budget_days, budget_money, summary)


def apply_actions(
    control_ratings: pd.DataFrame, actions: pd.DataFrame, catalogue: Catalogue
) -> pd.DataFrame:
    """Control ratings as they would be once `actions` (unit_id, control_id, to_level) are
    carried out (pure; the one rule for "after the plan", stored or previewed).

    A completed action shows its level with evidence. The control ends at the higher of the
    action's level and the level credited before: never below what was credited, and never
    above what the action or earlier evidence shows (a level claimed without evidence stays
    unproven, so it is not credited by the action either).
    """
    base = control_ratings[["unit_id", "control_id", "applicable", "maturity"]].assign(
        evidence=control_ratings["evidence"].fillna("").astype(str)
        if "evidence" in control_ratings.columns
        else ""
    )
    if actions is None or actions.empty:
        return base.reset_index(drop=True)
    targets = (
        actions.groupby(["unit_id", "control_id"])["to_level"].max().rename("_to").reset_index()
    )
    out = base.merge(targets, on=["unit_id", "control_id"], how="outer")
    raised = out["_to"].notna().to_numpy()
    out["maturity"] = out["maturity"].fillna(0).astype(int)
    out["evidence"] = out["evidence"].fillna("")
    credited = credited_maturity(out["maturity"], has_evidence(out), catalogue)
    after = np.maximum(credited, out["_to"].fillna(0).to_numpy(dtype=int))
    out["maturity"] = np.where(raised, after, out["maturity"]).astype(int)
    out.loc[raised, "applicable"] = True
    out.loc[raised, "evidence"] = "action completed"
    out["applicable"] = out["applicable"].fillna(True).astype(bool)
    return out.drop(columns="_to").reset_index(drop=True)


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
