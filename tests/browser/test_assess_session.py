"""Issue 12, points 2 and 3 in a real browser: F5 keeps the officer signed in on the same
unit, step and record; signing out revokes the session cookie; leaving Assess for another
page (by the menu or Back) and coming back keeps the place and the unsaved draft."""

from __future__ import annotations

import pytest
from assess_helpers import on_screen, pick, ratings, step, type_text

from conftest import sign_out, wait_for_app

pytestmark = pytest.mark.browser


def _somewhere(page, db) -> dict:
    units = sorted(db.index.get_level_values(0).unique())
    unit = units[-3]
    pick(page, "Unit", unit)
    step(page, "2. Risks")
    risk_id = db.loc[unit].index[3]
    mark = "✓" if db.loc[(unit, risk_id), "confirmed"] else "○"
    pick(page, "Risk scenario", f"{mark} {risk_id}")
    here = {"unit": unit, "step": "risks", "record": {"kind": "risk", "id": risk_id, "unit": unit}}
    assert on_screen(page) == here
    return here


def _signed_in(page) -> bool:
    return page.get_by_role("button", name="Sign out").count() == 1


def test_reload_keeps_the_officer_signed_in_where_they_were(page, sign_in, demo_site):
    sign_in(page, "demo.officer")
    page.wait_for_function("() => document.cookie.includes('riskmap_session=')")
    db = ratings(demo_site.url)
    here = _somewhere(page, db)
    type_text(page, "Draft typed before F5")
    page.reload()
    wait_for_app(page)
    page.get_by_role("button", name="Sign out").wait_for()
    assert on_screen(page) == here
    # The unsaved draft came back with the session, still unsaved.
    box = page.get_by_test_id("stTextArea").locator("textarea").first
    assert box.input_value() == "Draft typed before F5"
    page.get_by_text("Not saved yet: 1 change(s)").wait_for()
    assert (ratings(demo_site.url)["justification"] == db["justification"]).all()
    step(page, "3. Controls")
    page.reload()
    wait_for_app(page)
    page.get_by_role("button", name="Sign out").wait_for()
    assert (on_screen(page)["unit"], on_screen(page)["step"]) == (here["unit"], "controls")

    # Signing out deletes the cookie and ends the session: a copy of it is refused.
    cookie = next(c for c in page.context.cookies() if c["name"] == "riskmap_session")
    sign_out(page)
    page.wait_for_function("() => !document.cookie.includes('riskmap_session=')")
    page.reload()
    wait_for_app(page)
    assert not _signed_in(page)
    page.context.add_cookies([cookie])
    page.reload()
    wait_for_app(page)
    page.get_by_label("User name", exact=True).wait_for()
    assert not _signed_in(page)


def test_leaving_assess_keeps_the_place_and_the_draft(page, sign_in, demo_site):
    sign_in(page, "demo.officer")
    db = ratings(demo_site.url)
    here = _somewhere(page, db)
    type_text(page, "Draft: not saved before leaving")
    page.get_by_text("Not saved yet: 1 change(s)").wait_for()

    # Another page by the menu, then Assess again by the menu.
    page.get_by_role("link", name="Catalogue").click()
    wait_for_app(page)
    page.get_by_role("heading", name="Catalogue").first.wait_for()
    page.get_by_role("link", name="Assess").click()
    wait_for_app(page)
    page.get_by_role("heading", name="Assess").wait_for()
    assert on_screen(page) == here
    box = page.get_by_test_id("stTextArea").locator("textarea").first
    assert box.input_value() == "Draft: not saved before leaving"
    page.get_by_text("Not saved yet: 1 change(s)").wait_for()

    # Another page, then the browser's Back.
    page.get_by_role("link", name="Catalogue").click()
    wait_for_app(page)
    page.get_by_role("heading", name="Catalogue").first.wait_for()
    page.go_back()
    wait_for_app(page)
    page.get_by_role("heading", name="Assess").wait_for()
    assert on_screen(page) == here
    assert box.input_value() == "Draft: not saved before leaving"
    # Nothing was saved on the way.
    assert (ratings(demo_site.url)["justification"] == db["justification"]).all()
