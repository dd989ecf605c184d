"""Rows appended a column at a time: how the big sheets are written (issue 17).

A national ministry's workbook has some ten million cells, nearly all in a few sheets
(Register, Contributions, Controls, the questionnaire's Risks and Controls) whose columns
repeat a few values (codes, names, levels, yes / no) or are formulas that differ only by
their row numbers. Writing them a cell at a time (`Sheet.append`: a Python call per cell to
convert, guard, clean and serialise it) was most of an export. Here a column is given
whole:

- `Values`: a column's values and how a value becomes a cell (`CellMaker.value`,
  `CellMaker.text`, ...). Each distinct value is converted once, by those same functions,
  so the rules (formula-injection guard, text cleaning, styles) keep their one home in
  `riskmap.reports.cells`, and serialised once by `Book.fragment`; the rows then only
  look up what their value became. The height a wrapped text needs is reckoned once per
  distinct text too (`stream.wrapped_height`).
- `formulas`: a formula per row from constant parts riskmap wrote and per-row parts (row
  numbers, catalogue ids), joined with numpy over the whole column.

`append_columns` then builds the rows' XML with numpy's element-wise string concatenation
(a C loop per column, not a Python call per cell) and hands it to the sheet, a block of
rows at a time: values are read, converted and joined block by block (formulas, masks and
row numbers are kept as the parts they are made of until their block is written), so the
memory is a block's XML and each column's distinct values, never a column of XML.

The XML is the one `Sheet.append` writes for the same cells, but for the numbering of the
shared strings (first met column by column within a block, not row by row): every sheet
is byte for byte the same once each index is replaced by its text
(tests/test_reports_columns.py compares whole workbooks with the row-by-row writers).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import chain, repeat
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


def column_values(frame: pd.DataFrame, name: str) -> Any:
    """`frame[name]`, or None a row where the frame has no such column."""
    if name in frame.columns:
        return frame[name]
    return [None] * len(frame)


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
    return _objects(map(table.__getitem__, values), len(values))


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


def _objects(items: Any, count: int = -1) -> np.ndarray:
    return np.fromiter(items, dtype=object, count=count)


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
    the height (points, 0: one line) its wrapped text needs; kept across the blocks."""

    def __init__(self, book: Book, column: Values, width: float, made: dict) -> None:
        self.book = book
        self.values, self.convert = column
        self.width = width
        self.xml: dict[Any, tuple[str, float]] = made  # shared by columns made alike

    def made(self, v: Any) -> tuple[str, float]:
        cell = self.convert(v) if self.convert else v
        if cell is None:
            return "", 0.0
        height = 0.0
        if type(cell) is Cell and cell.kind == "s" and cell.style in self.book.cells.wrapping:
            height = wrapped_height([(cell.value, self.width)]) or 0.0
        return self.book.fragment(cell), height

    def cached(self, v: Any) -> tuple[str, float]:
        made = self.xml.get(v)
        if made is None:
            made = self.xml[v] = self.made(v)
        return made

    def block(self, start: int, stop: int) -> tuple[list[str], list[float] | None]:
        values = self.values
        missing = _missing_value(values)
        if missing is not _NO:  # distinct values found in C, only they made Python objects
            codes, uniques = pd.factorize(values.iloc[start:stop])
            made = [self.cached(v) for v in uniques.tolist()]
            if (codes < 0).any():  # a missing value, as tolist() gives it
                made.append(self.made(missing))
            xml = np.array([m[0] for m in made], dtype=object)[codes].tolist()
            if not any(m[1] for m in made):
                return xml, None
            return xml, np.array([m[1] for m in made])[codes].tolist()
        if isinstance(values, pd.Series):
            chunk = values.iloc[start:stop].tolist()
        elif isinstance(values, np.ndarray):
            chunk = values[start:stop].tolist()
        else:
            chunk = list(values[start:stop])
        xml = self.xml
        tall = False
        try:
            for v in dict.fromkeys(chunk):
                made = xml.get(v)
                if made is None:
                    made = xml[v] = self.made(v)
                tall = tall or bool(made[1])
        except TypeError:  # unhashable values (an audit event's dict)
            return self._each(chunk)
        made = list(map(xml.__getitem__, chunk))
        out = [m[0] for m in made]
        return out, [m[1] for m in made] if tall else None

    def _each(self, chunk: list[Any]) -> tuple[list[str], list[float] | None]:
        """As the row writers did (`column_cells`): hashable values once, the others each time."""
        out, heights = [], []
        for v in chunk:
            try:
                made = self.xml[v]
            except KeyError:
                made = self.xml[v] = self.made(v)
            except TypeError:
                made = self.made(v)
            out.append(made[0])
            heights.append(made[1])
        return out, heights if any(heights) else None


Column = Values | Numbers | Formulas | Where


def _length(column: Column) -> int:
    if type(column) is Formulas:
        return column.rows
    if type(column) is Where:
        return len(column.mask)
    if type(column) is Numbers:
        return len(column.numbers)
    return len(column.values)


def append_columns(sheet: Sheet, columns: Sequence[Column], height: Any = None) -> None:
    """Add as many rows as the columns are long, each row's cells from the columns in order;
    `height` (points per row, 0: none) asks for taller rows, as `Sheet.append` does."""
    n = _length(columns[0]) if columns else 0
    given = None if height is None else np.asarray(height, dtype=float)
    if any(_length(c) != n for c in columns) or (given is not None and len(given) != n):
        raise ValueError("columns of different lengths")
    widths = sheet.widths
    made: dict[tuple, dict] = {}  # columns with the same conversion and width share theirs
    converters = []
    for i, c in enumerate(columns):
        if type(c) is not Values:
            converters.append(None)
            continue
        width = widths[i] if i < len(widths) else 10
        shared = made.setdefault((c.convert, width), {})
        converters.append(_Converter(sheet.book, c, width, shared))
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
            xml, heights = converter.block(self.start, self.stop)
            return [xml], np.asarray(xml, dtype=object) == "", heights
        if type(column) is Numbers:
            return (*self.number(column), None)
        if type(column) is Where:
            return self.where(column), None, None
        return self.formula(column), None, None

    def write(self, columns, converters, given: np.ndarray | None) -> None:
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
