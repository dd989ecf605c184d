"""The one place the walk-through asks the rating rules (`riskmap.rules`) what a risk form
needs: the page says it, the service checks it again at every save, with the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from riskmap import rules


@dataclass(frozen=True)
class Justification:
    """What the risk form asks for: `required` or not, and the label of the text box."""

    required: bool
    label: str
    baseline: tuple[int, int] | None  # the starting point (likelihood, impact), if any
    source: str  # where the starting point comes from, in words


def risk_justification(row: Any, likelihood: int, impact: int, has_previous: bool) -> Justification:
    """An applicable risk rated away from its starting point (the rating's own baseline:
    last cycle's rating for a unit rated then, else the catalogue default) needs a
    justification; keeping it does not (`riskmap.rules.risk_justification_problem`)."""
    source = row.get("baseline_source") or (
        rules.LAST_CYCLE if has_previous else rules.CATALOGUE_DEFAULT
    )
    base_l, base_i = row.get("baseline_likelihood"), row.get("baseline_impact")
    baseline = None
    if not (pd.isna(base_l) or pd.isna(base_i)):
        baseline = rules.Baseline(int(base_l), int(base_i), source)
    problem = rules.risk_justification_problem(
        risk_id=str(row.get("risk_id", "")),
        unit=str(row.get("unit_code", "")),
        applicable=True,
        likelihood=int(likelihood),
        impact=int(impact),
        justification="",
        baseline=baseline,
    )
    shown = None if baseline is None else (baseline.likelihood, baseline.impact)
    if problem is not None:
        what = source if baseline is not None else "catalogue"
        label = f"Why does the rating differ from the {what}? (required)"
        return Justification(True, label, shown, source)
    label = "Justification (optional when you keep the starting point)"
    return Justification(False, label, shown, source)
