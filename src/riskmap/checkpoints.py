"""Checkpoints of the audit trail: its length and head, signed, kept by an auditor.

A keyed chain shows every edit and every forged event, but not a tail cut off: the events
left still chain. A checkpoint records how many events the trail had and the seal of its
last one (the head), signed with the audit key (`riskmap.keys`); the auditor keeps the
file away from the database. `verify` then shows that the trail still holds that head,
unchanged, with exactly that many events up to it: deleting events (the tail or any other)
or rewriting and re-chaining them is named. Taking a checkpoint is itself an audit event
(`audit.checkpoint`), so the workbook and the Audit trail page show the last one.

File (JSON)::

    {"format": "riskmap-audit-checkpoint", "format_version": 1, "count": 1234,
     "head_id": 1234, "head_hash": "...", "taken_at": "...Z", "taken_by": "...",
     "key_id": "...", "signature": "..."}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from riskmap import audit, keys
from riskmap.store.models import AuditEvent

FORMAT = "riskmap-audit-checkpoint"
FORMAT_VERSION = 1
ACTION = "audit.checkpoint"
_SIGNED = ("format", "format_version", "count", "head_id", "head_hash", "taken_at", "taken_by")


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used (not one, damaged, or not signed by our key)."""


@dataclass(frozen=True)
class Head:
    count: int
    head_id: int | None
    head_hash: str


def head(session: Session) -> Head:
    """The trail's length and its last event (None and the genesis hash when empty)."""
    count, last = session.execute(select(func.count(), func.max(AuditEvent.id))).one()
    found = session.get(AuditEvent, last) if last is not None else None
    return Head(int(count), last, found.hash if found else audit.GENESIS_HASH)


def _signature(body: dict[str, Any], key: keys.Key) -> str:
    return key.seal(audit.canonical_json({k: body[k] for k in _SIGNED}).encode("utf-8"))


def take(session: Session, actor: str) -> dict[str, Any]:
    """A signed checkpoint of the trail as it is, recorded as an audit event (in the
    caller's transaction: the caller commits)."""
    ring = keys.keyring(session.get_bind().url)
    now = head(session)
    body: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "count": now.count,
        "head_id": now.head_id,
        "head_hash": now.head_hash,
        "taken_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "taken_by": actor,
    }
    body["key_id"] = ring.current.id
    body["signature"] = _signature(body, ring.current)
    audit.record(
        session,
        actor=actor,
        action=ACTION,
        entity="audit_trail",
        after={k: body[k] for k in ("count", "head_id", "head_hash", "key_id")},
        reason="checkpoint of the audit trail, kept by the auditor",
    )
    return body


def take_checked(session: Session, actor: str) -> dict[str, Any]:
    """`take`, only of a trail that verifies: a checkpoint vouches for what it counts."""
    result = audit.verify(session)
    if not result.ok:
        raise CheckpointError(f"no checkpoint taken: {result.message}")
    return take(session, actor)


def load(text: str, ring: keys.Keyring) -> dict[str, Any]:
    """The checkpoint in `text`, its signature checked, or CheckpointError saying why."""
    try:
        body = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise CheckpointError(f"not a checkpoint file (not JSON: {exc})") from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise CheckpointError(f"not a checkpoint file (no format marker {FORMAT!r})")
    missing = [k for k in (*_SIGNED, "key_id", "signature") if k not in body]
    if missing:
        raise CheckpointError(f"the checkpoint is damaged: {', '.join(missing)} missing")
    key = ring.by_id(str(body["key_id"]))
    if key is None:
        raise CheckpointError(
            f"the checkpoint is signed with key {body['key_id']}, which this riskmap does "
            f"not hold ({ring.where}): use the key file of the installation that took it"
        )
    if _signature(body, key) != body["signature"]:
        raise CheckpointError("the checkpoint's signature does not match: it was edited")
    if not isinstance(body["count"], int) or not isinstance(body["head_id"], (int, type(None))):
        raise CheckpointError("the checkpoint is damaged: count and head_id must be numbers")
    return body


def verify(session: Session, body: dict[str, Any]) -> str | None:
    """What the trail lost or had rewritten since the checkpoint `body` (None: nothing)."""
    count, head_id, sealed = body["count"], body["head_id"], body["head_hash"]
    when = f"the checkpoint of {body['taken_at']} by {body['taken_by']}"
    if head_id is None:
        return None
    event = session.get(AuditEvent, head_id)
    now = head(session)
    if event is None:
        return (
            f"event {head_id}, the head of {when}, is gone: the trail now ends at event "
            f"{now.head_id} with {now.count} events where it had {count}: events were deleted"
        )
    if event.hash != sealed:
        return (
            f"event {head_id} is not the event {when} sealed (its hash differs): the trail "
            "was rewritten and re-chained"
        )
    upto = session.scalar(select(func.count()).where(AuditEvent.id <= head_id))
    if upto != count:
        return (
            f"{when} counted {count} events up to event {head_id}; the trail now has {upto}: "
            "events were deleted or inserted before it"
        )
    return None


def last_recorded(session: Session) -> AuditEvent | None:
    """The most recent checkpoint event (what the page and the workbook show)."""
    return session.scalar(
        select(AuditEvent).where(AuditEvent.action == ACTION).order_by(AuditEvent.id.desc())
    )
