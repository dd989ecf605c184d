"""The Exports page: the auditor's workbook for every role, the questionnaire for officers.

Every role reads the page and downloads the workbook (prepared on request, audited);
officers and administrators make a questionnaire template; officers upload a filled-in one,
see every change before saving (unit, risk or control, field, before, after) and apply it
all at once, or see every problem with its sheet and cell and nothing saved.
"""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from riskmap import service as s
from riskmap.service import CLI_ADMIN
from riskmap.ui import registry
from ui_harness import ROLES, errors, page, refused, texts

PAGE = "riskmap.ui.pages.exports"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SECTIONS = {  # role -> the sections the page offers them
    "auditor": {"workbook"},
    "manager": {"workbook"},
    "admin": {"workbook", "template"},
    "officer": {"workbook", "template", "import"},
}


def run(role: str | None, **state):
    at = page(PAGE, role, **state).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def button(at, label: str):
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r}: {[b.label for b in at.button]}"
    return found[0]


def sections(at) -> set[str]:
    heads = {h.value for h in at.subheader}
    return {
        name
        for name, title in (
            ("workbook", "The auditor's workbook"),
            ("template", "Questionnaire template"),
            ("import", "Import a filled-in questionnaire"),
        )
        if title in heads
    }


def filled_questionnaire(ui_db) -> tuple[bytes, str, int]:
    """BC-001's questionnaire with its first risk's likelihood changed and justified."""
    with ui_db.service() as svc:
        template = s.questionnaire_template(svc, CLI_ADMIN, "2026", units=["BC-001"])
    wb = load_workbook(io.BytesIO(template))
    ws = wb["Risks"]
    risk_id, old = ws["D2"].value, ws["G2"].value
    new = 5 if old != 5 else 4
    ws["G2"].value = new
    ws["K2"].value = "Complaints from two NGOs in 2025"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue(), risk_id, new


def likelihood(ui_db, risk_id: str) -> int:
    with ui_db.service() as svc:
        frame = s.risk_ratings(svc, CLI_ADMIN, "2026", "BC-001").set_index("risk_id")
    return int(frame.loc[risk_id, "likelihood"])


def test_registry_entry():
    spec = {p.url_path: p for p in registry.PAGES}["exports"]
    assert set(spec.roles) == set(ROLES)
    assert spec.allows("auditor") and not spec.allows(None)


@pytest.mark.parametrize("role", ROLES)
def test_page_renders_each_roles_sections(ui_db, role):
    at = run(role)
    assert not refused(at) and not errors(at), errors(at)
    assert at.title[0].value == "Exports"
    assert sections(at) == SECTIONS[role]
    assert not at.get("download_button")  # files are prepared on request


def test_page_asks_to_sign_in(ui_db):
    at = run(None)
    assert refused(at)
    assert not at.button and not at.get("download_button")


@pytest.mark.parametrize("role", ROLES)
def test_the_workbook_is_prepared_then_downloaded_and_audited(ui_db, role):
    at = run(role)
    button(at, "Prepare the workbook").click().run()
    assert not at.exception and not errors(at), errors(at)
    downloads = at.get("download_button")
    assert [d.proto.label for d in downloads] == ["Download the auditor's workbook"]
    assert "Prepared at" in texts(at)
    with ui_db.service() as svc:
        last = s.audit_trail(svc, CLI_ADMIN, cycle="2026").iloc[-1]
    assert (last["action"], last["entity_id"], last["actor"]) == ("export", "2026", f"demo.{role}")


@pytest.mark.parametrize("role", ["officer", "admin"])
def test_a_questionnaire_template_for_chosen_units(ui_db, role):
    at = run(role)
    at.multiselect(key="exports-template-units").select("BC-001")
    button(at, "Prepare the questionnaire").click().run()
    assert not at.exception and not errors(at), errors(at)
    labels = [d.proto.label for d in at.get("download_button")]
    assert "Download the questionnaire" in labels
    assert "Prepared at" in texts(at) and "BC-001" in texts(at)


def test_a_locked_cycle_offers_no_questionnaire(ui_db):
    at = run("officer", cycle="2025")
    assert "Prepare the questionnaire" not in [b.label for b in at.button]
    assert not at.file_uploader
    assert "only for a draft cycle" in texts(at)
    assert "Prepare the workbook" in [b.label for b in at.button]


def test_upload_previews_the_changes_and_apply_all_saves_them(ui_db):
    data, risk_id, new = filled_questionnaire(ui_db)
    old = likelihood(ui_db, risk_id)
    at = run("officer")
    at.file_uploader[0].upload("bc-001.xlsx", data, XLSX)
    at.run()
    assert not at.exception and not errors(at), errors(at)
    assert "bc-001.xlsx is correct: 1 risk rating(s) and 0 control rating(s)" in texts(at)
    preview = at.dataframe[0].value
    assert list(preview.columns) == ["unit", "risk or control", "field", "before", "after", "cell"]
    row = preview[preview["field"] == "likelihood"].iloc[0]
    assert row["unit"].startswith("BC-001")
    assert row["risk or control"].startswith(f"risk {risk_id}")
    assert (row["before"], row["after"], row["cell"]) == (str(old), str(new), "Risks!G2")
    assert likelihood(ui_db, risk_id) == old  # nothing saved before "Apply all"

    button(at, "Apply all").click().run()
    assert not at.exception and not errors(at), errors(at)
    assert likelihood(ui_db, risk_id) == new
    assert "Saved bc-001.xlsx" in texts(at)
    assert not at.file_uploader[0].value  # the uploader is emptied
    with ui_db.service() as svc:
        saved = s.audit_trail(svc, CLI_ADMIN, entity="risk_rating").iloc[-1]
    assert saved["actor"] == "demo.officer"
    assert saved["reason"].startswith("questionnaire import: bc-001.xlsx")


def test_a_bad_file_lists_every_problem_with_sheet_and_cell(ui_db):
    data, risk_id, _ = filled_questionnaire(ui_db)
    wb = load_workbook(io.BytesIO(data))
    wb["Risks"]["K2"].value = None
    wb["Controls"]["G3"].value = "high"
    out = io.BytesIO()
    wb.save(out)
    old = likelihood(ui_db, risk_id)
    at = run("officer")
    at.file_uploader[0].upload("bad.xlsx", out.getvalue(), XLSX)
    at.run()
    assert not at.exception
    assert any("bad.xlsx: 2 problem(s)" in e for e in errors(at)), errors(at)
    problems = at.dataframe[0].value
    assert list(problems.columns) == ["sheet", "cell", "problem"]
    assert list(zip(problems["sheet"], problems["cell"], strict=True)) == [
        ("Risks", "K2"),
        ("Controls", "G3"),
    ]
    assert problems["problem"].iloc[1] == 'maturity must be 0-4, got "high"'
    assert "Apply all" not in [b.label for b in at.button]
    assert likelihood(ui_db, risk_id) == old


def test_a_rating_saved_meanwhile_refuses_the_checked_plan_and_checks_again(ui_db):
    data, risk_id, _ = filled_questionnaire(ui_db)
    at = run("officer")
    at.file_uploader[0].upload("bc-001.xlsx", data, XLSX)
    at.run()
    assert "Apply all" in [b.label for b in at.button]
    kept = at.session_state["exports-check"][1]
    assert isinstance(kept, s.ImportPlan) and len(kept.saves) == 1  # the plan the page keeps
    # Someone saves the same rating in riskmap before the officer applies the file.
    with ui_db.service() as svc:
        row = s.risk_ratings(svc, CLI_ADMIN, "2026", "BC-001").set_index("risk_id").loc[risk_id]
        s.rate_risk(
            svc, "demo.officer", "2026", "BC-001", risk_id,
            expected_version=int(row["version"]), likelihood=1, justification="Rechecked",
        )  # fmt: skip
        events = len(s.audit_trail(svc, CLI_ADMIN))
    # "Apply all" applies the plan checked before: refused, nothing written; the file is
    # checked again and the officer sees why (the rating changed since the export).
    button(at, "Apply all").click().run()
    assert not at.exception
    assert any("changed since you checked this file" in e for e in errors(at)), errors(at)
    assert any("bc-001.xlsx: 1 problem(s)" in e for e in errors(at)), errors(at)
    assert "Apply all" not in [b.label for b in at.button]
    problem = at.dataframe[-1].value.iloc[0]
    assert (problem["sheet"], problem["cell"]) == ("Risks", "G2")
    assert "changed in riskmap after this file was exported" in problem["problem"]
    assert likelihood(ui_db, risk_id) == 1
    with ui_db.service() as svc:
        assert len(s.audit_trail(svc, CLI_ADMIN)) == events


def test_the_preview_is_the_plan_that_is_saved(ui_db):
    """What is on screen (the preview of the kept plan) is what "Apply all" saves."""
    data, risk_id, new = filled_questionnaire(ui_db)
    at = run("officer")
    at.file_uploader[0].upload("bc-001.xlsx", data, XLSX)
    at.run()
    shown = at.dataframe[0].value
    assert list(shown["cell"]) == ["Risks!G2", "Risks!K2"]
    button(at, "Apply all").click().run()
    assert not errors(at), errors(at)
    with ui_db.service() as svc:
        saved = s.risk_ratings(svc, CLI_ADMIN, "2026", "BC-001").set_index("risk_id").loc[risk_id]
        last = s.audit_trail(svc, CLI_ADMIN).iloc[-1]
    assert str(int(saved["likelihood"])) == shown.iloc[0]["after"] == str(new)
    assert saved["justification"] == shown.iloc[1]["after"]
    assert last["action"] == "questionnaire.import"
