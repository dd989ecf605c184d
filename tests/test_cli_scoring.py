"""`riskmap score` and `riskmap plan` on CSV files, driven through click's CliRunner."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import oracle
import synthetic
from riskmap.catalogue import load_catalogue
from riskmap.cli import main
from riskmap.scoring import SCORE_COLUMNS

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


def test_score_csv_matches_the_oracle(paths):
    result = run("score", *args(paths))
    assert result.exit_code == 0, result.output
    out = pd.read_csv(io.StringIO(result.stdout), dtype={"unit_id": str}, keep_default_na=False)
    assert list(out.columns) == SCORE_COLUMNS
    want = oracle.score_rows(MIN.risk_ratings, MIN.control_ratings, MIN.units, CAT)
    assert len(out) == len(want) == int(MIN.risk_ratings["applicable"].sum())
    for got, exp in zip(out.to_dict("records"), want, strict=True):
        assert (got["unit_id"], got["risk_id"]) == (exp["unit_id"], exp["risk_id"])
        assert got["residual"] == pytest.approx(exp["residual"], abs=1e-9)
        assert got["residual_band"] == exp["residual_band"]
        assert got["controls"] == exp["controls"]


def test_score_json(paths):
    result = run("score", *args(paths, "--format", "json"))
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    want = oracle.score_rows(MIN.risk_ratings, MIN.control_ratings, MIN.units, CAT)
    assert [(r["unit_id"], r["risk_id"]) for r in records] == [
        (w["unit_id"], w["risk_id"]) for w in want
    ]
    assert set(records[0]) == set(SCORE_COLUMNS)
    assert records[0]["inherent"] == want[0]["inherent"]


def test_unit_ids_stay_text(tmp_path):
    # "007" must not become 7: ids are matched across the three files as text.
    m = synthetic.ministry(CAT, units=3, seed=1)
    rename = {u: f"00{i}" for i, u in enumerate(m.units["unit_id"])}
    m = synthetic.Ministry(
        *(
            f.assign(unit_id=f["unit_id"].map(rename))
            for f in (m.units, m.risk_ratings, m.control_ratings, m.incidents)
        )
    )
    result = run("score", *args(write(tmp_path, m), "--format", "json"))
    assert result.exit_code == 0, result.output
    rated = m.risk_ratings.loc[m.risk_ratings["applicable"], "unit_id"]
    assert {r["unit_id"] for r in json.loads(result.stdout)} == set(rated) == {"000", "001", "002"}


def test_applicable_accepts_yes_no_and_numbers(tmp_path):
    m = synthetic.ministry(CAT, units=2, seed=2)
    paths = write(tmp_path, m)
    risk = pd.read_csv(paths["risk"], dtype={"unit_id": str})
    spelled = ["yes", "No", " TRUE ", "0", "1", "false"]
    risk["applicable"] = [spelled[i % len(spelled)] for i in range(len(risk))]
    risk.to_csv(paths["risk"], index=False)
    result = run("score", *args(paths, "--format", "json"))
    assert result.exit_code == 0, result.output
    kept = sum(
        spelled[i % len(spelled)].strip().lower() in ("yes", "true", "1") for i in range(len(risk))
    )
    assert len(json.loads(result.stdout)) == kept


def test_missing_column_is_a_clear_error(paths):
    risk = pd.read_csv(paths["risk"], dtype={"unit_id": str}).drop(columns="impact")
    risk.to_csv(paths["risk"], index=False)
    result = CliRunner().invoke(main, ["score", *args(paths)])
    assert result.exit_code == 1
    assert "Error: risk ratings: missing column(s) ['impact']" in result.output
    assert "Traceback" not in result.output


def test_missing_unit_column_in_plan_is_a_clear_error(paths):
    units = pd.read_csv(paths["units"], dtype={"unit_id": str}).drop(columns="unit_type")
    units.to_csv(paths["units"], index=False)
    result = CliRunner().invoke(main, ["plan", *args(paths, "--budget-days", "10")])
    assert result.exit_code == 1
    assert "units: missing column(s) ['unit_type']" in result.output


def test_bad_applicable_value_names_file_line_and_value(paths):
    control = pd.read_csv(paths["control"], dtype={"unit_id": str})
    control["applicable"] = control["applicable"].astype(object)
    control.loc[2, "applicable"] = "maybe"
    control.to_csv(paths["control"], index=False)
    result = CliRunner().invoke(main, ["score", *args(paths)])
    assert result.exit_code == 1
    assert "control_ratings.csv: line 4, column applicable" in result.output
    assert "expected true/false, got 'maybe'" in result.output


def test_missing_file_is_refused(paths, tmp_path):
    argv = args(paths)
    argv[argv.index("--units") + 1] = str(tmp_path / "nope.csv")
    result = CliRunner().invoke(main, ["score", *argv])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_plan_with_budget_days_csv(paths):
    result = run("plan", *args(paths, "--budget-days", "60", "--start", "2025-03-01"))
    assert result.exit_code == 0, result.output
    out = pd.read_csv(io.StringIO(result.stdout), dtype={"unit_id": str})
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
    assert summary["reduction"] == pytest.approx(
        summary["residual_before"] - summary["residual_after"]
    )


def test_plan_json_all_shows_the_whole_ranking(paths):
    plan_only = run("plan", *args(paths, "--budget-days", "30", "--format", "json"))
    everything = run("plan", *args(paths, "--budget-days", "30", "--format", "json", "--all"))
    assert plan_only.exit_code == everything.exit_code == 0
    chosen, ranking = json.loads(plan_only.stdout), json.loads(everything.stdout)
    assert len(ranking) > len(chosen)
    k = sum(r["selected"] for r in ranking)
    assert all(r["selected"] for r in ranking[:k])  # the plan is a prefix of the ranking
    assert not any(r["selected"] for r in ranking[k:])
    steps = {(r["unit_id"], r["control_id"]) for r in ranking[:k]}
    assert {(r["unit_id"], r["control_id"]) for r in chosen} == steps
    assert sum(r["effort_days"] for r in chosen) <= 30


def test_plan_rejects_a_negative_budget(paths):
    result = CliRunner().invoke(main, ["plan", *args(paths, "--budget-days", "-5")])
    assert result.exit_code == 2
    assert "--budget-days" in result.output
