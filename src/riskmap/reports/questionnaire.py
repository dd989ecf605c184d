"""The questionnaire: a template officers fill in offline, and the parser that reads it back.

`questionnaire_template(snapshot, catalogue, unit_ids=None) -> bytes` writes, for the chosen
units, one row per risk rating (sheet Risks) and per control rating (sheet Controls) with the
current values, drop-down lists for the levels, the meaning of the chosen level beside it,
and hidden columns that identify the row (unit, risk or control, the rating's version) and
keep the values as exported. A hidden sheet `_meta` names the cycle and the catalogue
version. Sheets and the workbook's structure are protected; only the answer cells (yellow)
are unlocked.

`parse_questionnaire(data, snapshot, catalogue, filename) -> ParsedAnswers` refuses an
unsafe file first (`riskmap.reports.safety`), then validates every row and raises
`QuestionnaireError` listing every problem with its sheet and cell, or returns the rows the
officer changed, each with the version it was exported at, for the service to save in one
transaction (its optimistic version check catches ratings changed since the export).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation

from riskmap.catalogue import Catalogue
from riskmap.catalogue.models import Scale
from riskmap.reports.questionnaire_layout import (
    CONTROLS_SHEET,
    FORMAT,
    FORMAT_VERSION,
    LISTS_SHEET,
    META_SHEET,
    RISKS_SHEET,
    UNIT_CODES_CHARS,
    UNIT_CODES_KEY,
    Field,
    ParsedAnswers,
    QuestionnaireError,
    column_letter,
    control_fields,
    risk_fields,
    scale_range,
)
from riskmap.reports.questionnaire_parse import parse_questionnaire
from riskmap.reports.questionnaire_rows import control_rows, level_text, maturity_text, risk_rows
from riskmap.reports.snapshot import CycleSnapshot
from riskmap.reports.stream import Book, Sheet

__all__ = [
    "ParsedAnswers",
    "QuestionnaireError",
    "parse_questionnaire",
    "questionnaire_template",
]


def _levels_list(scale: Scale) -> str:
    return '"' + ",".join(str(k) for k in sorted(scale.levels)) + '"'


def _validation(formula: str, title: str, prompt: str) -> DataValidation:
    return DataValidation(
        type="list",
        formula1=formula,
        allow_blank=True,
        showErrorMessage=True,
        showInputMessage=True,
        errorTitle=title,
        error=f"Choose from the list: {formula.strip(chr(34))}",
        promptTitle=title,
        prompt=prompt[:250],
    )


def _select_units(snapshot: CycleSnapshot, unit_ids: list | None) -> pd.DataFrame:
    units = snapshot.units.sort_values("unit_code", kind="stable")
    if unit_ids is None:
        return units
    wanted = {str(u) for u in unit_ids}
    known = {str(u) for u in units["unit_code"]}
    unknown = sorted(wanted - known)
    if unknown:
        raise ValueError(f"unknown unit(s) for cycle {snapshot.cycle_label}: {unknown}")
    return units[units["unit_code"].astype(str).isin(wanted)]


def _start(book: Book, title: str, fields: list[Field]) -> Sheet:
    sheet = book.sheet(title, [f.width for f in fields], freeze="F2")
    ws = sheet.ws
    for i, f in enumerate(fields, 1):
        if f.role in ("id", "was"):
            ws.column_dimensions[get_column_letter(i)].hidden = True
    sheet.append(book.cells.header([f.header for f in fields]))
    return sheet


def _protect(ws: Any, fields: list[Field], rows: int) -> None:
    ws.protection.sheet = True
    # What a user may still do on the protected sheet: filter, resize, format.
    ws.protection.autoFilter = False
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.formatCells = False
    last = get_column_letter(max(i for i, f in enumerate(fields, 1) if f.role not in ("id", "was")))
    ws.auto_filter.ref = f"A1:{last}{max(rows, 1) + 1}"


def _lists_sheet(book: Book, catalogue: Catalogue) -> None:
    """Hidden lookups: the meaning of each level (generic scales, each control's maturity)."""
    sheet = book.sheet(LISTS_SHEET, [24, 100], freeze=None, print_rows=None)
    sheet.ws.sheet_state = "hidden"
    t = book.cells.text
    m = catalogue.method
    for name, scale in (("likelihood", m.likelihood), ("impact", m.impact)):
        first = sheet.rows + 1
        for level in sorted(scale.levels):
            sheet.append([str(level), t(level_text(scale, level))])
        book.wb.defined_names[f"{name}_defs"] = DefinedName(
            f"{name}_defs", attr_text=f"{LISTS_SHEET}!$A${first}:$B${sheet.rows}"
        )
    first = sheet.rows + 1
    for control in catalogue.controls:
        for level in sorted(m.maturity.levels):
            sheet.append([f"{control.id}|{level}", t(maturity_text(catalogue, control, level))])
    book.wb.defined_names["maturity_defs"] = DefinedName(
        "maturity_defs", attr_text=f"{LISTS_SHEET}!$A${first}:$B${sheet.rows}"
    )


def _instructions(book: Book, snapshot: CycleSnapshot, catalogue: Catalogue, units: int) -> None:
    sheet = book.sheet("Instructions", [28, 100], freeze=None, print_rows=None, landscape=False)
    t = book.cells.text
    m = catalogue.method
    sheet.append([t(f"riskmap questionnaire: {snapshot.organisation}", "title")])
    for label, value in (
        ("Cycle", snapshot.cycle_label),
        ("Catalogue version", snapshot.catalogue_version),
        ("Units in this file", str(units)),
        (
            "Exported at (UTC)",
            (snapshot.generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M"),
        ),
    ):
        sheet.append([t(label, "label"), t(value)])
    sheet.append([])
    steps = [
        "Sheet Risks: for each unit and risk scenario, confirm or change the likelihood "
        f"({scale_range(m.likelihood)}) and the impact ({scale_range(m.impact)}), or mark the "
        "scenario not applicable (no).",
        "Sheet Controls: for each unit and control, rate its maturity "
        f"({scale_range(m.maturity)}), judged on design and operation, and say what evidence "
        "shows it.",
        "Evidence references (last column of sheet Controls): one a line, the number of the "
        "checklist entry it answers (column Evidence to look for), a colon, then the document "
        "number, register and location, e.g. 2: DOC-14/2025, HR registry, room 4. Each new "
        "line becomes an evidence item of the rating; lines already in riskmap are shown and "
        "left as they are (removing one here does not withdraw it). Files are added in the "
        "dashboard.",
        "Fill only the yellow cells. Choose levels from the drop-down lists; the meaning of the "
        "chosen level appears beside it. Sheet Scales lists every level.",
        "Every change of a level or of applicability needs a justification, and so does a risk "
        "or control marked not applicable.",
        "Type values, not formulas: a formula in any cell refuses the whole file.",
        "Do not add, move or delete rows, columns or sheets: hidden columns identify each row "
        "and keep the values as exported, so riskmap knows exactly what you changed.",
        "Save as an Excel workbook (.xlsx), without a password and without macros, then "
        "upload it in riskmap. riskmap checks every row and lists every problem at once, "
        "with its sheet and cell; nothing is saved until the whole file is correct.",
        "If someone changed a rating in riskmap after this file was exported, riskmap will "
        "not overwrite it: you will be asked to review that rating again.",
    ]
    sheet.append([t("How to fill in this file", "section")])
    for i, step in enumerate(steps, 1):
        sheet.append([str(i), t(step, "wrap")])


def _scales_sheet(book: Book, catalogue: Catalogue) -> None:
    sheet = book.sheet("Scales", [14, 10, 18, 100], freeze=None, print_rows=None)
    cells = book.cells
    t = cells.text
    m = catalogue.method
    for key, scale in (
        ("likelihood", m.likelihood),
        ("impact", m.impact),
        ("maturity", m.maturity),
    ):
        sheet.append([t(f"{scale.name} ({key}, {scale_range(scale)})", "section")])
        sheet.append([None, None, None, t(scale.question, "wrap")])
        sheet.append(cells.header(["scale", "level", "name", "definition"]))
        for level, lv in sorted(scale.levels.items()):
            sheet.append([key, level, t(lv.name, "label"), t(lv.definition, "wrap")])
        sheet.append([])
    sheet.append([t("Maturity levels of each control", "section")])
    sheet.append(cells.header(["control", "level", "name", "what the level looks like"]))
    for control in catalogue.controls:
        for level, text in sorted(control.maturity.items()):
            name = m.maturity.levels[level].name if level in m.maturity.levels else ""
            sheet.append([t(control.id), level, t(name), t(text, "wrap")])


def _meta_sheet(book: Book, snapshot: CycleSnapshot, units: list[str]) -> None:
    sheet = book.sheet(META_SHEET, [20, 40], freeze=None, print_rows=None)
    sheet.ws.sheet_state = "veryHidden"
    t = book.cells.text
    items = _meta_items(snapshot, units)
    codes = "\n".join(units)
    if len(units) < len(snapshot.units) and len(codes) <= UNIT_CODES_CHARS:
        items.append((UNIT_CODES_KEY, codes))  # a part file: the import reads only these
    for key, value in items:
        sheet.append([key, t(str(value)) if isinstance(value, str) else value])


def _meta_items(snapshot: CycleSnapshot, units: list[str]) -> list[tuple[str, Any]]:
    return [
        ("format", FORMAT),
        ("format_version", FORMAT_VERSION),
        ("organisation", snapshot.organisation),
        ("cycle", snapshot.cycle_label),
        ("catalogue_version", snapshot.catalogue_version),
        ("exported_at", (snapshot.generated_at or datetime.now(UTC)).isoformat()),
        ("units", len(units)),
    ]


def questionnaire_template(
    snapshot: CycleSnapshot, catalogue: Catalogue, unit_ids: list | None = None
) -> bytes:
    """The questionnaire for `unit_ids` (all units of the cycle if None), as .xlsx bytes."""
    units = _select_units(snapshot, unit_ids)
    keep = set(units["unit_code"])
    info = {
        u: (code, name, utype)
        for u, code, name, utype in units[["unit_code", "code", "unit", "unit_type"]].itertuples(
            index=False, name=None
        )
    }
    m = catalogue.method
    book = Book()
    book.wb.properties.title = f"riskmap questionnaire {snapshot.cycle_label}"
    book.wb.properties.creator = "riskmap"
    book.wb.security = WorkbookProtection(lockStructure=True)
    _instructions(book, snapshot, catalogue, len(units))

    # Risks
    fields = risk_fields(catalogue)
    sheet = _start(book, RISKS_SHEET, fields)
    rr = snapshot.risk_ratings[snapshot.risk_ratings["unit_code"].isin(keep)]
    rr = rr.sort_values(["unit_code", "risk_id"], kind="stable")
    risk_rows(book, sheet, rr, info, catalogue, fields)
    n = sheet.rows
    ws = sheet.ws
    dv = _validation(
        '"yes,no"',
        "Applicable",
        "yes: the scenario can occur in this unit; no: it cannot (say why in the justification).",
    )
    dv.add(
        f"{column_letter(fields, 'applicable')}2:{column_letter(fields, 'applicable')}{max(n, 2)}"
    )
    ws.data_validations.append(dv)
    for key, scale in (("likelihood", m.likelihood), ("impact", m.impact)):
        dv = _validation(_levels_list(scale), scale.name, scale.question)
        dv.add(f"{column_letter(fields, key)}2:{column_letter(fields, key)}{max(n, 2)}")
        ws.data_validations.append(dv)
    _protect(ws, fields, n - 1)

    # Controls
    fields = control_fields(catalogue)
    sheet = _start(book, CONTROLS_SHEET, fields)
    cr = snapshot.control_ratings[snapshot.control_ratings["unit_code"].isin(keep)]
    cr = cr.sort_values(["unit_code", "control_id"], kind="stable")
    control_rows(book, sheet, cr, info, catalogue, fields)
    n = sheet.rows
    ws = sheet.ws
    dv = _validation(
        '"yes,no"',
        "Applicable",
        "yes: the control is relevant to this unit; no: it is not (say why in the justification).",
    )
    dv.add(
        f"{column_letter(fields, 'applicable')}2:{column_letter(fields, 'applicable')}{max(n, 2)}"
    )
    ws.data_validations.append(dv)
    dv = _validation(_levels_list(m.maturity), m.maturity.name, m.maturity.question)
    mat = column_letter(fields, "maturity")
    dv.add(f"{mat}2:{mat}{max(n, 2)}")
    ws.data_validations.append(dv)
    _protect(ws, fields, n - 1)

    _scales_sheet(book, catalogue)
    _lists_sheet(book, catalogue)
    _meta_sheet(book, snapshot, [str(u) for u in units["unit_code"]])
    for sheet in book.sheets:
        if sheet.ws.title not in (RISKS_SHEET, CONTROLS_SHEET):
            sheet.ws.protection.sheet = True
    return book.save()
