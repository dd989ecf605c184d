"""A lean reader of a worksheet's cells: value, and whether the cell holds a formula.

openpyxl opens the workbook (read-only, formulas kept: `data_only=False`) and says where
each sheet's part is and what the shared strings are; this module then reads the sheet's
rows itself. openpyxl's own cell reader builds a rich-text object for every inline string
(the kind openpyxl itself writes), some 15 us a cell: a 1,000-unit questionnaire saved by
openpyxl would take over ten seconds. Here a cell is a (value, is_formula) pair, read in a
few microseconds, and a formula is never evaluated: its text is returned, flagged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from xml.etree.ElementTree import iterparse

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _C, _V, _F, _IS, _T, _R = (f"{_NS}{tag}" for tag in ("row", "c", "v", "f", "is", "t", "r"))
_REF = re.compile(r"([A-Z]{1,3})(\d+)")
_COLUMNS: dict[str, int] = {}

Cell = tuple[Any, bool]  # (value, is_formula)
EMPTY: Cell = (None, False)


def column_index(letters: str) -> int:
    """1-based index of a column's letters (A = 1)."""
    index = _COLUMNS.get(letters)
    if index is None:
        index = 0
        for ch in letters:
            index = index * 26 + ord(ch) - 64
        _COLUMNS[letters] = index
    return index


def _number(text: str) -> int | float:
    return float(text) if ("." in text or "e" in text or "E" in text) else int(text)


def _inline(element: Any) -> str:
    """The text of an inline string: its plain `t` or its rich-text runs (no phonetics)."""
    parts = []
    t = element.find(_T)
    if t is not None and t.text:
        parts.append(t.text)
    for run in element.findall(_R):
        t = run.find(_T)
        if t is not None and t.text:
            parts.append(t.text)
    return "".join(parts)


def _cell(c: Any, shared: Any) -> Cell:
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
    if kind == "s":
        return shared[int(v)], False
    if kind == "n":
        return _number(v), False
    if kind == "b":
        return v.strip() in ("1", "true"), False
    return v, False  # "str", "e" (an error such as #N/A), "d" (ISO date): as text


def rows(ws: Any) -> Iterator[tuple[int, dict[int, Cell]]]:
    """(row number, {column index: (value, is_formula)}) of every row of an openpyxl
    read-only worksheet, in order; empty cells are left out."""
    shared = ws._shared_strings
    row_number = 0
    with ws.parent._archive.open(ws._worksheet_path) as source:
        # Safe to parse: check_upload refused any part declaring a DOCTYPE or entities (the
        # XML attacks S314 warns of) before openpyxl, which parses the same way, opened it.
        for _event, element in iterparse(source):  # noqa: S314
            if element.tag != _ROW:
                continue
            r = element.get("r")
            row_number = int(r) if r else row_number + 1
            cells: dict[int, Cell] = {}
            column = 0
            for c in element.iter(_C):
                ref = c.get("r")
                if ref:
                    match = _REF.fullmatch(ref)
                    column = column_index(match.group(1)) if match else column + 1
                else:
                    column += 1
                value = _cell(c, shared)
                if value[0] is not None:
                    cells[column] = value
            element.clear()
            yield row_number, cells
