"""Issue 12, point 8 in a real browser: an upload on the Units page's "Import a list" tab
stays on that tab, through the preview and the import (the import used to throw the page
back to "Add")."""

from __future__ import annotations

import pytest

from conftest import wait_for_app

pytestmark = pytest.mark.browser


def test_an_upload_stays_on_the_import_tab(page, sign_in, tmp_path):
    sign_in(page, "demo.admin")
    page.get_by_role("link", name="Units").click()
    wait_for_app(page)
    page.get_by_role("heading", name="Units").first.wait_for()
    page.get_by_role("tab", name="Import a list").click()
    wait_for_app(page)
    listing = tmp_path / "units.csv"
    listing.write_text("code,name,unit_type\nBRW-901,Browser test post,border_control\n")
    page.locator("input[type='file']").set_input_files(str(listing))
    wait_for_app(page)
    page.get_by_text("Preview: 1 row(s)").wait_for()
    tab = page.get_by_role("tab", name="Import a list")
    assert tab.get_attribute("aria-selected") == "true"
    assert page.get_by_role("tab", name="Add").get_attribute("aria-selected") == "false"
    page.get_by_text("Ready: 1 unit(s) to add").wait_for()
    # Applied: the page reruns with one unit more, still on the tab in use.
    page.get_by_role("button", name="Apply the whole list").click()
    wait_for_app(page)
    page.get_by_text("Imported units.csv: 1 unit(s) added").first.wait_for()
    assert page.get_by_role("tab", name="Import a list").get_attribute("aria-selected") == "true"
