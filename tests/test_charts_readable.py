"""Heat maps a person can read at any size (issue 14): cell size, labels, columns, groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmap import charts
from riskmap.catalogue import load_catalogue
from riskmap.charts.common import CHAR_PX
from riskmap.charts.heatmap import CELL_PX, ROW_CHARS, TYPE_CHARS
from riskmap.scoring import score
from synthetic import ministry

CAT = load_catalogue()


@pytest.fixture(scope="module")
def register() -> pd.DataFrame:
    m = ministry(CAT, units=60, seed=4)
    return score(m.risk_ratings, m.control_ratings, m.units, CAT)


def _plot_width(fig) -> float:
    m = fig.layout.margin
    return fig.layout.width - m.l - m.r


def test_cells_are_wide_enough_for_their_number_and_the_map_fits_1400px(register):
    fig = charts.heatmap(register, CAT)
    n_cols = len(fig.data[0].x)
    cell = _plot_width(fig) / n_cols
    longest = max(len(t) for t in np.asarray(fig.data[0].text, dtype=object).ravel())
    assert cell >= CELL_PX and cell >= longest * CHAR_PX, (cell, longest)
    assert fig.layout.width <= 1400, fig.layout.width
    assert n_cols == register["risk_id"].nunique() > 20


def test_a_300_character_unit_name_is_cut_on_the_axis_and_whole_on_hover(register):
    long_name = "Annex of the ministry for " + "x" * 260 + " at the harbour"
    unit = register["unit_code"].iloc[0]
    reg = register.assign(unit=np.where(register["unit_code"] == unit, long_name, register["unit"]))
    fig = charts.heatmap(reg, CAT)
    labels = list(fig.data[0].y)
    cut = [lab for lab in labels if lab.startswith("Annex of the")]
    assert len(cut) == 1 and "…" in cut[0] and len(cut[0]) <= ROW_CHARS
    assert cut[0].endswith("harbour"), "the end of a name, which tells units apart, stays"
    hover = " ".join(h for h in np.asarray(fig.data[0].hovertext).ravel() if h)
    assert long_name in hover
    # The plot keeps its width: the margin for labels is bounded, the cells stay CELL_PX.
    assert fig.layout.margin.l <= ROW_CHARS * CHAR_PX + 12
    assert _plot_width(fig) / len(fig.data[0].x) >= CELL_PX


def test_two_long_names_that_start_alike_stay_two_rows(register):
    ids = list(pd.unique(register["unit_code"]))[:2]
    stem = "Regional directorate of the border police for the " * 3
    names = {ids[0]: stem + "north", ids[1]: stem + "south"}
    reg = register.assign(unit=register["unit_code"].map(names).fillna(register["unit"]))
    labels = list(charts.heatmap(reg, CAT).data[0].y)
    assert len(labels) == len(set(labels)) == reg["unit_code"].nunique()
    assert all(len(lab) <= ROW_CHARS for lab in labels)


def test_stage_and_unit_type_headings_fit_their_span_with_the_full_name_on_hover(register):
    fig = charts.heatmap(register, CAT)
    stage_names = {s.name for s in CAT.stages}
    spans = {}
    cols = list(fig.data[0].x)
    stage_of = {r.id: r.stage for r in CAT.risks}
    for c in cols:
        spans[stage_of[c]] = spans.get(stage_of[c], 0) + 1
    names = {s.id: s.name for s in CAT.stages}
    heads = [a for a in fig.layout.annotations if a.yref == "paper" and a.hovertext]
    assert {a.hovertext for a in heads} == {names[s] for s in spans} <= stage_names
    for a in heads:
        stage = next(k for k, v in names.items() if v == a.hovertext)
        text = a.text.removeprefix("<b>").removesuffix("</b>")
        assert len(text) * 7.5 <= spans[stage] * CELL_PX, (text, spans[stage])
    types = [a for a in fig.layout.annotations if a.xref == "paper" and a.x > 1]
    assert types and all(len(a.text) <= TYPE_CHARS for a in types)
    long_type = [a for a in types if len(a.hovertext) > TYPE_CHARS]
    assert long_type and all(a.text.endswith("…") for a in long_type)


def test_now_and_after_the_plan_have_the_same_columns_and_rows(register):
    from riskmap.planning import plan

    m = ministry(CAT, units=20, seed=9)
    reg = score(m.risk_ratings, m.control_ratings, m.units, CAT)
    p = plan(reg, m.control_ratings, m.units, m.risk_ratings, CAT, 200.0, None, None)
    rows, cols = charts.heatmap_order(reg, CAT)
    now = charts.heatmap(reg, CAT, row_order=rows, col_order=cols)
    after = charts.heatmap_after(p, CAT, rows, cols)
    assert list(now.data[0].x) == list(after.data[0].x) == cols
    assert list(now.data[0].y) == list(after.data[0].y)
    assert now.layout.width == after.layout.width
    assert list(now.layout.xaxis.categoryarray) == list(after.layout.xaxis.categoryarray)


def test_grouped_map_cells_hold_the_worst_unit_and_the_units_per_band(register):
    fig = charts.group_heatmap(register, CAT, by="unit_type")
    cells = fig.data[0]
    groups = fig.layout.meta["groups"]
    assert len(cells.y) == len(groups) == register["unit_type"].nunique()
    cols = list(cells.x)
    text = np.asarray(cells.text, dtype=object)
    z = np.asarray(cells.z, dtype=float)
    bands = list(reversed(CAT.method.bands))
    checked = 0
    for i, g in enumerate(groups):
        for j, r in enumerate(cols):
            pair = register[(register["unit_type"] == g) & (register["risk_id"] == r)]
            if pair.empty:
                assert np.isnan(z[i, j]) and text[i, j] == ""
                continue
            worst = pair["residual"].max()
            assert z[i, j] == charts.band_index(np.array([worst]), CAT)[0]
            first, second = text[i, j].split("<br>")
            assert first == charts.format_scores(np.array([worst]), decimals=1)[0]
            counts = [int((pair["residual_band"] == b.id).sum()) for b in bands]
            assert second == "·".join(map(str, counts[:2])), "units critical·high"
            hover = np.asarray(cells.hovertext, dtype=object)[i, j]
            for b, c in zip(bands, counts, strict=True):
                assert f"{b.name} {c}" in hover
            checked += 1
    assert checked > 50
    assert fig.layout.width <= 1400
    # Each written line fits its cell (8 px digits are about 4.6 px wide).
    cell = (fig.layout.width - fig.layout.margin.l - fig.layout.margin.r) / len(cols)
    longest = max(len(line) for t in text.ravel() if t for line in t.split("<br>"))
    assert longest * 4.6 <= cell, (longest, cell)
    by_region = charts.group_heatmap(register, CAT, by="region")
    assert list(by_region.layout.meta["groups"]) == sorted(register["region"].unique())


def test_a_map_of_few_columns_keeps_room_for_its_title_and_colour_bar(register):
    from riskmap.charts.heatmap import MIN_COLS

    few = register[register["risk_id"].isin(sorted(register["risk_id"].unique())[:3])]
    fig = charts.heatmap(few, CAT)
    assert len(fig.data[0].x) == 3
    assert _plot_width(fig) == MIN_COLS * CELL_PX


def test_picture_download_config_names_the_file_and_format():
    assert charts.image_config("heat map 2026/x", "svg")["toImageButtonOptions"] == {
        "format": "svg",
        "filename": "heat-map-2026-x",
        "scale": 1,
    }
    assert charts.image_config("m")["toImageButtonOptions"]["format"] == "png"
    with pytest.raises(ValueError):
        charts.image_config("m", "gif")
