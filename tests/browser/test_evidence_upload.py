"""Evidence in a real browser: an officer uploads a PDF on a control and sees it listed;
an auditor downloads it and gets the same bytes (issue 15)."""

from __future__ import annotations

import hashlib

import pytest

from conftest import screenshot, sign_out, wait_for_app
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
