"""The walk-through's evidence panel (AppTest): the checklist with a tick per entry
answered, a reference added by an officer, a file downloaded by an auditor (audited)."""

from __future__ import annotations

from riskmap import service as s
from riskmap.catalogue import load_catalogue
from riskmap.service import CLI_ADMIN
from test_ui_assess import UNIT, _assess, _control
from ui_harness import errors, texts

PDF = b"%PDF-1.4\n% a test file\n%%EOF\n"


def _detail(role: str, control_id: str):
    at = _assess(role, 2, control=control_id)
    at.session_state["assess-controls-view"] = "detail"
    return at.run()


def test_officer_adds_a_reference_and_the_checklist_ticks(ui_db):
    control_id = _control(ui_db)["control_id"]
    checklist = load_catalogue().control_by_id[control_id].evidence
    key = f"ev|2026|{UNIT}|{control_id}|"
    at = _detail("officer", control_id)
    assert not errors(at), errors(at)
    assert f"○ {checklist[0]}" in texts(at) and "No evidence item yet." in texts(at)
    at.text_input(key=f"{key}ref").input("Order *12*/2026, registry B, shelf 4")
    at.button(key=f"FormSubmitter:{key}form-Add evidence").click().run()
    assert not errors(at), errors(at)
    shown = texts(at)
    assert f"✓ {checklist[0]}" in shown
    assert "Order *12*/2026, registry B, shelf 4" in shown  # typed text shown as typed
    with ui_db.service() as svc:
        items = s.evidence_items(svc, CLI_ADMIN, "2026", UNIT)
    assert items["reference"].tolist() == ["Order *12*/2026, registry B, shelf 4"]
    assert items["added_by"].tolist() == ["demo.officer"]


def test_auditor_sees_no_form_and_downloads_a_file(ui_db):
    control_id = _control(ui_db)["control_id"]
    with ui_db.service() as svc:
        item = s.add_evidence(svc, "demo.officer", "2026", UNIT, control_id=control_id,
                              checklist_entry=1, data=PDF, file_name="orders.pdf")  # fmt: skip
    key = f"ev|2026|{UNIT}|{control_id}|"
    at = _detail("auditor", control_id)
    assert not errors(at), errors(at)
    assert "orders.pdf" in texts(at) and item["sha256"] in texts(at)
    assert not [b for b in at.button if b.key and b.key.startswith(f"FormSubmitter:{key}")]
    at.button(key=f"{key}prep-{item['id']}").click().run()
    assert not errors(at), errors(at)
    with ui_db.service() as svc:
        trail = s.audit_trail(svc, CLI_ADMIN)
    downloads = trail[trail["action"] == "evidence.download"]
    assert downloads["actor"].tolist() == ["demo.auditor"]
