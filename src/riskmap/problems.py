"""`Problem`: one thing wrong with a file a person gave us, located so they can fix it.

Every input that arrives as a table (a unit list, the CSV files of `riskmap score`) is
checked whole before anything is done with it, and every problem is reported at once: a
person fixing a file wants the full list, not one error per attempt. A problem names the
file (or sheet), the row as a spreadsheet shows it (header = 1; 0 for the whole file or a
whole column), the column and what is wrong, in words.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    row: int  # as a spreadsheet shows it (header = 1); 0 for the whole file or column
    column: str  # "" when the problem is about the whole file
    message: str
    file: str = ""  # the file or sheet; "" when the caller names it once for all
    row_name: str = "row"  # "line" for a CSV file read as text

    def __str__(self) -> str:
        where = []
        if self.row:
            where.append(f"{self.row_name} {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        located = ", ".join(where)
        prefix = f"{self.file}: " if self.file else ""
        return f"{prefix}{located}: {self.message}" if located else f"{prefix}{self.message}"
