"""Sign-in resists guessing: failed attempts are limited per account and per client, audited.

Every failed sign-in is an audit event (`signin.failed`: the name typed, the client). Once
an account has had `ACCOUNT_LIMIT` failures within `WINDOW`, or a client (an address, as
the sign-in page passes it) `CLIENT_LIMIT` failures on any accounts, further attempts are
refused without checking the password, even a right one, until the oldest of those
failures leaves the window; each refused attempt is a `signin.throttled` event. So a guesser
gets five tries an account and twenty a client per quarter hour, and the administrator
sees every one in the Audit trail. The counts are read from the trail itself: one record,
the same on every process and on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from riskmap import audit
from riskmap.store.models import AuditEvent

ACCOUNT_LIMIT = 5
CLIENT_LIMIT = 20
WINDOW = timedelta(minutes=15)
ACTOR = "riskmap:signin"
FAILED, THROTTLED = "signin.failed", "signin.throttled"
_UNSAFE = re.compile(r"[^\w.@+-]")


def _safe(text: str) -> str:
    """What a person typed, fit for the trail's short columns (a name is at most 80)."""
    return _UNSAFE.sub("?", text.strip())[:80]


@dataclass(frozen=True)
class Throttle:
    why: str  # "account" or "client"
    until: datetime

    def message(self) -> str:
        return (
            f"too many failed sign-ins for this {self.why}: try again after {self.until:%H:%M} UTC"
        )


def _since(session: Session, now: datetime, *where) -> tuple[int, datetime | None]:
    count, oldest = session.execute(
        select(func.count(), func.min(AuditEvent.at)).where(
            AuditEvent.action == FAILED, AuditEvent.at >= now - WINDOW, *where
        )
    ).one()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)  # SQLite hands timestamps back naive
    return int(count), oldest


def throttled(session: Session, username: str, client: str) -> Throttle | None:
    """Whether sign-ins to `username` or from `client` are held back now, and until when."""
    now = datetime.now(UTC)
    by_account = _since(session, now, AuditEvent.entity_id == _safe(username))
    if by_account[0] >= ACCOUNT_LIMIT:
        return Throttle("account", by_account[1] + WINDOW)
    if client:
        by_client = _since(session, now, AuditEvent.reason == f"client {_safe(client)}")
        if by_client[0] >= CLIENT_LIMIT:
            return Throttle("client", by_client[1] + WINDOW)
    return None


def record(session: Session, action: str, username: str, client: str, **after) -> None:
    """A failed or throttled sign-in, in the trail (the caller's transaction)."""
    audit.record(
        session,
        actor=ACTOR,
        action=action,
        entity="user",
        entity_id=_safe(username),
        after={"client": _safe(client), **after},
        reason=f"client {_safe(client)}",
    )
