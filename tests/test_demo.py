"""The demo ministry: what it builds, that a seed fixes it, and `riskmap demo` itself."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from riskmap import security
from riskmap import service as s
from riskmap.cli import main
from riskmap.demo import build_demo
from riskmap.planning import ACTION_COLUMNS
from riskmap.scoring import SCORE_COLUMNS
from riskmap.service import CLI_ADMIN, Service
from riskmap.store.models import AuditEvent, Organisation
from test_service_workflow import CAT

ROLES = ("admin", "officer", "manager", "auditor")


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch):
    monkeypatch.setattr(security, "N", 2**4)


def test_demo_builds_cycles_users_and_calibration_flags(db_url):
    with Service.open(db_url, upgrade=False, catalogue=CAT) as svc:
        result = build_demo(svc, units=8, seed=5)
        assert result.units == 8 and result.cycles == ["2025", "2026"]

        cycles = s.list_cycles(svc, "demo.auditor").set_index("label")
        assert cycles.loc["2025", "status"] == "locked"
        assert cycles.loc["2025", "drafted_by"] == "demo.officer"
        assert cycles.loc["2025", "approved_by"] == "demo.manager"
        assert cycles.loc["2026", "status"] == "draft"
        assert cycles.loc["2026", "previous"] == "2025"

        for role in ROLES:
            user = s.authenticate(svc, f"demo.{role}", result.passwords[f"demo.{role}"])
            assert user is not None and user.role == role
        assert s.authenticate(svc, "demo.admin", "guess") is None

        with svc.sessions() as session:
            orgs = session.scalars(select(Organisation)).all()
            events = session.scalar(select(func.count()).select_from(AuditEvent))
        assert len(orgs) == 1 and orgs[0].is_demo is True

        units = s.list_units(svc, "demo.admin")
        assert len(units) == 8
        assert units["unit_type"].nunique() >= 4
        assert units["region"].nunique() >= 3
        assert units["parent"].notna().any() and units["parent"].isna().any()
        assert set(units["parent"].dropna()) <= set(units["code"])

        rr25 = s.risk_ratings(svc, "demo.auditor", "2025")
        rr26 = s.risk_ratings(svc, "demo.auditor", "2026")
        assert rr25["confirmed"].all()
        assert 0 < rr26["confirmed"].sum() < len(rr26)
        # Ratings vary around the defaults, and every departure is justified.
        moved = (rr25["likelihood"] != rr25["baseline_likelihood"]) | (
            rr25["impact"] != rr25["baseline_impact"]
        )
        assert moved.any() and (rr25.loc[moved, "justification"] != "").all()
        moved26 = (rr26["likelihood"] != rr26["baseline_likelihood"]) | (
            rr26["impact"] != rr26["baseline_impact"]
        )
        assert moved26.any() and (rr26.loc[moved26, "justification"] != "").all()

        flags = s.calibration(svc, "demo.manager", "2026")
        assert (flags["flag"] == "contradicted").any()
        assert len(s.incidents(svc, "demo.auditor")) >= 3
        acts25 = s.actions(svc, "demo.auditor", "2025")
        acts26 = s.actions(svc, "demo.auditor", "2026")
        assert len(acts25) > 0
        assert acts26["carried_from_id"].notna().any()
        assert set(acts26["carried_from_id"].dropna()) <= set(acts25["id"])

        # Bulk seeding is audited per step, not per rating, and the chain holds.
        assert events < 40 < len(rr25) + len(rr26)
        assert s.verify_audit(svc, "demo.auditor").ok


def _snapshot(svc: Service) -> dict[str, pd.DataFrame]:
    """What the seed decides (ids, timestamps and passwords aside)."""
    reader = "demo.auditor"
    drop = ["version", "updated_at", "updated_by"]
    units = s.list_units(svc, reader)
    units["exposure"] = units["exposure"].map(lambda e: sorted(e.items()))
    return {
        "units": units.drop(columns=["version"]),
        "risks25": s.risk_ratings(svc, reader, "2025").drop(columns=drop),
        "risks26": s.risk_ratings(svc, reader, "2026").drop(columns=drop),
        "controls26": s.control_ratings(svc, reader, "2026").drop(columns=drop),
        "actions26": s.actions(svc, reader, "2026").drop(columns=["id", "carried_from_id"]),
        "incidents": s.incidents(svc, reader).drop(columns=["id"]),
    }


def test_demo_is_deterministic_for_a_seed(tmp_path):
    def build(name: str, seed: int) -> dict[str, pd.DataFrame]:
        with Service.open(f"sqlite:///{tmp_path / name}", catalogue=CAT) as svc:
            build_demo(svc, units=7, seed=seed)
            return _snapshot(svc)

    first, again, other = build("a.sqlite", 42), build("b.sqlite", 42), build("c.sqlite", 43)
    for key in first:
        pd.testing.assert_frame_equal(first[key], again[key], obj=key)
    differs = [k for k in first if not first[k].equals(other[k])]
    assert "risks25" in differs and "controls26" in differs


def test_demo_command_prints_passwords_and_respects_if_empty(sqlite_url):
    runner = CliRunner()
    result = runner.invoke(main, ["demo", "--units", "6", "--seed", "3", "--db", sqlite_url])
    assert result.exit_code == 0, result.output
    assert "6 units" in result.output
    passwords = dict(re.findall(r"^\s+(demo\.\w+)\s+(\S+)$", result.output, re.M))
    assert sorted(passwords) == [f"demo.{r}" for r in sorted(ROLES)]

    again = runner.invoke(main, ["demo", "--if-empty", "--db", sqlite_url])
    assert again.exit_code == 0 and "demo not loaded" in again.output
    refused = runner.invoke(main, ["demo", "--db", sqlite_url])
    assert refused.exit_code == 1 and "already holds an organisation" in refused.output

    with Service.open(sqlite_url, catalogue=CAT) as svc:
        assert s.authenticate(svc, "demo.officer", passwords["demo.officer"]) is not None
        assert len(s.list_units(svc, CLI_ADMIN)) == 6  # not loaded twice
        register = s.register(svc, CLI_ADMIN, "2026")
        fr = s.cycle_frames(svc, CLI_ADMIN, "2026")

    # `riskmap score --cycle` and `plan --cycle` read the same ratings from the database.
    scored = runner.invoke(main, ["score", "--cycle", "2026", "--db", sqlite_url])
    assert scored.exit_code == 0, scored.output
    frame = pd.read_csv(io.StringIO(scored.stdout), dtype={"unit_code": str})
    assert list(frame.columns) == SCORE_COLUMNS
    assert len(frame) == len(register)
    assert frame["residual"].tolist() == pytest.approx(register["residual"].tolist())
    assert set(frame["unit_code"]) == set(fr.units["unit_code"])

    planned = runner.invoke(
        main, ["plan", "--cycle", "2026", "--budget-days", "200", "--db", sqlite_url]
    )
    assert planned.exit_code == 0, planned.output
    plan = pd.read_csv(io.StringIO(planned.stdout))
    # The plan's columns, then how storing it would treat each action (against the cycle's).
    assert list(plan.columns)[: len(ACTION_COLUMNS)] == ACTION_COLUMNS
    extra = set(plan.columns[len(ACTION_COLUMNS) :])
    assert extra == {"stored_as", "kept_action_id", "overdue", "days_overdue"}
    assert set(plan["stored_as"]) <= {"added", "replaced", "kept"}
    assert len(plan) > 0 and plan["cumulative_days"].max() <= 200
    assert plan["selected"].all()
    assert '"budget_days": 200.0' in planned.stderr

    missing = runner.invoke(main, ["score", "--db", sqlite_url])
    assert missing.exit_code == 2 and "--cycle LABEL" in missing.output
    unknown = runner.invoke(main, ["score", "--cycle", "1999", "--db", sqlite_url])
    assert unknown.exit_code == 1 and "no cycle labelled '1999'" in unknown.output
