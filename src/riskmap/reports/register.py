"""The Register, Contributions and Controls sheets: every score a live formula over its inputs.

Layout (row numbers are those of the sheets):

- Controls: one row per unit x control rating; `applicable`, `maturity` and `evidence` are
  inputs; `credited` is the maturity the rule counts (a level above `evidence_required_above`
  with a blank evidence cell counts as that level); `valid_evidence_items` counts the
  rating's items on the Evidence sheet that have not expired, and `evidence_row` (the
  sheet row of the rating's first item there, expired or not) links to that row
  (`riskmap.reports.evidence_sheet`).
- Contributions: one row per unit x risk x control the catalogue links to the risk and
  applies to the unit's type (rated or not), sorted by unit, risk, control. `applicable` and
  `credited` read the Controls row (an unrated control: applicable, maturity 0),
  `weight = weight_<strength> x (key_control_weight if key)`, `credit` reads the credit table
  on Method, `counted = IF(applicable, weight, 0)`, `share = counted x credit`.
- Register: one row per applicable unit x risk, headed with `SCORE_COLUMNS` then the extras;
  `coverage = SUM(share) / SUM(counted)` over that pair's contiguous Contributions rows (0
  when none count), and reduction, residual likelihood, residual and both bands are formulas.

The rows of one unit x risk are contiguous in Contributions, so each sum reads one short
range: no lookup over the whole sheet, which keeps a national ministry quick to recalculate.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from riskmap.catalogue import Catalogue
from riskmap.reports.cells import Cell
from riskmap.reports.evidence_sheet import LINK_COLUMNS, control_links, location
from riskmap.reports.heatmap import band_rules
from riskmap.reports.layout import (
    Col,
    add_table,
    frame_sheet,
    headed_sheet,
    letter,
    records,
    rows_of,
)
from riskmap.reports.snapshot import CycleSnapshot
from riskmap.reports.stream import Book, Sheet
from riskmap.scoring.residual import SCORE_COLUMNS, credited_maturity, has_evidence, links

REGISTER_SHEET = "Register"
CONTRIBUTIONS_SHEET = "Contributions"
CONTROLS_SHEET = "Controls"

REGISTER_EXTRAS = [
    "weights",
    "maturities",
    "credited",
    "contributions_from",
    "contributions_to",
    "justification",
    "confirmed",
]
REGISTER_HEADER = [*SCORE_COLUMNS, *REGISTER_EXTRAS]

_REGISTER_WIDTHS = {
    "unit_code": 10, "unit": 30, "unit_type": 18, "region": 10, "risk_id": 9, "risk": 40,
    "stage": 12, "likelihood": 10, "impact": 9, "inherent": 9, "reduction": 10,
    "residual_likelihood": 11, "residual": 9, "inherent_band": 10, "residual_band": 10,
    "coverage": 10, "controls": 40, "unevidenced": 30, "weights": 18, "maturities": 14,
    "credited": 14, "contributions_from": 12,
    "contributions_to": 12, "justification": 40, "confirmed": 10,
}  # fmt: skip

CONTROL_COLUMNS = [
    Col("unit_code", 10),
    Col("unit", 30),
    Col("unit_type", 18),
    Col("control_id", 24),
    Col("control", 40),
    Col("principle", 10),
    Col("applicable", 11, "input"),
    Col("maturity", 10, "input"),
    Col("maturity_level", 14),
    Col("evidence", 40, "input"),
    Col("credited", 10),
    Col("justification", 40, "wrap"),
    Col("confirmed", 10),
    Col("version", 9),
    Col("valid_evidence_items", 12),
    Col("evidence_row", 12, "link"),
]

CONTRIBUTION_COLUMNS = [
    Col("unit_code", 10),
    Col("risk_id", 9),
    Col("control_id", 24),
    Col("strength", 10),
    Col("key", 7),
    Col("weight", 9, "fraction"),
    Col("applicable", 11),
    Col("credited", 10),
    Col("credit", 9, "fraction"),
    Col("counted", 10, "fraction"),
    Col("share", 10, "fraction"),
    Col("controls_row", 12),
]


def controls_frame(
    snapshot: CycleSnapshot, catalogue: Catalogue, evidence: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The Controls sheet's rows, in order, with the sheet row of each; `evidence` is the
    Evidence sheet's frame (`evidence_sheet.evidence_frame`), whose rows the links name."""
    links = control_links(evidence) if evidence is not None else pd.DataFrame(columns=LINK_COLUMNS)
    cr = snapshot.control_ratings.drop(columns=LINK_COLUMNS[2:], errors="ignore")
    cr = cr.merge(snapshot.units[["unit_code", "unit", "unit_type"]], on="unit_code", how="left")
    cr = cr.merge(links, on=["unit_code", "control_id"], how="left")
    cr["valid_evidence_items"] = cr["valid_evidence_items"].fillna(0).astype(int)
    cr["evidence_row"] = pd.Series(
        [None if pd.isna(v) else int(v) for v in cr["evidence_row"]], index=cr.index, dtype=object
    )
    cr = cr.sort_values(["unit_code", "control_id"], kind="stable", ignore_index=True)
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
    cr["credited"] = credited_maturity(cr["maturity"].fillna(0), has_evidence(cr), catalogue)
    cr["row"] = np.arange(len(cr)) + 2
    return cr


def contributions_frame(
    register: pd.DataFrame, controls: pd.DataFrame, catalogue: Catalogue
) -> pd.DataFrame:
    """One row per scored unit x risk x control counted in its coverage, or rated not
    applicable (so that an auditor who flips `applicable` on Controls sees the effect)."""
    out = links(register, controls, catalogue, include_not_applicable=True)
    rows = controls.drop_duplicates(["unit_code", "control_id"])[["unit_code", "control_id", "row"]]
    out = out.merge(rows, on=["unit_code", "control_id"], how="left")
    out = out.sort_values(["unit_code", "risk_id", "control_id"], ignore_index=True)
    out["sheet_row"] = np.arange(len(out)) + 2
    out["contributes"] = out["applicable"] & (out["credited"] > 0)
    return out


def _joined(values: pd.Series, keys: list[pd.Series]) -> pd.Series:
    return (values.astype(str) + ";").groupby(keys, sort=False).sum().str[:-1]


def register_frame(register: pd.DataFrame, contrib: pd.DataFrame, snapshot: CycleSnapshot):
    """riskmap's register with the extras: contributors' weights, maturities, row ranges."""
    keys = ["unit_code", "risk_id"]
    out = register.copy()
    if len(contrib):
        spans = contrib.groupby(keys, sort=False)["sheet_row"].agg(["min", "max"])
        spans.columns = ["contributions_from", "contributions_to"]
        used = contrib[contrib["applicable"]]
        weights = used["weight"].map(lambda w: f"{w:g}")
        by = [used[k] for k in keys]
        texts = pd.DataFrame(
            {
                "weights": _joined(weights, by),
                "maturities": _joined(used["maturity"].astype(int), by),
                "credited": _joined(used["credited"].astype(int), by),
            }
        )
        out = out.merge(spans.reset_index(), on=keys, how="left")
        out = out.merge(texts.reset_index(), on=keys, how="left")
    else:
        out = out.assign(
            contributions_from=np.nan,
            contributions_to=np.nan,
            weights="",
            maturities="",
            credited="",
        )
    ratings = snapshot.risk_ratings[["unit_code", "risk_id", "justification", "confirmed"]]
    out = out.merge(ratings.drop_duplicates(keys), on=keys, how="left")
    for col in ("weights", "maturities", "credited"):
        out[col] = out[col].fillna("")
    return out


def write_controls(book: Book, controls: pd.DataFrame) -> Sheet:
    """The Controls sheet; `credited` is a formula over the row's maturity and evidence."""
    cols = CONTROL_COLUMNS
    m, ev = letter(cols, "maturity"), letter(cols, "evidence")
    rows = controls["row"].to_numpy()
    credited = [
        book.cells.formula(
            f"=IF(OR(LEN(TRIM({ev}{r}))>0,{m}{r}<=evidence_required_above),{m}{r},"
            "evidence_required_above)",
            "int",
        )
        for r in rows
    ]
    sheet = frame_sheet(
        book, CONTROLS_SHEET, controls, cols, table="tbl_controls", freeze="E2",
        computed={"credited": credited},
    )  # fmt: skip
    link = letter(cols, "evidence_row")
    for r, first in zip(rows, controls["evidence_row"], strict=True):
        if not pd.isna(first):
            sheet.link(f"{link}{r}", location(first))
    return sheet


def write_contributions(book: Book, contrib: pd.DataFrame) -> Sheet:
    cols = CONTRIBUTION_COLUMNS
    sheet, headers = headed_sheet(book, CONTRIBUTIONS_SHEET, cols, freeze="D2")
    cells = book.cells
    a_col = letter(CONTROL_COLUMNS, "applicable")
    c_col = letter(CONTROL_COLUMNS, "credited")
    col = {c.name: letter(cols, c.name) for c in cols}
    fraction = cells.style_id("fraction")
    ids: dict = {}  # ids repeat: each converted (and guarded) once

    def v(value):
        try:
            return ids[value]
        except KeyError:
            ids[value] = cell = cells.value(value)
            return cell

    for unit_id, risk_id, control_id, strength, key, ctl_row, row in rows_of(
        contrib, ["unit_code", "risk_id", "control_id", "strength", "key", "row", "sheet_row"]
    ):
        k, w, a, cr = col["key"], col["weight"], col["applicable"], col["credited"]
        if pd.isna(ctl_row):  # linked but not rated: counts as not in place
            applicable: Any = True
            credited: Any = 0
            ctl_row = None
        else:
            ctl_row = int(ctl_row)
            applicable = Cell(f"{CONTROLS_SHEET}!${a_col}${ctl_row}", "f", 0)
            credited = Cell(f"{CONTROLS_SHEET}!${c_col}${ctl_row}", "f", 0)
        sheet.append(
            [
                v(unit_id),
                v(risk_id),
                v(control_id),
                strength,
                bool(key),
                Cell(f"weight_{strength}*IF({k}{row},key_control_weight,1)", "f", fraction),
                applicable,
                credited,
                Cell(f"INDEX(credit_table,{cr}{row}-maturity_min+1)", "f", fraction),
                Cell(f"IF({a}{row},{w}{row},0)", "f", fraction),
                Cell(f"{col['counted']}{row}*{col['credit']}{row}", "f", fraction),
                ctl_row,
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
    res_l, res, cov = c["residual_likelihood"], c["residual"], c["coverage"]
    counted = letter(CONTRIBUTION_COLUMNS, "counted")
    share = letter(CONTRIBUTION_COLUMNS, "share")
    band = _band_formula(catalogue)
    f, v, t = cells.formula, cells.value, cells.text
    data = register.reindex(columns=headers)
    for i, rec in enumerate(records(data)):
        r = i + 2
        first, last = rec["contributions_from"], rec["contributions_to"]
        if pd.isna(first):
            coverage: Any = f("=0", "fraction")
            first = last = None
        else:
            first, last = int(first), int(last)
            w_sum = f"SUM({CONTRIBUTIONS_SHEET}!${counted}${first}:${counted}${last})"
            s_sum = f"SUM({CONTRIBUTIONS_SHEET}!${share}${first}:${share}${last})"
            coverage = f(f"=IF({w_sum}=0,0,{s_sum}/{w_sum})", "fraction")
        sheet.append(
            [
                v(rec["unit_code"]),
                t(str(rec["unit"])),
                v(rec["unit_type"]),
                v(rec["region"]),
                v(rec["risk_id"]),
                t(str(rec["risk"])),
                v(rec["stage"]),
                cells.styled(int(rec["likelihood"]), "input"),
                cells.styled(int(rec["impact"]), "input"),
                f(f"={lik}{r}*{imp}{r}", "int"),
                coverage,
                f(f"=max_reduction*{cov}{r}", "fraction"),
                f(f"={lik}{r}*(1-{red}{r})", "score"),
                f(f"={res_l}{r}*{imp}{r}", "score"),
                f(band(f"{inh}{r}", f"{lik}{r}", f"{imp}{r}")),
                f(band(f"{res}{r}", f"{res_l}{r}", f"{imp}{r}")),
                t(str(rec["controls"] or "")),
                t(str(rec["unevidenced"] or "")),
                t(str(rec["weights"] or "")),
                t(str(rec["maturities"] or "")),
                t(str(rec["credited"] or "")),
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


def _band_formula(catalogue: Catalogue):
    """The band formula of a score: thresholds, or the declared matrix cell where there is one
    (likelihood placed at the nearest level, halves up, as riskmap does)."""

    def thresholds(score: str, likelihood: str, impact: str) -> str:
        return f"=LOOKUP({score},band_mins,band_ids)"

    if catalogue.method.band_matrix is None:
        return thresholds

    def matrix(score: str, likelihood: str, impact: str) -> str:
        row = f"MAX(1,MIN(likelihood_levels,ROUND({likelihood},0)-likelihood_min+1))"
        cell = f"INDEX(band_matrix,{row},{impact}-impact_min+1)"
        return f'=IF({cell}="",LOOKUP({score},band_mins,band_ids),{cell})'

    return matrix
