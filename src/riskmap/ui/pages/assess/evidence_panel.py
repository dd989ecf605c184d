"""The evidence of one control rating: its checklist with a tick per entry answered, the
items with their status, download for every reader, and (for an officer in a draft
cycle) the upload and reference form.

Everything is read and written through `riskmap.service.evidence`: the upload is checked
there by content and size before a byte is stored, and every name and reference a user
typed is shown escaped. A file's bytes are read (and the download audited) only when a
reader asks for that file, not on every rerun.
"""

from __future__ import annotations

import streamlit as st

from riskmap.service import DomainError, add_evidence
from riskmap.ui import state
from riskmap.ui.widgets import escape_md

ss = st.session_state
STATUS_MARK = {"valid": "valid", "expiring": "expiring within 60 days", "expired": "EXPIRED"}


def render(cycle: str, code: str, control, editable: bool) -> None:
    items = state.read("evidence_items", cycle, code)
    mine = items[items["control_id"] == control.id]
    key = f"ev|{cycle}|{code}|{control.id}|"
    with st.container(border=True, key=f"evidence-{cycle}-{code}-{control.id}"):
        st.markdown("#### Evidence")
        answered = set(mine.loc[mine["status"] != "expired", "checklist_entry"])
        for entry in control.evidence:
            tick = "✓" if entry in answered else "○"
            st.markdown(f"{tick} {escape_md(entry)}")
        if mine.empty:
            st.caption("No evidence item yet.")
        for row in mine.itertuples():
            _item(row, key)
        if editable:
            _form(cycle, code, control, key)


def _item(row, key: str) -> None:
    shown = row.file_name if row.kind == "file" else row.reference
    until = f", valid until {row.valid_until}" if row.valid_until else ""
    st.markdown(
        f"- **{escape_md(str(shown))}** ({row.kind}; {STATUS_MARK[row.status]}{until}), "
        f"answers: {escape_md(str(row.checklist_entry))}; added by "
        f"{escape_md(str(row.added_by))}"
        + (f"; SHA-256 `{row.sha256}`" if row.kind == "file" else "")
    )
    if row.kind != "file":
        return
    wanted = f"{key}open-{row.id}"
    if not ss.get(wanted):
        st.button("Prepare download", key=f"{key}prep-{row.id}", on_click=_want, args=(wanted,))
        return
    try:
        name, media_type, data = state.call("evidence_file", int(row.id))
    except DomainError as exc:
        state.show_error(exc, key=f"{key}err-{row.id}")
        return
    st.download_button(
        f"Download {name}", data, file_name=name, mime=media_type, key=f"{key}dl-{row.id}"
    )


def _want(flag: str) -> None:
    ss[flag] = True


def _form(cycle: str, code: str, control, key: str) -> None:
    with st.form(key=f"{key}form", clear_on_submit=True):
        st.markdown("**Add evidence**")
        entry = st.selectbox(
            "Checklist entry it answers",
            list(range(1, len(control.evidence) + 1)),
            format_func=lambda i: control.evidence[i - 1],
            key=f"{key}entry",
        )
        upload = st.file_uploader(
            "A file (PDF, image, office document, e-mail export)", key=f"{key}file"
        )
        reference = st.text_input(
            "Or a reference, when the file cannot leave its registry (document number, "
            "register and location)",
            key=f"{key}ref",
        )
        until = st.date_input("Valid until (optional)", value=None, key=f"{key}until")
        if not st.form_submit_button("Add evidence"):
            return
    try:
        item = state.write(
            add_evidence, cycle, code, control_id=control.id, checklist_entry=int(entry),
            data=upload.getvalue() if upload is not None else None,
            file_name=upload.name if upload is not None else "",
            reference=reference, valid_until=until,
        )  # fmt: skip
    except DomainError as exc:
        state.show_error(exc, key=f"{key}add-err")
        return
    shown = item["file_name"] or item["reference"]
    state.flash(f"Added evidence {shown} to control {control.id} of unit {code}.")
    st.rerun()
