"""The Method sheet: scales, weights, cap, floor and bands, as named cells the formulas use.

Every number the Register's formulas read lives on this sheet under a workbook-level name
(`reduction_cap`, `likelihood_floor`, `maturity_max`, `weight_low`, `weight_medium`,
`weight_high`, `band_mins`, `band_ids`), so an auditor sees the rule's parameters in one
place and can change one to see every score follow.
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
    "Each applicable control c that the catalogue applies to the unit's type and that "
    "mitigates the scenario contributes a factor 1 - w_c x m_c / maturity_max, where w_c is "
    "its strength weight (low, medium, high) and m_c its maturity.",
    "Controls rated not applicable, controls at maturity 0 and controls the catalogue does not "
    "apply to the unit's type contribute nothing (factor 1).",
    "product = the product of the factors; reduction = MIN(reduction_cap, 1 - product): "
    "controls never remove more than the cap.",
    "residual_likelihood = MAX(MIN(likelihood, likelihood_floor), likelihood x (1 - reduction)): "
    "never below the lowest level of the scale, never above the likelihood.",
    "residual = residual_likelihood x impact. Impact is not reduced: the catalogue's controls "
    "prevent or detect corruption, they do not make its harm smaller.",
    "Band: the highest band whose threshold (min) the score reaches: "
    "LOOKUP(score, band_mins, band_ids).",
    "In the workbook: Register holds likelihood and impact (blue cells, inputs); Contributions "
    "holds one row per unit x risk x mitigating control, reading applicability and maturity "
    "from the Controls sheet (inputs) and the weight from this sheet; every score is a live "
    "formula over those cells and the named cells on this sheet.",
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
    add(*cells.header(["parameter", "value", "", "meaning"]))
    params = [
        (
            "reduction_cap",
            method.rule.reduction_cap,
            "fraction",
            "Controls never remove more than this share of the likelihood.",
        ),
        (
            "likelihood_floor",
            method.rule.likelihood_floor,
            "score",
            "The residual likelihood "
            "never falls below this level (nor above the likelihood itself).",
        ),
        (
            "maturity_max",
            method.maturity.max,
            "int",
            "Top of the maturity scale (m / "
            "maturity_max is the share of a control's strength that is in place).",
        ),
        ("maturity_min", method.maturity.min, "int", "Bottom of the maturity scale."),
    ]
    for name, value, style, meaning in params:
        r = add(t(name, "label"), cells.styled(value, style), None, t(meaning, "wrap"))
        _define(wb, out.names, name, f"$B${r}")
    add()
    add(t("Strength weights (w)", "section"))
    add(*cells.header(["strength", "weight", "", "meaning"]))
    first = len(rows) + 1
    for strength, weight in method.strengths.items():
        r = add(
            t(strength, "label"),
            cells.styled(weight, "fraction"),
            None,
            t(
                f"A control that mitigates a scenario {_ADVERB.get(strength, strength)} "
                f"has weight w = {weight}.",
                "wrap",
            ),
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
