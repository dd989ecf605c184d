"""The cycle's stored actions on the Remediation plan page: figures, table, edit, add.

Its own module because it is the part of the page that changes stored actions (through
`service.update_action` and `service.add_action`, which check the role and the cycle
again); the budget's what-if and the timeline stay on the page.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from riskmap import vocabulary
from riskmap.catalogue import Catalogue
from riskmap.service import DomainError, add_action, update_action
from riskmap.ui import state, views
from riskmap.ui.pages._shared import read
from riskmap.ui.widgets import escape_md, table

STATUSES = vocabulary.ACTION_STATUSES
_num = st.column_config.NumberColumn
# How an action's columns read wherever actions are listed: the plan a budget buys, the
# cycle's stored actions, a unit's profile (a table shows the ones it has).
ACTION_FIELDS = {
    "id": _num("#", format="%d"),
    "overdue": "Overdue",
    "priority": _num("Rank", format="%d"),
    "unit_code": "Unit",
    "from_level": _num("From", format="%d"),
    "to_level": _num("To", format="%d"),
    "residual_removed": _num(
        "Residual removed", format="%.2f", help="Residual risk the action removes"
    ),
    "effort_days": _num("Effort (days)", format="%.0f"),
    "cost": _num("Cost", format="%.0f"),
    "due_date": st.column_config.DateColumn("Due"),
}
ACTION_COLUMNS = {
    **ACTION_FIELDS,
    "unit": st.column_config.TextColumn("Unit name", width="medium"),
    "control": st.column_config.TextColumn("Control", width="large"),
    "owner": "Owner",
    "status": "Status",
    "notes": st.column_config.TextColumn("Notes", width="medium"),
    "manual": st.column_config.CheckboxColumn("Added by hand"),
}


def actions_section(
    cycle: str, acts: pd.DataFrame, status: str, officer: bool, cat: Catalogue, *, key: str
) -> None:
    """The cycle's actions: figures, the table filtered by status, lateness and owner, and
    for an officer (while the cycle is not locked) the edit and add forms. `key` is the
    page's widget-key prefix."""
    today = date.today()
    listed = views.actions_table(acts, today)
    n_over = int((listed["overdue"] != "").sum()) if len(listed) else 0
    open_ = int((~acts["status"].isin(vocabulary.CLOSED_ACTION_STATUSES)).sum()) if len(acts) else 0
    done = int((acts["status"] == vocabulary.ActionStatus.DONE).sum()) if len(acts) else 0
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
        format_func=vocabulary.action_status_label,
        key=f"{key}status-filter",
        placeholder="Every status",
    )
    late_only = c2.toggle("Overdue only", key=f"{key}late-only")
    owner = c3.text_input("Owner or unit contains", key=f"{key}who")
    shown = listed
    if wanted:
        shown = shown[shown["status"].isin([vocabulary.action_status_label(w) for w in wanted])]
    if late_only:
        shown = shown[shown["overdue"] != ""]
    if owner.strip():
        needle = owner.strip().lower()
        hay = shown["owner"].str.lower() + " " + shown["unit_code"].str.lower()
        hay = hay + " " + shown["unit"].str.lower()
        shown = shown[hay.str.contains(needle, regex=False)]
    table(shown, column_config=ACTION_COLUMNS)

    if not officer:
        return
    if status == vocabulary.CycleStatus.LOCKED:
        st.info(f"Cycle {escape_md(cycle)} is locked: its actions can no longer change.")
        return
    with st.expander("Edit an action", expanded=False, icon=":material/edit:"):
        _edit(acts, key)
    with st.expander("Add an action by hand", expanded=False, icon=":material/add:"):
        _add(cycle, cat, key)


def _edit(acts: pd.DataFrame, key: str) -> None:
    """Edit one action (owner, due date, status, notes) at the version it was opened at."""
    if acts.empty:
        st.caption("No action in this cycle yet.")
        return
    rows = {int(r["id"]): r for r in acts.to_dict("records")}
    action_id = st.selectbox(
        "Action",
        list(rows),
        format_func=lambda i: views.action_label(rows[i]),
        key=f"{key}edit-id",
    )
    row = rows[int(action_id)]
    version = int(row["version"])
    tag = f"{action_id}-{version}"
    due = row["due_date"] if isinstance(row["due_date"], date) else None
    with st.form(f"{key}edit-form-{tag}"):
        c1, c2, c3 = st.columns(3)
        owner = c1.text_input("Owner", value=row["owner"] or "", key=f"{key}owner-{tag}")
        due_date = c2.date_input("Due date", value=due, key=f"{key}due-{tag}")
        status = c3.selectbox(
            "Status",
            STATUSES,
            index=STATUSES.index(row["status"]) if row["status"] in STATUSES else 0,
            format_func=vocabulary.action_status_label,
            key=f"{key}status-{tag}",
        )
        notes = st.text_area("Notes", value=row["notes"] or "", key=f"{key}notes-{tag}")
        reason = st.text_input("Why (kept in the audit trail)", key=f"{key}reason-{tag}")
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
            state.show_error(exc, key=f"{key}edit", forget_keys=(f"{key}edit",))
        else:
            st.session_state[f"{key}flash"] = f"Action #{action_id} saved."
            st.rerun()
    flash = st.session_state.pop(f"{key}flash", None)
    if flash:
        st.success(flash)


def _add(cycle: str, cat: Catalogue, key: str) -> None:
    """Add an action by hand: a control of the unit's type raised to a maturity level."""
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
        "Unit", list(names), format_func=lambda c: f"{names[c]} ({c})", key=f"{key}add-unit"
    )
    controls = {c.id: c.name for c in cat.controls_for(types[unit])}
    if not controls:
        st.caption("The catalogue has no control for this unit's type.")
        return
    levels = cat.method.maturity.levels
    with st.form(f"{key}add-form"):
        control = st.selectbox(
            "Control", list(controls), format_func=controls.get, key=f"{key}add-control"
        )
        c1, c2, c3 = st.columns(3)
        to_level = c1.selectbox(
            "Raise to maturity",
            sorted(levels)[1:],
            index=len(levels) - 2,
            format_func=lambda k: f"{k} {levels[k].name}",
            key=f"{key}add-level",
        )
        owner = c2.text_input("Owner (blank: the control's owner)", key=f"{key}add-owner")
        due = c3.date_input("Due date", value=None, key=f"{key}add-due")
        notes = st.text_area("Notes", key=f"{key}add-notes")
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
            st.session_state[f"{key}added"] = (
                f"Action #{row['id']} added: {escape_md(controls[control])} in "
                f"{escape_md(names[unit])}."
            )
            st.rerun()
    added_note = st.session_state.pop(f"{key}added", None)
    if added_note:
        st.success(added_note)
