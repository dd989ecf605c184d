"""The one place the walk-through applies the rating rules (baseline, when a justification
is required): the service checks them again at every save.

Kept to one function so it can later read `riskmap.rules` (the pure rating-rules module)
instead of restating the rule here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class Justification:
    """What the risk form asks for: `required` or not, and the label of the text box."""

    required: bool
    label: str
    baseline: tuple[int, int] | None  # the starting point (likelihood, impact), if any
    source: str  # where the starting point comes from, in words


def risk_justification(row: Any, likelihood: int, impact: int, has_previous: bool) -> Justification:
    """An applicable risk rated away from its starting point (last cycle's rating when
    the cycle has a previous one, else the catalogue default) needs a justification;
    keeping it does not. A risk that does not apply asks for its own reason instead."""
    source = "last cycle's rating" if has_previous else "catalogue default"
    base_l, base_i = row.get("baseline_likelihood"), row.get("baseline_impact")
    if pd.isna(base_l) or pd.isna(base_i):
        return Justification(False, "Justification", None, source)
    baseline = (int(base_l), int(base_i))
    if (int(likelihood), int(impact)) != baseline:
        label = f"Why does the rating differ from the {source}? (required)"
        return Justification(True, label, baseline, source)
    label = "Justification (optional when you keep the starting point)"
    return Justification(False, label, baseline, source)
