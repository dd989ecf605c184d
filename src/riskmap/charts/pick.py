"""A clickable layer for the band heat maps: click a cell, learn its row and column.

Plotly reports no click or selection on heat map traces, so `st.plotly_chart(on_select=...)`
gets nothing from a click on a cell. `with_pick_layer` adds one invisible marker at the
centre of every filled cell, on a pair of hidden linear axes laid exactly over the map's
category axes (cell k of n sits at position k on both), and moves the cells' hover text to
those markers, so hovering still explains the cell and a click selects its marker. The
selection names the cell by its position (`x` column, `y` row), which `cell_of` reads back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

PICK = "pick"


def with_pick_layer(fig: go.Figure, marker_px: int = 14) -> go.Figure:
    """Make every filled cell of a heat map from `riskmap.charts.heatmap` clickable.

    The first trace must be the cells (as `heatmap` and `band_traces` build them). Its hover
    text moves to the pick layer (the cells stop answering the hover, so there is one
    label, not two); customdata of the layer holds [row, column]. Returns `fig`, changed.
    """
    if not fig.data:
        return fig
    cells = fig.data[0]
    if cells.type != "heatmap" or cells.z is None:
        return fig
    z = np.asarray(cells.z, dtype=float)
    if z.ndim != 2 or not z.size:
        return fig
    rows, cols = np.nonzero(~np.isnan(z))
    hover = None
    if cells.hovertext is not None:
        hover = np.asarray(cells.hovertext, dtype=object)[rows, cols]
    n_rows, n_cols = z.shape
    layer = {
        "type": "scatter",
        "name": PICK,
        "x": cols.astype(float),
        "y": rows.astype(float),
        "xaxis": "x2",
        "yaxis": "y2",
        "mode": "markers",
        "marker": {"size": marker_px, "opacity": 0, "color": "#000000"},
        "selected": {"marker": {"opacity": 0}},
        "unselected": {"marker": {"opacity": 0}},
        "customdata": np.column_stack([rows, cols]),
        "hoverinfo": "text" if hover is not None else "none",
        "showlegend": False,
    }
    fig.add_trace(layer)
    if hover is not None:
        fig.data[-1].hovertext = hover
        cells.hovertext = None
    cells.hoverinfo = "skip"
    fig.update_layout(
        xaxis2={
            "overlaying": "x",
            "range": [-0.5, n_cols - 0.5],
            "visible": False,
            "showgrid": False,
            "zeroline": False,
        },
        yaxis2={
            "overlaying": "y",
            "range": [n_rows - 0.5, -0.5],
            "visible": False,
            "showgrid": False,
            "zeroline": False,
        },
        clickmode="event+select",
        hovermode="closest",
    )
    return fig


def cell_of(points: Sequence[Mapping[str, Any]]) -> tuple[int, int] | None:
    """(row, column) of the first picked cell of a plotly selection event, or None."""
    for point in points or ():
        x, y = point.get("x"), point.get("y")
        if isinstance(x, int | float) and isinstance(y, int | float):
            return int(round(y)), int(round(x))
    return None
