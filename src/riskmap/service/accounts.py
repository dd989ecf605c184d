"""Who may sign in, read before anyone is signed in, and accounts made at an OIDC sign-in.

The sign-in page needs the organisation's name and, on the demo, its demo accounts before
anybody is signed in; every page re-reads the signed-in account at each click so that a
role change or a disabled account applies at once. Both are reads of the store that no
page may make itself. An account made for someone who signed in through the organisation's
OpenID Connect provider is made by its own system actor, `OIDC_SIGN_IN`, so the audit trail
says who made it (not the command line's administrator).
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select

from riskmap.service.core import SYSTEM_ACTORS, Service, Tx, use_case, within
from riskmap.service.users import add_user
from riskmap.store.models import Organisation, User

OIDC_SIGN_IN = "oidc:sign-in"
# The sign-in actor acts only through `provision_oidc_user` (and the user list it reads);
# it needs the administrator's role for those, and no person can sign in as it.
SYSTEM_ACTORS.setdefault(OIDC_SIGN_IN, "admin")


def organisation_info(svc: Service) -> dict[str, Any]:
    """Name and demo flag of the organisation, and the demo accounts (shown before sign-in:
    nothing the sign-in page does not show anyway)."""
    with svc.sessions() as session:
        org = session.scalar(select(Organisation).order_by(Organisation.id).limit(1))
        demo_users: list[dict[str, str]] = []
        if org is not None and org.is_demo:
            rows = session.execute(
                select(User.username, User.role)
                .where(User.username.like("demo.%"), User.active.is_(True))
                .order_by(User.username)
            ).all()
            demo_users = [{"username": u, "role": r} for u, r in rows]
        return {
            "name": org.name if org else None,
            "is_demo": bool(org and org.is_demo),
            "demo_users": demo_users,
        }


def active_account(svc: Service, username: str) -> dict[str, Any] | None:
    """The account's username, role and display name now, or None if it is gone or disabled."""
    with svc.sessions() as session:
        row = session.scalar(select(User).where(User.username == username))
        if row is None or not row.active:
            return None
        return {
            "username": row.username,
            "role": row.role,
            "display_name": row.display_name or row.username,
        }


@use_case("admin")
def provision_oidc_user(
    tx: Tx, username: str, role: str, *, email: str, display_name: str = ""
) -> dict:
    """An account for someone the OIDC provider signed in and the role mapping admits. It
    has a random password nobody is shown: it signs in through the provider only."""
    return within(
        tx,
        tx.who,
        add_user,
        username,
        role,
        secrets.token_urlsafe(24),
        display_name=display_name or username,
        email=email,
    )
