"""The trafficking chain (issue 14): six stages in order, worst exposed unit, weakest link."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from riskmap import charts
from riskmap import service as s
from riskmap.catalogue import load_catalogue
from riskmap.scoring import score
from riskmap.scoring.chain import MINISTRY, chain_links, chain_units
from synthetic import ministry
from ui_harness import page

CAT = load_catalogue()
STAGES = [st.id for st in CAT.stages]


@pytest.fixture(scope="module")
def register() -> pd.DataFrame:
    m = ministry(CAT, units=60, seed=4)
    return score(m.risk_ratings, m.control_ratings, m.units, CAT)


def test_each_stage_is_its_worst_exposed_unit_and_the_highest_is_the_weakest(register):
    links = chain_links(register, CAT)
    assert list(links["stage"]) == STAGES and len(STAGES) == 6
    for row in links.itertuples():
        part = register[register["stage"] == row.stage]
        assert row.residual == part["residual"].max()
        worst = part[part["residual"] == row.residual]
        assert row.unit_code in set(worst["unit_code"]) and row.units == part["unit_code"].nunique()
        assert row.band == worst["residual_band"].iloc[0]
    top = links["residual"].max()
    assert list(links.loc[links["weakest"], "residual"]) == [top]


def test_per_region_each_region_has_its_own_weakest_link(register):
    links = chain_links(register, CAT, by="region")
    assert set(links["area"]) == set(register["region"])
    for area, part in links.groupby("area"):
        assert list(part["stage"]) == STAGES
        reg = register[register["region"] == area]
        rated = part.dropna(subset=["residual"])
        assert rated["residual"].max() == reg["residual"].max()
        assert part["weakest"].sum() >= 1
        assert part.loc[part["weakest"], "residual"].eq(reg["residual"].max()).all()
        unrated = part[part["residual"].isna()]
        assert not unrated["weakest"].any()
        assert set(unrated["stage"]).isdisjoint(set(reg["stage"]))


def test_units_behind_a_stage_are_each_units_worst_worst_first(register):
    units = chain_units(register, CAT, "border")
    part = register[register["stage"] == "border"]
    assert len(units) == part["unit_code"].nunique()
    assert list(units["residual"]) == sorted(units["residual"], reverse=True)
    worst = part.groupby("unit_code")["residual"].max()
    assert dict(zip(units["unit_code"], units["residual"], strict=True)) == worst.to_dict()


def test_the_chain_chart_draws_six_boxes_in_order_and_marks_the_weakest(register):
    links = chain_links(register, CAT)
    fig = charts.chain_chart(links, CAT)
    trace = fig.data[0]
    assert list(trace.customdata) == STAGES and list(trace.x) == list(range(6))
    assert list(trace.text) == list(charts.format_scores(links["residual"].to_numpy()))
    colors = {b.id: b.color for b in CAT.method.bands}
    assert list(trace.marker.color) == [colors[b] for b in links["band"]]
    widths = list(trace.marker.line.width)
    k = int(np.flatnonzero(links["weakest"])[0])
    assert widths[k] > 1 and sum(w > 1 for w in widths) == links["weakest"].sum()
    texts = [a.text for a in fig.layout.annotations]
    assert any("Weakest link" in t for t in texts)
    heads = [a for a in fig.layout.annotations if a.hovertext in {st.name for st in CAT.stages}]
    assert [a.hovertext for a in heads] == [st.name for st in CAT.stages]
    arrows = [a for a in fig.layout.annotations if a.showarrow]
    assert len(arrows) == 5
    assert charts.WEAKEST_WORDS in trace.hovertext[k]


def test_a_stage_nobody_rates_is_grey_and_never_the_weakest(register):
    reg = register[register["stage"] != "protection"]
    fig = charts.chain_chart(chain_links(reg, CAT), CAT)
    trace = fig.data[0]
    assert trace.text[-1] == "not rated" and trace.marker.color[-1] == charts.chain.UNRATED
    assert trace.marker.line.width[-1] == 1


def test_the_chain_grid_outlines_one_weakest_link_per_region(register):
    links = chain_links(register, CAT, by="region")
    fig = charts.chain_grid(links, CAT)
    assert len(fig.data[0].y) == links["area"].nunique()
    assert len(fig.layout.shapes) == links["weakest"].sum()


def test_the_heat_maps_page_opens_the_chain_and_the_units_behind_a_stage(ui_db):
    at = page("riskmap.ui.pages.heatmaps", "manager").run()
    assert not at.exception
    spec = next(
        json.loads(e.proto.spec)
        for e in at.get("plotly_chart")
        if "trafficking chain," in e.proto.spec
    )
    with ui_db.service() as svc:
        reg = s.register(svc, "demo.manager", "2026")
    want = chain_links(reg, CAT)
    assert spec["data"][0]["customdata"] == STAGES
    assert MINISTRY in spec["layout"]["title"]["text"]
    at.selectbox(key="chain-stage").set_value("border").run()
    table = next(
        d.value
        for d in at.dataframe
        if "residual_band" in d.value.columns and "region" in d.value.columns
    )
    assert table["unit_code"].iloc[0] == want.set_index("stage").loc["border", "unit_code"]
    region = sorted(reg["region"].unique())[0]
    at.selectbox(key="chain-area").set_value(region).run()
    spec = next(
        json.loads(e.proto.spec)
        for e in at.get("plotly_chart")
        if "trafficking chain," in e.proto.spec
    )
    assert region in spec["layout"]["title"]["text"]
    mine = chain_links(reg[reg["region"] == region], CAT)
    assert spec["data"][0]["text"] == list(charts.format_scores(mine["residual"].to_numpy()))
