"""The users page (administrators): add, change role, disable."""

from __future__ import annotations

import pytest

from riskmap import service as s
from riskmap.service import CLI_ADMIN
from ui_harness import errors, page, refused, texts

PAGE = "riskmap.ui.pages.users"


def _label(items, label):
    return next(w for w in items if w.label.startswith(label))


def test_renders_for_admin(ui_db):
    at = page(PAGE, "admin").run()
    assert not at.exception, at.exception
    assert "demo.officer" in set(at.dataframe[0].value["username"])


@pytest.mark.parametrize("role", ["officer", "manager", "auditor", None])
def test_others_are_refused(ui_db, role):
    """Not an error of any kind: the role refusal (or the request to sign in), and no user
    list, no form."""
    at = page(PAGE, role).run()
    assert refused(at), errors(at)
    wanted = "sign in" if role is None else "not open to your role"
    assert any(wanted in e.lower() for e in errors(at)), errors(at)
    assert not at.dataframe and not at.text_input


def test_admin_adds_changes_and_disables_a_user(ui_db):
    at = page(PAGE, "admin").run()
    _label(at.text_input, "User name").input("a.novak")
    _label(at.text_input, "Full name").input("Ana Novak")
    _label(at.text_input, "E-mail").input("a.novak@ministry.example")
    _label(at.selectbox, "Role").select("officer")
    _label(at.text_input, "Initial password").input("a-long-password")
    _label(at.button, "Add user").click().run()
    assert not errors(at), errors(at)
    assert "Added a.novak" in texts(at)

    at.selectbox(key="users-role-who").select("a.novak")
    _label(at.selectbox, "New role").select("manager")
    at.text_input(key="users-role-reason").input("Moved to the review board")
    _label(at.button, "Change role").click().run()
    assert "a.novak is now manager" in texts(at)

    at.selectbox(key="users-status-who").select("a.novak")
    _label(at.button, "Disable").click().run()
    with ui_db.service() as svc:
        users = s.list_users(svc, CLI_ADMIN).set_index("username")
        trail = s.audit_trail(svc, CLI_ADMIN, entity="user", entity_id="a.novak")
    assert users.loc["a.novak", "role"] == "manager"
    assert not users.loc["a.novak", "active"]
    assert users.loc["a.novak", "email"] == "a.novak@ministry.example"
    assert list(trail["action"]) == ["user.add", "user.set_role", "user.disable"]
    assert set(trail["actor"]) == {"demo.admin"}


def test_a_short_password_is_refused_in_words(ui_db):
    at = page(PAGE, "admin").run()
    _label(at.text_input, "User name").input("b.short")
    _label(at.text_input, "Initial password").input("short")
    _label(at.button, "Add user").click().run()
    assert any("password" in e and "at least 8" in e for e in errors(at))


def test_a_refused_form_keeps_what_was_typed_and_the_role_defaults_low(ui_db):
    at = page(PAGE, "admin").run()
    assert _label(at.selectbox, "Role").value == "auditor"  # least privileged by default
    _label(at.text_input, "User name").input("c.kept")
    _label(at.text_input, "Full name").input("Cara Kept")
    _label(at.text_input, "E-mail").input("c.kept@ministry.example")
    _label(at.selectbox, "Role").select("officer")
    _label(at.text_input, "Initial password").input("short")
    _label(at.button, "Add user").click().run()
    assert any("at least 8" in e for e in errors(at))
    assert _label(at.text_input, "User name").value == "c.kept"
    assert _label(at.text_input, "Full name").value == "Cara Kept"
    assert _label(at.text_input, "E-mail").value == "c.kept@ministry.example"
    assert _label(at.selectbox, "Role").value == "officer"
    # Corrected, it saves, and the form is emptied for the next one.
    _label(at.text_input, "Initial password").input("a-long-password")
    _label(at.button, "Add user").click().run()
    assert not errors(at), errors(at)
    with ui_db.service() as svc:
        users = s.list_users(svc, CLI_ADMIN).set_index("username")
    assert users.loc["c.kept", "role"] == "officer"
    assert users.loc["c.kept", "display_name"] == "Cara Kept"
    assert _label(at.text_input, "User name").value == ""
    assert _label(at.selectbox, "Role").value == "auditor"


def test_the_user_table_is_for_people(ui_db):
    import json

    import pandas as pd

    at = page(PAGE, "admin").run()
    table = at.dataframe[0]
    config = json.loads(table.proto.columns)
    labels = {k: v["label"] for k, v in config.items() if "label" in v}
    assert labels["display_name"] == "Name" and labels["created_at"] == "Added on"
    assert config["created_at"]["type_config"] == {"type": "datetime", "format": "localized"}
    shown = table.value
    assert pd.api.types.is_datetime64_any_dtype(shown["created_at"])  # not '2026-...T09:35:15'
    assert shown.isna().sum().sum() == 0  # no "None" in a cell
    assert set(shown["role"]) <= {"administrator", "integrity officer", "manager", "auditor"}


def test_admin_limits_an_officer_to_a_region_and_the_table_says_so(ui_db):
    at = page(PAGE, "admin").run()
    at.selectbox(key="users-scope-who").select("demo.officer")
    at.multiselect(key="users-scope-regions").select("North")
    at.text_input(key="users-scope-reason").input("Northern desk")
    _label(at.button, "Set scope").click().run()
    assert not errors(at), errors(at)
    assert "demo.officer now sees: region North." in texts(at)
    shown = at.dataframe[0].value.set_index("username")
    with ui_db.service() as svc:
        saved = s.list_users(svc, CLI_ADMIN).set_index("username")
        units = s.list_units(svc, "demo.officer")
    assert shown.loc["demo.officer", "scope"] == saved.loc["demo.officer", "scope"]
    assert saved.loc["demo.officer", "scope"] == "region North"
    assert set(units["region"]) == {"North"}

    # A unit type for a manager is refused by the service, shown as the page's error.
    at.selectbox(key="users-scope-who").select("demo.manager")
    at.multiselect(key="users-scope-types").select("border_control")
    _label(at.button, "Set scope").click().run()
    assert any("limited to regions only" in e for e in errors(at)), errors(at)

    at.selectbox(key="users-scope-who").select("demo.officer")
    _label(at.button, "Whole ministry").click().run()
    assert "demo.officer now sees: whole ministry." in texts(at)
