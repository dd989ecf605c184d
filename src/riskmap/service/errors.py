"""Domain errors: what went wrong, in words an officer understands.

Every error a use case raises is a `DomainError`; pages and the CLI show `str(error)` as
it is, so each message names the person, the field or the cycle concerned.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class DomainError(Exception):
    """A use case refused: the message is meant for the person who asked."""


class NotFound(DomainError):
    pass


class PermissionDenied(DomainError):
    def __init__(self, username: str, role: str, use_case: str, allowed: Iterable[str] = ()):
        self.username = username
        self.role = role
        self.use_case = use_case
        self.allowed = tuple(sorted(allowed))
        who = f"{username} (role {role})" if role else f"{username} has no active account and"
        tail = f"; allowed roles: {', '.join(self.allowed)}" if self.allowed else ""
        super().__init__(f"{who} may not {use_case.replace('_', ' ')}{tail}")


class OutOfScope(PermissionDenied):
    """The person's need-to-know scope (`riskmap.scopes`) does not cover what they asked
    for: a unit outside it, or a use case on the whole ministry."""

    def __init__(self, username: str, role: str, use_case: str, what: str, scope: str):
        super().__init__(username, role, use_case)
        self.what = what
        self.scope = scope
        self.args = (
            f"{username} (role {role}) may not {use_case.replace('_', ' ')} {what}: "
            f"outside their scope ({scope})",
        )


class FourEyesViolation(PermissionDenied):
    """The approver must be a second person: not who drafted or submitted the cycle."""

    def __init__(self, username: str, role: str, use_case: str, cycle: str, did: str):
        super().__init__(username, role, use_case)
        self.args = (
            f"{username} {did} cycle {cycle} and so may not approve it: "
            "a second person must approve (four-eyes rule)",
        )


class CycleLocked(DomainError):
    def __init__(self, cycle: str):
        self.cycle = cycle
        super().__init__(f"cycle {cycle} is locked: nothing in it can be changed")


class WorkflowError(DomainError):
    """The cycle is not at the step the use case needs (e.g. editing a cycle under review)."""


class ValidationError(DomainError):
    """A value was refused; `field` names it as the officer sees it ("likelihood")."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class Change:
    field: str
    by: str
    at: str


class ConflictError(DomainError):
    """The record changed after the editor read it; nothing was overwritten."""

    def __init__(
        self,
        what: str,
        expected_version: int,
        current_version: int | None,
        changes: Iterable[Change] = (),
    ):
        self.what = what
        self.expected_version = expected_version
        self.current_version = current_version
        self.changes = tuple(changes)
        super().__init__(self._message())

    def _message(self) -> str:
        head = (
            f"{self.what} was saved by someone else after you opened it "
            f"(you had version {self.expected_version}, it is now at "
            f"{self.current_version if self.current_version is not None else 'a newer version'})"
        )
        if self.changes:
            by_field: dict[str, list[str]] = {}
            for c in self.changes:
                names = by_field.setdefault(c.field, [])
                if c.by not in names:
                    names.append(c.by)
            parts = [f"{f} (by {', '.join(who)})" for f, who in by_field.items()]
            head += ": changed " + "; ".join(parts)
        return head + ". Nothing was overwritten: reload, then save again."

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.field for c in self.changes))

    @property
    def by(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.by for c in self.changes))
