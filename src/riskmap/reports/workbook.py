"""The auditor's workbook: `export_workbook(snapshot, catalogue) -> bytes` (.xlsx).

Sheets: Summary, Method, Heat map inherent, Heat map residual, Register, Contributions,
Controls, Risks not applicable, Plan, Incidents, Evidence, Audit trail, Catalogue. The Register's
scores are live formulas over the input cells and the Method's named parameters
(`riskmap.reports.register` explains the layout), so every score can be recomputed in
Excel or LibreOffice; text typed by users is always written as text, never as a formula
(`riskmap.reports.cells`). The workbook is streamed (openpyxl write-only), so a national
ministry of 1,000 units exports in seconds with little memory.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from riskmap import __version__, rules
from riskmap.catalogue import Catalogue, version_notice
from riskmap.catalogue.citations import grounds
from riskmap.figures import action_figures
from riskmap.planning import ACTION_COLUMNS
from riskmap.reports.evidence_sheet import evidence_frame, write_evidence
from riskmap.reports.heatmap import heatmap_sheet
from riskmap.reports.layout import Col, frame_sheet, guess_columns
from riskmap.reports.method_sheet import method_sheet
from riskmap.reports.register import (
    contributions_frame,
    controls_frame,
    register_frame,
    write_contributions,
    write_controls,
    write_register,
)
from riskmap.reports.snapshot import AUDIT_FRAME_COLUMNS, CycleSnapshot
from riskmap.reports.stream import Book
from riskmap.scoring import score

SHEETS = [
    "Summary",
    "Method",
    "Heat map inherent",
    "Heat map residual",
    "Register",
    "Contributions",
    "Controls",
    "Risks not applicable",
    "Plan",
    "Incidents",
    "Evidence",
    "Audit trail",
    "Catalogue",
]

SHEET_GUIDE = {
    "Summary": "Who drafted, reviewed and approved the cycle, and its key figures.",
    "Method": "Scales with level definitions, strength weights, cap, floor, bands and the "
    "rule in words; the named cells the formulas use.",
    "Heat map inherent": "Units x risks, inherent score (likelihood x impact), coloured by band.",
    "Heat map residual": "Units x risks, residual score after controls, coloured by band.",
    "Register": "One row per applicable unit x risk: inputs and live formulas for every score.",
    "Contributions": "One row per unit x risk x mitigating control: weight, maturity, factor.",
    "Controls": "Every control rating: applicability, maturity, evidence, justification; the "
    "number of valid evidence items, linked to the first on the Evidence sheet.",
    "Risks not applicable": "Risks a unit rated not applicable, with the reason given.",
    "Plan": "Remediation actions: control, levels, residual removed, effort, owner, due, status.",
    "Incidents": "Integrity incidents on record.",
    "Evidence": "Files and references shown for the control ratings (and justifying risk "
    "ratings): the checklist entry each answers, the SHA-256 a received copy must match, "
    "who added it, valid until, status.",
    "Audit trail": "Every change: who, when, what, before, after and why.",
    "Catalogue": "Principles, risks, controls and sources the assessment used.",
}

PLAN_FIRST = list(
    dict.fromkeys([*ACTION_COLUMNS, "owner", "status", "due_date", "indicator", "notes"])
)
INCIDENT_FIRST = ["id", "unit_code", "risk_id", "occurred_on", "date", "kind", "outcome",
                  "description", "recorded_by"]  # fmt: skip
_WIDTHS = {
    "unit": 30, "control": 36, "risks": 24, "owner": 24, "owner_role": 28, "indicator": 36,
    "notes": 40, "description": 50, "outcome": 30, "before": 50, "after": 50, "reason": 40,
    "entity_id": 24, "action": 22, "at": 20, "due_date": 12, "hash": 20, "prev_hash": 20,
}  # fmt: skip
_TEXT_WIDE = {"before", "after", "reason", "notes", "description", "indicator", "outcome"}


def _when(value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return value


def _summary_rows(
    snapshot: CycleSnapshot, register: pd.DataFrame, catalogue: Catalogue
) -> list[tuple[str, Any]]:
    rr = snapshot.risk_ratings
    cr = snapshot.control_ratings
    rows: list[tuple[str, Any]] = [
        ("Organisation", snapshot.organisation),
        ("Cycle", snapshot.cycle_label),
        ("Status", snapshot.status),
        ("Previous cycle", snapshot.previous_cycle or ""),
    ]
    for step, who, when in snapshot.people:
        if who is not None or step != "locked":
            rows.append((f"{step.capitalize()} by", who or ""))
        rows.append((f"{step.capitalize()} at (UTC)", _when(when)))
    notice = version_notice(snapshot.catalogue_version, catalogue)
    rows += [
        ("Catalogue version", snapshot.catalogue_version),
        ("Catalogue in force", catalogue.version),
        ("Catalogue notice", notice or "The cycle's catalogue version is the one in force."),
        (
            "Local catalogue overrides",
            Path(catalogue.overrides_file).name if catalogue.overrides_file else "none",
        ),
        ("Method", f"{catalogue.method.name} {catalogue.method.version}"),
        ("Exported at (UTC)", snapshot.generated_at or datetime.now(UTC)),
        ("Exported by", f"riskmap {__version__}"),
        ("", None),
        ("KEY FIGURES (as riskmap computed them at export)", None),
        ("Units assessed", len(snapshot.units)),
        ("Unit x risk pairs scored (applicable)", len(register)),
        ("Unit x risk pairs rated not applicable", int((~rr["applicable"].astype(bool)).sum())),
        ("Control ratings", len(cr)),
        ("Control ratings not applicable", int((~cr["applicable"].astype(bool)).sum())),
        ("Risk ratings confirmed", int(rr["confirmed"].astype(bool).sum())),
        ("Control ratings confirmed", int(cr["confirmed"].astype(bool).sum())),
        ("Mean inherent score", float(register["inherent"].mean()) if len(register) else None),
        ("Mean residual score", float(register["residual"].mean()) if len(register) else None),
        ("Total residual score", float(register["residual"].sum())),
    ]
    for stage in ("inherent", "residual"):
        counts = register[f"{stage}_band"].value_counts()
        for band in catalogue.method.bands:
            rows.append((f"Pairs with {stage} band {band.id}", int(counts.get(band.id, 0))))
    as_of = (snapshot.generated_at or datetime.now(UTC)).date()
    acts = action_figures(snapshot.actions, as_of)
    rows += [
        ("Actions in the plan", acts["actions"]),
        ("Actions open", acts["actions_open"]),
        ("Actions done", acts["actions_done"]),
        (f"Actions overdue on {as_of.isoformat()}", acts["actions_overdue"]),
        ("Incidents on record", len(snapshot.incidents)),
        ("Audit events", len(snapshot.audit_events)),
        *_anchor_rows(snapshot.audit_anchor),
    ]
    return rows


def _anchor_rows(anchor: dict | None) -> list[tuple[str, Any]]:
    """The whole trail's head and its last checkpoint: an auditor compares them with the
    checkpoint file they keep (`riskmap audit verify --checkpoint FILE` does it in full)."""
    if anchor is None:
        return []
    cp = anchor.get("checkpoint")
    last = (
        f"{cp['at']} by {cp['by']}: {cp['count']} events, head #{cp['head_id']} {cp['head_hash']}"
        if cp
        else "none taken (riskmap audit checkpoint)"
    )
    return [
        ("Audit trail: events (all cycles)", anchor["events"]),
        ("Audit trail: head event", f"#{anchor['head_id']} {anchor['head_hash']}"),
        ("Audit trail: last checkpoint", last),
    ]


def _summary(book: Book, snapshot, register, catalogue) -> None:
    sheet = book.sheet("Summary", [44, 60], freeze=None, print_rows=None, landscape=False)
    cells = book.cells
    t = cells.text
    sheet.append([t(f"Corruption-risk assessment: {snapshot.organisation}", "title")])
    sheet.append([t(f"Cycle {snapshot.cycle_label} ({snapshot.status})", "section")])
    sheet.append([])
    for label, value in _summary_rows(snapshot, register, catalogue):
        if value is None and label.isupper():
            sheet.append([t(label, "section")])
        elif isinstance(value, float):
            sheet.append([t(label, "label"), cells.styled(value, "score")])
        else:
            sheet.append([t(label, "label") if label else None, cells.value(value)])
    sheet.append([])
    sheet.append([t("SHEETS", "section")])
    for name in SHEETS:
        sheet.append([t(name, "label"), t(SHEET_GUIDE[name], "wrap")])


def _not_applicable(snapshot: CycleSnapshot, catalogue: Catalogue) -> pd.DataFrame:
    rr = snapshot.risk_ratings
    na = rr[~rr["applicable"].astype(bool)].merge(
        snapshot.units[["unit_code", "unit", "unit_type"]], on="unit_code", how="left"
    )
    titles = {r.id: r.title for r in catalogue.risks}
    na = na.assign(risk=na["risk_id"].map(titles))
    return na.sort_values(["unit_code", "risk_id"], ignore_index=True)


def catalogue_frame(catalogue: Catalogue) -> pd.DataFrame:
    """Every catalogue item as one row: kind, id, title, text, parent, applies to, sources."""
    rows = []
    for s in catalogue.sources:
        text = f"{s.publisher}, {s.year}" + (f". {s.identifier}" if s.identifier else "")
        rows.append(("source", s.id, s.title, text, "", "", "", ""))
    for p in catalogue.principles:
        rows.append(("principle", p.id, p.title, "", "", "", "", grounds(p)))
        for st in p.statements:
            rows.append(("statement", st.id, "", st.text, p.id, "", "", grounds(p)))
    for stage in catalogue.stages:
        rows.append(("stage", stage.id, stage.name, stage.description, "", "", "", ""))
    for t in catalogue.unit_types:
        rows.append(("unit type", t.id, t.name, t.description, "", "", "", grounds(t)))
    for r in catalogue.risks:
        defaults = {ut: rules.default_risk_rating(r, ut, catalogue) for ut in r.unit_types}
        applies = "; ".join(f"{ut} ({d.likelihood}x{d.impact})" for ut, d in defaults.items() if d)
        rows.append(("risk", r.id, r.title, r.description, r.stage, applies, "", grounds(r)))
    for c in catalogue.controls:
        mitigates = "; ".join(f"{rid} {s}" for rid, s in c.mitigates.items())
        rows.append(
            (
                "control", c.id, c.name, c.description, c.principle, "; ".join(c.unit_types),
                mitigates, grounds(c),
            )
        )  # fmt: skip
    return pd.DataFrame(
        rows,
        columns=["kind", "id", "title", "text", "parent", "applies_to", "mitigates", "sources"],
    )


CATALOGUE_COLUMNS = [
    Col("kind", 11),
    Col("id", 24),
    Col("title", 40, "wrap"),
    Col("text", 80, "wrap"),
    Col("parent", 12),
    Col("applies_to", 40, "wrap"),
    Col("mitigates", 36, "wrap"),
    Col("sources", 36, "wrap"),
]

NA_COLUMNS = [
    Col("unit_code", 10),
    Col("unit", 30),
    Col("unit_type", 18),
    Col("risk_id", 9),
    Col("risk", 40, "wrap"),
    Col("likelihood", 10),
    Col("impact", 9),
    Col("justification", 50, "wrap"),
    Col("confirmed", 10),
    Col("version", 9),
]


def _free_sheet(book: Book, title: str, frame: pd.DataFrame, first: list[str], table: str):
    if frame.columns.empty:
        frame = pd.DataFrame(columns=list(dict.fromkeys(c for c in first if c != "date")))
    columns = guess_columns(frame, first, _WIDTHS)
    columns = [Col(c.name, c.width, "wrap") if c.name in _TEXT_WIDE else c for c in columns]
    frame_sheet(book, title, frame, columns, table=table)


def export_workbook(snapshot: CycleSnapshot, catalogue: Catalogue) -> bytes:
    """The auditor's workbook of one cycle, as .xlsx bytes."""
    register = score(snapshot.risk_ratings, snapshot.control_ratings, snapshot.units, catalogue)
    evidence = evidence_frame(snapshot.evidence)
    controls = controls_frame(snapshot, catalogue, evidence)
    contrib = contributions_frame(register, controls, catalogue)
    full_register = register_frame(register, contrib, snapshot)

    book = Book()
    book.wb.properties.title = f"riskmap {snapshot.organisation} {snapshot.cycle_label}"
    book.wb.properties.creator = "riskmap"
    _summary(book, snapshot, register, catalogue)
    method_sheet(book, catalogue)
    for title, column in (("Heat map inherent", "inherent"), ("Heat map residual", "residual")):
        heatmap_sheet(
            book, title, snapshot.units, snapshot.risk_ratings, register, column, catalogue
        )
    write_register(book, full_register, catalogue)
    write_contributions(book, contrib)
    write_controls(book, controls)
    na = _not_applicable(snapshot, catalogue)
    frame_sheet(book, "Risks not applicable", na, NA_COLUMNS, table="tbl_not_applicable")
    _free_sheet(book, "Plan", snapshot.actions, PLAN_FIRST, "tbl_plan")
    _free_sheet(book, "Incidents", snapshot.incidents, INCIDENT_FIRST, "tbl_incidents")
    write_evidence(book, evidence)
    _free_sheet(book, "Audit trail", snapshot.audit_events, AUDIT_FRAME_COLUMNS, "tbl_audit")
    frame_sheet(
        book, "Catalogue", catalogue_frame(catalogue), CATALOGUE_COLUMNS, table="tbl_catalogue"
    )
    return book.save()
