"""The questionnaire's shape, shared by the template writer and the parser.

Column order, headers and roles of the two answer sheets, the hidden `_meta` keys, the
parsed result (`ParsedAnswers`) and the error (`QuestionnaireError`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd
from openpyxl.utils import get_column_letter

from riskmap.catalogue import Catalogue
from riskmap.catalogue.models import Scale
from riskmap.problems import Problem
from riskmap.reports.snapshot import CONTROL_RATING_COLUMNS, RISK_RATING_COLUMNS
from riskmap.rules import scale_range

FORMAT = "riskmap questionnaire"
FORMAT_VERSION = 1
META_SHEET = "_meta"
LISTS_SHEET = "Lists"
RISKS_SHEET = "Risks"
CONTROLS_SHEET = "Controls"
MAX_ERRORS = 500  # a file wrong everywhere gets the first 500 problems and a count

YES, NO = "yes", "no"

# Rows of the hidden `_meta` sheet: key in column A, value in column B.
META_KEYS = [
    "format",
    "format_version",
    "organisation",
    "cycle",
    "catalogue_version",
    "exported_at",
    "units",
]
# A part file (a region's, a unit type's, chosen units) also names its units, one a
# line, in one cell (at most `UNIT_CODES_CHARS`): the import reads only their ratings.
# Not one of META_KEYS: a file without it (a whole ministry's, or an older one) is read whole.
UNIT_CODES_KEY = "unit_codes"
UNIT_CODES_CHARS = 32_000

_ANSWER_STATE = ["version", "changed", "stale", "sheet_row"]  # what an import adds to a row
RISK_ANSWER_COLUMNS = [*RISK_RATING_COLUMNS, *_ANSWER_STATE]
CONTROL_ANSWER_COLUMNS = [*CONTROL_RATING_COLUMNS, "evidence_references", *_ANSWER_STATE]


class QuestionnaireError(Exception):
    """The questionnaire was refused; `errors` lists every problem (`riskmap.problems.Problem`:
    sheet, cell, field and message; a sentence about the whole file has no sheet).

    `answers`: when every problem is a rating the rules refuse (a justification missing)
    and the file is otherwise sound, the rows that passed, so that the service can add
    what only the database knows (rows changed since the export) and report every problem
    at once; None otherwise.
    """

    def __init__(
        self,
        errors: list[Problem] | list[str],
        filename: str = "",
        answers: ParsedAnswers | None = None,
    ) -> None:
        self.errors = [Problem.whole(e) if isinstance(e, str) else e for e in errors]
        self.filename = filename
        self.answers = answers
        what = f"questionnaire {filename!r}" if filename else "questionnaire"
        lines = "\n".join(f"  - {e}" for e in self.errors)
        super().__init__(f"{what} refused, {len(self.errors)} problem(s):\n{lines}")


@dataclass(frozen=True, eq=False)
class ParsedAnswers:
    """The ratings the officer changed, ready for the service to save in one transaction.

    risk_ratings: RISK_ANSWER_COLUMNS; control_ratings: CONTROL_ANSWER_COLUMNS. `version` is
    the rating's version when the template was exported (pass it as `expected_version`);
    `changed` lists the fields changed (["likelihood", "justification"]); `stale` is True when
    the rating changed in riskmap since the export (the save will meet a conflict);
    `evidence_references` (controls) lists the references typed in the row that riskmap does
    not hold yet, as (checklist entry number, reference);
    `sheet_row` is the row in the file, for messages.
    """

    filename: str
    cycle_label: str
    catalogue_version: str
    risk_ratings: pd.DataFrame
    control_ratings: pd.DataFrame
    rows_read: int = 0
    units: tuple[str, ...] = field(default_factory=tuple)

    @property
    def changes(self) -> int:
        return len(self.risk_ratings) + len(self.control_ratings)

    @property
    def stale(self) -> int:
        return int(self.risk_ratings["stale"].sum() + self.control_ratings["stale"].sum())


@dataclass(frozen=True)
class Field:
    """A column of a questionnaire sheet.

    role: "info" (locked), "answer" (unlocked, validated), "meaning" (formula showing the
    chosen level's definition), "id" (hidden identifier), "was" (hidden exported value).
    """

    key: str
    header: str
    width: float
    role: str = "info"


def _rating_head(item: Field, name: Field) -> list[Field]:
    """The first columns of a rating sheet: the unit a row rates, as an officer knows it,
    the item rated (its id and its name) and the first answer, whether it applies."""
    return [
        Field("unit_code", "Unit code", 12),
        Field("unit", "Unit", 28),
        Field("unit_type", "Unit type", 18),
        item,
        name,
        Field("applicable", "Applicable (yes/no)", 12, "answer"),
    ]


def _level_fields(key: str, scale: Scale, width: float, meaning: str, wide: float) -> list[Field]:
    """A level answered on `scale` and, beside it, the formula column that shows what the
    chosen level means (headed `meaning`, `wide` wide), so the officer reads the level's
    definition without leaving the row."""
    return [
        Field(key, f"{key.capitalize()} ({scale_range(scale)})", width, "answer"),
        Field(f"{key}_meaning", meaning, wide, "meaning"),
    ]


def _round_trip_fields(item: str, answers: tuple[str, ...]) -> list[Field]:
    """The hidden columns an import reads back (`questionnaire_parse`): which rating a row
    is (`id_unit`, `id_<item>`) at which version, and each answer as it was exported
    (`was_<answer>`), so that an import tells the officer's edit from a stale file."""
    return [
        Field("id_unit", "id: unit", 10, "id"),
        Field(f"id_{item}", f"id: {item}", 10, "id"),
        Field("id_version", "id: version", 10, "id"),
        *(Field(f"was_{a}", f"exported: {a}", 10, "was") for a in answers),
    ]


def risk_fields(catalogue: Catalogue) -> list[Field]:
    m = catalogue.method
    return [
        *_rating_head(Field("risk_id", "Risk", 9), Field("risk", "Risk scenario", 48)),
        *_level_fields("likelihood", m.likelihood, 12, "Likelihood: meaning of the level", 44),
        *_level_fields("impact", m.impact, 11, "Impact: meaning of the level", 44),
        Field("justification", "Justification (required for a change or n/a)", 50, "answer"),
        *_round_trip_fields("risk", ("applicable", "likelihood", "impact", "justification")),
    ]


def control_fields(catalogue: Catalogue) -> list[Field]:
    m = catalogue.method
    return [
        *_rating_head(Field("control_id", "Control", 24), Field("control", "Control name", 40)),
        *_level_fields(
            "maturity", m.maturity, 12, "Maturity: what the level means for this control", 50
        ),
        Field("evidence", "Evidence (documents, records, where to find them)", 44, "answer"),
        Field("justification", "Justification (required for a change or n/a)", 44, "answer"),
        Field("evidence_hint", "Evidence to look for", 44),
        *_round_trip_fields("control", ("applicable", "maturity", "evidence", "justification")),
        Field("evidence_references", REFERENCES_HEADER, 50, "answer"),
    ]


# The Controls sheet's evidence references: one a line, "2: DOC-14/2025, HR registry, room
# 4" (the number of the checklist entry it answers, a colon, the document number, register
# and location). The column is last, after the hidden ones, so that every other column
# keeps its letter.
REFERENCES_HEADER = (
    "Evidence references (one a line: checklist entry number, colon, document number, "
    "register and location)"
)
_REFERENCE_LINE = re.compile(r"\s*(\d{1,3})\s*:\s*(\S.*?)\s*")


def reference_line(entry: int, reference: str) -> str:
    """How the template shows one reference item: `2: DOC-14/2025, HR registry, room 4`."""
    return f"{entry}: {reference}"


def reference_lines(text: str) -> tuple[list[tuple[int, str]], list[str]]:
    """The references typed in a cell, as (entry number, reference), and the lines that do
    not read as a reference (empty lines are skipped)."""
    found: list[tuple[int, str]] = []
    bad: list[str] = []
    for line in str(text or "").splitlines():
        if not line.strip():
            continue
        m = _REFERENCE_LINE.fullmatch(line)
        if m:
            found.append((int(m.group(1)), m.group(2)))
        else:
            bad.append(line.strip())
    return found, bad


def column_letter(fields: list[Field], key: str) -> str:
    return get_column_letter([f.key for f in fields].index(key) + 1)
