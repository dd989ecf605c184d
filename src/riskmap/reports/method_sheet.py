"""The Method sheet: scales, weights, credits and bands, as named cells the formulas use.

Every number the Register's formulas read lives on this sheet under a workbook-level name
(`max_reduction`, `evidence_required_above`, `key_control_weight`, `maturity_min`,
`maturity_max`, `credit_table`, `weight_low`, `weight_medium`, `weight_high`, `band_mins`,
`band_ids`, and `band_matrix` when the method declares one), so an auditor sees the rule's
parameters in one place and can change one to see every score follow. Every number is shown
with its rationale from the method file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from openpyxl.styles import Font
from openpyxl.workbook import Workbook
from openpyxl.workbook.defined_name import DefinedName

from riskmap.catalogue import Catalogue
from riskmap.catalogue.models import Scale
from riskmap.reports.cells import CellMaker, solid
from riskmap.reports.stream import Book

SHEET = "Method"

RULE_IN_WORDS = [
    "Inherent risk of a unit x risk scenario = likelihood x impact (1 to 25).",
    "Each control that the catalogue links to the scenario and applies to the unit's type "
    "counts, unless it is rated not applicable; a linked control nobody rated counts at "
    "maturity 0.",
    "credited maturity = the maturity, but a level above evidence_required_above with no "
    "evidence recorded counts as evidence_required_above (Controls!credited).",
    "credit = the credit of the credited level (credit_table): a control on paper earns "
    "little, an established and evidenced one most of its strength.",
    "weight = the strength weight (low, medium, high), times key_control_weight for the "
    "scenario's key controls.",
    "coverage = SUM(weight x credit) / SUM(weight) over the counted controls: a weighted "
    "mean, so that many weak controls never add up to strong assurance.",
    "reduction = max_reduction x coverage: controls never remove more than max_reduction of "
    "the likelihood (collusion and override defeat any control system).",
    "residual_likelihood = likelihood x (1 - reduction); residual = residual_likelihood x "
    "impact. Impact is not reduced: the catalogue's controls prevent or detect corruption, "
    "they do not make its harm smaller.",
    "Band: the declared band_matrix cell at (residual likelihood rounded half up, impact) "
    "where the method declares one, else the highest band whose threshold (min) the score "
    "reaches: LOOKUP(score, band_mins, band_ids).",
    "In the workbook: Register holds likelihood and impact (blue cells, inputs); Controls "
    "holds applicability, maturity and evidence (inputs); Contributions holds one row per "
    "unit x risk x linked control reading them; every score is a live formula over those "
    "cells and the named cells on this sheet.",
    "The heat maps and the Summary show the scores as riskmap computed them at export; the "
    "Register recomputes them live, so the two can be compared.",
]


@dataclass
class MethodCells:
    """Where the named parameters are (for callers that want to point at them)."""

    names: dict[str, str] = field(default_factory=dict)


_ADVERB = {"low": "weakly", "medium": "moderately", "high": "strongly"}


def _hex(color: str) -> str:
    return "FF" + color.lstrip("#").upper()


def band_styles(cells: CellMaker, catalogue: Catalogue) -> None:
    for band in catalogue.method.bands:
        cells.add_style(
            f"band_{band.id}",
            fill=solid(_hex(band.color)),
            font=Font(color=_hex(band.text_color)),
        )


def _define(wb: Workbook, names: dict[str, str], name: str, ref: str) -> None:
    wb.defined_names[name] = DefinedName(name, attr_text=f"{SHEET}!{ref}")
    names[name] = ref


def method_sheet(book: Book, catalogue: Catalogue) -> MethodCells:
    method = catalogue.method
    wb, cells = book.wb, book.cells
    sheet = book.sheet(SHEET, [24, 18, 16, 90, 12, 14, 14], freeze=None, print_rows=None)
    band_styles(cells, catalogue)
    out = MethodCells()
    rows: list[list[Any]] = []
    t = cells.text

    def add(*values: Any) -> int:
        rows.append(list(values))
        return len(rows)

    add(t(f"Method: {method.name} {method.version}", "title"))
    add(t("Catalogue version", "label"), t(catalogue.version))
    add(
        t("Method sources", "label"),
        t("; ".join(f"{c.source} {c.locator}" for c in method.sources)),
    )
    add()
    add(t("Rule parameters", "section"))
    add(*cells.header(["parameter", "value", "", "why"]))
    why = method.rationale
    rule = method.rule
    params = [
        ("max_reduction", rule.max_reduction, "fraction", why["rule.max_reduction"]),
        (
            "evidence_required_above",
            rule.evidence_required_above,
            "int",
            why["rule.evidence_required_above"],
        ),
        ("key_control_weight", rule.key_control_weight, "score", why["rule.key_control_weight"]),
        ("maturity_min", method.maturity.min, "int", "Bottom of the maturity scale."),
        ("maturity_max", method.maturity.max, "int", "Top of the maturity scale."),
        ("likelihood_min", method.likelihood.min, "int", "Bottom of the likelihood scale."),
        (
            "likelihood_levels",
            len(method.likelihood.levels),
            "int",
            "Number of likelihood levels.",
        ),
        ("impact_min", method.impact.min, "int", "Bottom of the impact scale."),
    ]
    for name, value, style, meaning in params:
        r = add(t(name, "label"), cells.styled(value, style), None, t(meaning, "wrap"))
        _define(wb, out.names, name, f"$B${r}")
    add()
    add(t("Credit of each maturity level (credit_table)", "section"))
    add(*cells.header(["level", "credit", "name", "why"]))
    first = len(rows) + 1
    levels = method.maturity.levels
    for level, credit in sorted(rule.credit.items()):
        add(
            level,
            cells.styled(credit, "fraction"),
            t(levels[level].name, "label"),
            t(why[f"rule.credit.{level}"], "wrap"),
        )
    _define(wb, out.names, "credit_table", f"$B${first}:$B${len(rows)}")
    add()
    add(t("Strength weights (w)", "section"))
    add(*cells.header(["strength", "weight", "", "why"]))
    first = len(rows) + 1
    for strength, weight in method.strengths.items():
        r = add(
            t(strength, "label"),
            cells.styled(weight, "fraction"),
            None,
            t(why[f"strengths.{strength}"], "wrap"),
        )
        _define(wb, out.names, f"weight_{strength}", f"$B${r}")
    _define(wb, out.names, "strength_weights", f"$A${first}:$B${len(rows)}")
    add()
    add(t("Bands (a band holds scores >= its min and below the next band's min)", "section"))
    add(
        *cells.header(
            ["band", "name", "min", "colour", "text colour", "deadline days", "target maturity"]
        )
    )
    first = len(rows) + 1
    for band in method.bands:
        style = f"band_{band.id}"
        add(
            t(band.id, style),
            t(band.name, style),
            cells.styled(band.min, style),
            t(band.color),
            t(band.text_color),
            band.deadline_days,
            band.target_maturity,
        )
    last = len(rows)
    _define(wb, out.names, "band_ids", f"$A${first}:$A${last}")
    _define(wb, out.names, "band_mins", f"$C${first}:$C${last}")
    if method.band_matrix is not None:
        add()
        add(
            t(
                "Declared band matrix (rows: likelihood; columns: impact; blank: thresholds)",
                "section",
            )
        )
        impacts = sorted(method.impact.levels)
        add(t("likelihood", "label"), *[t(f"impact {i}", "label") for i in impacts])
        first = len(rows) + 1
        for level in sorted(method.band_matrix):
            cells_row = [
                t(b, f"band_{b}") if b is not None else None for b in method.band_matrix[level]
            ]
            add(level, *cells_row)
        last_col = chr(ord("A") + len(impacts))
        _define(wb, out.names, "band_matrix", f"$B${first}:${last_col}${len(rows)}")
    add()
    add(t("Why every number has its value", "section"))
    add(*cells.header(["parameter", "value", "", "why"]))
    for param in method.parameters():
        add(t(param.path, "label"), param.value, None, t(param.rationale, "wrap"))
    add()
    add(t("The rule in words", "section"))
    for line in RULE_IN_WORDS:
        add(None, None, None, t(line, "wrap"))
    add()
    scales: list[tuple[str, Scale]] = [
        ("likelihood", method.likelihood),
        ("impact", method.impact),
        ("maturity", method.maturity),
    ]
    for key, scale in scales:
        add(t(f"{scale.name} scale ({key}, {scale.min}-{scale.max})", "section"))
        add(None, None, None, t(scale.question, "wrap"))
        add(*cells.header(["level", "name", "", "definition"]))
        for level, lv in sorted(scale.levels.items()):
            add(level, t(lv.name, "label"), None, t(lv.definition, "wrap"))
        add()
    for row in rows:
        sheet.append(row)
    return out
