"""`Problem`: one thing wrong with a file a person gave us, located so they can fix it.

Every input that arrives as a table (a unit list, the CSV files of `riskmap score`, a
questionnaire) is checked whole before anything is done with it, and every problem is
reported at once: a person fixing a file wants the full list, not one error per attempt. A
problem names the file (or sheet), the row as a spreadsheet shows it (header = 1; 0 for the
whole file or a whole column), the column, the field it is about and what is wrong, in
words. Callers read the parts (a page shows sheet, cell and message in their own columns);
`str()` is the one way a problem is written as a line of text.
"""

from __future__ import annotations

from dataclasses import dataclass

CELL = "cell"  # row_name of a problem located at a spreadsheet cell (`Risks!G5: ...`)


@dataclass(frozen=True)
class Problem:
    row: int  # as a spreadsheet shows it (header = 1); 0 for the whole file or column
    column: str  # "" when the problem is about the whole file
    message: str
    file: str = ""  # the file or sheet; "" when the caller names it once for all
    row_name: str = "row"  # "line" for a CSV file read as text; CELL for a sheet's cell
    field: str = ""  # the field the cell holds ("maturity"), "" when none

    @classmethod
    def at_cell(cls, sheet: str, column: str, row: int, message: str, field: str = "") -> Problem:
        """A problem in one cell of a workbook's sheet, written `Sheet!G5: message`."""
        return cls(row, column, message, sheet, CELL, field)

    @classmethod
    def whole(cls, message: str) -> Problem:
        """A problem about the whole file (or a part of it no cell names)."""
        return cls(0, "", message)

    @property
    def cell(self) -> str:
        """`G5` for a problem at a cell, else ""."""
        return f"{self.column}{self.row}" if self.row_name == CELL else ""

    def __str__(self) -> str:
        if self.row_name == CELL:
            return f"{self.file}!{self.cell}: {self.message}"
        where = []
        if self.row:
            where.append(f"{self.row_name} {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        located = ", ".join(where)
        prefix = f"{self.file}: " if self.file else ""
        return f"{prefix}{located}: {self.message}" if located else f"{prefix}{self.message}"
