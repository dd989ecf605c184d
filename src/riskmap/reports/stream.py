"""A fast streamed .xlsx: openpyxl writes the frame of the workbook, riskmap writes the cells.

openpyxl (write-only mode) writes everything but the cells: styles, defined names, column
widths, frozen panes, tables, filters, conditional formats, data validations, protection,
print set-up. Its cell writer costs some 50 us a cell without lxml, too slow for a national
ministry (a million cells), so each sheet's rows are serialised here as text (about 1 us a
cell) and put in place of the empty `<sheetData/>` openpyxl wrote, with a `<dimension>`
(readers use it to size the sheet) and a shared-string table (each distinct text stored
once, as Excel and LibreOffice do themselves). The cell kinds written are few and simple:
shared strings, numbers, booleans and formulas (see `Book.fragment`). A sheet's links to a
place in the workbook (`Sheet.link`) are written as `<hyperlinks>` after the cells: an
internal `location`, no relationship, nothing a user typed in it.
"""

from __future__ import annotations

import io
import re
import zipfile
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
_SHEET_VIEWS = b"<sheetViews"
# What may follow <hyperlinks> in a worksheet (ECMA-376 CT_Worksheet order).
_AFTER_HYPERLINKS = (
    b"<printOptions", b"<pageMargins", b"<pageSetup", b"<headerFooter", b"<rowBreaks",
    b"<colBreaks", b"<customProperties", b"<cellWatches", b"<ignoredErrors", b"<smartTags",
    b"<drawing", b"<legacyDrawing", b"<picture", b"<oleObjects", b"<controls",
    b"<webPublishItems", b"<tableParts", b"<extLst", b"</worksheet>",
)  # fmt: skip
_ATTR_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})
_SST_PART = "xl/sharedStrings.xml"
_SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_SST_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _number(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


LINE_POINTS = 15.0
MAX_ROW_POINTS = 409.0  # Excel's limit


def wrapped_height(texts: Iterable[tuple[Any, float]]) -> float | None:
    """Height (points) of a row whose wrapped texts are (text, column width) pairs; None when
    one line is enough. A column `width` holds about `width` characters a line."""
    lines = 1
    for text, width in texts:
        if not isinstance(text, str) or not text:
            continue
        per_line = max(width - 1, 1)
        n = sum(max(1, -(-len(part) // int(per_line))) for part in text.split("\n"))
        lines = max(lines, n)
    if lines <= 1:
        return None
    return min(MAX_ROW_POINTS, lines * LINE_POINTS)


def _si(text: str) -> str:
    escaped = text.translate(_ESCAPES)
    if text[:1].isspace() or text[-1:].isspace():
        return f'<si><t xml:space="preserve">{escaped}</t></si>'
    return f"<si><t>{escaped}</t></si>"


class Sheet:
    """One worksheet: openpyxl's write-only sheet for the frame, riskmap's rows for the cells."""

    def __init__(self, book: Book, ws: Any, widths: list[float]) -> None:
        self.book = book
        self.ws = ws
        self.widths = widths
        self.rows = 0
        self.columns = 0
        self._parts: list[str] = []
        self.links: list[tuple[str, str]] = []

    def link(self, ref: str, location: str) -> None:
        """Make cell `ref` (e.g. "O2") a link to `location` in this workbook (e.g.
        "'Evidence'!A5"); the cell's own value is what the link shows."""
        self.links.append((ref, location))

    def append(self, values: Iterable[Any] = (), height: float | None = None) -> int:
        """Add the next row (plain values or `Cell`s, None for empty); returns its number.

        A row with wrapped text is made tall enough for it (spreadsheets do not fit row
        heights to wrapped text when they open a file); `height` (points) asks for more.
        """
        self.rows += 1
        r = self.rows
        tail = str(r)
        fragment = self.book.fragment
        wrapping = self.book.cells.wrapping
        cells = []
        wrapped = []
        last = -1
        for i, v in enumerate(values):
            if v is None:
                continue
            cells.append(f'<c r="{_LETTERS[i]}{tail}{fragment(v)}')
            last = i
            if type(v) is Cell and v.style in wrapping and v.kind == "s":
                wrapped.append((v.value, self.widths[i] if i < len(self.widths) else 10))
        self.columns = max(self.columns, last + 1)
        if wrapped:
            height = max(height or 0, wrapped_height(wrapped) or 0) or None
        if height:
            self._parts.append(
                f'<row r="{r}" ht="{height:g}" customHeight="1">{"".join(cells)}</row>'
            )
        else:
            self._parts.append(f'<row r="{r}">{"".join(cells)}</row>')
        return r

    def dimension(self) -> str:
        if not self.rows or not self.columns:
            return "A1"
        return f"A1:{_LETTERS[self.columns - 1]}{self.rows}"

    def xml(self) -> bytes:
        return ("<sheetData>" + "".join(self._parts) + "</sheetData>").encode("utf-8")

    def hyperlinks_xml(self) -> bytes:
        body = "".join(
            f'<hyperlink ref="{ref}" location="{where.translate(_ATTR_ESCAPES)}"/>'
            for ref, where in self.links
        )
        return f"<hyperlinks>{body}</hyperlinks>".encode()


class Book:
    """A workbook written as a stream: `sheet()` to add sheets, `save()` for the bytes."""

    def __init__(self, styles: dict[str, dict[str, Any]] | None = None) -> None:
        self.wb = Workbook(write_only=True)
        self.cells = CellMaker(self.wb, styles)
        self.sheets: list[Sheet] = []
        self._strings: dict[str, int] = {}
        self._text_fragments: dict[str, str] = {}
        self._cell_fragments: dict[tuple, str] = {}

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
        widths = list(widths)
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
        sheet = Sheet(self, ws, widths)
        self.sheets.append(sheet)
        return sheet

    def _string(self, text: str) -> int:
        index = self._strings.get(text)
        if index is None:
            index = self._strings[text] = len(self._strings)
        return index

    def fragment(self, v: Any) -> str:
        """What follows `<c r="A1` for value `v`: attributes, value and the closing tag.

        Plain text is a shared string, never a formula: formulas are `Cell`s of kind "f".
        """
        kind = type(v)
        if kind is str:
            out = self._text_fragments.get(v)
            if out is None:
                out = self._text_fragments[v] = f'" t="s"><v>{self._string(v)}</v></c>'
            return out
        if kind is int or kind is float:
            return f'"><v>{_number(v)}</v></c>'
        if kind is Cell:
            if v.kind == "f":  # formulas are mostly unique: no point caching them
                attr = f'" s="{v.style}"' if v.style else '"'
                return f"{attr}><f>{v.value.translate(_ESCAPES)}</f></c>"
            key = (v.kind, v.style, type(v.value), v.value)
            out = self._cell_fragments.get(key)
            if out is None:
                out = self._cell_fragments[key] = self._cell(v)
            return out
        if kind is bool:
            return f'" t="b"><v>{_number(v)}</v></c>'
        if isinstance(v, (datetime, date)):
            raise TypeError("dates need a number format: use CellMaker.value")
        raise TypeError(f"cannot write {kind.__name__} to a cell: {v!r}")

    def _cell(self, v: Cell) -> str:
        value, k, s = v
        attr = f'" s="{s}"' if s else '"'
        if k == "s":
            return f'{attr} t="s"><v>{self._string(value)}</v></c>'
        if k == "n":
            return f"{attr}><v>{_number(value)}</v></c>"
        if k == "f":
            return f"{attr}><f>{value.translate(_ESCAPES)}</f></c>"
        if k == "b":
            return f'{attr} t="b"><v>{_number(value)}</v></c>'
        if k == "d":
            return f"{attr}><v>{float(to_excel(value))!r}</v></c>"
        return f"{attr}/>"

    def _shared_strings(self) -> bytes:
        body = "".join(_si(text) for text in self._strings)
        head = f'<sst xmlns="{_MAIN_NS}" uniqueCount="{len(self._strings)}">'
        return (head + body + "</sst>").encode("utf-8")

    def save(self) -> bytes:
        frame = io.BytesIO()
        self.wb.save(frame)
        rows = {sheet.ws.path.lstrip("/"): sheet for sheet in self.sheets}
        out = io.BytesIO()
        with (
            zipfile.ZipFile(frame) as zin,
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zout,
        ):
            names = set(zin.namelist())
            if _SST_PART in names:
                raise RuntimeError("openpyxl wrote shared strings: cannot add riskmap's")
            for info in zin.infolist():
                data = zin.read(info.filename)
                sheet = rows.get(info.filename)
                if sheet is not None:
                    data = _fill_sheet(info.filename, data, sheet)
                elif info.filename == "[Content_Types].xml":
                    override = f'<Override PartName="/{_SST_PART}" ContentType="{_SST_TYPE}"/>'
                    data = _insert_before(data, b"</Types>", override.encode())
                elif info.filename == "xl/_rels/workbook.xml.rels":
                    rel = f'<Relationship Type="{_SST_REL}" Target="sharedStrings.xml" Id="rIdSS"/>'
                    data = _insert_before(data, b"</Relationships>", rel.encode())
                zout.writestr(info.filename, data)
            zout.writestr(_SST_PART, self._shared_strings())
        return out.getvalue()


def _insert_before(data: bytes, marker: bytes, insert: bytes) -> bytes:
    at = data.rfind(marker)
    if at < 0:
        raise RuntimeError(f"cannot find {marker!r} to insert before")
    return data[:at] + insert + data[at:]


def _fill_sheet(name: str, data: bytes, sheet: Sheet) -> bytes:
    data, n = _EMPTY_SHEET_DATA.subn(lambda _m: sheet.xml(), data, count=1)
    if n != 1:
        raise RuntimeError(f"{name}: no empty sheetData to fill")
    if b"<dimension" not in data:
        dimension = f'<dimension ref="{sheet.dimension()}"/>'.encode()
        data = _insert_before_first(data, _SHEET_VIEWS, dimension)
    if sheet.links:
        if b"<hyperlinks" in data:
            raise RuntimeError(f"{name}: openpyxl wrote hyperlinks: cannot add riskmap's")
        cells_end = data.find(b"</sheetData>")
        found = (data.find(m, cells_end) for m in _AFTER_HYPERLINKS)
        at = min((i for i in found if i >= 0), default=-1)
        if at < 0:
            raise RuntimeError(f"{name}: nowhere to put the hyperlinks")
        data = data[:at] + sheet.hyperlinks_xml() + data[at:]
    return data


def _insert_before_first(data: bytes, marker: bytes, insert: bytes) -> bytes:
    at = data.find(marker)
    if at < 0:
        return data
    return data[:at] + insert + data[at:]
