"""Text fields: one limit per field, no control characters, the same on SQLite and PostgreSQL.

A NUL, a bell or a text over its field's limit is refused by the service as a
`ValidationError` naming the field, on both backends (PostgreSQL would otherwise raise a
raw `psycopg.DataError` on the NUL), whether the use case checks it itself (a rating's
justification) or only the store's flush guard sees it (a cycle comment); nothing is saved.
"""

from __future__ import annotations

import pytest

from riskmap import security, texts
from riskmap import service as s
from riskmap.service import Service
from test_service_workflow import CAT, rating, setup_ministry


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch):
    monkeypatch.setattr(security, "N", 2**4)


@pytest.fixture
def svc(db_url):
    with Service.open(db_url, upgrade=False, catalogue=CAT) as svc:
        setup_ministry(svc)
        s.start_cycle(svc, "olga", "2026", how="empty")
        yield svc


def test_every_limit_fits_an_excel_cell():
    assert all(0 < n <= texts.CELL_LIMIT for n in texts.LIMITS.values())


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a\x00b", "holds the control character U+0000 at character 2"),
        ("bell\x07", "holds the control character U+0007 at character 5"),
        ("x" * 4001, "4,001 characters, over the limit of 4,000 for justification"),
    ],
)
def test_a_justification_that_cannot_be_stored_is_refused(svc, text, problem):
    before = rating(svc, "2026", "BC-N", "BOR-03")
    with pytest.raises(s.ValidationError) as err:
        s.rate_risk(
            svc, "olga", "2026", "BC-N", "BOR-03",
            expected_version=int(before["version"]), likelihood=1, justification=text,
        )  # fmt: skip
    assert err.value.field == "justification"
    assert problem in str(err.value)
    after = rating(svc, "2026", "BC-N", "BOR-03")
    assert (after["likelihood"], after["version"]) == (before["likelihood"], before["version"])


def test_tabs_and_line_breaks_are_kept(svc):
    before = rating(svc, "2026", "BC-N", "BOR-03")
    s.rate_risk(
        svc, "olga", "2026", "BC-N", "BOR-03",
        expected_version=int(before["version"]), likelihood=1, justification="one\n\ttwo",
    )  # fmt: skip
    assert rating(svc, "2026", "BC-N", "BOR-03")["justification"] == "one\n\ttwo"


def test_the_flush_guard_refuses_a_nul_the_use_case_did_not_check(svc):
    with pytest.raises(s.ValidationError) as err:
        s.comment(svc, "olga", "2026", "see \x00 here")
    assert str(err.value) == (
        "text: holds the control character U+0000 at character 5, which cannot be stored or "
        "exported: remove it"
    )
    assert s.comments(svc, "olga", "2026").empty


def test_a_unit_list_with_unstorable_text_is_refused_at_its_row_and_column(ui_db):
    from test_service_imports import _frame

    frame = _frame(
        "code,name,unit_type,headcount,region\n"
        "BC-301,Post\x07one,border_control,4,North\n"
        f"BC-302,Post two,border_control,inf,{'r' * 101}\n"
    )
    with ui_db.service() as svc:
        problems = s.check_unit_import(svc, "demo.admin", frame)["problems"]
    assert [str(p) for p in problems] == [
        "row 2, column name: holds the control character U+0007 at character 5, which cannot "
        "be stored or exported: remove it",
        "row 3, column headcount: 'inf': a whole number, 0 or more",  # the file's column order
        "row 3, column region: 101 characters, over the limit of 100 for region: shorten it",
    ]


def test_an_excel_escape_is_refused_because_excel_would_read_it_as_a_character(svc):
    before = rating(svc, "2026", "BC-N", "BOR-03")
    with pytest.raises(s.ValidationError, match="holds '_x0041_' at character 6, which Excel"):
        s.rate_risk(
            svc, "olga", "2026", "BC-N", "BOR-03",
            expected_version=int(before["version"]), likelihood=1, justification="code _x0041_",
        )  # fmt: skip


@pytest.mark.parametrize(
    "text",
    ["Night shifts\tand\nmore: ü, 東京, 🙂", "x" * texts.LIMITS["justification"], "=1+1 typed"],
)
def test_whatever_is_stored_comes_back_from_a_template_unchanged(text):
    import dataclasses

    import make_bad_questionnaires as corpus
    from riskmap.reports import parse_questionnaire, questionnaire_template

    assert texts.text_problem("justification", text) is None
    snap = corpus.fixture_snapshot(CAT)
    risks = snap.risk_ratings.copy()
    risks.loc[1, "justification"] = text
    snap = dataclasses.replace(snap, risk_ratings=risks)
    answers = parse_questionnaire(questionnaire_template(snap, CAT), snap, CAT, "q.xlsx")
    assert answers.changes == 0 and answers.rows_read == 10


@pytest.mark.parametrize(
    "values",
    [
        ["plain", "tab\tand\nline\r\nbreaks", ""],
        ["fine", "a NUL \x00 here"],
        ["fine", "DEL \x7f"],
        ["an escape _x0041_ in the second", "fine"],
        ["_x00", "41_"],  # an escape only if the texts were run together
        ["x" * 80, "y"],  # over a String(80)'s limit? exactly at it
        ["x" * 81],
        ["lone \ud800 surrogate"],
    ],
)
def test_a_column_is_storable_at_once_exactly_when_each_text_is(values):
    each = all(texts.text_problem("code", v, 80) is None for v in values)
    assert texts.all_storable("code", values, 80) is each
