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
    show,
)
from riskmap.reports.questionnaire_layout import (
    CONTROL_ANSWER_COLUMNS,
    CONTROLS_SHEET,
    FORMAT,
    FORMAT_VERSION,
    META_KEYS,
    META_SHEET,
    RISK_ANSWER_COLUMNS,
    RISKS_SHEET,
    Field,
    ParsedAnswers,
    QuestionnaireError,
    column_letter,
    control_fields,
    reference_lines,
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

    def at(self, key: str, row: int, message: str) -> Problem:
        """A problem in the cell of field `key` on `row` of this sheet."""
        return Problem.at_cell(self.sheet, self.letters[key], row, message, key)


def _current(frame: pd.DataFrame, item_column: str, keep: list[str]) -> dict:
    columns = ["unit_id", item_column, *(k for k in keep if k in frame.columns)]
    values = zip(*(frame[c].tolist() for c in columns), strict=True)  # faster than to_dict
    records = (dict(zip(columns, v, strict=True)) for v in values)
    return {(str(r["unit_id"]), str(r[item_column])): r for r in records}


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
    data: bytes, snapshot: CycleSnapshot, catalogue: Catalogue, filename: str
) -> ParsedAnswers:
    """The changes in a filled-in questionnaire, or QuestionnaireError listing every problem."""
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


def _check_meta(wb: Any, snapshot: CycleSnapshot, catalogue: Catalogue, errors: FileErrors) -> None:
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


def _parse(wb: Any, snapshot: CycleSnapshot, catalogue: Catalogue, filename: str) -> ParsedAnswers:
    errors = FileErrors()
    _check_meta(wb, snapshot, catalogue, errors)
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
        for u, c in zip(snapshot.units["unit_id"], snapshot.units["code"], strict=True)
    }
    results: list[pd.DataFrame] = []
    rows_read = 0
    touched: set[str] = set()
    for kind in kinds:
        records, n = _parse_sheet(wb[kind.sheet], kind, units, snapshot, errors)
        rows_read += n
        touched.update(str(r["unit_id"]) for r in records)
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
        for column, (value, is_formula) in cells.items():
            if is_formula and column > width:  # beside the template's columns
                found.add(
                    Problem.at_cell(
                        kind.sheet,
                        get_column_letter(column),
                        r,
                        f"formulas are not accepted, type the value itself (found "
                        f"{show(str(value))})",
                    )
                )
        if not any(column <= width for column in cells):
            continue
        count += 1
        record = _parse_row(kind, r, cells, units, seen, snapshot, found)
        if record is not None:
            out.append(record)
    kept = _justified(kind, out, found)
    errors.refusals += len(out) - len(kept)
    errors.add_all(found.in_order())
    out = kept
    return out, count


def _justified(kind: _Kind, records: list[dict[str, Any]], found: SheetErrors) -> list:
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


def _new_references(kind: _Kind, r: int, vals: dict, current: dict, errors) -> list | None:
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


def _parse_row(kind, r, cells, units, seen, snapshot, errors) -> dict[str, Any] | None:
    vals: dict[str, Any] = {}
    refused: set[str] = set()  # cells holding a formula: already reported
    bad = False
    for i, f in enumerate(kind.fields, 1):
        if f.role == "meaning":
            continue
        value, is_formula = cells.get(i, EMPTY)
        if is_formula:
            errors.add(
                kind.at(
                    f.key,
                    r,
                    f"formulas are not accepted, type the value itself (found {show(str(value))})",
                )
            )
            bad = True
            refused.add(f.key)
            continue
        vals[f.key] = value

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
        errors.add(kind.at('id_unit', r, f"unknown unit {show(unit_key)}"))
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
    was: dict[str, Any] = {"applicable": parse_yes_no(vals.get("was_applicable"))}
    for key, scale in kind.levels:
        was[key] = parse_level(vals.get(f"was_{key}"), scale)
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
        level = parse_level(raw, scale)
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
    new_references = _new_references(kind, r, vals, current, errors) if kind.references else []
    if bad or new_references is None:
        return None

    changed = [k for k in answer if answer[k] != was[k]]
    if new_references:
        answer["evidence_references"] = new_references
        changed.append("evidence_references")
    elif kind.references:
        answer["evidence_references"] = []
    if not changed:
        return None
    return {
        "unit_id": unit_id,
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
