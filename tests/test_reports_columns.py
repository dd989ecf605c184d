"""The column path writes the workbooks the row-by-row writers wrote.

The auditor's workbook and the questionnaire are built twice: with riskmap's writers (the
big sheets a column at a time, `riskmap.reports.columns`) and with the writers as they were
before (`row_writers`: a row at a time through `Sheet.append`), for the demo ministry and
for a ministry whose texts are hostile (formula-looking, control characters, XML's special
characters, texts over a cell's limit, missing values, numbers, booleans and dates where
text is expected). Every part of the two files but their properties (the time they were
written) must be the same byte for byte, and every cell read back with openpyxl the same.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

import row_writers
from demo_db import demo_file
from riskmap.catalogue import load_catalogue
from riskmap.reports import (
    columns,
    evidence_sheet,
    layout,
    questionnaire,
    questionnaire_template,
    workbook,
)
from riskmap.reports.cells import Cell
from riskmap.reports.columns import Values, append_columns, digits, formulas, numbers, where
from riskmap.reports.stream import Book
from riskmap.service import CLI_ADMIN, Service
from riskmap.service.exports import build_snapshot
from test_reports_workbook import injected_snapshot

HOSTILE = [
    "=cmd|' /C calc'!A0",
    "+1",
    "@x",
    "-2",
    "\tX",
    "\rX",
    "control \x01\x02\x0b\x1f characters",
    "<>&\"'",
    "&amp; already escaped",
    "x" * 40_000,  # over a cell's 32,767 characters: truncated
    " padded ",
    "line one\nline two\nline three\nline four",
    "Zoll- und Grenzschutzamt, Außenstelle Süd",
    "",
]
# Values of every kind where a free sheet has a column of text (notes, description, reason).
MIXED = [None, np.nan, 3, 2.5, True, False, date(2025, 3, 1), datetime(2025, 3, 1, 8, 30), *HOSTILE]


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def _spread(n: int, values: list) -> list:
    return [values[i % len(values)] for i in range(n)]


def hostile_snapshot(catalogue):
    """`injected_snapshot` with every text users type replaced by hostile ones, and free
    columns holding values of every kind."""
    s = injected_snapshot(catalogue, units=24, seed=5)
    units = s.units.copy()
    units["unit"] = _spread(len(units), [h or "unnamed" for h in HOSTILE])
    rr = s.risk_ratings.copy()
    rr["justification"] = pd.Series(_spread(len(rr), HOSTILE + [None, np.nan]), dtype=object)
    cr = s.control_ratings.copy()
    cr["evidence"] = _spread(len(cr), HOSTILE[:-1] + ["", "", ""])
    cr["justification"] = pd.Series(_spread(len(cr), [None, *HOSTILE]), dtype=object)
    cr["evidence_references"] = _spread(len(cr), ["", "1: DOC-14/2025, room 4", *HOSTILE])
    actions = s.actions.copy()
    actions["notes"] = pd.Series(_spread(len(actions), MIXED), dtype=object)
    actions["owner"] = _spread(len(actions), HOSTILE)
    incidents = s.incidents.copy()
    incidents["description"] = pd.Series(_spread(len(incidents), MIXED), dtype=object)
    audit = s.audit_events.copy()
    audit["reason"] = pd.Series(_spread(len(audit), MIXED), dtype=object)
    fields = {"units": units, "risk_ratings": rr, "control_ratings": cr, "actions": actions}
    return type(s)(**{**s.__dict__, **fields, "incidents": incidents, "audit_events": audit})


@pytest.fixture(scope="module")
def demo(tmp_path_factory, catalogue):
    """The demo ministry's two cycles, as the export (2025, locked; 2026, draft) and the
    questionnaire (2026) read them."""
    path = demo_file(tmp_path_factory.mktemp("demo") / "demo.sqlite", catalogue, units=30)
    with (
        Service.open(f"sqlite:///{path}", catalogue=catalogue) as svc,
        svc.transaction(CLI_ADMIN, "test") as tx,
    ):
        full = [build_snapshot(tx, tx.cycle(label)) for label in ("2025", "2026")]
        part = build_snapshot(tx, tx.cycle("2026"), full=False)
        lean = build_snapshot(tx, tx.cycle("2026"), baselines=False)
        lean_part = build_snapshot(tx, tx.cycle("2026"), full=False, baselines=False)
    return full, part, (lean, lean_part)


def _row_by_row(monkeypatch) -> None:
    """Put the row writers in place of the column path (the reference)."""
    for name in (
        "write_register",
        "write_contributions",
        "write_controls",
        "heatmap_sheet",
        "frame_sheet",
        "controls_frame",
        "contributions_frame",
        "register_frame",
    ):
        monkeypatch.setattr(workbook, name, getattr(row_writers, name))  # fmt: skip
    monkeypatch.setattr(evidence_sheet, "frame_sheet", row_writers.frame_sheet)
    monkeypatch.setattr(questionnaire, "risk_rows", row_writers.risk_rows)
    monkeypatch.setattr(questionnaire, "control_rows", row_writers.control_rows)


def _both(monkeypatch, make) -> tuple[bytes, bytes]:
    new = make()
    with monkeypatch.context() as m:
        _row_by_row(m)
        old = make()
    return old, new


def _parts(data: bytes) -> dict[str, bytes]:
    """The file's parts, but its properties (they hold the time it was written)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist() if not n.startswith("docProps/")}


def assert_same_workbook(old: bytes, new: bytes) -> None:
    a, b = _parts(old), _parts(new)
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] == b[name], f"{name} differs"
    wa, wb = load_workbook(io.BytesIO(old)), load_workbook(io.BytesIO(new))
    assert wa.sheetnames == wb.sheetnames
    for sa, sb in zip(wa.worksheets, wb.worksheets, strict=True):
        assert sa.max_row == sb.max_row and sa.max_column == sb.max_column, sa.title
        for ra, rb in zip(sa.iter_rows(), sb.iter_rows(), strict=True):
            for ca, cb in zip(ra, rb, strict=True):
                assert (ca.value, ca.style_id, ca.quotePrefix) == (
                    cb.value,
                    cb.style_id,
                    cb.quotePrefix,
                ), f"{sa.title}!{ca.coordinate}"
        assert sa.row_dimensions.keys() == sb.row_dimensions.keys()


@pytest.mark.parametrize("block", [None, 7], ids=["blocks of 5,000", "blocks of 7"])
def test_hostile_ministry_same_workbook_and_questionnaire(monkeypatch, catalogue, block):
    if block:  # many blocks per sheet: numbering, caches and heights carried across them
        monkeypatch.setattr(columns, "_BLOCK", block)
    snap = hostile_snapshot(catalogue)
    assert_same_workbook(*_both(monkeypatch, lambda: workbook.export_workbook(snap, catalogue)))
    assert_same_workbook(*_both(monkeypatch, lambda: questionnaire_template(snap, catalogue)))


def test_hostile_texts_stay_text(catalogue):
    """The column path guards and cleans as the cells' rules say (not only as before)."""
    snap = hostile_snapshot(catalogue)
    wb = load_workbook(io.BytesIO(workbook.export_workbook(snap, catalogue)))
    ws = wb["Register"]
    header = [c.value for c in ws[1]]
    unit = header.index("unit")
    seen = {}
    for row in ws.iter_rows(min_row=2):
        seen[row[unit].value] = row[unit]
    cmd = seen["=cmd|' /C calc'!A0"]
    assert cmd.data_type == "s" and cmd.quotePrefix  # text, marked as text
    assert seen["control \ufffd\ufffd\ufffd\ufffd characters"].value  # control chars replaced
    long = next(v for v in seen if v and v.startswith("xxx"))
    assert len(long) == 32_767 and long.endswith("[... truncated]")
    assert seen["<>&\"'"].data_type == "s"


def test_demo_ministry_same_workbook_and_questionnaire(monkeypatch, catalogue, demo):
    full, part, _ = demo
    for snap in full:
        make = lambda s=snap: workbook.export_workbook(s, catalogue)  # noqa: E731
        assert_same_workbook(*_both(monkeypatch, make))
    assert_same_workbook(*_both(monkeypatch, lambda: questionnaire_template(part, catalogue)))
    some = sorted(part.units["unit_code"])[:4]
    make = lambda: questionnaire_template(part, catalogue, unit_ids=some)  # noqa: E731
    assert_same_workbook(*_both(monkeypatch, make))


def test_the_files_need_no_baselines(catalogue, demo):
    """The export and the template read the cycle without the risk ratings' baselines (only
    the questionnaire's parser compares with them): the same workbook, the same template."""
    full, part, (lean, lean_part) = demo
    assert "baseline_source" in full[1].risk_ratings and "baseline_source" in part.risk_ratings
    assert "baseline_source" not in lean.risk_ratings
    assert "baseline_source" not in lean_part.risk_ratings
    lean = type(lean)(**{**lean.__dict__, "generated_at": full[1].generated_at})
    with_them = workbook.export_workbook(full[1], catalogue)
    assert _parts(workbook.export_workbook(lean, catalogue)) == _parts(with_them)
    lean_part = type(part)(**{**lean_part.__dict__, "generated_at": part.generated_at})
    with_them = questionnaire_template(part, catalogue)
    assert _parts(questionnaire_template(lean_part, catalogue)) == _parts(with_them)


def _sheet_xml_of(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read("xl/worksheets/sheet1.xml")


def _sheet_xml(book: Book) -> bytes:
    return _sheet_xml_of(book.save())


def test_append_columns_writes_what_append_writes(monkeypatch):
    """Column by column, in blocks, with empty cells, unhashable values, wrapped texts and a
    height asked for: the same rows as `Sheet.append` a row at a time."""
    monkeypatch.setattr(columns, "_BLOCK", 5)
    n = 23
    texts = _spread(n, HOSTILE + ["short", None])
    mixed = _spread(n, [{"a": 1}, [1, 2], None, "x", 7, True, 1.5])  # dicts: unhashable
    ints = np.arange(n) * 3
    present = np.arange(n) % 4 != 0
    asked = np.where(np.arange(n) % 5 == 0, 44.0, 0.0)

    def build(by_rows: bool) -> bytes:
        book = Book()
        cells = book.cells
        # Style ids are given in the order styles are first used (formulas' before the
        # rows on the column path): the workbooks use theirs on earlier rows and sheets.
        for style in ("wrap", "score"):
            cells.style_id(style)
        sheet = book.sheet("S", [12, 20, 9, 14])
        wrap = lambda v: cells.text(str(v or ""), "wrap")  # noqa: E731
        value = cells.value
        r = digits(np.arange(n) + 1)
        if by_rows:
            for i in range(n):
                sheet.append(
                    [
                        wrap(texts[i]),
                        value(mixed[i]),
                        int(ints[i]) if present[i] else None,
                        cells.formula(f"=A{i + 1}&B{i + 1}", "score") if present[i] else True,
                    ],
                    height=asked[i] or None,
                )
        else:
            append_columns(
                sheet,
                [
                    Values(texts, wrap),
                    Values(mixed, value),
                    numbers(ints, present),
                    where(present, formulas(book, "score", "=A", r, "&B", r), True, book),
                ],
                height=asked,
            )
        return book.save()

    old, new = build(True), build(False)
    assert _parts(old) == _parts(new)
    assert b'ht="44" customHeight="1"' in _sheet_xml_of(new)  # asked for
    assert b'ht="60" customHeight="1"' in _sheet_xml_of(new)  # four lines of wrapped text


def test_formulas_are_riskmaps_own():
    book = Book()
    with pytest.raises(ValueError, match="must start with '='"):
        formulas(book, None, "SUM(", digits([1, 2]), ")")
    with pytest.raises(ValueError, match="a part per row"):
        formulas(book, None, "=1+1")
    with pytest.raises(ValueError, match="different lengths"):
        formulas(book, None, "=A", digits([1, 2]), "+B", digits([1, 2, 3]))
    sheet = book.sheet("S")
    with pytest.raises(ValueError, match="different lengths"):
        append_columns(sheet, [Values(["a", "b"]), Values(["c"])])
    # Constant parts are escaped as formula text is; row numbers are digits.
    cell = Cell('A1<>"x"&B1', "f", 0)
    append_columns(sheet, [formulas(book, None, "=A", digits([1]), '<>"x"&B', digits([1]))])
    assert f'<c r="A1{book.fragment(cell)}'.encode() in _sheet_xml(book)


@pytest.mark.parametrize(
    "series",
    [
        pd.Series(["a", None, "=1+1", "a", "b"], dtype="str"),
        pd.Series(["a", pd.NA, "@x", "a", "b"], dtype="string[python]"),
        pd.Series([1.5, np.nan, -0.0, 0.0, 1.5]),
        pd.Series([3, 1, 3, 2, 1]),
        pd.Series([True, False, True, True, False]),
        pd.Series([1, True, 1.0, None, np.nan], dtype=object),
        pd.Series(pd.to_datetime(["2025-01-02", None, "2025-01-02", "2025-03-04", None])),
    ],
    ids=["str", "string", "float", "int", "bool", "object", "datetime"],
)
def test_a_frame_column_of_any_kind_as_the_row_writers_wrote_it(monkeypatch, series):
    """Distinct values found by pandas (text, numbers, booleans) or by a dict (the rest):
    the same cells as each value converted in its row, missing values included."""
    monkeypatch.setattr(columns, "_BLOCK", 2)
    frame = pd.DataFrame({"v": series, "w": series})

    def build(frame_sheet) -> bytes:
        book = Book()
        cols = [layout.Col("v"), layout.Col("w", 20, "wrap")]
        frame_sheet(book, "S", frame, cols, table="tbl")
        return book.save()

    assert _parts(build(row_writers.frame_sheet)) == _parts(build(layout.frame_sheet))
