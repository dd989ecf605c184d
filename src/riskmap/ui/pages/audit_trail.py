"""Audit trail: every recorded change (who, when, what changed, why), newest first, checked.

Each event reads as the fields it changed, `field: before → after`
(`riskmap.ui.audit_changes`), with its reason; the raw JSON is one expander away.

For auditors and administrators. The chain check (`service.verify_audit`) recomputes every
event's hash and its link to the event before; the list can be filtered by cycle, actor,
kind of change, record, text and dates, and downloaded as CSV (cells a spreadsheet would
run as formulas are prefixed with a quote).
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from riskmap.service import DomainError, verify_audit
from riskmap.ui import registry, state, views
from riskmap.ui.audit_anchor import render_anchor, render_checkpoint
from riskmap.ui.audit_changes import changes_view
from riskmap.ui.pages._shared import read
from riskmap.ui.widgets import escape_md, table

ROLES = registry.roles_of("audit_trail")  # the registry is the one list
KEY = "audit-"


def render() -> None:
    state.require(*ROLES)
    st.title("Audit trail")
    try:
        events = read("audit_trail")
        if st.session_state.pop(f"{KEY}recheck", False):
            # Fresh, not cached: a change behind the application's back adds no event, so
            # it does not move the data version the cached check is keyed on.
            check = verify_audit(state.service(), state.actor())
        else:
            check = read("verify_audit")
    except DomainError as exc:
        state.show_error(exc)
        return
    if check.ok:
        st.success(
            f"Chain verified: {check.checked:,} events, each matching its hash and linked to "
            "the one before. Nothing was changed or removed behind the application's back.",
            icon=":material/verified:",
        )
    else:
        where = f" at event #{check.first_broken_id}" if check.first_broken_id else ""
        st.error(
            escape_md(f"Chain broken{where}: {check.message}"),
            icon=":material/gpp_bad:",
        )
    st.button(
        "Check the chain again now",
        key=f"{KEY}recheck-button",
        icon=":material/refresh:",
        on_click=lambda: st.session_state.__setitem__(f"{KEY}recheck", True),
        help="The check above is kept until the next recorded change; this runs it again.",
    )
    render_anchor()  # the trail's head and last checkpoint (riskmap.ui.audit_anchor)
    render_checkpoint()  # take one and download it

    labels = views.cycle_labels(events)
    by_label = {v: k for k, v in labels.items()}
    c1, c2, c3, c4 = st.columns(4)
    cycles = c1.multiselect("Cycle", list(by_label), key=f"{KEY}cycles", placeholder="Every cycle")
    actors = c2.multiselect(
        "Who", sorted(set(events["actor"])), key=f"{KEY}actors", placeholder="Everyone"
    )
    actions = c3.multiselect(
        "What", sorted(set(events["action"])), key=f"{KEY}actions", placeholder="Every change"
    )
    entities = c4.multiselect(
        "Record", sorted(set(events["entity"])), key=f"{KEY}entities", placeholder="Every kind"
    )
    d1, d2, d3 = st.columns([2, 1, 1])
    text = d1.text_input(
        "Contains", key=f"{KEY}text", placeholder="a unit code, a word of a reason"
    )
    since = d2.date_input("From", value=None, key=f"{KEY}since")
    until = d3.date_input("To", value=None, key=f"{KEY}until")

    shown = views.filter_events(
        events,
        cycle_ids=[by_label[c] for c in cycles],
        actions=actions,
        actors=actors,
        entities=entities,
        text=text,
        since=since,
        until=until,
    )
    st.caption(
        f"{len(shown):,} of {len(events):,} events, newest first. Each shows the fields it "
        "changed (field: before → after) and why; the raw record is below."
    )
    table(
        changes_view(shown, labels),
        row_height=60,
        column_config={
            "id": st.column_config.NumberColumn("#", format="%d"),
            "at": "When (UTC)",
            "actor": "Who",
            "action": "What",
            "record": "Record",
            "changes": st.column_config.TextColumn("Changes", width="large"),
            "reason": st.column_config.TextColumn("Why", width="medium"),
        },
    )
    _raw(shown)
    st.download_button(
        "Download these events as CSV",
        views.audit_csv(shown, labels),
        file_name=f"riskmap-audit-trail-{date.today().isoformat()}.csv",
        mime="text/csv",
        key=f"{KEY}csv",
        icon=":material/download:",
    )


def _raw(shown) -> None:
    """One event's record before and after, as stored (JSON), on demand."""
    with st.expander("Raw JSON of an event"):
        ids = [int(i) for i in shown["id"].sort_values(ascending=False)]
        if not ids:
            st.caption("No event passes the filters.")
            return
        picked = st.selectbox("Event #", ids, key=f"{KEY}raw-id")
        event = shown[shown["id"] == picked].iloc[0]
        left, right = st.columns(2)
        left.caption("Before")
        left.json(event["before"] if event["before"] is not None else {}, expanded=True)
        right.caption("After")
        right.json(event["after"] if event["after"] is not None else {}, expanded=True)
