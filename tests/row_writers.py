"""The sheet writers as they were before the column path (bd09cab): the tests' reference.

A row at a time, every cell converted by `riskmap.reports.cells` and written by
`Sheet.append`, exactly as the workbook and the questionnaire were written until the big
sheets went through `riskmap.reports.columns`. tests/test_reports_columns.py builds the
same workbooks with these in place of the new writers and compares every sheet.
Do not make these faster: they are the reference.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter

from riskmap.catalogue import Catalogue
from riskmap.reports.cells import Cell, CellMaker
from riskmap.reports.evidence_sheet import LINK_COLUMNS, control_links, location
from riskmap.reports.heatmap import NOT_APPLICABLE, UNIT_HEADERS, band_rules
from riskmap.reports.layout import Col, add_table, headed_sheet, letter
from riskmap.reports.questionnaire_layout import column_letter
from riskmap.reports.questionnaire_rows import checklist, level_text, maturity_text, yes_no
from riskmap.reports.register import (
    _REGISTER_WIDTHS,
    CONTRIBUTION_COLUMNS,
    CONTRIBUTIONS_SHEET,
    CONTROL_COLUMNS,
    CONTROLS_SHEET,
    REGISTER_HEADER,
    REGISTER_SHEET,
    _band_formula,
    _joined,
)
from riskmap.reports.snapshot import CycleSnapshot
from riskmap.reports.stream import Book, Sheet, wrapped_height
from riskmap.scoring.residual import credited_maturity, has_evidence, links


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


def frame_sheet(
    book: Book,
    title: str,
    frame: pd.DataFrame,
    columns: list[Col],
    *,
    table: str | None = None,
    freeze: str = "A2",
    computed: dict[str, list] | None = None,
) -> Sheet:
    """A sheet of `frame`'s `columns` (missing ones empty), one row per record, as a table;
    `computed` gives a column's cells ready made (a live formula per row)."""
    sheet, headers = headed_sheet(book, title, columns, freeze=freeze)
    cells = book.cells
    data = frame.reindex(columns=headers)
    ready = computed or {}
    converted = [
        ready[c.name] if c.name in ready else column_cells(cells, data[c.name], c.style)
        for c in columns
    ]
    for record in zip(*converted, strict=True):
        sheet.append(record)
    if table:
        add_table(sheet.ws, table, headers, len(data))
    return sheet


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """`frame.to_dict("records")`, the same dicts of Python values, built four times faster
    from each column's `tolist()` (pandas boxes every value of every row one at a time)."""
    names = list(frame.columns)
    columns = [frame.iloc[:, i].tolist() for i in range(frame.shape[1])]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def rows_of(frame: pd.DataFrame, columns: list[str]) -> zip:
    """The rows of `frame[columns]` as tuples of Python values (`itertuples(index=False,
    name=None)`, faster: each column converted whole)."""
    return zip(*(frame[c].tolist() for c in columns), strict=True)


def column_cells(cells: CellMaker, series: pd.Series, style: str | None) -> list[Any]:
    """The cells of a column: each distinct value converted once (names repeat a lot)."""
    seen: dict[Any, Any] = {}
    out = []
    value = cells.value
    for v in series.tolist():
        try:
            out.append(seen[v])
        except KeyError:
            seen[v] = cell = value(v, style)
            out.append(cell)
        except TypeError:  # unhashable (a dict of an audit event, say)
            out.append(value(v, style))
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
    scores = dict(
        zip(
            zip(register["unit_code"], register["risk_id"], strict=True),
            register[column],
            strict=True,
        )
    )
    not_applicable = {
        (u, r)
        for u, r, a in risk_ratings[["unit_code", "risk_id", "applicable"]].itertuples(
            index=False, name=None
        )
        if not bool(a)
    }
    style = "int" if column == "inherent" else "score"
    ordered = units.sort_values("unit_code", kind="stable")
    for unit_id, unit, unit_type, region in ordered[UNIT_HEADERS].itertuples(
        index=False, name=None
    ):
        row = [
            cells.value(unit_id),
            cells.value(unit),
            cells.value(unit_type),
            cells.value(region),
        ]
        for risk in risks:
            key = (unit_id, risk)
            value = scores.get(key)
            if value is not None:
                row.append(cells.styled(float(value), style))
            elif key in not_applicable:
                row.append(NOT_APPLICABLE)
            else:
                row.append(None)
        sheet.append(row)
    last_col = get_column_letter(len(UNIT_HEADERS) + max(len(risks), 1))
    last_row = len(ordered) + 1
    if risks and len(ordered):
        target = f"E2:{last_col}{last_row}"
        for rule in band_rules(catalogue, "E2"):
            ws.conditional_formatting.add(target, rule)
    ws.auto_filter.ref = f"A1:{last_col}{max(last_row, 2)}"
    return sheet


def risk_rows(book, sheet, rr, info, catalogue, fields) -> None:
    cells = book.cells
    t, v = cells.text, cells.value
    m = catalogue.method
    widths = {f.key: f.width for f in fields}
    titles = {r.id: r.title for r in catalogue.risks}
    lik, imp = column_letter(fields, "likelihood"), column_letter(fields, "impact")
    for rec in records(rr):
        r = sheet.rows + 1
        code, name, utype = info[rec["unit_code"]]
        sheet.append(
            [
                v(code),
                v(name),
                v(utype),
                v(rec["risk_id"]),
                t(titles.get(rec["risk_id"], "(not in the catalogue)"), "wrap"),
                cells.text(yes_no(rec["applicable"]), "answer"),
                cells.styled(int(rec["likelihood"]), "answer"),
                cells.formula(f'=IFERROR(VLOOKUP({lik}{r}&"",likelihood_defs,2,FALSE),"")', "wrap"),
                cells.styled(int(rec["impact"]), "answer"),
                cells.formula(f'=IFERROR(VLOOKUP({imp}{r}&"",impact_defs,2,FALSE),"")', "wrap"),
                cells.text(str(rec["justification"] or ""), "answer_text"),
                v(rec["unit_code"]),
                v(rec["risk_id"]),
                int(rec["version"]),
                yes_no(rec["applicable"]),
                int(rec["likelihood"]),
                int(rec["impact"]),
                t(str(rec["justification"] or "")),
            ],
            height=wrapped_height(
                [
                    (
                        level_text(m.likelihood, int(rec["likelihood"])),
                        widths["likelihood_meaning"],
                    ),
                    (level_text(m.impact, int(rec["impact"])), widths["impact_meaning"]),
                ]
            ),
        )


def control_rows(book, sheet, cr, info, catalogue, fields) -> None:
    cells = book.cells
    t, v = cells.text, cells.value
    widths = {f.key: f.width for f in fields}
    by_id = catalogue.control_by_id
    mat, ctl = column_letter(fields, "maturity"), column_letter(fields, "control_id")
    for rec in records(cr):
        r = sheet.rows + 1
        code, name, utype = info[rec["unit_code"]]
        control = by_id.get(rec["control_id"])
        sheet.append(
            [
                v(code),
                v(name),
                v(utype),
                v(rec["control_id"]),
                t(control.name if control else "(not in the catalogue)", "wrap"),
                cells.text(yes_no(rec["applicable"]), "answer"),
                cells.styled(int(rec["maturity"]), "answer"),
                cells.formula(
                    f'=IFERROR(VLOOKUP({ctl}{r}&"|"&{mat}{r},maturity_defs,2,FALSE),"")', "wrap"
                ),
                cells.text(str(rec["evidence"] or ""), "answer_text"),
                cells.text(str(rec["justification"] or ""), "answer_text"),
                t(checklist(control), "wrap"),
                v(rec["unit_code"]),
                v(rec["control_id"]),
                int(rec["version"]),
                yes_no(rec["applicable"]),
                int(rec["maturity"]),
                t(str(rec["evidence"] or "")),
                t(str(rec["justification"] or "")),
                cells.text(str(rec.get("evidence_references") or ""), "answer_text"),
            ],
            height=wrapped_height(
                [
                    (
                        maturity_text(catalogue, control, int(rec["maturity"])),
                        widths["maturity_meaning"],
                    )
                ]
            ),
        )
