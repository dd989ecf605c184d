"""The dashboard's shell: sign-in, navigation by role, the sidebar, sign-out, OIDC mapping."""

from __future__ import annotations

import importlib

import pytest

from riskmap import service as s
from riskmap.service import CLI_ADMIN
from riskmap.ui import registry
from riskmap.ui.signin import role_for_email, username_for_email
from ui_harness import ROLES, app, errors, texts


def _button(at, label):
    return next(b for b in at.button if b.label == label)


def _sign_in(at, username, password):
    at.text_input(key="signin-username").input(username)
    at.text_input(key="signin-password").input(password)
    _button(at, "Sign in").click().run()
    return at


def test_signed_out_shows_only_the_sign_in_form_and_the_demo_accounts(ui_db):
    at = app().run()
    assert not at.exception
    assert at.title[0].value == "riskmap"
    text = texts(at)
    assert "National Anti-Trafficking Coordination of Arcadia (demo)" in text
    assert "This is the demo ministry" in text
    listed = at.table[0].value
    assert sorted(listed["user name"]) == [f"demo.{r}" for r in sorted(ROLES)]
    assert not [b for b in at.button if b.label == "Sign out"]


def test_wrong_password_is_refused(ui_db):
    at = _sign_in(app().run(), "demo.officer", "not-the-password")
    assert "Wrong user name or password" in errors(at)[0]
    assert "user" not in at.session_state


def test_sign_in_navigation_sidebar_and_sign_out(ui_db):
    at = _sign_in(app().run(), "demo.officer", ui_db.passwords["demo.officer"])
    assert not at.exception, at.exception
    assert at.session_state["user"] == {
        "username": "demo.officer",
        "role": "officer",
        "display_name": "Demo officer",
    }
    assert at.title[0].value == "Assess"  # the officer's home page
    sidebar = "\n".join(m.value for m in at.sidebar.markdown)
    assert "Coordination of Arcadia" in sidebar
    assert "Demo officer" in sidebar and "integrity officer" in sidebar
    cycle = at.sidebar.selectbox(key="sidebar-cycle")
    assert cycle.value == "2026" and cycle.options[:2] == ["2026 (draft)", "2025 (locked)"]
    assert at.session_state["cycle"] == "2026"
    # Choosing another cycle changes the cycle in view for every page.
    cycle.select("2025").run()
    assert at.session_state["cycle"] == "2025"
    assert "Status: locked" in "\n".join(c.value for c in at.sidebar.caption)
    # Sign out: back to the form, nothing of the session left.
    _button(at, "Sign out").click().run()
    assert "user" not in at.session_state
    assert at.text_input(key="signin-username")


def test_admin_lands_on_users(ui_db):
    at = _sign_in(app().run(), "demo.admin", ui_db.passwords["demo.admin"])
    assert not at.exception, at.exception
    assert at.title[0].value == "Users"


def test_disabled_user_is_signed_out_at_the_next_click(ui_db):
    at = app("officer").run()
    assert at.title[0].value == "Assess"
    with ui_db.service() as svc:
        s.disable_user(svc, CLI_ADMIN, "demo.officer")
    at.run()
    assert "user" not in at.session_state
    assert at.text_input(key="signin-username")


def test_a_role_change_applies_at_once(ui_db):
    at = app("officer").run()
    with ui_db.service() as svc:
        s.set_role(svc, CLI_ADMIN, "demo.officer", "auditor")
    at.run()
    assert at.session_state["user"]["role"] == "auditor"


# -- the registry ------------------------------------------------------------------------

MINE = {
    "assess": set(ROLES),
    "cycle": {"officer", "manager", "admin"},
    "units": {"officer", "manager", "admin"},
    "incidents": {"officer", "manager", "admin"},
    "users": {"admin"},
    "catalogue": set(ROLES),
}


def test_registry_lists_the_pages_of_each_role():
    by_path = {p.url_path: p for p in registry.PAGES}
    for path, roles in MINE.items():
        assert set(by_path[path].roles) == roles, path
    for role in ROLES:
        paths = {p.url_path for p in registry.pages_for(role)}
        assert {p for p, r in MINE.items() if role in r} <= paths
        assert registry.home_for(role).allows(role)
    assert registry.pages_for(None) == []
    assert len({p.url_path for p in registry.PAGES}) == len(registry.PAGES)


def test_every_registered_page_has_render():
    for spec in registry.PAGES:
        module = importlib.import_module(spec.module_path)
        assert callable(module.render), spec.module
        assert spec.section and spec.title and spec.icon


def test_sections_keep_their_declared_order():
    sections = list(registry.by_section(registry.pages_for("admin")))
    known = [x for x in registry.SECTION_ORDER if x in sections]
    assert sections[: len(known)] == known


# -- OpenID Connect: e-mail -> role --------------------------------------------------------

USERS = [
    {"username": "a.novak", "email": "A.Novak@ministry.example", "role": "manager", "active": True},
    {"username": "b.old", "email": "b.old@ministry.example", "role": "officer", "active": False},
]
MAPPING = {
    "c.new@ministry.example": "officer",
    "@audit.example": "auditor",
    "d@ministry.example": "superuser",
}


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("a.novak@ministry.example", "manager"),  # a user's own role, case ignored
        ("  A.NOVAK@Ministry.Example ", "manager"),
        ("b.old@ministry.example", None),  # disabled: refused whatever the mapping says
        ("c.new@ministry.example", "officer"),  # the mapping, exact address
        ("C.New@Ministry.example", "officer"),
        ("anyone@audit.example", "auditor"),  # the mapping, whole domain
        ("d@ministry.example", None),  # not a role
        ("stranger@elsewhere.example", None),
        ("", None),
        (None, None),
        ("not-an-address", None),
    ],
)
def test_role_for_email(email, expected):
    assert role_for_email(email, MAPPING, USERS) == expected


def test_users_table_wins_over_the_mapping():
    mapping = {"a.novak@ministry.example": "auditor"}
    assert role_for_email("a.novak@ministry.example", mapping, USERS) == "manager"
    assert role_for_email("x@ministry.example", None, []) is None


def test_username_for_email():
    assert username_for_email("Jane.Doe@x.example", []) == "jane.doe"
    assert username_for_email("jane.doe@x.example", ["jane.doe"]) == "jane.doe-2"
    assert username_for_email("j+tag@x.example", []) == "j-tag"
    assert username_for_email("@x.example", []) == "user"


def _oidc_script() -> None:
    import streamlit as st

    from riskmap.ui import signin

    st.session_state["signed"] = signin.oidc_sign_in()


@pytest.fixture
def oidc(monkeypatch):
    """Pretend the provider signed someone in (`who["email"]`), with a role mapping."""
    from riskmap.ui import signin

    who = {"email": None, "name": "Ana Novak"}
    monkeypatch.setattr(signin, "_oidc_user", lambda: dict(who))
    monkeypatch.setattr(signin, "role_mapping", lambda: {"@ministry.example": "officer"})
    return who


def _run_oidc():
    from streamlit.testing.v1 import AppTest

    return AppTest.from_function(_oidc_script, default_timeout=30).run()


def test_oidc_first_sign_in_creates_the_account_from_the_mapping(ui_db, oidc):
    oidc["email"] = "Ana.Novak@Ministry.example"
    at = _run_oidc()
    assert not at.exception, at.exception
    assert at.session_state["signed"] == {
        "username": "ana.novak",
        "role": "officer",
        "display_name": "Ana Novak",
    }
    with ui_db.service() as svc:
        users = s.list_users(svc, CLI_ADMIN).set_index("username")
        trail = s.audit_trail(svc, CLI_ADMIN, entity="user", entity_id="ana.novak")
    assert users.loc["ana.novak", "email"] == "ana.novak@ministry.example"
    # Made by the sign-in's own actor, and said so in the trail (not the CLI's administrator).
    assert list(trail["actor"]) == [s.OIDC_SIGN_IN]
    assert list(trail["action"]) == ["user.add"]
    # The second time, the account exists: the administrator's role for it applies.
    with ui_db.service() as svc:
        s.set_role(svc, CLI_ADMIN, "ana.novak", "manager")
    assert _run_oidc().session_state["signed"]["role"] == "manager"


def test_oidc_unknown_address_is_refused(ui_db, oidc):
    oidc["email"] = "someone@elsewhere.example"
    at = _run_oidc()
    assert at.session_state["signed"] is None
    assert at.session_state["oidc_refused"] == "someone@elsewhere.example"


def test_repeated_wrong_passwords_are_held_back_and_the_page_says_so(ui_db):
    """The sign-in page passes the client to the service's guard and shows its hold, not
    "wrong password", once the account has had too many failures."""
    from riskmap.service.signin_guard import ACCOUNT_LIMIT

    at = app().run()
    for _ in range(ACCOUNT_LIMIT):
        _sign_in(at, "demo.manager", "not-the-password")
    assert any("too many failed sign-ins for this account" in e for e in errors(at)), errors(at)
    # Even the right password is held back now (and the page still does not sign in).
    with ui_db.service() as svc:
        held = s.sign_in_hold(svc, "demo.manager")
    assert held and "try again after" in held
    with ui_db.service() as svc:
        trail = s.audit_trail(svc, CLI_ADMIN)
    assert (trail["action"] == "signin.failed").sum() >= ACCOUNT_LIMIT
