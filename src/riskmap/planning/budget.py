"""What a budget takes from the ranking, and the actions the chosen moves make."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmap.catalogue import Catalogue
from riskmap.planning.columns import ACTION_COLUMNS


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
    keys = list(zip(ranking["unit_code"], ranking["control_id"], strict=True))
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
    grouped = steps.groupby(["unit_code", "control_id"], sort=False)
    merged = grouped.agg(
        first_priority=("priority", "min"),
        from_level=("from_level", "min"),
        to_level=("to_level", "max"),
        residual_removed=("residual_removed", "sum"),
        effort_days=("effort_days", "sum"),
        cost=("cost", "sum"),
    ).reset_index()
    firsts = steps.drop_duplicates(["unit_code", "control_id"])
    keep = [c for c in ACTION_COLUMNS if c not in merged.columns]
    merged = merged.merge(
        firsts[["unit_code", "control_id", *keep]], on=["unit_code", "control_id"]
    )
    merged = merged.sort_values("first_priority", ignore_index=True)
    merged["priority"] = np.arange(1, len(merged) + 1)
    merged["residual_removed_per_day"] = merged["residual_removed"] / merged["effort_days"]
    merged["cumulative_days"] = merged["effort_days"].cumsum()
    merged["cumulative_cost"] = merged["cost"].cumsum()
    return merged[ACTION_COLUMNS]


def band_counts(register: pd.DataFrame, catalogue: Catalogue, column: str = "residual_band"):
    """Cells per band, every band of the method named (zero where none)."""
    counts = register[column].value_counts() if len(register) else pd.Series(dtype=int)
    return {b.id: int(counts.get(b.id, 0)) for b in catalogue.method.bands}
