"""The guided walk-through (Assess page): every role reads it, officers rate through it.

Saves go through the service: a rating saved here shows up in the service's reads and in
the audit trail; a stale save is refused as a conflict and overwrites nothing.
"""

from __future__ import annotations

import pandas as pd
import pytest

from riskmap import service as s
from riskmap.service import CLI_ADMIN
from riskmap.ui.pages.assess import STEPS, grid_changes
from ui_harness import ROLES, errors, page, texts, unescape

PAGE = "riskmap.ui.pages.assess"
UNIT = "BC-002"


def _assess(role: str, step: int = 0, unit: str = UNIT, **record: str):
    """The page at `unit` and `step` (and record: risk=..., control=...), as the address
    bar names them."""
    at = page(PAGE, role)
    at.query_params.update({"unit": unit, "step": STEPS[step], **record})
    return at


def _risk(db, unit: str = UNIT, confirmed: bool | None = None) -> pd.Series:
    with db.service() as svc:
        frame = s.risk_ratings(svc, CLI_ADMIN, "2026", unit=unit)
    frame = frame[frame["applicable"]]
    if confirmed is not None:
        frame = frame[frame["confirmed"] == confirmed]
    return frame.iloc[0]


def _risk_page(db, role: str, risk_id: str):
    return _assess(role, 1, risk=risk_id)


@pytest.mark.parametrize("role", ROLES)
def test_every_step_renders_for_every_role(ui_db, role):
    at = _assess(role)
    at.session_state["assess-controls-view"] = "detail"  # one control in detail
    for step in range(4):
        at.query_params["step"] = STEPS[step]
        at.run()
        assert not at.exception, at.exception
        assert not errors(at)
        assert "Cycle 2026: ratings" in at.main.get("progress")[0].proto.text
        saves = [b for b in at.button if b.label.startswith("Save")]
        # Only officers rate (the unit itself is the administrator's, per the service).
        if step in (1, 2):
            assert bool(saves) == (role == "officer"), step
        if step == 0:
            assert bool(saves) == (role == "admin")


def test_signed_out_is_refused(ui_db):
    at = page(PAGE, None).run()
    assert "Please sign in" in errors(at)[0]
    assert not at.radio


def test_progress_per_unit_and_cycle(ui_db):
    at = _assess("officer").run()
    with ui_db.service() as svc:
        info = s.get_cycle(svc, CLI_ADMIN, "2026")
        risks = s.risk_ratings(svc, CLI_ADMIN, "2026", unit=UNIT)
        controls = s.control_ratings(svc, CLI_ADMIN, "2026", unit=UNIT)
    total = info["risk_ratings"] + info["control_ratings"]
    done = total - info["risk_ratings_unconfirmed"] - info["control_ratings_unconfirmed"]
    bars = [p.proto.text for p in at.main.get("progress")]
    assert bars[0] == f"Cycle 2026: ratings: {done} of {total} confirmed"
    unit_done = int(risks["confirmed"].sum() + controls["confirmed"].sum())
    assert bars[1] == f"Unit {UNIT}: ratings: {unit_done} of {len(risks) + len(controls)} confirmed"


def test_risk_shows_level_definitions_and_starting_point(ui_db):
    row = _risk(ui_db)
    at = _risk_page(ui_db, "officer", row["risk_id"]).run()
    p = f"r|2026|{UNIT}|{row['risk_id']}|"
    likelihood = at.radio(key=f"{p}l")
    assert likelihood.value == row["likelihood"]
    assert at.radio(key=f"{p}i").value == row["impact"]
    captions = [o for o in likelihood.proto.captions]
    assert any("Opportunities arise regularly" in c for c in captions)  # level 3, method.yaml
    assert "Starting point (last cycle's rating)" in texts(at)


def test_saving_a_risk_rating_reaches_the_service_and_the_audit_trail(ui_db):
    row = _risk(ui_db)
    risk_id = row["risk_id"]
    p = f"r|2026|{UNIT}|{risk_id}|"
    at = _risk_page(ui_db, "officer", risk_id).run()
    new_l = 1 if row["likelihood"] != 1 else 2
    at.text_area(key=f"{p}j").input("")
    at.radio(key=f"{p}l").set_value(new_l).run()
    # A change from the starting point asks for a justification ...
    assert "(required)" in at.text_area(key=f"{p}j").label
    at.button(key=f"{p}save").click().run()
    assert any("justification" in e.lower() for e in errors(at))
    # ... and with one, the save goes through, confirmed.
    at.text_area(key=f"{p}j").input("Two complaints were withdrawn after review").run()
    at.button(key=f"{p}save").click().run()
    assert not errors(at), errors(at)
    assert f"Saved and confirmed risk {risk_id}" in texts(at)
    with ui_db.service() as svc:
        frame = s.risk_ratings(svc, CLI_ADMIN, "2026", unit=UNIT).set_index("risk_id")
        trail = s.audit_trail(svc, CLI_ADMIN, entity="risk_rating")
    saved = frame.loc[risk_id]
    assert int(saved["likelihood"]) == new_l
    assert bool(saved["confirmed"])
    assert saved["justification"] == "Two complaints were withdrawn after review"
    last = trail.iloc[-1]
    assert last["actor"] == "demo.officer"
    assert last["entity_id"] == f"2026/{UNIT}/{risk_id}"
    assert last["after"]["likelihood"] == new_l
    assert last["reason"] == "Two complaints were withdrawn after review"


def test_not_applicable_asks_its_own_reason_and_has_no_score(ui_db):
    row = _risk(ui_db)
    risk_id = row["risk_id"]
    p = f"r|2026|{UNIT}|{risk_id}|"
    at = _risk_page(ui_db, "officer", risk_id).run()
    at.text_area(key=f"{p}j").input("An old justification of the levels").run()
    at.toggle(key=f"{p}app").set_value(False).run()
    # Its own question, empty: the justification of the levels is not reused as the reason.
    reason = at.text_area(key=f"{p}na")
    assert "not apply" in reason.label and reason.value == ""
    assert not [t for t in at.text_area if t.key == f"{p}j"]
    at.button(key=f"{p}save").click().run()
    assert any("say why risk" in e for e in errors(at))
    with ui_db.service() as svc:
        still = s.risk_ratings(svc, CLI_ADMIN, "2026", unit=UNIT).set_index("risk_id")
    assert bool(still.loc[risk_id, "applicable"])
    # With a reason it saves, as not applicable, with that reason and no score shown.
    at.text_area(key=f"{p}na").input("The unit issues no visas since March").run()
    at.button(key=f"{p}save").click().run()
    assert not errors(at), errors(at)
    with ui_db.service() as svc:
        saved = s.risk_ratings(svc, CLI_ADMIN, "2026", unit=UNIT).set_index("risk_id")
    assert not bool(saved.loc[risk_id, "applicable"])
    assert saved.loc[risk_id, "justification"] == "The unit issues no visas since March"
    table = at.dataframe[0].value.set_index("Risk")
    assert table.loc[risk_id, "Applies"] == "no"
    assert table.loc[risk_id, "Inherent"] == "—" and table.loc[risk_id, "Likelihood"] == "—"
    applicable = saved[saved["applicable"]].index[0]
    assert table.loc[applicable, "Inherent"] == str(
        saved.loc[applicable, "likelihood"] * saved.loc[applicable, "impact"]
    )
    # The summary lists it once, with its reason.
    at.query_params["step"] = "summary"
    at.run()
    lines = [unescape(m.value) for m in at.markdown if risk_id in unescape(m.value)]
    changes = [line for line in lines if line.startswith(f"- Risk {risk_id}")]
    assert changes == [f"- Risk {risk_id} does not apply: The unit issues no visas since March"]


def _control(db, unit: str = UNIT) -> pd.Series:
    with db.service() as svc:
        frame = s.control_ratings(svc, CLI_ADMIN, "2026", unit=unit)
    return frame[frame["applicable"] & (frame["maturity"] < 4)].iloc[0]


def test_rating_a_control_in_detail_changes_the_summary(ui_db):
    row = _control(ui_db)
    control_id = row["control_id"]
    p = f"c|2026|{UNIT}|{control_id}|"
    at = _assess("officer", 3).run()
    before = {m.label: m.value for m in at.metric}["Residual risk (mean)"]

    at.query_params.update({"step": "controls", "control": control_id})
    at.session_state["assess-controls-view"] = "detail"
    at.run()
    radio = at.radio(key=f"{p}m")
    assert radio.value == row["maturity"]
    # The level descriptions are the ones written for this control.
    from riskmap.catalogue import load_catalogue

    written = load_catalogue().control_by_id[control_id].maturity[4]
    assert written.removeprefix("Leading:").strip() in radio.proto.captions[4]
    radio.set_value(4).run()
    at.text_area(key=f"{p}e").input("Training records 2026, signed attendance sheets").run()
    at.button(key=f"{p}save").click().run()
    assert not errors(at), errors(at)

    at.query_params["step"] = "summary"
    at.run()
    after = {m.label: m.value for m in at.metric}["Residual risk (mean)"]
    assert float(after) <= float(before)
    with ui_db.service() as svc:
        saved = s.control_ratings(svc, CLI_ADMIN, "2026", unit=UNIT).set_index("control_id")
        trail = s.audit_trail(svc, CLI_ADMIN, entity="control_rating")
    assert int(saved.loc[control_id, "maturity"]) == 4
    assert saved.loc[control_id, "evidence"].startswith("Training records 2026")
    assert trail.iloc[-1]["entity_id"] == f"2026/{UNIT}/{control_id}"
    assert trail.iloc[-1]["actor"] == "demo.officer"


def test_summary_lists_changes_since_last_cycle(ui_db):
    # A risk moved from last cycle's rating and a control whose maturity moved.
    with ui_db.service() as svc:
        risks = s.risk_ratings(svc, CLI_ADMIN, "2026", unit=UNIT)
        kept = risks[
            risks["applicable"]
            & (risks["likelihood"] == risks["baseline_likelihood"])
            & (risks["impact"] == risks["baseline_impact"])
        ]
        moved, still = kept.iloc[0], kept.iloc[1]
        new_l = 1 if moved["likelihood"] != 1 else 2
        s.rate_risk(
            svc, "demo.officer", "2026", UNIT, moved["risk_id"],
            expected_version=int(moved["version"]), likelihood=new_l,
            justification="Fewer cases after the rotation",
        )  # fmt: skip
        before = s.control_ratings(svc, CLI_ADMIN, "2025", unit=UNIT).set_index("control_id")
        now = s.control_ratings(svc, CLI_ADMIN, "2026", unit=UNIT)
        same = now[now["applicable"]].set_index("control_id")
        same = same[same["maturity"] == before.reindex(same.index)["maturity"]]
        control_id = same.index[0]
        old_m = int(same.loc[control_id, "maturity"])
        new_m = 4 if old_m != 4 else 3
        s.rate_control(
            svc, "demo.officer", "2026", UNIT, control_id,
            expected_version=int(same.loc[control_id, "version"]), maturity=new_m,
        )  # fmt: skip
    at = _assess("manager", 3).run()
    lines = [unescape(m.value) for m in at.markdown]
    assert "**What changed since 2025**" in lines
    base = f"{int(moved['baseline_likelihood'])} × {int(moved['baseline_impact'])}"
    assert (
        f"- Risk {moved['risk_id']}: {base} → {new_l} × {int(moved['impact'])}: "
        "Fewer cases after the rotation"
    ) in lines
    name = ui_db.service().catalogue.control_by_id[control_id].name
    assert f"- Control {name} ({control_id}): maturity {old_m} → {new_m}" in lines
    assert not [line for line in lines if line.startswith(f"- Risk {still['risk_id']}")]
    assert not [b for b in at.button if b.key == "assess-confirm"]  # managers read


def test_grid_view_shows_every_control(ui_db):
    at = _assess("officer", 2).run()
    assert not at.exception, at.exception
    with ui_db.service() as svc:
        controls = s.control_ratings(svc, CLI_ADMIN, "2026", unit=UNIT)
    grid = at.dataframe[0].value
    assert list(grid["control_id"]) == list(controls["control_id"])
    assert list(grid["control"]) == list(controls["control"])  # names, not only ids
    assert list(grid["maturity"]) == list(controls["maturity"])
    assert list(grid["applicable"]) == list(controls["applicable"])
    assert at.button(key=f"g|2026|{UNIT}|save").label == "No changes to save"
    assert f"Controls of {UNIT}: {int(controls['confirmed'].sum())} of {len(controls)}" in texts(at)


def test_locked_cycle_is_read_only(ui_db):
    at = page(PAGE, "officer", cycle="2025")
    at.query_params["step"] = "risks"
    at.run()
    assert any("locked" in i.value for i in at.info)
    assert not [b for b in at.button if b.label.startswith("Save")]


def test_user_text_is_escaped(ui_db):
    with ui_db.service() as svc:
        version = int(s.list_units(svc, CLI_ADMIN).set_index("code").loc[UNIT, "version"])
        s.edit_unit(
            svc,
            CLI_ADMIN,
            UNIT,
            expected_version=version,
            name="**Bold** <b>x</b> [link](http://e)",
        )
    at = _assess("officer").run()
    heading = at.subheader[0].value
    assert "\\*\\*Bold\\*\\*" in heading and "\\<b\\>" in heading and "\\[link\\]" in heading


def test_grid_changes_keep_the_version_read():
    base = pd.DataFrame(
        {
            "control_id": ["a", "b", "c"],
            "maturity": [1, 2, 3],
            "applicable": [True, True, True],
            "evidence": ["", "", ""],
            "justification": ["", "", ""],
            "version": [4, 5, 6],
        }
    )
    edits = {2: {"maturity": "4"}, 0: {"applicable": False, "justification": None}}
    assert grid_changes(base, edits) == [
        ("a", 4, {"applicable": False, "justification": ""}),
        ("c", 6, {"maturity": 4}),
    ]


def test_admin_edits_the_unit_in_step_one(ui_db):
    at = _assess("admin").run()
    p = f"u|{UNIT}|"
    at.number_input(key=f"{p}headcount").set_value(77)
    at.select_slider(key=f"{p}x-discretion").set_value(5)
    at.text_input(key=f"{p}reason").input("Staff moved from the capital")
    at.button(key=f"{p}save").click().run()
    assert not errors(at), errors(at)
    assert f"Saved unit {UNIT}" in texts(at)
    with ui_db.service() as svc:
        unit = s.list_units(svc, CLI_ADMIN).set_index("code").loc[UNIT]
        trail = s.audit_trail(svc, CLI_ADMIN, entity="unit", entity_id=UNIT)
    assert unit["headcount"] == 77 and unit["exposure"]["discretion"] == 5
    assert trail.iloc[-1]["reason"] == "Staff moved from the capital"
    assert trail.iloc[-1]["actor"] == "demo.admin"


def test_back_to_the_starting_point_needs_no_justification_on_the_page(ui_db):
    """Issue 13's divergence, on the page: raise a likelihood with a justification, then set
    it back to the starting point with the justification cleared. The page asks for none and
    the save goes through, as in the service and the questionnaire (test_service_exports)."""
    row = _risk(ui_db)
    risk_id = row["risk_id"]
    base = int(row["baseline_likelihood"])
    p = f"r|2026|{UNIT}|{risk_id}|"
    at = _risk_page(ui_db, "officer", risk_id).run()
    raised = base + 1 if base < 5 else base - 1
    at.radio(key=f"{p}l").set_value(raised).run()
    assert "(required)" in at.text_area(key=f"{p}j").label
    at.text_area(key=f"{p}j").input("Complaints on record this year").run()
    at.button(key=f"{p}save").click().run()
    assert not errors(at), errors(at)
    at = _risk_page(ui_db, "officer", risk_id).run()
    at.radio(key=f"{p}l").set_value(base).run()
    at.text_area(key=f"{p}j").input("").run()
    assert "(required)" not in at.text_area(key=f"{p}j").label
    at.button(key=f"{p}save").click().run()
    assert not errors(at), errors(at)
    with ui_db.service() as svc:
        saved = s.risk_ratings(svc, CLI_ADMIN, "2026", unit=UNIT).set_index("risk_id").loc[risk_id]
    assert int(saved["likelihood"]) == base and saved["justification"] == ""
