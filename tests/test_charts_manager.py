"""The manager's charts: the ministry at a glance (unit type x risk) and the pick layer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmap import charts
from riskmap.catalogue import load_catalogue
from riskmap.scoring import score
from synthetic import ministry

CAT = load_catalogue()


@pytest.fixture(scope="module")
def register() -> pd.DataFrame:
    m = ministry(CAT, units=40, seed=3)
    return score(m.risk_ratings, m.control_ratings, m.units, CAT)


def test_type_risk_summary_is_the_groupby_of_the_register(register):
    out = charts.type_risk_summary(register, CAT).set_index(["unit_type", "risk_id"])
    grouped = register.groupby(["unit_type", "risk_id"])["residual"]
    pd.testing.assert_series_equal(
        out["mean"].sort_index(), grouped.mean().sort_index(), check_names=False
    )
    assert (out["worst"].sort_index() == grouped.max().sort_index()).all()
    bands = [f"n_{b.id}" for b in CAT.method.bands]
    assert (out[bands].sum(axis=1) == out["units"]).all()
    for (t, r), row in out.head(20).iterrows():
        pair = register[(register["unit_type"] == t) & (register["risk_id"] == r)]
        assert row["worst_unit"] == pair.loc[pair["residual"].idxmax(), "unit"]


def test_glance_cells_are_the_band_of_the_mean(register):
    fig = charts.type_risk_heatmap(register, CAT)
    cells = fig.data[0]
    z = np.asarray(cells.z, dtype=float)
    means = np.asarray(cells.customdata, dtype=float)[:, :, 1]
    expected = charts.band_index(means, CAT)
    assert np.array_equal(np.isnan(z), np.isnan(expected))
    assert np.array_equal(z[~np.isnan(z)], expected[~np.isnan(expected)])
    type_names = [t.name for t in CAT.unit_types if t.id in set(register["unit_type"])]
    assert list(cells.y) == type_names, "rows follow the catalogue's unit types"
    written = np.asarray(cells.text, dtype=object)
    assert set(written[~np.isnan(z)]) == set(charts.format_scores(means[~np.isnan(means)]))
    hover = [h for h in np.asarray(cells.hovertext, dtype=object).ravel() if h]
    assert all("Units rating it:" in h and "Worst:" in h for h in hover)


def test_glance_escapes_unit_names_and_copes_with_nothing(register):
    evil = register.assign(unit="<b>Evil</b> & co")
    hover = " ".join(
        h for h in np.asarray(charts.type_risk_heatmap(evil, CAT).data[0].hovertext).ravel() if h
    )
    assert "&lt;b&gt;Evil&lt;/b&gt; &amp; co" in hover and "<b>Evil" not in hover
    empty = charts.type_risk_heatmap(register.iloc[0:0], CAT)
    assert not empty.data


def test_pick_layer_puts_one_marker_per_filled_cell(register):
    fig = charts.heatmap(register, CAT)
    cells = fig.data[0]
    z = np.asarray(cells.z, dtype=float)
    hover_before = np.asarray(cells.hovertext, dtype=object)
    charts.with_pick_layer(fig)
    layer = fig.data[-1]
    rows, cols = np.nonzero(~np.isnan(z))
    assert layer.type == "scatter" and layer.name == "pick"
    assert len(layer.x) == len(rows) == (~np.isnan(z)).sum()
    assert np.array_equal(np.asarray(layer.y), rows) and np.array_equal(np.asarray(layer.x), cols)
    assert list(layer.hovertext) == list(hover_before[rows, cols]), "the hover moves, unchanged"
    assert fig.data[0].hoverinfo == "skip" and fig.data[0].hovertext is None
    assert fig.layout.xaxis2.range == (-0.5, z.shape[1] - 0.5)
    assert fig.layout.yaxis2.range == (z.shape[0] - 0.5, -0.5), "row 0 on top, as the map"
    assert fig.layout.xaxis2.overlaying == "x" and fig.layout.yaxis2.overlaying == "y"


def test_cell_of_reads_positions_only():
    assert charts.cell_of([{"x": 3.0, "y": 5.0}]) == (5, 3)
    assert charts.cell_of([{"x": "BOR-01", "y": "Border post"}, {"x": 1, "y": 0}]) == (0, 1)
    assert charts.cell_of([]) is None
    assert charts.cell_of(None) is None


def test_pick_layer_leaves_an_empty_map_alone(register):
    """An empty map gets no pick layer (nothing to click) and keeps its traces as drawn;
    a map with cells gets exactly one layer, one point per filled cell."""
    empty = charts.heatmap(pd.DataFrame(), CAT)
    before = [t.to_plotly_json() for t in empty.data]
    out = charts.with_pick_layer(empty)
    assert [t.to_plotly_json() for t in out.data] == before
    assert not [t for t in out.data if t.name == charts.pick.PICK]
    filled = charts.with_pick_layer(charts.heatmap(register, CAT))
    layers = [t for t in filled.data if t.name == charts.pick.PICK]
    z = np.asarray(filled.data[0].z, dtype=float)
    assert len(layers) == 1 and len(layers[0].x) == int((~np.isnan(z)).sum()) > 0
