"""Issue 12, point 1 in a real browser: after every save and every navigation the unit,
step and record on screen are the ones the officer chose, the address bar names them,
and the database holds the rating on that record and on no other."""

from __future__ import annotations

import pandas as pd
import pytest
from assess_helpers import (
    choose_level,
    in_address,
    on_screen,
    pick,
    picked,
    ratings,
    step,
    type_text,
)

from conftest import wait_for_app

pytestmark = pytest.mark.browser


def _changed(before: pd.DataFrame, after: pd.DataFrame) -> list[tuple[str, str]]:
    cols = ["applicable", "likelihood", "impact", "justification", "confirmed"]
    diff = (before[cols] != after.loc[before.index, cols]).any(axis=1)
    return list(before.index[diff])


def test_a_save_lands_on_the_record_on_screen_and_nowhere_else(page, sign_in, demo_site):
    sign_in(page, "demo.officer")
    page.get_by_role("heading", name="Assess").wait_for()
    db = ratings(demo_site.url)
    units = sorted(db.index.get_level_values(0).unique())
    unit = units[-2]  # not the first unit, nor the one the page opens on by default
    pick(page, "Unit", unit)
    step(page, "2. Risks")
    risks = db.loc[unit]
    risk_id = risks[risks["applicable"]].index[1]  # not the first one either
    pick(page, "Risk scenario", f"{'✓' if risks.loc[risk_id, 'confirmed'] else '○'} {risk_id}")
    here = {"unit": unit, "step": "risks", "record": {"kind": "risk", "id": risk_id, "unit": unit}}
    assert on_screen(page) == here
    assert in_address(page) == {"unit": unit, "step": "risks", "risk": risk_id}

    old = risks.loc[risk_id]
    new_l = 1 if old["likelihood"] != 1 else 2
    choose_level(page, "Likelihood", new_l)
    type_text(page, "Browser test: fewer cases since the rotation")
    assert on_screen(page) == here  # a text edit never moves the form
    page.get_by_role("button", name="Save and confirm", exact=True).click()
    wait_for_app(page)
    page.get_by_text(f"Saved and confirmed risk {risk_id} for unit {unit}").first.wait_for()
    assert on_screen(page) == here
    after = ratings(demo_site.url)
    assert _changed(db, after) == [(unit, risk_id)]
    saved = after.loc[(unit, risk_id)]
    assert int(saved["likelihood"]) == new_l and bool(saved["confirmed"])
    assert saved["justification"] == "Browser test: fewer cases since the rotation"
    # The pickers' labels follow: the risk is now marked confirmed.
    assert picked(page, "Risk scenario").startswith(f"✓ {risk_id} · ")

    # The next edit after a save stays on the same record; nothing else is written.
    type_text(page, "Browser test: edited again, not saved")
    assert on_screen(page) == here
    assert _changed(after, ratings(demo_site.url)) == []

    # Next step, then Back: the address bar carries the place both ways.
    page.get_by_role("button", name="Next: controls →").click()
    wait_for_app(page)
    page.get_by_text(f"Controls of {unit}:").first.wait_for()
    assert on_screen(page)["unit"] == unit and on_screen(page)["step"] == "controls"
    page.go_back()
    wait_for_app(page)
    page.get_by_text(f"Risks of {unit}:").first.wait_for()
    assert on_screen(page) == here
    # The unsaved draft of that risk is still in its form.
    box = page.get_by_test_id("stTextArea").locator("textarea").first
    assert box.input_value() == "Browser test: edited again, not saved"

    # Another unit keeps the step and opens that unit's own record; Back returns.
    other = units[0]
    pick(page, "Unit", other)
    page.get_by_text(f"Risks of {other}:").first.wait_for()
    shown = on_screen(page)
    assert (shown["unit"], shown["step"], shown["record"]["unit"]) == (other, "risks", other)
    assert in_address(page)["risk"] == shown["record"]["id"]
    page.go_back()
    wait_for_app(page)
    page.get_by_text(f"Risks of {unit}:").first.wait_for()
    assert on_screen(page) == here
    assert _changed(after, ratings(demo_site.url)) == []
