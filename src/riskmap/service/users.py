"""Users and roles: add, list, change role, disable; sign-in with `authenticate`."""

from __future__ import annotations

import re

import pandas as pd
from sqlalchemy import select

from riskmap import scopes, texts
from riskmap.security import hash_password, verify_password
from riskmap.service import signin_guard
from riskmap.service.core import ROLES, Service, Tx, snapshot, use_case
from riskmap.service.errors import NotFound, ValidationError
from riskmap.store.models import User

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
MIN_PASSWORD = 8
_PUBLIC = ("password_hash",)  # never in an audit event nor a listing


def _role(role: str) -> str:
    if role not in ROLES:
        raise ValidationError("role", f"{role!r} is not a role; choose one of {', '.join(ROLES)}")
    return role


def _user(tx: Tx, username: str) -> User:
    user = tx.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


@use_case("admin")
def add_user(
    tx: Tx,
    username: str,
    role: str,
    password: str,
    *,
    display_name: str = "",
    email: str | None = None,
) -> dict:
    """Create a user who can sign in with `password` and act in `role`."""
    username = username.strip()
    if not USERNAME.match(username):
        raise ValidationError(
            "user name",
            f"use 2-80 lower-case letters, digits, dots, dashes or underscores (got {username!r})",
        )
    _role(role)
    if len(password) < MIN_PASSWORD:
        raise ValidationError("password", f"must have at least {MIN_PASSWORD} characters")
    if tx.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ValidationError("user name", f"{username!r} is already taken")
    user = User(
        username=username,
        role=role,
        password_hash=hash_password(password),
        display_name=display_name or username,
        email=email,
        active=True,
    )
    tx.session.add(user)
    tx.session.flush()
    after = snapshot(user, _PUBLIC)
    tx.audit("user.add", "user", username, after=after)
    return after


@use_case("admin", "auditor")
def list_users(tx: Tx) -> pd.DataFrame:
    from riskmap.service.scoping import scopes_by_user

    users = tx.session.scalars(select(User).order_by(User.username)).all()
    limited = scopes_by_user(tx.session)
    rows = [{**snapshot(u, _PUBLIC), "scope": _scope_text(u, limited)} for u in users]
    cols = ["username", "display_name", "role", "active", "email", "created_at", "scope"]
    return pd.DataFrame(rows, columns=[*cols, "id"])[cols]


def _scope_text(user: User, limited: dict) -> str:
    """The user's scope in words; a scope kept from an earlier role says it is ignored."""
    scope = limited.get(user.id, scopes.WHOLE)
    if scope.whole or scopes.applies(user.role):
        return scope.describe()
    return f"whole ministry (as {user.role}; stored {scope.describe()} ignored)"


def _change(tx: Tx, username: str, values: dict, action: str, reason: str) -> dict:
    user = _user(tx, username)
    if username == tx.who:
        raise ValidationError("user", "you cannot change your own role or account status")
    before = snapshot(user, _PUBLIC)
    for key, value in values.items():
        setattr(user, key, value)
    tx.session.flush()
    after = snapshot(user, _PUBLIC)
    if after != before:
        tx.audit(action, "user", username, before=before, after=after, reason=reason)
    return after


@use_case("admin")
def set_role(tx: Tx, username: str, role: str, *, reason: str = "") -> dict:
    return _change(tx, username, {"role": _role(role)}, "user.set_role", reason)


@use_case("admin")
def disable_user(tx: Tx, username: str, *, reason: str = "") -> dict:
    """A disabled user can no longer sign in nor act; their past work stays attributed."""
    return _change(tx, username, {"active": False}, "user.disable", reason)


@use_case("admin")
def enable_user(tx: Tx, username: str, *, reason: str = "") -> dict:
    return _change(tx, username, {"active": True}, "user.enable", reason)


_DUMMY_HASH: list[str] = []


def authenticate(svc: Service, username: str, password: str, client: str = "") -> User | None:
    """The active user with this name and password, else None (disabled users cannot sign in).

    Held back (None, whatever the password) after too many failures for the account or from
    `client` (the caller's address; `signin_guard`); every failure and hold is audited.
    """
    with svc.sessions() as session, session.begin():
        held = signin_guard.throttled(session, username, client)
        if held is not None:
            signin_guard.record(
                session, signin_guard.THROTTLED, username, client,
                why=held.why, until=held.until,
            )  # fmt: skip
            return None
        name = username.strip()
        # A name no account can have (a NUL, too long) is not even looked up: PostgreSQL
        # would refuse the query itself.
        fits = texts.text_problem("username", name, 80) is None
        user = session.scalar(select(User).where(User.username == name)) if fits else None
        if user is None:
            # Spend the same time as a real check so a probe cannot tell names apart.
            if not _DUMMY_HASH:
                _DUMMY_HASH.append(hash_password("not a password"))
            verify_password(password, _DUMMY_HASH[0])
            signin_guard.record(session, signin_guard.FAILED, username, client)
            return None
        if not verify_password(password, user.password_hash) or not user.active:
            signin_guard.record(session, signin_guard.FAILED, username, client)
            return None
        session.expunge(user)
        return user


def sign_in_hold(svc: Service, username: str, client: str = "") -> str | None:
    """Why sign-ins for `username` or from `client` are held back now (None: they are not),
    for the sign-in page to say instead of "wrong password"."""
    with svc.sessions() as session:
        held = signin_guard.throttled(session, username, client)
        return held.message() if held else None
