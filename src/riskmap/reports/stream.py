"""A fast streamed .xlsx: openpyxl writes the frame of the workbook, riskmap writes the rows.

openpyxl (write-only mode) writes everything but the cells: styles, defined names, column
widths, frozen panes, tables, filters, conditional formats, data validations, protection,
print set-up. Its cell writer costs some 50 us a cell without lxml, too slow for a national
ministry (a million cells), so each sheet's rows are serialised here as text (about 1 us a
cell) and put in place of the empty `<sheetData/>` openpyxl wrote. The cell kinds written
are few and simple (inline strings, numbers, booleans, formulas), see `row_xml`.
"""

from __future__ import annotations

import io
import re
import zipfile
from functools import lru_cache
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.properties import PageSetupProperties

from riskmap.reports.cells import Cell, CellMaker

_LETTERS = [get_column_letter(i) for i in range(1, 703)]  # A .. ZZ
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_EMPTY_SHEET_DATA = re.compile(rb"<sheetData\s*/>|<sheetData>\s*</sheetData>")


def _text(value: str) -> str:
    escaped = value.translate(_ESCAPES)
    if value[:1].isspace() or value[-1:].isspace():
        return f'<is><t xml:space="preserve">{escaped}</t></is>'
    return f"<is><t>{escaped}</t></is>"


def _number(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


@lru_cache(maxsize=1 << 17, typed=True)
def fragment(v: Any) -> str:
    """What follows `<c r="A1"` for value `v`: attributes, value and the closing tag."""
    kind = type(v)
    if kind is str:
        return f' t="inlineStr">{_text(v)}</c>'
    if kind is int or kind is float:
        return f"><v>{_number(v)}</v></c>"
    if kind is bool:
        return f' t="b"><v>{_number(v)}</v></c>'
    if kind is Cell:
        value, k, s = v
        attr = f' s="{s}"' if s else ""
        if k == "s":
            return f'{attr} t="inlineStr">{_text(value)}</c>'
        if k == "n":
            return f"{attr}><v>{_number(value)}</v></c>"
        if k == "f":
            return f"{attr}><f>{value.translate(_ESCAPES)}</f></c>"
        if k == "b":
            return f'{attr} t="b"><v>{_number(value)}</v></c>'
        if k == "d":
            return f"{attr}><v>{float(to_excel(value))!r}</v></c>"
        return f"{attr}/>"
    if isinstance(v, (datetime, date)):
        raise TypeError("dates need a number format: use CellMaker.value")
    raise TypeError(f"cannot write {kind.__name__} to a cell: {v!r}")


def row_xml(r: int, values: Iterable[Any]) -> str:
    """The `<row>` element of row `r` (1-based) holding `values` from column A on.

    Plain text is an inline string, never a formula: formulas are `Cell`s of kind "f".
    """
    tail = f'{r}"'
    return (
        f'<row r="{r}">'
        + "".join(
            [
                f'<c r="{_LETTERS[i]}{tail}{fragment(v)}'
                for i, v in enumerate(values)
                if v is not None
            ]
        )
        + "</row>"
    )


class Sheet:
    """One worksheet: openpyxl's write-only sheet for the frame, riskmap's rows for the cells."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.rows = 0
        self._parts: list[str] = []

    def append(self, values: Iterable[Any] = ()) -> int:
        """Add the next row; returns its number."""
        self.rows += 1
        self._parts.append(row_xml(self.rows, values))
        return self.rows

    def xml(self) -> bytes:
        return ("<sheetData>" + "".join(self._parts) + "</sheetData>").encode("utf-8")


class Book:
    """A workbook written as a stream: `sheet()` to add sheets, `save()` for the bytes."""

    def __init__(self, styles: dict[str, dict[str, Any]] | None = None) -> None:
        self.wb = Workbook(write_only=True)
        self.cells = CellMaker(self.wb, styles)
        self.sheets: list[Sheet] = []

    def sheet(
        self,
        title: str,
        widths: Iterable[float] = (),
        *,
        freeze: str | None = "A2",
        print_rows: str | None = "1:1",
        landscape: bool = True,
    ) -> Sheet:
        ws = self.wb.create_sheet(title)
        for i, width in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(i)].width = width
        if freeze:
            ws.freeze_panes = freeze
        if print_rows:
            ws.print_title_rows = print_rows
        ws.page_setup.orientation = "landscape" if landscape else "portrait"
        ws.page_setup.paperSize = 9  # A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        sheet = Sheet(ws)
        self.sheets.append(sheet)
        return sheet

    def save(self) -> bytes:
        frame = io.BytesIO()
        self.wb.save(frame)
        rows = {sheet.ws.path.lstrip("/"): sheet for sheet in self.sheets}
        out = io.BytesIO()
        with (
            zipfile.ZipFile(frame) as zin,
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zout,
        ):
            for info in zin.infolist():
                data = zin.read(info.filename)
                sheet = rows.get(info.filename)
                if sheet is not None:
                    data, n = _EMPTY_SHEET_DATA.subn(lambda _m, s=sheet: s.xml(), data, count=1)
                    if n != 1:
                        raise RuntimeError(f"{info.filename}: no empty sheetData to fill")
                zout.writestr(info.filename, data)
        return out.getvalue()
