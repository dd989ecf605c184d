"""`riskmap export`, `riskmap template` and `riskmap import` on a copy of the demo database."""

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
from riskmap.scoring import SCORE_COLUMNS
from riskmap.service import CLI_ADMIN, Service
from test_service_workflow import CAT


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch):
    monkeypatch.setattr(security, "N", 2**4)


@pytest.fixture
def db(demo_template, tmp_path: Path) -> str:
    path = tmp_path / "riskmap.sqlite"
    shutil.copyfile(demo_template.path, path)
    return f"sqlite:///{path}"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def trail(db: str):
    with Service.open(db, catalogue=CAT) as svc:
        return s.audit_trail(svc, CLI_ADMIN, cycle="2026")


def risk(db: str, unit: str, risk_id: str):
    with Service.open(db, catalogue=CAT) as svc:
        return s.risk_ratings(svc, CLI_ADMIN, "2026", unit).set_index("risk_id").loc[risk_id]


def test_export_writes_the_auditors_workbook(db, tmp_path):
    out = tmp_path / "out" / "2026.xlsx"
    result = run("export", "--cycle", "2026", "-o", str(out), "--db", db)
    assert result.exit_code == 0, result.output
    assert str(out) in result.stdout
    wb = load_workbook(out, read_only=True)
    header = next(wb["Register"].iter_rows(max_row=1, values_only=True))
    assert list(header[: len(SCORE_COLUMNS)]) == SCORE_COLUMNS
    event = trail(db).iloc[-1]
    assert (event["action"], event["entity_id"], event["actor"]) == ("export", "2026", CLI_ADMIN)

    as_auditor = run(
        "export", "--cycle", "2026", "-o", str(out), "--db", db, "--user", "demo.auditor"
    )
    assert as_auditor.exit_code == 0, as_auditor.output
    assert trail(db).iloc[-1]["actor"] == "demo.auditor"


def test_export_of_an_unknown_cycle_exits_1(db, tmp_path):
    out = tmp_path / "x.xlsx"
    result = run("export", "--cycle", "1999", "-o", str(out), "--db", db)
    assert result.exit_code == 1
    assert "no cycle labelled '1999'" in result.stderr
    assert not out.exists()


def test_template_for_chosen_units(db, tmp_path):
    out = tmp_path / "q.xlsx"
    result = run(
        "template", "--cycle", "2026", "--unit", "BC-001", "--unit", "CON-001", "-o", str(out),
        "--db", db,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    ws = load_workbook(out, read_only=True)["Risks"]
    units = {row[0] for row in ws.iter_rows(min_row=2, values_only=True) if row[0]}
    assert units == {"BC-001", "CON-001"}
    locked = run("template", "--cycle", "2025", "-o", str(out), "--db", db)
    assert locked.exit_code == 1 and "locked" in locked.stderr


def _filled(db: str, tmp_path: Path) -> tuple[Path, str, int]:
    """A questionnaire of BC-001 with its first risk's likelihood changed and justified."""
    out = tmp_path / "bc-001.xlsx"
    made = run("template", "--cycle", "2026", "--unit", "BC-001", "-o", str(out), "--db", db)
    assert made.exit_code == 0, made.output
    wb = load_workbook(out)
    ws = wb["Risks"]
    risk_id, old = ws["D2"].value, ws["G2"].value
    new = 5 if old != 5 else 4
    ws["G2"].value = new
    ws["K2"].value = "Three complaints in 2025"
    buf = io.BytesIO()
    wb.save(buf)
    out.write_bytes(buf.getvalue())
    return out, risk_id, new


def test_import_saves_and_prints_the_counts(db, tmp_path):
    path, risk_id, new = _filled(db, tmp_path)
    check = run("import", str(path), "--cycle", "2026", "--user", "demo.officer", "--dry-run",
                "--db", db)  # fmt: skip
    assert check.exit_code == 0, check.output
    assert f"Risks!G2: BC-001 risk {risk_id} likelihood:" in check.stdout
    assert risk(db, "BC-001", risk_id)["likelihood"] != new  # a dry run saves nothing

    result = run("import", str(path), "--cycle", "2026", "--user", "demo.officer", "--db", db)
    assert result.exit_code == 0, result.output
    assert "1 risk rating(s) and 0 control rating(s) saved in 1 unit(s)" in result.stdout
    assert result.stderr == ""
    assert risk(db, "BC-001", risk_id)["likelihood"] == new
    saved = trail(db)
    saved = saved[saved["action"] == "risk_rating.save"].iloc[-1]
    assert saved["actor"] == "demo.officer"
    assert saved["reason"].startswith("questionnaire import: bc-001.xlsx")


def test_import_refused_lists_every_problem_on_stderr_and_exits_1(db, tmp_path):
    path, risk_id, _ = _filled(db, tmp_path)
    wb = load_workbook(path)
    wb["Risks"]["K2"].value = None  # the change loses its justification
    wb["Risks"]["I3"].value = 9  # and an impact off the scale
    wb.save(path)
    before = risk(db, "BC-001", risk_id)
    result = run("import", str(path), "--cycle", "2026", "--user", "demo.officer", "--db", db)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Risks!K2: justification: likelihood ")
    assert "differs from the " in lines[0]
    assert lines[1] == "Risks!I3: impact must be 1-5, got 9"
    assert lines[2] == "refused: 2 problem(s) in bc-001.xlsx; nothing was saved"
    assert result.stdout == ""
    assert risk(db, "BC-001", risk_id)["version"] == before["version"]


@pytest.mark.parametrize(
    ("user", "cycle", "message"),
    [
        ("demo.manager", "2026", "demo.manager (role manager) may not import questionnaire"),
        ("demo.officer", "2025", "cycle 2025 is locked"),
        ("nobody", "2026", "nobody has no active account"),
    ],
)
def test_import_refused_for_the_user_or_the_cycle(db, tmp_path, user, cycle, message):
    path, _, _ = _filled(db, tmp_path)
    result = run("import", str(path), "--cycle", cycle, "--user", user, "--db", db)
    assert result.exit_code == 1
    assert message in result.stderr


def test_import_needs_a_user(db, tmp_path):
    path, _, _ = _filled(db, tmp_path)
    result = run("import", str(path), "--cycle", "2026", "--db", db)
    assert result.exit_code == 2 and "--user" in result.stderr
