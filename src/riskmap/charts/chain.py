"""The trafficking chain as a picture: six stages in order, the weakest link marked.

Input: `riskmap.scoring.chain.chain_links` (one row per stage, per area). `chain_chart`
draws one area's chain left to right as boxes joined by arrows, each box in the band
colour of its worst exposed unit with that unit's residual written in it and the unit
named under the stage; the weakest link (highest worst residual) gets a thick outline and
the words "weakest link: where a trafficker would pay". `chain_grid` draws areas (regions)
x stages as a band grid with each area's weakest link outlined. Stages nobody rates are
grey and say "not rated".
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from riskmap.catalogue import Catalogue
from riskmap.charts.bands import band_colors, band_index, band_names, format_scores
from riskmap.charts.common import (
    FONT,
    band_traces,
    build_figure,
    empty_figure,
    escape,
    grid_layout,
    label_px,
    shorten,
)
from riskmap.scoring import require_columns

UNRATED = "#DDDDDD"
WEAK_LINE = "#000000"
BOX_PX = 96
WEAKEST_WORDS = "Weakest link: where a trafficker would pay"


def _wrap(text: str, width: int) -> list[str]:
    """A stage name on at most two lines of `width` characters (cut after that)."""
    lines = textwrap.wrap(str(text), width) or [""]
    if len(lines) > 2:
        lines = [lines[0], shorten(" ".join(lines[1:]), width)]
    return lines


def _hover(row, names: dict[str, str]) -> str:
    if pd.isna(row.residual):
        return f"<b>{escape(row.stage_name)}</b><br>No unit rates a risk of this stage."
    words = (
        f"<b>{escape(row.stage_name)}</b>"
        f"<br>Worst exposed unit: {escape(row.unit)} ({escape(row.unit_code)})"
        f"<br>Risk: {escape(row.risk_id)} {escape(row.risk)}"
        f"<br>Residual: {format_scores([row.residual])[0]} ({names.get(row.band, '')})"
        f"<br>Units rating this stage: {int(row.units)}"
    )
    return words + (f"<br><b>{WEAKEST_WORDS}</b>" if row.weakest else "")


def chain_chart(links: pd.DataFrame, catalogue: Catalogue, title: str | None = None) -> go.Figure:
    """One area's chain: a box per stage in catalogue order, the weakest link outlined.

    The first trace ("chain") has one point per stage: x its position, text the worst
    residual ("" when not rated), customdata the stage id, marker colours the bands',
    marker line widths thick on the weakest link(s).
    """
    title = title or "The trafficking chain: the worst exposed unit at each stage"
    if links is None or links.empty:
        return empty_figure("No stage of the chain is rated.", title)
    require_columns(links, ["stage", "stage_name", "residual", "band", "weakest"], "chain")
    links = links.sort_values("order", kind="mergesort").reset_index(drop=True)
    if links["residual"].isna().all():
        return empty_figure("No stage of the chain is rated.", title)
    colors = band_colors(catalogue)
    text_colors = {b.id: b.text_color for b in catalogue.method.bands}
    names = band_names(catalogue)
    n = len(links)
    fill = [colors.get(b, UNRATED) if isinstance(b, str) and b else UNRATED for b in links["band"]]
    weakest = links["weakest"].astype(bool).to_numpy()
    text = ["not rated" if pd.isna(r) else format_scores([r])[0] for r in links["residual"]]
    trace = {
        "type": "scatter",
        "name": "chain",
        "x": list(range(n)),
        "y": [0] * n,
        "mode": "markers+text",
        "marker": {
            "symbol": "square",
            "size": BOX_PX * 0.62,
            "color": fill,
            "line": {"color": WEAK_LINE, "width": [6 if w else 1 for w in weakest]},
        },
        "text": text,
        "textposition": "middle center",
        "textfont": {
            "size": 15,
            "color": [text_colors.get(b, "#000000") for b in links["band"]],
        },
        "customdata": links["stage"].tolist(),
        "hovertext": [_hover(r, names) for r in links.itertuples(index=False)],
        "hoverinfo": "text",
        "showlegend": False,
    }
    annotations = []
    for k, row in enumerate(links.itertuples(index=False)):
        annotations.append(
            {
                "x": k,
                "y": 0,
                "yshift": 48,
                "yanchor": "bottom",
                "text": "<br>".join(f"<b>{escape(line)}</b>" for line in _wrap(row.stage_name, 18)),
                "hovertext": escape(row.stage_name),
                "showarrow": False,
                "font": {"size": 12},
            }
        )
        below = "" if pd.isna(row.residual) else escape(shorten(row.unit, 22, middle=True))
        annotations.append(
            {
                "x": k,
                "y": 0,
                "yshift": -40,
                "yanchor": "top",
                "text": below,
                "hovertext": escape(row.unit) if below else None,
                "showarrow": False,
                "font": {"size": 10, "color": "#333333"},
            }
        )
        if k:
            annotations.append(
                {
                    "x": k - 0.32,
                    "y": 0,
                    "ax": k - 0.68,
                    "ay": 0,
                    "xref": "x",
                    "yref": "y",
                    "axref": "x",
                    "ayref": "y",
                    "text": "",
                    "showarrow": True,
                    "arrowhead": 2,
                    "arrowwidth": 2,
                    "arrowcolor": "#666666",
                }
            )
    for k in np.flatnonzero(weakest):
        annotations.append(
            {
                "x": int(k),
                "y": 0,
                "yshift": -62,
                "yanchor": "top",
                "text": f"<b>▲ {WEAKEST_WORDS.split(':')[0]}</b>",
                "hovertext": WEAKEST_WORDS,
                "showarrow": False,
                "font": {"size": 11, "color": WEAK_LINE},
            }
        )
    layout = {
        "title": {"text": escape(title), "x": 0, "xanchor": "left"},
        "height": 300,
        "width": max(n, 1) * 150 + 40,
        "margin": {"l": 20, "r": 20, "t": 70, "b": 20},
        "plot_bgcolor": "white",
        "font": {"family": FONT},
        "xaxis": {"visible": False, "range": [-0.6, n - 0.4]},
        "yaxis": {"visible": False, "range": [-1.2, 1.0]},
        "annotations": annotations,
        "hovermode": "closest",
    }
    return go.Figure(data=[trace], layout=layout)


def chain_grid(links: pd.DataFrame, catalogue: Catalogue, title: str | None = None) -> go.Figure:
    """Areas (rows) x stages (columns) in band colours, each area's weakest link outlined.

    The first trace holds z (band position of each stage's worst residual), text the
    residual, hovertext in words; one rectangle shape per weakest link.
    """
    title = title or "The trafficking chain per region: the worst exposed unit at each stage"
    if links is None or links.empty or links["residual"].isna().all():
        return empty_figure("No stage of the chain is rated.", title)
    stages = links.drop_duplicates("stage").sort_values("order")
    areas = list(pd.unique(links["area"]))
    rows, cols = pd.Index(areas), pd.Index(stages["stage"])
    ri, ci = rows.get_indexer(links["area"]), cols.get_indexer(links["stage"])
    scores = np.full((len(rows), len(cols)), np.nan)
    scores[ri, ci] = links["residual"].to_numpy(dtype=float)
    hover = np.full(scores.shape, "", dtype=object)
    names = band_names(catalogue)
    hover[ri, ci] = [_hover(r, names) for r in links.itertuples(index=False)]
    row_labels = [escape(shorten(a)) for a in areas]
    col_labels = ["<br>".join(escape(x) for x in _wrap(n, 16)) for n in stages["stage_name"]]
    traces = band_traces(
        col_labels,
        row_labels,
        band_index(scores, catalogue),
        format_scores(scores),
        hover,
        catalogue,
        customdata=scores,
        showscale=False,
    )
    weak = links[links["weakest"].astype(bool)]
    shapes = [
        {
            "type": "rect",
            "xref": "x",
            "yref": "y",
            "x0": int(c) - 0.5,
            "x1": int(c) + 0.5,
            "y0": int(r) - 0.5,
            "y1": int(r) + 0.5,
            "line": {"color": WEAK_LINE, "width": 4},
        }
        for r, c in zip(
            rows.get_indexer(weak["area"]), cols.get_indexer(weak["stage"]), strict=True
        )
    ]
    layout = grid_layout(
        title,
        col_labels,
        row_labels,
        shapes,
        [],
        height=170 + max(len(rows), 3) * 30,
        margin={"t": 110, "b": 40, "l": label_px(row_labels), "r": 20},
        row_tick_size=11,
    )
    layout["xaxis"]["tickangle"] = 0
    layout["width"] = label_px(row_labels) + 20 + len(cols) * 120
    return build_figure(traces, layout)
