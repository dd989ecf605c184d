"""The trail's head and last checkpoint, where an auditor sees them: the service, the
auditor's workbook (Summary sheet) and the Audit trail page."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from riskmap import checkpoints
from riskmap import service as s
from riskmap.service import CLI_ADMIN
from riskmap.store.engine import make_engine, session_factory
from ui_harness import page


def _take_checkpoint(url: str) -> dict:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session, session.begin():
            return checkpoints.take(session, "demo.auditor")
    finally:
        engine.dispose()


def _summary(ui_db) -> dict:
    with ui_db.service() as svc:
        data = s.export_workbook(svc, "demo.auditor", "2026")
    ws = load_workbook(io.BytesIO(data), read_only=True)["Summary"]
    return {row[0]: row[1] for row in ws.iter_rows(values_only=True) if row and row[0]}


def test_the_anchor_before_and_after_a_checkpoint(ui_db):
    with ui_db.service() as svc:
        before = s.audit_anchor(svc, "demo.auditor")
        trail = s.audit_trail(svc, CLI_ADMIN)
    assert before["checkpoint"] is None
    assert (before["events"], before["head_id"]) == (len(trail), int(trail["id"].iloc[-1]))
    assert before["head_hash"] == trail["hash"].iloc[-1]
    none = "none taken (riskmap audit checkpoint)"
    assert _summary(ui_db)["Audit trail: last checkpoint"] == none

    body = _take_checkpoint(ui_db.url)
    with ui_db.service() as svc:
        after = s.audit_anchor(svc, "demo.auditor")
    cp = after["checkpoint"]
    assert (cp["count"], cp["head_id"], cp["head_hash"], cp["by"]) == (
        body["count"], body["head_id"], body["head_hash"], "demo.auditor",
    )  # fmt: skip
    assert after["events"] == before["events"] + 2  # an export, then the checkpoint
    summary = _summary(ui_db)  # read before its own export event is recorded
    assert summary["Audit trail: last checkpoint"].endswith(
        f"by demo.auditor: {body['count']} events, head #{body['head_id']} {body['head_hash']}"
    )
    assert summary["Audit trail: events (all cycles)"] == after["events"]


def test_the_audit_trail_page_shows_the_head_and_the_last_checkpoint(ui_db):
    at = page("riskmap.ui.pages.audit_trail", "auditor").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("No checkpoint taken yet" in i.value for i in at.info)
    body = _take_checkpoint(ui_db.url)
    at = page("riskmap.ui.pages.audit_trail", "auditor").run()
    assert not at.exception, [e.value for e in at.exception]
    texts = [m.value.replace("\\", "") for m in at.markdown]
    assert any(f"Head of the trail: event #{body['head_id'] + 1}" in t for t in texts), texts
    assert any(f"{body['count']:,} events up to event #{body['head_id']}" in t for t in texts), (
        texts
    )
