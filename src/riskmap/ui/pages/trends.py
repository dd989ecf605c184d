"""Trends: one cycle against another.

Residual per unit and per risk scenario, the unit x risk pairs that moved band (up: worse,
down: better), the actions completed, the maturity gained per OECD principle; read with
`service.trend` and drawn by `riskmap.charts.movers` and `trend_units`. For managers and
auditors.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from riskmap.charts import movers, trend_units
from riskmap.service import DomainError
from riskmap.ui import registry, state, views
from riskmap.ui.pages._shared import catalogue, read
from riskmap.ui.widgets import escape_md, table

ROLES = registry.roles_of("trends")  # the registry is the one list
KEY = "trend-"
ALL_UNITS_UP_TO = 60
_CONFIG = {"displaylogo": False}
_num = st.column_config.NumberColumn


def render() -> None:
    state.require(*ROLES)
    cat = catalogue()
    st.title("Trends")
    try:
        cycles = read("list_cycles")
    except DomainError as exc:
        state.show_error(exc)
        return
    labels = list(cycles["label"])
    before_default, after_default = views.default_pair(labels, state.cycle_in_view())
    if before_default is None:
        st.info("Trends compare two cycles: there is only one so far.")
        return
    c1, c2 = st.columns(2)
    before = c1.selectbox(
        "From cycle", labels, index=labels.index(before_default), key=f"{KEY}before"
    )
    after = c2.selectbox("To cycle", labels, index=labels.index(after_default), key=f"{KEY}after")
    if before == after:
        st.warning("Choose two different cycles to compare.")
        return
    try:
        t = read("trend", before, after)
    except DomainError as exc:
        state.show_error(exc)
        return

    s = t.summary
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(
        "Mean residual risk",
        f"{s['mean_residual_after']:.2f}",
        delta=round(s["mean_residual_after"] - s["mean_residual_before"], 2),
        delta_color="inverse",
        help=f"Mean over every unit x risk; the arrow compares with cycle {escape_md(before)} "
        f"({s['mean_residual_before']:.2f}).",
        border=True,
    )
    m2.metric("Pairs up a band (worse)", s["pairs_up"], border=True)
    m3.metric("Pairs down a band (better)", s["pairs_down"], border=True)
    m4.metric(
        "Actions completed",
        s["actions_completed"],
        help=f"Actions of cycle {escape_md(after)} marked done: the Overview's \"Actions "
        f'done" of that cycle (one definition, riskmap.figures).',
        border=True,
    )

    tabs = st.tabs(
        ["Per unit", "Per risk scenario", "Band movers", "Actions completed", "Maturity"]
    )
    words = {"before_label": f"cycle {before}", "after_label": f"cycle {after}"}
    with tabs[0]:
        per_unit = views.unit_change(t.per_unit)
        st.plotly_chart(
            movers(per_unit, cat, n=10, **words),
            width="stretch",
            key=f"{KEY}movers",
            config=_CONFIG,
        )
        if len(per_unit) <= ALL_UNITS_UP_TO:
            st.plotly_chart(
                trend_units(per_unit, cat, **words),
                width="stretch",
                key=f"{KEY}units",
                config=_CONFIG,
            )
        table(
            t.per_unit,
            column_config=_compared("mean_residual", "Mean residual", before, after),
        )
    with tabs[1]:
        st.plotly_chart(
            trend_units(
                views.risk_change(t.per_risk),
                cat,
                title=f"Change in mean residual per risk scenario, cycle {before} to {after}",
                **words,
            ),
            width="stretch",
            key=f"{KEY}risks",
            config=_CONFIG,
        )
    with tabs[2]:
        st.caption("Unit x risk pairs whose residual band changed between the two cycles.")
        table(
            views.movers_table(t.movers, cat),
            column_config=_compared("residual", "Residual", before, after),
        )
    with tabs[3]:
        st.caption(
            f"Actions of cycle {escape_md(after)} marked done: the Overview's "
            f'"Actions done" of cycle {escape_md(after)}.'
        )
        table(t.actions_completed)
    with tabs[4]:
        gain = views.maturity_gain(t.maturity, cat)
        table(
            gain,
            column_config={
                "title": st.column_config.TextColumn("Principle", width="large"),
                "mean_maturity_before": _num(f"Mean maturity {before}", format="%.2f"),
                "mean_maturity_after": _num(f"Mean maturity {after}", format="%.2f"),
                "gained": _num("Gained", format="%+.2f"),
            },
        )
        st.bar_chart(gain, x="principle", y="gained", horizontal=True, height=260)


def _compared(field: str, label: str, before: str, after: str) -> dict[str, Any]:
    """The columns of a figure in two cycles and its change, named by the cycles."""
    return {
        f"{field}_before": _num(f"{label} {before}", format="%.2f"),
        f"{field}_after": _num(f"{label} {after}", format="%.2f"),
        "change": _num("Change", format="%+.2f"),
    }
