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
from riskmap.service import DomainError, add_action, build_plan, update_action
from riskmap.service.plans import STORED_AS_HELP
from riskmap.ui import registry, state, views
from riskmap.ui.pages._shared import catalogue, read
from riskmap.ui.widgets import escape_md

ROLES = registry.roles_of("plan")  # the registry is the one list
KEY = "plan-"
STATUSES = vocabulary.ACTION_STATUSES
BOX_PX = 640
_CONFIG = {"displaylogo": False}
_num = st.column_config.NumberColumn
PLAN_COLUMNS = {
    "priority": _num("Rank", format="%d"),
    "unit_id": "Unit",
    "unit": st.column_config.TextColumn("Unit name", width="small"),
    "control": st.column_config.TextColumn("Control", width="medium"),
    "from_level": _num("From", format="%d"),
    "to_level": _num("To", format="%d"),
    "reduction": _num("Removed", format="%.2f", help="Residual risk the action removes"),
    "effort_days": _num("Days", format="%.0f"),
    "cost": _num("Cost", format="%.0f"),
    "cumulative_days": _num("Cumulative days", format="%.0f"),
    "band": "Band (worst residual)",
    "due_date": st.column_config.DateColumn("Due"),
    "overdue": "Overdue",
    "stored_as": st.column_config.TextColumn("Storing", help=STORED_AS_HELP),
    "owner_role": "Owner",
}
ACTION_COLUMNS = {
    "id": _num("#", format="%d"),
    "overdue": "Overdue",
    "priority": _num("Rank", format="%d"),
    "unit_id": "Unit",
    "unit": st.column_config.TextColumn("Unit name", width="medium"),
    "control": st.column_config.TextColumn("Control", width="large"),
    "from_level": _num("From", format="%d"),
    "to_level": _num("To", format="%d"),
    "reduction": _num("Residual removed", format="%.2f"),
    "effort_days": _num("Effort (days)", format="%.0f"),
    "cost": _num("Cost", format="%.0f"),
    "due_date": st.column_config.DateColumn("Due"),
    "owner": "Owner",
    "status": "Status",
    "notes": st.column_config.TextColumn("Notes", width="medium"),
    "manual": st.column_config.CheckboxColumn("Added by hand"),
}


def render() -> None:
    state.require(*ROLES)
    cycle = state.require_cycle()
    cat = catalogue()
    st.title("Remediation plan")
    try:
        info = read("get_cycle", cycle)
        acts = read("actions", cycle)
    except DomainError as exc:
        state.show_error(exc)
        return
    officer = state.can("update_action")
    status = str(info["status"])
    st.caption(
        f"Cycle {escape_md(cycle)} ({status.replace('_', ' ')}). "
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
        _actions(cycle, acts, status, officer, cat)
    with tab_timeline:
        _timeline(acts)


# --------------------------------------------------------------------------- budget


def _budget(cycle: str, status: str, officer: bool, cat: Catalogue) -> None:
    currency = cat.method.cost_classes.currency
    can_store = officer and status == "draft"
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
                else f"The cycle is {status.replace('_', ' ')}: plans are stored in a draft.",
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
        ("Residual removed", f"{s['reduction']:,.1f}", "sum over every unit x risk"),
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
            f"{s['best_possible_at_most']:,.1f} (this plan removes {s['reduction']:,.1f})."
        )
    table = views.plan_table(plan.actions, cat)
    st.dataframe(table, hide_index=True, width="stretch", column_config=PLAN_COLUMNS)
    if table.empty:
        st.info("The budget buys no action: raise it.")
        return

    st.subheader("Now and after the plan")
    st.caption(
        "Residual risk of the units the plan touches, now (above) and once its actions are "
        "carried out (below), on the same rows and columns. Bands: " + views.band_legend(cat) + "."
    )
    touched = set(plan.actions["unit_id"])
    only = st.toggle("Only the units the plan touches", value=True, key=f"{KEY}only-touched")
    before_reg = plan.register_before
    if only:
        before_reg = before_reg[before_reg["unit_id"].isin(touched)]
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


# --------------------------------------------------------------------------- actions


def _actions(cycle: str, acts: pd.DataFrame, status: str, officer: bool, cat: Catalogue) -> None:
    today = date.today()
    table = views.actions_table(acts, today)
    n_over = int((table["overdue"] != "").sum()) if len(table) else 0
    open_ = int((~acts["status"].isin(vocabulary.CLOSED_ACTION_STATUSES)).sum()) if len(acts) else 0
    done = int((acts["status"] == "done").sum()) if len(acts) else 0
    for column, (label, value) in zip(
        st.columns(4),
        [("Actions", len(acts)), ("Open", open_), ("Overdue", n_over), ("Done", done)],
        strict=True,
    ):
        column.metric(label, f"{value:,}")
    if n_over:
        st.warning(
            f"{n_over} open action(s) are past their due date (marked ⚠ in the table).",
            icon=":material/schedule:",
        )
    c1, c2, c3 = st.columns([2, 1, 2])
    wanted = c1.multiselect(
        "Status",
        STATUSES,
        format_func=lambda s: s.replace("_", " "),
        key=f"{KEY}status-filter",
        placeholder="Every status",
    )
    late_only = c2.toggle("Overdue only", key=f"{KEY}late-only")
    owner = c3.text_input("Owner or unit contains", key=f"{KEY}who")
    shown = table
    if wanted:
        shown = shown[shown["status"].isin([w.replace("_", " ") for w in wanted])]
    if late_only:
        shown = shown[shown["overdue"] != ""]
    if owner.strip():
        needle = owner.strip().lower()
        hay = shown["owner"].str.lower() + " " + shown["unit_id"].str.lower()
        hay = hay + " " + shown["unit"].str.lower()
        shown = shown[hay.str.contains(needle, regex=False)]
    st.dataframe(shown, hide_index=True, width="stretch", column_config=ACTION_COLUMNS)

    if not officer:
        return
    if status == "locked":
        st.info(f"Cycle {escape_md(cycle)} is locked: its actions can no longer change.")
        return
    with st.expander("Edit an action", expanded=False, icon=":material/edit:"):
        _edit(acts)
    with st.expander("Add an action by hand", expanded=False, icon=":material/add:"):
        _add(cycle, cat)


def _edit(acts: pd.DataFrame) -> None:
    if acts.empty:
        st.caption("No action in this cycle yet.")
        return
    rows = {int(r["id"]): r for r in acts.to_dict("records")}
    action_id = st.selectbox(
        "Action",
        list(rows),
        format_func=lambda i: views.action_label(rows[i]),
        key=f"{KEY}edit-id",
    )
    row = rows[int(action_id)]
    version = int(row["version"])
    tag = f"{action_id}-{version}"
    due = row["due_date"] if isinstance(row["due_date"], date) else None
    with st.form(f"{KEY}edit-form-{tag}"):
        c1, c2, c3 = st.columns(3)
        owner = c1.text_input("Owner", value=row["owner"] or "", key=f"{KEY}owner-{tag}")
        due_date = c2.date_input("Due date", value=due, key=f"{KEY}due-{tag}")
        status = c3.selectbox(
            "Status",
            STATUSES,
            index=STATUSES.index(row["status"]) if row["status"] in STATUSES else 0,
            format_func=lambda s: s.replace("_", " "),
            key=f"{KEY}status-{tag}",
        )
        notes = st.text_area("Notes", value=row["notes"] or "", key=f"{KEY}notes-{tag}")
        reason = st.text_input("Why (kept in the audit trail)", key=f"{KEY}reason-{tag}")
        saved = st.form_submit_button("Save the action", type="primary")
    if saved:
        try:
            state.write(
                update_action,
                int(action_id),
                expected_version=version,
                owner=owner,
                due_date=due_date,
                status=status,
                notes=notes,
                reason=reason,
            )
        except DomainError as exc:
            state.show_error(exc, key=f"{KEY}edit", forget_keys=(f"{KEY}edit",))
        else:
            st.session_state[f"{KEY}flash"] = f"Action #{action_id} saved."
            st.rerun()
    flash = st.session_state.pop(f"{KEY}flash", None)
    if flash:
        st.success(flash)


def _add(cycle: str, cat: Catalogue) -> None:
    try:
        units = read("list_units")
    except DomainError as exc:
        state.show_error(exc)
        return
    if units.empty:
        st.caption("No unit to add an action for.")
        return
    names = dict(zip(units["code"], units["name"], strict=True))
    types = dict(zip(units["code"], units["unit_type"], strict=True))
    unit = st.selectbox(
        "Unit", list(names), format_func=lambda c: f"{names[c]} ({c})", key=f"{KEY}add-unit"
    )
    controls = {c.id: c.name for c in cat.controls_for(types[unit])}
    if not controls:
        st.caption("The catalogue has no control for this unit's type.")
        return
    levels = cat.method.maturity.levels
    with st.form(f"{KEY}add-form"):
        control = st.selectbox(
            "Control", list(controls), format_func=controls.get, key=f"{KEY}add-control"
        )
        c1, c2, c3 = st.columns(3)
        to_level = c1.selectbox(
            "Raise to maturity",
            sorted(levels)[1:],
            index=len(levels) - 2,
            format_func=lambda k: f"{k} {levels[k].name}",
            key=f"{KEY}add-level",
        )
        owner = c2.text_input("Owner (blank: the control's owner)", key=f"{KEY}add-owner")
        due = c3.date_input("Due date", value=None, key=f"{KEY}add-due")
        notes = st.text_area("Notes", key=f"{KEY}add-notes")
        added = st.form_submit_button("Add the action", type="primary")
    if added:
        try:
            row = state.write(
                add_action,
                cycle,
                unit,
                control,
                to_level=int(to_level),
                owner=owner,
                due_date=due,
                notes=notes,
            )
        except DomainError as exc:
            state.show_error(exc)
        else:
            st.session_state[f"{KEY}added"] = (
                f"Action #{row['id']} added: {escape_md(controls[control])} in "
                f"{escape_md(names[unit])}."
            )
            st.rerun()
    added_note = st.session_state.pop(f"{KEY}added", None)
    if added_note:
        st.success(added_note)


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
