"""The catalogue page: what is assessed, against which principles, by which method (all roles)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from riskmap.catalogue.citations import grounds
from riskmap.ui import state
from riskmap.ui.registry import ALL_ROLES
from riskmap.ui.widgets import table


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
                        "key controls": ", ".join(r.key_controls),
                        "sources": grounds(r),
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
                        "cost_class": c.cost_class,
                        "sources": grounds(c),
                    }
                    for c in cat.controls
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    with tab_m:
        _method(cat)


def _method(cat) -> None:
    """The method in force: the rule in words, every number with its reason, its bands and
    how the cycle in view's heat map moves when one number moves."""
    m = cat.method
    r = m.rule
    credits = ", ".join(f"{m.maturity.levels[k].name} {v:.0%}" for k, v in sorted(r.credit.items()))
    st.markdown(
        f"**{m.name} {m.version}.** Each control linked to a risk earns a credit for its "
        f"maturity ({credits}); a level above "
        f"{m.maturity.levels[r.evidence_required_above].name} counts only with evidence. The "
        "risk's coverage is the strength-weighted mean of its controls' credits (key controls "
        f"weigh {r.key_control_weight:g}x), and controls remove at most "
        f"**{r.max_reduction:.0%}** of the likelihood. See docs/methodology.md."
    )
    table(
        pd.DataFrame([b.model_dump() for b in m.bands]),
    )
    st.subheader("Every number and why")
    table(
        pd.DataFrame([p.model_dump() for p in m.parameters()]),
        column_config={
            "path": st.column_config.TextColumn("Parameter"),
            "value": st.column_config.NumberColumn("Value", format="%g"),
            "rationale": st.column_config.TextColumn("Why", width="large"),
        },
    )
    cycle = state.cycle_in_view()
    st.subheader("Sensitivity")
    if cycle is None:
        st.info("No cycle yet: the sensitivity needs a cycle's ratings.")
        return
    st.caption(
        f"Cells per residual band in cycle {cycle} with the method as shipped (first row) and "
        "with one number moved one step down or up (weights, credits and the maximum "
        "reduction by 0.05, the key-control weight by 0.5, the evidence level by one level, "
        "band thresholds by one point). Also `riskmap method sensitivity --cycle "
        f"{cycle}`."
    )
    sensitivity = state.read("method_sensitivity", cycle)
    bands = [b.id for b in m.bands]
    config = {"parameter": st.column_config.TextColumn("Parameter")}
    for b in bands:
        config[f"n_{b}"] = st.column_config.NumberColumn(b.title())
        config[f"change_{b}"] = st.column_config.NumberColumn(f"Δ {b}", format="%+d")
    table(sensitivity, column_config=config)
