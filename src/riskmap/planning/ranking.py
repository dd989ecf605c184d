"""The greedy ranking of moves for either objective, all units stepped at once."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmap.catalogue import Catalogue
from riskmap.planning.gaps import best_moves, linked_cells
from riskmap.scoring.residual import band_ids, credit_of

_EPS = 1e-12


def rank(
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
    pair_key = pd.MultiIndex.from_frame(register[["unit_code", "risk_id"]])
    residual = register["residual"].to_numpy(dtype=float).copy()
    impact = register["impact"].to_numpy(dtype=float)
    band_weight = catalogue.method.planning.band_weights

    linked = linked_cells(register, control_ratings, catalogue)
    linked = linked.merge(
        candidates[["unit_code", "control_id"]].reset_index(names="k"),
        on=["unit_code", "control_id"],
    )
    linked["p"] = pair_key.get_indexer(pd.MultiIndex.from_frame(linked[["unit_code", "risk_id"]]))
    linked = linked[linked["p"] >= 0]
    k_e = linked["k"].to_numpy()
    p_e = linked["p"].to_numpy()
    coef = linked["coef"].to_numpy(dtype=float)

    def band_value(r: np.ndarray, cells: np.ndarray) -> np.ndarray:
        bands = band_ids(catalogue, r, r / impact[cells], impact[cells])
        return pd.Series(bands).map(band_weight).to_numpy(dtype=float)

    n = len(candidates)
    level = candidates["from_level"].to_numpy(dtype=int).copy()
    target = candidates["to_level"].to_numpy(dtype=int)
    effort = candidates["effort_per_level"].to_numpy(dtype=float)
    unit_code = pd.factorize(candidates["unit_code"])[0]
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
        residual_removed=gains,
        residual_removed_per_day=ratios,
        _step=its,
        _unit=unit_code[k],
    ).sort_values(["_unit", "_step"])
    # The running minimum keeps each unit's own order in the merge (for `residual` it only
    # removes rounding noise: there the ratios do not rise).
    ranked["_key"] = ranked.groupby("_unit")["residual_removed_per_day"].cummin()
    ranked = ranked.sort_values(["_key", "_unit", "_step"], ascending=[False, True, True])
    return ranked.drop(columns=["_step", "_unit", "_key"]).reset_index(drop=True)
