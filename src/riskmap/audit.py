"""The audit trail: an append-only, keyed, hash-chained log of who changed what, when and why.

Every event stores the seal of its own content and the seal of the event before it. The
seal is an HMAC-SHA256 under the audit key (`riskmap.keys`), which the database never
holds: the database refuses UPDATE and DELETE on `audit_events` (triggers in the
migration), and someone who gets round that (a database administrator drops the triggers)
can delete or rewrite events but cannot seal the result. `verify` recomputes the chain and
names the first event whose content no longer matches its seal (an edit, or an event
forged with a plain SHA-256 or another key), or whose link to the previous event is
broken. Deleting the tail leaves a sound chain: a signed checkpoint
(`riskmap.checkpoints`) that an auditor keeps shows it.

Keys rotate forward: once an event is sealed with a key, later events are sealed with it
or a newer one. An event with a plain SHA-256 (a trail recorded before it was keyed, or a
forgery) breaks the chain, unless `allow_unkeyed` accepts such events at the trail's start,
before the first keyed one (`riskmap audit verify --allow-unkeyed`, for a database from
before keys); `VerifyResult.unkeyed` counts them.

Events cannot be re-sealed (the table is append-only), so a trail from before keys is
*adopted* instead (`adopt_unkeyed`, `riskmap audit adopt`): one keyed event records how
many events came before keys and the hash of the last of them. From then on `verify`
accepts exactly that prefix without `--allow-unkeyed`: rewriting an adopted event changes
the prefix's head (its plain chain can be recomputed, the adoption's seal cannot), and an
unkeyed event anywhere else is still refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from riskmap import keys
from riskmap.audit_seal import (  # noqa: F401 - re-exported: the trail's users import them here
    _iso,
    _utc,
    canonical_json,
    compute_hash,
    json_safe,
)
from riskmap.store.models import AuditEvent

GENESIS_HASH = "0" * 64

# pg_advisory_xact_lock key: one writer at a time appends to the chain on PostgreSQL.
ADVISORY_LOCK_KEY = 0x7269_736B_6D61_70  # "riskmap"

_VERIFY_BATCH = 1000

ADOPTED = "audit.unkeyed_adopted"  # the action of the event that adopts a pre-key prefix


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_broken_id: int | None
    message: str
    unkeyed: int = 0  # events before the trail was keyed (plain SHA-256), at its start


def _keyring(session: Session) -> keys.Keyring:
    return keys.keyring(session.get_bind().url)


def _event_hash(row: Any, key: bytes | None = None) -> str:
    return compute_hash(
        at=row.at,
        actor=row.actor,
        action=row.action,
        entity=row.entity,
        entity_id=row.entity_id,
        cycle_id=row.cycle_id,
        before=row.before,
        after=row.after,
        reason=row.reason,
        prev_hash=row.prev_hash,
        key=key,
    )


def _sealed_by(row: Any, ring: keys.Keyring, level: int) -> int | None:
    """The index in `ring` of the key that sealed `row` (-1: no key, allowed only while no
    keyed event came before), trying keys from `level` on; None if none did."""
    for i in range(max(level, 0), len(ring.keys)):
        if _event_hash(row, ring.keys[i].secret) == row.hash:
            return i
    if level < 0 and _event_hash(row) == row.hash:
        return -1
    return None


# --- writing ---------------------------------------------------------------------------


def _lock_chain(session: Session) -> None:
    """Make this transaction the only one appending until it ends."""
    conn = session.connection()
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
    elif dialect == "sqlite":
        # A write statement (matching no row) takes SQLite's database write lock for the
        # rest of the transaction, so reading the chain's tail and appending are atomic.
        conn.execute(text("UPDATE audit_events SET id = id WHERE 0 = 1"))


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int = "",
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
    cycle_id: int | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (flushed, not committed)."""
    entry = Entry(action, entity, entity_id, before, after, reason, cycle_id)
    return record_many(session, actor=actor, entries=[entry])[0]


@dataclass(frozen=True)
class Entry:
    """What one event says (the actor, time and chain are `record_many`'s)."""

    action: str
    entity: str
    entity_id: str | int = ""
    before: dict | None = None
    after: dict | None = None
    reason: str = ""
    cycle_id: int | None = None


def record_many(session: Session, *, actor: str, entries: Sequence[Entry]) -> list[AuditEvent]:
    """Append `entries` in order, each chained to the one before, in one flush.

    The one writer of the chain (`record` is a batch of one): an import of thousands of
    ratings seals its events in memory and inserts them in one statement, instead of a
    round trip per event; the order of `entries` is the order of their ids. A batch's
    events are returned as sealed but not attached to the session (no `id`).
    """
    if not entries:
        return []
    prev_hash = _chain_tail(session)
    secret = _keyring(session).current.secret
    events = []
    for entry in entries:
        for name, value in (("actor", actor), ("action", entry.action), ("entity", entry.entity)):
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"audit event needs a non-empty {name}")
        event = AuditEvent(
            at=datetime.now(UTC),
            actor=actor,
            action=entry.action,
            entity=entry.entity,
            entity_id="" if entry.entity_id is None else str(entry.entity_id),
            cycle_id=None if entry.cycle_id is None else int(entry.cycle_id),
            before=json_safe(entry.before),
            after=json_safe(entry.after),
            reason=entry.reason or "",
            prev_hash=prev_hash,
        )
        event.hash = prev_hash = _event_hash(event, secret)
        events.append(event)
    if len(events) == 1:
        session.add(events[0])
        session.flush()
    else:  # one INSERT for the batch (executemany, ids in this order), not one per event
        columns = [c.key for c in AuditEvent.__table__.columns if c.key != "id"]
        session.execute(insert(AuditEvent), [{k: getattr(e, k) for k in columns} for e in events])
    session.info[_TAIL] = (_innermost(session), prev_hash)
    session.info.setdefault(AUDITED_CYCLES, set()).update(e.cycle_id for e in events)
    return events


_TAIL = "riskmap.audit.tail"
AUDITED_CYCLES = "riskmap.audit.cycles"  # session.info: the cycles this transaction audited


def _innermost(session: Session) -> object:
    """The transaction (or savepoint) an event is written in: a rolled-back savepoint
    must not leave a cached tail pointing at an event that no longer exists."""
    return session.get_nested_transaction() or session.get_transaction()


def _chain_tail(session: Session) -> str:
    """The hash the next event links to, locking the chain for this transaction.

    The first event of a transaction takes the lock and reads the tail from the database;
    later events of the same transaction (a questionnaire import writes thousands) reuse
    the tail this transaction wrote, since the lock keeps every other writer out.
    """
    cached = session.info.get(_TAIL)
    if cached is not None and cached[0] is _innermost(session):
        return cached[1]
    session.flush()
    _lock_chain(session)
    prev = session.execute(
        select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    return prev or GENESIS_HASH


# --- reading ---------------------------------------------------------------------------


def verify(
    session: Session, ring: keys.Keyring | None = None, *, allow_unkeyed: bool = False
) -> VerifyResult:
    """Walk the log in id order, recompute every seal and check every link."""
    ring = ring or _keyring(session)
    level, unkeyed = -1, 0
    table = AuditEvent.__table__
    adoption_id = session.scalar(
        select(table.c.id).where(table.c.action == ADOPTED).order_by(table.c.id).limit(1)
    )
    expected_prev = GENESIS_HASH
    previous_id: int | None = None
    checked = 0
    last_id = 0
    unkeyed_head = GENESIS_HASH
    while True:
        rows = session.execute(
            select(table).where(table.c.id > last_id).order_by(table.c.id).limit(_VERIFY_BATCH)
        ).all()
        if not rows:
            break
        for row in rows:
            checked += 1
            sealed = _sealed_by(row, ring, level)
            if sealed is None:
                return VerifyResult(
                    ok=False,
                    checked=checked,
                    first_broken_id=row.id,
                    message=(
                        f"event {row.id}: content altered or forged (its stored hash is not "
                        "the seal of its fields under the audit key)"
                    ),
                    unkeyed=unkeyed,
                )
            adopted = adoption_id is not None and row.id < adoption_id
            if sealed < 0 and not (allow_unkeyed or adopted):
                return VerifyResult(
                    ok=False,
                    checked=checked,
                    first_broken_id=row.id,
                    message=(
                        f"event {row.id}: not sealed with the audit key (a plain SHA-256): "
                        "forged, or recorded before the trail was keyed (--allow-unkeyed "
                        "accepts such events at the start of the trail)"
                    ),
                )
            level = sealed
            unkeyed += sealed < 0
            if row.prev_hash != expected_prev:
                after = f"event {previous_id}" if previous_id is not None else "the chain start"
                return VerifyResult(
                    ok=False,
                    checked=checked,
                    first_broken_id=row.id,
                    message=(
                        f"event {row.id}: chain link broken (its prev_hash does not match "
                        f"the hash of {after}; an event was removed, inserted or rewritten "
                        "before it)"
                    ),
                    unkeyed=unkeyed,
                )
            if row.id == adoption_id and sealed >= 0:
                wrong = _adoption_mismatch(row, unkeyed, unkeyed_head)
                if wrong:
                    return VerifyResult(
                        ok=False,
                        checked=checked,
                        first_broken_id=row.id,
                        message=f"event {row.id}: the adoption of the pre-key trail {wrong}",
                        unkeyed=unkeyed,
                    )
            if sealed < 0:
                unkeyed_head = row.hash
            expected_prev = row.hash
            previous_id = row.id
        last_id = rows[-1].id
    return VerifyResult(
        ok=True,
        checked=checked,
        first_broken_id=None,
        message=f"audit chain intact: {checked} events" + _unkeyed_note(unkeyed, adoption_id),
        unkeyed=unkeyed,
    )


def _unkeyed_note(unkeyed: int, adoption_id: int | None) -> str:
    if not unkeyed:
        return ""
    adopted = f", adopted by event {adoption_id}" if adoption_id is not None else ""
    return f" ({unkeyed} recorded before the trail was keyed{adopted})"


def _adoption_mismatch(row: Any, unkeyed: int, head: str) -> str:
    """Why an adoption event does not describe the unkeyed prefix before it ('' if it does)."""
    after = row.after if isinstance(row.after, dict) else {}
    if after.get("events") != unkeyed:
        return f"says {after.get('events')} events before keys, the trail has {unkeyed}"
    if after.get("head_hash") != head:
        return "names another last pre-key event (the pre-key trail was rewritten)"
    return ""


def adopt_unkeyed(session: Session, actor: str, reason: str) -> AuditEvent:
    """Seal the trail's pre-key prefix as it stands, with one keyed event (see the module).

    Refused (ValueError) when the trail does not verify with its unkeyed prefix allowed,
    has no such prefix, or was adopted already: an adoption vouches only for a sound trail.
    """
    result = verify(session, allow_unkeyed=True)
    if not result.ok:
        raise ValueError(f"the trail does not verify: {result.message}")
    if session.scalar(select(AuditEvent.id).where(AuditEvent.action == ADOPTED).limit(1)):
        raise ValueError("the pre-key trail was adopted already")
    if result.unkeyed == 0:
        raise ValueError("every event is sealed with the audit key: nothing to adopt")
    rows = session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id).limit(result.unkeyed)
    ).all()
    head_id, head_hash = rows[-1]
    return record(
        session,
        actor=actor,
        action=ADOPTED,
        entity="audit_trail",
        after={"events": result.unkeyed, "head_id": head_id, "head_hash": head_hash},
        reason=reason,
    )


def _bound(value: datetime | date, *, end: bool) -> tuple[datetime, bool]:
    """(UTC datetime, inclusive?) for a since/until filter value."""
    if isinstance(value, datetime):
        return _utc(value), True
    start = datetime.combine(value, time.min, tzinfo=UTC)
    if end:
        return start + timedelta(days=1), False
    return start, True


def events(
    session: Session,
    *,
    entity: str | None = None,
    actor: str | None = None,
    cycle_id: int | None = None,
    since: datetime | date | None = None,
    until: datetime | date | None = None,
    entity_id: str | int | None = None,
    limit: int | None = None,
) -> list[AuditEvent]:
    """Events in id (= recording) order, filtered.

    `since` and `until` are inclusive; a date (not a datetime) for `until` includes that
    whole day (UTC). Naive datetimes are taken as UTC. `limit`: the first so many.
    The one filter of the trail: the service's reads ask here.
    """
    stmt = select(AuditEvent).order_by(AuditEvent.id)
    if entity is not None:
        stmt = stmt.where(AuditEvent.entity == entity)
    if entity_id is not None:
        stmt = stmt.where(AuditEvent.entity_id == str(entity_id))
    if actor is not None:
        stmt = stmt.where(AuditEvent.actor == actor)
    if cycle_id is not None:
        stmt = stmt.where(AuditEvent.cycle_id == cycle_id)
    if since is not None:
        lower, _ = _bound(since, end=False)
        stmt = stmt.where(AuditEvent.at >= lower)
    if until is not None:
        upper, inclusive = _bound(until, end=True)
        stmt = stmt.where(AuditEvent.at <= upper if inclusive else AuditEvent.at < upper)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.execute(stmt).scalars())
