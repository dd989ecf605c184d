"""Need-to-know scopes x every use case: a person limited to region Capital can neither read
nor change anything of a unit of another region, through any use case.

The demo's 8 units: BC-001, CON-001, IMM-001, LI-001 and PL-001 are in region Capital;
BC-002, BC-003 and BC-004 (North, South, East) are the *other* units. For every name in
`USE_CASES`, `EXPECT` says what a scoped officer and a scoped manager get when they name
an other unit (or ask for everything): refused (`PermissionDenied`, the role's or the
scope's), rejected (a domain error naming the unit), or a result in which no other unit's
code appears anywhere: frames, dataclasses, workbook cells, template cells. A new use case
fails `test_expectations_cover_every_use_case` until it is added here. For the reads
marked `FILTERED`, the same call by an unscoped person of the same role does show other
units, so the check can fail.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import re
import zipfile
from datetime import date
from typing import Any

import pandas as pd
import pytest
from openpyxl import load_workbook

from riskmap import security
from riskmap import service as s
from riskmap.demo import build_demo
from riskmap.service import CLI_ADMIN, USE_CASES, Service
from test_service_workflow import CAT

OTHER = "BC-002"  # region North
OTHERS = ("BC-002", "BC-003", "BC-004")
CAPITAL = ("BC-001", "CON-001", "IMM-001", "LI-001", "PL-001")
LEAK = re.compile(r"\b(" + "|".join(map(re.escape, OTHERS)) + r")\b")

REFUSED, REJECTED, CLEAN = "refused", "rejected", "clean"
EXPECT = {
    # users, organisation, units, the audit trail: admins and auditors (refused by role)
    **dict.fromkeys(
        [
            "provision_oidc_user",
            "add_user",
            "set_role",
            "set_scope",
            "disable_user",
            "enable_user",
            "list_users",
            "set_up_organisation",
            "add_unit",
            "edit_unit",
            "move_unit",
            "retire_unit",
            "check_unit_import",
            "import_units",
            "audit_trail",
            "verify_audit",
            "audit_anchor",
            "take_checkpoint",
        ],
        REFUSED,
    ),  # fmt: skip
    # the whole ministry at once: only for the unscoped
    **dict.fromkeys(
        [
            "start_cycle",
            "submit_cycle",
            "approve_cycle",
            "lock_cycle",
            "reopen_cycle",
            "build_plan",
        ],
        REFUSED,
    ),  # fmt: skip
    # naming an other unit (or its action, its evidence item)
    **dict.fromkeys(
        [
            "rate_risk",
            "rate_control",
            "record_incident",
            "add_action",
            "update_action",
            "add_evidence",
            "supersede_evidence",
            "evidence_file",
            "unit_profile",
            "unit_summary",
            "risk_ratings",
            "control_ratings",
            "incidents",
            "evidence_items",
            "questionnaire_template",
        ],
        REFUSED,
    ),  # fmt: skip
    "confirm_ratings": REFUSED,  # of the other unit; "all units" is tested below
    # a questionnaire that holds the other unit: refused naming its cell
    "check_questionnaire": REJECTED,
    "import_questionnaire": REJECTED,
    # a plan checked by an unscoped officer, changing the other unit: refused by scope
    "apply_questionnaire": REFUSED,
    # reads of everything: only the scope's units
    **dict.fromkeys(
        [
            "list_units",
            "list_cycles",
            "get_cycle",
            "comments",
            "comment",
            "cycle_frames",
            "template_parts",
            "register",
            "aggregations",
            "calibration",
            "method_sensitivity",
            "trend",
            "cycle_history",
            "data_version",
            "key_figures",
            "cycle_map",
            "cycle_register",
            "top_missing",
            "preview_plan",
            "unit_progress",
            "next_unit",
            "briefing",
            "briefing_pdf",
            "cycle_snapshot",
            "export_workbook",
            "verify_evidence",
            "actions",
            "my_scope",
        ],
        CLEAN,
    ),  # fmt: skip
}
# Reads in which an unscoped person does see the other units (so a leak would show).
FILTERED = {
    "list_units", "cycle_frames", "register", "aggregations", "calibration", "trend",
    "cycle_history", "cycle_map", "cycle_register", "preview_plan", "unit_progress", "briefing",
    "briefing_pdf", "cycle_snapshot", "export_workbook", "verify_evidence", "actions",
}  # fmt: skip
SCOPED = {"officer": "cap.officer", "manager": "cap.manager"}
UNSCOPED = {"officer": "officer", "manager": "manager"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The demo ministry; an officer and a manager limited to region Capital, and unscoped
    ones who gave other units an action, an incident, an evidence file and a confirmation."""
    security.N, saved = 2**4, security.N
    mp = pytest.MonkeyPatch()
    mp.setenv("RISKMAP_EVIDENCE_DIR", str(tmp_path_factory.mktemp("evidence")))
    url = f"sqlite:///{tmp_path_factory.mktemp('scopes') / 'riskmap.sqlite'}"
    with Service.open(url, catalogue=CAT) as svc:
        build_demo(svc, units=8, seed=11)
        for role in ("officer", "manager", "admin", "auditor"):
            s.add_user(svc, CLI_ADMIN, role, role, f"{role}-password")
            if role in SCOPED:
                s.add_user(svc, CLI_ADMIN, SCOPED[role], role, f"{role}-password")
                s.set_scope(svc, CLI_ADMIN, SCOPED[role], regions=["Capital"])
        ctl = _control(svc, OTHER)
        s.add_action(svc, "officer", "2026", OTHER, ctl, to_level=4)
        s.record_incident(svc, "officer", OTHER, date(2025, 5, 1), "complaint", risk_id="BOR-01")
        s.add_evidence(
            svc, "officer", "2026", OTHER, control_id=ctl, checklist_entry=1,
            data=b"%PDF-1.4 x", file_name=f"{OTHER}.pdf",
        )  # fmt: skip
        s.confirm_ratings(svc, "officer", "2026", "BC-004")  # in the cycle's history
        yield svc
    security.N = saved
    mp.undo()


def _control(svc: Service, unit: str) -> str:
    c = s.control_ratings(svc, CLI_ADMIN, "2026", unit)
    return str(c[c["maturity"] < 4].iloc[0]["control_id"])


def _versioned(svc: Service, kind: str, unit: str) -> tuple[str, int]:
    frame = getattr(s, f"{kind}_ratings")(svc, CLI_ADMIN, "2026", unit)
    row = frame.iloc[0]
    return str(row[f"{kind}_id"]), int(row["version"])


def call(svc: Service, name: str, actor: str) -> Any:
    """Run `name` as `actor`, naming the other unit wherever the use case takes a unit."""
    f = getattr(s, name)
    match name:
        case "provision_oidc_user":
            return f(svc, actor, "oidc.x", "officer", email="x@ministry.example")
        case "add_user":
            return f(svc, actor, "new.x", "officer", "a-long-password")
        case "set_role" | "disable_user" | "enable_user":
            return f(svc, actor, "officer", *(["auditor"] if name == "set_role" else []))
        case "set_scope":
            return f(svc, actor, "cap.officer", units=[OTHER])
        case "set_up_organisation":
            return f(svc, actor, "Another name")
        case "add_unit":
            return f(svc, actor, "NEW-X", "New unit", "customs")
        case "edit_unit":
            return f(svc, actor, OTHER, expected_version=1, headcount=12)
        case "move_unit":
            return f(svc, actor, OTHER, "CON-001", expected_version=1)
        case "retire_unit":
            return f(svc, actor, OTHER, expected_version=1, reason="closed")
        case "check_unit_import" | "import_units":
            return f(
                svc, actor, pd.DataFrame({"code": ["X-1"], "name": ["X"], "unit_type": ["customs"]})
            )
        case "start_cycle":
            return f(svc, actor, "S-x", how="clone", from_cycle="2025")
        case "submit_cycle" | "approve_cycle" | "lock_cycle" | "get_cycle" | "comments":
            return f(svc, actor, "2026")
        case "reopen_cycle":
            return f(svc, actor, "2026", reason="check")
        case "build_plan" | "preview_plan":
            return f(svc, actor, "2026", budget_days=500)
        case "rate_risk":
            risk, v = _versioned(svc, "risk", OTHER)
            return f(svc, actor, "2026", OTHER, risk, expected_version=v)
        case "rate_control":
            ctl, v = _versioned(svc, "control", OTHER)
            return f(svc, actor, "2026", OTHER, ctl, expected_version=v, evidence="seen")
        case "confirm_ratings" | "unit_profile" | "unit_summary" | "risk_ratings":
            return f(svc, actor, "2026", OTHER)
        case "control_ratings" | "evidence_items":
            return f(svc, actor, "2026", OTHER)
        case "incidents":
            return f(svc, actor, OTHER)
        case "record_incident":
            return f(svc, actor, OTHER, date(2025, 6, 1), "complaint", risk_id="BOR-01")
        case "add_action":
            return f(svc, actor, "2026", OTHER, _control(svc, OTHER), to_level=4)
        case "update_action":
            a = s.actions(svc, CLI_ADMIN, "2026")
            a = a[a["unit_code"] == OTHER].iloc[0]
            return f(svc, actor, int(a["id"]), expected_version=int(a["version"]), notes="x")
        case "add_evidence":
            ctl = _control(svc, OTHER)
            return f(svc, actor, "2026", OTHER, control_id=ctl, checklist_entry=1, reference="R")
        case "supersede_evidence" | "evidence_file":
            items = s.evidence_items(svc, CLI_ADMIN, "2026", OTHER)
            item = int(items.iloc[0]["id"])
            if name == "evidence_file":
                return f(svc, actor, item)
            return f(svc, actor, item, reason="newer", reference="R-2")
        case "questionnaire_template":
            return f(svc, actor, "2026", units=[OTHER])
        case "check_questionnaire" | "import_questionnaire":
            template = s.questionnaire_template(svc, CLI_ADMIN, "2026", units=[OTHER])
            return f(svc, actor, "2026", template, "q.xlsx")
        case "apply_questionnaire":
            wb = load_workbook(io.BytesIO(s.questionnaire_template(svc, CLI_ADMIN, "2026")))
            row = next(r for r in wb["Risks"].iter_rows(min_row=2) if r[0].value == OTHER)
            row[10].value = "Checked again with the unit head"  # its justification
            out = io.BytesIO()
            wb.save(out)
            plan = s.check_questionnaire(svc, "officer", "2026", out.getvalue(), "q.xlsx")
            assert OTHER in plan.units
            return f(svc, actor, plan)
        case "comment":
            return f(svc, actor, "2026", "a note")
        case "trend":
            return f(svc, actor, "2025", "2026")
        case "briefing_pdf":
            from riskmap.reports import briefing as pdf

            # What the PDF is drawn from, as text (test_briefing draws it).
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(pdf, "briefing_document", lambda b, cat: repr(b).encode())
                return f(svc, actor, "2026")
        case (
            "cycle_frames" | "register" | "aggregations" | "calibration" | "method_sensitivity"
            | "cycle_history" | "key_figures" | "cycle_map" | "cycle_register" | "top_missing"
            | "unit_progress"
            | "next_unit" | "briefing" | "cycle_snapshot" | "export_workbook" | "actions"
            | "template_parts"
        ):  # fmt: skip
            return f(svc, actor, "2026")
        case _:
            return f(svc, actor)


def text_of(value: Any, depth: int = 0) -> str:
    """Everything a result holds, as text: frames, mappings, dataclasses, xlsx cells."""
    if depth > 8:
        return ""
    if isinstance(value, pd.DataFrame):
        return value.to_csv() + " ".join(map(str, value.columns))
    if isinstance(value, pd.Series):
        return value.to_csv()
    if isinstance(value, bytes):
        if value[:2] == b"PK":
            return xlsx_text(value)
        return value.decode("latin-1")
    if isinstance(value, dict):
        return " ".join(
            text_of(k, depth + 1) + " " + text_of(v, depth + 1) for k, v in value.items()
        )
    if isinstance(value, list | tuple | set | frozenset):
        return " ".join(text_of(v, depth + 1) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return " ".join(
            text_of(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)
        )
    return str(value)


def xlsx_text(data: bytes) -> str:
    """Every cell of every sheet (values as written), and every sheet's name."""
    assert zipfile.is_zipfile(io.BytesIO(data))
    book = load_workbook(io.BytesIO(data), read_only=True)
    cells = [ws.title for ws in book.worksheets]
    for ws in book.worksheets:
        for row in ws.iter_rows(values_only=True):
            cells.extend(str(v) for v in row if v is not None)
    return "\n".join(cells)


def leaks(value: Any) -> set[str]:
    return set(LEAK.findall(text_of(value)))


def test_expectations_cover_every_use_case():
    assert set(EXPECT) == set(USE_CASES)
    assert FILTERED.issubset({n for n, e in EXPECT.items() if e == CLEAN})


@pytest.mark.parametrize(("name", "role"), list(itertools.product(sorted(EXPECT), SCOPED)))
def test_scope_matrix(world, name, role):
    svc, actor = world, SCOPED[role]
    expect = EXPECT[name] if role in USE_CASES[name] else REFUSED
    before = len(s.audit_trail(svc, CLI_ADMIN))
    if expect == REFUSED:
        with pytest.raises(s.PermissionDenied):
            call(svc, name, actor)
    elif expect == REJECTED:
        with pytest.raises(s.DomainError) as err:
            call(svc, name, actor)
        assert OTHER in str(err.value)  # the cell that holds it is named
    else:
        assert leaks(call(svc, name, actor)) == set(), name
    if expect != CLEAN:  # refused: nothing changed, nothing recorded
        assert len(s.audit_trail(svc, CLI_ADMIN)) == before


@pytest.mark.parametrize(("name", "role"), list(itertools.product(sorted(FILTERED), SCOPED)))
def test_unscoped_readers_do_see_other_units(world, name, role):
    """The control of the matrix: the same read by an unscoped person shows other units."""
    if role not in USE_CASES[name]:
        pytest.skip(f"{role} may not {name}")
    assert leaks(call(world, name, UNSCOPED[role])), name


def test_scope_refusals_say_whose_scope_and_which_unit(world):
    with pytest.raises(s.OutOfScope) as err:
        call(world, "rate_risk", "cap.officer")
    assert str(err.value) == (
        f"cap.officer (role officer) may not rate risk unit {OTHER}: "
        "outside their scope (region Capital)"
    )
    with pytest.raises(s.OutOfScope, match="for the whole ministry"):
        call(world, "approve_cycle", "cap.manager")


def test_a_scoped_manager_sees_figures_of_their_units_only(world):
    svc = world
    figures = s.key_figures(svc, "cap.manager", "2026")["figures"]
    whole = s.key_figures(svc, "manager", "2026")["figures"]
    assert figures["units_assessed"] == len(CAPITAL) < whole["units_assessed"]
    reg = s.register(svc, "cap.manager", "2026")
    assert set(reg["unit_code"]) == set(CAPITAL)
    m = s.cycle_map(svc, "cap.manager", "2026")
    assert LEAK.search(text_of(m)) is None
    view = s.my_scope(svc, "cap.manager")
    assert view.line == f"You see {len(CAPITAL)} of 8 units: region Capital"
    assert s.my_scope(svc, "manager").line == ""
    counts = s.get_cycle(svc, "cap.manager", "2026")
    assert counts["risk_ratings"] == len(s.risk_ratings(svc, "cap.manager", "2026"))
    assert counts["risk_ratings"] < s.get_cycle(svc, "manager", "2026")["risk_ratings"]


def test_workbook_and_template_hold_the_scope_units_only(world):
    svc = world
    book = xlsx_text(s.export_workbook(svc, "cap.manager", "2026"))
    assert LEAK.search(book) is None and all(code in book for code in CAPITAL)
    template = xlsx_text(s.questionnaire_template(svc, "cap.officer", "2026"))
    assert LEAK.search(template) is None and "BC-001" in template
    assert OTHER in xlsx_text(s.questionnaire_template(svc, "officer", "2026"))


def test_confirm_all_units_confirms_the_scope_units_only(world):
    svc = world
    s.start_cycle(svc, "officer", "2027", how="clone", from_cycle="2026")  # all unconfirmed

    def unconfirmed(units):
        rr = s.risk_ratings(svc, CLI_ADMIN, "2027")
        return int((~rr[rr["unit_code"].isin(units)]["confirmed"]).sum())

    others = unconfirmed(OTHERS)
    assert others > 0 and unconfirmed(CAPITAL) > 0
    done = s.confirm_ratings(svc, "cap.officer", "2027")
    assert unconfirmed(CAPITAL) == 0
    assert unconfirmed(OTHERS) == others
    assert done["risk_ratings"] == len(s.risk_ratings(svc, "cap.officer", "2027"))


def test_a_unit_scope_brings_the_units_under_it(world):
    svc = world
    s.add_user(svc, CLI_ADMIN, "hq.officer", "officer", "officer-password")
    s.set_scope(svc, CLI_ADMIN, "hq.officer", units=["BC-001"])
    seen = set(s.list_units(svc, "hq.officer")["code"])
    assert seen == {"BC-001", *OTHERS}
    with pytest.raises(s.OutOfScope):
        s.unit_summary(svc, "hq.officer", "2026", "CON-001")
    trail = s.audit_trail(svc, CLI_ADMIN, entity="user", entity_id="hq.officer")
    event = trail[trail["action"] == "user.scope"].iloc[-1]
    assert event["before"] == {"scope": {"units": [], "regions": [], "unit_types": []}}
    assert event["after"] == {"scope": {"units": ["BC-001"], "regions": [], "unit_types": []}}
    s.set_scope(svc, CLI_ADMIN, "hq.officer")  # cleared: the whole ministry again
    assert len(s.list_units(svc, "hq.officer")) == 8


@pytest.mark.parametrize(
    ("user", "kwargs", "message"),
    [
        ("auditor", {"regions": ["Capital"]}, "an auditor reads the whole ministry"),
        ("admin", {"units": ["BC-001"]}, "an admin reads the whole ministry"),
        ("manager", {"units": ["BC-001"]}, "manager can be limited to regions only"),
        ("officer", {"regions": ["Atlantis"]}, "no unit is in region 'Atlantis'"),
        ("officer", {"units": ["NOPE-1"]}, "no unit with code NOPE-1"),
        ("officer", {"unit_types": ["spaceport"]}, "'spaceport' is not a unit type"),
        ("officer", {"regions": [" "]}, "region: give 1 to 100 characters"),
    ],
)
def test_a_scope_is_refused_where_it_cannot_apply(world, user, kwargs, message):
    with pytest.raises(s.ValidationError, match=re.escape(message)):
        s.set_scope(world, CLI_ADMIN, user, **kwargs)


def test_a_scoped_readers_rows_are_chosen_in_the_query(world, monkeypatch):
    """The scope is applied where the rows are read (`unit_code IN` the visible codes), not
    only by dropping other units' rows afterwards: with the after-the-read filter turned
    off, a scoped manager's frames still hold their units only, and an unscoped one's all."""
    from riskmap.service import frames
    from riskmap.service.scored import forget_scored

    monkeypatch.setattr(frames, "visible", lambda _session, frame, column="unit_code": frame)
    forget_scored()
    for name in ("risk_ratings", "control_ratings", "units"):
        scoped = getattr(s.cycle_frames(world, "cap.manager", "2026"), name)
        assert set(scoped["unit_code"]) == set(CAPITAL), name
        whole = getattr(s.cycle_frames(world, "manager", "2026"), name)
        assert set(whole["unit_code"]) > set(CAPITAL), name
    assert set(s.register(world, "cap.manager", "2026")["unit_code"]) == set(CAPITAL)
    forget_scored()
