"""The fast way to read a worksheet's rows: one regular expression over the part's text,
for a sheet laid out the plain way spreadsheet programs write it, checked by expat.

`sheet_rows.rows` asks here first and falls back to its strict reader (the C pull
parser), from the row this scan reached, as soon as anything is not plain (`NotPlain`).
The pull parser builds an element for every tag (about 2 of the 2.5 s a national
ministry's 660,000 cells took); expat with no handlers checks the same bytes in a tenth
of that, and the scan reads them in C too, so Python only converts each cell's value.

The scan gives exactly the rows the strict reader gives, or none: it never refuses a
file itself, so every refusal and its message stay the strict reader's. What it takes:

- every chunk is fed to an expat parser with namespaces (as the pull parser's) and is
  scanned only once expat has taken it; a DOCTYPE or ENTITY is refused in the stream as
  the strict reader refuses it (the chunks and markers are the same); any expat error,
  a `\\r` (which XML turns into `\\n`), text not in UTF-8, a comment, CDATA or processing
  instruction, a namespace declared anywhere but on the root `worksheet` (which must make
  spreadsheetml the default), a row outside `sheetData` is not plain;
- in `sheetData`, only rows `<row r="N" ...>` numbered upwards and cells
  `<c r="A1" ...>` of that row, holding at most an `f`, a `v` and an inline `is` with one
  plain `t`, in that order; attributes in double quotes, one space apart, with no `&`,
  `<` or whitespace in their values; anything else (rich text, a cell without its
  reference, a shared string outside the table, a number cell that is not a number) is
  not plain: the strict reader reads it and names what is wrong.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from typing import Any
from xml.parsers import expat

from riskmap.reports import sheet_values

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_ATTRS = r'((?: [\w:]+="[^"<&\s]*")*)'
_WS = r"[ \t\n]*"
_TOKEN = re.compile(
    _WS + r"(?:"
    # 1 letters, 2 row, 3 text: the most common cell, an inline string, as writers write it
    r'<c r="([A-Z]{1,3})(\d{1,7})"(?: s="\d+")? t="inlineStr"><is><t>([^<]*)</t></is></c>|'
    # 4 letters, 5 row, 6 its type where writers put it (after r and s), 7 other attributes
    r'<c r="([A-Z]{1,3})(\d{1,7})"(?: s="\d+")?(?: t="(\w+)")?'
    + _ATTRS
    + _WS
    + r"(?:/>|>"
    + _WS
    + r"(?:(<)f(?: [\w:]+=\"[^\"<&\s]*\")*"
    + _WS
    + r"(?:/>|>([^<]*)</f>)"
    + _WS
    + r")?"  # 8 f, 9 its text
    + r"(?:<v>([^<]*)</v>|<v"
    + _WS
    + r"/>)?"
    + _WS  # 10 the value
    + r"(?:(<)is>"
    + _WS
    + r'<t(?: xml:space="preserve")?>([^<]*)</t>'
    + _WS
    + r"</is>)?"  # 11 is, 12 its text
    + _WS
    + r"</c>)"
    r'|<row r="(\d{1,7})"(?: [\w:]+="[^"<&\s]*")*' + _WS + r"(/?)>"  # 13 number, 14 empty row
    r"|(</row>|</sheetData>)"  # 15 an end
    r"|([\s\S])"  # 16: anything else
    r")"
)
_HEAD = re.compile(
    r"\A\ufeff?(?:<\?xml(?: [\w:]+=(?:\"[^\"<>]*\"|'[^'<>]*'))*"
    + _WS
    + r"\?>)?"
    + _WS
    + r"<worksheet(?: [\w:]+=\"[^\"<>]*\")*"
    + _WS
    + r">"
)
_ENCODING = re.compile(r"encoding=[\"']([^\"']*)")
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_ROW_TAG = re.compile(r"<(?:[\w.-]+:)?row[ \t\n/>]")


class NotPlain(Exception):
    """The part is not laid out the plain way: the strict reader reads it from here."""


def _entity(match: re.Match) -> str:
    name = match.group(1)
    if name[0] != "#":
        return _NAMED[name]
    return chr(int(name[2:], 16) if name[1] == "x" else int(name[1:]))


def _text(raw: str) -> str:
    """The text XML means (expat has checked every reference already)."""
    return _ENTITY.sub(_entity, raw)


def _head_end(text: str) -> int | None:
    """Where `sheetData`'s rows begin in `text` (the part's start), None while unseen."""
    at = text.find("<sheetData")
    if at < 0 or len(text) < at + len("<sheetData/>"):
        return None
    head = text[:at]
    root = _HEAD.match(head)
    declaration = head[: root.end()] if root else ""
    encoding = _ENCODING.search(declaration.split("?>")[0]) if "?>" in declaration else None
    if (
        root is None
        or f'xmlns="{MAIN}"' not in root.group(0)
        or len(re.findall(r"xmlns[ \t\n]*=", head)) != 1
        or "<!" in head
        or head.count("<?") > (1 if "?>" in declaration else 0)
        or _ROW_TAG.search(head)
        or (encoding is not None and encoding.group(1).lower().replace("_", "-") != "utf-8")
    ):
        raise NotPlain
    if text.startswith("<sheetData>", at):
        return at + len("<sheetData>")
    if text.startswith("<sheetData/>", at):
        return -(at + len("<sheetData/>"))  # no rows at all
    raise NotPlain


def _chunks(source: Any, chunk_size: int, markers: tuple, overlap: int) -> Iterator[str]:
    """The part's text, chunk by chunk, each checked by expat before it is given."""
    parser = expat.ParserCreate(namespace_separator="}")
    decoder = codecs.getincrementaldecoder("utf-8")()
    tail = b""
    try:
        while chunk := source.read(chunk_size):
            upper = tail + chunk.replace(b"\x00", b"").upper()
            if any(marker in upper for marker in markers):
                raise NotPlain
            tail = upper[-overlap:]
            parser.Parse(chunk, False)
            yield decoder.decode(chunk)
        parser.Parse(b"", True)
        yield decoder.decode(b"", True)
    except (expat.ExpatError, UnicodeDecodeError):
        raise NotPlain from None


def scan(
    source: Any, shared: Any, chunk_size: int, markers: tuple, overlap: int
) -> Iterator[tuple[int, dict[int, tuple[Any, bool]]]]:
    """(row number, {column: (value, is_formula)}) as `sheet_rows.rows` gives them, for a
    plain part; raises `NotPlain` (after the rows before it) for any other."""
    buffer = ""
    start: int | None = None
    ended = False
    row_number = 0
    for text in _chunks(source, chunk_size, markers, overlap):
        buffer += text
        if ended:  # after sheetData: only no row may follow
            if _ROW_TAG.search(buffer):
                raise NotPlain
            buffer = buffer[buffer.rfind("<") :] if "<" in buffer else ""
            continue
        if start is None:
            start = _head_end(buffer)
            if start is None:
                continue
            if start < 0:  # <sheetData/>
                ended, buffer = True, buffer[-start:]
                if _ROW_TAG.search(buffer):
                    raise NotPlain
                continue
            buffer = buffer[start:]
        cut = buffer.rfind("</row>")
        cut = cut + 6 if cut >= 0 else 0
        end = buffer.find("</sheetData>")
        if end >= 0:
            cut = end + len("</sheetData>")
        if cut == 0:
            continue
        body, buffer = buffer[:cut], buffer[cut:]
        if "\r" in body or "xmlns" in body:
            raise NotPlain
        row_number, ended = yield from _rows(body, shared, row_number)
        if ended and _ROW_TAG.search(buffer):
            raise NotPlain
    if not ended:
        raise NotPlain  # no sheetData, or one never closed: expat has said nothing


def _column(columns: dict[str, int], letters: str) -> int:
    """The column of `letters`, first seen on this sheet (`columns` remembers it)."""
    column = columns[letters] = sheet_values.column_index(letters)
    if column > sheet_values.MAX_COLUMN:
        raise NotPlain
    return column


def _cell(kind, attrs, formula, formula_text, value, inline, inline_text, shared) -> Any:
    """A cell's (value, is_formula) as the strict reader's `_cell` reads it, None when
    empty; `NotPlain` where that one refuses it."""
    if formula:
        return "=" + _text(formula_text), True
    if attrs and ' t="' in attrs:  # the type after other attributes
        if kind:
            raise NotPlain  # twice: expat refused it already
        kind = attrs.split(' t="', 1)[1].split('"', 1)[0]
    if kind == "inlineStr":
        return (
            (_text(inline_text) if "&" in inline_text else inline_text, False) if inline else None
        )
    if not value:
        return None
    got = sheet_values.value(kind or "n", _text(value) if "&" in value else value, shared)
    if type(got) is str:
        raise NotPlain
    return got if got[0] is not None else None


def _rows(body: str, shared: Any, row_number: int):
    """The rows in `body` (whole rows, perhaps `</sheetData>` last); returns the last row's
    number and whether `sheetData` ended."""
    columns: dict[str, int] = {}  # letters -> column, each checked once
    last_row = sheet_values.MAX_ROW
    cells: dict[int, tuple[Any, bool]] | None = None
    digits = ""
    for (
        plain_letters,
        plain_row,
        plain_text,
        letters,
        row_of,
        kind,
        attrs,
        formula,
        formula_text,
        value,
        inline,
        inline_text,
        number,
        empty,
        end,
        other,
    ) in _TOKEN.findall(body):
        if plain_letters:  # the one common shape: an inline string
            if cells is None or plain_row != digits:
                raise NotPlain
            column = columns.get(plain_letters) or _column(columns, plain_letters)
            cells[column] = (_text(plain_text) if "&" in plain_text else plain_text, False)
        elif letters:
            if cells is None or row_of != digits:
                raise NotPlain
            column = columns.get(letters) or _column(columns, letters)
            got = _cell(kind, attrs, formula, formula_text, value, inline, inline_text, shared)
            if got is not None:
                cells[column] = got
        elif number:
            if cells is not None or not row_number < int(number) <= last_row:
                raise NotPlain
            row_number, digits = int(number), number
            if empty:
                yield row_number, {}
            else:
                cells = {}
        elif end == "</row>":
            if cells is None:
                raise NotPlain
            yield row_number, cells
            cells = None
        elif end:
            if cells is not None:
                raise NotPlain
            return row_number, True
        elif other.strip(" \t\n"):
            raise NotPlain
    if cells is not None:
        raise NotPlain
    return row_number, False
