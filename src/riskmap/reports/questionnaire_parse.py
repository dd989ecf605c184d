"""Reading a filled-in questionnaire back: validate everything, then return the changes.

Nothing is returned unless the whole file is correct: every problem found is collected
(with its sheet and cell, like `Controls!G14: maturity must be 0-4, got "high"`) and
raised at once in a `QuestionnaireError`. The file is opened with formulas kept as
formulas (never evaluated), and any formula outside the template's own "meaning" columns
refuses the file.

The parser reads and locates; whether a rating may be saved is `riskmap.rules` (the same
rules `rate_risk` and `rate_control` apply): a risk's likelihood x impact that differs from
its baseline (the snapshot's `baseline_*` columns, else the catalogue default) needs a
justification, a value equal to it does not; "not applicable" needs one too.
"""

from __future__ import annotations

import io
import itertools
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from riskmap import rules, texts
from riskmap.catalogue import Catalogue
from riskmap.catalogue.models import Scale
from riskmap.problems import Problem
from riskmap.reports import sheet_rows
from riskmap.reports.answer_values import (
    FileErrors,
    SheetErrors,
    as_text,
    is_blank,
    parse_int,
    parse_level,
    parse_yes_no,
    remembered,
    show,
)
from riskmap.reports.questionnaire_checks import check_meta, justified, new_references
from riskmap.reports.questionnaire_checks import meta_unit_codes as _part_codes
from riskmap.reports.questionnaire_layout import (
    CONTROL_ANSWER_COLUMNS,
    CONTROLS_SHEET,
    RISK_ANSWER_COLUMNS,
    RISKS_SHEET,
    Field,
    ParsedAnswers,
    QuestionnaireError,
    column_letter,
    control_fields,
    risk_fields,
    scale_range,
)
from riskmap.reports.safety import check_upload
from riskmap.reports.sheet_rows import EMPTY
from riskmap.reports.snapshot import CycleSnapshot

UNREADABLE = (
    "the file cannot be read as an Excel workbook (damaged, or not saved by a spreadsheet "
    "program): open it in Excel or LibreOffice and save it again as .xlsx"
)


@dataclass
class _Kind:
    """What differs between the Risks and the Controls sheet."""

    sheet: str
    fields: list[Field]
    item: str  # "risk" or "control"
    item_column: str  # risk_id or control_id
    levels: list[tuple[str, Scale]]
    texts: list[str]
    current: dict[tuple[str, str], dict[str, Any]]
    known_items: set[str]
    out_columns: list[str]
    references: bool = False  # the Controls sheet's evidence references column
    letters: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.letters = {f.key: column_letter(self.fields, f.key) for f in self.fields}
        self.reads = [(i, f.key) for i, f in enumerate(self.fields, 1) if f.role != "meaning"]
        self.memo: dict = {}  # values read before (`answer_values.remembered`)

    def at(self, key: str, row: int, message: str) -> Problem:
        """A problem in the cell of field `key` on `row` of this sheet."""
        return Problem.at_cell(self.sheet, self.letters[key], row, message, key)


def _current(frame: pd.DataFrame, item_column: str, keep: list[str]) -> dict:
    columns = ["unit_code", item_column, *(k for k in keep if k in frame.columns)]
    values = zip(*(frame[c].tolist() for c in columns), strict=True)  # faster than to_dict
    records = (dict(zip(columns, v, strict=True)) for v in values)
    return {(str(r["unit_code"]), str(r[item_column])): r for r in records}


def _kinds(snapshot: CycleSnapshot, catalogue: Catalogue) -> list[_Kind]:
    m = catalogue.method
    risks = snapshot.risk_ratings
    if not set(rules.BASELINE_COLUMNS) <= set(risks.columns):
        # A snapshot without baselines: a first cycle, compared with the catalogue defaults.
        risks = risks.join(rules.risk_baselines(risks, snapshot.units, catalogue))
    return [
        _Kind(
            RISKS_SHEET,
            risk_fields(catalogue),
            "risk",
            "risk_id",
            [("likelihood", m.likelihood), ("impact", m.impact)],
            ["justification"],
            _current(
                risks,
                "risk_id",
                [
                    "applicable",
                    "likelihood",
                    "impact",
                    "justification",
                    "version",
                    *rules.BASELINE_COLUMNS,
                ],
            ),
            set(catalogue.risk_by_id),
            RISK_ANSWER_COLUMNS,
        ),
        _Kind(
            CONTROLS_SHEET,
            control_fields(catalogue),
            "control",
            "control_id",
            [("maturity", m.maturity)],
            ["evidence", "justification"],
            _current(
                snapshot.control_ratings,
                "control_id",
                [
                    "applicable",
                    "maturity",
                    "evidence",
                    "justification",
                    "evidence_references",
                    "version",
                ],
            ),
            set(catalogue.control_by_id),
            CONTROL_ANSWER_COLUMNS,
            references=True,
        ),
    ]


def parse_questionnaire(
    data: bytes,
    snapshot: CycleSnapshot | Callable[[list[str] | None], CycleSnapshot],
    catalogue: Catalogue,
    filename: str,
) -> ParsedAnswers:
    """The changes in a filled-in questionnaire, or QuestionnaireError listing every problem
    (`snapshot` may be a function of the codes a part file names, `meta_unit_codes`)."""
    refused = check_upload(data)
    if refused:
        raise QuestionnaireError(refused, filename)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except Exception as exc:  # any failure to open a foreign file is the file's fault
        raise QuestionnaireError([UNREADABLE], filename) from exc
    try:
        with sheet_rows.collector_paused():
            return _parse(wb, snapshot, catalogue, filename)
    except sheet_rows.SheetDamaged as exc:
        raise QuestionnaireError([exc.problem()], filename) from None
    except (KeyError, OSError, EOFError, zipfile.BadZipFile) as exc:  # a part missing, a bad CRC
        raise QuestionnaireError([UNREADABLE], filename) from exc
    finally:
        wb.close()


def _parse(wb: Any, snapshot: Any, catalogue: Catalogue, filename: str) -> ParsedAnswers:
    if callable(snapshot):
        snapshot = snapshot(_part_codes(wb))
    errors = FileErrors()
    check_meta(wb, snapshot, catalogue, errors)
    if errors:
        raise QuestionnaireError(errors.final(), filename)
    kinds = _kinds(snapshot, catalogue)
    for kind in kinds:
        if kind.sheet not in wb.sheetnames:
            errors.add(f"sheet {kind.sheet} is missing: download a new template")
    if errors:
        raise QuestionnaireError(errors.final(), filename)

    units = {
        str(u): (u, str(c))
        for u, c in zip(snapshot.units["unit_code"], snapshot.units["code"], strict=True)
    }
    results: list[pd.DataFrame] = []
    rows_read = 0
    touched: set[str] = set()
    for kind in kinds:
        records, n = _parse_sheet(wb[kind.sheet], kind, units, snapshot, errors)
        rows_read += n
        touched.update(str(r["unit_code"]) for r in records)
        results.append(pd.DataFrame(records, columns=kind.out_columns))
    answers = ParsedAnswers(
        filename=filename,
        cycle_label=snapshot.cycle_label,
        catalogue_version=snapshot.catalogue_version,
        risk_ratings=results[0],
        control_ratings=results[1],
        rows_read=rows_read,
        units=tuple(sorted(touched)),
    )
    if errors:
        sound = answers if errors.only_refusals() else None
        raise QuestionnaireError(errors.final(), filename, answers=sound)
    return answers


def _parse_sheet(ws: Any, kind: _Kind, units: dict, snapshot: CycleSnapshot, errors: FileErrors):
    fields = kind.fields
    width = len(fields)
    rows = sheet_rows.rows(ws)
    first = next(rows, (1, {}))
    header = first[1] if first[0] == 1 else {}
    ok = True
    for i, f in enumerate(fields, 1):
        got = header.get(i, EMPTY)[0]
        if got != f.header:
            errors.add(
                Problem.at_cell(
                    kind.sheet,
                    get_column_letter(i),
                    1,
                    f"expected the column {show(f.header)}, found {show(got)}: do not move, "
                    "insert or rename columns",
                    f.key,
                )
            )
            ok = False
    if not ok:
        return [], 0
    out: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    count = 0
    found = SheetErrors()
    if first[0] != 1:  # the header row was missing: the first row read is data
        rows = itertools.chain([first], rows)
    for r, cells in rows:
        found.row = r
        beside = cells and max(cells) > width  # cells beside the template's columns
        for column, (value, is_formula) in cells.items() if beside else ():
            if is_formula and column > width:
                found.add(Problem.at_cell(kind.sheet, get_column_letter(column), r, _no(value)))
        if not cells or min(cells) > width:
            continue
        count += 1
        record = _parse_row(kind, r, cells, units, seen, snapshot, found)
        if record is not None:
            out.append(record)
    kept = justified(kind, out, found)
    errors.refusals += len(out) - len(kept)
    errors.add_all(found.in_order())
    out = kept
    return out, count


def _no(formula: Any) -> str:
    """The refusal of a formula typed in a cell."""
    return f"formulas are not accepted, type the value itself (found {show(str(formula))})"


def _changed(kind: _Kind, answer: dict[str, Any], was: dict[str, Any], added: list) -> list:
    """The fields the officer changed (`answer` gets the row's new references, if any)."""
    changed = [k for k in answer if answer[k] != was[k]]
    if kind.references:
        answer["evidence_references"] = added
        if added:
            changed.append("evidence_references")
    return changed


def _parse_row(kind, r, cells, units, seen, snapshot, errors) -> dict[str, Any] | None:
    vals: dict[str, Any] = {}
    refused: set[str] = set()  # cells holding a formula: already reported
    bad = False
    for i, key in kind.reads:  # an empty cell is left out: `vals.get` reads None
        value, is_formula = cells.get(i, EMPTY)
        if is_formula:
            errors.add(kind.at(key, r, _no(value)))
            bad = True
            refused.add(key)
        elif value is not None:
            vals[key] = value

    # Which rating is this row?
    item_id_key = f"id_{kind.item}"
    unit_raw, item_raw, version_raw = (
        vals.get("id_unit"),
        vals.get(item_id_key),
        vals.get("id_version"),
    )
    if is_blank(unit_raw) or is_blank(item_raw) or is_blank(version_raw):
        if not bad:
            errors.add(
                kind.at(
                    "id_unit",
                    r,
                    "this row has no identifiers (hidden columns): rows cannot be added; use "
                    "the rows of the template",
                )
            )
        return None
    unit_key, item_key = as_text(unit_raw), as_text(item_raw)
    if unit_key not in units:
        errors.add(kind.at("id_unit", r, f"unknown unit {show(unit_key)}"))
        return None
    if item_key not in kind.known_items:
        errors.add(kind.at(item_id_key, r, f"unknown {kind.item} {show(item_key)}"))
        return None
    current = kind.current.get((unit_key, item_key))
    if current is None:
        errors.add(
            kind.at(
                item_id_key,
                r,
                f"unit {unit_key} has no rating of {kind.item} {item_key} in cycle "
                f"{snapshot.cycle_label}",
            )
        )
        return None
    if (unit_key, item_key) in seen:
        errors.add(
            kind.at(
                "unit_code",
                r,
                f"duplicate row: unit {unit_key}, {kind.item} {item_key} is already on row "
                f"{seen[(unit_key, item_key)]}",
            )
        )
        return None
    seen[(unit_key, item_key)] = r
    unit_id, code = units[unit_key]
    if as_text(vals.get("unit_code")) != code:
        errors.add(
            kind.at(
                "unit_code",
                r,
                f"unit code {show(vals.get('unit_code'))} does not match the row's unit {code}: "
                "do not edit identifiers",
            )
        )
        bad = True
    if as_text(vals.get(kind.item_column)) != item_key:
        errors.add(
            kind.at(
                kind.item_column,
                r,
                f"{kind.item} {show(vals.get(kind.item_column))} does not match the row's "
                f"{kind.item} {item_key}: do not edit identifiers",
            )
        )
        bad = True
    version = parse_int(version_raw)
    if version is None or version < 0:
        errors.add(
            kind.at("id_version", r, f"version must be a whole number, got {show(version_raw)}")
        )
        return None

    # What was exported (hidden), checked against riskmap when the rating has not moved since.
    memo = kind.memo
    was: dict[str, Any] = {"applicable": parse_yes_no(vals.get("was_applicable"))}
    for key, scale in kind.levels:
        was[key] = remembered(memo, parse_level, vals.get(f"was_{key}"), scale)
    for key in kind.texts:
        was[key] = as_text(vals.get(f"was_{key}"))
    stale = version != int(current["version"])
    now = {
        "applicable": bool(current["applicable"]),
        **{k: int(current[k]) for k, _ in kind.levels},
        **{k: as_text(current[k]) for k in kind.texts},
    }
    edited = [k for k in was if was[k] is None or (not stale and was[k] != now[k])]
    if edited:
        errors.add(
            kind.at(
                f"was_{edited[0]}",
                r,
                "the hidden exported values of this row were edited: download a new template",
            )
        )
        return None

    # The answers.
    answer: dict[str, Any] = {}
    applicable = parse_yes_no(vals.get("applicable"))
    if applicable is None and "applicable" not in refused:
        errors.add(
            kind.at(
                "applicable", r, f"applicable must be yes or no, got {show(vals.get('applicable'))}"
            )
        )
        bad = True
    answer["applicable"] = applicable
    for key, scale in kind.levels:
        raw = vals.get(key)
        level = remembered(memo, parse_level, raw, scale)
        if level is None and is_blank(raw) and applicable is False:
            level = was[key]  # a level left empty on a row marked not applicable: kept
        if level is None and key not in refused:
            errors.add(kind.at(key, r, f"{key} must be {scale_range(scale)}, got {show(raw)}"))
            bad = True
        answer[key] = level
    for key in kind.texts:
        answer[key] = as_text(vals.get(key))
        # What riskmap holds now it can store: only a text typed anew is checked.
        problem = None if answer[key] == now[key] else texts.text_problem(key, answer[key])
        if problem:  # what riskmap could not store, or export and read back unchanged
            errors.add(kind.at(key, r, f"{key}: {problem}"))
            bad = True
    added = new_references(kind, r, vals, current, errors) if kind.references else []
    if bad or added is None:
        return None

    changed = _changed(kind, answer, was, added)
    if not changed:
        return None
    return {
        "unit_code": unit_id,
        kind.item_column: item_key,
        **answer,
        "version": version,
        "changed": changed,
        "stale": stale,
        "sheet_row": r,
        # for the rating rules (`_justified`), not returned
        "unit": code,
        **{k: current[k] for k in rules.BASELINE_COLUMNS if k in current},
    }
