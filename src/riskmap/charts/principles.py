"""Mean control maturity per unit type (or region) and OECD principle, as a heat map.

Input: `riskmap.scoring.maturity_by_principle(..., by="unit_type")` (columns unit_type,
principle, mean_maturity, controls). Any other `by` column works too (rows sorted by name).
The colour scale is sequential over the maturity scale (0 .. its top), so the same shade
means the same maturity on every page; the value is written in each cell.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from riskmap.catalogue import Catalogue
from riskmap.charts.common import FONT, build_figure, empty_figure, escape
from riskmap.scoring import require_columns

# ColorBrewer YlGnBu (sequential, colour-blind safe), light = low maturity.
MATURITY_COLORSCALE = [
    [0.0, "#FFFFD9"],
    [0.125, "#EDF8B1"],
    [0.25, "#C7E9B4"],
    [0.375, "#7FCDBB"],
    [0.5, "#41B6C4"],
    [0.625, "#1D91C0"],
    [0.75, "#225EA8"],
    [0.875, "#253494"],
    [1.0, "#081D58"],
]
_VALUE_COLUMNS = {"principle", "mean_maturity", "controls"}


def _wrap(text: str, width: int = 22) -> str:
    return "<br>".join(textwrap.wrap(escape(text), width)) or escape(text)


def principle_heatmap(
    maturity_frame: pd.DataFrame, catalogue: Catalogue, title: str | None = None
) -> go.Figure:
    """Rows: unit types (catalogue order); columns: principles (catalogue order).

    The trace's z is the mean maturity exactly as in `maturity_frame` (NaN where a unit
    type has no applicable control under a principle), text the value to one decimal.
    """
    title = title or "Mean control maturity by unit type and principle"
    if maturity_frame is None or maturity_frame.empty:
        return empty_figure("No control ratings to show: widen the filters.", title)
    require_columns(maturity_frame, ["principle", "mean_maturity"], "maturity by principle")
    keys = [c for c in maturity_frame.columns if c not in _VALUE_COLUMNS]
    if len(keys) != 1:
        raise ValueError(
            f"maturity by principle: expected one grouping column besides {sorted(_VALUE_COLUMNS)}"
            f", got {keys}"
        )
    by = keys[0]
    method = catalogue.method
    top = float(method.maturity.max)

    frame = maturity_frame.assign(**{by: maturity_frame[by].fillna("").astype(str)})
    present_principles = set(frame["principle"])
    principles = [p for p in catalogue.principles if p.id in present_principles]
    cols = [p.id for p in principles]
    cols += sorted(present_principles - set(cols))
    if by == "unit_type":
        rank = {t.id: i for i, t in enumerate(catalogue.unit_types)}
        names = {t.id: t.name for t in catalogue.unit_types}
        rows = sorted(set(frame[by]), key=lambda t: (rank.get(t, len(rank)), t))
    else:
        names = {}
        rows = sorted(set(frame[by]))

    row_index = pd.Index(rows)
    col_index = pd.Index(cols)
    ri = row_index.get_indexer(frame[by])
    ci = col_index.get_indexer(frame["principle"])
    z = np.full((len(rows), len(cols)), np.nan)
    z[ri, ci] = frame["mean_maturity"].to_numpy(dtype=float)
    n_controls = np.zeros(z.shape, dtype=np.int64)
    if "controls" in frame.columns:
        n_controls[ri, ci] = frame["controls"].to_numpy(dtype=np.int64)

    text = np.full(z.shape, "", dtype=object)
    ok = ~np.isnan(z)
    text[ok] = np.char.mod("%.1f", z[ok]).astype(object)
    by_id = {p.id: p for p in catalogue.principles}
    col_titles = [f"{by_id[c].number}. {by_id[c].title}" if c in by_id else c for c in cols]
    row_labels = [escape(names.get(r, r) or "(none)") for r in rows]
    level_names = {k: v.name for k, v in method.maturity.levels.items()}

    hover = np.full(z.shape, "", dtype=object)
    for r, c in zip(*np.nonzero(ok), strict=True):
        nearest = level_names.get(int(np.floor(z[r, c] + 0.5)), "")
        hover[r, c] = (
            f"<b>{row_labels[r]}</b><br>Principle {escape(col_titles[c])}"
            f"<br>Mean maturity: {z[r, c]:.2f} of {top:g} (about {nearest})"
            f"<br>Unit x control ratings counted: {n_controls[r, c]}"
        )

    trace = {
        "type": "heatmap",
        "x": [_wrap(t) for t in col_titles],
        "y": row_labels,
        "z": z,
        "text": text,
        "texttemplate": "%{text}",
        "hovertext": hover,
        "hoverinfo": "text",
        "hoverongaps": False,
        "customdata": n_controls,
        "colorscale": MATURITY_COLORSCALE,
        "zmin": 0.0,
        "zmax": top,
        "xgap": 1,
        "ygap": 1,
        "name": "maturity",
        "colorbar": {
            "title": {"text": "Maturity"},
            "tickvals": sorted(level_names),
            "ticktext": [f"{k} {level_names[k]}" for k in sorted(level_names)],
        },
    }
    layout = {
        "title": {"text": escape(title), "x": 0},
        "xaxis": {"type": "category", "side": "top", "tickfont": {"size": 10}},
        "yaxis": {"type": "category", "autorange": "reversed"},
        "plot_bgcolor": "white",
        "font": {"family": FONT},
        "height": 200 + 28 * max(len(rows), 4),
        "margin": {"t": 150},
    }
    return build_figure([trace], layout)
