"""A fast streamed .xlsx: openpyxl writes the frame of the workbook, riskmap writes the cells.

openpyxl (write-only mode) writes everything but the cells: styles, defined names, column
widths, frozen panes, tables, filters, conditional formats, data validations, protection,
print set-up. Its cell writer costs some 50 us a cell without lxml, too slow for a national
ministry (a million cells), so each sheet's rows are serialised here as text (about 1 us a
cell with `Sheet.append`; the big sheets give whole columns to `riskmap.reports.columns`,
which hands finished rows to `Sheet.add_rows_xml`) and put in place of the empty
`<sheetData/>` openpyxl wrote, with a `<dimension>`
(readers use it to size the sheet) and a shared-string table (each distinct text stored
once, as Excel and LibreOffice do themselves). The cell kinds written are few and simple:
shared strings, numbers, booleans and formulas (see `Book.fragment`). A sheet's links to a
place in the workbook (`Sheet.link`) are written as `<hyperlinks>` after the cells: an
internal `location`, no relationship, nothing a user typed in it.

Nothing holds a whole sheet's XML: rows are written, as they are appended, to a temporary
file per sheet (a sheet's frame, which openpyxl writes at the end, depends on its row
count: tables, validations and protection name ranges), and `Book.write` streams each sheet
into the zip entry (`ZipFile.open(name, "w")`) in chunks: the frame's head, the spooled
rows, the frame's tail; the shared strings likewise. So a national export's peak memory is
its frames and its distinct texts, not its cells.
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.properties import PageSetupProperties

from riskmap.reports.cells import Cell, CellMaker

_LETTERS = [get_column_letter(i) for i in range(1, 703)]  # A .. ZZ
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
_SST_RELATIONSHIP = (
    f'<Relationship Type="{_SST_REL}" Target="sharedStrings.xml" Id="rIdSS"/>'.encode()
)
_FLUSH_ROWS = 2000  # rows kept as text before they go to the sheet's temporary file
_CHUNK = 1 << 20
_ZIP64_FROM = 1 << 30  # an entry this large (or larger) is written as zip64
# zlib level 4: on the 10,000-unit workbook's largest sheets half the time of level 6 for
# entries 10% larger (level 1: a third of the time, 30% larger); README's benchmark section.
ZIP_LEVEL = 4


def _escape(text: str) -> str:
    """`text` for XML character data (& < > and CR escaped).

    Not `str.translate` with a table: that looks each character up in a dict, some 20
    times slower on the million formulas of a national workbook than these scans."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


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
    escaped = _escape(text)
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
        self._spool: IO[bytes] | None = None
        self._spooled = 0
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
        if len(self._parts) >= _FLUSH_ROWS:
            self._flush()
        return r

    def add_rows_xml(self, xml: str, rows: int, columns: int) -> None:
        """Add `rows` rows already serialised (`riskmap.reports.columns`), the next numbers
        in order, the widest `columns` cells wide."""
        self.rows += rows
        self.columns = max(self.columns, columns)
        self._parts.append(xml)
        self._flush()

    def _flush(self) -> None:
        if not self._parts:
            return
        if self._spool is None:
            # lives as long as the sheet's rows: closed by close(), after Book.write
            self._spool = tempfile.TemporaryFile(prefix="riskmap-sheet-")  # noqa: SIM115
        data = "".join(self._parts).encode("utf-8")
        self._parts.clear()
        self._spool.write(data)
        self._spooled += len(data)

    def dimension(self) -> str:
        if not self.rows or not self.columns:
            return "A1"
        return f"A1:{_LETTERS[self.columns - 1]}{self.rows}"

    def hyperlinks_xml(self) -> bytes:
        body = "".join(
            f'<hyperlink ref="{ref}" location="{where.translate(_ATTR_ESCAPES)}"/>'
            for ref, where in self.links
        )
        return f"<hyperlinks>{body}</hyperlinks>".encode()

    def size(self) -> int:
        """Bytes of row XML so far (spooled and not yet)."""
        return self._spooled + sum(len(p) for p in self._parts)

    def copy_rows(self, out: IO[bytes]) -> None:
        """Write the sheet's `<row>`s to `out` in chunks, from its temporary file."""
        self._flush()
        if self._spool is None:
            return
        self._spool.seek(0)
        shutil.copyfileobj(self._spool, out, _CHUNK)

    def close(self) -> None:
        """Drop the temporary file (the rows are gone: the sheet cannot be written again)."""
        if self._spool is not None:
            self._spool.close()
            self._spool = None


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
                return f"{attr}><f>{_escape(v.value)}</f></c>"
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
            return f"{attr}><f>{_escape(value)}</f></c>"
        if k == "b":
            return f'{attr} t="b"><v>{_number(value)}</v></c>'
        if k == "d":
            return f"{attr}><v>{float(to_excel(value))!r}</v></c>"
        return f"{attr}/>"

    def _write_shared_strings(self, zout: zipfile.ZipFile) -> None:
        head = f'<sst xmlns="{_MAIN_NS}" uniqueCount="{len(self._strings)}">'
        big = sum(len(text) + 16 for text in self._strings) >= _ZIP64_FROM
        with zout.open(_SST_PART, "w", force_zip64=big) as dst:
            dst.write(head.encode("utf-8"))
            batch: list[str] = []
            for text in self._strings:
                batch.append(_si(text))
                if len(batch) >= 10_000:
                    dst.write("".join(batch).encode("utf-8"))
                    batch.clear()
            dst.write(("".join(batch) + "</sst>").encode("utf-8"))

    def write(self, out: IO[bytes]) -> None:
        """Write the .xlsx to the binary file `out`, one sheet at a time (module docstring)."""
        frame = io.BytesIO()
        self.wb.save(frame)
        rows = {sheet.ws.path.lstrip("/"): sheet for sheet in self.sheets}
        try:
            with (
                zipfile.ZipFile(frame) as zin,
                zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL) as zout,
            ):
                if _SST_PART in set(zin.namelist()):
                    raise RuntimeError("openpyxl wrote shared strings: cannot add riskmap's")
                for info in zin.infolist():
                    data = zin.read(info.filename)
                    sheet = rows.get(info.filename)
                    if sheet is not None:
                        _write_sheet(zout, info.filename, data, sheet)
                        sheet.close()
                        continue
                    if info.filename == "[Content_Types].xml":
                        override = f'<Override PartName="/{_SST_PART}" ContentType="{_SST_TYPE}"/>'
                        data = _insert_before(data, b"</Types>", override.encode())
                    elif info.filename == "xl/_rels/workbook.xml.rels":
                        data = _insert_before(data, b"</Relationships>", _SST_RELATIONSHIP)
                    zout.writestr(info.filename, data)
                self._write_shared_strings(zout)
        finally:
            for sheet in self.sheets:
                sheet.close()

    def save(self) -> bytes:
        """The .xlsx as bytes (the compressed file: the sheets' XML is streamed into it)."""
        out = io.BytesIO()
        self.write(out)
        return out.getvalue()


def _insert_before(data: bytes, marker: bytes, insert: bytes) -> bytes:
    at = data.rfind(marker)
    if at < 0:
        raise RuntimeError(f"cannot find {marker!r} to insert before")
    return data[:at] + insert + data[at:]


def _write_sheet(zout: zipfile.ZipFile, name: str, frame: bytes, sheet: Sheet) -> None:
    """The sheet's entry: openpyxl's frame around the spooled rows, streamed into `zout`."""
    empty = _EMPTY_SHEET_DATA.search(frame)
    if empty is None:
        raise RuntimeError(f"{name}: no empty sheetData to fill")
    head, tail = frame[: empty.start()], frame[empty.end() :]
    if b"<dimension" not in head:
        dimension = f'<dimension ref="{sheet.dimension()}"/>'.encode()
        head = _insert_before_first(head, _SHEET_VIEWS, dimension)
    if sheet.links:
        tail = _with_hyperlinks(name, tail, sheet)
    big = sheet.size() + len(frame) >= _ZIP64_FROM
    with zout.open(name, "w", force_zip64=big) as dst:
        dst.write(head)
        dst.write(b"<sheetData>")
        sheet.copy_rows(dst)
        dst.write(b"</sheetData>")
        dst.write(tail)


def _with_hyperlinks(name: str, tail: bytes, sheet: Sheet) -> bytes:
    """The frame after the cells with the sheet's `<hyperlinks>` in their schema place."""
    if b"<hyperlinks" in tail:
        raise RuntimeError(f"{name}: openpyxl wrote hyperlinks: cannot add riskmap's")
    found = (tail.find(m) for m in _AFTER_HYPERLINKS)
    at = min((i for i in found if i >= 0), default=-1)
    if at < 0:
        raise RuntimeError(f"{name}: nowhere to put the hyperlinks")
    return tail[:at] + sheet.hyperlinks_xml() + tail[at:]


def _insert_before_first(data: bytes, marker: bytes, insert: bytes) -> bytes:
    at = data.find(marker)
    if at < 0:
        return data
    return data[:at] + insert + data[at:]
