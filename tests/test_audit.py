"""The audit trail: hash chain, tamper detection, database-enforced append-only, CLI."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from riskmap import audit
from riskmap.audit import GENESIS_HASH
from riskmap.cli import main
from riskmap.store.engine import make_engine, session_factory
from riskmap.store.migrate import upgrade
from riskmap.store.models import AuditEvent


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine):
    return session_factory(engine)


def _record_some(sessions, n: int = 4) -> list[int]:
    """n events over several transactions; returns their ids."""
    ids = []
    for i in range(n):
        with sessions() as s, s.begin():
            event = audit.record(
                s,
                actor="officer.a" if i % 2 == 0 else "manager.b",
                action="risk_rating.update",
                entity="risk_rating",
                entity_id=100 + i,
                before={"likelihood": i, "due": date(2025, 1, i + 1)},
                after={"likelihood": i + 1, "cost": Decimal("12.50"), "tags": ("a", "b")},
                reason=f"change {i}",
                cycle_id=7 if i < 3 else None,
            )
            ids.append(event.id)
    return ids


def _tamper(engine, sql: str, params: dict, trigger: str) -> None:
    """Change audit_events behind the application's back (dropping the guard first)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"DROP TRIGGER {trigger} ON audit_events"))
        else:
            conn.execute(text(f"DROP TRIGGER {trigger}"))
        conn.execute(text(sql), params)


# --- the chain -------------------------------------------------------------------------


def test_chain_verifies_after_several_records(sessions):
    ids = _record_some(sessions, 5)
    assert ids == sorted(ids) and len(set(ids)) == 5
    with sessions() as s:
        result = audit.verify(s)
        assert result == audit.VerifyResult(True, 5, None, "audit chain intact: 5 events")
        rows = audit.events(s)
    assert [e.id for e in rows] == ids
    assert rows[0].prev_hash == GENESIS_HASH
    for earlier, later in zip(rows, rows[1:], strict=False):
        assert later.prev_hash == earlier.hash
    assert len({e.hash for e in rows}) == 5


def test_values_are_stored_as_plain_json(sessions):
    _record_some(sessions, 1)
    with sessions() as s:
        (event,) = audit.events(s)
    assert event.entity_id == "100"
    assert event.before == {"likelihood": 0, "due": "2025-01-01"}
    assert event.after == {"likelihood": 1, "cost": 12.5, "tags": ["a", "b"]}
    assert event.reason == "change 0"
    assert event.cycle_id == 7


def test_record_joins_the_callers_transaction(sessions):
    with sessions() as s:
        audit.record(s, actor="a", action="x.create", entity="x")
        s.rollback()
    with sessions() as s, s.begin():
        first = audit.record(s, actor="a", action="x.create", entity="x", entity_id=1)
        second = audit.record(s, actor="a", action="x.update", entity="x", entity_id=1)
        assert second.prev_hash == first.hash
    with sessions() as s:
        assert [e.action for e in audit.events(s)] == ["x.create", "x.update"]
        assert audit.events(s)[0].prev_hash == GENESIS_HASH
        assert audit.verify(s).ok


def test_record_refuses_what_it_cannot_store(sessions):
    with sessions() as s:
        with pytest.raises(TypeError, match="object"):
            audit.record(s, actor="a", action="x", entity="x", after={"bad": object()})
        with pytest.raises(ValueError, match="actor"):
            audit.record(s, actor="", action="x", entity="x")
        s.rollback()
        assert audit.events(s) == []


def test_concurrent_writers_keep_one_unbroken_chain(sessions):
    """Two threads appending at once must not fork the chain (both read the same tail)."""
    per_thread = 15
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with sessions() as s, s.begin():
                    audit.record(s, actor=name, action="t.write", entity="t", entity_id=i)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("w1", "w2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with sessions() as s:
        result = audit.verify(s)
    assert result.ok, result.message
    assert result.checked == 2 * per_thread


# --- tampering -------------------------------------------------------------------------


def test_altered_reason_is_named_by_verify(engine, sessions):
    ids = _record_some(sessions, 4)
    victim = ids[1]
    _tamper(
        engine,
        "UPDATE audit_events SET reason = :r WHERE id = :id",
        {"r": "nothing to see here", "id": victim},
        "audit_events_no_update",
    )
    with sessions() as s:
        result = audit.verify(s)
    assert not result.ok
    assert result.first_broken_id == victim
    assert result.checked == 2
    assert f"event {victim}" in result.message
    assert "content altered" in result.message


def test_rewritten_event_with_recomputed_unkeyed_hash_is_caught_at_itself(engine, sessions):
    """A rewrite re-hashed with plain SHA-256 (all an attacker without the key can do) is
    not sealed: verify names the rewritten event itself, not only its successor."""
    ids = _record_some(sessions, 4)
    with sessions() as s:
        victim = s.get(AuditEvent, ids[1])
        forged = audit.compute_hash(
            at=victim.at,
            actor=victim.actor,
            action=victim.action,
            entity=victim.entity,
            entity_id=victim.entity_id,
            cycle_id=victim.cycle_id,
            before=victim.before,
            after=victim.after,
            reason="forged",
            prev_hash=victim.prev_hash,
        )
    _tamper(
        engine,
        "UPDATE audit_events SET reason = 'forged', hash = :h WHERE id = :id",
        {"h": forged, "id": ids[1]},
        "audit_events_no_update",
    )
    with sessions() as s:
        result = audit.verify(s)
    assert not result.ok
    assert result.first_broken_id == ids[1]
    assert "content altered or forged" in result.message


def test_deleted_event_is_detected_at_its_successor(engine, sessions):
    ids = _record_some(sessions, 4)
    _tamper(
        engine, "DELETE FROM audit_events WHERE id = :id", {"id": ids[2]}, "audit_events_no_delete"
    )
    with sessions() as s:
        result = audit.verify(s)
    assert not result.ok
    assert result.first_broken_id == ids[3]
    assert "chain link broken" in result.message


# --- the database refuses changes ------------------------------------------------------


def test_database_refuses_update_of_an_audit_event(engine, sessions):
    ids = _record_some(sessions, 2)
    with pytest.raises(IntegrityError, match="append-only"), engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET reason = 'x' WHERE id = :id"), {"id": ids[0]})
    with sessions() as s:
        assert s.get(AuditEvent, ids[0]).reason == "change 0"
        assert audit.verify(s).ok


def test_database_refuses_delete_of_an_audit_event(engine, sessions):
    ids = _record_some(sessions, 2)
    with pytest.raises(IntegrityError, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events"))
    with sessions() as s:
        assert [e.id for e in audit.events(s)] == ids


def test_orm_update_of_an_audit_event_is_refused(sessions):
    ids = _record_some(sessions, 1)
    with sessions() as s:
        s.get(AuditEvent, ids[0]).reason = "rewritten"
        with pytest.raises(IntegrityError, match="append-only"):
            s.commit()


@pytest.mark.postgres
def test_postgresql_refuses_truncate(fresh_pg_url):
    engine = make_engine(fresh_pg_url)
    upgrade(engine)
    sessions = session_factory(engine)
    _record_some(sessions, 1)
    with pytest.raises(IntegrityError, match="append-only"), engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_events"))
    with sessions() as s:
        assert len(audit.events(s)) == 1
    engine.dispose()


# --- filters ---------------------------------------------------------------------------


def test_events_filters(sessions):
    _record_some(sessions, 4)
    with sessions() as s:
        assert len(audit.events(s, actor="officer.a")) == 2
        assert len(audit.events(s, cycle_id=7)) == 3
        assert len(audit.events(s, entity="risk_rating")) == 4
        assert audit.events(s, entity="unit") == []
        assert [e.entity_id for e in audit.events(s, entity_id=102)] == ["102"]
        now = datetime.now(UTC)
        assert len(audit.events(s, since=now - timedelta(minutes=5))) == 4
        assert audit.events(s, since=now + timedelta(minutes=5)) == []
        assert len(audit.events(s, until=now.date())) == 4  # a date includes the whole day
        assert audit.events(s, until=now - timedelta(minutes=5)) == []
        assert len(audit.events(s, actor="manager.b", cycle_id=7)) == 1


# --- CLI -------------------------------------------------------------------------------


def test_cli_verify_exit_codes(db_url, engine, sessions):
    runner = CliRunner()
    empty = runner.invoke(main, ["audit", "verify", "--db", db_url])
    assert empty.exit_code == 0
    assert "audit chain intact: 0 events" in empty.output

    ids = _record_some(sessions, 3)
    ok = runner.invoke(main, ["audit", "verify", "--db", db_url])
    assert ok.exit_code == 0, ok.output
    assert "audit chain intact: 3 events" in ok.output

    _tamper(
        engine,
        "UPDATE audit_events SET reason = 'x' WHERE id = :id",
        {"id": ids[2]},
        "audit_events_no_update",
    )
    broken = runner.invoke(main, ["audit", "verify", "--db", db_url])
    assert broken.exit_code == 1
    assert f"BROKEN at event {ids[2]}" in broken.output
    assert "content altered" in broken.output


def test_events_of_one_transaction_chain_and_a_rolled_back_savepoint_leaves_no_gap(sqlite_url):
    """The tail cached within a transaction never outlives the (savepoint) it was written in."""
    from riskmap.store.engine import make_engine, session_factory
    from riskmap.store.migrate import upgrade

    engine = make_engine(sqlite_url)
    upgrade(engine)
    with session_factory(engine)() as session, session.begin():
        audit.record(session, actor="a", action="x", entity="e", entity_id=1)
        nested = session.begin_nested()
        audit.record(session, actor="a", action="inside", entity="e", entity_id=2)
        nested.rollback()
        audit.record(session, actor="a", action="y", entity="e", entity_id=3)
        audit.record(session, actor="a", action="z", entity="e", entity_id=4)
    with session_factory(engine)() as session:
        result = audit.verify(session)
        actions = [e.action for e in audit.events(session)]
    engine.dispose()
    assert actions == ["x", "y", "z"]
    assert result.ok and result.checked == 3
