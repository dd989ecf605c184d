"""Signed-in sessions of the dashboard that survive a reload of the page.

A session is opened at sign-in and recorded as an audit event (`session.start`, with
the user and the expiry); the browser keeps a cookie holding a signed token of it:
`user.session-id.expiry` and an HMAC-SHA256 of those with a secret the dashboard holds
(never stored in the database). A token is accepted only while:

- its signature is valid and it has not expired;
- its session was opened for that user and not ended (`session.end`, at sign-out);
- the user is active and was not disabled after the session opened (`user.disable`);

so signing out or disabling the account revokes it, durably (the audit trail is
append-only), on every server. The record is the audit trail itself: who signed in when.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import select

from riskmap.service.core import Service
from riskmap.store.models import AuditEvent, User

SESSION_HOURS = 10  # a working day, then sign in again
ENTITY = "session"


@dataclass(frozen=True)
class SessionToken:
    username: str
    sid: str
    expires: int  # seconds since the epoch (UTC)


def _mac(secret: bytes, payload: str) -> str:
    digest = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(token: SessionToken, secret: bytes) -> str:
    """The cookie value of `token`: its fields and their signature."""
    user = base64.urlsafe_b64encode(token.username.encode()).decode().rstrip("=")
    payload = f"{user}.{token.sid}.{token.expires}"
    return f"{payload}.{_mac(secret, payload)}"


def unsign(value: str | None, secret: bytes, now: float | None = None) -> SessionToken | None:
    """The token a cookie value holds, if its signature is valid and it has not expired."""
    if not value or value.count(".") != 3:
        return None
    user, sid, expires, mac = value.split(".")
    if not hmac.compare_digest(mac, _mac(secret, f"{user}.{sid}.{expires}")):
        return None
    try:
        username = base64.urlsafe_b64decode(user + "=" * (-len(user) % 4)).decode()
        expiry = int(expires)
    except ValueError:
        return None
    if expiry <= (time.time() if now is None else now):
        return None
    return SessionToken(username, sid, expiry)


def open_session(svc: Service, username: str, *, hours: float = SESSION_HOURS) -> SessionToken:
    """Open a session for the active user `username` (audited); the token to sign."""
    token = SessionToken(username, secrets.token_urlsafe(18), int(time.time() + hours * 3600))
    with svc.transaction(username, "open_session") as tx:
        tx.audit("session.start", ENTITY, token.sid, after={"expires": token.expires})
    return token


def end_session(svc: Service, username: str, sid: str) -> None:
    """End session `sid` (sign-out): its token is refused from now on, wherever it is."""
    with svc.transaction(username, "end_session") as tx:
        tx.audit("session.end", ENTITY, sid)


def session_user(svc: Service, value: str | None, secret: bytes) -> tuple[User, str] | None:
    """The user a session cookie signs in, and the session id, or None if it is refused."""
    token = unsign(value, secret)
    if token is None:
        return None
    with svc.sessions() as session:
        started = session.scalar(
            select(AuditEvent.id).where(
                AuditEvent.entity == ENTITY,
                AuditEvent.entity_id == token.sid,
                AuditEvent.action == "session.start",
                AuditEvent.actor == token.username,
            )
        )
        if started is None:
            return None
        ended = session.scalar(
            select(AuditEvent.id).where(
                AuditEvent.entity == ENTITY,
                AuditEvent.entity_id == token.sid,
                AuditEvent.action == "session.end",
            )
        )
        disabled = session.scalar(
            select(AuditEvent.id).where(
                AuditEvent.entity == "user",
                AuditEvent.entity_id == token.username,
                AuditEvent.action == "user.disable",
                AuditEvent.id > started,
            )
        )
        user = session.scalar(select(User).where(User.username == token.username))
        if ended is not None or disabled is not None or user is None or not user.active:
            return None
        session.expunge(user)
        return user, token.sid
