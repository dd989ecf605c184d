"""Overview: the cycle in view in a few figures, the change since the last cycle, the glance.

Open to every role. Figures come from `service.key_figures` (units assessed and confirmed,
risks per band, units with a critical risk, actions open, overdue and done, each with its
change against the previous cycle); the map is the ministry at a glance (unit types x risk
scenarios, mean residual), drawn by `riskmap.charts.type_risk_heatmap`.
"""

from __future__ import annotations

import streamlit as st

from riskmap import vocabulary
from riskmap.charts import image_config, type_risk_heatmap
from riskmap.ui import registry, views
from riskmap.ui.pages._shared import open_cycle_page
from riskmap.ui.widgets import escape_md

ROLES = registry.roles_of("overview")  # the registry is the one list


def render() -> None:
    opened = open_cycle_page(ROLES, "Overview", "key_figures", "cycle_register")
    if opened is None:
        return
    cycle, cat, (figures, register) = opened
    previous = figures["previous"]
    status = vocabulary.cycle_status_label(figures["status"])
    against = f"arrows show the change against cycle {previous}" if previous else "no earlier cycle"
    st.caption(escape_md(f"Cycle {cycle} ({status}); {against}. Overdue as of {figures['today']}."))

    for row in views.key_metrics(figures, cat):
        for column, m in zip(st.columns(len(row)), row, strict=True):
            column.metric(
                m.label,
                m.value,
                delta=m.delta,
                delta_color=m.delta_color,
                help=m.help,
                border=True,
            )

    st.subheader("The ministry at a glance")
    st.caption(
        "Each cell is one unit type on one risk scenario: the mean residual score of the "
        "type's units, coloured by its band. Hover for the worst unit and the units per band; "
        "the Heat maps page shows every unit."
    )
    st.plotly_chart(
        type_risk_heatmap(register, cat, "residual"),
        width="stretch",
        key="overview-glance",
        config=image_config(f"riskmap-glance-{cycle}"),
    )
