"""Cell values and styles, with formula injection guarded by construction.

A cell is either a plain Python value (text, number, boolean, date, None) or a `Cell`
(value, kind, style id). The row writer (`riskmap.reports.stream`) writes plain text as an
inline string, never as a formula: the only way to write a formula is `CellMaker.formula`,
from text riskmap builds itself, never from user text.

Text that Excel or LibreOffice would read as a formula or a number once a user edits the
cell (starting with =, +, -, @, tab or carriage return) also gets the `quotePrefix` style,
the spreadsheet's own "this is text" mark, so it stays text after an edit too.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, time
from types import SimpleNamespace
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from openpyxl.cell import Cell as _OpenpyxlCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.workbook import Workbook

# A value starting with one of these would be read as a formula (or a signed number) by
# Excel or LibreOffice when typed or edited, and by CSV importers.
RISKY_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MAX_CELL_TEXT = 32_767  # Excel's limit on the characters of one cell
_TRUNCATED = " [... truncated]"

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"

_THIN = Side(style="thin", color="FFBFBFBF")


def solid(argb: str) -> PatternFill:
    # Both colours: Excel reads a differential (conditional) fill's bgColor, others fgColor.
    return PatternFill(fill_type="solid", fgColor=argb, bgColor=argb)


# Named styles: attributes of a cell's style.
STYLES: dict[str, dict[str, Any]] = {
    "plain": {},
    "header": {
        "font": Font(bold=True, color="FFFFFFFF"),
        "fill": solid("FF404040"),
        "alignment": Alignment(wrap_text=True, vertical="top"),
        "border": Border(bottom=_THIN),
    },
    "title": {"font": Font(bold=True, size=14)},
    "section": {"font": Font(bold=True, size=12, color="FF404040")},
    "label": {"font": Font(bold=True)},
    "link": {"font": Font(color="FF0563C1", underline="single"), "number_format": "0"},
    "wrap": {"alignment": Alignment(wrap_text=True, vertical="top")},
    "int": {"number_format": "0"},
    "score": {"number_format": "0.00"},
    "fraction": {"number_format": "0.0000"},
    "money": {"number_format": "#,##0"},
    "date": {"number_format": DATE_FORMAT},
    "datetime": {"number_format": DATETIME_FORMAT},
    # Input cells an auditor may change to see the scores move.
    "input": {"fill": solid("FFDDEBF7"), "number_format": "0"},
    "input_bool": {"fill": solid("FFDDEBF7")},
    # Answer cells of the questionnaire: unlocked on a protected sheet.
    "answer": {
        "fill": solid("FFFFF2CC"),
        "protection": Protection(locked=False),
        "alignment": Alignment(horizontal="center", vertical="top"),
        "border": Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN),
    },
    "answer_text": {
        "fill": solid("FFFFF2CC"),
        "protection": Protection(locked=False),
        "alignment": Alignment(wrap_text=True, vertical="top"),
        "border": Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN),
        "number_format": "@",
    },
}


class Cell(NamedTuple):
    """A cell that is not plain: `kind` is "s" text, "n" number, "b" boolean, "d" date
    (a number with a date style), "f" formula, "" empty; `style` an index of the workbook's
    cell formats."""

    value: Any
    kind: str
    style: int


def clean_text(text: str) -> str:
    """`text` as a cell can hold it: control characters replaced, at most 32,767 characters."""
    if ILLEGAL_CHARACTERS_RE.search(text):
        text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)
    if len(text) > MAX_CELL_TEXT:
        text = text[: MAX_CELL_TEXT - len(_TRUNCATED)] + _TRUNCATED
    return text


def is_risky(text: str) -> bool:
    """Would a spreadsheet read this text as a formula or a number when it is edited?"""
    return text.startswith(RISKY_PREFIXES)


def is_missing(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, np.generic):
        return bool(pd.isna(value))
    return False


def plain(value: Any) -> Any:
    """A frame value as a cell value: numpy scalars unwrapped, datetimes naive UTC, dicts and
    lists as JSON text, non-finite numbers and missing values as None."""
    if is_missing(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    if isinstance(value, (bool, int, float, str, date, time)):
        return value
    return str(value)


class CellMaker:
    """Makes the cells of one workbook: each named style resolved once to a format index."""

    def __init__(self, wb: Workbook, styles: dict[str, dict[str, Any]] | None = None) -> None:
        self._wb = wb
        # A stand-in worksheet: style attributes only look up the workbook's style tables.
        self._sheet = SimpleNamespace(parent=wb)
        self._styles: dict[str, dict[str, Any]] = dict(STYLES)
        self._styles.update(styles or {})
        self._ids: dict[tuple[str, bool], int] = {}
        self.wrapping: set[int] = set()  # style ids whose text wraps (rows sized to fit)

    def add_style(self, name: str, **attributes: Any) -> None:
        self._styles[name] = attributes
        self._ids.pop((name, False), None)
        self._ids.pop((name, True), None)

    def style_id(self, style: str, guard: bool = False) -> int:
        key = (style, guard)
        sid = self._ids.get(key)
        if sid is None:
            cell = _OpenpyxlCell(self._sheet)
            for attr, value in self._styles[style].items():
                setattr(cell, attr, value)
            if guard:
                cell.quotePrefix = True
            sid = self._wb._cell_styles.add(cell._style)
            self._ids[key] = sid
            alignment = self._styles[style].get("alignment")
            if alignment is not None and alignment.wrap_text:
                self.wrapping.add(sid)
        return sid

    def styled(self, value: Any, style: str) -> Cell:
        """A number, boolean, date or empty cell with a style (text: use `text`)."""
        value = plain(value)
        if value is None:
            return Cell(None, "", self.style_id(style))
        if isinstance(value, bool):
            return Cell(value, "b", self.style_id(style))
        if isinstance(value, (int, float)):
            return Cell(value, "n", self.style_id(style))
        if isinstance(value, (datetime, date)):
            return Cell(value, "d", self.style_id(style))
        return self.text(str(value), style)

    def text(self, value: str, style: str | None = None) -> Any:
        """A text cell that can never become a formula."""
        value = clean_text(value)
        if not value:  # an empty text is an empty cell (keeping its style)
            return None if style is None else Cell(None, "", self.style_id(style))
        if is_risky(value):
            return Cell(value, "s", self.style_id(style or "plain", guard=True))
        if style is None:
            return value
        return Cell(value, "s", self.style_id(style))

    def value(self, value: Any, style: str | None = None) -> Any:
        """Any data value: text guarded, dates formatted, missing values left empty."""
        value = plain(value)
        if value is None:
            return None if style is None else Cell(None, "", self.style_id(style))
        if isinstance(value, str):
            return self.text(value, style)
        if isinstance(value, datetime):
            return Cell(value, "d", self.style_id(style or "datetime"))
        if isinstance(value, date):
            return Cell(value, "d", self.style_id(style or "date"))
        if isinstance(value, time):
            return self.text(value.isoformat(), style)
        if style is None:
            return value
        return self.styled(value, style)

    def formula(self, formula: str, style: str | None = None) -> Cell:
        """A formula riskmap wrote itself (never built from user text)."""
        if not formula.startswith("="):
            raise ValueError(f"a formula must start with '=': {formula!r}")
        return Cell(formula[1:], "f", self.style_id(style) if style else 0)

    def header(self, names: list[str]) -> list[Any]:
        return [self.text(n, "header") for n in names]
