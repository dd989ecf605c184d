"""The ministry at a glance: unit types (rows) x risk scenarios (columns), one cell per pair.

Each cell summarises every unit of the type on the risk: coloured by the band of the mean
`value` (residual or inherent) over those units, with the mean written in it; the hover says
how many units were rated, the mean, the worst unit and its score, and how many units fall
in each band. Rows follow the catalogue's unit types, columns the stages and risks as in
`heatmap`, so the glance and the full map read the same way; it stays small (15 x 29 at
most) whatever the number of units.
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
)
from riskmap.charts.heatmap import MARGIN, heatmap_order, stage_frames
from riskmap.scoring import SCENARIO_COLUMNS, UNIT_COLUMNS, require_columns

GLANCE_COLUMNS = [*UNIT_COLUMNS, *SCENARIO_COLUMNS]
ROW_PX = 26


def type_risk_summary(
    register: pd.DataFrame, catalogue: Catalogue, value: str = "residual"
) -> pd.DataFrame:
    """Per unit type x risk: units, mean and worst `value`, the worst unit, units per band."""
    require_columns(register, [*GLANCE_COLUMNS, value], "register")
    reg = register.assign(_band=band_of(register[value].to_numpy(dtype=float), catalogue))
    return cells_per_band(reg, ["unit_type", "risk_id"], value, catalogue, mean=(value, "mean"))


def type_risk_heatmap(
    register: pd.DataFrame,
    catalogue: Catalogue,
    value: str = "residual",
    title: str | None = None,
) -> go.Figure:
    """Unit types x risk scenarios, each cell the mean `value` of the type's units.

    The first trace ("cells") holds the data: z the band position of the mean, text the
    written mean, customdata [units, mean, worst] per cell (NaN where no unit of the type
    rates the risk), hovertext the description in words.
    """
    what = "residual" if value == "residual" else "inherent"
    title = title or f"Mean {what} risk by unit type and risk scenario"
    if register is None or register.empty:
        return empty_figure("No unit-risk pairs to show.", title)
    summary = type_risk_summary(register, catalogue, value)
    _, col_order = heatmap_order(register, catalogue)
    rank = {t.id: i for i, t in enumerate(catalogue.unit_types)}
    row_order = sorted(pd.unique(summary["unit_type"]), key=lambda t: (rank.get(t, len(rank)), t))
    rows, cols = pd.Index(row_order), pd.Index(col_order)
    ri, ci, custom = on_grid(summary, "unit_type", rows, cols, ["units", "mean", "worst"])
    mean = custom[:, :, 1]

    type_names = {t.id: t.name for t in catalogue.unit_types}
    titles = {r.id: r.title for r in catalogue.risks}
    names = band_names(catalogue)
    mean_band = band_of(summary["mean"].to_numpy(dtype=float), catalogue)
    worst_band = band_of(summary["worst"].to_numpy(dtype=float), catalogue)
    mean_text = format_scores(summary["mean"])
    worst_text = format_scores(summary["worst"])
    hover = np.full(mean.shape, "", dtype=object)
    for k, row in enumerate(summary.itertuples(index=False)):
        per_band = ", ".join(
            f"{names[b.id]} {int(getattr(row, f'n_{b.id}'))}" for b in catalogue.method.bands
        )
        hover[ri[k], ci[k]] = (
            f"<b>{escape(type_names.get(row.unit_type, row.unit_type))}</b>"
            f"<br>Risk: {escape(row.risk_id)} {escape(titles.get(row.risk_id, row.risk_id))}"
            f"<br>Units rating it: {int(row.units)}"
            f"<br>Mean {what} score: {mean_text[k]} ({names.get(mean_band[k], '')})"
            f"<br>Worst: {worst_text[k]} ({names.get(worst_band[k], '')}), "
            f"{escape(row.worst_unit)}"
            f"<br>Units per band: {per_band}"
        )
    row_labels = [escape(type_names.get(t, t)) for t in row_order]
    col_labels = [escape(c) for c in col_order]
    traces = band_traces(
        col_labels,
        row_labels,
        band_index(mean, catalogue),
        format_scores(mean),
        hover,
        catalogue,
        customdata=custom,
    )
    colorbar_on_top(traces[0])
    shapes, annotations = stage_frames(catalogue, cols, register)
    layout = grid_layout(
        title,
        col_labels,
        row_labels,
        shapes,
        annotations,
        height=MARGIN["t"] + MARGIN["b"] + max(len(rows), 4) * ROW_PX,
        margin={**MARGIN, "r": 20},
        row_tick_size=11,
    )
    return build_figure(traces, layout)
