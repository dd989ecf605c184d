"""`riskmap score` and `riskmap plan` on CSV files, driven through click's CliRunner."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import oracle
import synthetic
from riskmap import service as s
from riskmap.catalogue import load_catalogue
from riskmap.cli import main
from riskmap.cli import scoring as cli_scoring
from riskmap.rating_files import RatingFile, RatingFilesRejected, check_rating_files
from riskmap.scoring import CONTROL_RATING_COLUMNS, SCORE_COLUMNS
from riskmap.service import CLI_ADMIN, Service
from riskmap.service import plans as service_plans

CAT = load_catalogue()
MIN = synthetic.ministry(CAT, units=12, seed=4)


def write(tmp_path: Path, m: synthetic.Ministry) -> dict[str, Path]:
    paths = {
        "units": tmp_path / "units.csv",
        "risk": tmp_path / "risk_ratings.csv",
        "control": tmp_path / "control_ratings.csv",
    }
    m.units.to_csv(paths["units"], index=False)
    m.risk_ratings.to_csv(paths["risk"], index=False)
    m.control_ratings.to_csv(paths["control"], index=False)
    return paths


def args(paths: dict[str, Path], *extra: str) -> list[str]:
    return [
        "--risk-ratings",
        str(paths["risk"]),
        "--control-ratings",
        str(paths["control"]),
        "--units",
        str(paths["units"]),
        *extra,
    ]


def run(*argv: str):
    return CliRunner().invoke(main, list(argv), catch_exceptions=False)


@pytest.fixture
def paths(tmp_path):
    return write(tmp_path, MIN)


def test_files_with_the_old_unit_id_header_score_the_same(paths, tmp_path):
    """Files written before the rename are still read (the old header, any case): the
    register is the same, named with today's `unit_code`."""
    new = run("score", *args(paths))
    old_dir = tmp_path / "old"
    old_dir.mkdir()
    old = {}
    for kind, path in paths.items():
        old[kind] = old_dir / path.name
        header, _, rest = path.read_text(encoding="utf-8").partition("\n")
        assert "unit_code" in header.split(",")
        old[kind].write_text(header.replace("unit_code", "Unit_ID") + "\n" + rest, "utf-8")
    result = run("score", *args(old))
    assert result.exit_code == 0, result.output
    assert result.stdout == new.stdout
    assert result.stdout.splitlines()[0].startswith("unit_code,")


def test_score_csv_matches_the_oracle(paths):
    result = run("score", *args(paths))
    assert result.exit_code == 0, result.output
    out = pd.read_csv(io.StringIO(result.stdout), dtype={"unit_code": str}, keep_default_na=False)
    assert list(out.columns) == SCORE_COLUMNS
    want = oracle.score_rows(MIN.risk_ratings, MIN.control_ratings, MIN.units, CAT)
    assert len(out) == len(want) == int(MIN.risk_ratings["applicable"].sum())
    for got, exp in zip(out.to_dict("records"), want, strict=True):
        assert (got["unit_code"], got["risk_id"]) == (exp["unit_code"], exp["risk_id"])
        assert got["residual"] == pytest.approx(exp["residual"], abs=1e-9)
        assert got["residual_band"] == exp["residual_band"]
        assert got["controls"] == exp["controls"]


def test_score_json(paths):
    result = run("score", *args(paths, "--format", "json"))
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    want = oracle.score_rows(MIN.risk_ratings, MIN.control_ratings, MIN.units, CAT)
    assert [(r["unit_code"], r["risk_id"]) for r in records] == [
        (w["unit_code"], w["risk_id"]) for w in want
    ]
    assert set(records[0]) == set(SCORE_COLUMNS)
    assert records[0]["inherent"] == want[0]["inherent"]


def test_unit_ids_stay_text(tmp_path):
    # "007" must not become 7: ids are matched across the three files as text.
    m = synthetic.ministry(CAT, units=3, seed=1)
    rename = {u: f"00{i}" for i, u in enumerate(m.units["unit_code"])}
    m = synthetic.Ministry(
        *(
            f.assign(unit_code=f["unit_code"].map(rename))
            for f in (m.units, m.risk_ratings, m.control_ratings, m.incidents)
        )
    )
    result = run("score", *args(write(tmp_path, m), "--format", "json"))
    assert result.exit_code == 0, result.output
    rated = m.risk_ratings.loc[m.risk_ratings["applicable"], "unit_code"]
    assert (
        {r["unit_code"] for r in json.loads(result.stdout)} == set(rated) == {"000", "001", "002"}
    )


def test_applicable_accepts_yes_no_and_numbers(tmp_path):
    m = synthetic.ministry(CAT, units=2, seed=2)
    paths = write(tmp_path, m)
    risk = pd.read_csv(paths["risk"], dtype={"unit_code": str})
    spelled = ["yes", "No", " TRUE ", "0", "1", "false"]
    risk["applicable"] = [spelled[i % len(spelled)] for i in range(len(risk))]
    risk.to_csv(paths["risk"], index=False)
    result = run("score", *args(paths, "--format", "json"))
    assert result.exit_code == 0, result.output
    kept = sum(
        spelled[i % len(spelled)].strip().lower() in ("yes", "true", "1") for i in range(len(risk))
    )
    assert len(json.loads(result.stdout)) == kept


def test_missing_file_is_refused(paths, tmp_path):
    argv = args(paths)
    argv[argv.index("--units") + 1] = str(tmp_path / "nope.csv")
    result = CliRunner().invoke(main, ["score", *argv])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_plan_with_budget_days_csv(paths):
    result = run("plan", *args(paths, "--budget-days", "60", "--start", "2025-03-01"))
    assert result.exit_code == 0, result.output
    out = pd.read_csv(io.StringIO(result.stdout), dtype={"unit_code": str})
    summary = json.loads(result.stderr.strip().splitlines()[-1])
    assert len(out) == summary["selected"] > 0
    assert out["effort_days"].sum() <= 60
    assert summary["effort_days"] == pytest.approx(out["effort_days"].sum())
    assert summary["budget_days"] == 60
    assert out["selected"].all()
    assert list(out["priority"]) == list(range(1, len(out) + 1))
    deadline = {b.id: b.deadline_days for b in CAT.method.bands}
    due = pd.to_datetime(out["due_date"]) - pd.Timestamp("2025-03-01")
    assert list(due.dt.days) == [deadline[b] for b in out["band"]]
    assert summary["residual_removed"] == pytest.approx(
        summary["residual_before"] - summary["residual_after"]
    )


def test_plan_json_all_shows_the_whole_ranking(paths):
    plan_only = run("plan", *args(paths, "--budget-days", "30", "--format", "json"))
    everything = run("plan", *args(paths, "--budget-days", "30", "--format", "json", "--all"))
    assert plan_only.exit_code == everything.exit_code == 0
    chosen, ranking = json.loads(plan_only.stdout), json.loads(everything.stdout)
    assert len(ranking) > len(chosen)
    # The plan takes the ranking's head, then later moves that still fit the budget.
    k = next((i for i, r in enumerate(ranking) if not r["selected"]), len(ranking))
    assert all(r["selected"] for r in ranking[:k])
    steps = {(r["unit_code"], r["control_id"]) for r in ranking if r["selected"]}
    assert {(r["unit_code"], r["control_id"]) for r in chosen} == steps
    assert sum(r["effort_days"] for r in chosen) <= 30
    used = sum(r["effort_days"] for r in ranking if r["selected"])
    assert used == pytest.approx(sum(r["effort_days"] for r in chosen))


def test_plan_rejects_a_negative_budget(paths):
    result = CliRunner().invoke(main, ["plan", *args(paths, "--budget-days", "-5")])
    assert result.exit_code == 2
    assert "--budget-days" in result.output


# --------------------------------------------------------------------------- bad CSV files
# Each case edits the good files of MIN (line n of a file is row n - 2 of its frame: the
# header is line 1) and lists the exact problems `score` must print, in order, before it
# exits with status 2 and scores nothing.


def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="") as fh:
        return list(csv.reader(fh))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)


def set_cell(paths, file: str, line: int, column: str, value: str) -> None:
    rows = read_rows(paths[file])
    rows[line - 1][rows[0].index(column)] = value
    write_rows(paths[file], rows)


def append(paths, file: str, **values: str) -> int:
    """Add a row (columns not given copied from line 2); returns its line."""
    rows = read_rows(paths[file])
    header = rows[0]
    row = list(rows[1])
    for column, value in values.items():
        row[header.index(column)] = value
    rows.append(row)
    write_rows(paths[file], rows)
    return len(rows)


def drop_column(paths, file: str, column: str) -> None:
    rows = read_rows(paths[file])
    at = rows[0].index(column)
    write_rows(paths[file], [r[:at] + r[at + 1 :] for r in rows])


def last_line(paths, file: str) -> int:
    return len(read_rows(paths[file]))


# Line 2 of risk_ratings.csv is U0001 x BOR-01 and of control_ratings.csv U0001 x
# code_of_conduct; U0001 is a border_control unit (asserted in test_the_cases_fixture).
BAD_CASES = {
    "likelihood above the scale": (
        lambda p: set_cell(p, "risk", 2, "likelihood", "9"),
        lambda p: [f"{p['risk']}: line 2, column likelihood: likelihood must be 1-5, got 9"],
    ),
    "maturity above the scale": (
        lambda p: set_cell(p, "control", 3, "maturity", "7"),
        lambda p: [f"{p['control']}: line 3, column maturity: maturity must be 0-4, got 7"],
    ),
    "negative maturity": (
        lambda p: set_cell(p, "control", 2, "maturity", "-2"),
        lambda p: [f"{p['control']}: line 2, column maturity: maturity must be 0-4, got -2"],
    ),
    "impact not a whole number": (
        lambda p: set_cell(p, "risk", 4, "impact", "2.5"),
        lambda p: [f"{p['risk']}: line 4, column impact: impact must be 1-5, got 2.5"],
    ),
    "impact in words": (
        lambda p: set_cell(p, "risk", 4, "impact", "high"),
        lambda p: [f'{p["risk"]}: line 4, column impact: impact must be 1-5, got "high"'],
    ),
    "blank likelihood": (
        lambda p: set_cell(p, "risk", 3, "likelihood", ""),
        lambda p: [
            f"{p['risk']}: line 3, column likelihood: likelihood must be 1-5, got an empty cell"
        ],
    ),
    "bad boolean": (
        lambda p: set_cell(p, "control", 4, "applicable", "maybe"),
        lambda p: [
            f"{p['control']}: line 4, column applicable: applicable must be true or false "
            '(yes/no, 1/0), got "maybe"'
        ],
    ),
    "blank boolean": (
        lambda p: set_cell(p, "risk", 2, "applicable", ""),
        lambda p: [
            f"{p['risk']}: line 2, column applicable: applicable must be true or false "
            "(yes/no, 1/0), got an empty cell"
        ],
    ),
    "duplicate risk rating": (
        lambda p: append(p, "risk", likelihood="1"),
        lambda p: [
            f"{p['risk']}: line {last_line(p, 'risk')}, column risk_id: "
            "unit U0001, risk BOR-01 is already on line 2"
        ],
    ),
    "duplicate control rating": (
        lambda p: append(p, "control"),
        lambda p: [
            f"{p['control']}: line {last_line(p, 'control')}, column control_id: "
            "unit U0001, control code_of_conduct is already on line 2"
        ],
    ),
    "unknown unit in the risk ratings": (
        lambda p: set_cell(p, "risk", 5, "unit_code", "U9999"),
        lambda p: [
            f'{p["risk"]}: line 5, column unit_code: unit "U9999" is not in the units file '
            f"{p['units']}"
        ],
    ),
    "unknown unit in the control ratings": (
        lambda p: set_cell(p, "control", 5, "unit_code", "ghost"),
        lambda p: [
            f'{p["control"]}: line 5, column unit_code: unit "ghost" is not in the units file '
            f"{p['units']}"
        ],
    ),
    "unknown risk": (
        lambda p: set_cell(p, "risk", 2, "risk_id", "BOR-99"),
        lambda p: [f'{p["risk"]}: line 2, column risk_id: unknown risk "BOR-99"'],
    ),
    "unknown control": (
        lambda p: set_cell(p, "control", 2, "control_id", "telepathy"),
        lambda p: [f'{p["control"]}: line 2, column control_id: unknown control "telepathy"'],
    ),
    "a courts risk on a border unit": (
        lambda p: append(p, "risk", risk_id="JUS-04"),
        lambda p: [
            f"{p['risk']}: line {last_line(p, 'risk')}, column risk_id: risk JUS-04 does not "
            "apply to unit U0001 (a unit of type border_control): the catalogue rates it in "
            "units of type " + ", ".join(CAT.risk_by_id["JUS-04"].unit_types)
        ],
    ),
    "a control the catalogue does not apply to the unit's type": (
        lambda p: append(p, "control", control_id="accompanied_raids"),
        lambda p: [
            f"{p['control']}: line {last_line(p, 'control')}, column control_id: control "
            "accompanied_raids does not apply to unit U0001 (a unit of type border_control): "
            "the catalogue rates it in units of type "
            + ", ".join(CAT.control_by_id["accompanied_raids"].unit_types)
        ],
    ),
    "unknown unit type": (
        lambda p: append(p, "units", unit_code="U0100", unit_type="border_patrol"),
        lambda p: [
            f"{p['units']}: line {last_line(p, 'units')}, column unit_type: unknown unit type "
            '"border_patrol" (the catalogue has: ' + ", ".join(t.id for t in CAT.unit_types) + ")"
        ],
    ),
    "duplicate unit id": (
        lambda p: append(p, "units", unit="Border control West 1 (again)"),
        lambda p: [
            f"{p['units']}: line {last_line(p, 'units')}, column unit_code: "
            "unit U0001 is already on line 2"
        ],
    ),
    "blank unit id": (
        lambda p: set_cell(p, "units", 3, "unit_code", ""),
        lambda p: (
            [f"{p['units']}: line 3, column unit_code: must not be empty"]
            # U0002's ratings now name a unit the file no longer lists
            + [
                f'{p["risk"]}: line {n}, column unit_code: unit "U0002" is not in the units file '
                f"{p['units']}"
                for n in lines_of(p, "risk", "U0002")
            ]
            + [
                f'{p["control"]}: line {n}, column unit_code: unit "U0002" is not in the units '
                f"file {p['units']}"
                for n in lines_of(p, "control", "U0002")
            ]
        ),
    ),
    "missing column": (
        lambda p: drop_column(p, "risk", "impact"),
        lambda p: [f"{p['risk']}: line 1, column impact: this column is missing from the header"],
    ),
    "every problem at once, file by file, line by line": (
        lambda p: (
            set_cell(p, "control", 2, "maturity", "5"),
            set_cell(p, "risk", 3, "impact", "0"),
            set_cell(p, "risk", 2, "likelihood", "6"),
            set_cell(p, "risk", 2, "applicable", "sometimes"),
            append(p, "units", unit_type="nowhere"),
        ),
        lambda p: [
            f"{p['units']}: line {last_line(p, 'units')}, column unit_code: unit U0001 is already "
            "on line 2",
            f"{p['units']}: line {last_line(p, 'units')}, column unit_type: unknown unit type "
            '"nowhere" (the catalogue has: ' + ", ".join(t.id for t in CAT.unit_types) + ")",
            f"{p['risk']}: line 2, column applicable: applicable must be true or false "
            '(yes/no, 1/0), got "sometimes"',
            f"{p['risk']}: line 2, column likelihood: likelihood must be 1-5, got 6",
            f"{p['risk']}: line 3, column impact: impact must be 1-5, got 0",
            f"{p['control']}: line 2, column maturity: maturity must be 0-4, got 5",
        ],
    ),
}


def lines_of(paths, file: str, unit_id: str) -> list[int]:
    return [n for n, row in enumerate(read_rows(paths[file]), 1) if row[0] == unit_id]


def test_the_cases_fixture():
    # What the cases above rely on: the first lines of MIN's files.
    assert MIN.units.iloc[0][["unit_code", "unit_type"]].tolist() == ["U0001", "border_control"]
    assert MIN.risk_ratings.iloc[0][["unit_code", "risk_id"]].tolist() == ["U0001", "BOR-01"]
    first = MIN.control_ratings.iloc[0][["unit_code", "control_id"]].tolist()
    assert first == ["U0001", "code_of_conduct"]
    assert "border_control" not in CAT.risk_by_id["JUS-04"].unit_types
    assert "courts" in CAT.risk_by_id["JUS-04"].unit_types
    assert "border_control" not in CAT.control_by_id["accompanied_raids"].unit_types
    m = CAT.method
    assert (m.likelihood.min, m.likelihood.max, m.maturity.min, m.maturity.max) == (1, 5, 0, 4)


@pytest.mark.parametrize("command", ["score", "plan"])
@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_csv_is_refused_naming_file_line_and_column(paths, case, command):
    edit, expected = BAD_CASES[case]
    edit(paths)
    result = CliRunner().invoke(main, [command, *args(paths)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    want = expected(paths)
    assert result.stderr.splitlines() == [
        *want,
        f"Error: {len(want)} problem(s) in the input files; nothing was scored",
    ]


def test_a_file_that_is_not_utf8_is_refused(paths):
    paths["units"].write_bytes("unit_code,unit,unit_type\nU1,Gr\xe9ge,courts\n".encode("latin-1"))
    result = CliRunner().invoke(main, ["score", *args(paths)])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        f"{paths['units']}: is not UTF-8 text: save it as CSV UTF-8"
    )


def test_evidence_reaches_scoring_as_text(paths, monkeypatch):
    control = pd.read_csv(paths["control"], dtype={"unit_code": str})
    control["evidence"] = ""
    control.loc[1, "evidence"] = "Minutes of the 2025 review"
    control.to_csv(paths["control"], index=False)
    seen = {}
    real = cli_scoring.score_register

    def spy(rr, cr, units, cat):
        seen["cr"] = cr
        return real(rr, cr, units, cat)

    monkeypatch.setattr(cli_scoring, "score_register", spy)
    result = run("score", *args(paths))
    assert result.exit_code == 0, result.output
    evidence = seen["cr"]["evidence"]
    assert evidence.tolist()[:3] == ["", "Minutes of the 2025 review", ""]
    assert all(isinstance(e, str) for e in evidence)


def test_evidence_is_empty_text_when_the_column_is_absent(paths, monkeypatch):
    control = pd.read_csv(paths["control"], dtype={"unit_code": str}).drop(columns="evidence")
    control.to_csv(paths["control"], index=False)
    seen = {}
    real = cli_scoring.score_register
    monkeypatch.setattr(
        cli_scoring, "score_register", lambda *a: seen.setdefault("cr", a[1]) is None or real(*a)
    )
    result = run("score", *args(paths))
    assert result.exit_code == 0, result.output
    assert seen["cr"]["evidence"].tolist() == [""] * len(MIN.control_ratings)


def test_credit_needs_the_evidence_column(paths):
    """The same maturities score higher residuals without their evidence (method v2)."""
    with_evidence = pd.read_csv(io.StringIO(run("score", *args(paths)).stdout))
    control = pd.read_csv(paths["control"], dtype={"unit_code": str}).drop(columns="evidence")
    control.to_csv(paths["control"], index=False)
    without = pd.read_csv(io.StringIO(run("score", *args(paths)).stdout))
    assert (without["residual"] >= with_evidence["residual"] - 1e-12).all()
    assert (without["residual"] > with_evidence["residual"] + 1e-12).any()
    assert (without["unevidenced"].fillna("") != "").any()
    assert (with_evidence["unevidenced"].fillna("") != "").sum() < (
        without["unevidenced"].fillna("") != ""
    ).sum()


def test_the_scales_come_from_the_method(paths):
    # A method whose likelihood scale stops at 4 refuses the 5 the shipped one accepts.
    scale = CAT.method.likelihood
    short = scale.model_copy(update={"levels": {k: v for k, v in scale.levels.items() if k < 5}})
    cat = CAT.model_copy(update={"method": CAT.method.model_copy(update={"likelihood": short})})
    set_cell(paths, "risk", 2, "likelihood", "5")
    files = [RatingFile(str(paths[k]), paths[k].read_bytes()) for k in ("units", "risk", "control")]
    fives = [n for n, row in enumerate(read_rows(paths["risk"]), 1) if row[3] == "5"]
    check_rating_files(*files, CAT)  # the shipped scale: fine
    with pytest.raises(RatingFilesRejected) as err:
        check_rating_files(*files, cat)
    assert [str(p) for p in err.value.problems] == [
        f"{paths['risk']}: line {n}, column likelihood: likelihood must be 1-4, got 5"
        for n in fives
    ]
    assert fives[0] == 2


def test_checked_frames_are_typed(paths):
    files = [RatingFile(str(paths[k]), paths[k].read_bytes()) for k in ("units", "risk", "control")]
    got = check_rating_files(*files, CAT)
    assert got.risk_ratings["likelihood"].tolist() == MIN.risk_ratings["likelihood"].tolist()
    assert got.risk_ratings["applicable"].tolist() == MIN.risk_ratings["applicable"].tolist()
    assert got.control_ratings["maturity"].tolist() == MIN.control_ratings["maturity"].tolist()
    assert list(got.control_ratings.columns) == [*CONTROL_RATING_COLUMNS, "evidence"]
    assert got.units["unit_code"].tolist() == MIN.units["unit_code"].tolist()


# --------------------------------------------------------------------------- plan --cycle


@pytest.fixture
def demo_db(demo_template, tmp_path: Path) -> str:
    """A private copy of the demo database (cycles 2025 and 2026)."""
    path = tmp_path / "riskmap.sqlite"
    shutil.copyfile(demo_template.path, path)
    return f"sqlite:///{path}"


def test_plan_of_a_cycle_is_the_services_plan(demo_db):
    argv = ["plan", "--cycle", "2026", "--budget-days", "40", "--start", "2026-02-01"]
    result = run(*argv, "--format", "json", "--all", "--db", demo_db)
    assert result.exit_code == 0, result.output
    with Service.open(demo_db, catalogue=CAT) as svc:
        want = s.preview_plan(svc, CLI_ADMIN, "2026", budget_days=40.0, start=date(2026, 2, 1))
    got = pd.DataFrame(json.loads(result.stdout))
    assert len(got) == len(want.ranking) > 0
    assert got[["unit_code", "control_id", "to_level", "selected"]].to_dict("records") == (
        want.ranking[["unit_code", "control_id", "to_level", "selected"]].to_dict("records")
    )
    assert json.loads(result.stderr.strip().splitlines()[-1]) == json.loads(
        json.dumps(want.summary)
    )


def test_plan_of_a_cycle_goes_through_the_services_computation(demo_db, monkeypatch):
    # If the command recomputed the plan itself, this change to the service's computation
    # would not show in its output.
    real = service_plans.plan

    def first_action_only(*a, **kw):
        result = real(*a, **kw)
        return dataclasses.replace(result, actions=result.actions.iloc[:1])

    monkeypatch.setattr(service_plans, "plan", first_action_only)
    result = run(
        "plan", "--cycle", "2026", "--budget-days", "60", "--format", "json", "--db", demo_db
    )
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 1
    monkeypatch.setattr(service_plans, "plan", real)
    again = run(
        "plan", "--cycle", "2026", "--budget-days", "60", "--format", "json", "--db", demo_db
    )
    assert len(json.loads(again.stdout)) > 1


def test_plan_objective_fewest_critical_cells(demo_db):
    """`--objective critical_high` leaves no more critical cells than the default, and the
    summary names the objective it planned for."""
    base = ["plan", "--cycle", "2026", "--budget-days", "200", "--format", "json", "--db", demo_db]
    most = run(*base)
    crit = run(*base, "--objective", "critical_high")
    assert most.exit_code == crit.exit_code == 0, crit.output
    s_most = json.loads(most.stderr.strip().splitlines()[-1])
    s_crit = json.loads(crit.stderr.strip().splitlines()[-1])
    assert (s_most["objective"], s_crit["objective"]) == ("residual", "critical_high")
    assert s_crit["critical_after"] <= s_most["critical_after"] < s_most["critical_before"]
    bad = CliRunner().invoke(main, [*base, "--objective", "cheapest"])
    assert bad.exit_code == 2 and "--objective" in bad.output


@pytest.mark.parametrize("command", ["score", "plan"])
def test_a_cycle_and_csv_files_together_are_refused(paths, command):
    result = CliRunner().invoke(main, [command, *args(paths, "--cycle", "2026")])
    assert result.exit_code == 2
    assert "give either --cycle or the CSV files, not both" in result.output
