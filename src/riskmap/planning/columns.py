"""The planner's vocabulary: its objectives and the columns of a ranked move or action."""

from __future__ import annotations

OBJECTIVES = {
    "residual": "Most residual removed",
    "critical_high": "Fewest critical and high cells (critical first, then high)",
}

ACTION_COLUMNS = [
    "priority",
    "unit_code",
    "unit",
    "unit_type",
    "control_id",
    "control",
    "from_level",
    "to_level",
    "claimed_level",
    "residual_removed",
    "effort_days",
    "cost",
    "residual_removed_per_day",
    "cumulative_days",
    "cumulative_cost",
    "band",
    "due_date",
    "owner_role",
    "risks",
    "selected",
]
