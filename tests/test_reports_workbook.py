"""The auditor's workbook: sheets, the Register's live formulas, heat map colours, safety.

LibreOffice recalculates the same workbook in tests/test_reports_libreoffice.py; here the
workbook is read back with openpyxl, and the Register's arithmetic is replayed in Python
from the cells the formulas read, so the layout is checked without a spreadsheet program.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime

import pandas as pd
import pytest
from openpyxl import load_workbook

import synthetic
import worked_example
from riskmap.catalogue import load_catalogue
from riskmap.planning import plan
from riskmap.reports import SHEETS, CycleSnapshot, export_workbook
from riskmap.reports.register import REGISTER_EXTRAS
from riskmap.scoring import SCORE_COLUMNS, score
from test_methodology_example import doc_number

INJECTED = [
    '=HYPERLINK("http://evil.example","click")',
    "+1",
    "-1",
    "@SUM(1)",
    "\tX",
    "\rX",
    "=1+1",
]

# Where riskmap writes formulas, and nowhere else.
FORMULA_COLUMNS = {
    "Register": {
        "inherent", "coverage", "reduction", "residual_likelihood", "residual", "inherent_band",
        "residual_band",
    },
    "Contributions": {"weight", "applicable", "credited", "credit", "counted", "share"},
    "Controls": {"credited"},
}  # fmt: skip
# Where riskmap itself writes a SUM (the coverage over a pair's Contributions rows).
SUM_COLUMNS = {("Register", "coverage")}


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def injected_snapshot(catalogue, units: int = 30, seed: int = 11) -> CycleSnapshot:
    """A synthetic cycle whose user-typed texts include formula-looking strings."""
    m = synthetic.ministry(catalogue, units=units, seed=seed)
    n = len(INJECTED)
    unit_frame = m.units.copy()
    unit_frame.loc[: n - 1, "unit"] = INJECTED
    unit_frame["code"] = unit_frame["unit_code"]
    rr = m.risk_ratings.assign(justification="", confirmed=True, version=1)
    applicable = rr.index[rr["applicable"]]
    rr.loc[applicable[:n], "justification"] = INJECTED
    cr = m.control_ratings.assign(evidence="", justification="", confirmed=False, version=2)
    cr.loc[: n - 1, "evidence"] = INJECTED
    cr.loc[n : 2 * n - 1, "justification"] = INJECTED
    register = score(m.risk_ratings, m.control_ratings, m.units, catalogue)
    p = plan(register, m.control_ratings, m.units, m.risk_ratings, catalogue, budget_days=200,
             start=date(2025, 3, 1))  # fmt: skip
    actions = p.actions.assign(owner="", status="planned", notes="", indicator="")
    k = min(n, len(actions))
    actions.loc[: k - 1, "notes"] = INJECTED[:k]
    actions.loc[: k - 1, "owner"] = INJECTED[:k]
    incidents = m.incidents.assign(kind="complaint", description="")
    incidents.loc[: n - 1, "description"] = INJECTED[: len(incidents)]
    audit = pd.DataFrame(
        [
            {
                "id": i + 1,
                "at": datetime(2025, 1, 10, 8, i, tzinfo=UTC),
                "actor": "officer",
                "action": "risk_rating.save",
                "entity": "risk_rating",
                "entity_id": f"2025/U0001/BOR-0{i}",
                "before": {"justification": text},
                "after": text,
                "reason": text,
            }
            for i, text in enumerate(INJECTED)
        ]
    )
    return CycleSnapshot(
        organisation="Ministry of the Interior",
        cycle_label="2025",
        status="approved",
        catalogue_version=catalogue.version,
        units=unit_frame,
        risk_ratings=rr,
        control_ratings=cr,
        actions=actions,
        incidents=incidents,
        audit_events=audit,
        drafted_by="officer",
        drafted_at=datetime(2025, 1, 6, 9, 0, tzinfo=UTC),
        submitted_by="officer",
        submitted_at=datetime(2025, 2, 1, 9, 0, tzinfo=UTC),
        reviewed_by="reviewer",
        reviewed_at=datetime(2025, 2, 3, 9, 0, tzinfo=UTC),
        approved_by="manager",
        approved_at=datetime(2025, 2, 5, 9, 0, tzinfo=UTC),
        generated_at=datetime(2025, 2, 6, 9, 0, tzinfo=UTC),
    )


def example_snapshot(catalogue) -> CycleSnapshot:
    """docs/methodology.md's worked example: Border post North, two risks, three controls."""
    units, risks, controls = worked_example.border_post(catalogue, justification=True)
    return CycleSnapshot(
        organisation="Example ministry",
        cycle_label="example",
        status="draft",
        catalogue_version=catalogue.version,
        units=units,
        risk_ratings=risks,
        control_ratings=controls,
    )


def register_of(snapshot: CycleSnapshot, catalogue) -> pd.DataFrame:
    return score(snapshot.risk_ratings, snapshot.control_ratings, snapshot.units, catalogue)


@pytest.fixture(scope="module")
def snapshot(catalogue):
    return injected_snapshot(catalogue)


@pytest.fixture(scope="module")
def workbook(snapshot, catalogue):
    return load_workbook(io.BytesIO(export_workbook(snapshot, catalogue)))


def header(ws) -> list:
    return [c.value for c in ws[1]]


def rows(ws) -> list[dict]:
    names = header(ws)
    return [dict(zip(names, r, strict=False)) for r in ws.iter_rows(min_row=2)]


# --- structure ----------------------------------------------------------------------------


def test_sheets_present(workbook):
    assert workbook.sheetnames == SHEETS
    assert SHEETS[:5] == ["Summary", "Method", "Heat map inherent", "Heat map residual", "Register"]
    for name in ("Controls", "Plan", "Incidents", "Audit trail", "Catalogue"):
        assert name in SHEETS


def test_register_header_is_score_columns_plus_extras(workbook):
    assert header(workbook["Register"]) == SCORE_COLUMNS + REGISTER_EXTRAS


def test_register_rows_match_riskmap(workbook, snapshot, catalogue):
    expected = register_of(snapshot, catalogue)
    got = rows(workbook["Register"])
    assert len(got) == len(expected)
    for row, (_, want) in zip(got, expected.iterrows(), strict=True):
        for col in ("unit_code", "unit_type", "risk_id", "stage", "likelihood", "impact"):
            assert row[col].value == want[col], col
        assert row["unit"].value == want["unit"]
        assert (row["controls"].value or "") == want["controls"]


def test_scores_are_live_formulas_over_inputs_and_named_cells(workbook):
    ws = workbook["Register"]
    first = rows(ws)[0]
    r = first["inherent"].row
    assert first["inherent"].value == f"=H{r}*I{r}"
    assert first["reduction"].value == f"=max_reduction*K{r}"
    assert first["residual_likelihood"].value == f"=H{r}*(1-L{r})"
    assert first["residual"].value == f"=M{r}*I{r}"
    assert first["inherent_band"].value == f"=LOOKUP(J{r},band_mins,band_ids)"
    assert first["residual_band"].value == f"=LOOKUP(N{r},band_mins,band_ids)"
    for row in rows(ws):
        for col in FORMULA_COLUMNS["Register"]:
            assert row[col].data_type == "f", (row["unit_code"].value, col)
        if row["contributions_from"].value is not None:
            a, b = row["contributions_from"].value, row["contributions_to"].value
            w, sh = f"SUM(Contributions!$J${a}:$J${b})", f"SUM(Contributions!$K${a}:$K${b})"
            assert row["coverage"].value == f"=IF({w}=0,0,{sh}/{w})"
    contrib = rows(workbook["Contributions"])[0]
    assert re.fullmatch(
        r"=weight_(low|medium|high)\*IF\(E2,key_control_weight,1\)", contrib["weight"].value
    )
    assert re.fullmatch(r"=Controls!\$G\$\d+", contrib["applicable"].value)
    assert re.fullmatch(r"=Controls!\$K\$\d+", contrib["credited"].value)
    assert contrib["credit"].value == "=INDEX(credit_table,H2-maturity_min+1)"
    assert contrib["counted"].value == "=IF(G2,F2,0)"
    assert contrib["share"].value == "=J2*I2"
    ctl = rows(workbook["Controls"])[0]
    r = ctl["credited"].row
    assert ctl["credited"].value == (
        f"=IF(OR(LEN(TRIM(J{r}))>0,H{r}<=evidence_required_above),H{r},evidence_required_above)"
    )


def test_method_sheet_names_the_parameters(workbook, catalogue):
    method = catalogue.method
    expected = {
        "max_reduction": method.rule.max_reduction,
        "evidence_required_above": method.rule.evidence_required_above,
        "key_control_weight": method.rule.key_control_weight,
        "maturity_max": method.maturity.max,
        "maturity_min": method.maturity.min,
        **{f"weight_{k}": v for k, v in method.strengths.items()},
    }
    for name, value in expected.items():
        ((sheet, ref),) = workbook.defined_names[name].destinations
        assert sheet == "Method"
        assert workbook["Method"][ref.replace("$", "")].value == value, name
    ((_, ids),) = workbook.defined_names["band_ids"].destinations
    ((_, mins),) = workbook.defined_names["band_mins"].destinations
    ((_, credits),) = workbook.defined_names["credit_table"].destinations
    ws = workbook["Method"]
    assert [c.value for (c,) in ws[ids.replace("$", "")]] == [b.id for b in method.bands]
    assert [c.value for (c,) in ws[mins.replace("$", "")]] == [b.min for b in method.bands]
    assert [c.value for (c,) in ws[credits.replace("$", "")]] == [
        method.rule.credit[m] for m in sorted(method.rule.credit)
    ]
    text = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    for level in (*method.likelihood.levels.values(), *method.maturity.levels.values()):
        assert level.definition in text
    assert "coverage = SUM(weight x credit) / SUM(weight)" in text
    # Every number of the method with its reason.
    for param in method.parameters():
        assert param.path in text and param.rationale in text, param.path


def replay(workbook) -> pd.DataFrame:
    """The Register's formulas evaluated in Python, from the very cells they read."""
    method_ws = workbook["Method"]

    def named(name):
        ((_, ref),) = workbook.defined_names[name].destinations
        return method_ws[ref.replace("$", "")].value

    max_reduction = named("max_reduction")
    evidence_level, key_weight = named("evidence_required_above"), named("key_control_weight")
    ((_, ref),) = workbook.defined_names["credit_table"].destinations
    credit_table = [c.value for (c,) in method_ws[ref.replace("$", "")]]
    low = named("maturity_min")
    weights = {k: named(f"weight_{k}") for k in ("low", "medium", "high")}
    controls = workbook["Controls"]
    contrib = workbook["Contributions"]
    counted, shares = {}, {}
    for row in rows(contrib):
        if row["controls_row"].value is None:  # linked, never rated: not in place
            applicable, credited = True, 0
        else:
            ctl_row = row["controls_row"].value
            applicable = controls[f"G{ctl_row}"].value
            maturity = controls[f"H{ctl_row}"].value
            evidence = (controls[f"J{ctl_row}"].value or "").strip()
            credited = maturity if evidence or maturity <= evidence_level else evidence_level
        w = weights[row["strength"].value] * (key_weight if row["key"].value else 1)
        counted[row["counted"].row] = w if applicable else 0
        shares[row["counted"].row] = counted[row["counted"].row] * credit_table[credited - low]
    out = []
    for row in rows(workbook["Register"]):
        coverage = 0.0
        if row["contributions_from"].value is not None:
            span = range(row["contributions_from"].value, row["contributions_to"].value + 1)
            total = sum(counted[r] for r in span)
            coverage = sum(shares[r] for r in span) / total if total else 0.0
        lik, imp = row["likelihood"].value, row["impact"].value
        reduction = max_reduction * coverage
        out.append(
            {
                "unit_code": row["unit_code"].value,
                "risk_id": row["risk_id"].value,
                "inherent": lik * imp,
                "coverage": coverage,
                "reduction": reduction,
                "residual": lik * (1 - reduction) * imp,
            }
        )
    return pd.DataFrame(out)


def test_formulas_replayed_from_their_cells_give_riskmaps_scores(workbook, snapshot, catalogue):
    expected = register_of(snapshot, catalogue)
    got = replay(workbook)
    assert got[["unit_code", "risk_id"]].values.tolist() == (
        expected[["unit_code", "risk_id"]].values.tolist()
    )
    for col in ("inherent", "coverage", "reduction", "residual"):
        assert got[col].to_numpy() == pytest.approx(expected[col].to_numpy(), abs=1e-9), col


def test_unevidenced_levels_are_shown_and_credited_lower(workbook, snapshot, catalogue):
    """Credit needs evidence: the Register names the controls claimed above the evidence
    level without evidence, as riskmap's register does."""
    expected = register_of(snapshot, catalogue).set_index(["unit_code", "risk_id"])["unevidenced"]
    got = {
        (r["unit_code"].value, r["risk_id"].value): r["unevidenced"].value or ""
        for r in rows(workbook["Register"])
    }
    assert got == expected.to_dict()


def test_worked_example_of_the_methodology(catalogue):
    wb = load_workbook(io.BytesIO(export_workbook(example_snapshot(catalogue), catalogue)))
    got = replay(wb).set_index("risk_id")
    for risk in ("BOR-01", "BOR-03"):
        assert got.loc[risk, "reduction"] == pytest.approx(doc_number(f"{risk} reduction"))
        assert got.loc[risk, "residual"] == pytest.approx(doc_number(f"{risk} residual"))
    register = {r["risk_id"].value: r for r in rows(wb["Register"])}
    assert register["BOR-01"]["controls"].value == "staff_rotation;supervision"
    assert register["BOR-01"]["unevidenced"].value == "supervision"
    assert register["BOR-01"]["maturities"].value == "2;3"
    assert register["BOR-01"]["credited"].value == "2;1"
    na = rows(wb["Risks not applicable"])
    # Every other risk of the unit type, whatever the catalogue holds (v2 added EXP-12, EXP-14).
    others = {r.id for r in catalogue.risks_for(worked_example.UNIT_TYPE)}
    others -= set(worked_example.APPLICABLE_RISKS)
    assert {"BOR-02", "BOR-04", "EXP-06", "EXP-07", "PRO-02"} <= others
    assert {r["risk_id"].value for r in na} == others
    assert all(r["justification"].value == "Not at this post" for r in na)


# --- heat maps ----------------------------------------------------------------------------


@pytest.mark.parametrize("title,column", [("Heat map inherent", "inherent"),
                                          ("Heat map residual", "residual")])  # fmt: skip
def test_heat_map_values_and_band_colours(workbook, snapshot, catalogue, title, column):
    ws = workbook[title]
    names = header(ws)
    assert names[:4] == ["unit_code", "unit", "unit_type", "region"]
    expected = register_of(snapshot, catalogue).set_index(["unit_code", "risk_id"])[column]
    seen = 0
    for row in ws.iter_rows(min_row=2):
        unit_id = row[0].value
        for risk_id, cell in zip(names[4:], row[4:], strict=True):
            if (unit_id, risk_id) in expected.index:
                assert cell.value == pytest.approx(expected[(unit_id, risk_id)], abs=1e-12)
                seen += 1
            else:
                assert cell.value in (None, "n/a")
    assert seen == len(expected)
    ((cf_range, rules),) = [(str(cf.sqref), cf.rules) for cf in ws.conditional_formatting]
    assert cf_range.startswith("E2:")
    bands = catalogue.method.bands
    assert len(rules) == len(bands)
    for rule, band in zip(rules, bands, strict=True):
        colour = "FF" + band.color.lstrip("#").upper()
        assert rule.dxf.fill.fgColor.rgb == colour and rule.dxf.fill.bgColor.rgb == colour
        assert rule.dxf.font.color.rgb == "FF" + band.text_color.lstrip("#").upper()
        assert f"E2>={band.min:g}" in rule.formula[0]
    assert ws.freeze_panes == "E2"
    assert ws.auto_filter.ref.startswith("A1:")


# --- readability --------------------------------------------------------------------------


def test_readable_tables_frozen_headers_widths_print_titles(workbook):
    tables = {name for ws in workbook for name in ws.tables}
    assert {"tbl_register", "tbl_contributions", "tbl_controls", "tbl_plan", "tbl_incidents",
            "tbl_audit", "tbl_catalogue"} <= tables  # fmt: skip
    for name in ("Register", "Contributions", "Controls", "Plan", "Audit trail", "Catalogue"):
        ws = workbook[name]
        assert ws.freeze_panes is not None, name
        assert ws.print_title_rows == "$1:$1", name
        assert ws.column_dimensions["B"].width > 8, name
        (table,) = ws.tables.values()
        assert [c.name for c in table.tableColumns] == header(ws), name
    reg = workbook["Register"]
    assert reg["M2"].number_format == "0.00" and reg["K2"].number_format == "0.0000"
    coloured = {str(cf.sqref).split(":")[0] for cf in reg.conditional_formatting}
    assert coloured == {"J2", "N2", "O2", "P2"}  # inherent, residual and both bands


def test_summary_names_the_people_and_key_figures(workbook, snapshot):
    ws = workbook["Summary"]
    pairs = {r[0].value: r[1].value for r in ws.iter_rows(min_row=4) if r[0].value}
    assert pairs["Organisation"] == "Ministry of the Interior"
    assert pairs["Cycle"] == "2025" and pairs["Status"] == "approved"
    assert pairs["Drafted by"] == "officer" and pairs["Reviewed by"] == "reviewer"
    assert pairs["Approved by"] == "manager"
    assert pairs["Approved at (UTC)"] == datetime(2025, 2, 5, 9, 0)
    assert pairs["Catalogue version"] == snapshot.catalogue_version
    assert pairs["Units assessed"] == len(snapshot.units)
    assert pairs["Actions in the plan"] == len(snapshot.actions)


def test_catalogue_sheet_lists_items_with_sources(workbook, catalogue):
    got = rows(workbook["Catalogue"])
    kinds = {r["kind"].value for r in got}
    assert {"source", "principle", "statement", "risk", "control"} <= kinds
    controls = [r for r in got if r["kind"].value == "control"]
    assert len(controls) == len(catalogue.controls)
    assert all(r["sources"].value for r in controls)


# --- safety -------------------------------------------------------------------------------


def test_user_text_is_never_a_formula(workbook):
    """Formulas only where riskmap writes them; every injected text stays a string."""
    for ws in workbook:
        names = header(ws)
        for row in ws.iter_rows(min_row=1):
            for cell in row:
                if cell.data_type != "f":
                    continue
                column = names[cell.column - 1] if cell.column <= len(names) else None
                assert column in FORMULA_COLUMNS.get(ws.title, set()), (ws.title, cell.coordinate)
                assert "HYPERLINK" not in cell.value
                assert "SUM" not in cell.value or (ws.title, column) in SUM_COLUMNS


def test_injected_texts_are_stored_as_guarded_strings(workbook):
    found: dict[str, set[str]] = {}
    for ws in workbook:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value in INJECTED:
                    assert cell.data_type == "s", (ws.title, cell.coordinate)
                    assert cell.quotePrefix, (ws.title, cell.coordinate)
                    found.setdefault(ws.title, set()).add(cell.value)
    for sheet in ("Register", "Heat map inherent", "Heat map residual", "Controls", "Plan",
                  "Incidents", "Audit trail"):  # fmt: skip
        assert found.get(sheet) == set(INJECTED), sheet
    audit = rows(workbook["Audit trail"])
    assert (
        audit[0]["before"].value
        == '{"justification": "=HYPERLINK(\\"http://evil.example\\",\\"click\\")"}'
    )


def test_control_characters_and_huge_texts_are_made_safe(catalogue):
    snap = example_snapshot(catalogue)
    units = snap.units.assign(unit="Border\x00post\x1bNorth")
    rr = snap.risk_ratings.copy()
    rr.loc[0, "justification"] = "x" * 40_000
    snap = CycleSnapshot(**{**snap.__dict__, "units": units, "risk_ratings": rr})
    wb = load_workbook(io.BytesIO(export_workbook(snap, catalogue)))
    reg = rows(wb["Register"])[0]
    assert reg["unit"].value == "Border\ufffdpost\ufffdNorth"
    assert len(reg["justification"].value) == 32_767
    assert reg["justification"].value.endswith("[... truncated]")


# --- edge cases and speed -----------------------------------------------------------------


def test_minimal_snapshot_exports(catalogue):
    snap = example_snapshot(catalogue)
    assert snap.actions.empty and snap.audit_events.empty
    wb = load_workbook(io.BytesIO(export_workbook(snap, catalogue)))
    assert header(wb["Plan"])[:3] == ["priority", "unit_code", "unit"]
    assert header(wb["Audit trail"]) == [
        "id", "at", "actor", "action", "entity", "entity_id", "before", "after", "reason",
    ]  # fmt: skip


def test_snapshot_requires_its_columns(catalogue):
    snap = example_snapshot(catalogue)
    with pytest.raises(ValueError, match=r"risk_ratings: missing column\(s\) \['impact'\]"):
        CycleSnapshot(**{**snap.__dict__, "risk_ratings": snap.risk_ratings.drop(columns="impact")})
    assert list(snap.units["code"]) == ["U1"] and list(snap.units["region"]) == [""]
