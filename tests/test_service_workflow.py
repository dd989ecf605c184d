"""Integration tests of the service on a real SQLite file and a real PostgreSQL database.

A small ministry (four units, two officers, two managers, an auditor, an admin) goes
through the use cases: start, rate, confirm, plan, submit, approve, lock, clone, trend.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from riskmap import security
from riskmap import service as s
from riskmap.catalogue import load_catalogue
from riskmap.scoring import by_unit, maturity_by_principle
from riskmap.service import CLI_ADMIN, Service

CAT = load_catalogue()
UNITS = {  # code: (unit type, parent, region)
    "HQ": ("anti_trafficking_unit", None, "Capital"),
    "BC-N": ("border_control", "HQ", "North"),
    "BC-S": ("border_control", "HQ", "South"),
    "PL-1": ("police_local", None, "Capital"),
}
PEOPLE = {
    "ada": "admin",
    "olga": "officer",
    "otto": "officer",
    "max": "manager",
    "mia": "manager",
    "aude": "auditor",
}


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch):
    """Hashes with a tiny scrypt cost: the tests check roles, not the hash's strength."""
    monkeypatch.setattr(security, "N", 2**4)


def setup_ministry(svc: Service) -> None:
    s.set_up_organisation(svc, CLI_ADMIN, "Test ministry")
    for name, role in PEOPLE.items():
        s.add_user(svc, CLI_ADMIN, name, role, f"{name}-password")
    for code, (unit_type, parent, region) in UNITS.items():
        s.add_unit(svc, "ada", code, f"Unit {code}", unit_type, parent=parent, region=region)


@pytest.fixture
def svc(db_url):
    with Service.open(db_url, upgrade=False, catalogue=CAT) as svc:
        setup_ministry(svc)
        yield svc


@pytest.fixture
def sqlite_svc(sqlite_url):
    with Service.open(sqlite_url, catalogue=CAT) as svc:
        setup_ministry(svc)
        yield svc


def rating(svc: Service, cycle: str, unit: str, risk_id: str) -> pd.Series:
    frame = s.risk_ratings(svc, "aude", cycle, unit=unit)
    return frame.set_index("risk_id").loc[risk_id]


def control(svc: Service, cycle: str, unit: str, control_id: str) -> pd.Series:
    frame = s.control_ratings(svc, "aude", cycle, unit=unit)
    return frame.set_index("control_id").loc[control_id]


def approved_cycle(svc: Service, label: str = "2025", **start) -> None:
    """Start `label` as olga, confirm everything, submit; max approves."""
    s.start_cycle(svc, "olga", label, **(start or {"how": "empty"}))
    s.confirm_ratings(svc, "olga", label)
    s.submit_cycle(svc, "olga", label)
    s.approve_cycle(svc, "max", label)


# -- a whole session, audited ---------------------------------------------------------------


def test_session_of_use_cases_is_audited_and_the_chain_verifies(svc):
    started = s.start_cycle(svc, "olga", "2025", how="empty")
    assert started["status"] == "draft" and started["drafted_by"] == "olga"
    rr = s.risk_ratings(svc, "aude", "2025")
    expected = sum(len(CAT.risks_for(t)) for t, _, _ in UNITS.values())
    assert len(rr) == expected
    assert not rr["confirmed"].any()
    # Prefilled from the catalogue defaults of each unit's type.
    bc = rr[rr["unit_code"] == "BC-N"].set_index("risk_id")
    for risk in CAT.risks_for("border_control"):
        assert bc.loc[risk.id, "likelihood"] == risk.defaults["border_control"].likelihood
        assert bc.loc[risk.id, "impact"] == risk.defaults["border_control"].impact
    assert len(s.control_ratings(svc, "aude", "2025")) == sum(
        len(CAT.controls_for(t)) for t, _, _ in UNITS.values()
    )

    r = rating(svc, "2025", "BC-N", "BOR-01")
    new_l = 5 if r["likelihood"] != 5 else 4
    saved = s.rate_risk(
        svc,
        "olga",
        "2025",
        "BC-N",
        "BOR-01",
        expected_version=int(r["version"]),
        likelihood=new_l,
        justification="Three complaints about this post in 2024",
    )
    assert saved["likelihood"] == new_l and saved["confirmed"] is True
    assert saved["version"] == r["version"] + 1
    c = control(svc, "2025", "BC-N", "code_of_conduct")
    s.rate_control(
        svc,
        "otto",
        "2025",
        "BC-N",
        "code_of_conduct",
        expected_version=int(c["version"]),
        maturity=3,
        evidence="Signed acknowledgements 2024",
    )
    s.record_incident(svc, "olga", "BC-N", date(2025, 2, 1), "complaint", risk_id="BOR-01")
    s.comment(svc, "max", "2025", "Looks complete")
    s.confirm_ratings(svc, "olga", "2025")
    s.build_plan(svc, "olga", "2025", budget_days=60)
    s.submit_cycle(svc, "olga", "2025")
    s.approve_cycle(svc, "max", "2025")
    s.lock_cycle(svc, "mia", "2025")

    trail = s.audit_trail(svc, "aude")
    saves = trail[trail["action"] == "risk_rating.save"]
    assert len(saves) == 1
    event = saves.iloc[0]
    assert event["actor"] == "olga"
    assert event["entity_id"] == "2025/BC-N/BOR-01"
    assert event["before"]["likelihood"] == r["likelihood"]
    assert event["after"]["likelihood"] == new_l
    assert event["reason"] == "Three complaints about this post in 2024"
    cycle_steps = trail[trail["entity"] == "cycle"]["action"].tolist()
    assert cycle_steps == [
        "cycle.start",
        "ratings.confirm",
        "plan.build",
        "cycle.submit",
        "cycle.approve",
        "cycle.lock",
    ]
    # No password hash ever reaches the audit log.
    assert not any("password_hash" in (e or {}) for e in trail["after"])
    result = s.verify_audit(svc, "aude")
    assert result.ok, result.message
    assert result.checked == len(trail)


# -- validation -----------------------------------------------------------------------------


def test_changing_a_default_needs_a_justification_and_nothing_is_saved_without(sqlite_svc):
    svc = sqlite_svc
    s.start_cycle(svc, "olga", "2025", how="empty")
    r = rating(svc, "2025", "PL-1", "EXP-02")
    v = int(r["version"])
    other = 1 if r["likelihood"] != 1 else 2
    with pytest.raises(s.ValidationError) as err:
        s.rate_risk(svc, "olga", "2025", "PL-1", "EXP-02", expected_version=v, likelihood=other)
    assert err.value.field == "justification"
    assert "catalogue default" in str(err.value)
    with pytest.raises(s.ValidationError) as err:
        s.rate_risk(svc, "olga", "2025", "PL-1", "EXP-02", expected_version=v, applicable=False)
    assert err.value.field == "justification" and "does not apply" in str(err.value)
    with pytest.raises(s.ValidationError) as err:
        s.rate_risk(svc, "olga", "2025", "PL-1", "EXP-02", expected_version=v, impact=9)
    assert err.value.field == "impact" and "from 1 to 5" in str(err.value)
    c = control(svc, "2025", "PL-1", "code_of_conduct")
    with pytest.raises(s.ValidationError) as err:
        s.rate_control(
            svc,
            "olga",
            "2025",
            "PL-1",
            "code_of_conduct",
            expected_version=int(c["version"]),
            applicable=False,
        )
    assert err.value.field == "justification"
    with pytest.raises(s.ValidationError) as err:
        s.rate_control(
            svc,
            "olga",
            "2025",
            "PL-1",
            "code_of_conduct",
            expected_version=int(c["version"]),
            maturity=7,
        )
    assert err.value.field == "maturity"
    # Nothing was written by the refused saves.
    assert rating(svc, "2025", "PL-1", "EXP-02")["version"] == v
    assert control(svc, "2025", "PL-1", "code_of_conduct")["version"] == c["version"]
    # Confirming a default as it stands needs no justification.
    saved = s.rate_risk(svc, "olga", "2025", "PL-1", "EXP-02", expected_version=v)
    assert saved["confirmed"] is True and saved["justification"] == ""
    # Not applicable with a reason is accepted, and leaves the register.
    s.rate_risk(
        svc,
        "olga",
        "2025",
        "PL-1",
        "EXP-02",
        expected_version=v + 1,
        applicable=False,
        justification="The station has no aliens desk",
    )
    reg = s.register(svc, "max", "2025")
    assert not ((reg["unit_code"] == "PL-1") & (reg["risk_id"] == "EXP-02")).any()
    assert ((reg["unit_code"] == "PL-1") & (reg["risk_id"] == "EXP-03")).any()


def test_submit_needs_every_rating_confirmed(sqlite_svc):
    svc = sqlite_svc
    s.start_cycle(svc, "olga", "2025", how="empty")
    s.confirm_ratings(svc, "olga", "2025", "HQ")
    with pytest.raises(s.ValidationError) as err:
        s.submit_cycle(svc, "olga", "2025")
    assert "3 unit(s)" in str(err.value) and "BC-N" in str(err.value)
    assert s.get_cycle(svc, "max", "2025")["status"] == "draft"
    s.confirm_ratings(svc, "olga", "2025")
    assert s.submit_cycle(svc, "olga", "2025")["status"] == "in_review"


# -- four eyes, lock, reopen ----------------------------------------------------------------


def test_four_eyes_the_drafter_or_submitter_cannot_approve(sqlite_svc):
    svc = sqlite_svc
    s.start_cycle(svc, "olga", "2025", how="empty")
    s.confirm_ratings(svc, "olga", "2025")
    s.submit_cycle(svc, "otto", "2025")
    # Both become managers; neither may approve what they drafted or submitted.
    s.set_role(svc, "ada", "olga", "manager")
    s.set_role(svc, "ada", "otto", "manager")
    for person, did in (("olga", "drafted"), ("otto", "submitted")):
        with pytest.raises(s.FourEyesViolation) as err:
            s.approve_cycle(svc, person, "2025")
        assert isinstance(err.value, s.PermissionDenied)
        assert person in str(err.value) and did in str(err.value)
        assert "four-eyes" in str(err.value)
    assert s.get_cycle(svc, "aude", "2025")["status"] == "in_review"
    approved = s.approve_cycle(svc, "max", "2025")
    assert approved["status"] == "approved" and approved["approved_by"] == "max"


def test_locked_cycle_refuses_every_change(sqlite_svc):
    svc = sqlite_svc
    approved_cycle(svc)
    s.lock_cycle(svc, "max", "2025")
    r = rating(svc, "2025", "BC-N", "BOR-01")
    c = control(svc, "2025", "BC-N", "code_of_conduct")
    v = int(r["version"])
    refused = {
        "rate_risk": lambda: s.rate_risk(
            svc,
            "olga",
            "2025",
            "BC-N",
            "BOR-01",
            expected_version=v,
            likelihood=1,
            justification="x",
        ),
        "rate_control": lambda: s.rate_control(
            svc,
            "olga",
            "2025",
            "BC-N",
            "code_of_conduct",
            expected_version=int(c["version"]),
            maturity=4,
        ),
        "confirm_ratings": lambda: s.confirm_ratings(svc, "olga", "2025"),
        "build_plan": lambda: s.build_plan(svc, "olga", "2025"),
        "add_action": lambda: s.add_action(
            svc, "olga", "2025", "BC-N", "code_of_conduct", to_level=4
        ),
        "comment": lambda: s.comment(svc, "max", "2025", "late remark"),
        "submit_cycle": lambda: s.submit_cycle(svc, "olga", "2025"),
        "approve_cycle": lambda: s.approve_cycle(svc, "mia", "2025"),
        "lock_cycle": lambda: s.lock_cycle(svc, "mia", "2025"),
        "reopen_cycle": lambda: s.reopen_cycle(svc, "max", "2025", reason="typo"),
    }
    for name, call in refused.items():
        with pytest.raises(s.CycleLocked, match="2025 is locked"):
            call()
        assert name  # (the loop names the use case in a failure's traceback)
    after = rating(svc, "2025", "BC-N", "BOR-01")
    assert after["version"] == v and after["likelihood"] == r["likelihood"]
    assert s.comments(svc, "aude", "2025").empty
    assert s.actions(svc, "aude", "2025").empty


def test_locked_cycle_refuses_action_updates(sqlite_svc):
    svc = sqlite_svc
    s.start_cycle(svc, "olga", "2025", how="empty")
    s.confirm_ratings(svc, "olga", "2025")
    s.build_plan(svc, "olga", "2025", budget_days=40)
    action = s.actions(svc, "olga", "2025").iloc[0]
    s.submit_cycle(svc, "olga", "2025")
    s.approve_cycle(svc, "max", "2025")
    # Approved but not locked: the plan's follow-up may still be recorded.
    s.update_action(
        svc,
        "olga",
        int(action["id"]),
        expected_version=int(action["version"]),
        status="in_progress",
    )
    s.lock_cycle(svc, "max", "2025")
    with pytest.raises(s.CycleLocked):
        s.update_action(
            svc,
            "olga",
            int(action["id"]),
            expected_version=int(action["version"]) + 1,
            status="done",
        )
    assert s.actions(svc, "aude", "2025").iloc[0]["status"] == "in_progress"


def test_reopen_needs_a_reason_and_returns_the_cycle_to_draft(sqlite_svc):
    svc = sqlite_svc
    s.start_cycle(svc, "olga", "2025", how="empty")
    s.confirm_ratings(svc, "olga", "2025")
    s.submit_cycle(svc, "olga", "2025")
    r = rating(svc, "2025", "HQ", "JUS-02")
    with pytest.raises(s.WorkflowError, match="in review"):
        s.rate_risk(svc, "olga", "2025", "HQ", "JUS-02", expected_version=int(r["version"]))
    with pytest.raises(s.ValidationError) as err:
        s.reopen_cycle(svc, "max", "2025", reason="  ")
    assert err.value.field == "reason"
    reopened = s.reopen_cycle(svc, "max", "2025", reason="Border posts need evidence")
    assert reopened["status"] == "draft" and reopened["submitted_by"] is None
    event = s.audit_trail(svc, "aude", entity="cycle").iloc[-1]
    assert event["action"] == "cycle.reopen" and event["reason"] == "Border posts need evidence"
    s.rate_risk(svc, "olga", "2025", "HQ", "JUS-02", expected_version=int(r["version"]))


# -- cycles: clone and trend ----------------------------------------------------------------


def test_clone_copies_ratings_and_open_actions(svc):
    s.start_cycle(svc, "olga", "2025", how="empty")
    r = rating(svc, "2025", "BC-S", "BOR-02")
    s.rate_risk(
        svc,
        "olga",
        "2025",
        "BC-S",
        "BOR-02",
        expected_version=int(r["version"]),
        likelihood=1,
        impact=2,
        justification="Post closed at night since 2024",
    )
    c = control(svc, "2025", "BC-S", "code_of_conduct")
    s.rate_control(
        svc,
        "olga",
        "2025",
        "BC-S",
        "code_of_conduct",
        expected_version=int(c["version"]),
        maturity=2,
        evidence="Code v2",
    )
    s.confirm_ratings(svc, "olga", "2025")
    s.build_plan(svc, "olga", "2025", budget_days=200)
    acts = s.actions(svc, "olga", "2025")
    assert len(acts) >= 4
    statuses = ["done", "cancelled", "in_progress"]
    for (_, a), status in zip(acts.iterrows(), statuses, strict=False):
        s.update_action(
            svc, "olga", int(a["id"]), expected_version=int(a["version"]), status=status
        )
    s.submit_cycle(svc, "olga", "2025")
    s.approve_cycle(svc, "max", "2025")
    s.lock_cycle(svc, "max", "2025")
    s.retire_unit(svc, "ada", "PL-1", expected_version=1, reason="Merged into the regional station")
    s.add_unit(svc, "ada", "CUS-1", "Customs post", "customs", region="East")

    s.start_cycle(svc, "otto", "2026")  # clone of the latest cycle by default
    info = s.get_cycle(svc, "aude", "2026")
    assert info["previous"] == "2025" and info["drafted_by"] == "otto"
    old = s.risk_ratings(svc, "aude", "2025")
    new = s.risk_ratings(svc, "aude", "2026")
    assert set(new["unit_code"]) == {"HQ", "BC-N", "BC-S", "CUS-1"}
    assert not new["confirmed"].any()
    cols = ["unit_code", "risk_id", "applicable", "likelihood", "impact", "justification"]
    kept = old[old["unit_code"] != "PL-1"][cols].reset_index(drop=True)
    cloned = new[new["unit_code"] != "CUS-1"][cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(cloned, kept)
    assert rating(svc, "2026", "BC-S", "BOR-02")[["likelihood", "impact"]].tolist() == [1, 2]
    assert control(svc, "2026", "BC-S", "code_of_conduct")["maturity"] == 2
    assert control(svc, "2026", "BC-S", "code_of_conduct")["evidence"] == "Code v2"
    customs = new[new["unit_code"] == "CUS-1"].set_index("risk_id")
    for risk in CAT.risks_for("customs"):
        assert customs.loc[risk.id, "likelihood"] == risk.defaults["customs"].likelihood

    old_acts = s.actions(svc, "aude", "2025")
    open_old = old_acts[old_acts["status"].isin(["planned", "in_progress"])]
    open_old = open_old[open_old["unit_code"] != "PL-1"]
    carried = s.actions(svc, "aude", "2026")
    assert sorted(carried["carried_from_id"]) == sorted(open_old["id"])
    assert "done" not in set(carried["status"]) and "cancelled" not in set(carried["status"])
    back = carried.merge(open_old, left_on="carried_from_id", right_on="id")
    assert (back["control_id_x"] == back["control_id_y"]).all()
    assert (back["status_x"] == back["status_y"]).all()
    # In the clone, last cycle's answer is the baseline: keeping it needs no justification,
    # moving back to the catalogue default does.
    r26 = rating(svc, "2026", "BC-S", "BOR-02")
    default = CAT.risk_by_id["BOR-02"].defaults["border_control"]
    with pytest.raises(s.ValidationError, match="last cycle's rating"):
        s.rate_risk(
            svc,
            "otto",
            "2026",
            "BC-S",
            "BOR-02",
            expected_version=int(r26["version"]),
            likelihood=default.likelihood,
            impact=default.impact,
            justification="",
        )


def test_trend_between_two_cycles(svc):
    approved_cycle(svc, "2025")
    s.lock_cycle(svc, "max", "2025")
    s.start_cycle(svc, "olga", "2026", how="clone")
    added = s.add_action(svc, "olga", "2026", "HQ", "code_of_conduct", to_level=3)
    s.update_action(svc, "olga", added["id"], expected_version=added["version"], status="done")
    c = control(svc, "2026", "HQ", "code_of_conduct")
    s.rate_control(
        svc,
        "olga",
        "2026",
        "HQ",
        "code_of_conduct",
        expected_version=int(c["version"]),
        maturity=3,
        evidence="Code adopted",
        justification="Action completed",
    )
    r = rating(svc, "2026", "BC-N", "BOR-01")
    s.rate_risk(
        svc,
        "olga",
        "2026",
        "BC-N",
        "BOR-01",
        expected_version=int(r["version"]),
        likelihood=5,
        impact=5,
        justification="Smuggling network uncovered",
    )

    t = s.trend(svc, "max", "2025", "2026")
    reg_a, reg_b = s.register(svc, "max", "2025"), s.register(svc, "max", "2026")
    ua = by_unit(reg_a, CAT).set_index("unit_code")["mean_residual"]
    ub = by_unit(reg_b, CAT).set_index("unit_code")["mean_residual"]
    per_unit = t.per_unit.set_index("unit_code")
    for unit in UNITS:
        assert per_unit.loc[unit, "change"] == pytest.approx(ub[unit] - ua[unit])
    assert per_unit.loc["BC-N", "change"] > 0
    assert per_unit.loc["BC-S", "change"] == pytest.approx(0)
    assert t.per_unit.iloc[0]["unit_code"] == "BC-N"  # the biggest riser first

    pair = lambda reg: reg.set_index(["unit_code", "risk_id"]).loc[("BC-N", "BOR-01")]  # noqa: E731
    before, after = pair(reg_a), pair(reg_b)
    movers = t.movers.set_index(["unit_code", "risk_id"])
    if before["residual_band"] != after["residual_band"]:
        assert movers.loc[("BC-N", "BOR-01"), "direction"] == "up"
    assert set(movers.index) == {
        k
        for k in reg_a.set_index(["unit_code", "risk_id"]).index
        if pair_band(reg_a, k) != pair_band(reg_b, k)
    }
    per_risk = t.per_risk.set_index("risk_id")
    assert per_risk.loc["BOR-01", "change"] > 0

    done = t.actions_completed
    assert done[["unit_code", "control_id", "completed_in"]].values.tolist() == [
        ["HQ", "code_of_conduct", "2026"]
    ]
    assert t.summary["actions_completed"] == 1

    principle = CAT.principle_of_statement[CAT.control_by_id["code_of_conduct"].principle].id
    gained = t.maturity.set_index("principle")["gained"]
    fa = s.cycle_frames(svc, "max", "2025")
    fb = s.cycle_frames(svc, "max", "2026")
    ma = maturity_by_principle(fa.control_ratings, fa.units, CAT).set_index("principle")
    mb = maturity_by_principle(fb.control_ratings, fb.units, CAT).set_index("principle")
    assert gained[principle] == pytest.approx(
        mb.loc[principle, "mean_maturity"] - ma.loc[principle, "mean_maturity"]
    )
    assert gained[principle] > 0
    assert (gained.drop(principle) == 0).all()


def pair_band(reg: pd.DataFrame, key: tuple[str, str]) -> str:
    return reg.set_index(["unit_code", "risk_id"]).loc[key, "residual_band"]


# -- plan -----------------------------------------------------------------------------------


def test_build_plan_stores_the_selected_actions_and_rebuild_keeps_edited_ones(sqlite_svc):
    svc = sqlite_svc
    s.start_cycle(svc, "olga", "2025", how="empty")
    plan = s.build_plan(svc, "olga", "2025", budget_days=80, start=date(2025, 3, 1))
    stored = s.actions(svc, "olga", "2025")
    chosen = plan.actions
    assert len(stored) == len(chosen) > 0
    assert stored[["unit_code", "control_id", "from_level", "to_level"]].values.tolist() == (
        chosen[["unit_code", "control_id", "from_level", "to_level"]].values.tolist()
    )
    assert stored["due_date"].tolist() == chosen["due_date"].tolist()
    assert (stored["status"] == "planned").all() and not stored["manual"].any()
    first = stored.iloc[0]
    s.update_action(
        svc,
        "olga",
        int(first["id"]),
        expected_version=int(first["version"]),
        owner="Head of border police",
        notes="Budget agreed",
    )
    manual = s.add_action(svc, "olga", "2025", "PL-1", "code_of_conduct", to_level=2)
    assert manual["manual"] is True and manual["from_level"] == 0
    assert manual["effort_days"] == 2 * CAT.control_by_id["code_of_conduct"].effort_days

    s.build_plan(svc, "olga", "2025", budget_days=0)
    after = s.actions(svc, "olga", "2025")
    assert sorted(after["id"]) == sorted([int(first["id"]), manual["id"]])
    assert after.set_index("id").loc[int(first["id"]), "owner"] == "Head of border police"
    with pytest.raises(s.ValidationError) as err:
        s.add_action(svc, "olga", "2025", "PL-1", "code_of_conduct", to_level=9)
    assert err.value.field == "target maturity"
    with pytest.raises(s.ValidationError) as err:
        s.update_action(
            svc, "olga", manual["id"], expected_version=manual["version"], status="finished"
        )
    assert err.value.field == "status"


# -- units and users ------------------------------------------------------------------------


def test_units_add_edit_move_retire(sqlite_svc):
    svc = sqlite_svc
    units = s.list_units(svc, "aude").set_index("code")
    assert units.loc["BC-N", "parent"] == "HQ"
    assert units.loc["BC-N", "exposure"] == dict(CAT.unit_type_by_id["border_control"].exposure)
    with pytest.raises(s.ValidationError) as err:
        s.add_unit(svc, "ada", "BC-N", "Again", "border_control")
    assert err.value.field == "unit code"
    with pytest.raises(s.ValidationError) as err:
        s.add_unit(svc, "ada", "X-1", "X", "space_agency")
    assert err.value.field == "unit type"
    edited = s.edit_unit(
        svc, "ada", "BC-N", expected_version=1, name="Border post North", headcount=40
    )
    assert edited["version"] == 2 and edited["headcount"] == 40
    with pytest.raises(s.ConflictError) as err:
        s.edit_unit(svc, "ada", "BC-N", expected_version=1, region="East")
    assert "name" in err.value.fields and "ada" in err.value.by
    with pytest.raises(s.ValidationError) as err:
        s.move_unit(svc, "ada", "HQ", "BC-N", expected_version=1)
    assert "sub-units" in str(err.value)
    moved = s.move_unit(svc, "ada", "BC-S", "PL-1", expected_version=1, reason="Reorganised")
    assert s.list_units(svc, "aude").set_index("code").loc["BC-S", "parent"] == "PL-1"
    with pytest.raises(s.ValidationError, match="active sub-units"):
        s.retire_unit(svc, "ada", "PL-1", expected_version=1, reason="Closed")
    s.retire_unit(svc, "ada", "BC-S", expected_version=moved["version"], reason="Closed")
    assert "BC-S" not in set(s.list_units(svc, "aude")["code"])
    assert "BC-S" in set(s.list_units(svc, "aude", include_retired=True)["code"])
    s.start_cycle(svc, "olga", "2025", how="empty")
    assert "BC-S" not in set(s.risk_ratings(svc, "aude", "2025")["unit_code"])


def test_role_change_and_disable_apply_at_once(sqlite_svc):
    svc = sqlite_svc
    assert s.authenticate(svc, "olga", "olga-password").role == "officer"
    assert s.authenticate(svc, "olga", "wrong-password") is None
    assert s.authenticate(svc, "nobody", "olga-password") is None
    s.start_cycle(svc, "olga", "2025", how="empty")
    s.set_role(svc, "ada", "olga", "auditor")
    with pytest.raises(s.PermissionDenied) as err:
        s.confirm_ratings(svc, "olga", "2025")
    assert "olga (role auditor) may not confirm ratings" in str(err.value)
    s.disable_user(svc, "ada", "otto", reason="Left the ministry")
    assert s.authenticate(svc, "otto", "otto-password") is None
    with pytest.raises(s.PermissionDenied, match="otto"):
        s.confirm_ratings(svc, "otto", "2025")
    with pytest.raises(s.ValidationError):
        s.disable_user(svc, "ada", "ada")
    users = s.list_users(svc, "aude").set_index("username")
    assert users.loc["otto", "active"] == False  # noqa: E712
    assert "password_hash" not in users.columns
