"""The officer's walk-through in a real browser: sign in, rate one control, see the unit's
summary change, sign out. Screenshots of each step go to test-artifacts/screenshots/."""

from __future__ import annotations

import re

import pytest

from conftest import screenshot, sign_out, wait_for_app
from riskmap import service as s
from riskmap.scoring import score
from riskmap.service import CLI_ADMIN, Service

pytestmark = pytest.mark.browser


def _metric(page, label: str) -> str:
    metric = page.get_by_test_id("stMetric").filter(has_text=label)
    return metric.get_by_test_id("stMetricValue").inner_text().strip()


def _step(page, name: str) -> None:
    page.get_by_test_id("stRadio").first.get_by_text(name, exact=True).click()
    wait_for_app(page)


def _pick(page, label: str, option: str) -> None:
    """Choose `option` (text it starts with) in the selectbox labelled `label`."""
    box = page.get_by_test_id("stSelectbox").filter(has_text=label).first
    box.locator("input").click()
    box.locator("input").fill(option)  # filters the list down to the option
    page.get_by_role("option", name=re.compile("^" + re.escape(option))).first.click()
    wait_for_app(page)


def _control_to_raise(url: str, unit: str) -> tuple[str, int] | None:
    """The applicable control of `unit` whose rise to the top maturity lowers the unit's
    mean residual risk the most (scored with the scoring core, as the summary is)."""
    with Service.open(url, upgrade=False) as svc:
        frames = s.cycle_frames(svc, CLI_ADMIN, "2026")
        catalogue = svc.catalogue

    def mean_residual(controls) -> float:
        reg = score(frames.risk_ratings, controls, frames.units, catalogue)
        return float(reg.loc[reg["unit_code"] == unit, "residual"].mean())

    now = mean_residual(frames.control_ratings)
    ratings = frames.control_ratings
    best, gain = None, 0.0
    for i in ratings.index[
        (ratings["unit_code"] == unit) & ratings["applicable"] & (ratings["maturity"] < 4)
    ]:
        raised = ratings.copy()
        raised.loc[i, "maturity"] = 4
        drop = now - mean_residual(raised)
        if drop > gain:
            best, gain = i, drop
    if best is None:
        return None
    return ratings.loc[best, "control_id"], int(ratings.loc[best, "maturity"])


def _unit_to_rate(url: str) -> str:
    """A unit with a control whose rise lowers its residual risk (other browser tests of
    the session may have changed the demo's ratings before this one)."""
    with Service.open(url, upgrade=False) as svc:
        units = list(s.cycle_frames(svc, CLI_ADMIN, "2026").units["unit_code"])
    for unit in units:
        if _control_to_raise(url, unit) is not None:
            return unit
    raise AssertionError("no unit has a control that lowers its residual risk")


def test_officer_rates_a_control_and_sees_the_summary_change(page, sign_in, demo_site):
    sign_in(page, "demo.officer")
    page.get_by_role("heading", name="Assess").wait_for()
    unit = _unit_to_rate(demo_site.url)
    _pick(page, "Unit", unit)
    page.get_by_text(f"Unit {unit}: ratings").wait_for()
    screenshot(page, "01-assess-unit")
    _step(page, "2. Risks")
    page.get_by_text("Starting point").first.wait_for()
    screenshot(page, "01b-assess-risks")

    # The summary before: the unit's residual risk now.
    _step(page, "4. Summary")
    before = float(_metric(page, "Residual risk (mean)"))
    screenshot(page, "02-summary-before")

    # Rate one control in detail: maturity to the top level, with evidence.
    control_id, maturity = _control_to_raise(demo_site.url, unit)  # type: ignore[misc]
    _step(page, "3. Controls")
    screenshot(page, "03-controls-grid")
    page.get_by_test_id("stRadio").filter(has_text="Grid").get_by_text(
        "One control in detail"
    ).click()
    wait_for_app(page)
    with Service.open(demo_site.url, upgrade=False) as svc:
        name = svc.catalogue.control_by_id[control_id].name
        rows = s.control_ratings(svc, CLI_ADMIN, "2026", unit=unit).set_index("control_id")
    mark = "✓" if rows.loc[control_id, "confirmed"] else "○"
    _pick(page, "Control", f"{mark} {name} ({control_id})")
    page.get_by_text(f"Rating of control {control_id} for unit {unit}").wait_for()
    page.get_by_role("radio", name=re.compile("^4 Leading")).check(force=True)
    wait_for_app(page)
    evidence = page.get_by_label("Evidence (documents, records, where they are)")
    evidence.fill("Monitoring reports 2026 and the review minutes")
    evidence.press("Control+Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Save and confirm control").click()
    wait_for_app(page)
    saved = f"Saved and confirmed control {name} ({control_id}) for unit {unit}."
    page.get_by_text(saved).first.wait_for()
    screenshot(page, "04-control-rated")

    # The summary after: lower residual risk.
    _step(page, "4. Summary")
    after = float(_metric(page, "Residual risk (mean)"))
    screenshot(page, "05-summary-after")
    assert after < before, (before, after)

    with Service.open(demo_site.url, upgrade=False) as svc:
        saved = s.control_ratings(svc, CLI_ADMIN, "2026", unit=unit).set_index("control_id")
        trail = s.audit_trail(svc, CLI_ADMIN, entity="control_rating")
    assert int(saved.loc[control_id, "maturity"]) == 4 > maturity
    assert saved.loc[control_id, "evidence"] == "Monitoring reports 2026 and the review minutes"
    assert bool(saved.loc[control_id, "confirmed"])
    last = trail.iloc[-1]
    assert (last["actor"], last["entity_id"]) == ("demo.officer", f"2026/{unit}/{control_id}")

    sign_out(page)
    page.get_by_label("User name", exact=True).wait_for()
    screenshot(page, "06-signed-out")
