"""The Register, Contributions and Controls sheets: every score a live formula over its inputs.

Layout (row numbers are those of the sheets):

- Controls: one row per unit x control rating; `applicable` and `maturity` are inputs.
- Contributions: one row per unit x risk x control, for every rated control that the
  catalogue applies to the unit's type and that mitigates the risk (contributing or not),
  sorted by unit, risk, control. `applicable` and `maturity` are formulas reading the
  Controls row, `weight` reads the named weight on Method, and
  `factor = IF(applicable, 1 - weight * maturity / maturity_max, 1)`.
- Register: one row per applicable unit x risk, headed with `SCORE_COLUMNS` then the extras;
  `product = PRODUCT(Contributions!H<first>:H<last>)` over that pair's contiguous rows, and
  inherent, reduction, residual likelihood, residual and both bands are formulas.

The rows of one unit x risk are contiguous in Contributions, so each product reads one short
range: no lookup over the whole sheet, which keeps a national ministry quick to recalculate.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from riskmap.catalogue import Catalogue
from riskmap.reports.cells import Cell
from riskmap.reports.heatmap import band_rules
from riskmap.reports.layout import Col, add_table, frame_sheet, letter
from riskmap.reports.snapshot import CycleSnapshot
from riskmap.reports.stream import Book, Sheet
from riskmap.scoring.residual import SCORE_COLUMNS, mitigation_frame

REGISTER_SHEET = "Register"
CONTRIBUTIONS_SHEET = "Contributions"
CONTROLS_SHEET = "Controls"

REGISTER_EXTRAS = [
    "weights",
    "maturities",
    "product",
    "contributions_from",
    "contributions_to",
    "justification",
    "confirmed",
]
REGISTER_HEADER = [*SCORE_COLUMNS, *REGISTER_EXTRAS]

_REGISTER_WIDTHS = {
    "unit_id": 10, "unit": 30, "unit_type": 18, "region": 10, "risk_id": 9, "risk": 40,
    "stage": 12, "likelihood": 10, "impact": 9, "inherent": 9, "reduction": 10,
    "residual_likelihood": 11, "residual": 9, "inherent_band": 10, "residual_band": 10,
    "controls": 40, "weights": 18, "maturities": 14, "product": 10, "contributions_from": 12,
    "contributions_to": 12, "justification": 40, "confirmed": 10,
}  # fmt: skip

CONTROL_COLUMNS = [
    Col("unit_id", 10),
    Col("unit", 30),
    Col("unit_type", 18),
    Col("control_id", 24),
    Col("control", 40),
    Col("principle", 10),
    Col("applicable", 11, "input"),
    Col("maturity", 10, "input"),
    Col("maturity_level", 14),
    Col("evidence", 40, "wrap"),
    Col("justification", 40, "wrap"),
    Col("confirmed", 10),
    Col("version", 9),
]

CONTRIBUTION_COLUMNS = [
    Col("unit_id", 10),
    Col("risk_id", 9),
    Col("control_id", 24),
    Col("strength", 10),
    Col("weight", 9, "fraction"),
    Col("applicable", 11),
    Col("maturity", 10),
    Col("factor", 10, "fraction"),
    Col("controls_row", 12),
]


def controls_frame(snapshot: CycleSnapshot, catalogue: Catalogue) -> pd.DataFrame:
    """The Controls sheet's rows, in order, with the sheet row of each."""
    cr = snapshot.control_ratings.merge(
        snapshot.units[["unit_id", "unit", "unit_type"]], on="unit_id", how="left"
    )
    cr = cr.sort_values(["unit_id", "control_id"], kind="stable", ignore_index=True)
    by_id = catalogue.control_by_id
    levels = catalogue.method.maturity.levels
    cr["control"] = cr["control_id"].map(
        lambda c: by_id[c].name if c in by_id else "(not in the catalogue)"
    )
    cr["principle"] = cr["control_id"].map(lambda c: by_id[c].principle if c in by_id else "")
    cr["maturity_level"] = cr["maturity"].map(
        lambda m: levels[int(m)].name if not pd.isna(m) and int(m) in levels else ""
    )
    cr["applicable"] = cr["applicable"].astype(bool)
    cr["row"] = np.arange(len(cr)) + 2
    return cr


def contributions_frame(
    register: pd.DataFrame, controls: pd.DataFrame, catalogue: Catalogue
) -> pd.DataFrame:
    """One row per scored unit x risk x rated control that the catalogue lets mitigate it."""
    applies = pd.DataFrame(
        [(c.id, t) for c in catalogue.controls for t in c.unit_types],
        columns=["control_id", "unit_type"],
    )
    rated = controls[["unit_id", "unit_type", "control_id", "applicable", "maturity", "row"]]
    rated = rated.drop_duplicates(["unit_id", "control_id"]).merge(
        applies, on=["control_id", "unit_type"]
    )
    mitigation = mitigation_frame(catalogue)[["control_id", "risk_id", "strength", "weight"]]
    out = rated.merge(mitigation, on="control_id").merge(
        register[["unit_id", "risk_id"]], on=["unit_id", "risk_id"]
    )
    out = out.sort_values(["unit_id", "risk_id", "control_id"], ignore_index=True)
    out["sheet_row"] = np.arange(len(out)) + 2
    out["contributes"] = out["applicable"].astype(bool) & (out["maturity"] > 0)
    return out


def _joined(values: pd.Series, keys: list[pd.Series]) -> pd.Series:
    return (values.astype(str) + ";").groupby(keys, sort=False).sum().str[:-1]


def register_frame(register: pd.DataFrame, contrib: pd.DataFrame, snapshot: CycleSnapshot):
    """riskmap's register with the extras: contributors' weights, maturities, row ranges."""
    keys = ["unit_id", "risk_id"]
    out = register.copy()
    if len(contrib):
        spans = contrib.groupby(keys, sort=False)["sheet_row"].agg(["min", "max"])
        spans.columns = ["contributions_from", "contributions_to"]
        used = contrib[contrib["contributes"]]
        weights = used["weight"].map(lambda w: f"{w:g}")
        texts = pd.DataFrame(
            {
                "weights": _joined(weights, [used[k] for k in keys]),
                "maturities": _joined(used["maturity"].astype(int), [used[k] for k in keys]),
            }
        )
        out = out.merge(spans.reset_index(), on=keys, how="left")
        out = out.merge(texts.reset_index(), on=keys, how="left")
    else:
        out = out.assign(
            contributions_from=np.nan, contributions_to=np.nan, weights="", maturities=""
        )
    ratings = snapshot.risk_ratings[["unit_id", "risk_id", "justification", "confirmed"]]
    out = out.merge(ratings.drop_duplicates(keys), on=keys, how="left")
    out["weights"] = out["weights"].fillna("")
    out["maturities"] = out["maturities"].fillna("")
    return out


def write_controls(book: Book, controls: pd.DataFrame) -> Sheet:
    return frame_sheet(
        book, CONTROLS_SHEET, controls, CONTROL_COLUMNS, table="tbl_controls", freeze="E2"
    )


def write_contributions(book: Book, contrib: pd.DataFrame) -> Sheet:
    cols = CONTRIBUTION_COLUMNS
    sheet = book.sheet(CONTRIBUTIONS_SHEET, [c.width for c in cols], freeze="D2")
    cells = book.cells
    headers = [c.name for c in cols]
    sheet.append(cells.header(headers))
    a_col = letter(CONTROL_COLUMNS, "applicable")
    m_col = letter(CONTROL_COLUMNS, "maturity")
    w, a, m = letter(cols, "weight"), letter(cols, "applicable"), letter(cols, "maturity")
    weight = {s: cells.formula(f"=weight_{s}", "fraction") for s in ("low", "medium", "high")}
    fraction = cells.style_id("fraction")
    ids: dict = {}  # ids repeat: each converted (and guarded) once

    def v(value):
        try:
            return ids[value]
        except KeyError:
            ids[value] = cell = cells.value(value)
            return cell

    for unit_id, risk_id, control_id, strength, ctl_row, row in contrib[
        ["unit_id", "risk_id", "control_id", "strength", "row", "sheet_row"]
    ].itertuples(index=False, name=None):
        sheet.append(
            [
                v(unit_id),
                v(risk_id),
                v(control_id),
                strength,
                weight[strength],
                Cell(f"{CONTROLS_SHEET}!${a_col}${ctl_row}", "f", 0),
                Cell(f"{CONTROLS_SHEET}!${m_col}${ctl_row}", "f", 0),
                Cell(f"IF({a}{row},1-{w}{row}*{m}{row}/maturity_max,1)", "f", fraction),
                int(ctl_row),
            ]
        )
    add_table(sheet.ws, "tbl_contributions", headers, len(contrib))
    return sheet


def write_register(book: Book, register: pd.DataFrame, catalogue: Catalogue) -> Sheet:
    headers = REGISTER_HEADER
    sheet = book.sheet(REGISTER_SHEET, [_REGISTER_WIDTHS[h] for h in headers], freeze="F2")
    cells = book.cells
    sheet.append(cells.header(headers))
    c = {n: letter(headers, n) for n in headers}
    lik, imp, inh, red = c["likelihood"], c["impact"], c["inherent"], c["reduction"]
    res_l, res, prod = c["residual_likelihood"], c["residual"], c["product"]
    factor = letter(CONTRIBUTION_COLUMNS, "factor")
    f, v, t = cells.formula, cells.value, cells.text
    data = register.reindex(columns=headers)
    for i, rec in enumerate(data.to_dict("records")):
        r = i + 2
        first, last = rec["contributions_from"], rec["contributions_to"]
        if pd.isna(first):
            product: Any = cells.styled(1, "fraction")
            first = last = None
        else:
            first, last = int(first), int(last)
            product = f(
                f"=PRODUCT({CONTRIBUTIONS_SHEET}!${factor}${first}:${factor}${last})",
                "fraction",
            )
        sheet.append(
            [
                v(rec["unit_id"]),
                t(str(rec["unit"])),
                v(rec["unit_type"]),
                v(rec["region"]),
                v(rec["risk_id"]),
                t(str(rec["risk"])),
                v(rec["stage"]),
                cells.styled(int(rec["likelihood"]), "input"),
                cells.styled(int(rec["impact"]), "input"),
                f(f"={lik}{r}*{imp}{r}", "int"),
                f(f"=MIN(reduction_cap,1-{prod}{r})", "fraction"),
                f(f"=MAX(MIN({lik}{r},likelihood_floor),{lik}{r}*(1-{red}{r}))", "score"),
                f(f"={res_l}{r}*{imp}{r}", "score"),
                f(f"=LOOKUP({inh}{r},band_mins,band_ids)"),
                f(f"=LOOKUP({res}{r},band_mins,band_ids)"),
                t(str(rec["controls"] or "")),
                t(str(rec["weights"] or "")),
                t(str(rec["maturities"] or "")),
                product,
                first,
                last,
                v(rec["justification"], "wrap"),
                v(rec["confirmed"]),
            ]
        )
    add_table(sheet.ws, "tbl_register", headers, len(data))
    if len(data):
        # Scores and bands coloured by band, as on the heat maps (the value is in the cell).
        last = len(data) + 1
        for col in (inh, res):
            for rule in band_rules(catalogue, f"{col}2"):
                sheet.ws.conditional_formatting.add(f"{col}2:{col}{last}", rule)
        for col in (c["inherent_band"], c["residual_band"]):
            for rule in band_rules(catalogue, f"{col}2", by_id=True):
                sheet.ws.conditional_formatting.add(f"{col}2:{col}{last}", rule)
    return sheet
