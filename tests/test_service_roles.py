"""Every role x every use case: allowed ones run, refused ones raise PermissionDenied.

The expected policy is written out here independently of the code: admin (users, units),
officer (rates, plans), manager (reads, approves, comments), auditor (reads everything,
the audit trail, changes nothing). A new use case fails `test_policy_covers_every_use_case`
until it is added below.
"""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from riskmap import security
from riskmap import service as s
from riskmap.demo import build_demo
from riskmap.service import CLI_ADMIN, USE_CASES, Service
from test_service_workflow import CAT

ROLES = ("admin", "officer", "manager", "auditor")
EVERYONE = set(ROLES)
POLICY = {
    "provision_oidc_user": {"admin"},  # run by the OIDC sign-in actor (role admin)
    # users, organisation and units: admin
    "add_user": {"admin"},
    "set_role": {"admin"},
    "set_scope": {"admin"},
    "disable_user": {"admin"},
    "enable_user": {"admin"},
    "list_users": {"admin", "auditor"},
    "set_up_organisation": {"admin"},
    "add_unit": {"admin"},
    "edit_unit": {"admin"},
    "move_unit": {"admin"},
    "retire_unit": {"admin"},
    "check_unit_import": {"admin"},
    "import_units": {"admin"},
    # the assessment: officer
    "start_cycle": {"officer"},
    "rate_risk": {"officer"},
    "rate_control": {"officer"},
    "confirm_ratings": {"officer"},
    "record_incident": {"officer"},
    "submit_cycle": {"officer"},
    "build_plan": {"officer"},
    "update_action": {"officer"},
    "add_action": {"officer"},
    # review: manager
    "approve_cycle": {"manager"},
    "lock_cycle": {"manager"},
    "reopen_cycle": {"manager"},
    "comment": {"officer", "manager"},
    # audit trail: auditor (and admin, who runs the installation)
    "audit_trail": {"auditor", "admin"},
    "verify_audit": {"auditor", "admin"},
    "audit_anchor": {"auditor", "admin"},
    "take_checkpoint": {"auditor", "admin"},  # an event of the trail itself, no data
    # reads: everyone
    "list_units": EVERYONE,
    "list_cycles": EVERYONE,
    "get_cycle": EVERYONE,
    "comments": EVERYONE,
    "risk_ratings": EVERYONE,
    "control_ratings": EVERYONE,
    "incidents": EVERYONE,
    "actions": EVERYONE,
    "cycle_frames": EVERYONE,
    "register": EVERYONE,
    "aggregations": EVERYONE,
    "calibration": EVERYONE,
    "method_sensitivity": EVERYONE,
    "trend": EVERYONE,
    "cycle_history": EVERYONE,
    "my_scope": EVERYONE,
    # the manager's view (riskmap.service.overview): reads, everyone
    "data_version": EVERYONE,
    "key_figures": EVERYONE,
    "cycle_map": EVERYONE,
    "cycle_register": EVERYONE,
    "top_missing": EVERYONE,
    "unit_profile": EVERYONE,
    "preview_plan": EVERYONE,
    # the walk-through's read models (riskmap.service.assess_reads): everyone
    "unit_progress": EVERYONE,
    "next_unit": EVERYONE,
    "unit_summary": EVERYONE,
    "briefing": EVERYONE,
    "briefing_pdf": EVERYONE,
    # Excel (riskmap.service.exports): everyone exports, officers fill questionnaires in
    "cycle_snapshot": EVERYONE,
    "export_workbook": EVERYONE,
    "questionnaire_template": {"officer", "admin"},
    "template_parts": {"officer", "admin"},
    "check_questionnaire": {"officer"},
    "import_questionnaire": {"officer"},
    "apply_questionnaire": {"officer"},
    # evidence items (riskmap.service.evidence): officers add and supersede, everyone
    # reads and downloads, nobody deletes
    "add_evidence": {"officer"},
    "supersede_evidence": {"officer"},
    "evidence_items": EVERYONE,
    "evidence_file": EVERYONE,
    "verify_evidence": EVERYONE,
}
# Allowed calls of these may still be refused for the cycle's state (e.g. approving a
# draft); they must never be refused for the role. Every other allowed call must succeed.
STATE_DEPENDENT = {"submit_cycle", "approve_cycle", "lock_cycle", "reopen_cycle"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The demo ministry (8 units, 2025 locked, 2026 draft) plus one user per role."""
    security.N, saved = 2**4, security.N
    store = pytest.MonkeyPatch()
    store.setenv("RISKMAP_EVIDENCE_DIR", str(tmp_path_factory.mktemp("evidence")))
    url = f"sqlite:///{tmp_path_factory.mktemp('roles') / 'riskmap.sqlite'}"
    with Service.open(url, catalogue=CAT) as svc:
        build_demo(svc, units=8, seed=11)
        for role in ROLES:
            s.add_user(svc, CLI_ADMIN, role, role, f"{role}-password")
        s.add_user(svc, CLI_ADMIN, "target", "officer", "target-password")
        yield svc
    security.N = saved
    store.undo()


def _unit(svc: Service, role: str) -> str:
    """A fresh unit for calls that change or retire one."""
    code = f"T-{role}-{len(s.list_units(svc, CLI_ADMIN, include_retired=True))}"
    s.add_unit(svc, CLI_ADMIN, code, "Test unit", "customs")
    return code


def _risk(svc):
    r = s.risk_ratings(svc, CLI_ADMIN, "2026").iloc[0]
    return r["unit_code"], r["risk_id"], int(r["version"])


def _control(svc):
    c = s.control_ratings(svc, CLI_ADMIN, "2026")
    c = c[c["maturity"] < 4].iloc[0]
    return c["unit_code"], c["control_id"], int(c["version"])


def _action(svc):
    a = s.actions(svc, CLI_ADMIN, "2026").iloc[0]
    return int(a["id"]), int(a["version"])


def call(svc: Service, name: str, actor: str, role: str):
    """Run use case `name` as `actor` with arguments valid in the current state."""
    f = getattr(s, name)
    match name:
        case "add_user":
            return f(svc, actor, f"new.{role}", "officer", "a-long-password")
        case "provision_oidc_user":
            return f(svc, actor, f"oidc.{role}", "officer", email=f"{role}@ministry.example")
        case "set_role":
            return f(svc, actor, "target", "auditor" if role == "x" else "officer")
        case "set_scope":  # set and cleared again: the other calls see the whole ministry
            f(svc, actor, "target", units=["BC-001"])
            return f(svc, actor, "target")
        case "disable_user" | "enable_user":
            return f(svc, actor, "target")
        case "check_unit_import" | "import_units":
            import pandas as pd

            n = len(s.list_units(svc, CLI_ADMIN, include_retired=True))
            rows = {"code": [f"IMP-{role}-{n}"], "name": ["Imported"], "unit_type": ["customs"]}
            return f(svc, actor, pd.DataFrame(rows))
        case "cycle_history":
            return f(svc, actor, "2026")
        case "set_up_organisation":
            return f(svc, actor, "National Anti-Trafficking Coordination of Arcadia (demo)")
        case "add_unit":
            return f(svc, actor, f"NEW-{role}", "New unit", "customs")
        case "edit_unit":
            code = _unit(svc, role)
            return f(svc, actor, code, expected_version=1, headcount=12)
        case "move_unit":
            code = _unit(svc, role)
            return f(svc, actor, code, "BC-001", expected_version=1)
        case "retire_unit":
            code = _unit(svc, role)
            return f(svc, actor, code, expected_version=1, reason="closed")
        case "start_cycle":
            return f(svc, actor, f"S-{role}", how="clone", from_cycle="2025")
        case "rate_risk":
            unit, risk, v = _risk(svc)
            return f(svc, actor, "2026", unit, risk, expected_version=v)
        case "rate_control":
            unit, ctl, v = _control(svc)
            return f(svc, actor, "2026", unit, ctl, expected_version=v, evidence="seen")
        case "confirm_ratings":
            return f(svc, actor, "2026", "BC-001")
        case "record_incident":
            return f(svc, actor, "BC-001", date(2025, 5, 1), "complaint", risk_id="BOR-01")
        case "build_plan":
            return f(svc, actor, "2026", budget_days=20)
        case "update_action":
            action_id, v = _action(svc)
            return f(svc, actor, action_id, expected_version=v, notes=f"by {role}")
        case "add_action":
            unit, ctl, _ = _control(svc)
            return f(svc, actor, "2026", unit, ctl, to_level=4)
        case "comment":
            return f(svc, actor, "2026", f"note by {role}")
        case "submit_cycle" | "approve_cycle" | "lock_cycle" | "get_cycle" | "comments":
            return f(svc, actor, "2026")
        case "reopen_cycle":
            return f(svc, actor, "2026", reason="check")
        case "trend":
            return f(svc, actor, "2025", "2026")
        case "risk_ratings" | "control_ratings" | "actions" | "register" | "aggregations":
            return f(svc, actor, "2026")
        case "calibration" | "cycle_frames" | "method_sensitivity":
            return f(svc, actor, "2026")
        case "key_figures" | "cycle_map" | "cycle_register" | "top_missing":
            return f(svc, actor, "2026")
        case "unit_progress" | "next_unit":
            return f(svc, actor, "2026")
        case "unit_profile" | "unit_summary":
            return f(svc, actor, "2026", "BC-001")
        case "preview_plan":
            return f(svc, actor, "2026", budget_days=20)
        case "briefing":
            return f(svc, actor, "2026")
        case "briefing_pdf":
            from riskmap.reports import briefing as pdf

            # The roles are the point here, not the drawing (test_briefing draws it).
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(pdf, "briefing_document", lambda b, cat: b.cycle.encode())
                return f(svc, actor, "2026")
        case "cycle_snapshot" | "export_workbook":
            return f(svc, actor, "2026")
        case "questionnaire_template":
            return f(svc, actor, "2026", units=["BC-001"])
        case "template_parts":
            return f(svc, actor, "2026")
        case "check_questionnaire" | "import_questionnaire":
            template = s.questionnaire_template(svc, CLI_ADMIN, "2026", units=["BC-001"])
            return f(svc, actor, "2026", template, "q.xlsx")
        case "apply_questionnaire":
            template = s.questionnaire_template(svc, CLI_ADMIN, "2026", units=["BC-001"])
            plan = s.check_questionnaire(svc, "officer", "2026", template, "q.xlsx")
            return f(svc, actor, plan)
        case "add_evidence":
            unit, ctl, _ = _control(svc)
            return f(svc, actor, "2026", unit, control_id=ctl, checklist_entry=1, reference="R-1")
        case "supersede_evidence" | "evidence_file":
            unit, ctl, _ = _control(svc)
            item = s.add_evidence(
                svc, "officer", "2026", unit, control_id=ctl, checklist_entry=1,
                data=b"%PDF-1.4 x", file_name="x.pdf",
            )  # fmt: skip
            if name == "evidence_file":
                return f(svc, actor, item["id"])
            return f(svc, actor, item["id"], reason="newer", reference="R-2")
        case "evidence_items":
            return f(svc, actor, "2026")
        case _:
            return f(svc, actor)


def test_policy_covers_every_use_case():
    assert set(USE_CASES) == set(POLICY)
    for name, roles in POLICY.items():
        assert USE_CASES[name] == roles, name
    # The auditor changes nothing: every use case open to them is a read.
    audit_reads = {"audit_trail", "verify_audit", "audit_anchor", "take_checkpoint"}
    reads = {n for n, r in POLICY.items() if r == EVERYONE} | audit_reads
    assert {n for n, r in USE_CASES.items() if "auditor" in r} == reads | {"list_users"}


@pytest.mark.parametrize(("name", "role"), list(itertools.product(sorted(POLICY), ROLES)))
def test_role_matrix(world, name, role):
    svc = world
    if role in POLICY[name]:
        try:
            call(svc, name, role, role)
        except s.PermissionDenied as exc:  # pragma: no cover (the failure message)
            pytest.fail(f"{role} refused {name}: {exc}")
        except s.DomainError:
            if name not in STATE_DEPENDENT:
                raise
    else:
        done_by = (s.audit_trail(svc, CLI_ADMIN)["actor"] == role).sum()
        with pytest.raises(s.PermissionDenied) as err:
            call(svc, name, role, role)
        message = str(err.value)
        assert f"{role} (role {role})" in message
        assert name.replace("_", " ") in message
        assert err.value.use_case == name
        # Refused: nothing recorded in the refused person's name.
        assert (s.audit_trail(svc, CLI_ADMIN)["actor"] == role).sum() == done_by


def test_unknown_or_disabled_user_is_refused(world):
    with pytest.raises(
        s.PermissionDenied, match="ghost has no active account and may not list units"
    ):
        s.list_units(world, "ghost")
    s.add_user(world, CLI_ADMIN, "leaver", "manager", "leaver-password")
    s.disable_user(world, CLI_ADMIN, "leaver")
    with pytest.raises(s.PermissionDenied, match="leaver"):
        s.register(world, "leaver", "2026")
