"""The Audit trail page: an auditor takes a signed checkpoint and downloads it; the file
offered is a checkpoint this riskmap verifies, and the trail records it."""

from __future__ import annotations

import pytest

from riskmap import checkpoints, keys
from riskmap import service as s
from riskmap.service import CLI_ADMIN
from riskmap.store.engine import make_engine, session_factory
from riskmap.ui.audit_anchor import CHECKPOINT_KEY
from ui_harness import errors, page, texts

PAGE = "riskmap.ui.pages.audit_trail"


def _button(at, label):
    return next(b for b in at.button if b.label.startswith(label))


def test_an_auditor_takes_and_downloads_a_checkpoint(ui_db):
    at = page(PAGE, "auditor").run()
    assert not at.exception, at.exception
    assert "No checkpoint taken yet" in texts(at)
    assert CHECKPOINT_KEY not in at.session_state
    _button(at, "Take a checkpoint").click().run()
    assert not errors(at), errors(at)
    data = at.session_state[CHECKPOINT_KEY]
    assert "Last checkpoint:" in texts(at) and "by demo.auditor" in texts(at)

    engine = make_engine(ui_db.url)
    try:
        body = checkpoints.load(data.decode("utf-8"), keys.keyring(engine.url))
        with session_factory(engine)() as session:
            assert checkpoints.verify(session, body) is None
    finally:
        engine.dispose()
    with ui_db.service() as svc:
        trail = s.audit_trail(svc, CLI_ADMIN, entity="audit_trail")
    event = trail[trail["action"] == checkpoints.ACTION].iloc[-1]
    assert event["actor"] == "demo.auditor" == body["taken_by"]
    assert event["after"]["count"] == body["count"]
    assert event["after"]["head_hash"] == body["head_hash"]


@pytest.mark.parametrize("role", ["officer", "manager"])
def test_a_checkpoint_is_for_auditors_and_admins(ui_db, role):
    with ui_db.service() as svc, pytest.raises(s.PermissionDenied, match="may not take checkpoint"):
        s.take_checkpoint(svc, f"demo.{role}")
