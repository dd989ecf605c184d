"""What riskmap stores as text: one limit per field, and no control characters.

Whatever riskmap stores it must be able to export and read back unchanged: a cell of a
workbook holds at most 32,767 characters (Excel's limit; openpyxl cuts longer text), and
XML 1.0 cannot carry control characters (openpyxl would write U+FFFD), while PostgreSQL
refuses a NUL outright. So every text is checked where it enters (the service's saves, the
questionnaire's cells, a restored backup) and once more before any row is flushed
(`riskmap.store` calls `column_problem` for every text column of every new or changed
row), so that SQLite and PostgreSQL refuse exactly the same text, with the same words.

Limits: a `String(n)` column holds `n` characters; the long texts (`Text` columns) hold
`LIMITS[name]`, each at most `CELL_LIMIT`. Tab, line feed and carriage return are allowed;
every other C0 control, DEL, the C1 controls, U+FFFE/U+FFFF and lone surrogates are not.
Nor is Excel's escape of a character code (`_x0007_`): Excel reads it as the character
(a control one, or `_x0041_` as "A") while riskmap and openpyxl keep the text, so a text
holding one would not come back from Excel as it went.
"""

from __future__ import annotations

import re
from typing import Any

CELL_LIMIT = 32_767  # characters in one Excel cell
LIMITS: dict[str, int] = {  # the long texts, by column name
    "justification": 4_000,
    "evidence": 4_000,
    "reason": 8_000,  # an audit reason quotes a justification
    "text": 4_000,  # a comment
    "description": 8_000,  # an incident
    "outcome": 4_000,
    "indicator": 2_000,
    "notes": 4_000,
    "reference": 4_000,  # an evidence item's document number, register and location
    "evidence_references": 16_000,  # a questionnaire cell of references, one a line
}
DEFAULT_LIMIT = 4_000
assert max(LIMITS.values()) <= CELL_LIMIT

_EXCEL_ESCAPE = re.compile(r"_x[0-9A-Fa-f]{4}_")
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")


class TextRefused(ValueError):
    """A text riskmap will not store; `field` names it, `str()` says why in words."""

    def __init__(self, field: str, problem: str, table: str = ""):
        self.field, self.problem, self.table = field, problem, table
        super().__init__(f"{field}: {problem}")


def limit_of(field: str, length: int | None = None) -> int:
    """The most characters `field` holds: its column length, else its long-text limit."""
    return length if length else LIMITS.get(field, DEFAULT_LIMIT)


def text_problem(field: str, value: Any, length: int | None = None) -> str | None:
    """Why `value` cannot be stored in `field` (None: it can)."""
    if not isinstance(value, str):
        return None
    most = limit_of(field, length)
    if len(value) > most:
        return f"{len(value):,} characters, over the limit of {most:,} for {field}: shorten it"
    bad = _FORBIDDEN.search(value)
    if bad:
        return (
            f"holds the control character U+{ord(bad.group()):04X} at character "
            f"{bad.start() + 1}, which cannot be stored or exported: remove it"
        )
    escape = _EXCEL_ESCAPE.search(value)
    if escape:
        return (
            f"holds {escape.group()!r} at character {escape.start() + 1}, which Excel reads as "
            "a character code: write it another way"
        )
    return None


def all_storable(field: str, values: list[str], length: int | None = None) -> bool:
    """True when `text_problem` finds nothing in any of `values` (texts), looked at in one
    pass: the longest against the limit, then every forbidden character and Excel escape
    searched in all of them joined by line feeds (allowed, and no escape spans one). For a
    restore's tens of thousands of texts; False says only: look at each one."""
    if max(map(len, values), default=0) > limit_of(field, length):
        return False
    joined = "\n".join(values)
    return _FORBIDDEN.search(joined) is None and _EXCEL_ESCAPE.search(joined) is None


def checked(field: str, value: str, length: int | None = None) -> str:
    """`value` if it can be stored in `field`, else `TextRefused`."""
    problem = text_problem(field, value, length)
    if problem:
        raise TextRefused(field, problem)
    return value


def column_problem(column: Any, value: Any) -> str | None:
    """Why `value` cannot go into the SQLAlchemy text column `column` (None: it can)."""
    return text_problem(column.name, value, getattr(column.type, "length", None))
