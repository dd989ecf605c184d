"""Setting and showing need-to-know scopes (the rule itself is `riskmap.scopes`).

An administrator limits an officer to units, regions or unit types, a manager to regions;
the change is an audit event (`user.scope`, the scope before and after). Every reader can
ask what they see (`my_scope`), which the pages show as "You see 6 of 24 units: region
North" without counting anything themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from riskmap import scopes
from riskmap.service.core import READERS, Tx, use_case
from riskmap.service.errors import NotFound, ValidationError
from riskmap.store.models import Unit, User, UserScope

MAX_VALUE = 100  # the column's width


def scopes_by_user(session: Session) -> dict[int, scopes.Scope]:
    """Every stored scope, by user id (users without entries: absent, the whole ministry)."""
    entries: dict[int, list[tuple[str, str]]] = {}
    for user_id, kind, value in session.execute(
        select(UserScope.user_id, UserScope.kind, UserScope.value)
    ):
        entries.setdefault(user_id, []).append((kind, value))
    return {uid: scopes.Scope.of(pairs) for uid, pairs in entries.items()}


def _values(label: str, values: Iterable[str]) -> frozenset[str]:
    out = set()
    for raw in values or ():
        value = str(raw).strip()
        if not value or len(value) > MAX_VALUE:
            raise ValidationError(label, f"give 1 to {MAX_VALUE} characters (got {raw!r})")
        out.add(value)
    return frozenset(out)


def _check_references(tx: Tx, scope: scopes.Scope) -> None:
    """Every unit, region and unit type named must exist: a typo would hide everything."""
    codes = set(tx.session.scalars(select(Unit.code)))
    missing = sorted(scope.units - codes)
    if missing:
        raise ValidationError("unit", f"no unit with code {', '.join(missing)}")
    regions = set(tx.session.scalars(select(Unit.region).distinct())) - {""}
    unknown = sorted(scope.regions - regions)
    if unknown:
        known = ", ".join(sorted(regions)) or "none yet"
        raise ValidationError("region", f"no unit is in region {unknown[0]!r} (regions: {known})")
    types = {t.id for t in tx.catalogue.unit_types}
    unknown = sorted(scope.unit_types - types)
    if unknown:
        raise ValidationError(
            "unit type", f"{unknown[0]!r} is not a unit type (types: {', '.join(sorted(types))})"
        )


@use_case("admin")
def set_scope(
    tx: Tx,
    username: str,
    *,
    units: Iterable[str] = (),
    regions: Iterable[str] = (),
    unit_types: Iterable[str] = (),
    reason: str = "",
) -> dict:
    """Limit `username` to these units (with their descendants), regions and unit types;
    nothing given: the whole ministry again. Replaces the user's scope; audited."""
    user = tx.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user named {username!r}")
    scope = scopes.Scope(
        _values("unit", units), _values("region", regions), _values("unit type", unit_types)
    )
    problem = scopes.problem(user.role, scope)
    if problem:
        raise ValidationError("scope", f"{username}: {problem}")
    _check_references(tx, scope)
    before = scopes_by_user(tx.session).get(user.id, scopes.WHOLE)
    if before == scope:
        return {"username": username, "scope": scope.as_dict(), "text": scope.describe()}
    tx.session.execute(delete(UserScope).where(UserScope.user_id == user.id))
    tx.session.add_all(UserScope(user_id=user.id, kind=k, value=v) for k, v in scope.entries())
    tx.session.flush()
    tx.audit(
        "user.scope", "user", username,
        before={"scope": before.as_dict()}, after={"scope": scope.as_dict()},
        reason=reason or f"scope: {scope.describe()}",
    )  # fmt: skip
    return {"username": username, "scope": scope.as_dict(), "text": scope.describe()}


@dataclass(frozen=True)
class ScopeView:
    """What a reader sees: `visible` of `total` active units, and the scope in words."""

    whole: bool
    visible: int
    total: int
    scope: str

    @property
    def line(self) -> str:
        """The line pages show a scoped reader (empty for the whole ministry)."""
        if self.whole:
            return ""
        return f"You see {self.visible} of {self.total} units: {self.scope}"


@use_case(*READERS)
def my_scope(tx: Tx) -> ScopeView:
    """The acting reader's scope and how many of the ministry's active units it covers."""
    active = select(func.count()).select_from(Unit).where(Unit.retired.is_(False))
    total = int(tx.session.scalar(active) or 0)
    visible = int(tx.session.scalar(tx.only_visible(active, Unit.id)) or 0)
    return ScopeView(tx.scope.whole, visible, total, tx.scope.describe())
