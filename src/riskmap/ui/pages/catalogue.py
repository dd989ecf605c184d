"""The catalogue page: what is assessed, against which principles, by which method (all roles)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from riskmap.ui import state
from riskmap.ui.registry import ALL_ROLES


def render() -> None:
    state.require(*ALL_ROLES)
    # The catalogue is curated text from the repository (reviewed files), not user input.
    cat = state.service().catalogue
    st.title("Catalogue")
    st.caption(
        "Corruption risks that enable trafficking in persons, unit by unit, against the "
        "OECD Guiding Principles on Combatting Corruption related to Trafficking in Persons."
    )
    s = cat.summary()
    cols = st.columns(4)
    cols[0].metric("Unit types", s["unit_types"])
    cols[1].metric("Risk scenarios", s["risks"])
    cols[2].metric("Controls", s["controls"])
    cols[3].metric("Principle statements", s["statements"])
    st.caption(f"Catalogue version {cat.version} · {s['method']}")

    tab_p, tab_r, tab_c, tab_m = st.tabs(["Principles", "Risks", "Controls", "Method"])
    with tab_p:
        for p in cat.principles:
            st.subheader(f"{p.number}. {p.title}")
            for statement in p.statements:
                st.markdown(f"- **{statement.id}** {statement.text}")
    with tab_r:
        stage = {s.id: s.name for s in cat.stages}
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "risk_id": r.id,
                        "risk": r.title,
                        "stage": stage[r.stage],
                        "unit types": ", ".join(r.unit_types),
                    }
                    for r in cat.risks
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    with tab_c:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "control_id": c.id,
                        "control": c.name,
                        "principle": c.principle,
                        "kind": c.kind,
                        "risks mitigated": len(c.mitigates),
                        "effort_days": c.effort_days,
                    }
                    for c in cat.controls
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    with tab_m:
        m = cat.method
        st.markdown(
            f"Reduction cap **{m.rule.reduction_cap:.0%}**, likelihood floor "
            f"**{m.rule.likelihood_floor:g}**; strengths "
            + ", ".join(f"{k} = {v:g}" for k, v in m.strengths.items())
        )
        st.dataframe(
            pd.DataFrame([b.model_dump() for b in m.bands]),
            hide_index=True,
            width="stretch",
        )
