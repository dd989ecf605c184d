"""Assessment cycles: start one from the last, submit, approve (a second person), lock,
reopen with a reason; who did what and when; comments.

Each button is offered to the role the service lets run it, at the step the cycle is at;
the service checks both again (and the four-eyes rule) when it runs.
"""

from __future__ import annotations

import streamlit as st

from riskmap import vocabulary
from riskmap.service import (
    DomainError,
    approve_cycle,
    comment,
    lock_cycle,
    reopen_cycle,
    start_cycle,
    submit_cycle,
)
from riskmap.ui import registry, state
from riskmap.ui.widgets import escape_md, labelled_table, present, progress, when

ROLES = registry.roles_of("cycle")  # the registry is the one list
ss = st.session_state

STEP_TEXT = {s.value: s.step for s in vocabulary.CYCLE_STATUSES}


def _run(use_case, *args, done: str, **kwargs) -> None:
    """A workflow button's action (callback): run, then a confirmation or the error."""
    try:
        state.write(use_case, *args, **kwargs)
    except DomainError as exc:
        ss["cycle-exc"] = exc
        return
    state.flash(done)


ASK_KEY = "cycle-ask"  # the workflow step waiting for the user's confirmation in a dialog
ASK = {
    "submit": (
        submit_cycle,
        "Submit cycle {label} for review?",
        "Its ratings can no longer be changed unless a manager reopens it.",
        "Submit for review",
        "Cycle {label} submitted for review.",
    ),
    "approve": (
        approve_cycle,
        "Approve cycle {label}?",
        "You approve its ratings as the reviewing manager; next it can be locked.",
        "Approve",
        "Cycle {label} approved.",
    ),
    "lock": (
        lock_cycle,
        "Lock cycle {label}?",
        "Locking cannot be undone: the cycle becomes the record and nothing in it can "
        "change any more. Start a new cycle to carry on.",
        "Lock for good",
        "Cycle {label} locked.",
    ),
}


def _ask(step: str, label: str, version: int) -> None:
    ss[ASK_KEY] = (step, label, version)


def _close() -> None:
    ss.pop(ASK_KEY, None)


@st.dialog("Please confirm", on_dismiss=_close)
def _confirm_dialog(step: str, label: str, version: int) -> None:
    """Submit, approve and lock are steps of the record: each asks once more, in words."""
    use_case, question, consequence, yes, done = ASK[step]
    st.markdown(f"**{escape_md(question.format(label=label))}**")
    st.write(consequence)
    left, right = st.columns(2)
    if left.button(yes, key="cycle-ask-yes", type="primary", width="stretch"):
        _close()
        _run(use_case, label, done=done.format(label=label), expected_version=version)
        st.rerun()
    if right.button("Cancel", key="cycle-ask-no", width="stretch"):
        _close()
        st.rerun()


def _start_new(labels: list[str]) -> None:
    label = str(ss.get("cycle-new-label", "")).strip()
    how = ss.get("cycle-new-how", "clone")
    source = ss.get("cycle-new-from") if how == "clone" else None
    try:
        state.write(start_cycle, label, how=how, from_cycle=source)
    except DomainError as exc:
        ss["cycle-exc"] = exc
        return
    state.flash(f"Started cycle {label}; it is now the cycle in view.")
    ss[state.CYCLE_KEY] = label
    ss["cycle-new-label"] = ""


def _who_did_what(info: dict) -> None:
    steps = [
        ("Started", info.get("drafted_by"), info.get("started_at")),
        ("Submitted for review", info.get("submitted_by"), info.get("submitted_at")),
        ("Approved", info.get("approved_by"), info.get("approved_at")),
        ("Locked", None, info.get("locked_at")),
    ]
    cols = st.columns(4)
    for col, (what, who, at) in zip(cols, steps, strict=True):
        col.metric(what, who if present(who) else ("✓" if present(at) else "—"))
        col.caption(when(at) + (" UTC" if present(at) else ""))


def _actions(label: str, info: dict) -> None:
    status = info["status"]
    version = int(info["version"])
    me = state.actor()
    offered = False
    if status == vocabulary.CycleStatus.DRAFT and state.can(submit_cycle):
        offered = True
        pending = info["risk_ratings_unconfirmed"] + info["control_ratings_unconfirmed"]
        if pending:
            st.caption(
                f"{pending} rating(s) are still unconfirmed: confirm them on the Assess page "
                "before submitting."
            )
        st.button(
            "Submit for review",
            key="cycle-submit",
            type="primary",
            disabled=bool(pending),
            on_click=_ask,
            args=("submit", label, version),
        )
    if status == vocabulary.CycleStatus.IN_REVIEW and state.can(approve_cycle):
        offered = True
        mine = me in (info.get("drafted_by"), info.get("submitted_by"))
        if mine:
            st.caption("You drafted or submitted this cycle: another manager approves it.")
        st.button(
            "Approve",
            key="cycle-approve",
            type="primary",
            disabled=mine,
            on_click=_ask,
            args=("approve", label, version),
        )
    if status == vocabulary.CycleStatus.APPROVED and state.can(lock_cycle):
        offered = True
        st.button(
            "Lock",
            key="cycle-lock",
            type="primary",
            on_click=_ask,
            args=("lock", label, version),
        )
    reopenable = (vocabulary.CycleStatus.IN_REVIEW, vocabulary.CycleStatus.APPROVED)
    if status in reopenable and state.can(reopen_cycle):
        offered = True
        with st.expander("Reopen (back to draft)"):
            st.text_input("Why is it reopened? (required)", key="cycle-reopen-reason")
            st.button(
                "Reopen",
                key="cycle-reopen",
                on_click=lambda: _run(
                    reopen_cycle,
                    label,
                    done=f"Cycle {label} reopened: it is a draft again.",
                    reason=ss.get("cycle-reopen-reason", ""),
                    expected_version=version,
                ),
            )
    if not offered:
        st.caption("Nothing for your role to do at this step.")
    asked = ss.get(ASK_KEY)
    if asked and asked[1] == label:
        _confirm_dialog(*asked)


def _start_form(cycles) -> None:
    labels = list(cycles["label"])
    st.text_input("Label of the new cycle (e.g. 2027)", key="cycle-new-label")
    st.radio(
        "Start from",
        ["clone", "empty"],
        key="cycle-new-how",
        horizontal=True,
        format_func=lambda h: {
            "clone": "a previous cycle (its ratings and open actions)",
            "empty": "the catalogue defaults",
        }[h],
    )
    if ss.get("cycle-new-how", "clone") == "clone" and labels:
        st.selectbox("Previous cycle", labels[::-1], key="cycle-new-from")
    st.button(
        "Start the cycle",
        key="cycle-start",
        type="primary",
        on_click=_start_new,
        args=(labels,),
    )


def _comments(label: str, status: str) -> None:
    notes = state.read("comments", label)
    if notes.empty:
        st.caption("No comments yet.")
    for _, row in notes.iterrows():
        with st.chat_message("user"):
            st.markdown(f"**{escape_md(row['author'])}** · {escape_md(when(row['at']))} UTC")
            st.text(row["text"])
    if status != vocabulary.CycleStatus.LOCKED and state.can(comment):
        st.text_area("Add a comment", key="cycle-comment", height=70)

        def add() -> None:
            _run(comment, label, ss.get("cycle-comment", ""), done="Comment added.")
            if "cycle-exc" not in ss:
                ss["cycle-comment"] = ""

        st.button("Add comment", key="cycle-comment-add", on_click=add)


def render() -> None:
    state.require(*ROLES)
    state.show_flash()
    st.title("Cycle")
    cycles = state.read("list_cycles")
    exc = ss.pop("cycle-exc", None)
    if exc is not None:
        state.show_error(exc, key="cycle")
    label = state.cycle_in_view()
    if label is not None and label in set(cycles["label"]):
        info = state.read("get_cycle", label)
        status = info["status"]
        st.subheader(f"Cycle {label}: {vocabulary.cycle_status_label(status)}")
        st.caption(
            STEP_TEXT.get(status, "")
            + (f" Started from cycle {info['previous']}." if info.get("previous") else "")
        )
        total = info["risk_ratings"] + info["control_ratings"]
        done = total - info["risk_ratings_unconfirmed"] - info["control_ratings_unconfirmed"]
        progress(done, total, "Ratings")
        _who_did_what(info)
        _actions(label, info)
        st.markdown("#### History")
        history = state.read("cycle_history", label)
        labelled_table(
            history.iloc[::-1],
            {"at": "When", "actor": "Who", "action": "What", "reason": "Why"},
            dates=("at",),
        )
        st.markdown("#### Comments")
        _comments(label, status)
    else:
        st.info("There is no assessment cycle yet.")

    st.markdown("#### All cycles")
    shown = cycles.assign(status=cycles["status"].map(vocabulary.cycle_status_label))
    labelled_table(
        shown.iloc[::-1],
        {"label": "Cycle", "status": "Status", "previous": "Started from",
         "drafted_by": "Drafted by", "submitted_by": "Submitted by", "approved_by": "Approved by",
         "started_at": "Started", "approved_at": "Approved", "locked_at": "Locked"},
        dates=("started_at", "approved_at", "locked_at"),
    )  # fmt: skip
    if state.can(start_cycle):
        with st.expander("Start a new cycle", expanded=cycles.empty):
            _start_form(cycles)
