"""The audit trail's anchor on the Audit trail page: its head and the last checkpoint.

A chain that verifies can still have lost its tail; the auditor compares what this shows
with the checkpoint file they keep (`riskmap audit checkpoint`, then `riskmap audit verify
--checkpoint FILE`). Kept apart from the page's own layout, which shows the events.
"""

from __future__ import annotations

import streamlit as st

from riskmap.service import DomainError
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
            "No checkpoint taken yet. Take one with `riskmap audit checkpoint -o FILE` and "
            "keep the file away from the database: only a checkpoint shows a deleted tail.",
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
