"""A strict reader of a worksheet's cells: value, and whether the cell holds a formula.

openpyxl opens the workbook (read-only, formulas kept: `data_only=False`; with defusedxml
installed it parses every part through it) and says where each sheet's part is and what
the shared strings are; this module then reads the sheet's rows itself, through the
standard library's C pull parser (expat: no external references; a DOCTYPE or ENTITY in
the stream refuses the sheet before the parser sees it, as `safety.check_upload` refuses it
in any part), decoding each cell strictly (`sheet_values`). A sheet laid out the plain way
spreadsheet programs write it is read faster by `sheet_scan` (one regular expression over
its text, checked by expat: 1.3 against 2.2 s of CPU for the 660,000 cells of a national
ministry's questionnaire), which gives the same rows and hands over to the strict reader
at the first row that is not plain. defusedxml's `iterparse` did the same through
the pure-Python parser, four times slower at a national ministry's 660,000 cells. The
well-kept readers were tried on the bad-questionnaire corpus and kept out: openpyxl's
read-only cell reader reads shared string -1 as the last one (`units`),
and shared string 999999, `abc` or `NaN` in a number cell and row `two` raise bare
`IndexError`/`ValueError` naming no cell; it is also slower (`bench/sheet_reader.py`: 6.2
against 5.3 us a cell on 800 units). python-calamine 0.9.1 gives no formulas (`=2+2`
reads as its cached value, so a formula could not be refused), wraps -1 to another string,
reads `abc` in a number cell as text, takes `NaN`, and its errors name no cell.

Every malformed cell or row is a `SheetDamaged` naming `Sheet!Cell` and what is wrong: a
shared string index outside the table (negative ones included: Python would read them
from the end), a number cell that is not a finite number, a row or cell reference that is
not one, XML that is not well-formed (a NUL, `&#0;`, an unclosed tag) or declares a DTD. A
formula is never evaluated: its text is returned, flagged.
"""

from __future__ import annotations

import gc
import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from xml.etree.ElementTree import ParseError, XMLPullParser

from riskmap.problems import Problem
from riskmap.reports import sheet_scan
from riskmap.reports.sheet_values import (
    COLUMNS,
    EMPTY,
    MAX_COLUMN,
    MAX_ROW,
    Cell,
    column_index,
    column_letters,
    value,
)

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _C, _V, _F, _IS, _T, _R = (f"{_NS}{tag}" for tag in ("row", "c", "v", "f", "is", "t", "r"))
_REF = re.compile(r"([A-Z]{1,3})(\d+)")
_ROW_NUMBER = re.compile(r"\d{1,7}")
_CHUNK = 1024 * 1024  # bytes fed to the parser at a time
_OVERLAP = 64  # kept between chunks, so that a marker split across two is still found
_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")
RESAVE = "open it in Excel or LibreOffice and save it again as .xlsx"


class SheetDamaged(ValueError):
    """A cell or row of a sheet that no spreadsheet program writes; `str()` is the refusal
    as a user reads it: `Risks!G5: ...`."""

    def __init__(self, sheet: str, ref: str, message: str):
        self.sheet, self.ref, self.message = sheet, ref, message
        super().__init__(f"{sheet}!{ref}: {message}")

    def problem(self) -> Problem:
        """The refusal at its cell (`ref` is always a cell name this module made)."""
        match = _REF.fullmatch(self.ref)
        if match is None:  # pragma: no cover - every ref above is letters and a row
            return Problem.whole(str(self))
        return Problem.at_cell(self.sheet, match.group(1), int(match.group(2)), self.message)


def _column(sheet: str, ref: str, row_number: int, column: int) -> int:
    """The column of a cell named `ref` in row `row_number` (after column `column`)."""
    match = _REF.fullmatch(ref)
    if match is None or int(match.group(2)) != row_number:
        raise SheetDamaged(
            sheet,
            f"{column_letters(column + 1)}{row_number}",
            f"a cell is named {ref[:20]!r} in row {row_number}: the file was not saved by a "
            f"spreadsheet program; {RESAVE}",
        )
    return column_index(match.group(1))


def _inline(element: Any) -> str:
    """The text of an inline string: its plain `t` or its rich-text runs (no phonetics)."""
    t = element.find(_T)
    if t is not None and len(element) == 1:  # the common case: plain text, no runs
        return t.text or ""
    parts = []
    if t is not None and t.text:
        parts.append(t.text)
    for run in element.findall(_R):
        t = run.find(_T)
        if t is not None and t.text:
            parts.append(t.text)
    return "".join(parts)


def _cell(c: Any, shared: Any) -> Cell | str:
    """The cell's (value, is_formula), or what is wrong with it."""
    f = c.find(_F)
    if f is not None:
        return "=" + (f.text or ""), True
    kind = c.get("t", "n")
    if kind == "inlineStr":
        child = c.find(_IS)
        return (_inline(child) if child is not None else None), False
    v = c.findtext(_V)
    if v is None or v == "":
        return EMPTY
    return value(kind, v, shared)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a sheet is read: the parser allocates
    an element per cell and a row holds them in a tree, so the collector would otherwise
    walk the growing tree again and again (half the reading time of 660,000 cells) to free
    nothing; reference counting frees each row once it is read."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _row_elements(source: Any) -> Iterator[Any]:
    """Every row element of the part as it ends, through the C pull parser, refusing a
    DOCTYPE or ENTITY in the stream itself (`safety.check_upload` scanned every part for
    one already; this keeps the parser safe wherever it is used). A parse error is raised
    by `read_events` after the rows before it, so the refusal names the row it reached."""
    parser = XMLPullParser(events=("end",))
    tail = b""
    while chunk := source.read(_CHUNK):
        text = tail + chunk.replace(b"\x00", b"").upper()
        if any(marker in text for marker in _MARKERS):
            raise _Declares
        tail = text[-_OVERLAP:]
        parser.feed(chunk)
        yield from (element for _event, element in parser.read_events() if element.tag == _ROW)
    parser.close()
    yield from (element for _event, element in parser.read_events() if element.tag == _ROW)


class _Declares(Exception):
    """The part declares a DOCTYPE or entities."""


def rows(ws: Any) -> Iterator[tuple[int, dict[int, Cell]]]:
    """(row number, {column index: (value, is_formula)}) of every row of an openpyxl
    read-only worksheet, in order; empty cells are left out. Raises `SheetDamaged`.

    Read by `sheet_scan` while the part is plain (the rows a spreadsheet program writes,
    checked by expat), else by the strict reader from the first row the scan could not
    take; the scan refuses nothing itself, so every refusal is the strict reader's."""
    given = 0
    with ws.parent._archive.open(ws._worksheet_path) as source:
        try:
            for row in sheet_scan.scan(source, ws._shared_strings, _CHUNK, _MARKERS, _OVERLAP):
                yield row
                given += 1
            return
        except sheet_scan.NotPlain:
            pass
    strict = _strict_rows(ws)
    for _ in itertools.islice(strict, given):  # the same rows, already given
        pass
    yield from strict


def _strict_rows(ws: Any) -> Iterator[tuple[int, dict[int, Cell]]]:
    """`rows` through the C pull parser, every malformed cell or row refused."""
    sheet = ws.title
    shared = ws._shared_strings
    row_number = 0
    with ws.parent._archive.open(ws._worksheet_path) as source:
        try:
            for element in _row_elements(source):
                r = element.get("r")
                if r is None:
                    row_number += 1
                elif _ROW_NUMBER.fullmatch(r) and row_number < int(r) <= MAX_ROW:
                    row_number = int(r)
                else:
                    raise SheetDamaged(
                        sheet,
                        f"A{row_number + 1}",
                        f"the row after row {row_number} is numbered "
                        f"{r[:20]!r}: the file was not saved by a spreadsheet program; {RESAVE}",
                    )
                cells: dict[int, Cell] = {}
                column = 0
                digits = str(row_number)
                cut = -len(digits)
                for c in element.iter(_C):
                    ref = c.get("r")
                    if not ref:
                        column += 1
                    else:  # the common case, a column seen before on this row number: no regex
                        known = COLUMNS.get(ref[:cut]) if ref.endswith(digits) else None
                        column = (
                            known if known is not None else _column(sheet, ref, row_number, column)
                        )
                    if column > MAX_COLUMN:
                        here = f"{column_letters(column)}{row_number}"
                        raise SheetDamaged(sheet, here, f"no sheet has this column; {RESAVE}")
                    got = _cell(c, shared)
                    if isinstance(got, str):
                        here = f"{column_letters(column)}{row_number}"
                        raise SheetDamaged(sheet, here, f"{got}; {RESAVE}")
                    if got[0] is not None:
                        cells[column] = got
                element.clear()
                yield row_number, cells
        except ParseError:
            raise SheetDamaged(
                sheet,
                f"A{row_number + 1}",
                f"row {row_number + 1} is damaged: the sheet's XML is not well-formed (a NUL or "
                f"control character, or an unclosed tag); {RESAVE}",
            ) from None
        except _Declares:
            raise SheetDamaged(
                sheet,
                f"A{row_number + 1}",
                "the sheet declares a DOCTYPE or entities, which workbooks never do: refused",
            ) from None
