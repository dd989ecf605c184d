"""A questionnaire per region or unit type: the file carries only that part's units.

On the 8-unit demo ministry (tests/ui_harness.py): a template for one region holds exactly
the units of that region (read back with openpyxl, both answer sheets), a unit type's
template likewise, the filters and chosen codes intersect; an unknown region or unit type,
or a selection that leaves no unit, is refused by name; the part file round-trips (its
change is saved, the other parts' ratings are untouched); the command line and the region
choice of the Exports page make the same file.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from riskmap import security
from riskmap import service as s
from riskmap.cli import main
from riskmap.service import CLI_ADMIN, Service
from test_service_workflow import CAT
from ui_harness import errors, page

OFFICER = "demo.officer"


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch):
    monkeypatch.setattr(security, "N", 2**4)


@pytest.fixture
def db(demo_template, tmp_path: Path) -> str:
    path = tmp_path / "riskmap.sqlite"
    shutil.copyfile(demo_template.path, path)
    return f"sqlite:///{path}"


@pytest.fixture
def svc(db):
    with Service.open(db, catalogue=CAT) as service:
        yield service


def units_in(data: bytes) -> dict[str, set[str]]:
    """Sheet -> the unit codes its rows carry."""
    wb = load_workbook(io.BytesIO(data), read_only=True)
    return {
        sheet: {row[0] for row in wb[sheet].iter_rows(min_row=2, values_only=True) if row[0]}
        for sheet in ("Risks", "Controls")
    }


def units_of(svc, field: str) -> dict[str, set[str]]:
    frame = s.list_units(svc, CLI_ADMIN)
    return {v: set(g["code"]) for v, g in frame.groupby(field) if v}


def a_region(svc) -> tuple[str, set[str]]:
    """A region holding some but not all units, and its units."""
    by_region = units_of(svc, "region")
    total = sum(len(v) for v in by_region.values())
    return next((r, u) for r, u in sorted(by_region.items()) if 0 < len(u) < total)


def test_a_region_template_carries_exactly_that_regions_units(svc):
    region, expected = a_region(svc)
    data = s.questionnaire_template(svc, OFFICER, "2026", region=region)
    assert units_in(data) == {"Risks": expected, "Controls": expected}
    everything = units_in(s.questionnaire_template(svc, OFFICER, "2026"))
    assert everything["Risks"] > expected


def test_a_unit_type_template_and_the_filters_intersect(svc):
    by_type = units_of(svc, "unit_type")
    unit_type, expected = max(by_type.items(), key=lambda kv: len(kv[1]))
    data = s.questionnaire_template(svc, OFFICER, "2026", unit_type=unit_type)
    assert units_in(data)["Controls"] == expected
    region, in_region = a_region(svc)
    both = expected & in_region
    if both:
        data = s.questionnaire_template(svc, OFFICER, "2026", region=region, unit_type=unit_type)
        assert units_in(data)["Risks"] == both
    code = sorted(in_region)[0]
    data = s.questionnaire_template(svc, OFFICER, "2026", [code], region=region)
    assert units_in(data)["Risks"] == {code}


def test_unknown_or_empty_selections_are_refused_by_name(svc):
    region, in_region = a_region(svc)
    with pytest.raises(s.ValidationError, match="Atlantis") as err:
        s.questionnaire_template(svc, OFFICER, "2026", region="Atlantis")
    assert region in str(err.value)  # the regions that exist are named
    with pytest.raises(s.ValidationError, match="no_such_type"):
        s.questionnaire_template(svc, OFFICER, "2026", unit_type="no_such_type")
    outside = sorted(set(s.list_units(svc, CLI_ADMIN)["code"]) - in_region)[0]
    with pytest.raises(s.ValidationError, match="no unit"):
        s.questionnaire_template(svc, OFFICER, "2026", [outside], region=region)
    with pytest.raises(s.PermissionDenied):
        s.questionnaire_template(svc, "demo.manager", "2026", region=region)


def test_the_parts_list_every_unit_once(svc):
    parts = s.template_parts(svc, OFFICER, "2026")
    units = s.list_units(svc, CLI_ADMIN)
    assert parts.units == len(units)
    assert sum(parts.unit_types.values()) == len(units)
    assert parts.regions == {r: len(u) for r, u in units_of(svc, "region").items()}


def test_a_region_file_round_trips(svc):
    region, expected = a_region(svc)
    data = s.questionnaire_template(svc, OFFICER, "2026", region=region)
    wb = load_workbook(io.BytesIO(data))
    ws = wb["Risks"]
    unit, risk, old = ws["A2"].value, ws["D2"].value, ws["G2"].value
    new = 5 if old != 5 else 4
    ws["G2"].value = new
    ws["K2"].value = "Raised after the regional audit"
    out = io.BytesIO()
    wb.save(out)
    others = sorted(set(s.list_units(svc, CLI_ADMIN)["code"]) - expected)
    before = {u: s.risk_ratings(svc, CLI_ADMIN, "2026", u) for u in others}

    result = s.import_questionnaire(svc, OFFICER, "2026", out.getvalue(), "region.xlsx")
    assert result.applied and result.risk_ratings == 1
    assert set(result.units) <= expected
    saved = s.risk_ratings(svc, CLI_ADMIN, "2026", unit).set_index("risk_id").loc[risk]
    assert int(saved["likelihood"]) == new
    for u in others:
        assert s.risk_ratings(svc, CLI_ADMIN, "2026", u).equals(before[u]), u
    untouched = s.questionnaire_template(svc, OFFICER, "2026", region=region)
    assert s.check_questionnaire(svc, OFFICER, "2026", untouched, "again.xlsx").ratings == 0


def test_the_command_line_makes_a_region_file(db, svc, tmp_path):
    region, expected = a_region(svc)
    out = tmp_path / "q.xlsx"
    args = ["template", "--cycle", "2026", "--region", region, "-o", str(out), "--db", db]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert f"region {region}" in result.stdout
    assert units_in(out.read_bytes())["Risks"] == expected
    bad = CliRunner().invoke(main, [*args[:3], "--region", "Atlantis", *args[5:]])
    assert bad.exit_code == 1 and "Atlantis" in bad.stderr


def test_the_exports_page_region_choice_is_the_file_prepared(ui_db):
    with Service.open(ui_db.url, catalogue=CAT) as svc:
        region, expected = a_region(svc)
    at = page("riskmap.ui.pages.exports", "officer").run()
    assert not at.exception, [e.value for e in at.exception]
    choice = at.selectbox(key="exports-template-region")
    assert any(o.startswith(f"{region} (") for o in choice.options)
    choice.set_value(region).run()
    [b for b in at.button if b.label == "Prepare the questionnaire"][0].click().run()
    assert not at.exception and not errors(at), errors(at)
    kept = at.session_state["exports-template"]
    assert units_in(kept["data"]) == {"Risks": expected, "Controls": expected}
    assert region in kept["name"]
    assert f"region {region}" in " ".join(c.value for c in at.caption)
