"""A filled-in questionnaire back into the database: checked once, the checked plan applied.

- `check_questionnaire`: every check of the file and of the database, nothing written; the
  result is an `ImportPlan`: the changes (what the officer previews), the saves and
  evidence references they make, keyed by the file's SHA-256 and the cycle's data version
  (`cycle_version`) at the check; or `QuestionnaireRejected` listing every problem.
- `apply_questionnaire`: applies a plan, only if the cycle is still at the data version it
  was checked at (else `ImportPlanOutdated`, nothing written): what the officer saw is what
  is saved, without checking the file again.
- `import_questionnaire`: both in one transaction (the command line).

Checks, in order: the role (officer), the cycle (a draft, never a locked one), the file
(`riskmap.reports.parse_questionnaire`: safety, layout, values, identifiers), then what only
the database knows: each changed row must still be at the version it was exported at (else
the problem names the cell and who changed the rating since), the rules of a save
(`risk_values` / `control_values`: the rules of `rate_risk` and `rate_control`, with every
row's baseline read at once by `with_baseline`) and of an evidence item
(`evidence.checklist_entry`). Problems are `riskmap.problems.Problem` (sheet, cell, field,
message), in the file's order.

Applying writes each changed rating once (`Tx.update_many`: one flush of the rows, their
audit events chained in one batch, `riskmap.audit.record_many`), each new reference as an
evidence item of kind "reference" (`evidence.new_reference`), and one `questionnaire.import`
event naming the file and its SHA-256.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from riskmap import audit, rules
from riskmap.problems import CELL, Problem
from riskmap.reports import CycleSnapshot, QuestionnaireError, parse_questionnaire
from riskmap.reports.questionnaire_layout import (
    CONTROLS_SHEET,
    NO,
    RISKS_SHEET,
    YES,
    Field,
    column_letter,
    control_fields,
    reference_line,
    risk_fields,
)
from riskmap.reports.sheet_rows import collector_paused
from riskmap.service import evidence
from riskmap.service.core import Tx, changes_since, json_value, use_case
from riskmap.service.errors import ValidationError
from riskmap.service.exports import build_snapshot
from riskmap.service.import_plan import (
    CHANGE_COLUMNS,
    CHUNK,
    ImportPlan,
    ImportPlanOutdated,
    ImportResult,
    PlannedReference,
    PlannedSave,
    QuestionnaireRejected,
    cycle_version,
)
from riskmap.service.ratings import control_values, rating_update, risk_values
from riskmap.store.models import ControlRating, Cycle, RiskRating, Unit

RISK_FIELDS = ("applicable", "likelihood", "impact", "justification")
CONTROL_FIELDS = ("applicable", "maturity", "evidence", "justification")
REFERENCES = "evidence_references"


# --------------------------------------------------------------------------- the check


@dataclass
class _Kind:
    """The Risks or the Controls sheet, as the import sees it."""

    sheet: str
    kind: str  # "risk" / "control"
    item_column: str
    fields: tuple[str, ...]
    layout: list[Field]
    names: dict[str, str]

    def cell(self, key: str, row: int) -> str:
        return f"{self.sheet}!{column_letter(self.layout, key)}{row}"

    def problem(self, key: str, row: int, message: str) -> Problem:
        return Problem.at_cell(self.sheet, column_letter(self.layout, key), row, message, key)


def _kinds(tx: Tx) -> tuple[_Kind, _Kind]:
    cat = tx.catalogue
    return (
        _Kind(
            RISKS_SHEET, "risk", "risk_id", RISK_FIELDS, risk_fields(cat),
            {r.id: r.title for r in cat.risks},
        ),
        _Kind(
            CONTROLS_SHEET, "control", "control_id", CONTROL_FIELDS, control_fields(cat),
            {c.id: c.name for c in cat.controls},
        ),
    )  # fmt: skip


def _shown(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return YES if value else NO
    return value


def _stale(tx: Tx, k: _Kind, cyc: Cycle, code: str, item: str, row: Any, version: int) -> str:
    """Why a changed row cannot be saved: the rating moved on since the export."""
    entity_id = f"{cyc.label}/{code}/{item}"
    changes = changes_since(tx.session, f"{k.kind}_rating", entity_id, version)
    by_whom: dict[str, list[str]] = {}  # "who at when" -> the fields they changed
    for c in changes:
        fields = by_whom.setdefault(f"{c.by} at {str(c.at)[:16].replace('T', ' ')}", [])
        if c.field not in fields:
            fields.append(c.field)
    if by_whom:
        what = "; ".join(f"{', '.join(f)} changed by {who}" for who, f in by_whom.items())
    else:
        when = str(json_value(row.updated_at) or "")[:16].replace("T", " ")
        what = f"last saved by {row.updated_by or 'someone'}" + (f" at {when}" if when else "")
    return (
        f"the rating of {k.kind} {item} in unit {code} was changed in riskmap after this file "
        f"was exported (file at version {version}, riskmap at {row.version}): {what}. Nothing "
        "was overwritten: download a new template and enter this answer again"
    )


def _known_baseline(row: Any) -> rules.Baseline | None:
    """The baseline `with_baseline` read with the snapshot (one read for every row)."""
    if not getattr(row, "baseline_source", ""):
        return None
    return rules.Baseline(
        int(row.baseline_likelihood), int(row.baseline_impact), row.baseline_source
    )


def _values(tx: Tx, k: _Kind, cyc: Cycle, code: str, row: Any, rec: dict) -> dict[str, Any]:
    """What the save of the row stores: the rules of `rate_risk` / `rate_control`."""
    unit = SimpleNamespace(code=code)
    applicable = bool(rec["applicable"])
    if k.kind == "risk":
        return risk_values(
            tx, cyc, unit, row, likelihood=int(rec["likelihood"]), impact=int(rec["impact"]),
            applicable=applicable, justification=str(rec["justification"]),
            known_baseline=_known_baseline(row),
        )  # fmt: skip
    return control_values(
        tx, unit, row, maturity=int(rec["maturity"]), applicable=applicable,
        evidence=str(rec["evidence"]), justification=str(rec["justification"]),
    )  # fmt: skip


class _Plan:
    """The plan being built: saves, references, change rows and problems."""

    def __init__(self, tx: Tx, cyc: Cycle, unit_names: dict[str, str]):
        self.tx, self.cyc, self.unit_names = tx, cyc, unit_names
        self.saves: list[PlannedSave] = []
        self.references: list[PlannedReference] = []
        self.changes: list[dict[str, Any]] = []
        self.problems: list[Problem] = []

    def change(self, k: _Kind, code: str, item: str, key: str, before, after, cell: str):
        self.changes.append(
            {
                "unit_code": code,
                "unit": self.unit_names.get(code, code),
                "kind": k.kind,
                "item_id": item,
                "item": k.names.get(item, item),
                "field": key,
                "before": _shown(before),
                "after": _shown(after),
                "cell": cell,
            }
        )

    def row(self, k: _Kind, rec: dict, current: Any, ids: tuple[int, int]) -> None:
        tx, cyc = self.tx, self.cyc
        code, item, line = str(rec["unit_code"]), str(rec[k.item_column]), int(rec["sheet_row"])
        version = int(rec["version"])
        changed = list(rec["changed"])
        if ids[1] != version:
            why = _stale(tx, k, cyc, code, item, current, version)
            self.problems.append(k.problem(changed[0], line, why))
            return
        if any(f != REFERENCES for f in changed):
            try:
                values = _values(tx, k, cyc, code, current, rec)
            except ValidationError as exc:
                key = exc.field if exc.field in k.fields else "justification"
                message = str(exc).removeprefix(f"{exc.field}: ")
                self.problems.append(k.problem(key, line, f"{exc.field}: {message}"))
                return
            self.saves.append(PlannedSave(k.kind, ids[0], code, item, version, values))
            for f in k.fields:
                before, after = getattr(current, f), values[f]
                if before != after:
                    self.change(k, code, item, f, before, after, k.cell(f, line))
        for number, reference in rec.get(REFERENCES) or ():
            try:
                evidence.checklist_entry(tx, item, number)
            except ValidationError as exc:
                self.problems.append(k.problem(REFERENCES, line, f"evidence references: {exc}"))
                continue
            self.references.append(PlannedReference(code, item, number, reference))
            line_text = reference_line(number, reference)
            self.change(
                k, code, item, "evidence reference", "", line_text, k.cell(REFERENCES, line)
            )


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    """Problems found by the parser and by the database, sheet by sheet, row by row."""
    sheets = {RISKS_SHEET: 0, CONTROLS_SHEET: 1}

    def position(p: Problem) -> tuple[int, int]:
        return (sheets.get(p.file, 2), p.row) if p.row_name == CELL else (3, 0)

    return sorted(problems, key=position)


def _parse_against(tx: Tx, cyc: Cycle, data: bytes, filename: str, whole: bool):
    """The file parsed against the ratings of the units it names (a part file's), or of the
    whole cycle; with the snapshot used and whether it was limited to a part."""
    used: list[tuple[CycleSnapshot, bool]] = []

    def snapshot_for(codes: list[str] | None) -> CycleSnapshot:
        only = None if whole else codes
        used.append((build_snapshot(tx, cyc, full=False, only=only), only is not None))
        return used[0][0]

    try:
        return used, parse_questionnaire(data, snapshot_for, tx.catalogue, filename), None
    except QuestionnaireError as exc:
        return used, None, exc


def _parsed(tx: Tx, cyc: Cycle, data: bytes, filename: str):
    """The snapshot, the answers and the refusals of the rules (a file otherwise sound).

    A part file is checked against its units' ratings only; a row of a unit outside the
    part (copied from another file) is checked again against the whole cycle, so every
    problem reads as it would for a whole file."""
    used, parsed, exc = _parse_against(tx, cyc, data, filename, whole=False)
    limited = bool(used) and used[0][1]
    if exc is not None and limited and any(p.field == "id_unit" for p in exc.errors):
        used, parsed, exc = _parse_against(tx, cyc, data, filename, whole=True)
    if exc is None:
        return used[0][0], parsed, []
    if exc.answers is None:
        raise QuestionnaireRejected(filename, exc.errors) from exc
    return used[0][0], exc.answers, list(exc.errors)


def _check(tx: Tx, cycle: str, data: bytes, filename: str) -> tuple[Cycle, ImportPlan]:
    """Every check of an import; the plan, or QuestionnaireRejected."""
    cyc = tx.cycle(cycle)
    tx.writable(cyc, "draft")
    snap, parsed, refused = _parsed(tx, cyc, data, filename)
    wanted_units = tuple(
        sorted(
            set(parsed.risk_ratings["unit_code"].astype(str))
            | set(parsed.control_ratings["unit_code"].astype(str))
        )
    )
    data_version, ids = cycle_version(tx, cyc, wanted_units)
    plan = _Plan(tx, cyc, dict(zip(snap.units["unit_code"], snap.units["unit"], strict=True)))
    for k, frame, current in zip(
        _kinds(tx),
        (parsed.risk_ratings, parsed.control_ratings),
        (snap.risk_ratings, snap.control_ratings),
        strict=True,
    ):
        if frame.empty:
            continue
        item_ids = frame[k.item_column].astype(str)
        wanted = set(zip(frame["unit_code"].astype(str), item_ids, strict=True))
        keys = zip(current["unit_code"].tolist(), current[k.item_column].tolist(), strict=True)
        changed = current[[key in wanted for key in keys]]  # tuples of the changed rows only
        rows = {
            (r.unit_code, getattr(r, k.item_column)): r for r in changed.itertuples(index=False)
        }
        for rec in frame.to_dict("records"):
            key = (str(rec["unit_code"]), str(rec[k.item_column]))
            plan.row(k, rec, rows[key], ids[(k.kind, *key)])
    if plan.problems or refused:
        raise QuestionnaireRejected(filename, _in_file_order(refused + plan.problems))
    changed_units = {s.unit for s in plan.saves} | {r.unit for r in plan.references}
    if changed_units != set(wanted_units):  # the version of the units the plan writes
        data_version = cycle_version(tx, cyc, tuple(changed_units))[0]
    return cyc, ImportPlan(
        filename=filename,
        cycle=cyc.label,
        risk_ratings=sum(1 for s in plan.saves if s.kind == "risk"),
        control_ratings=sum(1 for s in plan.saves if s.kind == "control"),
        units=tuple(sorted(changed_units)),
        rows_read=parsed.rows_read,
        changes=pd.DataFrame(plan.changes, columns=CHANGE_COLUMNS),
        applied=False,
        evidence_items=len(plan.references),
        sha256=hashlib.sha256(data).hexdigest(),
        data_version=data_version,
        saves=tuple(plan.saves),
        references=tuple(plan.references),
    )


# --------------------------------------------------------------------------- applying


def _rows(tx: Tx, model: Any, ids: list[int]) -> dict[int, Any]:
    """The ORM rows of the changed ratings only, a chunk of ids per query."""
    out: dict[int, Any] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        out.update({r.id: r for r in tx.session.scalars(select(model).where(model.id.in_(chunk)))})
    return out


def _apply(tx: Tx, cyc: Cycle, plan: ImportPlan) -> ImportResult:
    """Write the plan: the ratings in one flush, the reference items with them, then every
    audit event in one batch (ratings, items, the import), in that order."""
    source = f"questionnaire import: {plan.filename}"
    rows = {
        "risk": _rows(tx, RiskRating, [s.rating_id for s in plan.saves if s.kind == "risk"]),
        "control": _rows(
            tx, ControlRating, [s.rating_id for s in plan.saves if s.kind == "control"]
        ),
    }
    updates = []
    for s in plan.saves:
        text = s.values["justification"]
        reason = f"{source}; {text}" if text else source
        row = rows[s.kind][s.rating_id]
        updates.append(
            rating_update(cyc, s.unit, row, s.values, expected_version=s.version, reason=reason)
        )
    units = {}
    if plan.references:
        codes = sorted({r.unit for r in plan.references})
        units = {u.code: u for u in tx.session.scalars(select(Unit).where(Unit.code.in_(codes)))}
    items = [
        (evidence.new_reference(tx, cyc, units[r.unit], r.control_id, r.entry, r.reference), r.unit)
        for r in plan.references
    ]
    result = ImportResult(
        filename=plan.filename, cycle=plan.cycle, risk_ratings=plan.risk_ratings,
        control_ratings=plan.control_ratings, units=plan.units, rows_read=plan.rows_read,
        changes=plan.changes, applied=True, evidence_items=plan.evidence_items,
    )  # fmt: skip

    def also() -> list[audit.Entry]:
        events = [evidence.added_event(item, code) for item, code in items]
        if plan.saves or plan.references:
            summary = {
                "file": plan.filename,
                "sha256": plan.sha256,
                "risk_ratings": plan.risk_ratings,
                "control_ratings": plan.control_ratings,
                "evidence_items": plan.evidence_items,
                "units": list(plan.units),
            }
            events.append(
                audit.Entry(
                    "questionnaire.import",
                    "cycle",
                    cyc.label,
                    after=summary,
                    reason=source,
                    cycle_id=cyc.id,
                )  # fmt: skip
            )
        return events

    if updates or items:
        tx.update_many(updates, also=also)
    return result


@use_case("officer")
def check_questionnaire(tx: Tx, cycle: str, data: bytes, filename: str) -> ImportPlan:
    """What importing the filled-in questionnaire would change (nothing is written), as the
    plan `apply_questionnaire` saves; or `QuestionnaireRejected` listing every problem."""
    with collector_paused():
        return _check(tx, cycle, data, filename)[1]


@use_case("officer")
def apply_questionnaire(tx: Tx, plan: ImportPlan) -> ImportResult:
    """Save a checked plan, all of it, if the cycle is still as it was checked; else
    `ImportPlanOutdated` and nothing is written (check the file again)."""
    if not isinstance(plan, ImportPlan):
        raise ValidationError("questionnaire", "check the file first: there is no plan to apply")
    cyc = tx.cycle(plan.cycle)
    tx.writable(cyc, "draft")
    for code in plan.units:  # need-to-know: a plan of someone else's units is not theirs
        tx.guard(code)
    if cycle_version(tx, cyc, plan.units)[0] != plan.data_version:
        raise ImportPlanOutdated(plan.filename, cyc.label)
    with collector_paused():
        return _apply(tx, cyc, plan)


@use_case("officer")
def import_questionnaire(tx: Tx, cycle: str, data: bytes, filename: str) -> ImportResult:
    """Check a filled-in questionnaire and save every answer it changes, in one transaction,
    or none.

    Raises `QuestionnaireRejected` listing every problem (the file's and the database's:
    stale rows, missing justifications); `CycleLocked` or `WorkflowError` for a cycle that
    is not a draft. Each saved rating gets the audit event `rate_risk` or `rate_control`
    would write, with a reason naming the file.
    """
    with collector_paused():  # thousands of rows made and dropped: see sheet_rows
        cyc, plan = _check(tx, cycle, data, filename)
        return _apply(tx, cyc, plan)
