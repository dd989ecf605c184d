"""Remediation plan: what a budget buys, the cycle's actions, their timeline.

A budget (person-days, optionally money) gives the plan the planner chooses
(`service.preview_plan`: ranked by residual removed per person-day, cut at the budget, the
register scored again): its actions, what they remove, and the heat map after the plan
beside the one now. Any reader may try budgets; an integrity officer stores the plan with
`build_plan`, edits actions (owner, due date, status, notes) with `update_action` and adds
one by hand with `add_action`; every change is audited by the service. Managers and
auditors read. Overdue actions are flagged in the table and hatched on the timeline.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from riskmap import vocabulary
from riskmap.catalogue import Catalogue
from riskmap.charts import gantt, heatmap, heatmap_after, heatmap_order, image_config
from riskmap.planning import OBJECTIVES
from riskmap.service import DomainError, build_plan
from riskmap.service.plans import STORED_AS_HELP
from riskmap.ui import registry, state, views
from riskmap.ui.pages._shared import open_cycle_page, read
from riskmap.ui.plan_actions import ACTION_FIELDS, actions_section
from riskmap.ui.widgets import escape_md, table

ROLES = registry.roles_of("plan")  # the registry is the one list
KEY = "plan-"
BOX_PX = 640
_CONFIG = {"displaylogo": False}
_num = st.column_config.NumberColumn
PLAN_COLUMNS = {
    **ACTION_FIELDS,
    "unit": st.column_config.TextColumn("Unit name", width="small"),
    "control": st.column_config.TextColumn("Control", width="medium"),
    "cumulative_days": _num("Cumulative days", format="%.0f"),
    "band": "Band (worst residual)",
    "stored_as": st.column_config.TextColumn("Storing", help=STORED_AS_HELP),
    "owner_role": "Owner",
}


def render() -> None:
    opened = open_cycle_page(ROLES, "Remediation plan", "get_cycle", "actions")
    if opened is None:
        return
    cycle, cat, (info, acts) = opened
    officer = state.can("update_action")
    status = str(info["status"])
    st.caption(
        f"Cycle {escape_md(cycle)} ({vocabulary.cycle_status_label(status)}). "
        + (
            "As integrity officer you store the plan and keep its actions up to date; every "
            "change is recorded in the audit trail."
            if officer
            else "Try budgets to see what they buy; the integrity officer stores the plan and "
            "keeps the actions up to date."
        )
    )
    tab_budget, tab_actions, tab_timeline = st.tabs(
        ["Plan for a budget", f"Actions of the cycle ({len(acts)})", "Timeline"]
    )
    with tab_budget:
        _budget(cycle, status, officer, cat)
    with tab_actions:
        actions_section(cycle, acts, status, officer, cat, key=KEY)
    with tab_timeline:
        _timeline(acts)


# --------------------------------------------------------------------------- budget


def _budget(cycle: str, status: str, officer: bool, cat: Catalogue) -> None:
    currency = cat.method.cost_classes.currency
    can_store = officer and status == vocabulary.CycleStatus.DRAFT
    with st.form(f"{KEY}budget-form"):
        c1, c2, c3 = st.columns(3)
        days = c1.number_input(
            "Budget in person-days",
            min_value=0.0,
            value=100.0,
            step=10.0,
            key=f"{KEY}days",
            help="Staff time the ministry can give to remediation in this plan.",
        )
        money = c2.number_input(
            f"Budget in {currency} (0: no money limit)",
            min_value=0.0,
            value=0.0,
            step=1000.0,
            key=f"{KEY}money",
        )
        start = c3.date_input("Plan starts on", value=date.today(), key=f"{KEY}start")
        objective = st.radio(
            "The plan aims at",
            list(OBJECTIVES),
            format_func=OBJECTIVES.get,
            horizontal=True,
            key=f"{KEY}objective",
            help="Most residual removed: the actions that remove the most risk per person-day. "
            "Fewest critical and high cells: risk removed from a critical cell counts 100 "
            "times, from a high cell 10 times, so critical cells are treated first.",
        )
        b1, b2 = st.columns([1, 3])
        show = b1.form_submit_button("Show the plan", type="primary")
        store = False
        if officer:
            store = b2.form_submit_button(
                "Store this plan as the cycle's actions",
                disabled=not can_store,
                help="Adds the chosen actions to the cycle. Generated actions nobody has "
                "touched are replaced; carried, edited and hand-made ones are kept."
                if can_store
                else f"The cycle is {vocabulary.cycle_status_label(status)}: "
                "plans are stored in a draft.",
            )
    if show or store:
        st.session_state[f"{KEY}budget"] = (float(days), float(money) or None, start, objective)
    if store:
        try:
            result = state.write(
                build_plan,
                cycle,
                budget_days=float(days),
                budget_money=float(money) or None,
                start=start,
                objective=objective,
            )
        except DomainError as exc:
            state.show_error(exc)
        else:
            # Run again so that the action list and its count show what was stored.
            st.session_state[f"{KEY}stored"] = result.report() + " See Actions of the cycle."
            st.rerun()
    stored = st.session_state.pop(f"{KEY}stored", None)
    if stored:
        st.success(stored)
    budget = st.session_state.get(f"{KEY}budget")
    if not budget:
        st.info("Set a budget and press Show the plan.")
        return
    budget_days, budget_money, start, objective = budget
    try:
        plan = read(
            "preview_plan",
            cycle,
            budget_days=budget_days,
            budget_money=budget_money,
            start=start,
            objective=objective,
        )
    except DomainError as exc:
        state.show_error(exc)
        return
    _plan_result(plan, budget_days, budget_money, start, cat)


def _plan_result(
    plan: Any, budget_days: float, budget_money: float | None, start: date, cat: Catalogue
) -> None:
    s = plan.summary
    currency = cat.method.cost_classes.currency
    before, after = s["residual_before"], s["residual_after"]
    figures = [
        ("Actions chosen", f"{int(s['selected'])}", f"of {int(s['ranked'])} ranked candidates"),
        ("Effort", f"{s['effort_days']:,.0f} days", f"budget {budget_days:,.0f} person-days"),
        (
            f"Cost ({currency})",
            f"{s['cost']:,.0f}",
            f"budget {budget_money:,.0f} {currency}" if budget_money else "no money limit",
        ),
        ("Residual removed", f"{s['residual_removed']:,.1f}", "sum over every unit x risk"),
        (
            "Total residual",
            f"{after:,.1f}",
            f"from {before:,.1f} now ({(after - before) / before:+.1%})" if before else None,
        ),
    ]
    for column, (label, value, help_) in zip(st.columns(len(figures)), figures, strict=True):
        column.metric(label, value, help=help_)
    bands = cat.method.bands
    st.caption(
        "Cells per band now → after the plan: "
        + ", ".join(
            f"{b.name} {s[f'{b.id}_before']} → {s[f'{b.id}_after']}" for b in reversed(bands)
        )
        + "."
    )
    if s.get("best_possible_at_most") is not None:
        st.caption(
            "How good is this plan? It takes, step by step, the action that removes the most "
            "risk per person-day, then any smaller action that still fits. No plan within "
            f"{budget_days:,.0f} person-days could remove more than "
            f"{s['best_possible_at_most']:,.1f} (this plan removes {s['residual_removed']:,.1f})."
        )
    chosen = views.plan_table(plan.actions, cat)
    table(chosen, column_config=PLAN_COLUMNS)
    if chosen.empty:
        st.info("The budget buys no action: raise it.")
        return

    st.subheader("Now and after the plan")
    st.caption(
        "Residual risk of the units the plan touches, now (above) and once its actions are "
        "carried out (below), on the same rows and columns. Bands: " + views.band_legend(cat) + "."
    )
    touched = set(plan.actions["unit_code"])
    only = st.toggle("Only the units the plan touches", value=True, key=f"{KEY}only-touched")
    before_reg = plan.register_before
    if only:
        before_reg = before_reg[before_reg["unit_code"].isin(touched)]
    rows, cols = heatmap_order(before_reg, cat)
    now_fig = heatmap(
        before_reg, cat, "residual", title="Residual risk now", row_order=rows, col_order=cols
    )
    after_fig = heatmap_after(plan, cat, rows, cols, title="Residual risk after the plan")
    # One above the other, each at its own full width: the same rows and columns, cells
    # big enough for their scores (side by side, each would get half the width).
    for fig, key in ((now_fig, "now"), (after_fig, "after")):
        box = st.container(height=BOX_PX) if len(rows) > 30 else st.container()
        with box:
            st.plotly_chart(
                fig,
                width="content",
                key=f"{KEY}{key}",
                config=image_config(f"riskmap-plan-{key}"),
            )
    st.plotly_chart(
        gantt(
            plan.actions.drop(columns="unit"),  # unit codes keep the bar labels short
            date.today(),
            start=start,
            title="Timeline of the plan: actions by owner",
        ),
        width="stretch",
        key=f"{KEY}plan-gantt",
        config=_CONFIG,
    )


# --------------------------------------------------------------------------- timeline


def _timeline(acts: pd.DataFrame) -> None:
    st.caption(
        "Every action of the cycle from the plan's start to its due date, grouped by owner and "
        "coloured by status; overdue ones are hatched with a red outline, the dotted line is "
        "today."
    )
    if acts.empty:
        st.info("No action in this cycle yet.")
        return
    owners = sorted({o for o in acts["owner"].fillna("") if o})
    chosen = st.multiselect("Owners", owners, key=f"{KEY}gantt-owners", placeholder="Every owner")
    shown = acts[acts["owner"].isin(chosen)] if chosen else acts
    fig = gantt(shown.drop(columns="unit"), date.today())  # unit codes: shorter labels
    box = st.container(height=BOX_PX + 200) if len(shown) > 40 else st.container()
    with box:
        st.plotly_chart(fig, width="stretch", key=f"{KEY}gantt", config=_CONFIG)
