"""The walk-through's forms (Assess page): conflicts with theirs beside yours, drafts
that stay with their record, labels that follow a save, confirming with an attestation."""

from __future__ import annotations

from riskmap import service as s
from riskmap.service import CLI_ADMIN
from test_ui_assess import UNIT, _assess, _risk, _risk_page
from ui_harness import errors, texts, unescape


def _stale(db, risk_id: str, version: int, impact: int) -> None:
    """Someone else saves risk `risk_id` of UNIT after the officer opened it."""
    with db.service() as svc:
        s.rate_risk(
            svc,
            "demo.officer",
            "2026",
            UNIT,
            risk_id,
            expected_version=version,
            impact=impact,
            justification="Raised after the inspection report",
        )


def test_a_stale_save_is_a_conflict_with_theirs_beside_yours(ui_db):
    # Not the first risk of the unit: Reload must stay on this one.
    with ui_db.service() as svc:
        frame = s.risk_ratings(svc, CLI_ADMIN, "2026", unit=UNIT)
    row = frame[frame["applicable"]].iloc[1]
    risk_id = row["risk_id"]
    p = f"r|2026|{UNIT}|{risk_id}|"
    at = _risk_page(ui_db, "officer", risk_id).run()
    theirs_impact = 5 if row["impact"] != 5 else 4
    _stale(ui_db, risk_id, int(row["version"]), theirs_impact)
    at.text_area(key=f"{p}j").input("My own reason").run()
    at.button(key=f"{p}save").click().run()
    warning = unescape("\n".join(w.value for w in at.warning))
    assert f"Someone else saved risk {risk_id} of unit {UNIT}" in warning
    assert "impact" in warning and "demo.officer" in warning
    # Their values beside mine, field by field.
    sides = at.dataframe[-1].value.set_index("Field")
    assert sides.loc["Impact", "Theirs (saved)"] == str(theirs_impact)
    assert sides.loc["Impact", "Yours"] == str(row["impact"])
    assert sides.loc["Justification", "Theirs (saved)"] == "Raised after the inspection report"
    assert sides.loc["Justification", "Yours"] == "My own reason"
    with ui_db.service() as svc:
        now = s.risk_ratings(svc, CLI_ADMIN, "2026", unit=UNIT).set_index("risk_id")
    assert now.loc[risk_id, "justification"] == "Raised after the inspection report"
    # Reload: the same risk, with their values; a save from there goes through.
    at.button(key=f"{p}reload").click().run()
    assert not at.warning
    assert at.query_params["risk"] == [risk_id] or at.query_params["risk"] == risk_id
    assert at.selectbox(key="assess-risk").value == risk_id
    assert at.text_area(key=f"{p}j").value == "Raised after the inspection report"
    assert at.radio(key=f"{p}i").value == theirs_impact
    at.button(key=f"{p}save").click().run()
    assert not errors(at) and not at.warning
    assert f"Saved and confirmed risk {risk_id} for unit {UNIT}" in texts(at)


def test_keep_mine_after_a_conflict_saves_mine_knowingly(ui_db):
    row = _risk(ui_db)
    risk_id = row["risk_id"]
    p = f"r|2026|{UNIT}|{risk_id}|"
    at = _risk_page(ui_db, "officer", risk_id).run()
    _stale(ui_db, risk_id, int(row["version"]), 5 if row["impact"] != 5 else 4)
    at.text_area(key=f"{p}j").input("Mine, after talking to the unit").run()
    at.button(key=f"{p}save").click().run()
    assert at.warning
    at.button(key=f"{p}keep").click().run()
    assert at.text_area(key=f"{p}j").value == "Mine, after talking to the unit"
    at.button(key=f"{p}save").click().run()
    assert not errors(at) and not at.warning
    with ui_db.service() as svc:
        now = s.risk_ratings(svc, CLI_ADMIN, "2026", unit=UNIT).set_index("risk_id")
    assert now.loc[risk_id, "justification"] == "Mine, after talking to the unit"
    assert int(now.loc[risk_id, "impact"]) == int(row["impact"])


def _unconfirmed(db, unit: str) -> int:
    with db.service() as svc:
        risks = s.risk_ratings(svc, CLI_ADMIN, "2026", unit=unit)
        controls = s.control_ratings(svc, CLI_ADMIN, "2026", unit=unit)
    return int((~risks["confirmed"]).sum() + (~controls["confirmed"]).sum())


def test_confirm_all_asks_for_the_attestation_first(ui_db):
    with ui_db.service() as svc:
        pending = s.risk_ratings(svc, CLI_ADMIN, "2026").query("~confirmed")
    unit = pending["unit_code"].iloc[0]
    open_before = _unconfirmed(ui_db, unit)
    at = _assess("officer", 3, unit=unit).run()
    assert pending.iloc[0]["risk_id"] in texts(at)  # listed as still unconfirmed
    # The button only opens the dialog: nothing is confirmed yet.
    at.button(key="assess-confirm").click().run()
    assert _unconfirmed(ui_db, unit) == open_before
    attest = at.checkbox(key="assess-confirm-attest")
    assert attest.label == "I reviewed these ratings with the unit"
    assert at.button(key="assess-confirm-yes").disabled
    assert f"This confirms **{open_before}** rating(s)" in texts(at)
    # Cancel leaves everything as it was.
    at.button(key="assess-confirm-no").click().run()
    assert _unconfirmed(ui_db, unit) == open_before
    # Attested, it confirms every rating of the unit, in the officer's name.
    at.button(key="assess-confirm").click().run()
    at.checkbox(key="assess-confirm-attest").check().run()
    assert not at.button(key="assess-confirm-yes").disabled
    at.button(key="assess-confirm-yes").click().run()
    assert _unconfirmed(ui_db, unit) == 0
    assert f"Every rating of unit {unit} is confirmed" in texts(at)
    assert f"Confirmed {open_before} rating(s) of unit {unit}" in texts(at)
    with ui_db.service() as svc:
        trail = s.audit_trail(svc, CLI_ADMIN, entity="cycle", entity_id="2026")
    assert trail.iloc[-1]["action"] == "ratings.confirm"
    assert trail.iloc[-1]["actor"] == "demo.officer"


def test_a_draft_stays_with_its_record_when_the_officer_moves(ui_db):
    with ui_db.service() as svc:
        frame = s.risk_ratings(svc, CLI_ADMIN, "2026", unit=UNIT)
    first, second = list(frame[frame["applicable"]]["risk_id"][:2])
    at = _risk_page(ui_db, "officer", first).run()
    pa, pb = (f"r|2026|{UNIT}|{r}|" for r in (first, second))
    at.text_area(key=f"{pa}j").input("Draft of the first risk").run()
    assert "Not saved yet: 1 change(s)" in texts(at)
    at.selectbox(key="assess-risk").select(second).run()
    assert at.query_params["risk"] in (second, [second])
    assert at.text_area(key=f"{pb}j").value != "Draft of the first risk"
    at.text_area(key=f"{pb}j").input("Saved on the second risk").run()
    at.button(key=f"{pb}save").click().run()
    assert f"Saved and confirmed risk {second} for unit {UNIT}" in texts(at)
    # Back on the first risk: its draft is there, unsaved; the save went to the second only.
    at.selectbox(key="assess-risk").select(first).run()
    assert at.text_area(key=f"{pa}j").value == "Draft of the first risk"
    with ui_db.service() as svc:
        now = s.risk_ratings(svc, CLI_ADMIN, "2026", unit=UNIT).set_index("risk_id")
    before = frame.set_index("risk_id")
    assert now.loc[second, "justification"] == "Saved on the second risk"
    assert now.loc[first, "justification"] == before.loc[first, "justification"]
    assert int(now.loc[first, "version"]) == int(before.loc[first, "version"])


def test_picker_labels_follow_a_save(ui_db):
    with ui_db.service() as svc:
        open_ = s.risk_ratings(svc, CLI_ADMIN, "2026").query("applicable and not confirmed")
    unit, risk_id = open_.iloc[0]["unit_code"], open_.iloc[0]["risk_id"]
    p = f"r|2026|{unit}|{risk_id}|"
    at = _assess("officer", 1, unit=unit, risk=risk_id).run()
    unit_box = at.selectbox(key="assess-unit")
    done_before = unit_box.format_func(unit).rsplit(" · ", 1)[1]
    assert at.selectbox(key="assess-risk").format_func(risk_id).startswith(f"○ {risk_id}")
    at.button(key=f"{p}save").click().run()
    assert not errors(at), errors(at)
    assert at.selectbox(key="assess-risk").format_func(risk_id).startswith(f"✓ {risk_id}")
    done_after = at.selectbox(key="assess-unit").format_func(unit).rsplit(" · ", 1)[1]
    d0, t0 = (int(x) for x in done_before.split("/"))
    assert done_after == f"{d0 + 1}/{t0}" or (done_after == "✓" and d0 + 1 == t0)
    bar = at.main.get("progress")[1].proto.text
    assert bar == f"Unit {unit}: ratings: {d0 + 1} of {t0} confirmed"
