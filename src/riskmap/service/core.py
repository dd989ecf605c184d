"""The service's spine: who is acting, in which transaction, with which permission.

Every use case is a function `use_case(svc, actor, ...)` declared with `@use_case(roles)`.
The decorator opens one transaction, resolves the actor (a user of the database, or a
system actor such as the command line's local administrator), refuses a role that is not
allowed, runs the body and commits. Audit events are written in that same transaction, so
a change and its audit record are stored together or not at all.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, aliased, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from riskmap import audit, scopes, vocabulary
from riskmap.catalogue import Catalogue, load_catalogue
from riskmap.service import audited
from riskmap.service.errors import (
    ConflictError,
    CycleLocked,
    NotFound,
    OutOfScope,
    PermissionDenied,
    ValidationError,
    WorkflowError,
)
from riskmap.service.row_changes import (  # noqa: F401 - re-exported: use cases import them here
    Update,
    changes_since,
    conflict,
    json_value,
    snapshot,
)
from riskmap.store.engine import make_engine, session_factory
from riskmap.store.migrate import upgrade as migrate
from riskmap.store.models import (
    Cycle,
    Organisation,
    Unit,
    User,
    UserScope,
    utcnow,
)
from riskmap.texts import TextRefused

ROLES = vocabulary.ROLES
READERS = ROLES
# Actors that are not users of the database: the command line acts as the local admin.
CLI_ADMIN = "cli:admin"
SYSTEM_ACTORS = {CLI_ADMIN: "admin"}
# Where a transaction's session keeps the codes of the units its actor may see (None: all).
VISIBLE_UNITS = "riskmap.visible_units"

# use case name -> roles allowed to run it (filled by @use_case; read by the role matrix).
USE_CASES: dict[str, frozenset[str]] = {}
# Use cases that act on the whole ministry at once (start, submit, approve, lock or reopen
# a cycle, build its plan): a person limited to a scope may not run them.
MINISTRY_WIDE: set[str] = set()

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Actor:
    username: str
    role: str


class Service:
    """A database and the catalogue in force: what every use case runs against."""

    def __init__(self, engine: Engine, catalogue: Catalogue | None = None):
        self.engine = engine
        self.sessions: sessionmaker[Session] = session_factory(engine)
        self._catalogue = catalogue

    @classmethod
    def open(
        cls, url: str | None = None, *, upgrade: bool = True, catalogue: Catalogue | None = None
    ) -> Service:
        """Connect to `url` (default: the configured database), bringing its schema up to date."""
        engine = make_engine(url)
        if upgrade:
            migrate(engine)
        return cls(engine, catalogue)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Service:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def catalogue(self) -> Catalogue:
        if self._catalogue is None:
            self._catalogue = load_catalogue()
        return self._catalogue

    @contextmanager
    def transaction(
        self, actor: Any, purpose: str, allowed: frozenset[str] | None = None
    ) -> Iterator[Tx]:
        """One transaction as `actor`; use cases run in it with `within` (e.g. the demo).

        A save that lost a race with another transaction (the version column's check in
        the UPDATE) surfaces as `ConflictError`, like a stale `expected_version`.
        """
        tx: Tx | None = None
        try:
            with self.sessions() as session, session.begin():
                who = resolve_actor(session, actor, purpose)
                if allowed is not None and who.role not in allowed:
                    raise PermissionDenied(who.username, who.role, purpose, allowed)
                audited.check(session)  # its changes to scored rows are audited
                tx = Tx(self, session, who, purpose)
                tx.refuse_if_scoped()
                yield tx
        except TextRefused as exc:  # a text the store refuses (riskmap.texts), at flush
            raise ValidationError(exc.field, exc.problem) from None
        except StaleDataError as exc:
            pending = tx.pending if tx is not None else None
            if pending is None:
                raise ConflictError("this record", 0, None) from exc
            with self.sessions() as session:
                raise conflict(session, *pending) from exc

    def run(
        self,
        name: str,
        allowed: frozenset[str],
        actor: Any,
        body: Callable[..., R],
        args: tuple,
        kwargs: dict,
    ) -> R:
        with self.transaction(actor, name, allowed) as tx:
            return body(tx, *args, **kwargs)


def use_case(
    *roles: str, ministry_wide: bool = False
) -> Callable[[Callable[Concatenate[Tx, P], R]], Callable[..., R]]:
    """Declare a use case and the roles allowed to run it (`ministry_wide`: only by someone
    whose scope is the whole ministry)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    allowed = frozenset(roles)

    def decorate(body: Callable[Concatenate[Tx, P], R]) -> Callable[..., R]:
        name = body.__name__
        USE_CASES[name] = allowed
        if ministry_wide:
            MINISTRY_WIDE.add(name)

        @functools.wraps(body)
        def run(svc: Service, actor: Any, /, *args: Any, **kwargs: Any) -> R:
            return svc.run(name, allowed, actor, body, args, kwargs)

        run.allowed_roles = allowed  # type: ignore[attr-defined]
        return run

    return decorate


def within(tx: Tx, actor: Any, case: Callable[..., R], /, *args: Any, **kwargs: Any) -> R:
    """Run use case `case` as `actor` inside the open transaction `tx` (same role check)."""
    name = case.__name__
    allowed = USE_CASES[name]
    who = resolve_actor(tx.session, actor, name)
    if who.role not in allowed:
        raise PermissionDenied(who.username, who.role, name, allowed)
    inner = Tx(tx.svc, tx.session, who, name)
    inner.refuse_if_scoped()
    try:
        return case.__wrapped__(inner, *args, **kwargs)  # type: ignore[attr-defined]
    finally:
        tx.install_scope()  # the inner actor's filter must not outlive its use case


def resolve_actor(session: Session, actor: Any, use_case_name: str) -> Actor:
    """The acting person with their current role (a role change applies at once)."""
    name = str(getattr(actor, "username", actor))
    if name in SYSTEM_ACTORS:
        return Actor(name, SYSTEM_ACTORS[name])
    user = session.scalar(select(User).where(User.username == name))
    if user is None or not user.active:
        raise PermissionDenied(name, "", use_case_name)
    return Actor(user.username, user.role)


@dataclass
class Tx:
    """One use case's transaction: the session, the actor and helpers shared by use cases."""

    svc: Service
    session: Session
    actor: Actor
    use_case: str
    pending: tuple | None = field(default=None)
    _scope: scopes.Scope | None = field(default=None, repr=False)
    _visible: tuple[frozenset[str], frozenset[int]] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.install_scope()

    @property
    def catalogue(self) -> Catalogue:
        return self.svc.catalogue

    # -- need-to-know (riskmap.scopes) ------------------------------------------------------

    @property
    def scope(self) -> scopes.Scope:
        """The actor's scope, read once per transaction (admins and auditors: whole)."""
        if self._scope is None:
            self._scope = scopes.WHOLE
            if self.who not in SYSTEM_ACTORS and scopes.applies(self.actor.role):
                entries = self.session.execute(
                    select(UserScope.kind, UserScope.value)
                    .join(User, User.id == UserScope.user_id)
                    .where(User.username == self.who)
                ).all()
                self._scope = scopes.Scope.of((k, v) for k, v in entries)
        return self._scope

    def _visible_units(self) -> tuple[frozenset[str], frozenset[int]] | None:
        if self.scope.whole:
            return None
        if self._visible is None:
            parent = aliased(Unit)
            rows = self.session.execute(
                select(Unit.id, Unit.code, Unit.region, Unit.unit_type, parent.code).outerjoin(
                    parent, parent.id == Unit.parent_id
                )
            ).all()
            facts = [scopes.UnitFacts(c, r or "", t, p) for _, c, r, t, p in rows]
            codes = scopes.visible(self.scope, facts)
            self._visible = codes, frozenset(i for i, c, *_ in rows if c in codes)
        return self._visible

    @property
    def visible_codes(self) -> frozenset[str] | None:
        """Codes of the units the actor may see; None: every unit (no scope)."""
        found = self._visible_units()
        return None if found is None else found[0]

    @property
    def visible_ids(self) -> frozenset[int] | None:
        found = self._visible_units()
        return None if found is None else found[1]

    def install_scope(self) -> None:
        """Put the actor's visible units where `service.frames` reads them, so that every
        frame a use case reads holds only those units' rows."""
        self.session.info[VISIBLE_UNITS] = self.visible_codes

    def refuse_if_scoped(self) -> None:
        if self.use_case in MINISTRY_WIDE and not self.scope.whole:
            raise OutOfScope(
                self.who, self.actor.role, self.use_case, "for the whole ministry",
                self.scope.describe(),
            )  # fmt: skip

    def guard(self, code: str) -> None:
        """Refuse a unit outside the actor's scope (the one check of every unit a use
        case names; `unit` calls it)."""
        visible = self.visible_codes
        if visible is not None and str(code) not in visible:
            raise OutOfScope(
                self.who, self.actor.role, self.use_case, f"unit {code}", self.scope.describe()
            )

    def only_visible(self, stmt: Any, unit_id_column: Any) -> Any:
        """`stmt` limited to the actor's units (`unit_id_column`: a units.id foreign key)."""
        ids = self.visible_ids
        return stmt if ids is None else stmt.where(unit_id_column.in_(sorted(ids)))

    @property
    def who(self) -> str:
        return self.actor.username

    def audit(
        self,
        action: str,
        entity: str,
        entity_id: Any = "",
        *,
        before: dict | None = None,
        after: dict | None = None,
        reason: str = "",
        cycle_id: int | None = None,
    ) -> None:
        audit.record(
            self.session,
            actor=self.who,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            before=before,
            after=after,
            reason=reason or "",
            cycle_id=cycle_id,
        )

    def audit_export(self, cycle: Cycle, what: str, fmt: str, data: bytes) -> None:
        """An export of `cycle` is an audit event: what was exported, its format and size
        (every export the same way, so the trail lists them alike)."""
        self.audit(
            "export",
            "cycle",
            cycle.label,
            after={"what": what, "format": fmt, "bytes": len(data)},
            reason=f"{what} of cycle {cycle.label}",
            cycle_id=cycle.id,
        )

    # -- look-ups -------------------------------------------------------------------------

    def organisation(self) -> Organisation:
        org = self.session.scalar(select(Organisation).order_by(Organisation.id).limit(1))
        if org is None:
            raise ValidationError(
                "organisation", "no organisation is set up yet (run `riskmap demo` or add one)"
            )
        return org

    def cycle(self, label: str) -> Cycle:
        found = self.session.scalar(select(Cycle).where(Cycle.label == str(label)))
        if found is None:
            labels = self.session.scalars(select(Cycle.label).order_by(Cycle.started_at)).all()
            known = ", ".join(labels) if labels else "none yet"
            raise NotFound(f"no cycle labelled {label!r} (cycles: {known})")
        return found

    def unit(self, code: str) -> Unit:
        found = self.session.scalar(select(Unit).where(Unit.code == str(code)))
        if found is None:
            raise NotFound(f"no unit with code {code!r}")
        self.guard(found.code)
        return found

    # -- guards ---------------------------------------------------------------------------

    def writable(self, cycle: Cycle, *statuses: str) -> None:
        """Refuse any change to a locked cycle, and a change the cycle's step does not allow."""
        if cycle.status == "locked":
            raise CycleLocked(cycle.label)
        if statuses and cycle.status not in statuses:
            wanted = " or ".join(s.replace("_", " ") for s in statuses)
            raise WorkflowError(
                f"cycle {cycle.label} is {cycle.status.replace('_', ' ')}; "
                f"to {self.use_case.replace('_', ' ')} it must be {wanted}"
                + (" (a manager can reopen it)" if "draft" in statuses else "")
            )

    def update(
        self,
        row: Any,
        values: dict[str, Any],
        *,
        expected_version: int | None,
        what: str,
        entity: str,
        entity_id: str,
        action: str,
        reason: str = "",
        cycle_id: int | None = None,
        exclude: Iterable[str] = (),
    ) -> dict[str, Any]:
        """Apply `values` to a versioned row read at `expected_version`, audited.

        A stale version raises `ConflictError` naming what changed since and who changed
        it; the version column also guards the race between this check and the UPDATE.
        """
        change = Update(
            row, values, expected_version, what, entity, entity_id, action, reason, cycle_id,
            tuple(exclude),
        )  # fmt: skip
        return self.update_many([change])[0]

    def update_many(
        self, changes: list[Update], *, also: Callable[[], list[audit.Entry]] | None = None
    ) -> list[dict[str, Any]]:
        """`update` of many rows at once: every version checked first, the rows flushed
        together, their audit events (and `also()`'s, events of rows flushed with them,
        e.g. evidence items added) appended together. Returns each row's state after."""
        for c in changes:
            if c.expected_version is None:
                raise ValidationError("version", "the version you read is required to save")
            if c.row.version != c.expected_version:
                raise conflict(
                    self.session, c.what, c.entity, c.entity_id, c.expected_version, c.row.version
                )
        first = changes[0] if len(changes) == 1 else None  # a batch's race names no row
        self.pending = (
            (first.what, first.entity, first.entity_id, first.expected_version, None)
            if first
            else None
        )
        staged: list[tuple[Update, dict[str, Any] | None]] = []
        for c in changes:
            changed = {k: v for k, v in c.values.items() if getattr(c.row, k) != v}
            if not changed:
                staged.append((c, None))
                continue
            staged.append((c, snapshot(c.row, c.exclude)))
            for key, value in changed.items():
                setattr(c.row, key, value)
            if hasattr(c.row, "updated_by"):
                c.row.updated_by = self.who
                c.row.updated_at = utcnow()
        self.session.flush()
        afters, entries = [], []
        for c, before in staged:
            after = snapshot(c.row, c.exclude)
            afters.append(after)
            if before is not None:
                entries.append(
                    audit.Entry(
                        c.action, c.entity, c.entity_id, before, after, c.reason, c.cycle_id
                    )
                )
        entries.extend(also() if also else [])
        audit.record_many(self.session, actor=self.who, entries=entries)
        return afters
