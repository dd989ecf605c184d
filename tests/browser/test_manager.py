"""The manager's walk in a real browser: heat map, filter, a unit's profile, a budget's plan.

As the demo manager: open the heat maps, keep one unit type, click a cell of the map to open
its unit's profile, then on the remediation plan set a budget and see the plan and the map
after the plan below the one now. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import pytest

from conftest import screenshot, wait_for_app

pytestmark = pytest.mark.browser

UNIT_TYPE = "Border control"
TALL = {"width": 1440, "height": 2200}

# Page coordinates of the first cell of the map's pick layer (riskmap.charts.with_pick_layer).
FIRST_CELL_JS = """
(gd) => {
  const t = gd._fullData.find(d => d.name === 'pick');
  if (!t || !t.x || !t.x.length) return null;
  const fl = gd._fullLayout;
  const r = gd.getBoundingClientRect();
  return [r.left + fl.xaxis2._offset + fl.xaxis2.l2p(t.x[0]),
          r.top + fl.yaxis2._offset + fl.yaxis2.l2p(t.y[0])];
}
"""


# Width of one column of the map on screen, and the right edge of the drawn plot.
CELL_WIDTH_JS = """
(gd) => {
  const fl = gd._fullLayout;
  const n = gd._fullData[0].x.length;
  const r = gd.getBoundingClientRect();
  const texts = Array.from(gd.querySelectorAll('.heatmaplayer text, .hm text'));
  const widest = Math.max(0, ...texts.map(t => t.getBBox().width));
  return [fl.xaxis._length / n, r.left + fl.width, widest, texts.length];
}
"""


def open_page(page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    wait_for_app(page)
    page.get_by_role("heading", name=title).first.wait_for()


def choose(page, label: str, option: str) -> None:
    """Pick `option` in the multiselect or selectbox labelled `label`."""
    widget = page.locator(
        "[data-testid='stMultiSelect'], [data-testid='stSelectbox']", has_text=label
    ).first
    widget.locator("input").first.click()
    page.get_by_role("option", name=option, exact=True).first.click()
    page.keyboard.press("Escape")
    wait_for_app(page)


def test_manager_heat_map_unit_profile_and_plan(page, sign_in):
    sign_in(page, "demo.manager")
    open_page(page, "Heat maps")
    chart = page.get_by_test_id("stPlotlyChart").first
    chart.locator(".nsewdrag").first.wait_for()
    assert "Residual risk by unit and risk scenario" in chart.inner_text()
    # At 1,440 px every cell is wide enough for its number, and the map fits the window.
    graph = page.locator("[data-testid='stPlotlyChart'] .js-plotly-plot").first
    cell_px, right, widest, n_texts = graph.evaluate(CELL_WIDTH_JS)
    assert n_texts > 20, "the scores are written in the cells"
    assert widest + 2 <= cell_px, (widest, cell_px)
    assert right <= 1440, right

    # Keep one unit type: the unit picker then offers only units of that type.
    choose(page, "Unit type", UNIT_TYPE)
    page.get_by_text("Border control", exact=True).first.wait_for()
    picker = page.locator("[data-testid='stSelectbox']", has_text="Unit").last
    picker.locator("input").first.click()
    offered = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    units = [o for o in offered if not o.startswith("Choose a unit")]
    assert units and all(o.startswith(UNIT_TYPE) for o in units), offered

    # Click a cell of the map: its unit's profile opens below.
    graph = page.locator("[data-testid='stPlotlyChart'] .js-plotly-plot").first
    point = graph.evaluate(FIRST_CELL_JS)
    assert point, "the map has a pick layer"
    page.mouse.move(*point)
    page.wait_for_timeout(300)
    hover = page.locator(".hoverlayer .hovertext").first
    hover.wait_for()
    words = hover.text_content() or ""  # SVG text: the hover says what the cell means
    assert "Band:" in words and "Risk:" in words, words
    page.mouse.click(*point)
    wait_for_app(page)
    page.get_by_text("Risks rated").first.wait_for()
    chosen = picker.locator("input").first.input_value() or picker.text_content()
    assert UNIT_TYPE in chosen, chosen
    for tab in ("Risks", "Control gaps", "Calibration flags", "History"):
        assert page.get_by_role("tab", name=tab).count()
    page.mouse.move(5, 5)  # no hover label over the map in the picture
    page.set_viewport_size(TALL)
    wait_for_app(page)
    screenshot(page, "manager-heatmap-unit-profile", full_page=False)

    # The remediation plan for a budget, and the map after it below the map now.
    page.set_viewport_size({"width": 1440, "height": 1000})
    open_page(page, "Remediation plan")
    days = page.get_by_role("spinbutton", name="Budget in person-days")
    days.fill("60")
    days.press("Tab")
    page.get_by_role("button", name="Show the plan").click()
    wait_for_app(page)
    page.get_by_text("Actions chosen").first.wait_for()
    charts = page.get_by_test_id("stPlotlyChart")
    texts = " ".join(charts.all_inner_texts())
    assert "Residual risk now" in texts and "Residual risk after the plan" in texts
    table = page.get_by_test_id("stDataFrame").first
    table.wait_for()
    assert not page.get_by_role("button", name="Store this plan as the cycle's actions").count()
    page.set_viewport_size(TALL)
    wait_for_app(page)
    screenshot(page, "manager-plan-after", full_page=False)


def test_manager_reads_the_chain_and_downloads_the_briefing(page, sign_in, tmp_path):
    """The chain on the Heat maps page, then the Briefing page and its PDF, downloaded."""
    import shutil
    import subprocess

    from riskmap.reports import images

    if not (images.available() and shutil.which("pdftotext")):
        import os

        if os.environ.get("RISKMAP_REQUIRE_SERVICES") == "1":
            pytest.fail("kaleido, Chromium and poppler-utils are required for the briefing")
        pytest.skip("kaleido with Chromium, or poppler-utils, not available")
    sign_in(page, "demo.manager")
    open_page(page, "Heat maps")
    page.get_by_test_id("stPlotlyChart").first.locator(".nsewdrag").first.wait_for()
    page.get_by_text("Trafficking chain", exact=True).first.click()
    wait_for_app(page)
    chain = page.get_by_test_id("stPlotlyChart").filter(has_text="The trafficking chain,").first
    chain.locator(".nsewdrag").first.wait_for()
    assert "Weakest link" in chain.inner_text()
    page.mouse.move(5, 5)
    chain.screenshot(path=str(screenshot_path("manager-chain")))

    open_page(page, "Briefing")
    page.get_by_role("heading", name="The trafficking chain").wait_for()
    page.get_by_role("button", name="Prepare the briefing PDF").click()
    wait_for_app(page)
    button = page.get_by_role("button", name="Download the briefing (PDF)")
    button.wait_for(timeout=120_000)
    with page.expect_download() as info:
        button.click()
    target = tmp_path / "briefing.pdf"
    info.value.save_as(target)
    assert info.value.suggested_filename == "riskmap-2026-briefing.pdf"
    data = target.read_bytes()
    assert data.startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", str(target), "-"], capture_output=True, check=True
    ).stdout.decode()
    assert "cycle 2026" in text and "The trafficking chain" in text
    page.set_viewport_size(TALL)
    wait_for_app(page)
    screenshot(page, "manager-briefing", full_page=False)


def screenshot_path(name: str):
    from conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"
