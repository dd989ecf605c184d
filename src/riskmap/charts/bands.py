"""Band helpers shared by every chart: colours, band of a score, the discrete colour scale.

The thresholds live in the method file and are applied by `riskmap.scoring.band_ids` (one
rule for the register, the workbook and the charts); this module only turns band ids into
positions and colours. A cell of a band-coloured heat map holds the band's *index* (0 for
the lowest band) and the colour scale is stepped, so a cell gets exactly its band's colour
from the method file, never an interpolated one.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from riskmap.catalogue import Catalogue
from riskmap.scoring import band_ids


def band_colors(catalogue: Catalogue) -> dict[str, str]:
    """Band id -> fill colour (#RRGGBB), lowest band first, as the method file declares."""
    return {b.id: b.color for b in catalogue.method.bands}


def band_text_colors(catalogue: Catalogue) -> dict[str, str]:
    """Band id -> colour of text written on that band's fill (the method's `text_color`)."""
    return {b.id: b.text_color for b in catalogue.method.bands}


def band_names(catalogue: Catalogue) -> dict[str, str]:
    return {b.id: b.name for b in catalogue.method.bands}


def band_of(score, catalogue: Catalogue):
    """Band id of a score (a str, None for NaN) or of an array of scores (object array).

    Thresholds are applied by `riskmap.scoring.band_ids`; missing scores (not-applicable
    cells) have no band.
    """
    if np.ndim(score) == 0:
        if score is None or (isinstance(score, float) and math.isnan(score)):
            return None
        return str(band_ids(catalogue, np.array([float(score)]))[0])
    values = np.asarray(score, dtype=float)
    ids = band_ids(catalogue, np.nan_to_num(values, nan=0.0)).astype(object)
    ids[np.isnan(values)] = None
    return ids


def band_index(score, catalogue: Catalogue) -> np.ndarray:
    """Position of each score's band in the method's list (0 = lowest), NaN where no score.

    This is what a band-coloured heat map stores as z: with `band_colorscale` the position
    maps to the band's colour exactly.
    """
    values = np.asarray(score, dtype=float)
    order = pd.Index([b.id for b in catalogue.method.bands])
    ids = band_ids(catalogue, np.nan_to_num(values.ravel(), nan=0.0))
    index = order.get_indexer(ids).astype(float)
    index[np.isnan(values.ravel())] = np.nan
    return index.reshape(values.shape)


def band_colorscale(catalogue: Catalogue) -> tuple[list[list], float, float]:
    """A stepped colour scale over band positions: (colorscale, zmin, zmax).

    Band k occupies [k/n, (k+1)/n] of the scale and z runs from -0.5 to n - 0.5, so the
    integer position k lands in the middle of its own step.
    """
    colors = list(band_colors(catalogue).values())
    n = len(colors)
    scale: list[list] = []
    for k, color in enumerate(colors):
        scale.append([k / n, color])
        scale.append([(k + 1) / n, color])
    return scale, -0.5, n - 0.5


def color_of_index(index: float, catalogue: Catalogue) -> str | None:
    """The colour a z value (band position) gets on `band_colorscale`; None for NaN.

    Computed from the colour scale itself (as plotly would), so tests can check that the
    scale, not only the band lookup, gives each band its colour.
    """
    if index is None or math.isnan(index):
        return None
    scale, zmin, zmax = band_colorscale(catalogue)
    t = (float(index) - zmin) / (zmax - zmin)
    for (lo, color), (hi, _) in zip(scale[::2], scale[1::2], strict=True):
        if lo <= t <= hi:
            return color
    return None


def format_scores(values, decimals: int = 2) -> np.ndarray:
    """Scores as short text ("6.25", "16", "" for NaN), truncated to `decimals` decimals.

    Truncated rather than rounded, so the written value never crosses a band threshold the
    score has not reached (4.999 is written 4.99, not 5, in a low cell). Heat map cells
    write one decimal (so that 39 risks fit a 1,400 px screen); hovers write two.
    """
    arr = np.asarray(values, dtype=float)
    flat = arr.ravel()
    out = np.full(flat.shape, "", dtype=object)
    ok = ~np.isnan(flat)
    if ok.any():
        scale = 10**decimals
        truncated = np.floor(np.round(flat[ok] * scale, 6)) / scale
        uniq, inverse = np.unique(truncated, return_inverse=True)
        labels = np.array([f"{v:.{decimals}f}".rstrip("0").rstrip(".") for v in uniq], dtype=object)
        out[ok] = labels[inverse]
    return out.reshape(arr.shape)


def cells_per_band(
    reg: pd.DataFrame, keys: list[str], value: str, catalogue: Catalogue, **more: tuple
) -> pd.DataFrame:
    """Per `keys` (a group of units and a risk): units, the worst `value` and its unit,
    and the units per band (`n_<band>`, from `reg["_band"]`); `more` adds aggregations
    (`mean=(value, "mean")`). The one summary behind the map of groups and the glance."""
    grouped = reg.groupby(keys, sort=False)
    out = grouped.agg(units=("unit_code", "nunique"), **more, worst=(value, "max"))
    worst = reg.loc[grouped[value].idxmax().to_numpy(), [*keys, "unit"]]
    out = out.join(worst.set_index(keys).rename(columns={"unit": "worst_unit"}))
    for band in catalogue.method.bands:
        out[f"n_{band.id}"] = (reg["_band"] == band.id).groupby([reg[k] for k in keys]).sum()
    return out.reset_index()


def on_grid(
    summary: pd.DataFrame, row_key: str, rows: pd.Index, cols: pd.Index, columns: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A `cells_per_band` summary laid out on the rows x risks grid: each summary row's
    position (row, column) and `columns` per cell, shape (rows, cols, len(columns)), NaN
    where no unit of the row rates the risk (a cell the map leaves empty)."""
    ri, ci = rows.get_indexer(summary[row_key]), cols.get_indexer(summary["risk_id"])
    grid = np.full((len(rows), len(cols), len(columns)), np.nan)
    grid[ri, ci] = summary[columns].to_numpy(dtype=float)
    return ri, ci, grid
