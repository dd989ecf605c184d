"""Excel out of the database: the auditor's workbook and the offline questionnaire.

The pure Excel layer (`riskmap.reports`) works on a `CycleSnapshot`; these use cases build
the snapshot inside their transaction and hand it over:

- `cycle_snapshot`: everything the reports need about one cycle (every role reads it);
- `export_workbook`: the auditor's workbook (.xlsx bytes), recorded as an "export" event;
- `questionnaire_template`: the questionnaire of a draft cycle, for all or some units (a
  region, a unit type, codes: `questionnaire_parts.template_units`).

A filled-in questionnaire comes back through `riskmap.service.questionnaire_import`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import select

from riskmap import reports, scopes
from riskmap.reports import CycleSnapshot
from riskmap.reports.questionnaire_layout import reference_line
from riskmap.reports.snapshot import AUDIT_FRAME_COLUMNS
from riskmap.service import frames
from riskmap.service.core import READERS, Tx, json_value, use_case, within
from riskmap.service.evidence import item_frame
from riskmap.service.plans import actions as _actions_case
from riskmap.service.questionnaire_parts import TEMPLATE_MAKERS, template_units
from riskmap.service.ratings import with_baseline
from riskmap.service.reads import anchor
from riskmap.store.models import AuditEvent, Cycle, EvidenceItem, Unit, utcnow

EXPORTERS = ("auditor", "manager", "admin", "officer")
AUDIT_COLUMNS = [*AUDIT_FRAME_COLUMNS, "prev_hash", "hash"]


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


def _reference_cells(tx: Tx, cyc: Cycle, controls: pd.DataFrame) -> list[str]:
    """Each control rating's current reference items as the questionnaire shows them, one a
    line (`reference_line`: checklist entry number and reference), oldest first."""
    e = EvidenceItem
    rows = tx.session.execute(
        select(Unit.code, e.control_id, e.checklist_entry, e.reference)
        .join(Unit, Unit.id == e.unit_id)
        .where(
            e.cycle_id == cyc.id,
            e.kind == "reference",
            e.superseded_by.is_(None),
            e.control_id.is_not(None),
        )
        .order_by(e.id)
    )
    numbers = {c.id: {t: i for i, t in enumerate(c.evidence, 1)} for c in tx.catalogue.controls}
    lines: dict[tuple[str, str], list[str]] = {}
    for code, control_id, entry, reference in rows:
        n = numbers.get(control_id, {}).get(entry)
        if n is not None:  # an entry the catalogue no longer lists is not the file's to show
            lines.setdefault((code, control_id), []).append(reference_line(n, reference))
    keys = zip(controls["unit_code"], controls["control_id"], strict=True)
    return ["\n".join(lines.get(k, ())) for k in keys]


def build_snapshot(
    tx: Tx,
    cyc: Cycle,
    *,
    full: bool = True,
    only: list[str] | None = None,
    baselines: bool = True,
) -> CycleSnapshot:
    """The cycle as the reports see it, read in `tx` (`full=False`: units and ratings only,
    what the questionnaire needs; `only`: of these unit codes alone, so that a part file's
    import costs what its units cost, baselines and evidence references included;
    `baselines=False`: the risk ratings without the baseline each is compared with, which
    only the questionnaire's parser uses: the workbook and the template of a national
    ministry spare reading the previous cycle and 150,000 baselines)."""
    org = tx.organisation()
    units = frames.unit_frame(tx.session, cyc)
    if only is not None:
        units = units[units["unit_code"].isin(set(only))].reset_index(drop=True)
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
    part = None if only is None else list(units["unit_code"])  # the rows of these alone
    controls = frames.control_frame(tx.session, cyc, part)
    risks = frames.risk_frame(tx.session, cyc, part)
    if not full:  # the questionnaire edits what was typed; the workbook shows what counts
        controls["evidence"] = controls["evidence_text"]
        controls["evidence_references"] = _reference_cells(tx, cyc, controls)
    return CycleSnapshot(
        organisation=org.name,
        cycle_label=cyc.label,
        status=cyc.status,
        catalogue_version=cyc.catalogue_version,
        units=units,
        risk_ratings=with_baseline(tx, cyc, risks, units) if baselines else risks,
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
    snap = build_snapshot(tx, cyc, baselines=False)  # only the questionnaire parser needs them
    data = reports.export_workbook(snap, tx.catalogue)  # the writer loaded when used
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
    snap = build_snapshot(tx, cyc, full=False, baselines=False)  # the parser's, not the file's
    return reports.questionnaire_template(snap, tx.catalogue, unit_ids=chosen)
