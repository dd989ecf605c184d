"""The greedy ranking of moves for either objective, all units stepped at once."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmap.catalogue import Catalogue
from riskmap.planning.gaps import best_moves, linked_cells
from riskmap.scoring.residual import band_positions, credit_of

_EPS = 1e-12


def _best_per_unit(ratio: np.ndarray, unit: np.ndarray, units: int) -> np.ndarray:
    """Each unit's best move this step, by unit: the highest ratio, the first candidate on
    a tie, none where the best is not finite. The same picks as sorting every candidate by
    (unit, -ratio, position) at each step, in linear time: at 10,000 units that sort was
    most of the ranking."""
    if not len(ratio):
        return np.zeros(0, dtype=np.int64)
    r = np.where(np.isnan(ratio), -np.inf, ratio)
    best = np.full(units, -np.inf)
    np.maximum.at(best, unit, r)
    tied = np.flatnonzero(r == best[unit])
    _, first = np.unique(unit[tied], return_index=True)
    picks = tied[first]
    return picks[np.isfinite(ratio[picks])]


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

    weight_at = np.array([band_weight[b.id] for b in catalogue.method.bands], dtype=float)

    def band_value(r: np.ndarray, cells: np.ndarray) -> np.ndarray:
        return weight_at[band_positions(catalogue, r, r / impact[cells], impact[cells])]

    n = len(candidates)
    level = candidates["from_level"].to_numpy(dtype=int).copy()
    target = candidates["to_level"].to_numpy(dtype=int)
    effort = candidates["effort_per_level"].to_numpy(dtype=float)
    unit_code, uniques = pd.factorize(candidates["unit_code"])
    units = len(uniques)
    remaining = level < target
    steps: list[tuple[np.ndarray, ...]] = []
    for it in range(int((target - level).sum()) + 1):
        live = remaining[k_e]
        if not live.any():
            break
        # A finished move never comes back: its edges leave for good, so each step works
        # on fewer edges than the last.
        p_e, k_e, coef = p_e[live], k_e[live], coef[live]
        pe, ke, ce = p_e, k_e, coef
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
        picks = _best_per_unit(ratio, unit_code, units)
        if not len(picks):
            break
        steps.append((picks, level[picks].copy(), move[picks], removed[picks], ratio[picks], it))
        chosen = np.zeros(n, dtype=bool)
        chosen[picks] = True
        picked = chosen[ke]
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
