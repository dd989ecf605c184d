"""Excel through the service: the snapshot, the workbook export, the questionnaire round trip.

On a small demo ministry (8 units; 2025 locked, 2026 draft), each test on its own copy: a
template is filled in with openpyxl and imported (ratings change, each save is audited with
the file's name); a rating saved after the template was made refuses the file, naming the
cell and who saved it; a justification the baseline rule needs refuses it too; locked and
submitted cycles refuse imports; roles are checked. The corpus of bad questionnaires
(tests/data/bad_questionnaires) goes through the service on a database holding exactly the
corpus's cycle: each file is refused with the errors cases.yaml lists and the database is
unchanged, byte for byte of its backup.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook
from sqlalchemy import delete, insert, select

import make_bad_questionnaires as corpus
from riskmap import security
from riskmap import service as s
from riskmap.backup import backup
from riskmap.demo import build_demo
from riskmap.reports import CycleSnapshot
from riskmap.scoring import SCORE_COLUMNS
from riskmap.service import CLI_ADMIN, Service
from riskmap.store.models import ControlRating, Cycle, RiskRating, Unit
from test_service_workflow import CAT

OFFICER, MANAGER, AUDITOR, ADMIN = "demo.officer", "demo.manager", "demo.auditor", "demo.admin"
CASES = yaml.safe_load((corpus.CORPUS / "cases.yaml").read_text(encoding="utf-8"))["cases"]


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch):
    monkeypatch.setattr(security, "N", 2**4)


@pytest.fixture
def svc(demo_template, tmp_path: Path):
    """A private copy of the 8-unit demo database (see tests/ui_harness.py)."""
    path = tmp_path / "riskmap.sqlite"
    shutil.copyfile(demo_template.path, path)
    with Service.open(f"sqlite:///{path}", catalogue=CAT) as service:
        yield service


def dump(svc: Service) -> dict:
    with svc.sessions() as session:
        return backup(session)


def fill(data: bytes, changes: dict[tuple[str, str], object]) -> bytes:
    """Type answers into a questionnaire as a user would (openpyxl), and save it."""
    wb = load_workbook(io.BytesIO(data))
    for (sheet, ref), value in changes.items():
        wb[sheet][ref].value = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def sheet_rows(data: bytes, sheet: str) -> dict[tuple[str, str], int]:
    """(unit code, risk or control) -> row of the questionnaire's sheet."""
    ws = load_workbook(io.BytesIO(data), read_only=True)[sheet]
    return {
        (row[0], row[3]): i
        for i, row in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2)
        if row[0]
    }


def rating(svc: Service, kind: str, unit: str, item: str) -> pd.Series:
    if kind == "risk":
        frame = s.risk_ratings(svc, CLI_ADMIN, "2026", unit)
        return frame.set_index("risk_id").loc[item]
    frame = s.control_ratings(svc, CLI_ADMIN, "2026", unit)
    return frame.set_index("control_id").loc[item]


def rejected(svc: Service, data: bytes, filename: str, cycle: str = "2026") -> list[str]:
    with pytest.raises(s.QuestionnaireRejected) as err:
        s.import_questionnaire(svc, OFFICER, cycle, data, filename)
    assert err.value.filename == filename
    return [str(p) for p in err.value.problems]


# --------------------------------------------------------------------------- snapshot, export


def test_cycle_snapshot_holds_the_cycle(svc):
    snap = s.cycle_snapshot(svc, AUDITOR, "2025")
    assert isinstance(snap, CycleSnapshot)
    assert snap.organisation.startswith("National Anti-Trafficking Coordination of Arcadia")
    assert (snap.cycle_label, snap.status) == ("2025", "locked")
    assert snap.drafted_by == OFFICER and snap.submitted_by == OFFICER
    assert snap.approved_by == MANAGER and snap.reviewed_by == MANAGER
    assert snap.approved_at is not None and snap.locked_at is not None
    assert snap.catalogue_version == CAT.version
    units = s.list_units(svc, CLI_ADMIN).set_index("code").fillna({"parent": ""})
    assert len(snap.units) == 8
    for u in snap.units.itertuples():
        assert u.code == u.unit_code
        assert u.headcount == units.loc[u.unit_code, "headcount"]
        assert u.parent == units.loc[u.unit_code, "parent"]
    assert (snap.units["parent"] != "").any()  # field offices report to a headquarters
    rr = s.risk_ratings(svc, CLI_ADMIN, "2025")
    assert len(snap.risk_ratings) == len(rr)
    for col in ("justification", "confirmed", "version"):
        assert col in snap.risk_ratings.columns
    for col in ("evidence", "justification", "confirmed", "version"):
        assert col in snap.control_ratings.columns
    assert len(snap.actions) == len(s.actions(svc, CLI_ADMIN, "2025")) > 0
    assert set(snap.incidents["unit_code"]) <= set(snap.units["unit_code"])
    events = s.audit_trail(svc, CLI_ADMIN, cycle="2025")
    assert list(snap.audit_events["id"]) == list(events["id"])
    assert {"cycle.approve", "cycle.lock"} <= set(snap.audit_events["action"])

    draft = s.cycle_snapshot(svc, MANAGER, "2026")
    assert draft.status == "draft" and draft.previous_cycle == "2025"
    assert draft.approved_by is None and draft.locked_at is None


@pytest.mark.parametrize("who", [AUDITOR, MANAGER, ADMIN, OFFICER])
def test_every_role_exports_the_workbook_and_the_export_is_audited(svc, who):
    data = s.export_workbook(svc, who, "2026")
    wb = load_workbook(io.BytesIO(data), read_only=True)
    header = next(wb["Register"].iter_rows(max_row=1, values_only=True))
    assert list(header[: len(SCORE_COLUMNS)]) == SCORE_COLUMNS
    last = s.audit_trail(svc, CLI_ADMIN, cycle="2026").iloc[-1]
    assert (last["action"], last["entity"], last["entity_id"], last["actor"]) == (
        "export",
        "cycle",
        "2026",
        who,
    )
    assert "2026" in last["reason"]


def test_template_roles_and_units(svc):
    data = s.questionnaire_template(svc, ADMIN, "2026", units=["BC-001"])
    assert {unit for unit, _ in sheet_rows(data, "Risks")} == {"BC-001"}
    everything = s.questionnaire_template(svc, OFFICER, "2026")
    assert len({unit for unit, _ in sheet_rows(everything, "Controls")}) == 8
    for who in (MANAGER, AUDITOR):
        with pytest.raises(s.PermissionDenied):
            s.questionnaire_template(svc, who, "2026")
    with pytest.raises(s.NotFound, match="NOPE"):
        s.questionnaire_template(svc, OFFICER, "2026", units=["BC-001", "NOPE"])
    with pytest.raises(s.CycleLocked):
        s.questionnaire_template(svc, OFFICER, "2025")


# --------------------------------------------------------------------------- round trip


def test_round_trip_changes_the_ratings_and_audits_the_file(svc):
    template = s.questionnaire_template(svc, OFFICER, "2026", units=["BC-001", "CON-001"])
    risks, controls = sheet_rows(template, "Risks"), sheet_rows(template, "Controls")
    (unit, risk), r = next(iter(risks.items()))
    (cunit, control), c = next(iter(controls.items()))
    (nunit, ncontrol), n = list(controls.items())[-1]
    before_risk = rating(svc, "risk", unit, risk)
    before_control = rating(svc, "control", cunit, control)
    new_l = 5 if before_risk["likelihood"] != 5 else 4
    new_m = 4 if before_control["maturity"] != 4 else 3
    filled = fill(
        template,
        {
            ("Risks", f"G{r}"): new_l,
            ("Risks", f"K{r}"): "Two complaints about this post in 2025",
            ("Controls", f"G{c}"): new_m,
            ("Controls", f"I{c}"): "Rotation plan 2026, signed",
            ("Controls", f"J{c}"): "Rotation now every two years",
            ("Controls", f"F{n}"): "no",
            ("Controls", f"J{n}"): "Task moved to headquarters",
        },
    )
    before = dump(svc)
    preview = s.check_questionnaire(svc, OFFICER, "2026", filled, "unitX.xlsx")
    assert dump(svc) == before  # a check writes nothing
    assert not preview.applied
    assert (preview.risk_ratings, preview.control_ratings) == (1, 2)
    changed = {
        (x.item_id, x.field): (x.before, x.after, x.cell) for x in preview.changes.itertuples()
    }
    assert changed[(risk, "likelihood")] == (int(before_risk["likelihood"]), new_l, f"Risks!G{r}")
    assert changed[(control, "maturity")][1:] == (new_m, f"Controls!G{c}")
    assert changed[(ncontrol, "applicable")][:2] == ("yes", "no")

    result = s.import_questionnaire(svc, OFFICER, "2026", filled, "unitX.xlsx")
    assert result.applied and (result.risk_ratings, result.control_ratings) == (1, 2)
    assert result.units == tuple(sorted({unit, cunit, nunit}))
    assert result.rows_read == len(risks) + len(controls)
    assert "unitX.xlsx" in result.summary()

    after_risk = rating(svc, "risk", unit, risk)
    assert after_risk["likelihood"] == new_l and after_risk["confirmed"]
    assert after_risk["justification"] == "Two complaints about this post in 2025"
    assert after_risk["version"] == before_risk["version"] + 1
    after_control = rating(svc, "control", cunit, control)
    assert after_control["maturity"] == new_m
    assert after_control["evidence"] == "Rotation plan 2026, signed"
    assert not rating(svc, "control", nunit, ncontrol)["applicable"]

    trail = s.audit_trail(svc, CLI_ADMIN, cycle="2026")
    saves = trail[trail["action"].isin(["risk_rating.save", "control_rating.save"])].tail(3)
    assert list(saves["actor"]) == [OFFICER] * 3
    assert all(reason.startswith("questionnaire import: unitX.xlsx") for reason in saves["reason"])
    assert set(saves["entity_id"]) == {
        f"2026/{unit}/{risk}",
        f"2026/{cunit}/{control}",
        f"2026/{nunit}/{ncontrol}",
    }
    summary = trail.iloc[-1]
    assert summary["action"] == "questionnaire.import" and "unitX.xlsx" in summary["reason"]
    assert s.verify_audit(svc, CLI_ADMIN).ok


def test_an_untouched_template_changes_nothing(svc):
    template = s.questionnaire_template(svc, OFFICER, "2026")
    before = dump(svc)
    result = s.import_questionnaire(svc, OFFICER, "2026", template, "untouched.xlsx")
    assert result.ratings == 0 and result.changes.empty and result.rows_read > 0
    assert dump(svc) == before


def test_round_trip_and_refusal_on_each_backend(db_url):
    """A 6-unit demo on SQLite and PostgreSQL: an import saves in one transaction; a file
    with one stale row saves nothing at all."""
    with Service.open(db_url, catalogue=CAT) as svc:
        build_demo(svc, units=6, seed=3)
        code = s.list_units(svc, CLI_ADMIN)["code"].iloc[0]
        template = s.questionnaire_template(svc, OFFICER, "2026", units=[code])
        (_, first), r = next(iter(sheet_rows(template, "Risks").items()))
        (_, control), c = next(iter(sheet_rows(template, "Controls").items()))
        frame = s.risk_ratings(svc, CLI_ADMIN, "2026", code).set_index("risk_id")
        new = 5 if frame.loc[first, "impact"] != 5 else 4
        filled = fill(
            template,
            {
                ("Risks", f"I{r}"): new,
                ("Risks", f"K{r}"): "Raised after the 2025 inspections",
                ("Controls", f"I{c}"): "Register of decisions, 2026",
            },
        )
        result = s.import_questionnaire(svc, OFFICER, "2026", filled, f"{code}.xlsx")
        assert (result.risk_ratings, result.control_ratings) == (1, 1)
        frame = s.risk_ratings(svc, CLI_ADMIN, "2026", code).set_index("risk_id")
        assert frame.loc[first, "impact"] == new
        # The same file again: both rows are stale now; nothing is saved.
        before = dump(svc)
        problems = rejected(svc, filled, f"{code}.xlsx")
        assert [p.split(":")[0] for p in problems] == [f"Risks!I{r}", f"Controls!I{c}"]
        assert dump(svc) == before
        assert s.verify_audit(svc, CLI_ADMIN).ok


# --------------------------------------------------------------------------- refusals


def test_a_rating_saved_after_the_export_refuses_the_file_naming_cell_and_person(svc):
    s.add_user(svc, CLI_ADMIN, "olga", "officer", "olga-password")
    template = s.questionnaire_template(svc, OFFICER, "2026", units=["BC-001"])
    risks = sheet_rows(template, "Risks")
    (_, stale_risk), r = next(iter(risks.items()))
    (_, other_risk), q = list(risks.items())[1]
    current = rating(svc, "risk", "BC-001", stale_risk)
    # Olga saves the rating in riskmap after the template was made.
    s.rate_risk(
        svc,
        "olga",
        "2026",
        "BC-001",
        stale_risk,
        expected_version=int(current["version"]),
        likelihood=1 if current["likelihood"] != 1 else 2,
        justification="Reviewed on site",
    )
    other = rating(svc, "risk", "BC-001", other_risk)
    filled = fill(
        template,
        {
            ("Risks", f"I{r}"): 5 if current["impact"] != 5 else 4,
            ("Risks", f"K{r}"): "Seen in the files",
            ("Risks", f"I{q}"): 5 if other["impact"] != 5 else 4,  # valid, not stale
            ("Risks", f"K{q}"): "Seen in the files too",
        },
    )
    before = dump(svc)
    problems = rejected(svc, filled, "bc.xlsx")
    assert dump(svc) == before  # the valid row was not saved either
    assert len(problems) == 1
    assert problems[0].startswith(f"Risks!I{r}: the rating of risk {stale_risk} in unit BC-001")
    assert "olga" in problems[0] and "likelihood" in problems[0]
    assert "download a new template" in problems[0]


def test_the_baseline_rule_and_every_problem_are_reported_at_once(svc):
    rr = s.risk_ratings(svc, CLI_ADMIN, "2026")
    moved = rr[
        rr["applicable"]
        & (
            (rr["likelihood"] != rr["baseline_likelihood"])
            | (rr["impact"] != rr["baseline_impact"])
        )
        & (rr["justification"] != "")
    ].iloc[0]
    unit, risk = moved["unit_code"], moved["risk_id"]
    template = s.questionnaire_template(svc, OFFICER, "2026", units=[unit])
    r = sheet_rows(template, "Risks")[(unit, risk)]
    # Clearing the reason of a rating away from its baseline: the file alone cannot know.
    filled = fill(template, {("Risks", f"K{r}"): None})
    before = dump(svc)
    problems = rejected(svc, filled, "cleared.xlsx")
    assert dump(svc) == before
    assert problems == [
        f"Risks!K{r}: justification: likelihood {moved['likelihood']} x impact "
        f"{moved['impact']} differs from the last cycle's rating "
        f"({int(moved['baseline_likelihood'])} x {int(moved['baseline_impact'])}); "
        "say why (evidence, incidents, changed procedures)"
    ]

    # Together with a stale row elsewhere: both problems, in the file's order.
    controls = sheet_rows(template, "Controls")
    (_, control), c = next(iter(controls.items()))
    now = rating(svc, "control", unit, control)
    s.rate_control(
        svc, OFFICER, "2026", unit, control, expected_version=int(now["version"]), evidence="x"
    )
    both = fill(
        filled,
        {("Controls", f"I{c}"): "Minutes of the 2026 review"},
    )
    problems = rejected(svc, both, "both.xlsx")
    assert [p.split(":")[0] for p in problems] == [f"Risks!K{r}", f"Controls!I{c}"]
    assert "demo.officer" in problems[1]


def test_locked_and_submitted_cycles_refuse_imports(svc):
    template = s.questionnaire_template(svc, OFFICER, "2026", units=["BC-001"])
    before = dump(svc)
    with pytest.raises(s.CycleLocked):
        s.import_questionnaire(svc, OFFICER, "2025", template, "old.xlsx")
    with pytest.raises(s.CycleLocked):
        s.check_questionnaire(svc, OFFICER, "2025", template, "old.xlsx")
    assert dump(svc) == before
    s.confirm_ratings(svc, OFFICER, "2026")
    s.submit_cycle(svc, OFFICER, "2026")
    with pytest.raises(s.WorkflowError, match="in review"):
        s.import_questionnaire(svc, OFFICER, "2026", template, "late.xlsx")


@pytest.mark.parametrize("who", [MANAGER, AUDITOR, ADMIN])
def test_only_an_officer_imports(svc, who):
    template = s.questionnaire_template(svc, OFFICER, "2026", units=["BC-001"])
    for case in (s.import_questionnaire, s.check_questionnaire):
        with pytest.raises(s.PermissionDenied):
            case(svc, who, "2026", template, "q.xlsx")


# --------------------------------------------------------------------------- the corpus


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory) -> Path:
    """A database holding exactly the corpus's cycle 2025 (draft): the units, ratings,
    values and versions of `make_bad_questionnaires.fixture_snapshot`."""
    snap = corpus.fixture_snapshot(CAT)
    path = tmp_path_factory.mktemp("corpus") / "riskmap.sqlite"
    cost, security.N = security.N, 2**4
    try:
        with Service.open(f"sqlite:///{path}", catalogue=CAT) as svc:
            s.set_up_organisation(svc, CLI_ADMIN, snap.organisation)
            s.add_user(svc, CLI_ADMIN, "officer", "officer", "officer-password")
            for u in snap.units.itertuples():
                s.add_unit(
                    svc, CLI_ADMIN, u.code, u.unit, u.unit_type, region=u.region,
                    headcount=u.headcount,
                )  # fmt: skip
            s.start_cycle(svc, "officer", corpus.CYCLE, how="empty")
            codes = dict(zip(snap.units["unit_code"], snap.units["code"], strict=True))
            with svc.sessions() as session, session.begin():
                cycle_id = session.scalar(select(Cycle.id).where(Cycle.label == corpus.CYCLE))
                ids = dict(session.execute(select(Unit.code, Unit.id)).all())
                for model, frame in (
                    (RiskRating, snap.risk_ratings),
                    (ControlRating, snap.control_ratings),
                ):
                    session.execute(delete(model).where(model.cycle_id == cycle_id))
                    records = frame.to_dict("records")
                    code_of_row = [codes[rec.pop("unit_code")] for rec in records]
                    rows = [
                        {**rec, "unit_id": ids[code], "cycle_id": cycle_id}
                        for rec, code in zip(records, code_of_row, strict=True)
                    ]
                    session.execute(insert(model.__table__), rows)
    finally:
        security.N = cost
    return path


def _expected(errors: list[str]) -> list[str]:
    """cases.yaml's errors as the service reports them: there a unit is named by its code
    (the corpus's hand-made cycle keys units U1 and U2 apart from their codes)."""
    out = []
    for e in errors:
        e = e.replace("{catalogue_version}", CAT.version)
        out.append(e.replace("unit U1,", "unit BP-N,").replace("unit U2 ", "unit CG-1 "))
    return out


@pytest.fixture(scope="module")
def corpus_files(corpus_db, tmp_path_factory) -> dict[str, bytes]:
    """Every bad file of the corpus, made by its builder from the service's own template."""
    with Service.open(f"sqlite:///{corpus_db}", catalogue=CAT) as svc:
        good = s.questionnaire_template(svc, "officer", corpus.CYCLE)
    assert sheet_rows(good, "Risks") == {
        ("BP-N", "BOR-01"): 2,
        ("BP-N", "BOR-03"): 3,
        ("BP-N", "EXP-06"): 4,
        ("CG-1", "DOC-01"): 5,
        ("CG-1", "DOC-02"): 6,
    }
    return {name: build(good) for name, build in corpus.CASES.items()}


def test_the_corpus_covers_cases_yaml():
    assert [c["file"] for c in CASES] == list(corpus.CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_every_bad_file_is_refused_by_the_service_and_changes_nothing(
    corpus_db, corpus_files, case, tmp_path
):
    path = tmp_path / "riskmap.sqlite"
    shutil.copyfile(corpus_db, path)
    with Service.open(f"sqlite:///{path}", catalogue=CAT) as svc:
        before = dump(svc)
        with pytest.raises(s.QuestionnaireRejected) as err:
            s.import_questionnaire(
                svc, "officer", corpus.CYCLE, corpus_files[case["file"]], case["file"]
            )
        assert [str(p) for p in err.value.problems] == _expected(case["errors"]), case["what"]
        assert dump(svc) == before


# --------------------------------------------------------------------------- one rule


def _at_baseline(svc: Service, skip: tuple[str, str] | None = None) -> pd.Series:
    """A risk rating of 2026 applicable and at its baseline, with room above it."""
    rr = s.risk_ratings(svc, CLI_ADMIN, "2026")
    top = CAT.method.likelihood.max
    ok = rr[
        rr["applicable"]
        & (rr["likelihood"] == rr["baseline_likelihood"])
        & (rr["impact"] == rr["baseline_impact"])
        & (rr["likelihood"] < top)
    ]
    ok = ok[[(u, r) != skip for u, r in zip(ok["unit_code"], ok["risk_id"], strict=True)]]
    return ok.iloc[0]


def _import(svc: Service, unit: str, risk: str, likelihood: int, justification) -> None:
    template = s.questionnaire_template(svc, OFFICER, "2026", units=[unit])
    r = sheet_rows(template, "Risks")[(unit, risk)]
    filled = fill(template, {("Risks", f"G{r}"): likelihood, ("Risks", f"K{r}"): justification})
    s.import_questionnaire(svc, OFFICER, "2026", filled, "q.xlsx")


def test_the_justification_rule_is_the_same_through_the_service_and_the_questionnaire(svc):
    # Raise a likelihood above its baseline with a justification, then set it back to the
    # baseline with the justification cleared: both ways accept both steps.
    by_service = _at_baseline(svc)
    by_file = _at_baseline(svc, skip=(by_service["unit_code"], by_service["risk_id"]))
    for row, how in ((by_service, "service"), (by_file, "questionnaire")):
        unit, risk, base = row["unit_code"], row["risk_id"], int(row["baseline_likelihood"])
        for likelihood, justification in ((base + 1, "Two cases at this post in 2025"), (base, "")):
            if how == "service":
                now = rating(svc, "risk", unit, risk)
                s.rate_risk(
                    svc, OFFICER, "2026", unit, risk, expected_version=int(now["version"]),
                    likelihood=likelihood, justification=justification,
                )  # fmt: skip
            else:
                _import(svc, unit, risk, likelihood, justification or None)
            saved = rating(svc, "risk", unit, risk)
            assert (int(saved["likelihood"]), saved["justification"]) == (
                likelihood, justification,
            ), how  # fmt: skip

    # A change from the baseline without a justification: refused by both, in the same words.
    unit, risk, base = by_file["unit_code"], by_file["risk_id"], int(by_file["baseline_likelihood"])
    now = rating(svc, "risk", unit, risk)
    with pytest.raises(s.ValidationError) as err:
        s.rate_risk(
            svc, OFFICER, "2026", unit, risk, expected_version=int(now["version"]),
            likelihood=base + 1, justification="",
        )  # fmt: skip
    message = str(err.value)
    assert message == (
        f"justification: likelihood {base + 1} x impact {int(now['impact'])} differs from the "
        f"last cycle's rating ({base} x {int(now['baseline_impact'])}); say why (evidence, "
        "incidents, changed procedures)"
    )
    template = s.questionnaire_template(svc, OFFICER, "2026", units=[unit])
    r = sheet_rows(template, "Risks")[(unit, risk)]
    filled = fill(template, {("Risks", f"G{r}"): base + 1, ("Risks", f"K{r}"): None})
    before = dump(svc)
    assert rejected(svc, filled, "q.xlsx") == [f"Risks!K{r}: {message}"]
    assert dump(svc) == before


def test_a_unit_added_since_the_last_cycle_starts_from_the_catalogue_default(svc):
    s.add_unit(svc, ADMIN, "NEW-1", "New border post", "border_control")
    s.start_cycle(svc, OFFICER, "2027", how="clone", from_cycle="2026")
    rr = s.risk_ratings(svc, CLI_ADMIN, "2027")
    new, old = rr[rr["unit_code"] == "NEW-1"], rr[rr["unit_code"] != "NEW-1"]
    assert len(new) == len(CAT.risks_for("border_control")) > 0
    assert set(new["baseline_source"]) == {"catalogue default"}
    assert set(old["baseline_source"]) == {"last cycle's rating"}
    defaults = {r.id: r.defaults["border_control"] for r in CAT.risks_for("border_control")}
    assert [(row.baseline_likelihood, row.baseline_impact) for row in new.itertuples()] == [
        (defaults[r].likelihood, defaults[r].impact) for r in new["risk_id"]
    ]
    first = new.iloc[0]
    with pytest.raises(s.ValidationError, match="differs from the catalogue default"):
        s.rate_risk(
            svc, OFFICER, "2027", "NEW-1", first["risk_id"],
            expected_version=int(first["version"]),
            likelihood=CAT.method.likelihood.max if first["likelihood"] == 1 else 1,
        )  # fmt: skip
