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
from riskmap.reports.columns import (
    Numbers,
    Values,
    Where,
    append_columns,
    digits,
    formulas,
    numbers,
    where,
    with_rows,
)
from riskmap.reports.evidence_sheet import LINK_COLUMNS, control_links, location
from riskmap.reports.heatmap import band_rules
from riskmap.reports.layout import (
    Col,
    add_table,
    frame_sheet,
    headed_sheet,
    letter,
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
    first = cr["evidence_row"]
    rows = np.full(len(cr), None, dtype=object)  # an int (a link) or None (no item)
    rows[first.notna().to_numpy()] = first.dropna().astype(int).tolist()
    cr["evidence_row"] = pd.Series(rows, index=cr.index, dtype=object)
    cr = cr.sort_values(["unit_code", "control_id"], kind="stable", ignore_index=True)
    by_id = catalogue.control_by_id
    levels = catalogue.method.maturity.levels
    # Looked up once per distinct id or level, not once per rating.
    ids = cr["control_id"]
    cr["control"] = _per_distinct(
        ids, lambda c: by_id[c].name if c in by_id else "(not in the catalogue)"
    )
    cr["principle"] = _per_distinct(ids, lambda c: by_id[c].principle if c in by_id else "")
    cr["maturity_level"] = _per_distinct(
        cr["maturity"],
        lambda m: levels[int(m)].name if not pd.isna(m) and int(m) in levels else "",
    )
    cr["applicable"] = cr["applicable"].astype(bool)
    cr["credited"] = credited_maturity(cr["maturity"].fillna(0), has_evidence(cr), catalogue)
    cr["row"] = np.arange(len(cr)) + 2
    return cr


def _per_distinct(values: pd.Series, rule: Any) -> pd.Series:
    """`values.map(rule)`, `rule` asked once per distinct value (a national ministry has
    320,000 control ratings of some 60 controls)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    made = [rule(v) for v in uniques.tolist()]
    return pd.Series(np.array(made, dtype=object)[codes], index=values.index).astype("str")


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
        weights = _per_distinct(used["weight"], lambda w: f"{w:g}")
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
    r = digits(rows)
    credited = formulas(
        book, "int", f"=IF(OR(LEN(TRIM({ev}", r, f"))>0,{m}", r,
        f"<=evidence_required_above),{m}", r, ",evidence_required_above)",
    )  # fmt: skip
    sheet = frame_sheet(
        book, CONTROLS_SHEET, controls, cols, table="tbl_controls", freeze="E2",
        computed={"credited": credited},
    )  # fmt: skip
    link = letter(cols, "evidence_row")
    linked = controls["evidence_row"].notna().to_numpy()
    for r, first in zip(rows[linked], controls["evidence_row"][linked], strict=True):
        sheet.link(f"{link}{r}", location(first))
    return sheet


def write_contributions(book: Book, contrib: pd.DataFrame) -> Sheet:
    """The Contributions sheet, a column at a time (`riskmap.reports.columns`): a rated
    control's `applicable` and `credited` read its Controls row; a linked but unrated one
    counts as applicable and not in place (True, 0)."""
    cols = CONTRIBUTION_COLUMNS
    sheet, headers = headed_sheet(book, CONTRIBUTIONS_SHEET, cols, freeze="D2")
    value = book.cells.value
    a_col = letter(CONTROL_COLUMNS, "applicable")
    c_col = letter(CONTROL_COLUMNS, "credited")
    col = {c.name: letter(cols, c.name) for c in cols}
    k, w, a, cr = col["key"], col["weight"], col["applicable"], col["credited"]
    row = digits(contrib["sheet_row"].to_numpy())
    rated = contrib["row"].notna().to_numpy()
    rows = contrib["row"].fillna(0).to_numpy().astype(np.int64)
    ctl_row = digits(rows)
    append_columns(
        sheet,
        [
            Values(contrib["unit_code"], value),
            Values(contrib["risk_id"], value),
            Values(contrib["control_id"], value),
            Values(contrib["strength"]),
            Values(contrib["key"], bool),
            formulas(
                book,
                "fraction",
                "=weight_",
                contrib["strength"].to_numpy(),
                f"*IF({k}",
                row,
                ",key_control_weight,1)",
            ),  # fmt: skip
            where(rated, formulas(book, None, f"={CONTROLS_SHEET}!${a_col}$", ctl_row), True, book),
            where(rated, formulas(book, None, f"={CONTROLS_SHEET}!${c_col}$", ctl_row), 0, book),
            formulas(book, "fraction", "=INDEX(credit_table,", cr, row, "-maturity_min+1)"),
            formulas(book, "fraction", f"=IF({a}", row, f",{w}", row, ",0)"),
            formulas(book, "fraction", f"={col['counted']}", row, f"*{col['credit']}", row),
            numbers(rows, rated),
        ],
    )
    add_table(sheet.ws, "tbl_contributions", headers, len(contrib))
    return sheet


def write_register(book: Book, register: pd.DataFrame, catalogue: Catalogue) -> Sheet:
    """The Register sheet, a column at a time (`riskmap.reports.columns`): inputs, then every
    score a formula over them, the Method's names and the pair's Contributions rows."""
    headers = REGISTER_HEADER
    sheet = book.sheet(REGISTER_SHEET, [_REGISTER_WIDTHS[h] for h in headers], freeze="F2")
    cells = book.cells
    sheet.append(cells.header(headers))
    c = {n: letter(headers, n) for n in headers}
    lik, imp, inh, red = c["likelihood"], c["impact"], c["inherent"], c["reduction"]
    res_l, res, cov = c["residual_likelihood"], c["residual"], c["coverage"]
    data = register.reindex(columns=headers)
    r = digits(np.arange(len(data)) + 2)
    v, t = cells.value, cells.text

    def column(name: str, convert: Any) -> Values:
        return Values(data[name], convert)

    def text(x: Any) -> Any:
        return t(str(x))

    def text_or_empty(x: Any) -> Any:
        return t(str(x or ""))

    band = _band_formula(catalogue)
    mark = "\x00"
    append_columns(
        sheet,
        [
            column("unit_code", v),
            column("unit", text),
            column("unit_type", v),
            column("region", v),
            column("risk_id", v),
            column("risk", text),
            column("stage", v),
            column("likelihood", lambda x: cells.styled(int(x), "input")),
            column("impact", lambda x: cells.styled(int(x), "input")),
            formulas(book, "int", f"={lik}", r, f"*{imp}", r),
            _coverage(book, data),
            formulas(book, "fraction", f"=max_reduction*{cov}", r),
            formulas(book, "score", f"={lik}", r, f"*(1-{red}", r, ")"),
            formulas(book, "score", f"={res_l}", r, f"*{imp}", r),
            formulas(book, None, *with_rows(band(inh + mark, lik + mark, imp + mark), mark, r)),
            formulas(book, None, *with_rows(band(res + mark, res_l + mark, imp + mark), mark, r)),
            column("controls", text_or_empty),
            column("unevidenced", text_or_empty),
            column("weights", text_or_empty),
            column("maturities", text_or_empty),
            column("credited", text_or_empty),
            _span_end(data["contributions_from"]),
            _span_end(data["contributions_to"]),
            column("justification", lambda x: v(x, "wrap")),
            column("confirmed", v),
        ],
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


def _span_end(rows: pd.Series) -> Numbers:
    """The first or last Contributions row of each pair, none for a pair without."""
    return numbers(rows.fillna(0).to_numpy(), rows.notna().to_numpy())


def _coverage(book: Book, data: pd.DataFrame) -> Where:
    """`coverage`: the pair's weighted credit over its contiguous Contributions rows, 0 for
    a pair with none."""
    counted = letter(CONTRIBUTION_COLUMNS, "counted")
    share = letter(CONTRIBUTION_COLUMNS, "share")
    spans = data["contributions_from"].notna().to_numpy()
    first = digits(data["contributions_from"].fillna(0).to_numpy())
    last = digits(data["contributions_to"].fillna(0).to_numpy())
    sheet = CONTRIBUTIONS_SHEET
    w_sum = [f"SUM({sheet}!${counted}$", first, f":${counted}$", last, ")"]
    s_sum = [f"SUM({sheet}!${share}$", first, f":${share}$", last, ")"]
    ratio = formulas(book, "fraction", "=IF(", *w_sum, "=0,0,", *s_sum, "/", *w_sum, ")")
    return where(spans, ratio, book.cells.formula("=0", "fraction"), book)


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
