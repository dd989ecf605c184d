"""Checks of a questionnaire apart from its rows' cells: the hidden identification sheet,
the rating rules over a sheet's changed rows, and the Controls sheet's evidence references.

Apart from `questionnaire_parse` so that each module stays readable; the parser calls them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from riskmap import rules, texts
from riskmap.catalogue import Catalogue
from riskmap.problems import Problem
from riskmap.reports import sheet_rows
from riskmap.reports.answer_values import FileErrors, SheetErrors, as_text, is_blank, show
from riskmap.reports.questionnaire_layout import (
    FORMAT,
    FORMAT_VERSION,
    META_KEYS,
    META_SHEET,
    UNIT_CODES_KEY,
    reference_lines,
)
from riskmap.reports.sheet_rows import EMPTY
from riskmap.reports.snapshot import CycleSnapshot


def meta_unit_codes(wb: Any) -> list[str] | None:
    """The units a part file names in its hidden sheet (`UNIT_CODES_KEY`), or None (read the
    cycle whole). Only a hint of which ratings to read: a row of another unit is still
    checked against the whole cycle (`service.questionnaire_import`)."""
    if META_SHEET not in wb.sheetnames:
        return None
    for _, cells in sheet_rows.rows(wb[META_SHEET]):
        key, value = cells.get(1, EMPTY), cells.get(2, EMPTY)
        if key[0] == UNIT_CODES_KEY and isinstance(value[0], str) and not value[1]:
            codes = [c.strip() for c in value[0].split("\n") if c.strip()]
            return codes or None
    return None


def check_meta(wb: Any, snapshot: CycleSnapshot, catalogue: Catalogue, errors: FileErrors) -> None:
    if META_SHEET not in wb.sheetnames:
        errors.add(
            "this is not a riskmap questionnaire (its hidden identification sheet is missing): "
            "download the template from riskmap and fill that in"
        )
        return
    meta: dict[str, tuple[Any, int]] = {}
    for r, cells in sheet_rows.rows(wb[META_SHEET]):
        key, value = cells.get(1, EMPTY), cells.get(2, EMPTY)
        if key[0] is None:
            continue
        if key[1] or value[1]:
            errors.add(Problem.at_cell(META_SHEET, "B", r, "formulas are not accepted"))
        meta[str(key[0])] = (value[0], r)
    missing = [k for k in META_KEYS if k not in meta]
    fmt = meta.get("format", (None, 0))[0]
    if fmt != FORMAT or missing:
        errors.add(
            "this is not a riskmap questionnaire (its identification is damaged): download the "
            "template from riskmap and fill that in"
        )
        return
    version, where = meta["format_version"]
    if version != FORMAT_VERSION:
        errors.add(
            Problem.at_cell(
                META_SHEET,
                "B",
                where,
                f"questionnaire format {show(version)} is not the format this riskmap reads "
                f"({FORMAT_VERSION}): download a new template",
            )
        )
    cycle, where = meta["cycle"]
    if str(cycle) != snapshot.cycle_label:
        errors.add(
            Problem.at_cell(
                META_SHEET,
                "B",
                where,
                f"this questionnaire is for cycle {show(str(cycle))}, not for cycle "
                f"{show(snapshot.cycle_label)}: download this cycle's template",
            )
        )
    cat, where = meta["catalogue_version"]
    expected = {snapshot.catalogue_version, catalogue.version}
    if str(cat) not in expected or len(expected) != 1:
        errors.add(
            Problem.at_cell(
                META_SHEET,
                "B",
                where,
                f"this questionnaire was made with catalogue version {show(str(cat))}, but "
                f"cycle {snapshot.cycle_label} uses {show(snapshot.catalogue_version)}: "
                "download a new template",
            )
        )


def justified(kind: Any, records: list[dict[str, Any]], found: SheetErrors) -> list:
    """The changed rows the rating rules accept; each refused one reported at its cell."""
    if not records:
        return records
    frame = pd.DataFrame(records)
    if kind.item == rules.RISK:
        problems = rules.risk_justification_problems(frame)
    else:
        problems = rules.control_justification_problems(frame)
    kept = []
    for record, problem in zip(records, problems, strict=True):
        if problem:
            row = int(record["sheet_row"])
            found.add(kind.at("justification", row, f"justification: {problem}"), row)
        else:
            kept.append(record)
    return kept


def new_references(kind: Any, r: int, vals: dict, current: dict, errors) -> list | None:
    """The references typed in the row's references cell that riskmap does not hold yet, as
    (entry number, reference); None when the cell is refused (reported at the cell). Which
    entry a number names is the evidence rule's (`riskmap.service.evidence`), not read here."""
    key = "evidence_references"
    if is_blank(vals.get(key)):  # the common case: nothing typed, nothing new
        return []
    text = as_text(vals.get(key))
    problem = texts.text_problem(key, text)
    if problem:
        errors.add(kind.at(key, r, f"evidence references: {problem}"))
        return None
    typed, unreadable = reference_lines(text)
    if unreadable:
        errors.add(
            kind.at(
                key,
                r,
                f"evidence references: the line {show(unreadable[0])} is not a checklist entry "
                'number, a colon and the reference (e.g. "2: DOC-14/2025, HR registry, room 4")',
            )
        )
        return None
    for _, reference in typed:
        problem = texts.text_problem("reference", reference)
        if problem:
            errors.add(kind.at(key, r, f"evidence references: {problem}"))
            return None
    held = set(reference_lines(str(current.get(key) or ""))[0])
    return [t for t in dict.fromkeys(typed) if t not in held]
