"""Briefing: the cycle on one page, on screen and as a PDF to take to a meeting.

For managers and auditors. Reads `service.briefing` (the Overview's key figures, the heat
map of unit types x risks by worst unit, the trafficking chain, the ten highest residual
risks, the plan in brief, the open calibration flags) and lays it out as the PDF does;
"Prepare the briefing PDF" makes the document (`service.briefing_pdf`: one A4 page, an
audited export) and offers it for download.
"""

from __future__ import annotations

import streamlit as st

from riskmap import vocabulary
from riskmap.charts import chain_chart, group_heatmap, image_config
from riskmap.service import briefing_pdf
from riskmap.ui import registry, state, views
from riskmap.ui.pages._shared import open_cycle_page
from riskmap.ui.widgets import download_prepared, escape_md, prepare_button, table

ROLES = registry.roles_of("briefing")  # the registry is the one list
KEY = "brief-"
ss = st.session_state


def render() -> None:
    opened = open_cycle_page(ROLES, "Briefing", "briefing")
    if opened is None:
        return
    cycle, cat, (b,) = opened
    status = vocabulary.cycle_status_label(b.status)
    st.markdown(escape_md(f"{b.organisation}, cycle {b.cycle}: {status}, {b.approval}."))
    against = f"arrows against cycle {b.previous}" if b.previous else "no earlier cycle"
    st.caption(
        escape_md(
            f"Method {b.method}; catalogue version {b.catalogue_version[:12]}; {against}; "
            f"overdue as of {b.today}."
        )
    )
    _download(cycle)
    for row in views.key_metrics(b.figures, cat):
        for column, m in zip(st.columns(len(row)), row, strict=True):
            column.metric(m.label, m.value, delta=m.delta, delta_color=m.delta_color, border=True)

    st.subheader("Where the risk is")
    st.plotly_chart(
        group_heatmap(b.register, cat, "unit_type"),
        width="content",
        key=f"{KEY}map",
        config=image_config(f"riskmap-briefing-map-{cycle}"),
    )
    st.subheader("The trafficking chain")
    st.plotly_chart(
        chain_chart(b.chain, cat),
        width="content",
        key=f"{KEY}chain",
        config=image_config(f"riskmap-briefing-chain-{cycle}"),
    )
    left, right = st.columns([3, 2])
    with left:
        st.subheader(f"The {len(b.top_risks)} highest residual risks")
        table(b.top_risks)
    with right:
        p = b.plan
        st.subheader("The plan in brief")
        st.markdown(
            f"Budget: {p['effort_days']:,.0f} person-days, {p['cost']:,.0f} "
            f"{escape_md(p['currency'])}  \nActions: {p['actions']} ({p['actions_open']} open, "
            f"{p['actions_done']} done); overdue: {p['actions_overdue']}"
        )
        table(b.deadlines)
        st.subheader("Open calibration flags")
        st.caption(f"{len(b.flags)} ratings to check.")
        table(b.flags)


def _download(cycle: str) -> None:
    prepare_button(
        f"{KEY}pdf",
        cycle,
        "Prepare the briefing PDF",
        "Drawing the briefing...",
        lambda: state.write(briefing_pdf, cycle),
        icon=":material/picture_as_pdf:",
    )
    name = f"riskmap-{cycle}-briefing.pdf"
    label = "Download the briefing (PDF)"
    kept = download_prepared(f"{KEY}pdf", cycle, label, name, "application/pdf")
    if kept is None:
        return
    st.caption(f"Prepared at {kept['at']}; one A4 page.")
