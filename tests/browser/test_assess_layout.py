"""Issue 12, point 10: at 800 px wide the walk-through's buttons keep their words and the
risk table keeps its width (the sidebar is narrower and the button rows wrap)."""

from __future__ import annotations

import pytest
from assess_helpers import step

from conftest import RUN_TIMEOUT_MS, screenshot

pytestmark = pytest.mark.browser

TRUNCATED = """() => [...document.querySelectorAll(
    "[data-testid='stMain'] button[data-testid^='stBaseButton'] p")]
  .filter(p => p.offsetParent !== null && p.scrollWidth > p.clientWidth + 1)
  .map(p => p.textContent)"""


@pytest.fixture
def narrow(browser, streamlit_server):
    context = browser.new_context(
        viewport={"width": 800, "height": 1000}, base_url=streamlit_server
    )
    pg = context.new_page()
    pg.set_default_timeout(RUN_TIMEOUT_MS)
    try:
        yield pg
    finally:
        context.close()


def test_at_800_px_buttons_keep_their_words(narrow, sign_in):
    page = narrow
    sign_in(page, "demo.officer")
    page.get_by_role("heading", name="Assess").wait_for()
    assert page.evaluate(TRUNCATED) == []
    next_unit = page.get_by_role("button", name="Next unit to confirm")
    assert next_unit.is_visible()
    step(page, "2. Risks")
    page.get_by_role("button", name="Save and confirm", exact=True).wait_for()
    screenshot(page, "assess-risks-800px")
    assert page.evaluate(TRUNCATED) == []
    for name in ("Save and confirm", "Next: controls →"):
        assert page.get_by_role("button", name=name, exact=True).is_visible()
    main = page.get_by_test_id("stMain").bounding_box()
    table = page.get_by_test_id("stDataFrame").first.bounding_box()
    assert table["width"] >= 0.6 * main["width"], (table, main)
