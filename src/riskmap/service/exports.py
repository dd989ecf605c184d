"""Excel in and out of the database: the auditor's workbook and the offline questionnaire.

The pure Excel layer (`riskmap.reports`) works on a `CycleSnapshot`; these use cases build
the snapshot inside their transaction and hand it over:

- `cycle_snapshot`: everything the reports need about one cycle (every role reads it);
- `export_workbook`: the auditor's workbook (.xlsx bytes), recorded as an "export" event;
- `questionnaire_template`: the questionnaire of a draft cycle, for all or some units;
- `check_questionnaire`: what importing a filled-in questionnaire would change (nothing is
  written), or `QuestionnaireRejected` listing every problem;
- `import_questionnaire`: the same checks, then every change saved in one transaction
  through the very code path of `rate_risk` and `rate_control` (same rules, version check
  and audit events, whose reason names the file), or nothing at all.

Checks of an import, in order: the role (officer), the cycle (a draft, never a locked one),
the file (`riskmap.reports.parse_questionnaire`: safety, layout, values, identifiers), then
what only the database knows: each changed row must still be at the version it was
exported at (else the problem names the cell and who changed the rating since), and the
rules of a save (`riskmap.rules`: a likelihood x impact away from the baseline needs a
justification, "not applicable" needs one too; the parser already applies them to the
snapshot's baselines, the save applies them again). Problems read `Risks!G5: ...`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import select

from riskmap import scopes
from riskmap.reports import CycleSnapshot, QuestionnaireError, parse_questionnaire
from riskmap.reports import export_workbook as _workbook
from riskmap.reports import questionnaire_template as _template
from riskmap.reports.questionnaire_layout import (
    CONTROLS_SHEET,
    NO,
    RISKS_SHEET,
    YES,
    Field,
    column_letter,
    control_fields,
    risk_fields,
)
from riskmap.reports.snapshot import AUDIT_FRAME_COLUMNS
from riskmap.service import frames
from riskmap.service.core import READERS, Tx, changes_since, json_value, use_case, within
from riskmap.service.errors import ValidationError
from riskmap.service.evidence import item_frame
from riskmap.service.plans import actions as _actions_case
from riskmap.service.questionnaire_parts import TEMPLATE_MAKERS, template_units
from riskmap.service.ratings import (
    control_values,
    risk_values,
    save_control,
    save_risk,
    with_baseline,
)
from riskmap.service.reads import anchor
from riskmap.store.models import AuditEvent, ControlRating, Cycle, RiskRating, Unit, utcnow

EXPORTERS = ("auditor", "manager", "admin", "officer")
AUDIT_COLUMNS = [*AUDIT_FRAME_COLUMNS, "prev_hash", "hash"]
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
RISK_FIELDS = ("applicable", "likelihood", "impact", "justification")
CONTROL_FIELDS = ("applicable", "maturity", "evidence", "justification")


class QuestionnaireRejected(ValidationError):
    """The questionnaire was refused and nothing was saved; `problems` lists every one.

    Each problem reads `sheet!cell: message` (or a sentence about the whole file).
    """

    def __init__(self, filename: str, problems: list[str]):
        self.filename = filename
        self.problems = list(problems)
        shown = "; ".join(self.problems[:5])
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        super().__init__(
            "questionnaire",
            f"{filename}: {len(self.problems)} problem(s), nothing saved: {shown}{more}",
        )


@dataclass(frozen=True, eq=False)
class ImportResult:
    """What a questionnaire changes (`check_questionnaire`) or changed (`import_questionnaire`).

    `changes`: one row per changed field (CHANGE_COLUMNS: unit_code, unit, kind "risk" or
    "control", item_id, item, field, before, after, cell), in the file's order.
    """

    filename: str
    cycle: str
    risk_ratings: int
    control_ratings: int
    units: tuple[str, ...]
    rows_read: int
    changes: pd.DataFrame
    applied: bool

    @property
    def ratings(self) -> int:
        return self.risk_ratings + self.control_ratings

    def summary(self) -> str:
        verb = "saved" if self.applied else "to save"
        return (
            f"{self.filename}: {self.rows_read} row(s) read, {self.risk_ratings} risk "
            f"rating(s) and {self.control_ratings} control rating(s) {verb} in "
            f"{len(self.units)} unit(s) of cycle {self.cycle}"
        )


# --------------------------------------------------------------------------- snapshot


def _audit_frame(tx: Tx, cyc: Cycle) -> pd.DataFrame:
    events = tx.session.scalars(
        select(AuditEvent).where(AuditEvent.cycle_id == cyc.id).order_by(AuditEvent.id)
    )
    codes = tx.visible_codes  # a scoped reader's workbook: their units' events only
    rows = [
        {c: json_value(getattr(e, c)) for c in AUDIT_COLUMNS}
        for e in events
        if codes is None or scopes.event_visible(e.entity, e.entity_id, e.before, e.after, codes)
    ]
    return pd.DataFrame(rows, columns=AUDIT_COLUMNS)


def build_snapshot(tx: Tx, cyc: Cycle, *, full: bool = True) -> CycleSnapshot:
    """The cycle as the reports see it, read in `tx` (`full=False`: units and ratings only,
    what the questionnaire needs)."""
    org = tx.organisation()
    units = frames.unit_frame(tx.session, cyc)
    units.insert(1, "code", units["unit_code"])
    units["parent"] = units["parent"].fillna("")
    units["region"] = units["region"].fillna("")
    extra: dict[str, Any] = {}
    if full:
        extra = {
            "actions": within(tx, tx.actor.username, _actions_case, cyc.label),
            "incidents": frames.incident_frame(tx.session, list(units["unit_code"])),
            "audit_events": _audit_frame(tx, cyc),
            "audit_anchor": anchor(tx.session),
            "evidence": item_frame(tx, cyc, None, frames.as_of(cyc), superseded=False),
        }
    previous = tx.session.get(Cycle, cyc.previous_cycle_id) if cyc.previous_cycle_id else None
    controls = frames.control_frame(tx.session, cyc)
    if not full:  # the questionnaire edits what was typed; the workbook shows what counts
        controls["evidence"] = controls["evidence_text"]
    return CycleSnapshot(
        organisation=org.name,
        cycle_label=cyc.label,
        status=cyc.status,
        catalogue_version=cyc.catalogue_version,
        units=units,
        risk_ratings=with_baseline(tx, cyc, frames.risk_frame(tx.session, cyc), units),
        control_ratings=controls,
        drafted_by=cyc.drafted_by,
        drafted_at=cyc.started_at,
        submitted_by=cyc.submitted_by,
        submitted_at=cyc.submitted_at,
        reviewed_by=cyc.reviewed_by,
        reviewed_at=cyc.approved_at if cyc.reviewed_by else None,
        approved_by=cyc.approved_by,
        approved_at=cyc.approved_at,
        locked_at=cyc.locked_at,
        previous_cycle=previous.label if previous else None,
        generated_at=utcnow(),
        **extra,
    )


@use_case(*READERS)
def cycle_snapshot(tx: Tx, cycle: str) -> CycleSnapshot:
    """The cycle for the reports: organisation, workflow (who, when), units, ratings with
    justification, evidence, confirmation and version, stored actions, incidents of its
    units and its audit events."""
    return build_snapshot(tx, tx.cycle(cycle))


@use_case(*EXPORTERS)
def export_workbook(tx: Tx, cycle: str) -> bytes:
    """The auditor's workbook of the cycle (.xlsx bytes); the export is an audit event."""
    cyc = tx.cycle(cycle)
    data = _workbook(build_snapshot(tx, cyc), tx.catalogue)
    tx.audit_export(cyc, "auditor's workbook", "xlsx", data)
    return data


@use_case(*TEMPLATE_MAKERS)
def questionnaire_template(
    tx: Tx,
    cycle: str,
    units: list[str] | None = None,
    *,
    region: str | None = None,
    unit_type: str | None = None,
) -> bytes:
    """The questionnaire of a draft cycle for `units` (codes), a region and/or a unit type
    (all units of the cycle if none is given): `questionnaire_parts.template_units`."""
    cyc = tx.cycle(cycle)
    tx.writable(cyc, "draft")
    chosen = template_units(tx, cyc, units, region=region, unit_type=unit_type)
    snap = build_snapshot(tx, cyc, full=False)
    return _template(snap, tx.catalogue, unit_ids=chosen)


# --------------------------------------------------------------------------- the import


@dataclass
class _Kind:
    """The Risks or the Controls sheet, as the import sees it."""

    sheet: str
    kind: str  # "risk" / "control"
    item_column: str
    fields: tuple[str, ...]
    layout: list[Field]

    def cell(self, key: str, row: int) -> str:
        return f"{self.sheet}!{column_letter(self.layout, key)}{row}"


def _kinds(tx: Tx) -> tuple[_Kind, _Kind]:
    cat = tx.catalogue
    return (
        _Kind(RISKS_SHEET, "risk", "risk_id", RISK_FIELDS, risk_fields(cat)),
        _Kind(CONTROLS_SHEET, "control", "control_id", CONTROL_FIELDS, control_fields(cat)),
    )


def _shown(value: Any) -> Any:
    if isinstance(value, bool):
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


def _plan(tx: Tx, cycle: str, data: bytes, filename: str):
    """Every check of an import; returns what to save, or raises QuestionnaireRejected."""
    cyc = tx.cycle(cycle)
    tx.writable(cyc, "draft")
    snap = build_snapshot(tx, cyc, full=False)
    refused: list[str] = []  # ratings the rules refuse, in a file otherwise sound
    try:
        parsed = parse_questionnaire(data, snap, tx.catalogue, filename)
    except QuestionnaireError as exc:
        if exc.answers is None:
            raise QuestionnaireRejected(filename, exc.errors) from exc
        parsed, refused = exc.answers, exc.errors

    codes = sorted(set(parsed.risk_ratings["unit_code"]) | set(parsed.control_ratings["unit_code"]))
    units = {u.code: u for u in tx.session.scalars(select(Unit).where(Unit.code.in_(codes)))}
    code_of = {u.id: code for code, u in units.items()}
    unit_ids = list(code_of)
    rows = {
        "risk": {
            (code_of[r.unit_id], r.risk_id): r
            for r in tx.session.scalars(
                select(RiskRating).where(
                    RiskRating.cycle_id == cyc.id, RiskRating.unit_id.in_(unit_ids)
                )
            )
        },
        "control": {
            (code_of[r.unit_id], r.control_id): r
            for r in tx.session.scalars(
                select(ControlRating).where(
                    ControlRating.cycle_id == cyc.id, ControlRating.unit_id.in_(unit_ids)
                )
            )
        },
    }
    names = {
        "risk": {r.id: r.title for r in tx.catalogue.risks},
        "control": {c.id: c.name for c in tx.catalogue.controls},
    }
    unit_names = dict(zip(snap.units["unit_code"], snap.units["unit"], strict=True))

    problems: list[str] = []
    saves: list[tuple[_Kind, Unit, Any, dict[str, Any], int]] = []
    changes: list[dict[str, Any]] = []
    for k, frame in zip(_kinds(tx), (parsed.risk_ratings, parsed.control_ratings), strict=True):
        for rec in frame.to_dict("records"):
            code, item, line = str(rec["unit_code"]), str(rec[k.item_column]), int(rec["sheet_row"])
            u, row = units[code], rows[k.kind][(code, item)]
            version = int(rec["version"])
            changed = [f for f in str(rec["changed"]).split(";") if f]
            if row.version != version:
                why = _stale(tx, k, cyc, code, item, row, version)
                problems.append(f"{k.cell(changed[0], line)}: {why}")
                continue
            answers = {f: rec[f] for f in k.fields}
            answers["applicable"] = bool(answers["applicable"])
            try:
                if k.kind == "risk":
                    values = risk_values(
                        tx,
                        cyc,
                        u,
                        row,
                        likelihood=int(answers["likelihood"]),
                        impact=int(answers["impact"]),
                        applicable=answers["applicable"],
                        justification=str(answers["justification"]),
                    )
                else:
                    values = control_values(
                        tx,
                        u,
                        row,
                        maturity=int(answers["maturity"]),
                        applicable=answers["applicable"],
                        evidence=str(answers["evidence"]),
                        justification=str(answers["justification"]),
                    )
            except ValidationError as exc:
                key = exc.field if exc.field in k.fields else "justification"
                message = str(exc).removeprefix(f"{exc.field}: ")
                problems.append(f"{k.cell(key, line)}: {exc.field}: {message}")
                continue
            saves.append((k, u, row, values, version))
            for f in k.fields:
                before, after = getattr(row, f), values[f]
                if before != after:
                    changes.append(
                        {
                            "unit_code": code,
                            "unit": unit_names.get(code, code),
                            "kind": k.kind,
                            "item_id": item,
                            "item": names[k.kind].get(item, item),
                            "field": f,
                            "before": _shown(before),
                            "after": _shown(after),
                            "cell": k.cell(f, line),
                        }
                    )
    if problems or refused:
        raise QuestionnaireRejected(filename, _in_file_order(refused + problems))
    return cyc, parsed, saves, pd.DataFrame(changes, columns=CHANGE_COLUMNS)


_CELL = re.compile(r"^(\w+)!([A-Z]+)(\d+):")


def _in_file_order(problems: list[str]) -> list[str]:
    """Problems found by the parser and by the database, sheet by sheet, row by row."""
    sheets = {RISKS_SHEET: 0, CONTROLS_SHEET: 1}

    def position(problem: str) -> tuple[int, int]:
        m = _CELL.match(problem)
        return (sheets.get(m.group(1), 2), int(m.group(3))) if m else (3, 0)

    return sorted(problems, key=position)


def _result(cyc, parsed, saves, changes, filename: str, applied: bool) -> ImportResult:
    return ImportResult(
        filename=filename,
        cycle=cyc.label,
        risk_ratings=sum(1 for k, *_ in saves if k.kind == "risk"),
        control_ratings=sum(1 for k, *_ in saves if k.kind == "control"),
        units=tuple(sorted({u.code for _, u, *_ in saves})),
        rows_read=parsed.rows_read,
        changes=changes,
        applied=applied,
    )


@use_case("officer")
def check_questionnaire(tx: Tx, cycle: str, data: bytes, filename: str) -> ImportResult:
    """What importing the filled-in questionnaire would change (nothing is written), or
    `QuestionnaireRejected` listing every problem."""
    cyc, parsed, saves, changes = _plan(tx, cycle, data, filename)
    return _result(cyc, parsed, saves, changes, filename, applied=False)


@use_case("officer")
def import_questionnaire(tx: Tx, cycle: str, data: bytes, filename: str) -> ImportResult:
    """Save every answer changed in a filled-in questionnaire, in one transaction, or none.

    Raises `QuestionnaireRejected` listing every problem (the file's and the database's:
    stale rows, missing justifications); `CycleLocked` or `WorkflowError` for a cycle that
    is not a draft. Each saved rating gets the audit event `rate_risk` or `rate_control`
    would write, with a reason naming the file.
    """
    cyc, parsed, saves, changes = _plan(tx, cycle, data, filename)
    source = f"questionnaire import: {filename}"
    for k, u, row, values, version in saves:
        text = values["justification"]
        reason = f"{source}; {text}" if text else source
        save = save_risk if k.kind == "risk" else save_control
        save(tx, cyc, u, row, values, expected_version=version, reason=reason)
    result = _result(cyc, parsed, saves, changes, filename, applied=True)
    if saves:
        tx.audit(
            "questionnaire.import",
            "cycle",
            cyc.label,
            after={
                "file": filename,
                "risk_ratings": result.risk_ratings,
                "control_ratings": result.control_ratings,
                "units": list(result.units),
            },
            reason=source,
            cycle_id=cyc.id,
        )
    return result
