"""Sign-in throttling: failures limited per account and per client, every one audited, on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from riskmap import security
from riskmap import service as s
from riskmap.service import CLI_ADMIN, Service
from riskmap.service import signin_guard as guard
from riskmap.store.models import AuditEvent
from test_service_workflow import CAT, setup_ministry


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch):
    monkeypatch.setattr(security, "N", 2**4)


@pytest.fixture
def svc(db_url):
    with Service.open(db_url, upgrade=False, catalogue=CAT) as svc:
        setup_ministry(svc)
        s.add_user(svc, CLI_ADMIN, "ivana", "officer", "right password 1")
        yield svc


def _actions(svc, name: str) -> list[str]:
    trail = s.audit_trail(svc, CLI_ADMIN, entity="user", entity_id=name)
    return [a for a in trail["action"] if a.startswith("signin.")]


def test_an_account_is_held_after_five_failures_even_with_the_right_password(svc):
    for _ in range(guard.ACCOUNT_LIMIT):
        assert s.authenticate(svc, "ivana", "guess", client="10.0.0.1") is None
    assert s.authenticate(svc, "ivana", "right password 1", client="10.0.0.2") is None
    assert _actions(svc, "ivana") == [guard.FAILED] * guard.ACCOUNT_LIMIT + [guard.THROTTLED]
    held = s.sign_in_hold(svc, "ivana")
    assert held.startswith("too many failed sign-ins for this account: try again after ")
    assert s.authenticate(svc, "otto", "otto-password", client="10.0.0.2") is not None


def test_the_hold_ends_when_the_failures_leave_the_window(svc, db_url):
    for _ in range(guard.ACCOUNT_LIMIT):
        s.authenticate(svc, "ivana", "guess")
    assert s.authenticate(svc, "ivana", "right password 1") is None
    age = timedelta(minutes=16)
    with svc.sessions() as session, session.begin():  # age the failures (guards dropped)
        conn = session.connection()
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER audit_events_no_update ON audit_events"))
        else:
            conn.execute(text("DROP TRIGGER audit_events_no_update"))
        table = AuditEvent.__table__
        rows = conn.execute(select(table.c.id, table.c.at).where(table.c.action == guard.FAILED))
        for rid, at in rows.all():
            conn.execute(update(table).where(table.c.id == rid).values(at=at - age))
    assert s.authenticate(svc, "ivana", "right password 1") is not None


def test_a_client_is_held_after_twenty_failures_on_any_accounts(svc):
    for i in range(guard.CLIENT_LIMIT):
        s.authenticate(svc, f"name{i}", "guess", client="203.0.113.9")
    assert s.authenticate(svc, "otto", "otto-password", client="203.0.113.9") is None
    assert s.sign_in_hold(svc, "otto", "203.0.113.9").startswith(
        "too many failed sign-ins for this client"
    )
    assert s.authenticate(svc, "otto", "otto-password", client="198.51.100.1") is not None
    assert _actions(svc, "otto") == [guard.THROTTLED]


def test_a_hostile_user_name_is_recorded_safely(svc):
    assert s.authenticate(svc, "x\x00" + "y" * 500, "guess", client="a\x07b") is None
    trail = s.audit_trail(svc, CLI_ADMIN, entity="user")
    last = trail.iloc[-1]
    assert last["action"] == guard.FAILED
    assert last["entity_id"] == "x?" + "y" * 78
    assert last["reason"] == "client a?b"
