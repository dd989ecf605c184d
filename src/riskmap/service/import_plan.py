"""What a questionnaire import returns: the checked plan, the result, the refusals.

`ImportPlan` is what `check_questionnaire` found and `apply_questionnaire` saves;
`ImportResult` what was saved; `QuestionnaireRejected` every problem of a refused file;
`ImportPlanOutdated` a plan whose cycle changed since the check; `cycle_version` the data
version a plan is checked at.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import func, select

from riskmap.problems import Problem
from riskmap.service.errors import ValidationError
from riskmap.store.models import ControlRating, Cycle, EvidenceItem, RiskRating, Unit

if TYPE_CHECKING:
    from riskmap.service.core import Tx

CHUNK = 500  # codes or ids per IN (...)

CHANGE_COLUMNS = [
    "unit_code",
    "unit",
    "kind",
    "item_id",
    "item",
    "field",
    "before",
    "after",
    "cell",
]


class QuestionnaireRejected(ValidationError):
    """The questionnaire was refused and nothing was saved; `problems` lists every one
    (`Problem`: sheet, cell, field, message; no sheet for a sentence about the whole file)."""

    def __init__(self, filename: str, problems: list[Problem] | list[str]):
        self.filename = filename
        self.problems = [Problem.whole(p) if isinstance(p, str) else p for p in problems]
        shown = "; ".join(str(p) for p in self.problems[:5])
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        super().__init__(
            "questionnaire",
            f"{filename}: {len(self.problems)} problem(s), nothing saved: {shown}{more}",
        )


class ImportPlanOutdated(ValidationError):
    """The cycle changed between the check and the apply: nothing was written."""

    def __init__(self, filename: str, cycle: str):
        super().__init__(
            "questionnaire",
            f"{filename}: cycle {cycle} changed since you checked this file (a rating or an "
            "evidence item was saved meanwhile); nothing was saved: check the file again",
        )


@dataclass(frozen=True, eq=False)
class ImportResult:
    """What a questionnaire changes (`check_questionnaire`) or changed (the imports).

    `changes`: one row per changed field (CHANGE_COLUMNS: unit_code, unit, kind "risk" or
    "control", item_id, item, field, before, after, cell), in the file's order; a new
    evidence reference is a row of field "evidence reference".
    """

    filename: str
    cycle: str
    risk_ratings: int
    control_ratings: int
    units: tuple[str, ...]
    rows_read: int
    changes: pd.DataFrame
    applied: bool
    evidence_items: int = 0

    @property
    def ratings(self) -> int:
        return self.risk_ratings + self.control_ratings

    @property
    def nothing_to_save(self) -> bool:
        return self.ratings == 0 and self.evidence_items == 0

    def summary(self) -> str:
        verb = "saved" if self.applied else "to save"
        items = f", {self.evidence_items} evidence reference(s)" if self.evidence_items else ""
        return (
            f"{self.filename}: {self.rows_read} row(s) read, {self.risk_ratings} risk "
            f"rating(s) and {self.control_ratings} control rating(s){items} {verb} in "
            f"{len(self.units)} unit(s) of cycle {self.cycle}"
        )


@dataclass(frozen=True)
class PlannedSave:
    """One rating to save: its row, the version it was checked at, the values."""

    kind: str  # "risk" / "control"
    rating_id: int
    unit: str  # the unit's code
    item_id: str
    version: int
    values: dict[str, Any]


@dataclass(frozen=True)
class PlannedReference:
    """One new evidence item of kind "reference" on a control rating."""

    unit: str
    control_id: str
    entry: int  # the checklist entry's number
    reference: str


@dataclass(frozen=True, eq=False)
class ImportPlan(ImportResult):
    """A checked questionnaire: what `apply_questionnaire` saves, if the cycle is still at
    `data_version`. `sha256` is the file's (the page keeps one plan per file)."""

    sha256: str = ""
    data_version: str = ""
    saves: tuple[PlannedSave, ...] = field(default=())
    references: tuple[PlannedReference, ...] = field(default=())


def cycle_version(
    tx: Tx, cyc: Cycle, units: tuple[str, ...]
) -> tuple[str, dict[tuple[str, str, str], tuple[int, int]]]:
    """The data version of the cycle's `units` (codes): a hash of the cycle's row, each of
    their ratings' id and version, their units' versions and their evidence items; and each
    rating's (id, version) by (kind, unit code, item id), read as tuples, no ORM object.

    Keyed on the units an import writes, not the whole cycle, so that a region's file costs
    what its units cost; a change to any of their rows or items still moves it."""
    digest = hashlib.sha256(f"{cyc.id}:{cyc.version}:{cyc.status}".encode())
    found: dict[tuple[str, str, str], tuple[int, int]] = {}
    codes = sorted(set(units))
    for start in range(0, len(codes), CHUNK):
        chunk = codes[start : start + CHUNK]
        digest.update(f"units|{'|'.join(chunk)}\n".encode())
        for kind, model, item in (
            ("risk", RiskRating, RiskRating.risk_id),
            ("control", ControlRating, ControlRating.control_id),
        ):
            rows = tx.session.execute(
                select(model.id, Unit.code, item, model.version, Unit.version)
                .join(Unit, Unit.id == model.unit_id)
                .where(model.cycle_id == cyc.id, Unit.code.in_(chunk))
                .order_by(model.id)
            )
            for rating_id, code, item_id, version, unit_version in rows:
                found[(kind, code, item_id)] = (rating_id, version)
                digest.update(f"{kind}|{rating_id}|{version}|{unit_version}\n".encode())
        e = EvidenceItem
        items = tx.session.execute(
            select(func.count(e.id), func.max(e.id), func.count(e.superseded_by))
            .join(Unit, Unit.id == e.unit_id)
            .where(e.cycle_id == cyc.id, Unit.code.in_(chunk))
        ).one()
        digest.update(f"evidence|{tuple(items)}\n".encode())
    return digest.hexdigest(), found
