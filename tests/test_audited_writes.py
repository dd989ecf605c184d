"""A change to what a cycle's scores read is audited with that cycle, or not committed.

The scored-cycle memo (`service.scored`) keeps a cycle's register while its audited data
version stands still; `service.audited` refuses, at commit, a service transaction whose
flushes changed a rating, an evidence item, a unit or an incident without an audit event
of the same cycle (none for units and incidents). Every writer the rest of the suite runs
goes through that check; here it is shown to refuse, and to let the right event pass.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from demo_db import demo_file, private_copy
from riskmap import service as s
from riskmap.catalogue import load_catalogue
from riskmap.service import CLI_ADMIN
from riskmap.service.audited import UnauditedChange
from riskmap.store.models import AuditEvent, ControlRating, Cycle, Unit

CAT = load_catalogue()


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return demo_file(tmp_path_factory.mktemp("audited") / "template.sqlite", CAT, units=6)


@pytest.fixture
def svc(template, tmp_path):
    with private_copy(template, tmp_path, CAT) as service:
        yield service


def _rating(tx, label="2026") -> ControlRating:
    cyc = tx.session.scalar(select(Cycle).where(Cycle.label == label))
    return tx.session.scalar(select(ControlRating).where(ControlRating.cycle_id == cyc.id))


def _maturities(svc) -> list[int]:
    with svc.sessions() as session:
        return list(session.scalars(select(ControlRating.maturity).order_by(ControlRating.id)))


def _events(svc) -> int:
    with svc.sessions() as session:
        return session.scalar(select(func.count(AuditEvent.id)))


def test_a_rating_changed_without_its_audit_event_is_refused_and_not_written(svc):
    before, events = _maturities(svc), _events(svc)
    refused = pytest.raises(UnauditedChange, match="control_ratings changed with no audit event")
    with refused, svc.transaction(CLI_ADMIN, "test") as tx:
        row = _rating(tx)
        row.maturity = (row.maturity + 1) % 5
    assert _maturities(svc) == before and _events(svc) == events


def test_an_audit_event_of_another_cycle_does_not_cover_the_change(svc):
    before = _maturities(svc)
    with pytest.raises(UnauditedChange, match="cycle id"), svc.transaction(CLI_ADMIN, "t") as tx:
        row = _rating(tx, "2026")
        other = tx.session.scalar(select(Cycle).where(Cycle.label == "2025"))
        row.maturity = (row.maturity + 1) % 5
        tx.audit("rate_control", "control_rating", row.id, cycle_id=other.id)
    assert _maturities(svc) == before


def test_a_unit_changed_under_a_cycles_event_is_refused(svc):
    """A unit belongs to no cycle: its change must move every cycle's scores (cycle None)."""
    refused = pytest.raises(UnauditedChange, match="units changed with no audit event of no cycle")
    with refused, svc.transaction(CLI_ADMIN, "test") as tx:
        unit = tx.session.scalar(select(Unit))
        unit.headcount = (unit.headcount or 0) + 1
        cyc = tx.session.scalar(select(Cycle).where(Cycle.label == "2026"))
        tx.audit("edit_unit", "unit", unit.id, cycle_id=cyc.id)


def test_the_change_with_its_own_cycles_event_commits(svc):
    with svc.transaction(CLI_ADMIN, "test") as tx:
        row = _rating(tx)
        row.maturity = (row.maturity + 1) % 5
        tx.audit("rate_control", "control_rating", row.id, cycle_id=row.cycle_id)
        changed_to = row.maturity
    assert changed_to in _maturities(svc)


def test_a_service_write_moves_the_scores_a_reader_sees(svc):
    """The memo's side of the rule: an audited save is seen by the next read."""
    reg = s.register(svc, "demo.manager", "2026")
    unit = reg.sort_values("residual").iloc[-1]
    ratings = s.control_ratings(svc, "demo.officer", "2026", unit["unit_code"])
    row = ratings[ratings["maturity"] < 4].iloc[0]
    s.rate_control(
        svc, "demo.officer", "2026", unit["unit_code"], row["control_id"],
        maturity=0, justification="seen again: not in place",
        expected_version=int(row["version"]),
    )  # fmt: skip
    after = s.register(svc, "demo.manager", "2026")
    assert not after.equals(reg)
