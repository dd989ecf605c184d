"""The key figures a manager reads, each defined once (pure: frames in, numbers out).

Overview, Trends, the briefing and the auditor's workbook all count actions and judge a
change with these functions, so the same cycle never shows two different numbers:

- `action_figures`: actions of a cycle, open, done (completed) and overdue as of a day.
  "Done" and "completed" are one figure: an action of the cycle whose status is done.
- `direction`: whether a change of residual risk is worse, better or unchanged. A change
  is judged at the precision it is shown with (`CHANGE_DECIMALS`): a change that reads
  +0.00 is unchanged, never "worse".
- `split_movers`: the units that got worse and better, the largest first, for the movers
  chart and the briefing, with a title that says how many of each are drawn.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from riskmap.planning import CLOSED_STATUSES, overdue

DONE = "done"
CHANGE_DECIMALS = 2


def action_figures(actions: pd.DataFrame, today: date) -> dict[str, int]:
    """Counts of a cycle's actions: `actions`, `actions_open`, `actions_done`, `actions_overdue`.

    `actions` needs `status` and `due_date`. Overdue is the planner's rule
    (`riskmap.planning.overdue`: open and due before `today`).
    """
    if actions is None or actions.empty:
        return {"actions": 0, "actions_open": 0, "actions_done": 0, "actions_overdue": 0}
    status = actions["status"].fillna("planned")
    return {
        "actions": int(len(actions)),
        "actions_open": int((~status.isin(CLOSED_STATUSES)).sum()),
        "actions_done": int((status == DONE).sum()),
        "actions_overdue": int(overdue(actions, today).sum()),
    }


def rounded_change(change) -> np.ndarray:
    """A change as it is shown (to `CHANGE_DECIMALS`), -0.0 made 0.0."""
    out = np.round(np.asarray(change, dtype=float), CHANGE_DECIMALS)
    return out + 0.0


def direction(change) -> np.ndarray:
    """ "worse", "better" or "unchanged" per change of residual risk (up is worse)."""
    c = rounded_change(change)
    return np.where(c > 0, "worse", np.where(c < 0, "better", "unchanged"))


def split_movers(frame: pd.DataFrame, n: int = 10) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the `n` largest rises, the `n` largest falls) of a frame with a `change` column.

    Unchanged rows (a change that rounds to zero) are in neither. Rises come largest first,
    falls largest fall last, so the two stack as one chart from worst to best.
    """
    d = direction(frame["change"])
    worse = frame[d == "worse"].sort_values("change", ascending=False, kind="mergesort").head(n)
    better = frame[d == "better"].sort_values("change", ascending=True, kind="mergesort").head(n)
    return worse, better.iloc[::-1]


def movers_title(n_worse: int, n_better: int, before: str, after: str) -> str:
    """What the movers chart draws, in numbers: "3 units worse and 2 better, ... to ..."."""
    unit = "unit" if n_worse == 1 else "units"
    return f"Largest movers: {n_worse} {unit} worse and {n_better} better, {before} to {after}"
