"""The audit trail's anchor on the Audit trail page: its head and the last checkpoint.

A chain that verifies can still have lost its tail; the auditor compares what this shows
with the checkpoint file they keep (taken here with "Take a checkpoint" and downloaded, or
`riskmap audit checkpoint`; then `riskmap audit verify --checkpoint FILE`). Kept apart
from the page's own layout, which shows the events.
"""

from __future__ import annotations

import streamlit as st

from riskmap.service import DomainError, take_checkpoint
from riskmap.ui import state
from riskmap.ui.widgets import escape_md


def render_anchor() -> None:
    try:
        anchor = state.read("audit_anchor")
    except DomainError as exc:
        state.show_error(exc)
        return
    head = f"#{anchor['head_id']}" if anchor["head_id"] is not None else "none yet"
    st.markdown(
        escape_md(
            f"Head of the trail: event {head}, seal {anchor['head_hash'][:16]}..., "
            f"{anchor['events']:,} events in all."
        )
    )
    cp = anchor["checkpoint"]
    if cp is None:
        st.info(
            "No checkpoint taken yet. Take one below (or `riskmap audit checkpoint -o FILE`) "
            "and keep the file away from the database: only a checkpoint shows a deleted tail.",
            icon=":material/anchor:",
        )
    else:
        st.markdown(
            escape_md(
                f"Last checkpoint: {cp['at'][:19].replace('T', ' ')} UTC by {cp['by']}, "
                f"{cp['count']:,} events up to event #{cp['head_id']}, seal "
                f"{str(cp['head_hash'])[:16]}... Compare with your checkpoint file, or run "
                "riskmap audit verify --checkpoint FILE."
            )
        )


CHECKPOINT_KEY = "audit-checkpoint-file"


def _take() -> None:
    try:
        st.session_state[CHECKPOINT_KEY] = state.write(take_checkpoint)
    except DomainError as exc:
        st.session_state["audit-checkpoint-exc"] = exc


def render_checkpoint() -> None:
    """Take a signed checkpoint (an audit event) and download it to keep: the file the
    service returns, byte for byte, as `riskmap audit checkpoint` writes it."""
    st.button(
        "Take a checkpoint",
        key="audit-checkpoint-take",
        icon=":material/anchor:",
        on_click=_take,
        help="Signs the trail's length and head with the audit key; recorded as an event.",
    )
    exc = st.session_state.pop("audit-checkpoint-exc", None)
    if exc is not None:
        state.show_error(exc, key="audit-checkpoint")
    data = st.session_state.get(CHECKPOINT_KEY)
    if data:
        st.download_button(
            "Download the checkpoint (keep it away from the database)",
            data,
            file_name="riskmap-audit-checkpoint.json",
            mime="application/json",
            key="audit-checkpoint-download",
            icon=":material/download:",
        )
