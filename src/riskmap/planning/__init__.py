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
from riskmap.planning.after import CLOSED_STATUSES, apply_actions, overdue
from riskmap.planning.budget import band_counts, merge_steps, select
from riskmap.planning.columns import ACTION_COLUMNS, OBJECTIVES
from riskmap.planning.gaps import best_moves, gaps
from riskmap.planning.ranking import rank
from riskmap.scoring import score
from riskmap.scoring.lookup import looked_up

__all__ = [
    "ACTION_COLUMNS",
    "CLOSED_STATUSES",
    "OBJECTIVES",
    "Plan",
    "apply_actions",
    "band_counts",
    "best_moves",
    "gaps",
    "merge_steps",
    "overdue",
    "plan",
    "rank",
    "select",
]


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
    ranked = rank(register, control_ratings, candidates, catalogue, objective)
    ranked["priority"] = np.arange(1, len(ranked) + 1)
    ranked["cumulative_days"] = ranked["effort_days"].cumsum()
    ranked["cumulative_cost"] = ranked["cost"].cumsum()
    chosen_mask, prefix = select(ranked, budget_days, budget_money)
    ranked["selected"] = chosen_mask
    # The deadline follows the worst residual band of the risks the control guards (gaps()).
    due = {b.id: start + timedelta(days=b.deadline_days) for b in catalogue.method.bands}
    ranked["due_date"] = looked_up(ranked["band"], due).astype(object)
    ranked = ranked[ACTION_COLUMNS]

    chosen = merge_steps(ranked[ranked["selected"]])
    after_ratings = apply_actions(control_ratings, chosen, catalogue)
    register_after = score(risk_ratings, after_ratings, units, catalogue)
    removed = float(chosen["residual_removed"].sum())
    bound = None
    if objective == "residual" and budget_days is not None and budget_money is None:
        head = float(ranked["residual_removed"].iloc[:prefix].sum())
        bound = head + (
            float(ranked["residual_removed"].iloc[prefix]) if prefix < len(ranked) else 0.0
        )
    summary: dict[str, float | int | str | None] = {
        "objective": objective,
        "candidates": len(candidates),
        "ranked": len(ranked),
        "selected": len(chosen),
        "budget_days": budget_days,
        "budget_money": budget_money,
        "effort_days": float(chosen["effort_days"].sum()),
        "cost": float(chosen["cost"].sum()),
        "residual_removed": removed,
        "residual_before": float(register["residual"].sum()),
        "residual_after": float(register_after["residual"].sum()),
        "best_possible_at_most": bound,
    }
    for when, reg in (("before", register), ("after", register_after)):
        for band, count in band_counts(reg, catalogue).items():
            summary[f"{band}_{when}"] = count
    return Plan(ranked, chosen, register, register_after, budget_days, budget_money, summary)
