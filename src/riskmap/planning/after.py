"""After the plan: control ratings once actions are done, and which actions are late."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from riskmap import vocabulary
from riskmap.catalogue import Catalogue
from riskmap.scoring.residual import credited_maturity, has_evidence

CLOSED_STATUSES = vocabulary.CLOSED_ACTION_STATUSES


def apply_actions(
    control_ratings: pd.DataFrame, actions: pd.DataFrame, catalogue: Catalogue
) -> pd.DataFrame:
    """Control ratings as they would be once `actions` (unit_code, control_id, to_level) are
    carried out (pure; the one rule for "after the plan", stored or previewed).

    A completed action shows its level with evidence. The control ends at the higher of the
    action's level and the level credited before: never below what was credited, and never
    above what the action or earlier evidence shows (a level claimed without evidence stays
    unproven, so it is not credited by the action either).
    """
    base = control_ratings[["unit_code", "control_id", "applicable", "maturity"]].assign(
        evidence=control_ratings["evidence"].fillna("").astype(str)
        if "evidence" in control_ratings.columns
        else ""
    )
    if actions is None or actions.empty:
        return base.reset_index(drop=True)
    targets = (
        actions.groupby(["unit_code", "control_id"])["to_level"].max().rename("_to").reset_index()
    )
    out = base.merge(targets, on=["unit_code", "control_id"], how="outer")
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
