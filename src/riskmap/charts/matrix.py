"""The likelihood x impact matrix: how many unit-risk pairs sit in each cell of the scale.

Each cell's background is the band of likelihood x impact (the method's colours), and the
count of pairs is written in it. The residual matrix places a pair at its residual
likelihood rounded half up to the scale (1.5 -> 2, 2.49 -> 2), with its impact unchanged:
controls in the catalogue reduce likelihood, not impact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from riskmap.catalogue import Catalogue
from riskmap.charts.bands import band_index, band_names, band_of, format_scores
from riskmap.charts.common import FONT, band_traces, build_figure
from riskmap.scoring import require_columns

WHICH = ("inherent", "residual")
# Residual likelihoods are products of floats: 2.5 may arrive as 2.4999999999999996.
_HALF_UP_EPS = 1e-9


def round_half_up(values) -> np.ndarray:
    """Round to the nearest integer, halves upwards (numpy's round sends 2.5 to 2)."""
    return np.floor(np.asarray(values, dtype=float) + 0.5 + _HALF_UP_EPS)


def matrix_counts(
    register: pd.DataFrame, catalogue: Catalogue, which: str = "inherent"
) -> pd.DataFrame:
    """Pairs per (likelihood, impact) cell: likelihood levels as rows, impact levels as columns.

    For `which="residual"` the likelihood is the residual likelihood rounded half up and
    kept on the scale.
    """
    if which not in WHICH:
        raise ValueError(f"which must be one of {WHICH}, got {which!r}")
    method = catalogue.method
    l_levels = sorted(method.likelihood.levels)
    i_levels = sorted(method.impact.levels)
    counts = np.zeros((len(l_levels), len(i_levels)), dtype=np.int64)
    if register is not None and len(register):
        column = "likelihood" if which == "inherent" else "residual_likelihood"
        require_columns(register, [column, "impact"], "register")
        lik = register[column].to_numpy(dtype=float)
        if which == "residual":
            lik = round_half_up(lik)
        lik = np.clip(lik, l_levels[0], l_levels[-1]).astype(int) - l_levels[0]
        imp = np.clip(register["impact"].to_numpy(dtype=float), i_levels[0], i_levels[-1])
        imp = imp.astype(int) - i_levels[0]
        np.add.at(counts, (lik, imp), 1)
    return pd.DataFrame(
        counts,
        index=pd.Index(l_levels, name="likelihood"),
        columns=pd.Index(i_levels, name="impact"),
    )


def _matrix_traces(
    register: pd.DataFrame, catalogue: Catalogue, which: str, showscale: bool = True
) -> tuple[list[dict], pd.DataFrame]:
    method = catalogue.method
    counts = matrix_counts(register, catalogue, which)
    l_levels = counts.index.to_numpy()
    i_levels = counts.columns.to_numpy()
    cell_scores = np.outer(l_levels, i_levels).astype(float)
    z = band_index(cell_scores, catalogue)
    names = band_names(catalogue)
    bands = band_of(cell_scores, catalogue)
    values = counts.to_numpy()
    lname = {k: v.name for k, v in method.likelihood.levels.items()}
    iname = {k: v.name for k, v in method.impact.levels.items()}
    what = "residual likelihood (rounded)" if which == "residual" else "likelihood"
    written_scores = format_scores(cell_scores)
    hover = np.empty(values.shape, dtype=object)
    for r, lv in enumerate(l_levels):
        for c, iv in enumerate(i_levels):
            hover[r, c] = (
                f"{what.capitalize()}: {lv} ({lname[lv]})<br>Impact: {iv} ({iname[iv]})"
                f"<br>Score {written_scores[r, c]}: {names[bands[r, c]]} band"
                f"<br><b>{values[r, c]}</b> unit-risk pair{'s' if values[r, c] != 1 else ''}"
            )
    text = values.astype(str).astype(object)
    traces = band_traces(
        i_levels.tolist(),
        l_levels.tolist(),
        z,
        text,
        hover,
        catalogue,
        customdata=values,
        name=f"{which} matrix",
        showscale=showscale,
    )
    for trace in traces:
        trace["xgap"] = trace["ygap"] = 2
        trace["textfont"] = {**trace.get("textfont", {}), "size": 16}
    return traces, counts


def _axes(catalogue: Catalogue, which: str) -> tuple[dict, dict]:
    method = catalogue.method
    l_levels = sorted(method.likelihood.levels)
    i_levels = sorted(method.impact.levels)
    what = "Residual likelihood" if which == "residual" else "Likelihood"
    xaxis = {
        "title": {"text": "Impact"},
        "tickvals": i_levels,
        "ticktext": [f"{k} {method.impact.levels[k].name}" for k in i_levels],
        "showgrid": False,
        "zeroline": False,
        "constrain": "domain",
    }
    yaxis = {
        "title": {"text": what},
        "tickvals": l_levels,
        "ticktext": [f"{k} {method.likelihood.levels[k].name}" for k in l_levels],
        "showgrid": False,
        "zeroline": False,
    }
    return xaxis, yaxis


def _no_pairs_note(register: pd.DataFrame | None) -> list[dict]:
    if register is not None and len(register):
        return []
    return [
        {
            "text": "No unit-risk pairs to count: widen the filters.",
            "xref": "paper",
            "yref": "paper",
            "x": 0.5,
            "y": 1.0,
            "yanchor": "bottom",
            "yshift": 4,
            "showarrow": False,
            "font": {"color": "#555555"},
        }
    ]


def matrix(
    register: pd.DataFrame,
    catalogue: Catalogue,
    which: str = "inherent",
    title: str | None = None,
) -> go.Figure:
    """The 5 x 5 likelihood x impact matrix with the count of unit-risk pairs per cell.

    The first trace holds the data: z the band position of likelihood x impact, customdata
    and text the counts (rows: likelihood levels upwards; columns: impact levels).
    An empty register gives the empty grid with a note.
    """
    traces, _ = _matrix_traces(register, catalogue, which)
    xaxis, yaxis = _axes(catalogue, which)
    default = "Residual" if which == "residual" else "Inherent"
    layout = {
        "title": {"text": title or f"{default} risk matrix: unit-risk pairs per cell", "x": 0},
        "xaxis": xaxis,
        "yaxis": {**yaxis, "scaleanchor": "x"},
        "plot_bgcolor": "white",
        "font": {"family": FONT},
        "height": 480,
        "annotations": _no_pairs_note(register),
    }
    return build_figure(traces, layout)


def matrix_pair(
    register: pd.DataFrame, catalogue: Catalogue, title: str | None = None
) -> go.Figure:
    """Inherent (left) beside residual (right) in one figure, with one band colour bar."""
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Inherent", "Residual (controls counted)"),
        horizontal_spacing=0.14,
    )
    for col, which in ((1, "inherent"), (2, "residual")):
        traces, _ = _matrix_traces(register, catalogue, which, showscale=(col == 2))
        fig.add_traces(traces, rows=1, cols=col)
        xaxis, yaxis = _axes(catalogue, which)
        fig.update_xaxes(xaxis, row=1, col=col)
        fig.update_yaxes(yaxis, row=1, col=col)
    for note in _no_pairs_note(register):
        fig.add_annotation(note)
    fig.update_layout(
        title={"text": title or "Risk matrix: unit-risk pairs per cell", "x": 0},
        plot_bgcolor="white",
        font={"family": FONT},
        height=480,
    )
    return fig
