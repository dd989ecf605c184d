"""The walk-through's evidence panel (AppTest): the checklist with a tick per entry
answered, a reference added by an officer, a file downloaded by an auditor (audited), an
item superseded on screen, evidence for a risk rating's justification."""

from __future__ import annotations

from riskmap import service as s
from riskmap.catalogue import load_catalogue
from riskmap.service import CLI_ADMIN
from test_ui_assess import UNIT, _assess, _control, _risk
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


def test_officer_supersedes_an_item_on_screen(ui_db):
    control_id = _control(ui_db)["control_id"]
    with ui_db.service() as svc:
        old = s.add_evidence(svc, "demo.officer", "2026", UNIT, control_id=control_id,
                             checklist_entry=1, reference="Order 7/2025")  # fmt: skip
    mine = f"ev|2026|{UNIT}|{control_id}|sup-{old['id']}|"
    at = _detail("officer", control_id)
    at.text_input(key=f"{mine}ref").input("Order 9/2026, registry C")
    at.button(key=f"FormSubmitter:{mine}form-Supersede item {old['id']}").click().run()
    assert errors(at) and "say why" in errors(at)[0]  # no reason: refused, nothing written
    at.text_input(key=f"{mine}reason").input("the order was renewed")
    at.text_input(key=f"{mine}ref").input("Order 9/2026, registry C")
    at.button(key=f"FormSubmitter:{mine}form-Supersede item {old['id']}").click().run()
    assert not errors(at), errors(at)
    with ui_db.service() as svc:
        items = s.evidence_items(svc, CLI_ADMIN, "2026", UNIT, include_superseded=True)
    new = items[items["superseded_by"].isna()].iloc[0]
    assert items.set_index("id").loc[old["id"], "superseded_by"] == new["id"]
    shown = texts(at)
    assert f"Item {old['id']}: **Order 7/2025** (reference; superseded by item {new['id']})" in (
        shown
    )
    assert f"Item {new['id']}: **Order 9/2026, registry C** (reference; valid)" in shown


def test_officer_adds_evidence_to_a_risk_rating(ui_db):
    risk_id = _risk(ui_db)["risk_id"]
    key = f"ev|2026|{UNIT}|risk:{risk_id}|"
    at = _assess("officer", 1, risk=risk_id).run()
    assert not errors(at), errors(at)
    assert "Evidence for the justification" in texts(at)
    at.text_input(key=f"{key}entry").input("2025 staff survey")
    at.text_input(key=f"{key}ref").input("Survey file S-3, HR archive")
    at.button(key=f"FormSubmitter:{key}form-Add evidence").click().run()
    assert not errors(at), errors(at)
    with ui_db.service() as svc:
        items = s.evidence_items(svc, CLI_ADMIN, "2026", UNIT)
    row = items.iloc[0]
    assert (row["risk_id"], row["control_id"], row["checklist_entry"]) == (
        risk_id, None, "2025 staff survey",
    )  # fmt: skip
    assert "Survey file S-3, HR archive" in texts(at)
    auditor = _assess("auditor", 1, risk=risk_id).run()
    assert "Survey file S-3, HR archive" in texts(auditor)
    assert not [b for b in auditor.button if b.key and b.key.startswith(f"FormSubmitter:{key}")]


def test_the_uploader_takes_the_evidence_size_setting(ui_db, monkeypatch):
    """The panel's uploader limit is the service's evidence setting (rounded up to whole
    megabytes), not the dashboard's 20 MB for questionnaires and unit lists."""
    control_id = _control(ui_db)["control_id"]
    monkeypatch.setenv("RISKMAP_EVIDENCE_MAX_BYTES", str(30 * 1024 * 1024 + 1))
    at = _detail("officer", control_id)
    assert not errors(at), errors(at)
    limits = {u.proto.max_upload_size_mb for u in at.get("file_uploader")}
    assert limits == {31}
