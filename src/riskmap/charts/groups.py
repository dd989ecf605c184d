"""The ministry-scale map: groups of units (by unit type or region) x risk scenarios.

A manager cannot take in 1,000 rows, so the first view of a large map groups its units.
Each cell is one group on one risk: coloured by the band of its *worst* unit (the one a
trafficker would look for), with the worst score and the units per band written in it
(top band first, e.g. "16.5" over "2·1·4·3"), and the hover in words. Rows are the
catalogue's unit types (or the regions, alphabetically); columns are laid out as in
`heatmap`, so a group opens to a units map with the same columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from riskmap.catalogue import Catalogue
from riskmap.charts.bands import (
    band_index,
    band_names,
    band_of,
    cells_per_band,
    format_scores,
    on_grid,
)
from riskmap.charts.common import (
    band_traces,
    build_figure,
    colorbar_on_top,
    empty_figure,
    escape,
    grid_layout,
    label_px,
    shorten,
)
from riskmap.charts.heatmap import MARGIN, MIN_COLS, heatmap_order, stage_frames
from riskmap.scoring import require_columns

GROUPINGS = {"unit_type": "unit type", "region": "region"}
GROUP_ROW_PX = 36  # two written lines per cell
GROUP_CELL_PX = 30  # room for "12·18" at 8 px; 39 risks still fit 1,400 px
GROUP_LABEL_CHARS = 24


def group_summary(
    register: pd.DataFrame, catalogue: Catalogue, by: str = "unit_type", value: str = "residual"
) -> pd.DataFrame:
    """Per group x risk: units, the worst `value` and its unit, units per band (`n_<band>`)."""
    if by not in GROUPINGS:
        raise ValueError(f"group by one of {list(GROUPINGS)}, got {by!r}")
    require_columns(register, ["unit_code", "unit", by, "risk_id", value], "register")
    reg = register.assign(
        _group=register[by].fillna("").astype(str),
        _band=band_of(register[value].to_numpy(dtype=float), catalogue),
    )
    out = cells_per_band(reg, ["_group", "risk_id"], value, catalogue)
    return out.rename(columns={"_group": "group"})


def group_order(register: pd.DataFrame, catalogue: Catalogue, by: str) -> list[str]:
    """Groups top to bottom: unit types in catalogue order, regions alphabetically."""
    groups = pd.unique(register[by].fillna("").astype(str))
    if by == "unit_type":
        rank = {t.id: i for i, t in enumerate(catalogue.unit_types)}
        return sorted(groups, key=lambda g: (rank.get(g, len(rank)), g))
    return sorted(groups)


def group_name(group: str, by: str, catalogue: Catalogue) -> str:
    """A group in words: the unit type's name, or the region ("(no region)" when blank)."""
    if by == "unit_type":
        return {t.id: t.name for t in catalogue.unit_types}.get(group, group) or "(no type)"
    return group or "(no region)"


def group_heatmap(
    register: pd.DataFrame,
    catalogue: Catalogue,
    by: str = "unit_type",
    value: str = "residual",
    title: str | None = None,
    col_order: list[str] | None = None,
) -> go.Figure:
    """Groups x risk scenarios, each cell its worst unit's `value` and the units per band.

    The first trace holds the data: z the band position of the worst score, text the worst
    score over the counts per band, customdata [units, worst] per cell, y the group names
    (cut, full on hover); `meta` of the layout lists the groups' keys top to bottom, so a
    click on row k opens `layout.meta["groups"][k]`.
    """
    what = "residual" if value == "residual" else "inherent"
    title = title or f"Worst {what} risk by {GROUPINGS.get(by, by)} and risk scenario"
    if register is None or register.empty:
        return empty_figure("No unit-risk pairs to show: widen the filters.", title)
    summary = group_summary(register, catalogue, by, value)
    if col_order is None:
        _, col_order = heatmap_order(register, catalogue)
    groups = group_order(register, catalogue, by)
    rows, cols = pd.Index(groups), pd.Index(col_order)
    summary = summary[summary["risk_id"].isin(cols)]
    ri, ci, custom = on_grid(summary, "group", rows, cols, ["units", "worst"])
    worst = custom[:, :, 1]

    bands = list(reversed(catalogue.method.bands))  # top band first, as written
    names = band_names(catalogue)
    counts = summary[[f"n_{b.id}" for b in bands]].to_numpy(dtype=int)
    worst_text = format_scores(summary["worst"])
    cell_worst = format_scores(summary["worst"], decimals=1)
    top = bands[:2]  # the cell counts the units in the two top bands; the hover, every band
    worst_band = band_of(summary["worst"].to_numpy(dtype=float), catalogue)
    text = np.full(worst.shape, "", dtype=object)
    hover = np.full(worst.shape, "", dtype=object)
    titles = {r.id: r.title for r in catalogue.risks}
    for k, row in enumerate(summary.itertuples(index=False)):
        text[ri[k], ci[k]] = f"{cell_worst[k]}<br>{'·'.join(str(c) for c in counts[k][: len(top)])}"
        per_band = ", ".join(f"{names[b.id]} {c}" for b, c in zip(bands, counts[k], strict=True))
        hover[ri[k], ci[k]] = (
            f"<b>{escape(group_name(row.group, by, catalogue))}</b>"
            f"<br>Risk: {escape(row.risk_id)} {escape(titles.get(row.risk_id, row.risk_id))}"
            f"<br>Units rating it: {int(row.units)}"
            f"<br>Worst {what} score: {worst_text[k]} ({names.get(worst_band[k], '')}), "
            f"{escape(row.worst_unit)}"
            f"<br>Units per band: {per_band}"
        )
    full = [group_name(g, by, catalogue) for g in groups]
    row_labels = [escape(shorten(n, GROUP_LABEL_CHARS)) for n in full]
    col_labels = [escape(c) for c in col_order]
    traces = band_traces(
        col_labels, row_labels, band_index(worst, catalogue), text, hover, catalogue, custom
    )
    for t in traces[1:]:
        t["textfont"] = {**t.get("textfont", {}), "size": 8}
    colorbar_on_top(traces[0])
    shapes, annotations = stage_frames(catalogue, cols, register)
    counts_key = "·".join(names[b.id].lower() for b in top)
    annotations.append(
        {
            "xref": "paper",
            "x": 0,
            "xanchor": "left",
            "yref": "paper",
            "y": 0,
            "yanchor": "top",
            "yshift": -6,
            "text": f"In each cell: the worst score; below it, units {counts_key} (every band "
            "on hover)",
            "showarrow": False,
            "font": {"size": 10, "color": "#555555"},
        }
    )
    margin = {**MARGIN, "l": label_px(row_labels, GROUP_LABEL_CHARS), "r": 20, "b": 40}
    layout = grid_layout(
        title,
        col_labels,
        row_labels,
        shapes,
        annotations,
        height=MARGIN["t"] + 40 + max(len(rows), 3) * GROUP_ROW_PX,
        margin=margin,
        row_tick_size=11,
    )
    layout["width"] = margin["l"] + margin["r"] + max(len(cols), MIN_COLS) * GROUP_CELL_PX
    layout["meta"] = {"groups": list(groups), "names": full}
    return build_figure(traces, layout)
