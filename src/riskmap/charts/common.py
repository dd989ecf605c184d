"""Small pieces every chart uses: the empty figure, escaping, band-coloured heat map traces."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from riskmap.catalogue import Catalogue
from riskmap.charts.bands import band_colorscale, band_names, band_text_colors

FONT = "Arial, Helvetica, sans-serif"
TRANSPARENT = [[0.0, "rgba(0,0,0,0)"], [1.0, "rgba(0,0,0,0)"]]


def empty_figure(message: str, title: str | None = None) -> go.Figure:
    """A figure with no data and a centred message (filters that leave nothing to show)."""
    fig = go.Figure()
    fig.update_layout(
        title=title,
        xaxis={"visible": False},
        yaxis={"visible": False},
        plot_bgcolor="white",
        height=300,
        font={"family": FONT},
    )
    fig.add_annotation(
        text=escape(message),
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        showarrow=False,
        font={"size": 14, "color": "#555555"},
    )
    return fig


# Per-cell arrays of a big heat map. `go.Figure(data=...)` deep-copies every trace's
# properties, which for object arrays means one Python call per cell (most of the build
# time of a 1,000-unit map); assigned after construction, they are validated but not copied.
HEAVY = ("text", "hovertext", "customdata")


def build_figure(traces: list[dict], layout: dict) -> go.Figure:
    """`go.Figure(data=traces, layout=layout)`, without deep-copying the per-cell arrays."""
    light = [{k: v for k, v in t.items() if k not in HEAVY} for t in traces]
    fig = go.Figure(data=light, layout=layout)
    for trace, full in zip(fig.data, traces, strict=True):
        heavy = {k: full[k] for k in HEAVY if full.get(k) is not None}
        if heavy:
            trace.update(heavy)
    return fig


def escape(text: str) -> str:
    """Text a user typed, made safe for plotly's HTML-like labels."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Axis labels: a name longer than this is cut with an ellipsis (the full name is in the
# hover), so a 300-character unit name cannot squeeze the cells into a sliver.
LABEL_CHARS = 30
CHAR_PX = 6.4  # the width of one character at the labels' 10-11 px Arial, generously


def shorten(text: str, n: int = LABEL_CHARS, *, middle: bool = False) -> str:
    """`text` cut to at most `n` characters with "…" where it was cut.

    `middle=True` keeps the start and the end ("Immigration and…Coast 16"): unit names of
    one type often differ only in their last words, which a cut at the end would lose.
    """
    text = " ".join(str(text).split())
    if len(text) <= n:
        return text
    if middle and n >= 12:
        tail = (n - 1) * 2 // 5
        return text[: n - 1 - tail].rstrip() + "…" + text[-tail:].lstrip()
    return text[: max(n - 1, 1)].rstrip() + "…"


def label_px(labels, size_chars: int = LABEL_CHARS) -> int:
    """The margin, in pixels, that the longest of `labels` needs (at most `size_chars`)."""
    longest = max((len(str(x)) for x in labels), default=0)
    return int(min(longest, size_chars) * CHAR_PX) + 12


IMAGE_FORMATS = ("png", "svg")


def image_config(filename: str, fmt: str = "png") -> dict:
    """A `st.plotly_chart` config whose camera button downloads the map as PNG or SVG.

    PNG at twice the size on screen, so a slide or a print stays sharp; SVG for a picture
    that scales without limit. The file is named after the map (`filename`, no extension).
    """
    if fmt not in IMAGE_FORMATS:
        raise ValueError(f"picture format must be one of {IMAGE_FORMATS}, got {fmt!r}")
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in filename) or "riskmap"
    return {
        "displaylogo": False,
        "toImageButtonOptions": {
            "format": fmt,
            "filename": safe,
            "scale": 2 if fmt == "png" else 1,
        },
    }


def escape_series(values: pd.Series) -> pd.Series:
    """`escape` over a column, computed once per distinct value."""
    values = values.fillna("").astype(str)
    uniq = pd.unique(values)
    mapping = {u: escape(u) for u in uniq}
    return values.map(mapping)


def band_traces(
    x,
    y,
    z_index: np.ndarray,
    text: np.ndarray,
    hovertext: np.ndarray,
    catalogue: Catalogue,
    customdata: np.ndarray | None = None,
    name: str = "cells",
    colorbar: dict | None = None,
    showscale: bool = True,
    text_size: int | None = None,
) -> list[dict]:
    """A band-coloured heat map as trace dicts: the cells, then one text layer per text colour.

    The first trace holds the whole picture (z = band position on the stepped band colour
    scale, the written text, the hover text, customdata) and answers the hover. Plotly's
    heat map text takes one colour per trace, so the written values are drawn by
    transparent layers on top, one per distinct `text_color` of the method's bands, each
    writing only the cells of its bands; they never answer the hover. Dicts rather than
    `go.Heatmap` objects: `go.Figure` deep-copies trace objects, which costs more than
    building the whole map.
    """
    scale, zmin, zmax = band_colorscale(catalogue)
    bands = catalogue.method.bands
    if colorbar is None:
        colorbar = {
            "title": {"text": "Band"},
            "tickvals": list(range(len(bands))),
            "ticktext": list(band_names(catalogue).values()),
            "len": 0.5,
            "y": 1.0,
            "yanchor": "top",
        }
    cells = dict(
        type="heatmap",
        x=x,
        y=y,
        z=z_index,
        text=text,
        hovertext=hovertext,
        hoverinfo="text",
        hoverongaps=False,
        customdata=customdata,
        colorscale=scale,
        zmin=zmin,
        zmax=zmax,
        showscale=showscale,
        colorbar=colorbar,
        xgap=1,
        ygap=1,
        name=name,
    )
    traces = [cells]
    text_colors = band_text_colors(catalogue)
    positions_by_color: dict[str, list[int]] = {}
    for k, band in enumerate(bands):
        positions_by_color.setdefault(text_colors[band.id], []).append(k)
    written = np.asarray(text, dtype=object)
    zeros = np.zeros(np.shape(z_index), dtype=np.uint8)
    for color, positions in positions_by_color.items():
        mask = np.isin(z_index, positions)
        if not mask.any():
            continue
        traces.append(
            dict(
                type="heatmap",
                x=x,
                y=y,
                z=zeros,
                text=np.where(mask, written, ""),
                texttemplate="%{text}",
                textfont={"color": color, **({"size": text_size} if text_size else {})},
                colorscale=TRANSPARENT,
                zmin=0,
                zmax=1,
                showscale=False,
                hoverinfo="skip",
                name=f"{name}: text {color}",
                xgap=1,
                ygap=1,
            )
        )
    return traces


def colorbar_on_top(trace: dict) -> None:
    """Lay a band trace's colour bar flat across the top right of the figure."""
    trace["colorbar"].update(
        orientation="h",
        x=1,
        xanchor="right",
        y=1,
        yref="container",
        yanchor="top",
        len=0.35,
        thickness=12,
        ypad=10,
        title={"text": ""},  # the tick labels name the bands; a title overlaps a flat bar
    )


def grid_layout(
    title: str,
    col_labels: list[str],
    row_labels: list[str],
    shapes: list[dict],
    annotations: list[dict],
    *,
    height: int,
    margin: dict,
    row_tick_size: int,
) -> dict:
    """The layout of a band grid: categories in the given order, columns named on top at an
    angle, rows top down, group separators and names as `shapes` and `annotations`."""
    return {
        "title": {"text": escape(title), "x": 0, "xanchor": "left"},
        "height": height,
        "margin": margin,
        "plot_bgcolor": "white",
        "font": {"family": FONT},
        "shapes": shapes,
        "annotations": annotations,
        "xaxis": {
            "type": "category",
            "categoryorder": "array",
            "categoryarray": col_labels,
            "side": "top",
            "tickangle": -45,
            "tickfont": {"size": 10},
            "showgrid": False,
        },
        "yaxis": {
            "type": "category",
            "categoryorder": "array",
            "categoryarray": row_labels,
            "autorange": "reversed",
            "tickfont": {"size": row_tick_size},
            "showgrid": False,
        },
    }
