"""The units page: everyone of the assessment reads it, the administrator changes units."""

from __future__ import annotations

import pytest

from riskmap import service as s
from riskmap.service import CLI_ADMIN
from ui_harness import errors, page, texts

PAGE = "riskmap.ui.pages.units"


def _submit(at, label):
    next(b for b in at.button if b.label == label).click().run()
    return at


def _widget(items, label):
    return next(w for w in items if w.label == label)


@pytest.mark.parametrize("role", ["officer", "manager", "admin"])
def test_renders_for_allowed_roles(ui_db, role):
    at = page(PAGE, role).run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert len(table) == 8 and "BC-001" in set(table["code"])
    assert bool(at.tabs) == (role == "admin")  # add / edit / move / import: admin only


def test_auditor_is_refused(ui_db):
    at = page(PAGE, "auditor").run()
    assert "not open to your role (auditor)" in errors(at)[0]
    assert not at.dataframe


def test_admin_adds_a_unit(ui_db):
    at = page(PAGE, "admin").run()
    _widget(at.text_input, "Code (unique, e.g. BC-014)").input("BC-099")
    _widget(at.text_input, "Name").input("Border post Lakeside")
    _widget(at.selectbox, "Unit type").select("border_control")
    _widget(at.selectbox, "Reports to").select("BC-001")
    _submit(at, "Add unit")
    assert not errors(at), errors(at)
    assert "Added unit BC-099" in texts(at)
    with ui_db.service() as svc:
        units = s.list_units(svc, CLI_ADMIN).set_index("code")
        trail = s.audit_trail(svc, CLI_ADMIN, entity="unit", entity_id="BC-099")
    assert units.loc["BC-099", "parent"] == "BC-001"
    assert list(trail["actor"]) == ["demo.admin"]
    assert "BC-099" in set(at.dataframe[0].value["code"])
    # Saved: the form is empty for the next unit.
    assert _widget(at.text_input, "Code (unique, e.g. BC-014)").value == ""
    assert _widget(at.text_input, "Name").value == ""


def test_a_refused_unit_says_why(ui_db):
    at = page(PAGE, "admin").run()
    _widget(at.text_input, "Code (unique, e.g. BC-014)").input("BC-001")
    _widget(at.text_input, "Name").input("Duplicate")
    _submit(at, "Add unit")
    assert any("unit code" in e and "already used" in e for e in errors(at))
    # Refused: what was typed is still there to correct.
    assert _widget(at.text_input, "Code (unique, e.g. BC-014)").value == "BC-001"
    assert _widget(at.text_input, "Name").value == "Duplicate"


def test_admin_retires_a_unit_with_a_reason(ui_db):
    at = page(PAGE, "admin").run()
    at.selectbox(key="units-retire-code").select("PL-001")
    _submit(at, "Retire")
    assert any("say why the unit is retired" in e for e in errors(at))
    at.selectbox(key="units-retire-code").select("PL-001")
    at.text_input(key="units-retire-reason").input("Merged into the regional station")
    _submit(at, "Retire")
    assert "Retired unit PL-001" in texts(at)
    assert "PL-001" not in set(at.dataframe[0].value["code"])
