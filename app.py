"""riskmap dashboard entry point (`make run` or `streamlit run app.py`).

Signed out: the sign-in page only. Signed in: the pages of `riskmap.ui.registry.PAGES`
whose roles include the user's role, grouped by section, and a sidebar with the
organisation, the cycle in view (selectable), its status, the user and sign-out. Pages are
thin: they read through the service and send actions back through it.
"""

from __future__ import annotations

import streamlit as st

from riskmap import vocabulary
from riskmap.catalogue import version_notice
from riskmap.ui import registry, session_cookie, signin, state
from riskmap.ui.widgets import escape_md

# A narrower sidebar (it collapses on small screens) leaves the pages room at 800 px.
st.set_page_config(
    page_title="riskmap",
    page_icon=":material/shield:",
    layout="wide",
    initial_sidebar_state=256,
)

STATUS = {s.value: s.short for s in vocabulary.CYCLE_STATUSES}


def _choose_cycle() -> None:
    """Keep `st.session_state["cycle"]` on a cycle that exists (default: the latest)."""
    cycles = state.read("list_cycles")
    labels = list(cycles["label"])
    if not labels:
        st.session_state[state.CYCLE_KEY] = None
        st.sidebar.caption("No assessment cycle yet.")
        return
    if state.cycle_in_view() not in labels:
        st.session_state[state.CYCLE_KEY] = labels[-1]
    # The widget has its own key; the callback copies a choice into "cycle", and a page may
    # set "cycle" itself (e.g. after starting a cycle): the widget follows on the next run.
    st.session_state["sidebar-cycle"] = state.cycle_in_view()

    def chosen() -> None:
        st.session_state[state.CYCLE_KEY] = st.session_state["sidebar-cycle"]

    status = dict(zip(cycles["label"], cycles["status"], strict=True))
    st.sidebar.selectbox(
        "Cycle in view",
        labels[::-1],
        key="sidebar-cycle",
        on_change=chosen,
        format_func=lambda label: f"{label} ({status[label].replace('_', ' ')})",
    )
    st.sidebar.caption(f"Status: {STATUS.get(status[state.cycle_in_view()], '')}")
    # The cycle keeps the catalogue version it was started under; say so when it differs.
    started_under = dict(zip(cycles["label"], cycles["catalogue_version"], strict=True))
    in_force = state.service().catalogue
    notice = version_notice(started_under[state.cycle_in_view()], in_force)
    if notice:
        st.sidebar.warning(notice, icon=":material/update:")
    else:
        st.sidebar.caption(f"Catalogue version {in_force.version}")


def _sidebar(user: dict) -> None:
    info = state.organisation_info()
    with st.sidebar:
        if info["name"]:
            st.markdown(f"**{escape_md(info['name'])}**")
        if info["is_demo"]:
            st.caption("Demo data: fictional ministry")
    _choose_cycle()
    with st.sidebar:
        st.divider()
        st.markdown(
            f"Signed in as **{escape_md(user['display_name'])}** "
            f"({escape_md(user['username'])}), {escape_md(state.role_label(user['role']))}"
        )
        state.scope_line()
        if st.button("Sign out", key="sign-out", icon=":material/logout:"):
            was_oidc = bool(st.session_state.get("oidc"))
            session_cookie.sign_out()
            if was_oidc:
                st.logout()
            st.rerun()


def _sign_in_at(url_path: str):
    def page() -> None:
        signin.render()

    page.__name__ = f"sign_in_{url_path}"
    return page


def main() -> None:
    user = state.refresh_user()
    if user is None and signin.oidc_providers() is not None:
        user = signin.oidc_sign_in()
    if user is None:
        user = session_cookie.restore()  # a reload (F5) keeps a local sign-in
    session_cookie.sync()
    if user is None:
        # Every page's address shows the sign-in form, so a link to a page leads to it
        # once signed in.
        sign_in = [st.Page(signin.render, title="Sign in", icon=":material/login:", default=True)]
        for spec in registry.PAGES:
            sign_in.append(
                st.Page(_sign_in_at(spec.url_path), title="Sign in", url_path=spec.url_path)
            )
        st.navigation(sign_in, position="hidden").run()
        return

    home = registry.home_for(user["role"])
    sections = registry.by_section(registry.pages_for(user["role"]))
    nav = {
        section: [
            st.Page(
                spec.render_function(),
                title=spec.title,
                icon=spec.icon,
                url_path=spec.url_path,
                default=spec is home,
            )
            for spec in specs
        ]
        for section, specs in sections.items()
    }
    page = st.navigation(nav)
    _sidebar(user)
    page.run()


main()
