"""Data sheets: a header row, one row per record, column widths and a named Excel table."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from riskmap.reports.cells import CellMaker
from riskmap.reports.columns import Column, Formulas, Values, append_columns, numbers
from riskmap.reports.stream import Book, Sheet


@dataclass(frozen=True)
class Col:
    """A column of a data sheet: its header, width and the style of its data cells."""

    name: str
    width: float = 14
    style: str | None = None


def letter(columns: list[Col] | list[str], name: str) -> str:
    """The column letter of `name` in `columns`."""
    names = [c.name if isinstance(c, Col) else c for c in columns]
    return get_column_letter(names.index(name) + 1)


_TABLE_NAME = re.compile(r"[^A-Za-z0-9_]")


def add_table(ws: Any, name: str, headers: list[str], rows: int) -> None:
    """A named Excel table over the header row and `rows` data rows (with its own filter)."""
    last = get_column_letter(len(headers))
    ref = f"A1:{last}{max(rows, 1) + 1}"
    table = Table(
        displayName=_TABLE_NAME.sub("_", name),
        ref=ref,
        autoFilter=AutoFilter(ref=ref),
        tableColumns=[TableColumn(id=i, name=h) for i, h in enumerate(headers, 1)],
        tableStyleInfo=TableStyleInfo(
            name="TableStyleLight1", showRowStripes=True, showColumnStripes=False
        ),
    )
    with warnings.catch_warnings():
        # The columns are given above: write-only mode cannot read them back from the cells.
        warnings.filterwarnings("ignore", "In write-only mode you must add table columns")
        ws.add_table(table)


def headed_sheet(
    book: Book, title: str, columns: list[Col], *, freeze: str = "A2"
) -> tuple[Sheet, list[str]]:
    """A sheet whose first row names its columns: how every table sheet of riskmap starts."""
    sheet = book.sheet(title, [c.width for c in columns], freeze=freeze)
    headers = [c.name for c in columns]
    sheet.append(book.cells.header(headers))
    return sheet, headers


def frame_sheet(
    book: Book,
    title: str,
    frame: pd.DataFrame,
    columns: list[Col],
    *,
    table: str | None = None,
    freeze: str = "A2",
    computed: dict[str, Formulas] | None = None,
) -> Sheet:
    """A sheet of `frame`'s `columns` (missing ones empty), one row per record, as a table;
    `computed` gives a column's cells ready made (a live formula per row, `columns.formulas`).
    Written a column at a time (`riskmap.reports.columns`), each distinct value converted
    once."""
    sheet, headers = headed_sheet(book, title, columns, freeze=freeze)
    cells = book.cells
    data = frame.reindex(columns=headers)
    ready = computed or {}
    append_columns(
        sheet,
        [ready[c.name] if c.name in ready else _column(cells, data, c) for c in columns],
        convert_first=True,
    )
    if table:
        add_table(sheet.ws, table, headers, len(data))
    return sheet


def _column(cells: CellMaker, data: pd.DataFrame, column: Col) -> Column:
    """A frame's column as `CellMaker.value` makes its cells; integers with no style, which
    it leaves as they are, as plain numbers (`columns.numbers`: no conversion each)."""
    series = data[column.name]
    style = column.style
    if style is None and isinstance(series.dtype, np.dtype) and series.dtype.kind in "iu":
        return numbers(series.to_numpy())
    value = cells.value
    return Values(series, lambda v: value(v, style))


def guess_columns(frame: pd.DataFrame, first: list[str], widths: dict[str, float]) -> list[Col]:
    """Columns for a frame of free shape: `first` (those present) then the rest, in order."""
    names = list(dict.fromkeys(c for c in first if c in frame.columns))
    names += [c for c in frame.columns if c not in names]
    out = []
    for name in names:
        series = frame[name]
        style = None
        if pd.api.types.is_float_dtype(series):
            style = "score"
        out.append(Col(str(name), widths.get(str(name), 14), style))
    return out
