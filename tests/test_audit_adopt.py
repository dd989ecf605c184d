"""Adopting a trail recorded before keys: one keyed event vouches for exactly that prefix.

Events cannot be re-sealed (the table is append-only), so `riskmap audit adopt` appends a
keyed event holding the prefix's length and last hash. Then `verify` needs no
`--allow-unkeyed`, and a rewritten pre-key event, a forged adoption or an unkeyed event
outside the prefix is still named. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from riskmap import audit
from riskmap.cli import main
from riskmap.store.engine import make_engine, session_factory
from riskmap.store.models import AuditEvent
from test_audit import _record_some
from test_audit_keyed import _drop_guards, _rechain


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine):
    return session_factory(engine)


def _pre_key_trail(engine, sessions, n: int = 3) -> list[int]:
    """n events as a riskmap from before keys wrote them (plain SHA-256 chain)."""
    ids = _record_some(sessions, n)
    _rechain(engine, ids[0], None, reason="change 0")
    return ids


def _adopt(sessions, reason: str = "upgrade from riskmap 0.9") -> AuditEvent:
    with sessions() as s, s.begin():
        event = audit.adopt_unkeyed(s, "cli:admin", reason)
        s.expunge(event)
        return event


def _verify(sessions, **kw):
    with sessions() as s:
        return audit.verify(s, **kw)


def _rewrite_plainly(engine, ids: list[int], reason: str) -> None:
    """Rewrite the first of `ids` and re-hash just those events with plain SHA-256, as an
    attacker who can compute an unkeyed chain but not a seal would."""
    with engine.begin() as conn:
        _drop_guards(conn)
    with session_factory(engine)() as s, s.begin():
        rows = s.scalars(select(AuditEvent).where(AuditEvent.id.in_(ids)).order_by(AuditEvent.id))
        prev = audit.GENESIS_HASH
        for i, row in enumerate(rows.all()):
            if i == 0:
                row.reason = reason
            row.prev_hash = prev
            row.hash = audit._event_hash(row)
            prev = row.hash


def test_an_adopted_pre_key_trail_verifies_without_allowing_unkeyed(engine, sessions):
    ids = _pre_key_trail(engine, sessions)
    assert _verify(sessions).ok is False  # before adoption: refused as unkeyed
    event = _adopt(sessions)
    assert event.after == {"events": 3, "head_id": ids[-1], "head_hash": event.prev_hash}
    result = _verify(sessions)
    assert (result.ok, result.checked, result.unkeyed) == (True, 4, 3)
    assert result.message == (
        f"audit chain intact: 4 events (3 recorded before the trail was keyed, adopted by "
        f"event {event.id})"
    )
    _record_some(sessions, 2)  # sealed events after the adoption
    assert _verify(sessions).ok is True


def test_a_pre_key_event_rewritten_after_adoption_is_named_at_the_adoption(engine, sessions):
    ids = _pre_key_trail(engine, sessions)
    event = _adopt(sessions)
    _rewrite_plainly(engine, ids, reason="nothing happened here")
    result = _verify(sessions)
    assert (result.ok, result.first_broken_id) == (False, event.id)
    assert "chain link broken" in result.message


def test_an_adoption_that_miscounts_the_prefix_is_named(engine, sessions):
    ids = _pre_key_trail(engine, sessions)
    with engine.begin() as conn:
        _drop_guards(conn)
    with sessions() as s, s.begin():  # an adoption of only the first two, properly sealed
        tail = s.get(AuditEvent, ids[-1])
        audit.record(
            s, actor="cli:admin", action=audit.ADOPTED, entity="audit_trail",
            after={"events": 2, "head_id": ids[1], "head_hash": tail.prev_hash}, reason="x",
        )  # fmt: skip
    result = _verify(sessions)
    assert result.ok is False
    assert "says 2 events before keys, the trail has 3" in result.message


def test_an_unkeyed_event_after_the_adoption_is_still_refused(engine, sessions):
    _pre_key_trail(engine, sessions)
    _adopt(sessions)
    more = _record_some(sessions, 2)
    _rechain(engine, more[1], None, reason="forged")  # plain SHA-256 after keyed events
    result = _verify(sessions)
    assert (result.ok, result.first_broken_id) == (False, more[1])
    assert "content altered or forged" in result.message


def test_adoption_is_refused_when_there_is_nothing_to_adopt_or_it_was_done(engine, sessions):
    _record_some(sessions, 2)
    with pytest.raises(ValueError, match="nothing to adopt"):
        _adopt(sessions)


def test_the_command_line_adopts_once_and_refuses_a_broken_trail(engine, sessions, db_url):
    ids = _pre_key_trail(engine, sessions)
    run = CliRunner().invoke
    done = run(main, ["audit", "adopt", "--reason", "upgrade", "--db", db_url])
    assert done.exit_code == 0, done.output
    assert f"adopted 3 events recorded before keys (up to event {ids[-1]})" in done.stdout
    strict = run(main, ["audit", "verify", "--db", db_url])
    assert strict.exit_code == 0 and "adopted by event" in strict.stdout
    again = run(main, ["audit", "adopt", "--reason", "again", "--db", db_url])
    assert again.exit_code == 1 and "adopted already" in again.stderr
    _rewrite_plainly(engine, ids, reason="rewritten")
    broken = run(main, ["audit", "adopt", "--reason", "cover-up", "--db", db_url])
    assert broken.exit_code == 1 and "the trail does not verify" in broken.stderr
