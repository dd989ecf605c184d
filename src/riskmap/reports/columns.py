"""Rows appended a column at a time: how the big sheets are written (issue 17).

A national workbook has some ten million cells, nearly all in a few sheets whose columns
repeat a few values (codes, names, levels, yes / no) or are formulas that differ only by
their row numbers; a Python call per cell (`Sheet.append`) was most of an export. Here:

- `Values`: a column's values and how a value becomes a cell (`CellMaker.value`, ...).
  Each distinct value is converted once by those functions, so the guard and cleaning
  rules keep their one home in `riskmap.reports.cells`, and serialised once by
  `Book.fragment` (with the height its wrapped text needs); rows look up what it became.
- `numbers`: integers written as digits; `formulas`: a formula per row from constant
  parts riskmap wrote and per-row parts (row numbers, catalogue ids); `where`: either.

`append_columns` joins each block of rows once from those pieces (`str.join`, no text made
per cell), so the memory is a block's XML and each column's distinct values. The XML is
the one `Sheet.append` writes for the same cells, byte for byte: a block's new values are
made in the order a row writer meets them (row, then column), so styles and shared
strings get the numbers they always got, and a frame sheet's values are all converted
first, a column at a time, as its row writer did (tests/test_reports_columns.py compares
whole workbooks with the row writers, tests/row_writers.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import chain, repeat
from operator import itemgetter
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from riskmap.reports.cells import Cell
from riskmap.reports.stream import _LETTERS, Book, Sheet, _escape, wrapped_height

_BLOCK = 5_000  # rows converted and joined at once (20,000: 30 MB more for the same time)


class Values(NamedTuple):
    """A column of values (list, array or Series); `convert` makes each a cell (plain value,
    `Cell` or None for no cell), called once per distinct value; without it the values are
    cells already."""

    values: Any
    convert: Callable[[Any], Any] | None = None


class Digits(NamedTuple):
    """Integers (row numbers) a formula names, written as digits when their block is."""

    numbers: np.ndarray


class Numbers(NamedTuple):
    """Integers written as plain numbers (what `Book.fragment` writes for an int), no cell
    where `present` is False: a column of mostly distinct numbers (row numbers), which
    `Values` would convert one by one."""

    numbers: np.ndarray
    present: np.ndarray | None = None


def numbers(values: Any, present: Any = None) -> Numbers:
    """A `Numbers` column: `values` (integers, any value where not `present`)."""
    array = np.asarray(values)
    if present is not None:
        present = np.asarray(present, dtype=bool)
        array = np.where(present, array, 0)
    return Numbers(array.astype(np.int64), present)


class Formulas(NamedTuple):
    """A formula cell per row (`formulas`): constant parts, already escaped, and per-row
    parts (`Digits`, or arrays of escaped text)."""

    parts: tuple[Any, ...]
    rows: int


class Where(NamedTuple):
    """`then`'s cell where `mask` holds, else the cell `otherwise` (its XML)."""

    mask: np.ndarray
    then: Formulas
    otherwise: str


def digits(numbers: Any) -> Digits:
    """Integers a formula names (row numbers), for `formulas`."""
    return Digits(np.asarray(numbers).astype(np.int64))


def formulas(book: Book, style: str | None, *parts: Any) -> Formulas:
    """A formula cell per row whose text is `parts` joined: strings riskmap wrote (the first
    starts with "=", as `CellMaker.formula` asks) and per-row parts: `digits(...)` (row
    numbers) or arrays of text (catalogue ids, escaped here). Never user text."""
    first = parts[0]
    if not isinstance(first, str) or not first.startswith("="):
        raise ValueError(f"a formula must start with '=': {first!r}")
    sid = book.cells.style_id(style) if style else 0
    attr = f'" s="{sid}"' if sid else '"'
    out: list[Any] = [f"{attr}><f>{_escape(first[1:])}"]
    rows = -1
    for part in parts[1:]:
        if isinstance(part, str):
            out.append(_escape(part))
            continue
        part = part if type(part) is Digits else _escaped(part)
        size = len(part.numbers) if type(part) is Digits else len(part)
        if rows not in (-1, size):
            raise ValueError("formula parts of different lengths")
        rows = size
        out.append(part)
    if rows < 0:
        raise ValueError("a formula column needs a part per row")
    out.append("</f></c>")
    return Formulas(tuple(out), rows)


def _escaped(part: Any) -> np.ndarray:
    values = np.asarray(part).tolist()
    table = {v: _escape(str(v)) for v in dict.fromkeys(values)}
    return np.fromiter(map(table.__getitem__, values), dtype=object, count=len(values))


def with_rows(formula: str, marker: str, rows: Digits) -> list[Any]:
    """`formula`'s parts for `formulas`, with `rows` where `marker` stands (a formula built by
    a function of cell references, such as the band formula, called with `marker` rows)."""
    pieces = formula.split(marker)
    parts: list[Any] = [pieces[0]]
    for piece in pieces[1:]:
        parts += [rows, piece]
    return parts


def where(mask: Any, then: Formulas, otherwise: Any, book: Book) -> Where:
    """`then`'s formula where `mask` holds, else the cell `otherwise` (a value or `Cell`)."""
    return Where(np.asarray(mask, dtype=bool), then, book.fragment(otherwise))


def _text(numbers: np.ndarray) -> list[str]:
    return list(map(str, numbers.tolist()))


_NO = object()


def _missing_value(values: Any) -> Any:
    """What `tolist()` gives for a missing value of a Series whose distinct values pandas
    can find itself (text, numbers, booleans: one missing value each); `_NO` otherwise."""
    if not isinstance(values, pd.Series):
        return _NO
    dtype = values.dtype
    if isinstance(dtype, pd.StringDtype):
        return dtype.na_value
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
        return np.nan
    return _NO


class _Converter:
    """One `Values` column's cells: each distinct value converted and serialised once, with
    the height (points, 0: one line) its wrapped text needs; kept across the blocks.

    A block is read first (`open`: which values are new, and the row each first appears
    on), then the new values of all the columns are made in the order of those rows and
    columns (`made`), as the row writers met them, so that styles and shared strings are
    numbered as before; then the rows look theirs up (`finish`)."""

    def __init__(self, book: Book, column: Values, width: float, made: dict, cells: dict):
        self.book = book
        self.values, self.convert = column
        self.width = width
        self.xml: dict[Any, tuple[str, float]] = made  # shared by columns made alike
        self.cells: dict[Any, Any] = cells  # values converted before the rows
        self.missing = _missing_value(self.values)
        self.each: dict[int, tuple[str, float]] = {}  # this block's values made each time

    def cell(self, v: Any) -> Any:
        if self.cells:
            try:
                made = self.cells.get(v, _NO)
            except TypeError:  # unhashable: not kept
                made = _NO
            if made is not _NO:
                return made
        return self.convert(v) if self.convert else v

    def make(self, v: Any) -> tuple[str, float]:
        cell = self.cell(v)
        if cell is None:
            return "", 0.0
        height = 0.0
        if type(cell) is Cell and cell.kind == "s" and cell.style in self.book.cells.wrapping:
            height = wrapped_height([(cell.value, self.width)]) or 0.0
        return self.book.fragment(cell), height

    def convert_all(self) -> None:
        """Convert every distinct value of the whole column now, in order (the frame
        sheets' row writer converted a column at a time before writing its rows)."""
        convert = self.convert or (lambda v: v)
        for _, v, hashable in self._first_seen(self._chunk(0, len(self.values)), self.cells):
            if not hashable:
                convert(v)
            elif v is self.missing or v not in self.cells:
                self.cells[v] = convert(v)

    def _chunk(self, start: int, stop: int) -> Any:
        values = self.values
        if self.missing is not _NO:
            return values.iloc[start:stop]
        if isinstance(values, pd.Series):
            return values.iloc[start:stop].tolist()
        if isinstance(values, np.ndarray):
            return values[start:stop].tolist()
        return list(values[start:stop])

    def _first_seen(self, chunk: Any, known: dict) -> list[tuple[int, Any, bool]]:
        """(row, value, hashable) of each distinct value of `chunk` not in `known`, at the
        row it first appears on (a missing value always); an unhashable value at each of
        its rows."""
        if self.missing is not _NO:
            codes, uniques = pd.factorize(chunk)
            self.codes, self.keys = codes, uniques.tolist()
            count = len(codes)
            first = np.zeros(len(self.keys) + 1, dtype=np.int64)  # the last: code -1
            first[codes[::-1]] = np.arange(count - 1, -1, -1)  # the first row of each code
            rows = first.tolist()
            out = [(rows[c], v, True) for c, v in enumerate(self.keys) if v not in known]
            if count and (codes < 0).any():
                out.append((rows[-1], self.missing, True))
            return out
        self.keys = chunk
        try:
            new = [v for v in dict.fromkeys(chunk) if v not in known]
        except TypeError:  # unhashable values (an audit event's dict): each made in its row
            return self._unhashable(chunk, known)
        if not new:
            return []
        wanted = dict.fromkeys(new, -1)
        left = len(new)
        for i, v in enumerate(chunk):
            if wanted.get(v) == -1:
                wanted[v] = i
                left -= 1
                if not left:
                    break
        return [(i, v, True) for v, i in wanted.items()]

    def _unhashable(self, chunk: list[Any], known: dict) -> list[tuple[int, Any, bool]]:
        first: dict[Any, int] = {}
        out = []
        for i, v in enumerate(chunk):
            try:
                if v not in first and v not in known:
                    out.append((i, v, True))
                first.setdefault(v, i)
            except TypeError:
                out.append((i, v, False))
        return out

    def open(self, start: int, stop: int) -> list[tuple[int, Any, bool]]:
        """The block's values not made yet, each with the row it first appears on."""
        self.each = {}
        self.made_missing: tuple[str, float] | None = None
        return self._first_seen(self._chunk(start, stop), self.xml)

    def made(self, row: int, v: Any, hashable: bool) -> None:
        if v is self.missing and self.missing is not _NO:
            self.made_missing = self.make(v)  # missing: as tolist() gives it
        elif not hashable:
            self.each[row] = self.make(v)
        elif v not in self.xml:
            self.xml[v] = self.make(v)

    def finish(self) -> tuple[list[str], list[float] | None]:
        if self.missing is not _NO:
            made = [self.xml[k] for k in self.keys]
            if self.made_missing is not None:
                made.append(self.made_missing)  # code -1
            xml = np.array([m[0] for m in made], dtype=object)[self.codes].tolist()
            if not any(m[1] for m in made):
                return xml, None
            return xml, np.array([m[1] for m in made])[self.codes].tolist()
        if self.each:
            made = [
                self.each[i] if i in self.each else self.xml[v] for i, v in enumerate(self.keys)
            ]
        else:
            made = list(map(self.xml.__getitem__, self.keys))
        heights = [m[1] for m in made]
        return [m[0] for m in made], heights if any(heights) else None


Column = Values | Numbers | Formulas | Where


def _length(column: Column) -> int:
    if type(column) is Formulas:
        return column.rows
    if type(column) is Where:
        return len(column.mask)
    if type(column) is Numbers:
        return len(column.numbers)
    return len(column.values)


def append_columns(
    sheet: Sheet, columns: Sequence[Column], height: Any = None, *, convert_first: bool = False
) -> None:
    """Add as many rows as the columns are long, each row's cells from the columns in order;
    `height` (points per row, 0: none) asks for taller rows, as `Sheet.append` does;
    `convert_first`: every column's values converted before any row is written (a frame
    sheet's order: its styles are numbered as they always were)."""
    n = _length(columns[0]) if columns else 0
    given = None if height is None else np.asarray(height, dtype=float)
    if any(_length(c) != n for c in columns) or (given is not None and len(given) != n):
        raise ValueError("columns of different lengths")
    widths = sheet.widths
    made: dict[tuple, dict] = {}  # columns with the same conversion and width share theirs
    converted: dict[Any, dict] = {}
    converters = []
    for i, c in enumerate(columns):
        if type(c) is not Values:
            converters.append(None)
            continue
        width = widths[i] if i < len(widths) else 10
        shared = made.setdefault((c.convert, width), {})
        cells = converted.setdefault(c.convert, {})
        converters.append(_Converter(sheet.book, c, width, shared, cells))
    if convert_first:
        for converter in converters:
            if converter is not None:
                converter.convert_all()
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        _Block(sheet, start, stop).write(columns, converters, given)


class _Block:
    """One block of rows as a list of pieces per row position (a constant or a list with a
    text per row), joined once: no text is made per cell but the distinct values'."""

    def __init__(self, sheet: Sheet, start: int, stop: int) -> None:
        self.sheet, self.start, self.stop = sheet, start, stop
        self.count = stop - start
        self.first = first = sheet.rows + 1
        self.r = _text(np.arange(first, first + self.count))
        self.digits: dict[int, list[str]] = {}  # row numbers as text, once per array

    def number_text(self, part: Digits) -> list[str]:
        key = id(part.numbers)
        if key not in self.digits:
            numbers = part.numbers[self.start : self.stop]
            same = (
                len(numbers)
                and numbers[0] == self.first
                and numbers[-1] == self.first - 1 + len(numbers)
            )
            if same and (np.diff(numbers) == 1).all():  # this block's row numbers
                self.digits[key] = self.r
            else:
                self.digits[key] = _text(numbers)
        return self.digits[key]

    def formula(self, column: Formulas) -> list[Any]:
        pieces: list[Any] = []
        for part in column.parts:
            if isinstance(part, str):
                pieces.append(part)
            elif type(part) is Digits:
                pieces.append(self.number_text(part))
            else:
                pieces.append(part[self.start : self.stop].tolist())
        return pieces

    def where(self, column: Where) -> list[Any]:
        mask = column.mask[self.start : self.stop]
        pieces = self.formula(column.then)
        if mask.all():
            return pieces
        other = [column.otherwise, *([""] * (len(pieces) - 1))]
        return [np.where(mask, piece, o).tolist() for piece, o in zip(pieces, other, strict=True)]

    def number(self, column: Numbers) -> tuple[list[Any], np.ndarray | None]:
        fragment = self.sheet.book.fragment(7)  # a number's XML around its digits
        at = fragment.index("7")
        pieces = [fragment[:at], self.number_text(Digits(column.numbers)), fragment[at + 1 :]]
        if column.present is None:
            return pieces, None
        return pieces, ~column.present[self.start : self.stop]

    def cell(self, column: Column, converter: _Converter | None):
        """The column's pieces in this block, rows with no cell, heights of wrapped texts."""
        if converter is not None:
            xml, heights = converter.finish()
            return [xml], np.asarray(xml, dtype=object) == "", heights
        if type(column) is Numbers:
            return (*self.number(column), None)
        if type(column) is Where:
            return self.where(column), None, None
        return self.formula(column), None, None

    def write(self, columns, converters, given: np.ndarray | None) -> None:
        new = [
            (row, i, value, hashable, converter)
            for i, converter in enumerate(converters)
            if converter is not None
            for row, value, hashable in converter.open(self.start, self.stop)
        ]
        new.sort(key=itemgetter(0, 1))  # as a row writer meets them: row, then column
        for row, _, value, hashable, converter in new:
            converter.made(row, value, hashable)
        tallest = None if given is None else given[self.start : self.stop]
        pieces: list[Any] = ['<row r="', self.r, None]
        last = 0
        for i, (column, converter) in enumerate(zip(columns, converters, strict=True)):
            cell, empty, heights = self.cell(column, converter)
            if heights is not None:
                h = np.asarray(heights, dtype=float)
                tallest = h if tallest is None else np.maximum(tallest, h)
            cell = [f'<c r="{_LETTERS[i]}', self.r, *cell]
            if empty is not None and empty.any():
                if empty.all():
                    continue
                cell = [np.where(empty, "", piece).tolist() for piece in cell]
            last = i + 1
            pieces += cell
        pieces[2] = _row_ends(tallest)
        pieces.append("</row>")
        rows = zip(
            *(p if isinstance(p, list) else repeat(p, self.count) for p in pieces), strict=True
        )
        text = "".join(chain.from_iterable(rows))
        self.sheet.add_rows_xml(text, self.count, last)


def _row_ends(tallest: np.ndarray | None) -> Any:
    """What closes each `<row r="N`: its height where it needs one."""
    if tallest is None or not (tallest > 0).any():
        return '">'
    text = {v: f'" ht="{v:g}" customHeight="1">' for v in np.unique(tallest).tolist() if v > 0}
    return [text[v] if v > 0 else '">' for v in tallest.tolist()]
