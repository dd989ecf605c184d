"""Importing a unit list: every problem with its row and column; all or nothing."""

from __future__ import annotations

import hashlib
import io
from collections import Counter

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import event

from riskmap import service as s
from riskmap.problems import Problem
from riskmap.reports.questionnaire_layout import column_letter, control_fields
from riskmap.service import CLI_ADMIN, ImportRejected
from riskmap.service.evidence import evidence_items
from riskmap.service.imports import read_unit_table
from test_service_exports import CAT, OFFICER, dump, fill, sheet_rows
from test_service_exports import svc as svc  # noqa: F401 - the demo copy fixture

GOOD = """code;name;unit_type;parent;region;headcount;discretion
BC-100;Border post Lakeside;border_control;BC-001;North;12;5
BC-101;Border post Hillside;Border control;BC-100;North;7;
LI-100;Labour inspection, coast;labour_inspection;;Coast;;
"""


def _frame(text: str) -> pd.DataFrame:
    return read_unit_table(text.encode(), "units.csv")


def test_reads_csv_with_semicolons_bom_and_blank_rows():
    frame = read_unit_table(("\ufeff" + GOOD + ";;;;;;\n").encode(), "units.csv")
    assert list(frame.columns) == [
        "code",
        "name",
        "unit_type",
        "parent",
        "region",
        "headcount",
        "discretion",
    ]
    assert len(frame) == 3
    assert frame.loc[2, "headcount"] == ""


def test_reads_excel():
    buffer = io.BytesIO()
    pd.read_csv(io.StringIO(GOOD), sep=";", dtype=str).to_excel(buffer, index=False)
    frame = read_unit_table(buffer.getvalue(), "units.xlsx")
    assert list(frame["code"]) == ["BC-100", "BC-101", "LI-100"]
    assert frame.loc[0, "headcount"] == "12"


def test_unreadable_files_are_refused_in_words():
    with pytest.raises(s.ValidationError, match="use a .csv or .xlsx"):
        read_unit_table(b"x", "units.pdf")
    with pytest.raises(s.ValidationError, match="not UTF-8"):
        read_unit_table("code\nÉ".encode("latin-1"), "units.csv")


def test_imports_all_rows_parents_first(ui_db):
    with ui_db.service() as service:
        check = s.check_unit_import(service, "demo.admin", _frame(GOOD))
        assert check["problems"] == []
        assert check["add"] == ["BC-100", "LI-100", "BC-101"]  # parent before child
        result = s.import_units(service, "demo.admin", _frame(GOOD), source="units.csv")
        units = s.list_units(service, CLI_ADMIN).set_index("code")
        trail = s.audit_trail(service, CLI_ADMIN, entity="unit")
    assert sorted(result["added"]) == ["BC-100", "BC-101", "LI-100"]
    assert units.loc["BC-101", "parent"] == "BC-100"
    assert units.loc["BC-101", "unit_type"] == "border_control"  # by name
    assert units.loc["BC-100", "exposure"]["discretion"] == 5
    assert units.loc["LI-100", "headcount"] == 0
    added = trail[trail["entity_id"].isin(["BC-100", "BC-101", "LI-100"])]
    assert set(added["actor"]) == {"demo.admin"} and len(added) == 3
    assert set(added["reason"]) == {"imported from units.csv"}


BAD = """code,name,unit_type,parent,headcount,discretion
BC-200,Post A,border_control,,12,3
BC-200,Post B,border_control,,x,9
bad code!,,no_such_type,NOPE,-1,
BC-201,Post C,border_control,BC-202,,
BC-202,Post D,border_control,BC-201,,
BC-001,Again,border_control,,,
"""


def test_every_problem_is_reported_with_row_and_column_and_nothing_is_written(ui_db):
    with ui_db.service() as service:
        before = len(s.list_units(service, CLI_ADMIN, include_retired=True))
        check = s.check_unit_import(service, "demo.admin", _frame(BAD))
        with pytest.raises(ImportRejected) as err:
            s.import_units(service, "demo.admin", _frame(BAD))
        after = len(s.list_units(service, CLI_ADMIN, include_retired=True))
    found = {(p.row, p.column) for p in check["problems"]}
    assert {
        (3, "code"),  # duplicate of row 2
        (3, "headcount"),
        (3, "discretion"),  # 9 is off the 1-5 scale
        (4, "code"),
        (4, "name"),
        (4, "unit_type"),
        (4, "headcount"),
        (5, "parent"),  # BC-201 and BC-202: a loop
        (6, "parent"),
        (7, "code"),  # BC-001 exists
    } <= found
    assert [(p.row, p.column) for p in err.value.problems] == [
        (p.row, p.column) for p in check["problems"]
    ]
    assert "nothing imported" in str(err.value)
    assert after == before


def test_unknown_or_missing_columns_are_reported_first(ui_db):
    frame = _frame("code,title,unit_type\nBC-300,Post,border_control\n")
    with ui_db.service() as service:
        problems = s.check_unit_import(service, "demo.admin", frame)["problems"]
    assert {(p.row, p.column) for p in problems} == {(0, "name"), (0, "title")}


def test_update_existing_units(ui_db):
    frame = _frame("code,name,unit_type,headcount\nBC-002,Border office North,border_control,44\n")
    with ui_db.service() as service:
        result = s.import_units(service, "demo.admin", frame, update_existing=True)
        unit = s.list_units(service, CLI_ADMIN).set_index("code").loc["BC-002"]
    assert result == {"added": [], "updated": ["BC-002"]}
    assert unit["name"] == "Border office North" and unit["headcount"] == 44
    assert unit["parent"] == "BC-001"  # no parent column: kept
    assert unit["exposure"]["discretion"] >= 1  # no exposure columns: kept
    moved = _frame("code,name,unit_type,parent\nBC-002,Border office North,border_control,\n")
    with ui_db.service() as service:
        s.import_units(service, "demo.admin", moved, update_existing=True)
        unit = s.list_units(service, CLI_ADMIN).set_index("code").loc["BC-002"]
    assert not isinstance(unit["parent"], str)  # a blank parent: top level


def test_only_admins_import(ui_db):
    with ui_db.service() as service, pytest.raises(s.PermissionDenied):
        s.import_units(service, "demo.officer", _frame(GOOD))


# --- the questionnaire import: check once, apply the checked plan ------------------------
# (the round trip itself is tests/test_service_exports.py; these are the plan's guarantees)

REFS = column_letter(control_fields(CAT), "evidence_references")  # the references column


def _levels_changed(template: bytes, count: int) -> bytes:
    """`count` risk rows of the template with the likelihood changed and justified."""
    rows = list(sheet_rows(template, "Risks").values())[:count]
    wb = load_workbook(io.BytesIO(template))
    ws = wb["Risks"]
    for r in rows:
        ws[f"G{r}"].value = 5 if ws[f"G{r}"].value != 5 else 4
        ws[f"K{r}"].value = f"Reviewed on site, row {r}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_a_plan_outdated_by_a_concurrent_rating_change_is_refused_with_nothing_written(svc):
    template = s.questionnaire_template(svc, OFFICER, "2026", units=["BC-001"])
    filled = _levels_changed(template, 3)
    plan = s.check_questionnaire(svc, OFFICER, "2026", filled, "bc.xlsx")
    assert isinstance(plan, s.ImportPlan) and len(plan.saves) == 3
    assert plan.sha256 == hashlib.sha256(filled).hexdigest() and plan.data_version
    # Another officer saves a rating of the file's unit the file does not even touch: the
    # unit moved on (the version is keyed on the units the plan writes, not on the cycle).
    frame = s.control_ratings(svc, CLI_ADMIN, "2026", "BC-001").iloc[0]
    s.rate_control(
        svc, OFFICER, "2026", "BC-001", frame["control_id"],
        expected_version=int(frame["version"]), evidence="Register 4, shelf 2",
    )  # fmt: skip
    before = dump(svc)
    with pytest.raises(s.ImportPlanOutdated, match="changed since you checked this file"):
        s.apply_questionnaire(svc, OFFICER, plan)
    assert dump(svc) == before  # nothing written, not even an audit event
    # Checked again, the same file applies.
    fresh = s.check_questionnaire(svc, OFFICER, "2026", filled, "bc.xlsx")
    assert fresh.data_version != plan.data_version
    result = s.apply_questionnaire(svc, OFFICER, fresh)
    assert result.applied and result.risk_ratings == 3
    # A plan applies once: its rows have moved on.
    with pytest.raises(s.ImportPlanOutdated):
        s.apply_questionnaire(svc, OFFICER, fresh)


def test_a_change_to_a_unit_the_file_does_not_carry_leaves_its_plan_applicable(svc):
    """A region's file is checked against its own units: another region's work meanwhile
    does not outdate it (nor costs its check a read of that region's ratings)."""
    template = s.questionnaire_template(svc, OFFICER, "2026", units=["BC-001"])
    plan = s.check_questionnaire(svc, OFFICER, "2026", _levels_changed(template, 2), "bc.xlsx")
    frame = s.control_ratings(svc, CLI_ADMIN, "2026", "CON-001").iloc[0]
    s.rate_control(
        svc, OFFICER, "2026", "CON-001", frame["control_id"],
        expected_version=int(frame["version"]), evidence="Register 4, shelf 2",
    )  # fmt: skip
    result = s.apply_questionnaire(svc, OFFICER, plan)
    assert result.applied and result.risk_ratings == 2 and result.units == ("BC-001",)


def test_the_import_writes_each_changed_rating_once_and_the_chain_verifies(svc):
    template = s.questionnaire_template(svc, OFFICER, "2026")
    filled = _levels_changed(template, 12)
    before = s.risk_ratings(svc, CLI_ADMIN, "2026").set_index(["unit_code", "risk_id"])
    events = len(s.audit_trail(svc, CLI_ADMIN))
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(svc.engine, "before_cursor_execute", count)
    try:
        result = s.import_questionnaire(svc, OFFICER, "2026", filled, "all.xlsx")
    finally:
        event.remove(svc.engine, "before_cursor_execute", count)
    assert result.risk_ratings == 12
    updates = [q for q in statements if q.lstrip().upper().startswith("UPDATE RISK_RATINGS")]
    assert len(updates) == 12  # each changed row once (in one flush), no other row
    inserts = [q for q in statements if q.lstrip().upper().startswith("INSERT INTO AUDIT_EVENTS")]
    assert len(inserts) < 13  # the 13 events (12 saves, the import) in one batch
    after = s.risk_ratings(svc, CLI_ADMIN, "2026").set_index(["unit_code", "risk_id"])
    moved = after.index[after["version"] != before["version"]]
    assert len(moved) == 12
    assert (after.loc[moved, "version"] == before.loc[moved, "version"] + 1).all()
    trail = s.audit_trail(svc, CLI_ADMIN).iloc[events:]
    saves = trail[trail["action"] == "risk_rating.save"]
    assert Counter(saves["entity_id"]).most_common(1)[0][1] == 1  # each rating once
    assert set(saves["entity_id"]) == {f"2026/{u}/{r}" for u, r in moved}
    assert list(trail["action"])[-1] == "questionnaire.import"
    verified = s.verify_audit(svc, CLI_ADMIN)
    assert verified.ok, verified


def test_baselines_are_read_once_whatever_the_number_of_rows(svc):
    template = s.questionnaire_template(svc, OFFICER, "2026")
    counts = []
    for n in (1, 15):
        statements: list[str] = []

        def count(conn, cursor, statement, *args, into=statements):
            into.append(statement)

        event.listen(svc.engine, "before_cursor_execute", count)
        try:
            plan = s.check_questionnaire(svc, OFFICER, "2026", _levels_changed(template, n), "q")
        finally:
            event.remove(svc.engine, "before_cursor_execute", count)
        assert len(plan.saves) == n
        counts.append(len(statements))
    assert counts[0] == counts[1], counts  # no query per row


def _reference_row(svc, template: bytes):
    (unit, control), row = next(iter(sheet_rows(template, "Controls").items()))
    return unit, control, row


def test_evidence_references_round_trip(svc):
    template = s.questionnaire_template(svc, OFFICER, "2026", units=["BC-001"])
    unit, control, r = _reference_row(svc, template)
    checklist = CAT.control_by_id[control].evidence
    untouched = s.check_questionnaire(svc, OFFICER, "2026", template, "same.xlsx")
    assert untouched.nothing_to_save and untouched.changes.empty
    typed = f"1: HR-REG 14/2025, personnel registry, room 4\n\n{len(checklist)}: Minutes 3/2026"
    filled = fill(template, {("Controls", f"{REFS}{r}"): typed})
    plan = s.check_questionnaire(svc, OFFICER, "2026", filled, "refs.xlsx")
    assert (plan.ratings, plan.evidence_items) == (0, 2)  # the rating itself is unchanged
    assert list(plan.changes["field"]) == ["evidence reference"] * 2
    assert list(plan.changes["cell"]) == [f"Controls!{REFS}{r}"] * 2
    assert plan.changes["after"].iloc[0] == "1: HR-REG 14/2025, personnel registry, room 4"
    version = s.control_ratings(svc, CLI_ADMIN, "2026", unit).set_index("control_id")
    result = s.import_questionnaire(svc, OFFICER, "2026", filled, "refs.xlsx")
    assert result.evidence_items == 2 and "2 evidence reference(s)" in result.summary()
    items = evidence_items(svc, OFFICER, "2026", unit)
    items = items[items["control_id"] == control]
    assert list(items["kind"]) == ["reference", "reference"]
    assert list(items["checklist_entry"]) == [checklist[0], checklist[-1]]
    assert list(items["reference"]) == [
        "HR-REG 14/2025, personnel registry, room 4",
        "Minutes 3/2026",
    ]
    after = s.control_ratings(svc, CLI_ADMIN, "2026", unit).set_index("control_id")
    assert after.loc[control, "version"] == version.loc[control, "version"]  # rating untouched
    trail = s.audit_trail(svc, CLI_ADMIN)
    assert list(trail["action"].tail(3)) == ["evidence.add", "evidence.add", "questionnaire.import"]
    assert s.verify_audit(svc, CLI_ADMIN).ok
    # The same file again, and the new template as it comes: nothing to save, no duplicate.
    assert s.check_questionnaire(svc, OFFICER, "2026", filled, "refs.xlsx").nothing_to_save
    again = s.questionnaire_template(svc, OFFICER, "2026", units=["BC-001"])
    ws = load_workbook(io.BytesIO(again))["Controls"]
    assert ws[f"{REFS}{r}"].value == (
        f"1: HR-REG 14/2025, personnel registry, room 4\n{len(checklist)}: Minutes 3/2026"
    )
    assert ws[f"{REFS}1"].value.startswith("Evidence references")
    assert not ws[f"{REFS}{r}"].protection.locked
    resent = s.check_questionnaire(svc, OFFICER, "2026", again, "again.xlsx")
    assert resent.nothing_to_save and resent.changes.empty


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("HR-REG 14/2025 without a number", 'the line "HR-REG 14/2025 without a number" is not'),
        ("99: HR-REG 14/2025", "has entries 1-"),
        ("1: " + "x" * 4001, "over the limit of 4,000 for reference"),
        ("1: HR-REG 14/2025\n2:", 'the line "2:" is not'),
    ],
)
def test_evidence_references_are_checked_at_their_cell(svc, typed, message):
    template = s.questionnaire_template(svc, OFFICER, "2026", units=["BC-001"])
    unit, control, r = _reference_row(svc, template)
    filled = fill(template, {("Controls", f"{REFS}{r}"): typed})
    before = dump(svc)
    with pytest.raises(s.QuestionnaireRejected) as err:
        s.import_questionnaire(svc, OFFICER, "2026", filled, "refs.xlsx")
    [problem] = err.value.problems
    assert isinstance(problem, Problem)
    assert (problem.file, problem.cell, problem.field) == (
        "Controls", f"{REFS}{r}", "evidence_references",
    )  # fmt: skip
    assert message in problem.message
    assert dump(svc) == before


def _meta(data: bytes) -> dict:
    wb = load_workbook(io.BytesIO(data))
    return {row[0].value: row[1].value for row in wb["_meta"].iter_rows()}


def _with_meta(data: bytes, key: str, value: str) -> bytes:
    wb = load_workbook(io.BytesIO(data))
    ws = wb["_meta"]
    for row in ws.iter_rows():
        if row[0].value == key:
            row[1].value = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_a_part_file_names_its_units_and_a_whole_file_does_not(svc):
    part = s.questionnaire_template(svc, OFFICER, "2026", units=["BC-001", "CON-001"])
    assert _meta(part)["unit_codes"] == "BC-001\nCON-001"
    assert "unit_codes" not in _meta(s.questionnaire_template(svc, OFFICER, "2026"))


def test_a_row_of_a_unit_the_part_does_not_name_is_checked_against_the_whole_cycle(svc):
    """The units named in the hidden sheet only choose which ratings are read: a file whose
    list was edited (or a row copied in from another part) is checked as a whole file."""
    template = s.questionnaire_template(svc, OFFICER, "2026", units=["BC-001"])
    filled = _with_meta(_levels_changed(template, 2), "unit_codes", "CON-001")
    plan = s.check_questionnaire(svc, OFFICER, "2026", filled, "bc.xlsx")
    assert plan.units == ("BC-001",) and plan.risk_ratings == 2
    assert s.apply_questionnaire(svc, OFFICER, plan).applied
