"""Users and roles (administrators): add a user, change a role or a need-to-know scope,
disable or enable an account.

Nobody changes their own role or status (the service refuses it), so an administrator
cannot lock themselves out. A new account starts with the least privileged role (an
auditor reads and changes nothing), so a slip never creates an administrator; a refused
form keeps what was typed, a saved one is emptied for the next.
"""

from __future__ import annotations

import streamlit as st

from riskmap.service import (
    ROLES,
    DomainError,
    add_user,
    disable_user,
    enable_user,
    set_role,
    set_scope,
)
from riskmap.ui import state
from riskmap.ui.widgets import labelled_table
from riskmap.vocabulary import Role

ss = st.session_state
LEAST_PRIVILEGED = Role.AUDITOR
ADD = {  # the add form's fields and their empty values
    "users-add-name": "",
    "users-add-display": "",
    "users-add-email": "",
    "users-add-role": LEAST_PRIVILEGED,
    "users-add-password": "",
}


def _done(exc_key: str, message: str, use_case, *args, **kwargs) -> None:
    try:
        state.write(use_case, *args, **kwargs)
    except DomainError as exc:
        ss[exc_key] = exc
    else:
        state.flash(message)


def _add() -> None:
    """The add form's submit (a callback): fields are kept on an error, emptied on success."""
    username = str(ss.get("users-add-name", "")).strip()
    role = ss.get("users-add-role", LEAST_PRIVILEGED)
    try:
        state.write(
            add_user,
            username,
            role,
            ss.get("users-add-password", ""),
            display_name=str(ss.get("users-add-display", "")).strip(),
            email=str(ss.get("users-add-email", "")).strip() or None,
        )
    except DomainError as exc:
        ss["users-exc"] = exc
        return
    state.flash(f"Added {username} as {state.role_label(role)}.")
    ss.update(ADD)


def _scope_form(users) -> None:
    """Limit an officer (units, regions, unit types) or a manager (regions) to what they
    need to know; the service checks the role and every name and audits the change."""
    limited = users[users["role"].isin(["officer", "manager"])]
    units = state.read("list_units", include_retired=True)
    with st.form("user-scope"):
        who = st.selectbox("User (officers and managers)", list(limited["username"]),
                           key="users-scope-who")  # fmt: skip
        regions = st.multiselect("Regions", sorted(set(units["region"]) - {""}),
                                 key="users-scope-regions")  # fmt: skip
        types = st.multiselect("Unit types (officers)", sorted(set(units["unit_type"])),
                               key="users-scope-types")  # fmt: skip
        codes = st.multiselect("Units, with the units under them (officers)",
                               list(units["code"]), key="users-scope-units")  # fmt: skip
        reason = st.text_input("Why", key="users-scope-reason")
        c1, c2 = st.columns(2)
        limit = c1.form_submit_button("Set scope", type="primary")
        whole = c2.form_submit_button("Whole ministry")
        if (limit or whole) and who:
            chosen = {} if whole else {"regions": regions, "unit_types": types, "units": codes}
            try:
                done = state.write(set_scope, who, reason=reason, **chosen)
            except DomainError as exc:
                ss["users-exc"] = exc
            else:
                state.flash(f"{who} now sees: {done['text']}.")
            st.rerun()


def render() -> None:
    state.require(Role.ADMIN)
    state.show_flash()
    st.title("Users")
    users = state.read("list_users")
    shown = users.assign(role=users["role"].map(state.role_label))
    shown["active"] = shown["active"].map({True: "active", False: "disabled"})
    labelled_table(
        shown,
        {"display_name": "Name", "username": "User name", "role": "Role", "active": "Account",
         "email": "E-mail", "created_at": "Added on", "scope": "Sees"},
        dates=("created_at",),
    )  # fmt: skip

    add_tab, role_tab, scope_tab, status_tab = st.tabs(
        ["Add a user", "Change a role", "Scope (need to know)", "Disable or enable"],
        key="users-tab",
        on_change="rerun",
    )
    for key, empty in ADD.items():
        ss.setdefault(key, empty)
    with add_tab, st.form("user-add", clear_on_submit=False):
        c1, c2 = st.columns(2)
        c1.text_input("User name (lower case, e.g. a.novak)", key="users-add-name")
        c2.text_input("Full name", key="users-add-display")
        c1.text_input(
            "E-mail (for sign-in through the organisation's provider)", key="users-add-email"
        )
        c2.selectbox("Role", ROLES, key="users-add-role", format_func=state.role_label)
        c1.text_input(
            "Initial password (at least 8 characters)", type="password", key="users-add-password"
        )
        st.form_submit_button("Add user", type="primary", on_click=_add)

    others = [u for u in users["username"] if u != state.actor()]
    with role_tab, st.form("user-role"):
        who = st.selectbox("User", others, key="users-role-who")
        new_role = st.selectbox(
            "New role", ROLES, index=ROLES.index(LEAST_PRIVILEGED), format_func=state.role_label
        )
        reason = st.text_input("Why", key="users-role-reason")
        if st.form_submit_button("Change role", type="primary") and who:
            _done(
                "users-exc",
                f"{who} is now {state.role_label(new_role)}.",
                set_role,
                who,
                new_role,
                reason=reason,
            )
            st.rerun()

    with scope_tab:
        _scope_form(users)

    with status_tab, st.form("user-status"):
        who_s = st.selectbox("User", others, key="users-status-who")
        reason_s = st.text_input("Why", key="users-status-reason")
        c1, c2 = st.columns(2)
        disable = c1.form_submit_button("Disable", type="primary")
        enable = c2.form_submit_button("Enable")
        if (disable or enable) and who_s:
            _done(
                "users-exc",
                f"{who_s} is {'disabled: they can no longer sign in' if disable else 'enabled'}.",
                disable_user if disable else enable_user,
                who_s,
                reason=reason_s,
            )
            st.rerun()

    exc = ss.pop("users-exc", None)
    if exc is not None:
        state.show_error(exc, key="users")
