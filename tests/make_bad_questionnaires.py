"""Generate the corpus of bad questionnaires in tests/data/bad_questionnaires/.

Every file starts from a good template of a small hand-made cycle (`fixture_snapshot`) and
breaks it one way (or several, for the "many problems" case). `cases.yaml` beside the files
states, for each file, the exact errors `parse_questionnaire` must raise; the test
`tests/test_reports_questionnaire.py` generates the files (into a temporary folder or the
corpus folder) and checks every case. Run by hand to look at the files:

    .venv/bin/python tests/make_bad_questionnaires.py [FOLDER]
"""

from __future__ import annotations

import io
import random
import string
import struct
import sys
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook, load_workbook

from riskmap.catalogue import Catalogue, load_catalogue
from riskmap.reports import CycleSnapshot, questionnaire_template
from riskmap.reports.safety import MAX_UPLOAD_BYTES, OLE_MAGIC, ZIP_MAGIC

CORPUS = Path(__file__).resolve().parent / "data" / "bad_questionnaires"
CYCLE = "2025"


def fixture_snapshot(catalogue: Catalogue) -> CycleSnapshot:
    """Two units, five risk ratings, five control ratings; every row position is fixed.

    Risks rows: 2 U1/BOR-01, 3 U1/BOR-03, 4 U1/EXP-06 (not applicable), 5 U2/DOC-01,
    6 U2/DOC-02. Controls rows: 2 U1/staff_rotation, 3 U1/supervision,
    4 U1/victim_identification_training, 5 U2/decision_review, 6 U2/staff_rotation.
    """
    units = pd.DataFrame(
        [
            ("U1", "BP-N", "Border post North", "border_control", "North", "", 40),
            ("U2", "CG-1", "Consulate General", "consular", "Abroad", "", 12),
        ],
        columns=["unit_code", "code", "unit", "unit_type", "region", "parent", "headcount"],
    )
    risks = pd.DataFrame(
        [
            ("U1", "BOR-01", True, 4, 4, "", True, 1),
            ("U1", "BOR-03", True, 3, 4, "Night shifts are unsupervised", True, 2),
            ("U1", "EXP-06", False, 2, 4, "No contact with presumed victims here", True, 1),
            ("U2", "DOC-01", True, 3, 3, "", False, 1),
            ("U2", "DOC-02", True, 2, 3, "", False, 1),
        ],
        columns=[
            "unit_code", "risk_id", "applicable", "likelihood", "impact", "justification",
            "confirmed", "version",
        ],
    )  # fmt: skip
    controls = pd.DataFrame(
        [
            ("U1", "staff_rotation", True, 2, "Rotation plan 2024", "", True, 1),
            ("U1", "supervision", True, 3, "", "", True, 1),
            ("U1", "victim_identification_training", True, 1, "", "", True, 1),
            ("U2", "decision_review", True, 0, "", "", False, 1),
            ("U2", "staff_rotation", True, 1, "", "", False, 1),
        ],
        columns=[
            "unit_code", "control_id", "applicable", "maturity", "evidence", "justification",
            "confirmed", "version",
        ],
    )  # fmt: skip
    return CycleSnapshot(
        organisation="Ministry of the Interior",
        cycle_label=CYCLE,
        status="draft",
        catalogue_version=catalogue.version,
        units=units,
        risk_ratings=risks,
        control_ratings=controls,
        drafted_by="officer",
        drafted_at=datetime(2025, 1, 6, 9, 0, tzinfo=UTC),
        generated_at=datetime(2025, 2, 1, 12, 0, tzinfo=UTC),
    )


def good_template(catalogue: Catalogue) -> bytes:
    return questionnaire_template(fixture_snapshot(catalogue), catalogue)


# --- ways to break a file ---------------------------------------------------------------


def edit(data: bytes, changes: dict[tuple[str, str], Any], drop: tuple[str, ...] = ()) -> bytes:
    """The workbook with cells changed (as a user would type them) and sheets removed."""
    wb = load_workbook(io.BytesIO(data))
    for (sheet, ref), value in changes.items():
        wb[sheet][ref].value = value
    for sheet in drop:
        del wb[sheet]
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def copy_row(data: bytes, sheet: str, source: int, target: int) -> bytes:
    wb = load_workbook(io.BytesIO(data))
    ws = wb[sheet]
    for cell in ws[source]:
        ws.cell(row=target, column=cell.column, value=cell.value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def rezip(
    data: bytes,
    replace: dict[str, bytes] | None = None,
    drop: tuple[str, ...] = (),
    add: dict[str, bytes] | None = None,
) -> bytes:
    """The zip with parts replaced, dropped or added."""
    replace = replace or {}
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as zin,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout,
    ):
        for info in zin.infolist():
            if info.filename in drop:
                continue
            zout.writestr(info.filename, replace.get(info.filename, zin.read(info.filename)))
        for name, content in (add or {}).items():
            zout.writestr(name, content)
    return out.getvalue()


def make_zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in parts.items():
            z.writestr(name, content)
    return out.getvalue()


def patch_central_directory(data: bytes, name: str, *, size: int | None = None, flags: int = 0):
    """Lie in the zip's central directory about one part: its declared size or its flags."""
    buf = bytearray(data)
    target = name.encode()
    at = buf.find(b"PK\x01\x02")
    while at >= 0:
        name_len = struct.unpack_from("<H", buf, at + 28)[0]
        if bytes(buf[at + 46 : at + 46 + name_len]) == target:
            if size is not None:
                struct.pack_into("<I", buf, at + 24, size)
            if flags:
                old = struct.unpack_from("<H", buf, at + 8)[0]
                struct.pack_into("<H", buf, at + 8, old | flags)
            return bytes(buf)
        at = buf.find(b"PK\x01\x02", at + 4)
    raise KeyError(name)


def _content_types(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read("[Content_Types].xml")


def _plain_workbook() -> bytes:
    wb = Workbook()
    wb.active.append(["unit", "risk", "likelihood"])
    wb.active.append(["U1", "BOR-01", 4])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


_WORD_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/content-types"><Override PartName="/word/document.xml" ContentType="'
    b'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    b"</Types>"
)
_DOCTYPE = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'

Builder = Callable[[bytes], bytes]
RISKS_PART = "xl/worksheets/sheet2.xml"  # the Risks sheet (Instructions is sheet1)


def sheet_xml(good: bytes, old: bytes, new: bytes, part: str = RISKS_PART) -> bytes:
    """The workbook with one exact piece of a sheet's XML replaced (a hand-made cell)."""
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        xml = z.read(part)
    assert old in xml, old
    return rezip(good, replace={part: xml.replace(old, new, 1)})


def _words(n: int) -> bytes:
    """`n` letters and spaces that do not compress like a zip bomb (seeded: reproducible)."""
    return "".join(random.Random(16).choices(string.ascii_lowercase + " ", k=n)).encode()


def _late_doctype(good: bytes) -> bytes:
    """A DOCTYPE after 8 KB of comment: past where a check of the first 4 KB looks."""
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        xml = z.read(RISKS_PART)
    padded = b"<!--" + b" " * 8192 + b"-->" + _DOCTYPE.split(b"?>", 1)[1] + xml
    return rezip(good, replace={RISKS_PART: padded})


CASES: dict[str, Builder] = {
    "01_not_a_zip.xlsx": lambda good: b"unit,risk,likelihood\nU1,BOR-01,4\n",
    "02_encrypted.xlsx": lambda good: OLE_MAGIC + bytes(4088),
    "03_too_large.xlsx": lambda good: ZIP_MAGIC + bytes(MAX_UPLOAD_BYTES),
    "04_macro_vba.xlsx": lambda good: rezip(good, add={"xl/vbaProject.bin": b"\x00VBA" * 64}),
    "05_macro_enabled.xlsm": lambda good: rezip(
        good,
        replace={
            "[Content_Types].xml": _content_types(good).replace(
                b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml"
            )
        },
    ),
    "06_zip_bomb_ratio.xlsx": lambda good: rezip(
        good, add={"xl/media/padding.bin": bytes(40 * 1024 * 1024)}
    ),
    "07_zip_bomb_declared_size.xlsx": lambda good: patch_central_directory(
        rezip(good, add={"xl/worksheets/sheet99.xml": b"<worksheet/>" * 1000}),
        "xl/worksheets/sheet99.xml",
        size=500 * 1024 * 1024,
    ),
    "08_no_content_types.xlsx": lambda good: rezip(good, drop=("[Content_Types].xml",)),
    "09_not_a_workbook.xlsx": lambda good: make_zip(
        {"[Content_Types].xml": _WORD_TYPES, "word/document.xml": b"<document/>"}
    ),
    "10_doctype_entities.xlsx": lambda good: rezip(
        good, replace={"xl/styles.xml": _DOCTYPE + b"<styleSheet>&lol2;</styleSheet>"}
    ),
    "11_encrypted_part.xlsx": lambda good: patch_central_directory(
        good, "xl/styles.xml", flags=0x1
    ),
    "12_not_a_questionnaire.xlsx": lambda good: _plain_workbook(),
    "13_other_cycle.xlsx": lambda good: edit(good, {("_meta", "B4"): "2024"}),
    "14_other_catalogue.xlsx": lambda good: edit(good, {("_meta", "B5"): "0123456789abcdef"}),
    "15_unknown_unit.xlsx": lambda good: edit(good, {("Risks", "L3"): "U9"}),
    "16_unknown_risk.xlsx": lambda good: edit(good, {("Risks", "M2"): "BOR-99"}),
    "17_unknown_control.xlsx": lambda good: edit(good, {("Controls", "M3"): "crystal_ball"}),
    "18_risk_not_rated_for_unit.xlsx": lambda good: edit(
        good, {("Risks", "M5"): "BOR-02", ("Risks", "D5"): "BOR-02"}
    ),
    "19_likelihood_out_of_range.xlsx": lambda good: edit(
        good, {("Risks", "G2"): 7, ("Risks", "K2"): "Two incidents in 2024"}
    ),
    "20_maturity_word.xlsx": lambda good: edit(good, {("Controls", "G3"): "high"}),
    "21_impact_fraction.xlsx": lambda good: edit(good, {("Risks", "I3"): 2.5}),
    "22_applicable_maybe.xlsx": lambda good: edit(good, {("Controls", "F2"): "maybe"}),
    "23_change_without_justification.xlsx": lambda good: edit(good, {("Risks", "G2"): 5}),
    "24_not_applicable_without_justification.xlsx": lambda good: edit(
        good, {("Controls", "F5"): "no"}
    ),
    "25_duplicate_row.xlsx": lambda good: copy_row(good, "Risks", 2, 3),
    "26_formula_in_answer.xlsx": lambda good: edit(good, {("Risks", "G3"): "=2+2"}),
    "27_formula_in_justification.xlsx": lambda good: edit(
        good, {("Controls", "J2"): '=HYPERLINK("http://x.example","click")'}
    ),
    "28_missing_sheet.xlsx": lambda good: edit(good, {}, drop=("Controls",)),
    "29_column_renamed.xlsx": lambda good: edit(good, {("Risks", "G1"): "Probability"}),
    "30_hidden_values_edited.xlsx": lambda good: edit(
        good, {("Risks", "P2"): 2, ("Risks", "G2"): 2}
    ),
    "31_identifier_edited.xlsx": lambda good: edit(good, {("Risks", "A2"): "XX-1"}),
    "32_row_added.xlsx": lambda good: edit(
        good, {("Risks", "A7"): "BP-N", ("Risks", "D7"): "BOR-02", ("Risks", "G7"): 3}
    ),
    "33_many_problems.xlsx": lambda good: edit(
        good,
        {
            ("Risks", "G2"): 9,
            ("Risks", "I3"): "high",
            ("Controls", "G4"): "=1",
            ("Controls", "F6"): "perhaps",
        },
    ),
    "34_version_not_a_number.xlsx": lambda good: edit(good, {("Risks", "N2"): "abc"}),
    "35_empty_answer.xlsx": lambda good: edit(good, {("Risks", "G3"): None}),
    "36_damaged_workbook.xlsx": lambda good: rezip(good, drop=("xl/workbook.xml",)),
    "37_formula_beside_the_columns.xlsx": lambda good: edit(
        good, {("Risks", "T3"): '=WEBSERVICE("http://x.example")'}
    ),
    "38_shared_string_minus_one.xlsx": lambda good: sheet_xml(
        good, b'<c r="K2" s="7"/>', b'<c r="K2" s="7" t="s"><v>-1</v></c>'
    ),
    "39_shared_string_out_of_range.xlsx": lambda good: sheet_xml(
        good, b'<c r="K2" s="7"/>', b'<c r="K2" s="7" t="s"><v>999999</v></c>'
    ),
    "40_number_cell_abc.xlsx": lambda good: sheet_xml(
        good, b'<c r="G2" s="6"><v>4</v></c>', b'<c r="G2" s="6"><v>abc</v></c>'
    ),
    "41_number_cell_nan.xlsx": lambda good: sheet_xml(
        good, b'<c r="I2" s="6"><v>4</v></c>', b'<c r="I2" s="6"><v>NaN</v></c>'
    ),
    "42_row_number_word.xlsx": lambda good: sheet_xml(good, b'<row r="3"', b'<row r="two"'),
    "43_unclosed_tag.xlsx": lambda good: sheet_xml(
        good, b'<c r="G2" s="6"><v>4</v></c>', b'<c r="G2" s="6"><v>4</c>'
    ),
    "44_character_reference_nul.xlsx": lambda good: sheet_xml(
        good, b'<c r="K2" s="7"/>', b'<c r="K2" s="7" t="inlineStr"><is><t>a&#0;b</t></is></c>'
    ),
    "45_raw_nul.xlsx": lambda good: sheet_xml(
        good, b'<c r="K2" s="7"/>', b'<c r="K2" s="7" t="inlineStr"><is><t>a\x00b</t></is></c>'
    ),
    "46_doctype_after_4kb.xlsx": _late_doctype,
    "47_doctype_in_dat_part.xlsx": lambda good: rezip(
        good, add={"xl/media/notes.dat": _DOCTYPE + b"<notes>&lol2;</notes>"}
    ),
    "48_justification_1mb.xlsx": lambda good: sheet_xml(
        good,
        b'<c r="K2" s="7"/>',
        b'<c r="K2" s="7" t="inlineStr"><is><t>' + _words(1024 * 1024) + b"</t></is></c>",
    ),
    "49_justification_bell.xlsx": lambda good: sheet_xml(
        good,
        b'<c r="K2" s="7"/>',
        b'<c r="K2" s="7" t="inlineStr"><is><t>Two cases_x0007_ in 2024</t></is></c>',
    ),
    "50_cell_named_in_another_row.xlsx": lambda good: sheet_xml(
        good, b'<c r="G2" s="6"><v>4</v></c>', b'<c r="G9" s="6"><v>4</v></c>'
    ),
}


def generate(folder: Path = CORPUS, catalogue: Catalogue | None = None) -> dict[str, Path]:
    """Write every case into `folder`; returns file name -> path."""
    catalogue = catalogue or load_catalogue()
    good = good_template(catalogue)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, build in CASES.items():
        path = folder / name
        path.write_bytes(build(good))
        written[name] = path
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS
    for name in generate(target):
        print(target / name)
