"""Evidence in a real browser: an officer uploads a PDF on a control and sees it listed;
an auditor downloads it and gets the same bytes; an officer supersedes an item on screen and
the panel shows the old one superseded and the new one valid, as the service records them
(issue 15)."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pandas as pd
import pytest

from conftest import SCREENSHOTS, screenshot, sign_out, wait_for_app
from riskmap import service as s
from riskmap.service import CLI_ADMIN, Service

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\n% evidence for the browser test\n%%EOF\n"


def _a_control(url: str) -> tuple[str, str]:
    with Service.open(url, upgrade=False) as svc:
        c = s.control_ratings(svc, CLI_ADMIN, "2026")
    row = c[c["applicable"]].iloc[-1]
    return row["unit_code"], row["control_id"]


def _open(page, base: str, unit: str, control_id: str) -> None:
    page.goto(f"{base}/assess?unit={unit}&step=controls&control={control_id}")
    wait_for_app(page)
    page.get_by_text(f"Rating of control {control_id} for unit {unit}").wait_for()
    # A reload by address may flash Streamlit's "Page not found" before the session is
    # restored; the page shown is the one asked for, so the notice is closed.
    notice = page.get_by_role("dialog")
    if notice.count():
        page.keyboard.press("Escape")
        notice.wait_for(state="hidden")


def test_upload_a_pdf_see_it_listed_download_it_as_an_auditor(
    page, sign_in, demo_site, streamlit_server, tmp_path
):
    unit, control_id = _a_control(demo_site.url)
    upload = tmp_path / "raid-log-2026.pdf"
    upload.write_bytes(PDF)
    sign_in(page, "demo.officer")
    _open(page, streamlit_server, unit, control_id)
    screenshot(page, "evidence-00-opened")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(upload))
    wait_for_app(page)
    page.get_by_role("button", name="Add evidence").click()
    wait_for_app(page)
    page.get_by_text("Added evidence raid-log-2026.pdf").first.wait_for()
    page.get_by_text("raid-log-2026.pdf", exact=False).last.wait_for()
    screenshot(page, "evidence-01-uploaded")
    sign_out(page)

    sign_in(page, "demo.auditor")
    _open(page, streamlit_server, unit, control_id)
    assert page.get_by_role("button", name="Add evidence").count() == 0
    page.get_by_role("button", name="Prepare download").last.click()
    wait_for_app(page)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download raid-log-2026.pdf").click()
    got = tmp_path / "got.pdf"
    info.value.save_as(str(got))
    assert got.read_bytes() == PDF
    assert hashlib.sha256(got.read_bytes()).hexdigest() in page.content()
    screenshot(page, "evidence-02-downloaded")


def _shown(row) -> str:
    """An item's line as the panel should show it, built from what the service returns."""
    what = row["file_name"] if row["kind"] == "file" else row["reference"]
    if not pd.isna(row["superseded_by"]):
        state = f"superseded by item {int(row['superseded_by'])}"
    else:
        until = f", valid until {row['valid_until']}" if row["valid_until"] else ""
        state = {"valid": "valid", "expiring": "expiring within 60 days"}[row["status"]] + until
    at = row["added_at"]
    at = at.tz_localize("UTC") if at.tzinfo is None else at.tz_convert("UTC")
    return (
        f"Item {int(row['id'])}: {what} ({row['kind']}; {state}), answers: "
        f"{row['checklist_entry']}; added by {row['added_by']} at {at:%Y-%m-%d %H:%M} UTC"
    )


def test_supersede_an_item_on_screen_the_old_one_stays_superseded(
    page, sign_in, demo_site, streamlit_server
):
    with Service.open(demo_site.url, upgrade=False) as svc:
        c = s.control_ratings(svc, CLI_ADMIN, "2026")
        unit, control_id = c[c["applicable"]].iloc[-2][["unit_code", "control_id"]]
        old = s.add_evidence(svc, "demo.officer", "2026", unit, control_id=control_id,
                             checklist_entry=1, reference="Order 7/2025, registry B")  # fmt: skip
        s.add_evidence(svc, "demo.officer", "2026", unit, control_id=control_id,
                       checklist_entry=2, data=PDF, file_name="complaints-register-2026.pdf",
                       valid_until=date.today() + timedelta(days=30))  # fmt: skip
    sign_in(page, "demo.officer")
    _open(page, streamlit_server, unit, control_id)
    panel = page.locator(f".st-key-evidence-2026-{unit}-control-{control_id}")
    panel.get_by_text(f"Item {old['id']}: Order 7/2025, registry B").wait_for()
    expander = panel.get_by_test_id("stExpander").filter(has_text=f"Supersede item {old['id']}")
    expander.locator("summary").click()
    form = expander.get_by_test_id("stForm")
    form.get_by_label("Why it is superseded (required)").fill("the order was renewed")
    form.get_by_label("Or a reference", exact=False).fill("Order 9/2026, registry C, shelf 4")
    form.get_by_role("button", name=f"Supersede item {old['id']}").click()
    wait_for_app(page)
    page.get_by_text(f"Item {old['id']} superseded by item").first.wait_for()

    with Service.open(demo_site.url, upgrade=False) as svc:
        items = s.evidence_items(svc, CLI_ADMIN, "2026", unit, include_superseded=True)
    items = items[items["control_id"] == control_id].set_index("id", drop=False)
    assert len(items) == 3
    new_id = int(items.loc[old["id"], "superseded_by"])
    assert items.loc[new_id, "status"] == "valid" and pd.isna(items.loc[new_id, "superseded_by"])
    text = panel.inner_text()
    assert items["status"].tolist().count("expiring") == 1  # the PDF, within 60 days
    for item_id in items.index:
        assert _shown(items.loc[item_id]) in text, (_shown(items.loc[item_id]), text)
    assert f"(reference; superseded by item {new_id})" in text
    assert f"Item {new_id}: Order 9/2026, registry C, shelf 4 (reference; valid)" in text
    # The checklist ticks the entry the new item answers; the old one offers no supersede.
    assert f"Supersede item {new_id}" in text and f"Supersede item {old['id']}" not in text
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    panel.screenshot(path=str(SCREENSHOTS / "walkthrough-evidence.png"))


def test_a_reference_on_a_risk_rating_is_listed_as_the_service_records_it(
    page, sign_in, demo_site, streamlit_server
):
    """The risk step's panel: an officer adds a reference for a rating's justification; the
    line on screen is the item the service returns, on the risk, on no control."""
    with Service.open(demo_site.url, upgrade=False) as svc:
        r = s.risk_ratings(svc, CLI_ADMIN, "2026")
    unit, risk_id = r[r["applicable"]].iloc[-1][["unit_code", "risk_id"]]
    sign_in(page, "demo.officer")
    page.goto(f"{streamlit_server}/assess?unit={unit}&step=risks&risk={risk_id}")
    wait_for_app(page)
    page.get_by_text(f"Rating of risk {risk_id} for unit {unit}").wait_for()
    notice = page.get_by_role("dialog")
    if notice.count():
        page.keyboard.press("Escape")
        notice.wait_for(state="hidden")
    panel = page.locator(f".st-key-evidence-2026-{unit}-risk-{risk_id}")
    panel.get_by_text("Evidence for the justification").wait_for()
    form = panel.get_by_test_id("stForm").filter(has_text="Add evidence")
    form.get_by_label("What it shows", exact=False).fill("2025 staff survey")
    form.get_by_label("Or a reference", exact=False).fill("Survey file S-3, HR archive")
    form.get_by_role("button", name="Add evidence").click()
    wait_for_app(page)
    page.get_by_text(
        f"Added evidence Survey file S-3, HR archive to risk {risk_id}"
    ).first.wait_for()
    with Service.open(demo_site.url, upgrade=False) as svc:
        items = s.evidence_items(svc, CLI_ADMIN, "2026", unit)
    mine = items[items["risk_id"] == risk_id]
    assert len(mine) == 1 and mine["control_id"].isna().all()
    row = mine.iloc[0]
    assert row["checklist_entry"] == "2025 staff survey" and row["added_by"] == "demo.officer"
    assert _shown(row) in panel.inner_text()
