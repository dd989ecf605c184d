"""The questionnaire: template layout, round trip through openpyxl, and the corpus of bad files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

import make_bad_questionnaires as corpus
import synthetic
from riskmap.catalogue import load_catalogue
from riskmap.reports import (
    CycleSnapshot,
    QuestionnaireError,
    check_upload,
    parse_questionnaire,
    questionnaire_template,
)
from riskmap.reports.questionnaire_layout import (
    CONTROL_ANSWER_COLUMNS,
    RISK_ANSWER_COLUMNS,
    control_fields,
    risk_fields,
)

CASES_FILE = corpus.CORPUS / "cases.yaml"
CASES = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))["cases"]


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.fixture(scope="module")
def snapshot(catalogue):
    return corpus.fixture_snapshot(catalogue)


@pytest.fixture(scope="module")
def template(snapshot, catalogue) -> bytes:
    return questionnaire_template(snapshot, catalogue)


def fill(data: bytes, changes: dict[tuple[str, str], object]) -> bytes:
    """Type answers into a template as a user would (openpyxl), and save."""
    wb = load_workbook(io.BytesIO(data))
    for (sheet, ref), value in changes.items():
        wb[sheet][ref].value = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- the template ------------------------------------------------------------------------


def test_template_layout(template, catalogue):
    wb = load_workbook(io.BytesIO(template))
    assert wb.sheetnames == ["Instructions", "Risks", "Controls", "Scales", "Lists", "_meta"]
    assert wb["_meta"].sheet_state == "veryHidden"
    assert wb["Lists"].sheet_state == "hidden"
    assert wb.security is not None and wb.security.lockStructure
    risks, controls = wb["Risks"], wb["Controls"]
    assert [c.value for c in risks[1]] == [f.header for f in risk_fields(catalogue)]
    assert [c.value for c in controls[1]] == [f.header for f in control_fields(catalogue)]
    # Rows as in fixture_snapshot: current values, hidden identifiers and exported values.
    assert [c.value for c in risks[2]][:7] == [
        "BP-N", "Border post North", "border_control", "BOR-01",
        catalogue.risk_by_id["BOR-01"].title, "yes", 4,
    ]  # fmt: skip
    assert [risks.cell(2, i).value for i in range(12, 19)] == ["U1", "BOR-01", 1, "yes", 4, 4, None]
    assert risks["F4"].value == "no" and risks["K4"].value.startswith("No contact")
    for ws, fields in ((risks, risk_fields(catalogue)), (controls, control_fields(catalogue))):
        assert ws.protection.sheet
        for i, f in enumerate(fields, 1):
            cell = ws.cell(2, i)
            letter = cell.column_letter
            assert cell.protection.locked == (f.role != "answer"), f.key
            assert ws.column_dimensions[letter].hidden == (f.role in ("id", "was")), f.key
            if f.role == "meaning":
                assert cell.data_type == "f" and "VLOOKUP" in cell.value
    lists = {str(dv.sqref): dv.formula1 for dv in risks.data_validations.dataValidation}
    assert lists == {"F2:F6": '"yes,no"', "G2:G6": '"1,2,3,4,5"', "I2:I6": '"1,2,3,4,5"'}
    maturity = [dv.formula1 for dv in controls.data_validations.dataValidation]
    assert '"0,1,2,3,4"' in maturity
    meta = {r[0].value: r[1].value for r in wb["_meta"].iter_rows()}
    assert meta["cycle"] == "2025" and meta["catalogue_version"] == catalogue.version
    assert meta["format"] == "riskmap questionnaire"


def test_template_for_some_units(snapshot, catalogue):
    wb = load_workbook(io.BytesIO(questionnaire_template(snapshot, catalogue, unit_ids=["U2"])))
    codes = {r[0].value for r in wb["Risks"].iter_rows(min_row=2)}
    assert codes == {"CG-1"}
    with pytest.raises(ValueError, match="unknown unit"):
        questionnaire_template(snapshot, catalogue, unit_ids=["U2", "nope"])


def test_untouched_template_has_no_changes(template, snapshot, catalogue):
    answers = parse_questionnaire(template, snapshot, catalogue, "q.xlsx")
    assert answers.changes == 0 and answers.rows_read == 10
    assert list(answers.risk_ratings.columns) == RISK_ANSWER_COLUMNS
    assert list(answers.control_ratings.columns) == CONTROL_ANSWER_COLUMNS


# --- round trip ---------------------------------------------------------------------------


def test_round_trip_returns_exactly_the_changes(template, snapshot, catalogue):
    filled = fill(
        template,
        {
            # BOR-01: likelihood 4 -> 5 with a reason.
            ("Risks", "G2"): 5,
            ("Risks", "K2"): "Two bribery cases at this post in 2024",
            # DOC-02 marked not applicable, with a reason; typed as text "No".
            ("Risks", "F6"): "No",
            ("Risks", "K6"): "The consulate issues no visas",
            # BOR-03: nothing but the justification reworded.
            ("Risks", "K3"): "Night shifts are unsupervised since 2023",
            # supervision: maturity 3 -> 4 typed as text, with a reason and evidence.
            ("Controls", "G3"): "4",
            ("Controls", "I3"): "Supervision log, monthly reviews",
            ("Controls", "J3"): "Dashboards since March",
            # staff_rotation in U2: evidence only (no justification needed).
            ("Controls", "I6"): "Rotation plan 2025",
            # Same value re-typed: no change.
            ("Risks", "I2"): 4,
        },
    )
    answers = parse_questionnaire(filled, snapshot, catalogue, "filled.xlsx")
    rr = answers.risk_ratings.set_index("risk_id")
    assert sorted(rr.index) == ["BOR-01", "BOR-03", "DOC-02"]
    assert rr.loc["BOR-01", ["likelihood", "impact", "applicable"]].tolist() == [5, 4, True]
    assert rr.loc["BOR-01", "changed"] == ["likelihood", "justification"]
    assert rr.loc["BOR-01", "version"] == 1 and not rr.loc["BOR-01", "stale"]
    assert rr.loc["BOR-03", "changed"] == ["justification"]
    assert rr.loc["BOR-03", "version"] == 2
    assert rr.loc["DOC-02", "applicable"] == False  # noqa: E712
    assert rr.loc["DOC-02", "unit_code"] == "U2" and rr.loc["DOC-02", "sheet_row"] == 6
    cr = answers.control_ratings.set_index(["unit_code", "control_id"])
    assert sorted(cr.index) == [("U1", "supervision"), ("U2", "staff_rotation")]
    sup = cr.loc[("U1", "supervision")]
    assert (sup["maturity"], sup["evidence"], sup["justification"]) == (
        4, "Supervision log, monthly reviews", "Dashboards since March",
    )  # fmt: skip
    assert sup["changed"] == ["maturity", "evidence", "justification"]
    assert cr.loc[("U2", "staff_rotation"), "changed"] == ["evidence"]
    assert answers.units == ("U1", "U2") and answers.changes == 5 and answers.stale == 0


def test_rating_changed_since_export_is_flagged_stale(template, snapshot, catalogue):
    filled = fill(template, {("Risks", "G5"): 4, ("Risks", "K5"): "New route opened"})
    moved = snapshot.risk_ratings.copy()
    moved.loc[moved["risk_id"] == "DOC-01", ["likelihood", "version"]] = [2, 2]
    later = CycleSnapshot(**{**snapshot.__dict__, "risk_ratings": moved})
    answers = parse_questionnaire(filled, later, catalogue, "filled.xlsx")
    row = answers.risk_ratings.iloc[0]
    assert (row["risk_id"], row["likelihood"], row["version"], row["stale"]) == (
        "DOC-01", 4, 1, True,
    )  # fmt: skip
    assert answers.stale == 1


def test_injected_text_is_returned_as_text(template, snapshot, catalogue):
    evil = '=HYPERLINK("http://x.example","click")'
    filled = fill(template, {("Risks", "G2"): 5})
    wb = load_workbook(io.BytesIO(filled))
    cell = wb["Risks"]["K2"]
    cell.value = evil
    cell.data_type = "s"  # typed with a leading apostrophe: text, not a formula
    out = io.BytesIO()
    wb.save(out)
    answers = parse_questionnaire(out.getvalue(), snapshot, catalogue, "q.xlsx")
    assert answers.risk_ratings.iloc[0]["justification"] == evil


# --- the corpus of bad files --------------------------------------------------------------


@pytest.fixture(scope="module")
def bad_files(catalogue) -> dict[str, Path]:
    return corpus.generate(corpus.CORPUS, catalogue)


def test_corpus_and_cases_agree(bad_files):
    assert len(CASES) >= 20
    assert sorted(c["file"] for c in CASES) == sorted(bad_files)
    for path in bad_files.values():
        assert path.is_file()


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_bad_questionnaire_is_refused(case, bad_files, snapshot, catalogue):
    data = bad_files[case["file"]].read_bytes()
    expected = [e.replace("{catalogue_version}", catalogue.version) for e in case["errors"]]
    with pytest.raises(QuestionnaireError) as caught:
        parse_questionnaire(data, snapshot, catalogue, case["file"])
    assert [str(p) for p in caught.value.errors] == expected
    assert case["file"] in str(caught.value)


def test_declared_sizes_bound_decompression(template, snapshot, catalogue):
    """The zip bomb checks trust declared sizes: a part lying about its size never yields
    more than it declared (zipfile stops there and fails its CRC), so the file is refused."""
    assert check_upload(template) == []
    lying = corpus.patch_central_directory(template, "xl/sharedStrings.xml", size=100)
    with (
        zipfile.ZipFile(io.BytesIO(lying)) as z,
        z.open("xl/sharedStrings.xml") as part,
        pytest.raises(zipfile.BadZipFile, match="CRC"),
    ):
        part.read(10**9)  # stops at the declared 100 bytes, then fails the CRC
    with pytest.raises(QuestionnaireError) as caught:
        parse_questionnaire(lying, snapshot, catalogue, "lying.xlsx")
    assert "xl/sharedStrings.xml" in caught.value.errors[0].message


def test_error_list_is_capped_with_a_count(template, snapshot, catalogue):
    many = synthetic.ministry(catalogue, units=40, seed=3)
    snap = CycleSnapshot(
        organisation="M", cycle_label="2025", status="draft",
        catalogue_version=catalogue.version, units=many.units,
        risk_ratings=many.risk_ratings, control_ratings=many.control_ratings,
    )  # fmt: skip
    wb = load_workbook(io.BytesIO(questionnaire_template(snap, catalogue)))
    ws = wb["Controls"]
    for row in range(2, ws.max_row + 1):
        ws.cell(row, 7).value = "high"
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(QuestionnaireError) as caught:
        parse_questionnaire(out.getvalue(), snap, catalogue, "q.xlsx")
    errors = caught.value.errors
    assert len(errors) == 501 and errors[-1].message.startswith("... and ")
    assert (errors[0].file, errors[0].cell, errors[0].field) == ("Controls", "G2", "maturity")


def test_cell_reader_handles_rich_text_and_value_kinds():
    from xml.etree.ElementTree import fromstring

    from riskmap.reports import sheet_rows

    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rich = fromstring(
        f'<c {ns} r="K2" t="inlineStr"><is><r><t>Two </t></r><r><rPr/><t>cases</t></r>'
        "<rPh><t>phonetic</t></rPh></is></c>"
    )
    assert sheet_rows._cell(rich, []) == ("Two cases", False)
    cases = {
        f'<c {ns} r="G2"><v>4</v></c>': (4, False),
        f'<c {ns} r="G2"><v>2.5</v></c>': (2.5, False),
        f'<c {ns} r="G2" t="s"><v>1</v></c>': ("second", False),
        f'<c {ns} r="G2" t="b"><v>1</v></c>': (True, False),
        f'<c {ns} r="G2" t="e"><v>#N/A</v></c>': ("#N/A", False),
        f'<c {ns} r="G2" t="str"><f>A1&amp;"x"</f><v>ax</v></c>': ('=A1&"x"', True),
        f'<c {ns} r="G3"><f t="shared" si="0"/><v>3</v></c>': ("=", True),
        f'<c {ns} r="G2" s="3"/>': (None, False),
    }
    for xml, expected in cases.items():
        assert sheet_rows._cell(fromstring(xml), ["first", "second"]) == expected, xml
    assert sheet_rows.column_index("A") == 1 and sheet_rows.column_index("AB") == 28
