"""The risk heat map: units (rows) x risk scenarios (columns), cells coloured by band.

Rows are grouped by unit type (catalogue order) and, within a type, ordered by exposure:
highest residual first, then highest mean residual, then name. Columns are grouped by
trafficking stage (catalogue order) and, within a stage, follow the catalogue. The score
is written in every cell, so colour is never the only signal; not-applicable cells are
empty (NaN). Filters belong to the caller: pass the filtered register, and pass the same
`row_order` / `col_order` to the "after the plan" map so that the two line up.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from riskmap.catalogue import Catalogue
from riskmap.charts.bands import band_index, band_names, band_of, format_scores
from riskmap.charts.common import (
    CHAR_PX,
    LABEL_CHARS,
    band_traces,
    build_figure,
    colorbar_on_top,
    empty_figure,
    escape,
    escape_series,
    grid_layout,
    label_px,
    shorten,
)
from riskmap.scoring import (
    INHERENT_COLUMNS,
    SCENARIO_COLUMNS,
    UNIT_COLUMNS,
    require_columns,
)

VALUES = ("residual", "inherent")
HEATMAP_COLUMNS = [
    *UNIT_COLUMNS,
    *SCENARIO_COLUMNS,
    *INHERENT_COLUMNS,
    "residual_likelihood",
    "residual",
]
ROW_PX = 20
CELL_PX = 28  # wide enough for "12.2" at 10 px: 39 risks fit a 1,400 px screen
MIN_COLS = 14  # a map of fewer columns is drawn this wide (title, colour bar)
TYPE_CHARS = 14  # unit type names on the right, cut beyond this (full name on hover)
ROW_CHARS = 24  # unit names on the left, cut beyond this (start and end kept)
TEXT_PX = 10  # the written scores: "12.2" is about 23 px wide
MARGIN = {"t": 170, "b": 30, "l": 10, "r": int(TYPE_CHARS * CHAR_PX) + 20}


def heatmap_order(register: pd.DataFrame, catalogue: Catalogue) -> tuple[list[str], list[str]]:
    """(unit ids top to bottom, risk ids left to right) as the heat map lays them out."""
    if register is None or register.empty:
        return [], []
    units = (
        register.groupby("unit_code", sort=False)
        .agg(
            unit=("unit", "first"),
            unit_type=("unit_type", "first"),
            max_residual=("residual", "max"),
            mean_residual=("residual", "mean"),
        )
        .reset_index()
    )
    type_rank = {t.id: i for i, t in enumerate(catalogue.unit_types)}
    units["unit_type"] = units["unit_type"].fillna("").astype(str)
    units["unit"] = units["unit"].fillna("").astype(str)
    units["_type_rank"] = units["unit_type"].map(type_rank).fillna(len(type_rank))
    units = units.sort_values(
        ["_type_rank", "unit_type", "max_residual", "mean_residual", "unit", "unit_code"],
        ascending=[True, True, False, False, True, True],
        kind="mergesort",
    )

    risks = register[["risk_id", "stage"]].drop_duplicates("risk_id").copy()
    known = catalogue.risk_by_id
    risks["stage"] = [
        known[r].stage if r in known else s
        for r, s in zip(risks["risk_id"], risks["stage"], strict=True)
    ]
    stage_rank = {s.id: i for i, s in enumerate(catalogue.stages)}
    risk_rank = {r.id: i for i, r in enumerate(catalogue.risks)}
    risks["_stage_rank"] = risks["stage"].map(stage_rank).fillna(len(stage_rank))
    risks["_risk_rank"] = risks["risk_id"].map(risk_rank).fillna(len(risk_rank))
    risks["stage"] = risks["stage"].fillna("").astype(str)
    risks = risks.sort_values(["_stage_rank", "stage", "_risk_rank", "risk_id"], kind="mergesort")
    return units["unit_code"].tolist(), risks["risk_id"].tolist()


def _runs(keys: Sequence[Any]) -> list[tuple[Any, int, int]]:
    """Consecutive runs of equal keys: (key, first position, last position)."""
    runs: list[tuple[Any, int, int]] = []
    for pos, key in enumerate(keys):
        if runs and runs[-1][0] == key:
            runs[-1] = (key, runs[-1][1], pos)
        else:
            runs.append((key, pos, pos))
    return runs


def _unique_labels(names: pd.Series, ids: pd.Series, n: int = LABEL_CHARS) -> list[str]:
    """Axis labels: the name cut to `n` characters, with the id where two labels would be
    the same (two units of one name, or two long names that start alike): a category axis
    draws equal labels as one row."""
    short = names.astype(str).map(lambda x: shorten(x, n, middle=True))
    dup = short.duplicated(keep=False).to_numpy()
    if dup.any():
        ids = ids.astype(str)
        with_id = [
            shorten(name, max(n - len(i) - 3, 4), middle=True) + f" ({i})"
            for name, i in zip(names.astype(str), ids, strict=True)
        ]
        short = short.where(~dup, pd.Series(with_id, index=short.index))
    return escape_series(short).tolist()


def map_width(n_cols: int, row_labels: Sequence[str], right: int = MARGIN["r"]) -> int:
    """The figure width that gives every column `CELL_PX` beside labels of these rows.

    A map of a few columns is drawn as wide as `MIN_COLS` columns, so its title, stage
    names and colour bar keep their room.
    """
    return label_px(row_labels, ROW_CHARS) + right + max(n_cols, MIN_COLS) * CELL_PX


def _hover(
    reg: pd.DataFrame, value: str, catalogue: Catalogue, top_missing: pd.DataFrame | None
) -> np.ndarray:
    """One hover text per register row, in words (vectorised string concatenation)."""
    method = catalogue.method
    type_names = {t.id: t.name for t in catalogue.unit_types}
    stage_names = {s.id: s.name for s in catalogue.stages}
    titles = {r.id: r.title for r in catalogue.risks}
    l_names = {k: v.name for k, v in method.likelihood.levels.items()}
    i_names = {k: v.name for k, v in method.impact.levels.items()}
    names = band_names(catalogue)

    unit_type = reg["unit_type"].fillna("").astype(str)
    risk_id = reg["risk_id"].astype(str)
    title = risk_id.map(titles).fillna(reg["risk"].fillna("").astype(str))
    stage = reg["stage"].fillna("").astype(str)
    likelihood = reg["likelihood"].astype(int)
    impact = reg["impact"].astype(int)
    scores = reg[value].to_numpy(dtype=float)
    band = pd.Series(band_of(scores, catalogue), index=reg.index).map(names).fillna("")

    text = (
        "<b>"
        + escape_series(reg["unit"])
        + "</b><br>Unit type: "
        + escape_series(unit_type.map(type_names).fillna(unit_type))
        + "<br>Risk: "
        + escape_series(risk_id)
        + " "
        + escape_series(title)
        + "<br>Stage: "
        + escape_series(stage.map(stage_names).fillna(stage))
        + "<br>Likelihood: "
        + likelihood.astype(str)
        + " ("
        + likelihood.map(l_names).fillna("").astype(str)
        + ")<br>Impact: "
        + impact.astype(str)
        + " ("
        + impact.map(i_names).fillna("").astype(str)
        + ")"
    )
    if value == "residual":
        text = (
            text
            + "<br>Residual likelihood after controls: "
            + pd.Series(format_scores(reg["residual_likelihood"]), index=reg.index).astype(str)
        )
    text = (
        text
        + "<br>"
        + value.capitalize()
        + " score: "
        + pd.Series(format_scores(scores), index=reg.index).astype(str)
        + "<br>Band: "
        + band
    )
    if top_missing is not None and len(top_missing):
        require_columns(top_missing, ["unit_code", "risk_id", "text"], "top missing controls")
        missing = top_missing.drop_duplicates(["unit_code", "risk_id"], keep="last")
        key = pd.MultiIndex.from_frame(missing[["unit_code", "risk_id"]])
        pos = key.get_indexer(pd.MultiIndex.from_frame(reg[["unit_code", "risk_id"]]))
        found = pos >= 0
        if found.any():
            words = escape_series(missing["text"]).to_numpy(dtype=object)
            extra = np.full(len(reg), "", dtype=object)
            extra[found] = "<br>Top missing controls: " + words[pos[found]]
            text = text + extra
    return text.to_numpy(dtype=object)


def heatmap(
    register: pd.DataFrame,
    catalogue: Catalogue,
    value: str = "residual",
    title: str | None = None,
    top_missing: pd.DataFrame | None = None,
    row_order: Sequence[str] | None = None,
    col_order: Sequence[str] | None = None,
) -> go.Figure:
    """Units x risk scenarios, coloured by the band of `value` ("residual" or "inherent").

    The first trace ("cells") holds the data: z is the band position (0 = lowest band, NaN
    where the risk is not applicable), text the written score, customdata the exact score,
    hovertext a description in words. `row_order` / `col_order` (unit ids, risk ids) fix
    the layout, e.g. to the current map's when drawing the map after the plan; they also
    select: units and risks not listed are left out, listed ones absent from the register
    are drawn as empty rows or columns.
    """
    if value not in VALUES:
        raise ValueError(f"value must be one of {VALUES}, got {value!r}")
    what = "Residual" if value == "residual" else "Inherent"
    title = title or f"{what} risk by unit and risk scenario"
    if register is None or register.empty:
        return empty_figure("No unit-risk pairs to show: widen the filters.", title)
    require_columns(register, HEATMAP_COLUMNS, "register")

    if row_order is None or col_order is None:
        default_rows, default_cols = heatmap_order(register, catalogue)
        row_order = default_rows if row_order is None else row_order
        col_order = default_cols if col_order is None else col_order
    rows = pd.Index(pd.unique(pd.Series(list(row_order), dtype=object)))
    cols = pd.Index(pd.unique(pd.Series(list(col_order), dtype=object)))
    ri = rows.get_indexer(register["unit_code"])
    ci = cols.get_indexer(register["risk_id"])
    keep = (ri >= 0) & (ci >= 0)
    if not keep.any():
        return empty_figure("No unit-risk pairs to show: widen the filters.", title)
    reg = register.loc[keep]
    ri, ci = ri[keep], ci[keep]

    shape = (len(rows), len(cols))
    scores = np.full(shape, np.nan)
    scores[ri, ci] = reg[value].to_numpy(dtype=float)
    z = band_index(scores, catalogue)
    text = format_scores(scores, decimals=1)
    hover = np.full(shape, "", dtype=object)
    hover[ri, ci] = _hover(reg, value, catalogue, top_missing)

    meta = register.drop_duplicates("unit_code").set_index("unit_code").reindex(rows)
    ids = pd.Series(rows, index=rows, dtype=object)
    names = meta["unit"].astype(object).where(meta["unit"].notna(), ids)
    row_labels = _unique_labels(names, ids, ROW_CHARS)
    row_types = meta["unit_type"].astype(object).where(meta["unit_type"].notna(), "")
    col_labels = escape_series(pd.Series(cols, dtype=object)).tolist()

    traces = band_traces(
        col_labels, row_labels, z, text, hover, catalogue, customdata=scores, text_size=TEXT_PX
    )
    colorbar_on_top(traces[0])
    shapes, annotations = _groups(catalogue, [str(t) for t in row_types], cols, register)
    margin = {**MARGIN, "l": label_px(row_labels, ROW_CHARS)}
    layout = grid_layout(
        title,
        col_labels,
        row_labels,
        shapes,
        annotations,
        height=MARGIN["t"] + MARGIN["b"] + max(len(rows), 8) * ROW_PX,
        margin=margin,
        row_tick_size=10,
    )
    layout["width"] = map_width(len(cols), row_labels)
    return build_figure(traces, layout)


def _separator(axis: str, at: float) -> dict:
    """A thin line across the whole map between two groups: between rows (`axis` "y") or
    between columns ("x"), at `at` on that axis (half way between two cells)."""
    across = "x" if axis == "y" else "y"
    return {
        "type": "line",
        f"{across}ref": "paper",
        f"{across}0": 0,
        f"{across}1": 1,
        f"{axis}ref": axis,
        f"{axis}0": at,
        f"{axis}1": at,
        "line": {"color": "#444444", "width": 1},
    }


def _groups(
    catalogue: Catalogue,
    row_types: list[str],
    cols: pd.Index,
    register: pd.DataFrame,
) -> tuple[list[dict], list[dict]]:
    """Separators and group names: unit types on the right, stages above the columns."""
    type_names = {t.id: t.name for t in catalogue.unit_types}
    stage_names = {s.id: s.name for s in catalogue.stages}
    known = catalogue.risk_by_id
    frame_stage = register.drop_duplicates("risk_id").set_index("risk_id")["stage"]
    col_stages = [known[r].stage if r in known else str(frame_stage.get(r, "")) for r in cols]
    shapes: list[dict] = []
    annotations: list[dict] = []
    for key, first, last in _runs(row_types):
        if first > 0:
            shapes.append(_separator("y", first - 0.5))
        name = type_names.get(key, key) or "(no type)"
        annotations.append(
            {
                "xref": "paper",
                "x": 1.005,
                "xanchor": "left",
                "yref": "y",
                "y": (first + last) / 2,
                "text": escape(shorten(name, TYPE_CHARS)),
                "hovertext": escape(name),
                "showarrow": False,
                "font": {"size": 11},
                "align": "left",
            }
        )
    for key, first, last in _runs(col_stages):
        if first > 0:
            shapes.append(_separator("x", first - 0.5))
        # A stage's name fits over its own columns (bold 11 px: about 7.5 px a character),
        # cut with the full name on hover, so neighbouring headings never overlap.
        name = stage_names.get(key, key)
        fits = max(int((last - first + 1) * CELL_PX / 7.5) - 1, 3)
        annotations.append(
            {
                "yref": "paper",
                "y": 1,
                "yanchor": "bottom",
                "yshift": 62,
                "xref": "x",
                "x": (first + last) / 2,
                "text": f"<b>{escape(shorten(name, fits))}</b>",
                "hovertext": escape(name),
                "showarrow": False,
                "font": {"size": 11},
            }
        )
    return shapes, annotations


def stage_frames(
    catalogue: Catalogue, cols: pd.Index, register: pd.DataFrame
) -> tuple[list[dict], list[dict]]:
    """The stages' separators and names above the columns alone, laid out as on the units
    map: for a grid whose every row is a group already (a unit type, a region), so neither
    the group names on the right nor separators between its rows are drawn."""
    return _groups(catalogue, [], cols, register)


def heatmap_after(
    plan: Any,
    catalogue: Catalogue,
    row_order: Sequence[str] | None = None,
    col_order: Sequence[str] | None = None,
    title: str | None = None,
) -> go.Figure:
    """The residual heat map once the plan's actions are carried out (`plan.register_after`).

    Laid out like the current map: by default the order comes from `plan.register_before`;
    pass the current map's `heatmap_order` (of the filtered register) to keep a filter.
    """
    if row_order is None or col_order is None:
        rows, cols = heatmap_order(plan.register_before, catalogue)
        row_order = rows if row_order is None else row_order
        col_order = cols if col_order is None else col_order
    return heatmap(
        plan.register_after,
        catalogue,
        "residual",
        title or "Residual risk after the plan",
        row_order=row_order,
        col_order=col_order,
    )
