"""A unit's profile on the Heat maps page: the unit picker and what the service reads for it.

Its own module because it is a thing of its own on the page (the map above picks a unit;
this shows it): the figures, risks, control gaps, actions, calibration flags, history,
incidents and exposure of one unit, all from `riskmap.service.unit_profile`.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from riskmap.catalogue import Catalogue
from riskmap.service import DomainError
from riskmap.ui import state, views
from riskmap.ui.pages._shared import read
from riskmap.ui.plan_actions import ACTION_FIELDS
from riskmap.ui.widgets import escape_md, table

NO_UNIT = ""


def unit_section(
    cycle: str, register: pd.DataFrame, picked: str | None, cat: Catalogue, *, key: str
) -> None:
    """The unit picker over the units `register` keeps (most exposed first) and the picked
    unit's profile; `picked` (a clicked cell's unit) chooses it once per click. `key` is
    the page's widget-key prefix, so the choice survives the page's reruns."""
    st.subheader("Unit profile")
    choices = views.unit_choices(register)
    options = [NO_UNIT, *choices]
    box, last = f"{key}unit", f"{key}picked"
    if picked and picked in choices and picked != st.session_state.get(last):
        st.session_state[last] = picked
        st.session_state[box] = picked
    if st.session_state.get(box) not in options:
        st.session_state[box] = NO_UNIT
    unit = st.selectbox(
        "Unit",
        options,
        key=box,
        format_func=lambda u: choices.get(u, "Choose a unit (most exposed first)"),
        help="The units the filters keep, most exposed first. Clicking a cell of the map "
        "picks its unit too.",
    )
    if unit:
        profile(cycle, unit, cat)


def profile(cycle: str, unit: str, cat: Catalogue) -> None:
    """One unit's profile as `service.unit_profile` reads it: the figures, then a tab each
    for risks, gaps, actions, flags, history, incidents and exposure."""
    try:
        p = read("unit_profile", cycle, unit)
    except DomainError as exc:
        state.show_error(exc)
        return
    u, s = p.unit, p.summary
    parent = u.get("parent")
    where = f"region {u.get('region') or '(none)'}"
    if isinstance(parent, str) and parent:
        where += f", reports to {parent}"
    st.markdown(
        f"**{escape_md(u['unit'])}** ({escape_md(u['unit_code'])}): "
        f"{escape_md(u['unit_type_name'])}, {escape_md(where)}, headcount {int(u['headcount'])}"
    )
    top = views.band_label(p.risks["residual_band"].iloc[0] if len(p.risks) else None, cat) or "-"
    figures = [
        ("Risks rated", f"{s['pairs']}", None),
        ("Highest residual", f"{s['max_residual']:.2f}", f"band: {top}"),
        ("Control gaps", f"{s['gaps']}", "controls below their target maturity"),
        ("Open actions", f"{s['actions_open']}", None),
        ("Overdue", f"{s['actions_overdue']}", "open actions past their due date"),
        ("Calibration flags", f"{s['flags']}", "outlier against peers, contradicted"),
        ("Incidents", f"{s['incidents']}", None),
    ]
    for column, (label, value, help_) in zip(st.columns(len(figures)), figures, strict=True):
        column.metric(label, value, help=help_)
    if len(p.flags):
        st.warning(
            f"{len(p.flags)} calibration flag(s): some ratings look out of line with peer units "
            "or with incidents on record (see Calibration flags).",
            icon=":material/flag:",
        )

    tabs = st.tabs(
        [
            "Risks",
            "Control gaps",
            "Actions",
            "Calibration flags",
            "History",
            "Incidents",
            "Exposure",
        ]
    )
    num = st.column_config.NumberColumn
    with tabs[0]:
        table(
            views.risk_table(p.risks, p.missing, cat),
            column_config={
                "risk_id": "Risk",
                "risk": st.column_config.TextColumn("Scenario", width="medium"),
                "stage": "Stage",
                "likelihood": num("Likelihood", format="%d"),
                "impact": num("Impact", format="%d"),
                "inherent": num("Inherent", format="%.2f"),
                "residual": num("Residual", format="%.2f"),
                "inherent_band": "Inherent band",
                "residual_band": "Residual band",
                "top_missing": st.column_config.TextColumn("Top missing controls", width="medium"),
            },
        )
    with tabs[1]:
        st.caption(
            "Applicable controls below their target maturity (the target follows the inherent "
            "band of the worst risk each control mitigates here)."
        )
        table(
            p.gaps,
            column_config={
                "from_level": num("At", format="%d"),
                "to_level": num("Target", format="%d"),
                "effort_days": num("Effort (days)", format="%.0f"),
                "cost": num("Cost", format="%.0f"),
            },
        )
    with tabs[2]:
        table(
            views.actions_table(p.actions, date.today()),
            column_config=ACTION_FIELDS,
        )
    with tabs[3]:
        _table_or_note(p.flags, "No rating of this unit is flagged.")
    with tabs[4]:
        table(
            p.history,
            column_config={
                "mean_inherent": num("Mean inherent", format="%.2f"),
                "mean_residual": num("Mean residual", format="%.2f"),
                "max_residual": num("Highest residual", format="%.2f"),
            },
        )
    with tabs[5]:
        _table_or_note(p.incidents, "No incident on record for this unit.")
    with tabs[6]:
        factors = {f.id: f.name for f in cat.method.exposure.factors}
        st.dataframe(
            pd.DataFrame(
                [(factors.get(k, k), v) for k, v in (u.get("exposure") or {}).items()],
                columns=["factor", "level (1-5)"],
            ),
            hide_index=True,
        )


def _table_or_note(frame: pd.DataFrame, note: str) -> None:
    """The table, or a line saying why there is none (an empty table reads as broken)."""
    if frame.empty:
        st.caption(note)
    else:
        table(frame)
