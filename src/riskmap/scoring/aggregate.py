"""Roll-ups of the scored register: per unit, unit type, stage, principle and ministry-wide.

Managers read exposure at several levels of the organisation; each roll-up here is one
groupby over the register so that the heat maps, the briefing and the workbook agree.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from riskmap.catalogue import Catalogue
from riskmap.scoring.residual import CONTROL_RATING_COLUMNS, band_ids, require_columns


def _band_counts(register: pd.DataFrame, by: list[str], catalogue: Catalogue) -> pd.DataFrame:
    # One indicator column per band (every band, even if unused), summed per group. Not
    # pd.crosstab(dropna=False): it builds the full product of the key levels (units x
    # names x types x regions), which exhausts memory for a ministry of 1,000 units.
    band_order = [b.id for b in catalogue.method.bands]
    bands = pd.Categorical(register["residual_band"], categories=band_order)
    counts = pd.get_dummies(bands, dtype=int)
    counts.columns = [f"n_{b}" for b in band_order]
    counts.index = register.index
    counts = counts.groupby([register[c] for c in by], sort=True, dropna=False).sum()
    return counts.reset_index()


def _rollup(register: pd.DataFrame, by: list[str], catalogue: Catalogue) -> pd.DataFrame:
    # dropna=False: a unit with no region (a blank CSV cell) is still a unit to report.
    grouped = register.groupby(by, sort=True, dropna=False)
    stats = grouped.agg(
        pairs=("risk_id", "size"),
        max_inherent=("inherent", "max"),
        mean_inherent=("inherent", "mean"),
        max_residual=("residual", "max"),
        mean_residual=("residual", "mean"),
    ).reset_index()
    out = stats.merge(_band_counts(register, by, catalogue), on=by, how="left")

    out["worst_band"] = band_ids(catalogue, out["max_residual"])
    return out


def by_unit(register: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """Per unit: highest and mean residual, count per band; ordered most exposed first."""
    out = _rollup(register, ["unit_code", "unit", "unit_type", "region"], catalogue)
    return out.sort_values(["max_residual", "mean_residual"], ascending=False, ignore_index=True)


def by_unit_type(register: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    out = _rollup(register, ["unit_type"], catalogue)
    units = register.groupby("unit_type")["unit_code"].nunique().rename("units").reset_index()
    return out.merge(units, on="unit_type")


def by_stage(register: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    order = {s.id: i for i, s in enumerate(catalogue.stages)}
    out = _rollup(register, ["stage"], catalogue)
    return out.sort_values("stage", key=lambda s: s.map(order), ignore_index=True)


def by_risk(register: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    return _rollup(register, ["risk_id", "risk", "stage"], catalogue)


def ministry(register: pd.DataFrame, catalogue: Catalogue) -> dict[str, float | int]:
    """Ministry-wide key figures (one dict, for the overview and the workbook summary)."""
    figures: dict[str, float | int] = {
        "units": int(register["unit_code"].nunique()),
        "pairs": len(register),
        "mean_inherent": float(register["inherent"].mean()) if len(register) else 0.0,
        "mean_residual": float(register["residual"].mean()) if len(register) else 0.0,
        "max_residual": float(register["residual"].max()) if len(register) else 0.0,
    }
    counts = register["residual_band"].value_counts()
    for band in catalogue.method.bands:
        figures[f"n_{band.id}"] = int(counts.get(band.id, 0))
    return figures


def maturity_by_principle(
    control_ratings: pd.DataFrame,
    units: pd.DataFrame,
    catalogue: Catalogue,
    by: str | None = None,
) -> pd.DataFrame:
    """Mean maturity of each principle's applicable controls, optionally per unit attribute.

    Not-applicable controls are left out (they are not weaknesses); a control applicable by
    the catalogue but not yet rated counts as maturity 0, because unproven is not in place.
    """
    require_columns(control_ratings, CONTROL_RATING_COLUMNS, "control ratings")
    applies = pd.DataFrame(
        [
            (c.id, t, catalogue.principle_of_statement[c.principle].id)
            for c in catalogue.controls
            for t in c.unit_types
        ],
        columns=["control_id", "unit_type", "principle"],
    )
    cols = ["unit_code", "unit_type"] + ([by] if by and by != "unit_type" else [])
    pairs = units[cols].merge(applies, on="unit_type", how="inner")
    pairs = pairs.merge(
        control_ratings[["unit_code", "control_id", "applicable", "maturity"]],
        on=["unit_code", "control_id"],
        how="left",
    )
    pairs = pairs[pairs["applicable"].fillna(True).astype(bool)]
    pairs["maturity"] = pairs["maturity"].fillna(0).astype(float)
    keys = ([by] if by else []) + ["principle"]
    out = pairs.groupby(keys).agg(
        mean_maturity=("maturity", "mean"), controls=("control_id", "size")
    )
    return out.reset_index()


def maturity_of_units_by_type(maturity: pd.DataFrame, unit_ids: Iterable[str] | None = None):
    """Mean maturity per unit type and principle over the chosen units.

    `maturity` is the service's `CycleMap.maturity` (per unit and principle, with the count
    of ratings): the mean over a type is weighted by those counts, so it equals the mean over
    all the type's ratings, as `riskmap.scoring.maturity_by_principle(by="unit_type")` computes it.
    """
    frame = maturity
    if unit_ids is not None:
        frame = frame[frame["unit_code"].isin(list(unit_ids))]
    cols = ["unit_type", "principle", "mean_maturity", "controls"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    weighted = frame.assign(_sum=frame["mean_maturity"] * frame["controls"])
    out = weighted.groupby(["unit_type", "principle"], as_index=False)[["_sum", "controls"]].sum()
    out["mean_maturity"] = out["_sum"] / out["controls"]
    return out[cols]
