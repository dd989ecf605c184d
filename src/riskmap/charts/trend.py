"""Change of residual risk per unit between two cycles: which units got worse, which better.

Input: a frame with `unit`, `residual_before`, `residual_after` (and optionally `unit_code`,
used to tell apart units with the same name), one row per unit, with whatever measure the
caller chose (sum, mean or maximum residual). A bar per unit shows after - before: up
(worse) in the method's top band colour, down (better) in blue; no change in grey.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from riskmap.catalogue import Catalogue
from riskmap.charts.common import FONT, build_figure, empty_figure, escape, escape_series
from riskmap.figures import direction, movers_title, rounded_change, split_movers
from riskmap.scoring import require_columns

BETTER_COLOR = "#2C7BB6"  # ColorBrewer RdYlBu blue: apart from the YlOrRd band colours
SAME_COLOR = "#999999"
TREND_COLUMNS = ["unit", "residual_before", "residual_after"]


def worse_color(catalogue: Catalogue | None) -> str:
    """The colour of a rise in risk: the method's top band ("critical") colour."""
    return catalogue.method.bands[-1].color if catalogue is not None else "#BD0026"


def residual_change(trend_frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with `change` = after - before, rows with both values, worst rise first."""
    require_columns(trend_frame, TREND_COLUMNS, "trend")
    out = trend_frame.dropna(subset=["residual_before", "residual_after"]).copy()
    out["change"] = out["residual_after"].astype(float) - out["residual_before"].astype(float)
    return out.sort_values(["change", "unit"], ascending=[False, True], kind="mergesort")


def _labels(frame: pd.DataFrame) -> pd.Series:
    names = frame["unit"].fillna("").astype(str)
    if "unit_code" in frame.columns:
        dup = names.duplicated(keep=False)
        names = names.where(~dup, names + " (" + frame["unit_code"].astype(str) + ")")
    return escape_series(names)


def trend_units(
    trend_frame: pd.DataFrame,
    catalogue: Catalogue | None = None,
    title: str | None = None,
    before_label: str = "last cycle",
    after_label: str = "this cycle",
) -> go.Figure:
    """Horizontal bars of residual change per unit, worst rise at the top.

    The trace's x is the change (after - before) in the order of `residual_change`;
    customdata holds [before, after].
    """
    title = title or f"Change in residual risk per unit, {before_label} to {after_label}"
    if trend_frame is None or trend_frame.empty:
        return empty_figure("No units to compare between the two cycles.", title)
    frame = residual_change(trend_frame)
    if frame.empty:
        return empty_figure("No unit was assessed in both cycles.", title)
    change = rounded_change(frame["change"])
    words = direction(change)
    colors = np.where(
        words == "worse",
        worse_color(catalogue),
        np.where(words == "better", BETTER_COLOR, SAME_COLOR),
    )
    labels = _labels(frame)
    before = frame["residual_before"].to_numpy(dtype=float)
    after = frame["residual_after"].to_numpy(dtype=float)
    hover = (
        "<b>"
        + labels
        + "</b><br>"
        + escape(before_label.capitalize())
        + ": "
        + pd.Series(before, index=frame.index).map("{:.2f}".format)
        + "<br>"
        + escape(after_label.capitalize())
        + ": "
        + pd.Series(after, index=frame.index).map("{:.2f}".format)
        + "<br>Change: "
        + pd.Series(change, index=frame.index).map("{:+.2f}".format)
        + " ("
        + words
        + ")"
    )
    trace = {
        "type": "bar",
        "orientation": "h",
        "y": labels.tolist(),
        "x": change,
        "customdata": np.column_stack([before, after]),
        "marker": {"color": colors.tolist()},
        "hovertext": hover.tolist(),
        "hoverinfo": "text",
        "name": "change",
        "text": pd.Series(change).map("{:+.2f}".format).tolist(),
        "textposition": "outside",
        "cliponaxis": False,
    }
    layout = {
        "title": {"text": escape(title), "x": 0},
        "xaxis": {
            "title": {"text": "Change in residual risk (up = worse)"},
            "zeroline": True,
            "zerolinecolor": "#333333",
        },
        "yaxis": {
            "type": "category",
            "categoryorder": "array",
            "categoryarray": labels.tolist(),
            "autorange": "reversed",
            "tickfont": {"size": 10},
        },
        "showlegend": False,
        "plot_bgcolor": "white",
        "font": {"family": FONT},
        "height": 160 + 22 * max(len(frame), 4),
    }
    return build_figure([trace], layout)


def movers(
    trend_frame: pd.DataFrame,
    catalogue: Catalogue | None = None,
    n: int = 10,
    title: str | None = None,
    before_label: str = "last cycle",
    after_label: str = "this cycle",
) -> go.Figure:
    """Up to `n` units that got most worse and `n` that got most better (no unchanged).

    A change that rounds to zero at the shown precision is unchanged
    (`riskmap.figures.direction`); the title says how many bars of each are drawn.
    """
    if trend_frame is None or trend_frame.empty:
        return empty_figure("No units to compare between the two cycles.", title or "Movers")
    frame = residual_change(trend_frame)
    worse, better = split_movers(frame, n)
    title = title or movers_title(len(worse), len(better), before_label, after_label)
    picked = pd.concat([worse, better])
    if picked.empty:
        return empty_figure("No unit's residual risk changed between the two cycles.", title)
    return trend_units(picked.drop(columns="change"), catalogue, title, before_label, after_label)
