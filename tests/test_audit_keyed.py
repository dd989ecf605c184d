"""The keyed, anchored audit trail against someone who can rewrite the table.

With the append-only triggers dropped (a database administrator can), an attacker deletes
the tail, rewrites an event and re-chains everything after it, or appends an event whose
plain SHA-256 is right. The seal (HMAC under a key outside the database) shows every
rewrite and forgery; a signed checkpoint shows a cut-off tail. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import stat

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from riskmap import audit, checkpoints, keys
from riskmap.cli import main
from riskmap.store.engine import make_engine, session_factory
from riskmap.store.models import AuditEvent
from test_audit import _record_some


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine):
    return session_factory(engine)


def _checkpoint(sessions) -> dict:
    with sessions() as s, s.begin():
        return checkpoints.take(s, "auditor.a")


def _drop_guards(conn) -> None:
    for trigger in ("audit_events_no_update", "audit_events_no_delete"):
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger} ON audit_events"))
        else:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))


def _rechain(engine, start_id: int, key: bytes | None, reason: str = "rewritten") -> None:
    """Rewrite event `start_id`'s reason and re-hash it and every later event (plain
    SHA-256 when `key` is None, else under the attacker's own key)."""
    with engine.begin() as conn:
        _drop_guards(conn)
    with session_factory(engine)() as s, s.begin():
        rows = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        prev = audit.GENESIS_HASH
        for row in rows:
            if row.id >= start_id:
                if row.id == start_id:
                    row.reason = reason
                row.prev_hash = prev
                row.hash = audit._event_hash(row, key)
            prev = row.hash


def _verify(sessions):
    with sessions() as s:
        return audit.verify(s)


def test_a_fresh_trail_is_sealed_not_plainly_hashed(sessions):
    ids = _record_some(sessions, 3)
    with sessions() as s:
        first = s.get(AuditEvent, ids[0])
        assert first.hash != audit._event_hash(first)  # not the plain SHA-256
    result = _verify(sessions)
    assert (result.ok, result.checked, result.unkeyed) == (True, 3, 0)


def test_a_cut_off_tail_passes_the_chain_but_not_the_checkpoint(engine, sessions):
    _record_some(sessions, 4)
    body = _checkpoint(sessions)
    with sessions() as s:
        assert checkpoints.verify(s, body) is None
    with engine.begin() as conn:
        _drop_guards(conn)
        conn.execute(text("DELETE FROM audit_events WHERE id >= :id"), {"id": body["head_id"]})
    assert _verify(sessions).ok  # what is left still chains: only the checkpoint sees it
    with sessions() as s:
        lost = checkpoints.verify(s, body)
    assert lost.startswith(f"event {body['head_id']}, the head of the checkpoint of ")
    assert lost.endswith(f"with 3 events where it had {body['count']}: events were deleted")


@pytest.mark.parametrize("attacker_key", [None, b"the attacker's own key, 32 bytes!!"])
def test_a_rewrite_re_chained_is_named_at_the_rewritten_event(engine, sessions, attacker_key):
    ids = _record_some(sessions, 5)
    body = _checkpoint(sessions)
    _rechain(engine, ids[2], attacker_key)
    result = _verify(sessions)
    assert (result.ok, result.first_broken_id) == (False, ids[2])
    assert "content altered or forged" in result.message
    with sessions() as s:
        lost = checkpoints.verify(s, body)
    assert lost.endswith("(its hash differs): the trail was rewritten and re-chained")


def test_a_forged_append_with_a_correct_unkeyed_hash_is_named(sessions):
    ids = _record_some(sessions, 3)
    with sessions() as s, s.begin():
        tail = s.get(AuditEvent, ids[-1])
        forged = AuditEvent(
            at=tail.at, actor="admin.x", action="user.set_role", entity="user",
            entity_id="eve", cycle_id=None, before={"role": "auditor"},
            after={"role": "admin"}, reason="", prev_hash=tail.hash,
        )  # fmt: skip
        forged.hash = audit._event_hash(forged)  # right, but unkeyed
        s.add(forged)
        s.flush()
        forged_id = forged.id
    result = _verify(sessions)
    assert (result.ok, result.first_broken_id) == (False, forged_id)


def test_an_unkeyed_trail_from_before_keys_verifies_only_when_allowed_and_as_a_prefix(
    engine, sessions
):
    ids = _record_some(sessions, 3)
    _rechain(engine, ids[0], None, reason="change 0")  # as an old riskmap wrote them
    strict = _verify(sessions)
    assert (strict.ok, strict.first_broken_id) == (False, ids[0])
    assert "not sealed with the audit key (a plain SHA-256)" in strict.message
    with sessions() as s:
        allowed = audit.verify(s, allow_unkeyed=True)
    assert (allowed.ok, allowed.unkeyed) == (True, 3)
    assert allowed.message == (
        "audit chain intact: 3 events (3 recorded before the trail was keyed)"
    )
    more = _record_some(sessions, 2)  # sealed from now on
    _rechain(engine, more[1], None, reason="change 0")  # unkeyed after a keyed event
    with sessions() as s:
        assert audit.verify(s, allow_unkeyed=True).first_broken_id == more[1]


def test_the_command_line_checkpoint_and_verify(engine, sessions, db_url, tmp_path):
    _record_some(sessions, 3)
    cp = tmp_path / "cp.json"
    taken = CliRunner().invoke(main, ["audit", "checkpoint", "-o", str(cp), "--db", db_url])
    assert taken.exit_code == 0, taken.output
    body = json.loads(cp.read_text())
    assert body["count"] == 3 and body["key_id"] == keys.keyring(db_url).current.id
    ok = CliRunner().invoke(main, ["audit", "verify", "--checkpoint", str(cp), "--db", db_url])
    assert ok.exit_code == 0, ok.output
    assert "audit chain intact: 4 events" in ok.stdout  # the checkpoint is an event too
    with engine.begin() as conn:
        _drop_guards(conn)
        conn.execute(text("DELETE FROM audit_events WHERE id >= :id"), {"id": body["head_id"]})
    cut = CliRunner().invoke(main, ["audit", "verify", "--checkpoint", str(cp), "--db", db_url])
    assert cut.exit_code == 1
    assert cut.stderr.startswith(f"audit trail BROKEN against {cp}: event {body['head_id']}")
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps({**body, "count": 2}))
    refused = CliRunner().invoke(
        main, ["audit", "verify", "--checkpoint", str(edited), "--db", db_url]
    )
    assert refused.exit_code == 1
    assert refused.stderr.strip() == (
        f"{edited}: the checkpoint's signature does not match: it was edited"
    )


def test_rotation_keeps_old_events_verifiable_and_keys_only_move_forward(
    engine, sessions, db_url, tmp_path, monkeypatch
):
    monkeypatch.setenv(keys.ENV_FILE, str(tmp_path / "rotating.key"))
    ids = _record_some(sessions, 2)
    old = keys.keyring(db_url)
    rotated = CliRunner().invoke(main, ["audit", "rotate-key", "--db", db_url])
    assert rotated.exit_code == 0, rotated.output
    new = keys.keyring(db_url)
    assert [k.id for k in new.keys] == [old.current.id, new.current.id]
    later = _record_some(sessions, 2)
    assert _verify(sessions).ok
    with sessions() as s:
        assert s.get(AuditEvent, later[0]).hash == audit._event_hash(
            s.get(AuditEvent, later[0]), new.current.secret
        )
    # A retired key (leaked, say) cannot seal events after newer ones.
    _rechain(engine, later[1], old.current.secret)
    result = _verify(sessions)
    assert (result.ok, result.first_broken_id) == (False, later[1])
    assert ids


def test_the_default_key_is_created_beside_the_database(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(keys.ENV_FILE)
    url = f"sqlite:///{tmp_path / 'db' / 'riskmap.sqlite'}"
    ring = keys.keyring(url)
    path = tmp_path / "db" / "audit.key"
    assert ring.path == path and path.exists()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert f"created a new audit key in {path}" in capsys.readouterr().err
    assert keys.keyring(url).current == ring.current  # read back, not made again
    monkeypatch.setenv(keys.ENV_KEY, "short")
    with pytest.raises(keys.KeyUnavailable, match="at least 32 characters"):
        keys.keyring(url)


def test_processes_starting_together_share_one_first_key(tmp_path, monkeypatch):
    import threading

    monkeypatch.delenv(keys.ENV_FILE)
    url = f"sqlite:///{tmp_path / 'race' / 'riskmap.sqlite'}"
    found, start = [], threading.Barrier(8)

    def first_use():
        start.wait()
        found.append(keys.keyring(url).current.id)

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(found) == 8 and len(set(found)) == 1
    assert len(keys.keyring(url).keys) == 1
