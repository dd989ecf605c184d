"""The words of the domain that the code compares: roles, cycle statuses, action statuses.

One home for each, with the label a person reads, so that the service, the planner, the
pages, the CLI and the workbook spell them alike. The members are strings (StrEnum): they
are stored, exported and compared as their plain values ("in_review", "done").
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    OFFICER = "officer"
    MANAGER = "manager"
    AUDITOR = "auditor"

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    Role.ADMIN: "administrator",
    Role.OFFICER: "integrity officer",
    Role.MANAGER: "manager",
    Role.AUDITOR: "auditor",
}


class _Worded(StrEnum):
    """A stored word whose label is the word with spaces ("in_review" -> "in review")."""

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class CycleStatus(_Worded):
    """draft -> in review -> approved -> locked; reopen goes back to draft with a reason."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    LOCKED = "locked"

    @property
    def short(self) -> str:
        """What happens next, in a few words (the sidebar)."""
        return _CYCLE_TEXT[self][0]

    @property
    def step(self) -> str:
        """What happens next, in a sentence (the Cycle page)."""
        return _CYCLE_TEXT[self][1]


_CYCLE_TEXT = {
    CycleStatus.DRAFT: (
        "draft: officers rate and confirm",
        "Draft: officers rate and confirm every unit, then submit it for review.",
    ),
    CycleStatus.IN_REVIEW: (
        "in review: a manager approves or reopens",
        "In review: a manager other than the drafter approves it, or reopens it.",
    ),
    CycleStatus.APPROVED: (
        "approved: a manager locks it",
        "Approved: a manager locks it to make it the record.",
    ),
    CycleStatus.LOCKED: (
        "locked: the record, read only",
        "Locked: the record of this cycle; nothing in it can change.",
    ),
}


class ActionStatus(_Worded):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


ROLES: tuple[Role, ...] = tuple(Role)
CYCLE_STATUSES: tuple[CycleStatus, ...] = tuple(CycleStatus)
ACTION_STATUSES: tuple[ActionStatus, ...] = tuple(ActionStatus)
# Open: still to be done (they move forward to the next cycle); closed: done or cancelled.
OPEN_ACTION_STATUSES = (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS)
CLOSED_ACTION_STATUSES = (ActionStatus.DONE, ActionStatus.CANCELLED)


def _label_of(kind: type[StrEnum], value: object) -> str:
    """The label of `value` as a member of `kind`; a value that is not one (a blank, a
    stored word from an older version) is shown as it is rather than refused."""
    text = "" if value is None else str(value)
    try:
        return kind(text).label  # type: ignore[attr-defined]
    except ValueError:
        return text


def role_label(value: object) -> str:
    """A role as a person reads it ("officer" -> "integrity officer")."""
    return _label_of(Role, value)


def cycle_status_label(value: object) -> str:
    """A cycle's status as a person reads it ("in_review" -> "in review")."""
    return _label_of(CycleStatus, value)


def action_status_label(value: object) -> str:
    """An action's status as a person reads it ("in_progress" -> "in progress")."""
    return _label_of(ActionStatus, value)
