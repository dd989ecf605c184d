"""Integrity incidents on record, per unit: list them and (officers) record new ones.

Incidents feed the calibration check: a risk rated unlikely where incidents on that very
risk are on record is flagged for a second look.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from riskmap.service import record_incident
from riskmap.service.incidents import KINDS
from riskmap.ui import registry, state
from riskmap.ui.widgets import labelled_table

ROLES = registry.roles_of("incidents")  # the registry is the one list
ALL = "(all units)"
ss = st.session_state


def _record_form(units, chosen: str | None) -> None:
    cat = state.service().catalogue
    codes = list(units["code"])
    names = dict(zip(units["code"], units["name"], strict=True))
    types = dict(zip(units["code"], units["unit_type"], strict=True))
    st.markdown("#### Record an incident")
    unit = st.selectbox(
        "Unit",
        codes,
        index=codes.index(chosen) if chosen in codes else 0,
        key="incident-unit",
        format_func=lambda c: f"{c} · {names[c]}",
    )
    risks = [None, *(r.id for r in cat.risks_for(types[unit]))] if unit else [None]
    with st.form("incident-record", clear_on_submit=True):
        c1, c2 = st.columns(2)
        occurred = c1.date_input("Date of the incident", value=date.today(), max_value=date.today())
        kind = c2.selectbox("Kind", KINDS)
        risk = st.selectbox(
            "Risk scenario it concerns (if known)",
            risks,
            format_func=lambda r: (
                "— not linked to a scenario" if r is None else f"{r} · {cat.risk_by_id[r].title}"
            ),
        )
        outcome = st.text_input("Outcome (e.g. under review, suspended, convicted)")
        description = st.text_area("What happened", height=90)
        if st.form_submit_button("Record incident", type="primary"):
            state.write_and_rerun(
                "incident",
                f"Recorded a {kind} for unit {unit}.",
                record_incident,
                unit,
                occurred,
                kind,
                risk_id=risk,
                outcome=outcome,
                description=description,
            )
    state.show_kept_error("incident")


def render() -> None:
    state.require(*ROLES)
    state.show_flash()
    st.title("Incidents")
    st.caption(
        "Complaints, disciplinary cases, prosecutions and convictions on record, per unit. "
        "They feed the calibration check of the ratings."
    )
    units = state.read("list_units")
    options = [ALL, *units["code"]]
    names = dict(zip(units["code"], units["name"], strict=True))
    chosen = st.selectbox(
        "Unit",
        options,
        key="incidents-filter",
        format_func=lambda c: c if c == ALL else f"{c} · {names[c]}",
    )
    frame = state.read("incidents", None if chosen == ALL else chosen)
    st.caption(f"{len(frame)} incident(s)")
    labelled_table(
        frame.iloc[::-1],
        {"occurred_on": "Date", "unit_code": "Unit", "risk_id": "Risk", "kind": "Kind",
         "outcome": "Outcome", "description": "What happened", "recorded_by": "Recorded by"},
        dates=("occurred_on",),
    )  # fmt: skip
    if state.can(record_incident) and len(units):
        _record_form(units, None if chosen == ALL else chosen)
