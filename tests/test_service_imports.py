"""Importing a unit list: every problem with its row and column; all or nothing."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from riskmap import service as s
from riskmap.service import CLI_ADMIN, ImportRejected
from riskmap.service.imports import read_unit_table

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
    with ui_db.service() as svc:
        check = s.check_unit_import(svc, "demo.admin", _frame(GOOD))
        assert check["problems"] == []
        assert check["add"] == ["BC-100", "LI-100", "BC-101"]  # parent before child
        result = s.import_units(svc, "demo.admin", _frame(GOOD), source="units.csv")
        units = s.list_units(svc, CLI_ADMIN).set_index("code")
        trail = s.audit_trail(svc, CLI_ADMIN, entity="unit")
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
    with ui_db.service() as svc:
        before = len(s.list_units(svc, CLI_ADMIN, include_retired=True))
        check = s.check_unit_import(svc, "demo.admin", _frame(BAD))
        with pytest.raises(ImportRejected) as err:
            s.import_units(svc, "demo.admin", _frame(BAD))
        after = len(s.list_units(svc, CLI_ADMIN, include_retired=True))
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
    with ui_db.service() as svc:
        problems = s.check_unit_import(svc, "demo.admin", frame)["problems"]
    assert {(p.row, p.column) for p in problems} == {(0, "name"), (0, "title")}


def test_update_existing_units(ui_db):
    frame = _frame("code,name,unit_type,headcount\nBC-002,Border office North,border_control,44\n")
    with ui_db.service() as svc:
        result = s.import_units(svc, "demo.admin", frame, update_existing=True)
        unit = s.list_units(svc, CLI_ADMIN).set_index("code").loc["BC-002"]
    assert result == {"added": [], "updated": ["BC-002"]}
    assert unit["name"] == "Border office North" and unit["headcount"] == 44
    assert unit["parent"] == "BC-001"  # no parent column: kept
    assert unit["exposure"]["discretion"] >= 1  # no exposure columns: kept
    moved = _frame("code,name,unit_type,parent\nBC-002,Border office North,border_control,\n")
    with ui_db.service() as svc:
        s.import_units(svc, "demo.admin", moved, update_existing=True)
        unit = s.list_units(svc, CLI_ADMIN).set_index("code").loc["BC-002"]
    assert not isinstance(unit["parent"], str)  # a blank parent: top level


def test_only_admins_import(ui_db):
    with ui_db.service() as svc, pytest.raises(s.PermissionDenied):
        s.import_units(svc, "demo.officer", _frame(GOOD))
