"""Issue 12, points 4-7 in a real browser: a conflict reloads the same record with their
values beside the officer's; "does not apply" asks for its own reason and shows no score;
a grid save's message lasts; confirming every rating asks for an attestation first."""

from __future__ import annotations

import re

import pytest
from assess_helpers import in_address, on_screen, pick, ratings, step, type_text

from conftest import wait_for_app
from riskmap import security
from riskmap import service as s
from riskmap.service import CLI_ADMIN, Service

pytestmark = pytest.mark.browser


def _open_risk(page, db, unit: str, risk_id: str) -> dict:
    pick(page, "Unit", unit)
    step(page, "2. Risks")
    mark = "✓" if db.loc[(unit, risk_id), "confirmed"] else "○"
    pick(page, "Risk scenario", f"{mark} {risk_id}")
    here = {"unit": unit, "step": "risks", "record": {"kind": "risk", "id": risk_id, "unit": unit}}
    assert on_screen(page) == here
    return here


def _textarea(page):
    return page.get_by_test_id("stTextArea").locator("textarea").first


def test_conflict_reload_stays_on_the_record_and_shows_theirs(page, sign_in, demo_site):
    sign_in(page, "demo.officer")
    db = ratings(demo_site.url)
    unit = sorted(db.index.get_level_values(0).unique())[1]
    risk_id = db.loc[unit][db.loc[unit, "applicable"]].index[2]  # not the first risk
    here = _open_risk(page, db, unit, risk_id)
    row = db.loc[(unit, risk_id)]
    theirs_impact = 5 if row["impact"] != 5 else 4
    with Service.open(demo_site.url, upgrade=False) as svc:
        cost, security.N = security.N, 2**4
        try:
            if "other.officer" not in set(s.list_users(svc, CLI_ADMIN)["username"]):
                s.add_user(svc, CLI_ADMIN, "other.officer", "officer", "a-long-password")
        finally:
            security.N = cost
        s.rate_risk(
            svc, "other.officer", "2026", unit, risk_id, expected_version=int(row["version"]),
            impact=theirs_impact, justification="Theirs: raised after the inspection",
        )  # fmt: skip
    type_text(page, "Mine: typed before their save")
    page.get_by_role("button", name="Save and confirm", exact=True).click()
    wait_for_app(page)
    warning = page.get_by_text(f"Someone else saved risk {risk_id} of unit {unit}")
    warning.wait_for()
    assert page.get_by_text(re.compile("changed by other.officer")).count()
    sides = page.get_by_test_id("stDataFrame").last
    sides.scroll_into_view_if_needed()
    assert on_screen(page) == here
    after = ratings(demo_site.url)
    assert after.loc[(unit, risk_id), "justification"] == "Theirs: raised after the inspection"

    page.get_by_role("button", name="Reload theirs").click()
    wait_for_app(page)
    assert on_screen(page) == here  # the same risk, not another one
    assert in_address(page)["risk"] == risk_id
    assert _textarea(page).input_value() == "Theirs: raised after the inspection"
    impact = page.get_by_test_id("stRadio").filter(has_text="Impact:").first
    assert impact.locator("label:has(input:checked)").inner_text().startswith(f"{theirs_impact} ")


def test_does_not_apply_asks_its_own_reason_and_shows_no_score(page, sign_in, demo_site):
    sign_in(page, "demo.officer")
    db = ratings(demo_site.url)
    unit = sorted(db.index.get_level_values(0).unique())[2]
    risk_id = db.loc[unit][db.loc[unit, "applicable"]].index[0]
    here = _open_risk(page, db, unit, risk_id)
    type_text(page, "A justification of the levels")
    assert page.get_by_text(re.compile(r"^Inherent risk with these values")).count() == 1
    page.get_by_text("This scenario applies to the unit").click()
    wait_for_app(page)
    reason = page.get_by_label("Why does this scenario not apply to the unit? (required)")
    assert reason.input_value() == ""  # never the old justification, silently
    assert page.get_by_text(re.compile(r"^Inherent risk with these values")).count() == 0
    page.get_by_text("Not applicable: no score").wait_for()
    page.get_by_role("button", name="Save and confirm", exact=True).click()
    wait_for_app(page)
    page.get_by_text(re.compile(f"say why risk {risk_id} does not apply")).first.wait_for()
    assert bool(ratings(demo_site.url).loc[(unit, risk_id), "applicable"])

    reason.fill("The unit stopped issuing visas in March")
    reason.press("Control+Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Save and confirm", exact=True).click()
    wait_for_app(page)
    page.get_by_text(f"Saved and confirmed risk {risk_id} for unit {unit}").first.wait_for()
    assert on_screen(page) == here
    saved = ratings(demo_site.url).loc[(unit, risk_id)]
    assert not bool(saved["applicable"])
    assert saved["justification"] == "The unit stopped issuing visas in March"

    step(page, "4. Summary")
    line = f"Risk {risk_id} does not apply: The unit stopped issuing visas in March"
    assert page.get_by_text(line, exact=True).count() == 1
    assert page.get_by_text(re.compile(rf"^Risk {re.escape(risk_id)}\b")).count() == 1


def test_a_grid_keeps_its_draft_and_its_save_message_lasts(page, sign_in, demo_site):
    sign_in(page, "demo.officer")
    unit = on_screen(page)["unit"]
    step(page, "3. Controls")
    grid = page.locator("[data-testid='stDataFrameResizable']").first
    grid.wait_for()
    page.wait_for_timeout(500)
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 40, box["y"] + 35 + 17)  # the first row's control name
    page.wait_for_timeout(300)
    for _ in range(3):  # to its evidence
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")  # opens the cell's editor
    page.wait_for_timeout(400)
    page.keyboard.press("Control+A")
    page.keyboard.type("Grid evidence: training records 2026")
    page.wait_for_timeout(300)
    page.keyboard.press("Enter")
    wait_for_app(page)
    page.get_by_role("button", name=re.compile(r"^Save 1 changed row")).wait_for()
    # Looking elsewhere keeps the grid's unsaved edit as a draft.
    step(page, "4. Summary")
    step(page, "3. Controls")
    page.get_by_text("1 row(s) changed, not saved yet").wait_for()
    page.get_by_role("button", name=re.compile(r"^Save 1 changed row")).click()
    wait_for_app(page)
    with Service.open(demo_site.url, upgrade=False) as svc:
        controls = s.control_ratings(svc, CLI_ADMIN, "2026", unit=unit)
    first = controls.iloc[0]
    assert first["evidence"] == "Grid evidence: training records 2026"
    name = f"{first['control']} ({first['control_id']})"
    message = f"Saved and confirmed 1 control(s) of unit {unit}: {name}."
    page.wait_for_timeout(2000)  # still there two seconds later ...
    assert page.get_by_test_id("stAlert").filter(has_text=message).count() == 1
    page.get_by_text("One control in detail").click()  # ... and after the next click
    wait_for_app(page)
    assert page.get_by_test_id("stAlert").filter(has_text=message).count() == 1


def test_confirm_all_asks_for_the_attestation(page, sign_in, demo_site):
    sign_in(page, "demo.officer")
    db = ratings(demo_site.url)
    open_units = sorted(db[~db["confirmed"]].index.get_level_values(0).unique())
    unit = open_units[-1]
    pick(page, "Unit", unit)
    step(page, "4. Summary")
    page.get_by_role("button", name=re.compile(r"^Confirm the \d+ unconfirmed")).click()
    wait_for_app(page)
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    yes = dialog.get_by_role("button", name=re.compile(r"^Confirm \d+ rating"))
    assert yes.is_disabled()
    assert not ratings(demo_site.url).loc[unit]["confirmed"].all()  # nothing confirmed yet
    dialog.get_by_text("I reviewed these ratings with the unit").click()
    wait_for_app(page)
    yes.click()
    wait_for_app(page)
    page.get_by_text(f"Every rating of unit {unit} is confirmed").wait_for()
    assert ratings(demo_site.url).loc[unit]["confirmed"].all()
    with Service.open(demo_site.url, upgrade=False) as svc:
        controls = s.control_ratings(svc, CLI_ADMIN, "2026", unit=unit)
    assert controls["confirmed"].all()
