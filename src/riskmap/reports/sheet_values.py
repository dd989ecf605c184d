"""A worksheet cell's value from its type and the text of its `v`, decoded strictly: the
one rule both sheet readers (`sheet_rows`' strict one and `sheet_scan`'s plain one) apply,
so that the fast reader can never read a value the strict one would not."""

from __future__ import annotations

import math
import re
from typing import Any

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
COLUMNS: dict[str, int] = {}
MAX_ROW = 1_048_576  # Excel's last row
MAX_COLUMN = 16_384  # Excel's last column (XFD)

Cell = tuple[Any, bool]  # (value, is_formula)
EMPTY: Cell = (None, False)


def column_index(letters: str) -> int:
    """1-based index of a column's letters (A = 1)."""
    index = COLUMNS.get(letters)
    if index is None:
        index = 0
        for ch in letters:
            index = index * 26 + ord(ch) - 64
        COLUMNS[letters] = index
    return index


def column_letters(index: int) -> str:
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def number(text: str) -> int | float | None:
    """The number in a number cell, or None when it is not a finite number."""
    text = text.strip()
    if text.isascii() and text.isdigit():  # the common case: a level, a version
        return int(text)
    if not _NUMBER.fullmatch(text):
        return None  # "abc", "NaN", "inf": float() would take the last two
    if "." in text or "e" in text or "E" in text:
        value = float(text)
        return value if math.isfinite(value) else None
    return int(text)


def value(kind: str, v: str, shared: Any) -> Cell | str:
    """The (value, False) of a cell of type `kind` (its `t`) whose `v` holds the non-empty
    text `v`, or what is wrong with it."""
    if kind == "n":
        got = number(v)
        if got is None:
            return f"a number cell holds {v[:20]!r}, which is not a number"
        return got, False
    if kind == "s":
        index = v.strip()
        if not (index.isascii() and index.isdigit()) or int(index) >= len(shared):
            return (
                f"the cell points at shared string {index[:20]!r}, which the workbook does not have"
            )
        return shared[int(index)], False
    if kind == "b":
        if v.strip() not in ("0", "1", "true", "false"):
            return f"a true/false cell holds {v[:20]!r}"
        return v.strip() in ("1", "true"), False
    return v, False  # "str", "e" (an error such as #N/A), "d" (ISO date): as text
