"""The values of a questionnaire's cells as the parser reads them, and its list of problems.

Apart from `questionnaire_parse` so that each stays readable: how a cell's value is shown in
a message, read as a whole number, a level on a scale, yes/no or text, and `FileErrors`, the
problems found so far (past `MAX_ERRORS` only counted).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from riskmap import rules
from riskmap.catalogue.models import Scale
from riskmap.problems import Problem
from riskmap.reports.questionnaire_layout import MAX_ERRORS

_INTEGER = re.compile(r"\s*[+-]?\d+\s*")
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}


class FileErrors(list):
    """Problems found so far; past MAX_ERRORS only counted."""

    def __init__(self) -> None:
        super().__init__()
        self.dropped = 0
        self.refusals = 0  # how many are ratings the rules refuse (the file is sound)

    def only_refusals(self) -> bool:
        return len(self) + self.dropped == self.refusals

    def add(self, problem: Problem | str) -> None:
        """Keep `problem` (a sentence about the whole file is given as text)."""
        if len(self) < MAX_ERRORS:
            self.append(Problem.whole(problem) if isinstance(problem, str) else problem)
        else:
            self.dropped += 1

    def add_all(self, problems: list[Problem]) -> None:
        for problem in problems:
            self.add(problem)

    def final(self) -> list[Problem]:
        out = list(self)
        if self.dropped:
            out.append(Problem.whole(f"... and {self.dropped} more problem(s) not listed"))
        return out


def show(value: Any) -> str:
    """A cell's value as a message shows it: text in quotes, numbers as typed."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "an empty cell"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return '"' + text.replace("\n", " ").replace("\r", " ") + '"'
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def parse_int(value: Any) -> int | None:
    """A whole number typed as a number or as digits; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    return None


def parse_level(value: Any, scale: Scale) -> int | None:
    """The level in `value`, or None if it is not a whole number on the scale."""
    n = parse_int(value)
    return n if n is not None and rules.is_level(n, scale) else None


def parse_yes_no(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _YES:
            return True
        if word in _NO:
            return False
    return None


def remembered(memo: dict, parse: Any, value: Any, scale: Scale) -> Any:
    """`parse(value, scale)` as it was the last time (`memo`, one per sheet): a sheet holds
    a few levels thousands of times, and reading a scale's bounds is slow (a property).
    Keyed by the value's type too, since `True == 1 == 1.0` read differently."""
    key = (type(value), value, id(scale))
    got = memo.get(key, memo)
    if got is memo:
        memo[key] = got = parse(value, scale)
    return got


def as_text(value: Any) -> str:
    """A text answer: trimmed; numbers and dates typed into it kept as text."""
    if type(value) is str:  # the common case first
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (datetime, date)):
        value = value.isoformat()
    return str(value).strip()


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class SheetErrors:
    """A sheet's problems tagged with their row, so that checks made on the whole sheet
    afterwards (the justification rules) still come out in the file's order."""

    def __init__(self) -> None:
        self.row = 0
        self.found: list[tuple[int, Problem]] = []

    def add(self, problem: Problem, row: int | None = None) -> None:
        self.found.append((self.row if row is None else row, problem))

    def in_order(self) -> list[Problem]:
        return [m for _, m in sorted(self.found, key=lambda f: f[0])]
