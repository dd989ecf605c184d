"""The one-page briefing (issue 14): what the manager reads in the PDF, checked with poppler.

`pdftotext` must find the cycle, its status and approval, the key figures of the Overview
and the ten highest residual risks; `pdftoppm` must render exactly one A4 page. The
pictures come from kaleido, which drives the system Chromium. Without kaleido, Chromium
or poppler these tests skip, unless RISKMAP_REQUIRE_SERVICES=1 (then they fail).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from demo_db import demo_file
from riskmap import service as s
from riskmap.catalogue import load_catalogue
from riskmap.charts import shorten
from riskmap.cli import main
from riskmap.reports import images
from riskmap.service import CLI_ADMIN, Service
from ui_harness import page

CAT = load_catalogue()
MANAGER = "demo.manager"
TODAY = date(2026, 6, 1)


def _need(ok: bool, what: str) -> None:
    if ok:
        return
    if os.environ.get("RISKMAP_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{what} required (RISKMAP_REQUIRE_SERVICES=1) but not found")
    pytest.skip(f"{what} not available")


@pytest.fixture(scope="module")
def tools():
    _need(images.available(), "kaleido with a Chromium (Debian: chromium)")
    for tool in ("pdftotext", "pdftoppm", "pdfinfo"):
        _need(shutil.which(tool) is not None, f"{tool} (Debian: poppler-utils)")


@pytest.fixture(scope="module")
def db(tmp_path_factory, tools) -> str:
    path = demo_file(tmp_path_factory.mktemp("briefing") / "riskmap.sqlite", CAT, units=24)
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def pdf(db, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pdf") / "briefing.pdf"
    argv = ["briefing", "--cycle", "2025", "-o", str(out), "--as-of", TODAY.isoformat()]
    result = CliRunner().invoke(main, [*argv, "--db", db])
    assert result.exit_code == 0, result.output
    assert "Wrote the briefing of cycle 2025" in result.output
    return out


def text_of(path: Path) -> str:
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def test_the_briefing_is_one_a4_page(pdf, tmp_path):
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, check=True).stdout.decode()
    assert re.search(r"^Pages:\s+1$", info, re.M), info
    assert "595.28 x 841.89 pts (A4)" in info
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "p")], check=True)
    pages = sorted(tmp_path.glob("p*.png"))
    assert len(pages) == 1 and pages[0].stat().st_size > 5_000


def test_the_briefing_names_the_cycle_its_approval_and_the_method(pdf, db):
    text = text_of(pdf)
    with Service.open(db, catalogue=CAT) as svc:
        cyc = s.get_cycle(svc, MANAGER, "2025")
    assert "cycle 2025" in text
    assert "Status: locked, approved by demo.manager" in text, text[:600]
    approved = cyc["approved_at"]
    assert str(approved)[:10] in text
    assert f"{CAT.method.name} {CAT.method.version}" in text
    assert cyc["catalogue_version"][:12] in text


def test_the_key_figures_are_the_overviews(pdf, db):
    text = text_of(pdf)
    with Service.open(db, catalogue=CAT) as svc:
        kf = s.key_figures(svc, MANAGER, "2025", today=TODAY)["figures"]
    lines = text.splitlines()
    head = next(i for i, line in enumerate(lines) if "Units assessed" in line)
    block = " ".join(lines[head : head + 6])
    values = [
        kf["units_assessed"],
        kf["units_critical"],
        f"{kf['mean_residual']:.2f}",
        kf["n_critical"],
        kf["n_high"],
        kf["actions_open"],
        kf["actions_overdue"],
        kf["actions_done"],
    ]
    found = [str(v) for v in values]
    numbers = block.split()
    for v in found:
        assert v in numbers, (v, block)
    assert "no earlier cycle" in text, "2025 is the first cycle: no arrows"


def test_the_ten_highest_residual_risks_are_listed_with_their_units(pdf, db):
    text = text_of(pdf)
    with Service.open(db, catalogue=CAT) as svc:
        reg = s.register(svc, MANAGER, "2025")
    top = reg.sort_values(["residual", "unit_code", "risk_id"], ascending=[False, True, True])
    top = top.head(10)
    assert "The 10 highest residual risks" in text
    for r in top.itertuples():
        assert f"{r.residual:.2f}" in text
        assert shorten(r.unit, 28, middle=True) in text, r.unit
        assert r.risk_id in text
    assert "The trafficking chain" in text and "The plan in brief" in text
    assert "Open calibration flags" in text


def test_the_export_is_audited_and_typed_text_stays_text(db, tmp_path):
    evil = "Évora <b>office</b> (x) Tj BT /F1"
    with Service.open(db, catalogue=CAT) as svc:
        reg = s.register(svc, MANAGER, "2026")
        code = reg.sort_values("residual").iloc[-1]["unit_code"]
        unit = s.list_units(svc, CLI_ADMIN).set_index("code").loc[code]
        s.edit_unit(svc, CLI_ADMIN, code, expected_version=int(unit["version"]), name=evil)
        data = s.briefing_pdf(svc, MANAGER, "2026", today=TODAY)
        event = s.audit_trail(svc, CLI_ADMIN).iloc[-1]
    assert event["action"] == "export" and event["after"]["what"] == "briefing"
    out = tmp_path / "b.pdf"
    out.write_bytes(data)
    assert shorten(evil, 28, middle=True) in text_of(out)


def test_the_briefing_page_shows_the_briefing_and_offers_the_pdf(ui_db, tools):
    at = page("riskmap.ui.pages.briefing", "manager").run(timeout=60)
    assert not at.exception, [e.value for e in at.exception]
    heads = [h.value for h in at.subheader]
    assert "The trafficking chain" in heads and "The plan in brief" in heads
    with ui_db.service() as svc:
        b = s.briefing(svc, MANAGER, "2026")
    top = next(d.value for d in at.dataframe if "residual_band" in d.value.columns)
    assert list(top["unit_code"]) == list(b.top_risks["unit_code"])
    assert not at.get("download_button"), "nothing to download before it is prepared"
    next(x for x in at.button if x.label == "Prepare the briefing PDF").click().run(timeout=120)
    assert not at.exception, [e.value for e in at.exception]
    assert at.get("download_button"), "the PDF is offered once prepared"
