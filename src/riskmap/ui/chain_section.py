"""The trafficking chain on the Heat maps page: the chain, per region, and the units behind.

Laid out from the pure cores (`riskmap.scoring.chain` for the numbers, `riskmap.charts` for
the pictures) over the register the page's filters keep, so the chain and the map always
describe the same units. A stage opens (click its box, or choose it) to the units behind
it, worst first.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from riskmap.catalogue import Catalogue
from riskmap.charts import WEAKEST_WORDS, chain_chart, chain_grid, image_config
from riskmap.scoring.chain import MINISTRY, chain_links, chain_units
from riskmap.ui.widgets import escape_md, plotly_points, table

KEY = "chain-"


def render_chain(register: pd.DataFrame, cat: Catalogue, cycle: str, fmt: str) -> None:
    """The chain of the whole ministry or of one region, the regions side by side, and the
    units behind a stage."""
    regions = sorted(register["region"].fillna("").astype(str).unique())
    area = st.selectbox(
        "Chain of", [MINISTRY, *regions], key=f"{KEY}area", help="The whole ministry or a region."
    )
    part = register if area == MINISTRY else register[register["region"].fillna("") == area]
    links = chain_links(part, cat)
    weak = links[links["weakest"]]
    if len(weak):
        w = weak.iloc[0]
        st.caption(
            escape_md(
                f"{WEAKEST_WORDS}: {w['stage_name']}, where {w['unit']} ({w['unit_code']}) "
                f"carries a residual of {w['residual']:.2f} on {w['risk_id']} {w['risk']}. "
                "Each stage is as strong as its worst exposed unit."
            )
        )
    event = st.plotly_chart(
        chain_chart(links, cat, title=f"The trafficking chain, {area}, cycle {cycle}"),
        width="content",
        key=f"{KEY}chart",
        on_select="rerun",
        selection_mode="points",
        config=image_config(f"riskmap-chain-{cycle}", fmt),
    )
    points = plotly_points(event)
    stages = list(links["stage"])
    names = dict(zip(links["stage"], links["stage_name"], strict=True))
    key = f"{KEY}stage"
    index = points[0].get("point_index", points[0].get("pointIndex")) if points else None
    clicked = isinstance(index, int) and 0 <= index < len(stages)
    if clicked and st.session_state.get(f"{key}-clicked") != (area, index):
        st.session_state[f"{key}-clicked"] = (area, index)
        st.session_state[key] = stages[index]
    stage = st.selectbox(
        "Units behind a stage",
        ["", *stages],
        key=key,
        format_func=lambda s: names.get(s, "Choose a stage (or click its box)"),
    )
    if stage:
        units = chain_units(register, cat, stage, None if area == MINISTRY else area)
        table(
            units,
            column_config={"residual": st.column_config.NumberColumn("Residual", format="%.2f")},
        )
    if area == MINISTRY and len(regions) > 1:
        st.plotly_chart(
            chain_grid(chain_links(register, cat, by="region"), cat),
            width="content",
            key=f"{KEY}grid",
            config=image_config(f"riskmap-chain-regions-{cycle}", fmt),
        )
