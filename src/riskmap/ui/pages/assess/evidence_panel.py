"""The evidence of one rating: a control's (its checklist with a tick per entry answered)
or a risk's (what supports a likelihood or impact that departs from its starting point).
The items are listed with their status, superseded ones with their successor, download for
every reader, and (for an officer in a draft cycle) the upload and reference form and a
supersede form on each current item.

Everything is read and written through `riskmap.service.evidence`: the upload is checked
there by content and size before a byte is stored, an item is never changed (a correction
supersedes it), and every name and reference a user typed is shown escaped. A file's bytes
are read (and the download audited) only when a reader asks for that file, not on every
rerun.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from riskmap.evidence_files import FileRefused, max_bytes
from riskmap.service import DomainError, add_evidence, supersede_evidence
from riskmap.ui import state
from riskmap.ui.widgets import escape_md

ss = st.session_state
STATUS_MARK = {"valid": "valid", "expiring": "expiring within 60 days", "expired": "EXPIRED"}


@dataclass(frozen=True)
class Rated:
    """What the items show: a control rating (with its catalogue checklist) or a risk's."""

    kind: str  # "control" | "risk"
    id: str
    checklist: tuple[str, ...] = ()

    @property
    def column(self) -> str:
        return f"{self.kind}_id"

    def key(self, cycle: str, code: str) -> str:
        """The prefix of the panel's widget keys (a control's keeps its earlier form)."""
        named = self.id if self.kind == "control" else f"risk:{self.id}"
        return f"ev|{cycle}|{code}|{named}|"


def item_line(row) -> str:
    """An item as the panel shows it (markdown, user text escaped): what it is, its status
    (or its successor), the entry it answers, who added it when, its hash."""
    shown = row.file_name if row.kind == "file" else row.reference
    if not pd.isna(row.superseded_by):
        state_text = f"superseded by item {int(row.superseded_by)}"
    else:
        until = f", valid until {row.valid_until}" if row.valid_until else ""
        state_text = STATUS_MARK[row.status] + until
    at = pd.Timestamp(row.added_at)
    at = at.tz_localize("UTC") if at.tzinfo is None else at.tz_convert("UTC")
    entry = f"answers: {escape_md(str(row.checklist_entry))}; " if row.checklist_entry else ""
    return (
        f"Item {int(row.id)}: **{escape_md(str(shown))}** ({row.kind}; {state_text}), {entry}"
        f"added by {escape_md(str(row.added_by))} at {at:%Y-%m-%d %H:%M} UTC"
        + (f"; SHA-256 `{row.sha256}`" if row.kind == "file" else "")
    )


def render(cycle: str, code: str, control, editable: bool) -> None:
    """The evidence of a control rating."""
    _panel(cycle, code, Rated("control", control.id, tuple(control.evidence)), editable)


def render_risk(cycle: str, code: str, risk_id: str, editable: bool, departs: bool) -> None:
    """The evidence of a risk rating, for its justification (`departs`: the saved rating
    differs from its starting point, so the justification is required)."""
    _panel(cycle, code, Rated("risk", risk_id), editable, departs=departs)


def _panel(cycle: str, code: str, rated: Rated, editable: bool, departs: bool = False) -> None:
    items = state.read("evidence_items", cycle, code, include_superseded=True)
    mine = items[items[rated.column] == rated.id]
    current = mine[mine["superseded_by"].isna()]
    key = rated.key(cycle, code)
    with st.container(border=True, key=f"evidence-{cycle}-{code}-{rated.kind}-{rated.id}"):
        if rated.kind == "control":
            st.markdown("#### Evidence")
            answered = set(current.loc[current["status"] != "expired", "checklist_entry"])
            for entry in rated.checklist:
                tick = "✓" if entry in answered else "○"
                st.markdown(f"{tick} {escape_md(entry)}")
        else:
            st.markdown("#### Evidence for the justification")
            st.caption(
                "This rating departs from its starting point: show what supports it."
                if departs
                else "Files or references that support the likelihood and impact rated."
            )
        if mine.empty:
            st.caption("No evidence item yet.")
        for row in mine.itertuples():
            _item(row, key)
            if editable and pd.isna(row.superseded_by):
                _supersede_form(row, rated, key)
        if editable:
            _add_form(cycle, code, rated, key)


def _item(row, key: str) -> None:
    st.markdown(f"- {item_line(row)}")
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


def _entry_input(rated: Rated, key: str, label: str, current: str | None = None):
    """The checklist entry (a control's, by number) or what a risk's item shows (text)."""
    if rated.kind == "risk":
        return st.text_input(
            "What it shows (e.g. the incident report, the 2025 survey)",
            value=current or "",
            key=f"{key}entry",
        )
    numbers = list(range(1, len(rated.checklist) + 1))
    at = rated.checklist.index(current) if current in rated.checklist else 0
    return st.selectbox(
        label,
        numbers,
        index=at,
        format_func=lambda i: rated.checklist[i - 1],
        key=f"{key}entry",
    )


def _upload_limit_mb() -> int | None:
    """The evidence size setting (`$RISKMAP_EVIDENCE_MAX_BYTES`) as the uploader's limit,
    in whole megabytes rounded up, instead of the dashboard's 20 MB for other uploads: one
    limit, the service's, which refuses anything over it to the byte."""
    try:
        return max(1, math.ceil(max_bytes() / (1024 * 1024)))
    except FileRefused:  # a broken setting: the service says so at the upload
        return None


def _content_inputs(key: str):
    upload = st.file_uploader(
        "A file (PDF, image, office document, e-mail export)",
        key=f"{key}file",
        max_upload_size=_upload_limit_mb(),
    )
    reference = st.text_input(
        "Or a reference, when the file cannot leave its registry (document number, "
        "register and location)",
        key=f"{key}ref",
    )
    until = st.date_input("Valid until (optional)", value=None, key=f"{key}until")
    return upload, reference, until


def _item_args(rated: Rated, entry, content) -> dict:
    """What a new item holds, as `add_evidence` and `supersede_evidence` both take it: the
    checklist entry (a control's by number), and the file, reference and validity that
    `_content_inputs` asked for."""
    upload, reference, until = content
    return {
        "checklist_entry": int(entry) if rated.kind == "control" else entry,
        "reference": reference,
        "valid_until": until,
        "data": upload.getvalue() if upload is not None else None,
        "file_name": upload.name if upload is not None else "",
    }


def _add_form(cycle: str, code: str, rated: Rated, key: str) -> None:
    with st.form(key=f"{key}form", clear_on_submit=True):
        st.markdown("**Add evidence**")
        entry = _entry_input(rated, key, "Checklist entry it answers")
        content = _content_inputs(key)
        if not st.form_submit_button("Add evidence"):
            return
    try:
        item = state.write(
            add_evidence,
            cycle,
            code,
            **{rated.column: rated.id},
            **_item_args(rated, entry, content),
        )
    except DomainError as exc:
        state.show_error(exc, key=f"{key}add-err")
        return
    shown = item["file_name"] or item["reference"]
    state.flash(f"Added evidence {shown} to {rated.kind} {rated.id} of unit {code}.")
    st.rerun()


def _supersede_form(row, rated: Rated, key: str) -> None:
    """A correction: a new item (file or reference) that the old one will name; the old
    one stays on record, and the reason is kept in the audit trail."""
    n = int(row.id)
    mine = f"{key}sup-{n}|"
    with st.expander(f"Supersede item {n}"), st.form(key=f"{mine}form", clear_on_submit=True):
        reason = st.text_input("Why it is superseded (required)", key=f"{mine}reason")
        entry = _entry_input(rated, mine, "Checklist entry the new item answers",
                             str(row.checklist_entry))  # fmt: skip
        content = _content_inputs(mine)
        if not st.form_submit_button(f"Supersede item {n}"):
            return
    try:
        item = state.write(
            supersede_evidence, n, reason=reason, **_item_args(rated, entry, content)
        )
    except DomainError as exc:
        state.show_error(exc, key=f"{mine}err")
        return
    state.flash(f"Item {n} superseded by item {item['id']} on {rated.kind} {rated.id}.")
    st.rerun()
