"""The incidents page: list per unit; officers record incidents."""

from __future__ import annotations

import pytest

from riskmap import service as s
from riskmap.service import CLI_ADMIN
from ui_harness import errors, page, texts

PAGE = "riskmap.ui.pages.incidents"


@pytest.mark.parametrize("role", ["officer", "manager", "admin"])
def test_renders_for_allowed_roles(ui_db, role):
    at = page(PAGE, role).run()
    assert not at.exception, at.exception
    assert len(at.dataframe[0].value) > 0
    has_form = any(b.label == "Record incident" for b in at.button)
    assert has_form == (role == "officer")


def test_auditor_is_refused(ui_db):
    assert "not open to your role" in errors(page(PAGE, "auditor").run())[0]


def test_list_per_unit(ui_db):
    at = page(PAGE, "manager").run()
    everything = at.dataframe[0].value
    unit = everything["unit_code"].iloc[0]
    at.selectbox(key="incidents-filter").select(unit).run()
    shown = at.dataframe[0].value
    assert set(shown["unit_code"]) == {unit}
    assert len(shown) == (everything["unit_code"] == unit).sum()


def test_officer_records_an_incident(ui_db):
    at = page(PAGE, "officer").run()
    at.selectbox(key="incident-unit").select("BC-002").run()
    next(w for w in at.selectbox if w.label == "Kind").select("disciplinary")
    next(w for w in at.text_input if w.label.startswith("Outcome")).input("suspended")
    next(w for w in at.text_area if w.label == "What happened").input("Cash found at the post")
    next(b for b in at.button if b.label == "Record incident").click().run()
    assert not errors(at), errors(at)
    assert "Recorded a disciplinary for unit BC-002" in texts(at)
    with ui_db.service() as svc:
        frame = s.incidents(svc, CLI_ADMIN, "BC-002")
        trail = s.audit_trail(svc, CLI_ADMIN, entity="incident")
    assert "Cash found at the post" in set(frame["description"])
    assert trail.iloc[-1]["actor"] == "demo.officer"
