"""Heat map sheets: units x risks, the score in every cell, coloured by band.

The colour comes from conditional formatting with one rule per band of the method file
(`score >= band.min` and `< next band's min`), so the colours and the thresholds are the
method's. The score is always written in the cell too: colour is never the only signal.
A risk the unit rated not applicable shows "n/a"; a risk its type does not face stays empty.
"""

from __future__ import annotations

import pandas as pd
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from riskmap.catalogue import Catalogue
from riskmap.reports.cells import solid
from riskmap.reports.columns import Values, append_columns
from riskmap.reports.stream import Book, Sheet

UNIT_HEADERS = ["unit_code", "unit", "unit_type", "region"]
NOT_APPLICABLE = "n/a"


def _argb(color: str) -> str:
    return "FF" + color.lstrip("#").upper()


def band_rules(catalogue: Catalogue, top_left: str, by_id: bool = False) -> list[FormulaRule]:
    """One conditional-format rule per band for a range whose first cell is `top_left`: by
    score threshold, or (`by_id`) for cells holding the band's id."""
    bands = catalogue.method.bands
    rules = []
    for i, band in enumerate(bands):
        if by_id:
            formula = f'{top_left}="{band.id}"'
        else:
            cond = [f"ISNUMBER({top_left})", f"{top_left}>={band.min:g}"]
            if i + 1 < len(bands):
                cond.append(f"{top_left}<{bands[i + 1].min:g}")
            formula = f"AND({','.join(cond)})"
        color = _argb(band.color)
        rules.append(
            FormulaRule(
                formula=[formula],
                fill=solid(color),
                font=Font(color=_argb(band.text_color)),
                stopIfTrue=True,
            )
        )
    return rules


def _grid(codes, risks, register, column, risk_ratings, score_cell) -> list[Values]:
    """A column per risk, a row per unit: the pair's score (the last where a pair repeats),
    else NOT_APPLICABLE where the unit rated the risk not applicable, else None."""
    keys = ["unit_code", "risk_id"]
    pairs = register[[*keys, column]].drop_duplicates(keys, keep="last")
    pairs = pairs.assign(present=True)
    scores = pairs.pivot(index="unit_code", columns="risk_id", values=column)
    scores = scores.reindex(index=codes, columns=risks)
    present = pairs.pivot(index="unit_code", columns="risk_id", values="present")
    present = present.reindex(index=codes, columns=risks).notna().to_numpy()
    rr = risk_ratings[~risk_ratings["applicable"].astype(bool)].drop_duplicates(keys)
    na = rr.assign(na=True).pivot(index="unit_code", columns="risk_id", values="na")
    na = na.reindex(index=codes, columns=risks).notna().to_numpy() & ~present
    grid = scores.to_numpy(dtype=float).astype(object)
    grid[~present] = None
    grid[na] = NOT_APPLICABLE
    return [Values(grid[:, j], score_cell) for j in range(len(risks))]


def heatmap_sheet(
    book: Book,
    title: str,
    units: pd.DataFrame,
    risk_ratings: pd.DataFrame,
    register: pd.DataFrame,
    column: str,
    catalogue: Catalogue,
) -> Sheet:
    """Units (rows) x risks (columns) of `register[column]`, coloured by band."""
    rated = set(risk_ratings["risk_id"])
    risks = [r.id for r in catalogue.risks if r.id in rated]
    risks += sorted(rated - set(risks))  # rated, but no longer in the catalogue
    widths = [10, 30, 18, 10] + [9] * len(risks)
    sheet = book.sheet(title, widths, freeze="E2")
    ws, cells = sheet.ws, book.cells
    sheet.append(cells.header(UNIT_HEADERS + risks))
    style = "int" if column == "inherent" else "score"
    ordered = units.sort_values("unit_code", kind="stable")

    def score_cell(value):  # a score, "n/a" (rated not applicable) or None (not faced)
        if value is None or value is NOT_APPLICABLE:
            return value
        return cells.styled(float(value), style)

    append_columns(
        sheet,
        [Values(ordered[name], cells.value) for name in UNIT_HEADERS]
        + _grid(ordered["unit_code"], risks, register, column, risk_ratings, score_cell),
    )
    last_col = get_column_letter(len(UNIT_HEADERS) + max(len(risks), 1))
    last_row = len(ordered) + 1
    if risks and len(ordered):
        target = f"E2:{last_col}{last_row}"
        for rule in band_rules(catalogue, "E2"):
            ws.conditional_formatting.add(target, rule)
    ws.auto_filter.ref = f"A1:{last_col}{max(last_row, 2)}"
    return sheet
