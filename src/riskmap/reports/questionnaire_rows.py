"""The questionnaire's Risks and Controls rows, written a column at a time.

One row per risk rating (sheet Risks) and per control rating (sheet Controls) of the chosen
units: the unit, the item, the answer cells (yellow) with the current values, the meaning
of the chosen level (a formula over the hidden lookups) beside each level, and the hidden
columns that identify the row and keep the values as exported
(`questionnaire_layout.risk_fields` / `control_fields` name and order them). A national
questionnaire has 400,000 such rows, so they go through `riskmap.reports.columns`: every
distinct value converted once by `riskmap.reports.cells`, the formulas built over whole
columns, each row sized for its wrapped texts and for the meaning of its current level.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from riskmap.catalogue import Catalogue
from riskmap.catalogue.models import Scale
from riskmap.reports.columns import Values, append_columns, digits, formulas
from riskmap.reports.questionnaire_layout import NO, YES, column_letter
from riskmap.reports.stream import Book, Sheet, wrapped_height

_DEFS = '&"",{}_defs,2,FALSE),"")'  # the rest of a level's meaning formula, after its cell


def yes_no(value: Any) -> str:
    return YES if bool(value) else NO


def level_text(scale: Scale, level: int) -> str:
    lv = scale.levels.get(level)
    return f"{lv.name}: {lv.definition}" if lv else ""


def maturity_text(catalogue: Catalogue, control: Any, level: int) -> str:
    """What `level` means for `control` (the catalogue's text, else the generic scale's)."""
    own = control.maturity.get(level) if control is not None else None
    return own or level_text(catalogue.method.maturity, level)


def checklist(control: Any) -> str:
    """The control's evidence checklist, numbered as the references column names entries."""
    if control is None:
        return ""
    return "; ".join(f"{i}. {entry}" for i, entry in enumerate(control.evidence, 1))


def _column(frame: pd.DataFrame, name: str) -> Any:
    """`frame[name]`, or None a row where the frame has no such column."""
    return frame[name] if name in frame.columns else [None] * len(frame)


def _units_of(codes: list[Any], info: dict) -> tuple[list, list, list]:
    """Each row's unit code, name and type, in the rows' order."""
    if not codes:
        return [], [], []
    code, name, utype = zip(*map(info.__getitem__, codes), strict=True)
    return list(code), list(name), list(utype)


def _level_heights(texts: dict[Any, str], width: float, keys: list[Any]) -> np.ndarray:
    """The height each row needs for the meaning of its level (`texts` per level: the meanings
    are formulas, so the row is sized for the current level's text), 0 for one line."""
    points = {k: wrapped_height([(text, width)]) or 0.0 for k, text in texts.items()}
    return np.fromiter(map(points.__getitem__, keys), dtype=float, count=len(keys))


def risk_rows(
    book: Book, sheet: Sheet, rr: pd.DataFrame, info: dict, catalogue: Catalogue, fields
) -> None:
    """The Risks sheet's rows, a column at a time (`riskmap.reports.columns`)."""
    cells = book.cells
    t, v = cells.text, cells.value
    m = catalogue.method
    titles = {r.id: r.title for r in catalogue.risks}
    widths = {f.key: f.width for f in fields}
    lik, imp = column_letter(fields, "likelihood"), column_letter(fields, "impact")
    r = digits(np.arange(len(rr)) + sheet.rows + 1)
    code, name, utype = _units_of(rr["unit_code"].tolist(), info)
    likelihood = [int(x) for x in rr["likelihood"].tolist()]
    impact = [int(x) for x in rr["impact"].tolist()]
    applicable, justification = rr["applicable"].tolist(), rr["justification"].tolist()
    meaning = "likelihood_meaning", "impact_meaning"
    heights = np.maximum(
        _level_heights(
            {k: level_text(m.likelihood, k) for k in set(likelihood)}, widths[meaning[0]],
            likelihood,
        ),
        _level_heights(
            {k: level_text(m.impact, k) for k in set(impact)}, widths[meaning[1]], impact
        ),
    )  # fmt: skip
    append_columns(
        sheet,
        [
            Values(code, v),
            Values(name, v),
            Values(utype, v),
            Values(rr["risk_id"], v),
            Values(
                rr["risk_id"],
                lambda k: t(titles.get(k, "(not in the catalogue)"), "wrap"),
            ),
            Values(applicable, lambda a: cells.text(yes_no(a), "answer")),
            Values(likelihood, lambda x: cells.styled(x, "answer")),
            formulas(
                book, "wrap", f"=IFERROR(VLOOKUP({lik}", r, '&"",likelihood_defs,2,FALSE),"")'
            ),
            Values(impact, lambda x: cells.styled(x, "answer")),
            formulas(book, "wrap", f"=IFERROR(VLOOKUP({imp}", r, _DEFS.format("impact")),
            Values(justification, lambda j: cells.text(str(j or ""), "answer_text")),
            Values(rr["unit_code"], v),
            Values(rr["risk_id"], v),
            Values(rr["version"], int),
            Values(applicable, yes_no),
            Values(likelihood),
            Values(impact),
            Values(justification, lambda j: t(str(j or ""))),
        ],
        height=heights,
    )


def control_rows(
    book: Book, sheet: Sheet, cr: pd.DataFrame, info: dict, catalogue: Catalogue, fields
) -> None:
    """The Controls sheet's rows, a column at a time (`riskmap.reports.columns`)."""
    cells = book.cells
    t, v = cells.text, cells.value
    by_id = catalogue.control_by_id
    widths = {f.key: f.width for f in fields}
    mat, ctl = column_letter(fields, "maturity"), column_letter(fields, "control_id")
    r = digits(np.arange(len(cr)) + sheet.rows + 1)
    code, name, utype = _units_of(cr["unit_code"].tolist(), info)
    control_ids = cr["control_id"].tolist()
    maturity = [int(x) for x in cr["maturity"].tolist()]
    evidence, justification = cr["evidence"].tolist(), cr["justification"].tolist()
    applicable = cr["applicable"].tolist()
    pairs = list(zip(control_ids, maturity, strict=True))
    meanings = {(c, k): maturity_text(catalogue, by_id.get(c), k) for c, k in set(pairs)}

    def named(c: Any) -> Any:
        control = by_id.get(c)
        return t(control.name if control else "(not in the catalogue)", "wrap")

    def answer(x: Any) -> Any:
        return cells.text(str(x or ""), "answer_text")

    append_columns(
        sheet,
        [
            Values(code, v),
            Values(name, v),
            Values(utype, v),
            Values(control_ids, v),
            Values(control_ids, named),
            Values(applicable, lambda a: cells.text(yes_no(a), "answer")),
            Values(maturity, lambda x: cells.styled(x, "answer")),
            formulas(
                book,
                "wrap",
                f"=IFERROR(VLOOKUP({ctl}",
                r,
                f'&"|"&{mat}',
                r,
                ',maturity_defs,2,FALSE),"")',
            ),  # fmt: skip
            Values(evidence, answer),
            Values(justification, answer),
            Values(control_ids, lambda c: t(checklist(by_id.get(c)), "wrap")),
            Values(cr["unit_code"], v),
            Values(control_ids, v),
            Values(cr["version"], int),
            Values(applicable, yes_no),
            Values(maturity),
            Values(evidence, lambda x: t(str(x or ""))),
            Values(justification, lambda x: t(str(x or ""))),
            Values(_column(cr, "evidence_references"), answer),
        ],
        height=_level_heights(meanings, widths["maturity_meaning"], pairs),
    )
