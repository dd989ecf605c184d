"""LibreOffice as a real spreadsheet client: it recalculates the workbook's formulas.

Headless `soffice` opens the exported workbook (which recalculates every formula) and
writes each sheet as CSV; the recalculated Register must equal riskmap's `score()` to 1e-9,
an input edited in the workbook must move the scores as riskmap computes them, injected
texts must still be plain text, and a questionnaire saved by LibreOffice must parse.

Skips when `soffice` is absent, unless RISKMAP_REQUIRE_SERVICES=1 (then it fails).
Install: apt-get install -y libreoffice-calc-nogui.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

import make_bad_questionnaires as corpus
from riskmap.catalogue import load_catalogue
from riskmap.reports import export_workbook, parse_questionnaire, questionnaire_template
from riskmap.reports.register import REGISTER_HEADER
from riskmap.scoring import score
from test_methodology_example import doc_number
from test_reports_workbook import INJECTED, example_snapshot, injected_snapshot

pytestmark = pytest.mark.libreoffice

CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def soffice() -> str:
    path = shutil.which("soffice")
    if path is None:
        message = "LibreOffice (soffice) not found; apt-get install -y libreoffice-calc-nogui"
        if os.environ.get("RISKMAP_REQUIRE_SERVICES") == "1":
            pytest.fail(f"LibreOffice required (RISKMAP_REQUIRE_SERVICES=1): {message}")
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def profile():
    """A private LibreOffice user profile: parallel runs never share one."""
    folder = tempfile.mkdtemp(prefix="riskmap-lo-")
    yield Path(folder)
    shutil.rmtree(folder, ignore_errors=True)


def _soffice(soffice: str, profile: Path, target: str, source: Path, outdir: Path) -> None:
    cmd = [
        soffice, "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}",
        "--convert-to", target, "--outdir", str(outdir), str(source),
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr


def recalculated(soffice: str, profile: Path, data: bytes, workdir: Path) -> dict:
    """Every sheet of the workbook as LibreOffice computes it: {sheet: [rows of text]}."""
    workdir.mkdir(parents=True, exist_ok=True)
    source = workdir / "book.xlsx"
    source.write_bytes(data)
    _soffice(soffice, profile, CSV_FILTER, source, workdir)
    sheets = {}
    for path in workdir.glob("book-*.csv"):
        with path.open(newline="", encoding="utf-8") as handle:
            sheets[path.stem.removeprefix("book-")] = list(csv.reader(handle))
    return sheets


def table(sheet: list[list[str]]) -> list[dict[str, str]]:
    head = sheet[0]
    return [dict(zip(head, row, strict=False)) for row in sheet[1:] if any(row)]


def assert_register_equals(register_csv: list[list[str]], expected) -> None:
    assert register_csv[0] == REGISTER_HEADER
    got = table(register_csv)
    assert len(got) == len(expected)
    for row, (_, want) in zip(got, expected.iterrows(), strict=True):
        assert (row["unit_code"], row["risk_id"]) == (want["unit_code"], want["risk_id"])
        for col in ("inherent", "reduction", "residual_likelihood", "residual"):
            assert abs(float(row[col]) - float(want[col])) <= TOLERANCE, (
                row["unit_code"], row["risk_id"], col, row[col], want[col],
            )  # fmt: skip
        assert row["inherent_band"] == want["inherent_band"]
        assert row["residual_band"] == want["residual_band"]


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.fixture(scope="module")
def snapshot(catalogue):
    return injected_snapshot(catalogue)


@pytest.fixture(scope="module")
def exported(snapshot, catalogue) -> bytes:
    return export_workbook(snapshot, catalogue)


@pytest.fixture(scope="module")
def sheets(soffice, profile, exported, tmp_path_factory):
    return recalculated(soffice, profile, exported, tmp_path_factory.mktemp("lo-export"))


def test_recalculated_scores_equal_riskmaps(sheets, snapshot, catalogue):
    expected = score(snapshot.risk_ratings, snapshot.control_ratings, snapshot.units, catalogue)
    assert_register_equals(sheets["Register"], expected)


def test_worked_example_recalculated(soffice, profile, catalogue, tmp_path):
    data = export_workbook(example_snapshot(catalogue), catalogue)
    register = recalculated(soffice, profile, data, tmp_path)["Register"]
    rows = {r["risk_id"]: r for r in table(register)}
    for risk in ("BOR-01", "BOR-03"):
        for what in ("reduction", "residual"):
            stated = doc_number(f"{risk} {what}")
            assert float(rows[risk][what]) == pytest.approx(stated, abs=TOLERANCE)
    assert rows["BOR-01"]["residual_band"] == "critical"
    assert rows["BOR-03"]["residual_band"] == "high"
    assert rows["BOR-01"]["unevidenced"] == "supervision"


def test_edited_inputs_move_the_scores_as_riskmap_computes(
    soffice, profile, exported, snapshot, catalogue, tmp_path
):
    """Change a likelihood on the Register and a maturity on Controls, recalculate."""
    before = score(snapshot.risk_ratings, snapshot.control_ratings, snapshot.units, catalogue)

    def raised(unit_id: str, risk_id: str, likelihood: int):
        rr = snapshot.risk_ratings.copy()
        rr.loc[(rr["unit_code"] == unit_id) & (rr["risk_id"] == risk_id), "likelihood"] = likelihood
        return rr

    # The first Register row (sheet row = index + 2) whose residual a higher likelihood moves.
    for index, row in before.iterrows():
        if row["likelihood"] > 3:
            continue
        unit_id, risk_id, new = row["unit_code"], row["risk_id"], int(row["likelihood"]) + 2
        moved = score(raised(unit_id, risk_id, new), snapshot.control_ratings, snapshot.units,
                      catalogue)  # fmt: skip
        if moved.loc[index, "residual"] != row["residual"]:
            break
    else:
        pytest.fail("no row whose residual a likelihood change moves")

    wb = load_workbook(io.BytesIO(exported))
    register, controls = wb["Register"], wb["Controls"]
    names = [c.value for c in register[1]]
    r = index + 2
    assert (register[f"A{r}"].value, register[f"E{r}"].value) == (unit_id, risk_id)
    register.cell(r, names.index("likelihood") + 1).value = new
    # And a maturity on the Controls sheet raised to the top of the scale, same unit.
    ctl_row = next(
        i
        for i in range(2, controls.max_row + 1)
        if controls[f"A{i}"].value == unit_id
        and controls[f"G{i}"].value
        and controls[f"H{i}"].value < catalogue.method.maturity.max
    )
    control_id = controls[f"D{ctl_row}"].value
    controls[f"H{ctl_row}"].value = catalogue.method.maturity.max
    # With its evidence typed in, so that the rule credits the new level.
    controls[f"J{ctl_row}"].value = "Review report 2026"
    out = io.BytesIO()
    wb.save(out)

    cr = snapshot.control_ratings.copy()
    at = (cr["unit_code"] == unit_id) & (cr["control_id"] == control_id)
    cr.loc[at, "maturity"] = catalogue.method.maturity.max
    cr["evidence"] = cr["evidence"].astype(object) if "evidence" in cr.columns else ""
    cr.loc[at, "evidence"] = "Review report 2026"
    after = score(raised(unit_id, risk_id, new), cr, snapshot.units, catalogue)
    assert after.loc[index, "residual"] != before.loc[index, "residual"]

    sheets = recalculated(soffice, profile, out.getvalue(), tmp_path)
    assert_register_equals(sheets["Register"], after)


def test_injected_texts_stay_plain_text(sheets, snapshot):
    register = table(sheets["Register"])
    units = {r["unit"] for r in register}
    controls = table(sheets["Controls"])
    audit = table(sheets["Audit trail"])
    for text in INJECTED:
        assert text in units, text
        assert text in {r["unit"] for r in table(sheets["Heat map residual"])}, text
        assert text in {r["justification"] for r in register}, text
        assert text in {r["evidence"] for r in controls}, text
        assert text in {r["justification"] for r in controls}, text
        assert text in {r["notes"] for r in table(sheets["Plan"])}, text
        assert text in {r["description"] for r in table(sheets["Incidents"])}, text
        assert text in {r["reason"] for r in audit} and text in {r["after"] for r in audit}, text
    # Nothing was evaluated: no "2" from =1+1, no hyperlink text "click" on its own.
    assert "click" not in units and "2" not in units


def test_questionnaire_saved_by_libreoffice_parses(soffice, profile, catalogue, tmp_path):
    snap = corpus.fixture_snapshot(catalogue)
    template = questionnaire_template(snap, catalogue)
    wb = load_workbook(io.BytesIO(template))
    wb["Risks"]["G2"].value = 5
    wb["Risks"]["K2"].value = "Two bribery cases in 2024"
    wb["Controls"]["G3"].value = 4
    wb["Controls"]["J3"].value = "+ monthly dashboards"  # starts with "+": must stay text
    filled = io.BytesIO()
    wb.save(filled)
    source = tmp_path / "filled.xlsx"
    source.write_bytes(filled.getvalue())
    outdir = tmp_path / "out"
    _soffice(soffice, profile, "xlsx", source, outdir)
    answers = parse_questionnaire(
        (outdir / "filled.xlsx").read_bytes(), snap, catalogue, "filled.xlsx"
    )
    assert answers.risk_ratings[["risk_id", "likelihood"]].values.tolist() == [["BOR-01", 5]]
    got = answers.control_ratings[["control_id", "maturity", "justification"]].values.tolist()
    assert got == [["supervision", 4, "+ monthly dashboards"]]
    # The meaning formulas were recalculated by LibreOffice and kept as formulas.
    saved = load_workbook(outdir / "filled.xlsx", data_only=True)
    assert saved["Risks"]["H2"].value.startswith(catalogue.method.likelihood.levels[5].name)
