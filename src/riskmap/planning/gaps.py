"""Gaps and moves: which controls are below target in a unit, and how each can climb.

A gap starts from the level the rule credits and aims at the target of the worst residual
band the control guards (see the package docstring); a move climbs the credit curve's upper
concave envelope from where the control stands.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmap.catalogue import Catalogue
from riskmap.scoring import require_columns
from riskmap.scoring.lookup import looked_up
from riskmap.scoring.residual import CONTROL_RATING_COLUMNS, credit_of, links


def linked_cells(register: pd.DataFrame, control_ratings: pd.DataFrame, catalogue: Catalogue):
    """The links of the register's cells with each one's residual removed per unit of credit."""
    edges = links(register, control_ratings, catalogue)
    cells = register[["unit_code", "risk_id", "likelihood", "impact", "residual", "residual_band"]]
    edges = edges.merge(cells, on=["unit_code", "risk_id"])
    total = edges.groupby(["unit_code", "risk_id"])["weight"].transform("sum")
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
    edges = linked_cells(register, control_ratings, catalogue)
    targets = {b.id: b.target_maturity for b in catalogue.method.bands}
    edges["target"] = looked_up(edges["residual_band"], targets)
    # The worst residual band by rank, not the band of the highest residual: with a
    # declared band matrix a lower score can sit in a higher band.
    edges["band_rank"] = looked_up(edges["residual_band"], catalogue.method.band_rank())
    edges = edges.sort_values(["unit_code", "control_id", "risk_id"])
    edges["risks"] = edges["risk_id"].astype(object) + ";"
    per_pair = edges.groupby(["unit_code", "control_id"], sort=True).agg(
        from_level=("credited", "first"),
        claimed_level=("maturity", "first"),
        to_level=("target", "max"),
        worst_residual=("residual", "max"),
        band_rank=("band_rank", "max"),
        risks=("risks", "sum"),
    )
    per_pair["risks"] = per_pair["risks"].str[:-1]
    band_id = [b.id for b in catalogue.method.bands]
    per_pair["band"] = np.array(band_id, dtype=object)[per_pair["band_rank"].to_numpy(dtype=int)]
    per_pair = per_pair.drop(columns="band_rank")
    out = per_pair.reset_index().merge(
        units[["unit_code", "unit", "unit_type"]], on="unit_code", how="inner"
    )
    out = out[out["from_level"] < out["to_level"]].reset_index(drop=True)
    ctl = catalogue.control_by_id
    money = catalogue.method.cost_classes
    levels = (out["to_level"] - out["from_level"]).astype(float)
    ids = out["control_id"]
    out["control"] = looked_up(ids, {c: ctl[c].name for c in ctl})
    out["owner_role"] = looked_up(ids, {c: ctl[c].owner_role for c in ctl})
    # astype(float): with no gap at all, map() keeps the ids' string dtype and `*` fails.
    effort = looked_up(ids, {c: ctl[c].effort_days for c in ctl}).astype(float)
    unit_cost = looked_up(ids, {c: getattr(money, ctl[c].cost_class) for c in ctl}).astype(float)
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
