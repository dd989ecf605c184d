"""Need-to-know: which units a person may see and rate (the one home of the rule).

The risk map says where officials can be bought, so an officer or a manager can be limited
to some units, regions or unit types (their *scope*). This module is pure: given a scope
and the units (code, region, unit type, parent), it says which units are visible. The
service resolves the acting person's scope once per transaction and every read and every
use case asks here (`riskmap.service.core.Tx`).

- No scope entries: the whole ministry (existing databases and the demo keep working).
- Entries of different kinds add up: a unit is visible if any entry allows it.
- A unit entry includes the unit's descendants (a regional directorate assigned to an
  officer brings its border posts), so moving a unit under an assigned parent moves it
  into the scope.
- Administrators and auditors read everything: a scope is refused for them (`problem`),
  and one left over from an earlier role is ignored (`applies`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

UNIT, REGION, UNIT_TYPE = "unit", "region", "unit_type"
KINDS = (UNIT, REGION, UNIT_TYPE)
KIND_LABELS = {UNIT: "unit", REGION: "region", UNIT_TYPE: "unit type"}
# Who may be limited, and by what (the issue: an officer by units, regions or unit types;
# a manager by regions). Everyone else reads the whole ministry.
KINDS_FOR_ROLE: dict[str, tuple[str, ...]] = {"officer": KINDS, "manager": (REGION,)}


@dataclass(frozen=True)
class Scope:
    """What one person may see: unit codes, regions, unit types (empty: everything)."""

    units: frozenset[str] = field(default_factory=frozenset)
    regions: frozenset[str] = field(default_factory=frozenset)
    unit_types: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, entries: Iterable[tuple[str, str]]) -> Scope:
        """From (kind, value) pairs as stored in `user_scopes`."""
        by_kind: dict[str, set[str]] = {k: set() for k in KINDS}
        for kind, value in entries:
            if kind not in by_kind:  # fail closed: never read an unknown entry as "all"
                raise ValueError(f"unknown scope kind {kind!r} (kinds: {', '.join(KINDS)})")
            by_kind[kind].add(str(value))
        return cls(
            frozenset(by_kind[UNIT]), frozenset(by_kind[REGION]), frozenset(by_kind[UNIT_TYPE])
        )

    @property
    def whole(self) -> bool:
        return not (self.units or self.regions or self.unit_types)

    def entries(self) -> list[tuple[str, str]]:
        """(kind, value) pairs, sorted: what is stored, audited and backed up."""
        pairs = [(UNIT, v) for v in self.units] + [(REGION, v) for v in self.regions]
        return sorted(pairs + [(UNIT_TYPE, v) for v in self.unit_types])

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "units": sorted(self.units),
            "regions": sorted(self.regions),
            "unit_types": sorted(self.unit_types),
        }

    def describe(self) -> str:
        """In words, for pages and the CLI: "region North; unit BC-001" or "whole ministry"."""
        if self.whole:
            return "whole ministry"
        parts = []
        for label, values in (
            ("region", self.regions),
            ("unit type", self.unit_types),
            ("unit", self.units),
        ):
            if values:
                plural = "s" if len(values) > 1 else ""
                parts.append(f"{label}{plural} {', '.join(sorted(values))}")
        return "; ".join(parts)


WHOLE = Scope()


def applies(role: str) -> bool:
    """Whether a scope limits this role at all (admins and auditors read everything)."""
    return role in KINDS_FOR_ROLE


def problem(role: str, scope: Scope) -> str | None:
    """Why `scope` cannot be given to someone of `role` (None: it can)."""
    if scope.whole:
        return None
    allowed = KINDS_FOR_ROLE.get(role)
    article = "an" if role[:1] in "aeiou" else "a"
    if allowed is None:
        return f"{article} {role} reads the whole ministry and cannot be limited to a scope"
    wrong = [k for k, _ in scope.entries() if k not in allowed]
    if wrong:
        names = " or ".join(KIND_LABELS[k] + "s" for k in allowed)
        return f"{article} {role} can be limited to {names} only (not {KIND_LABELS[wrong[0]]}s)"
    return None


@dataclass(frozen=True)
class UnitFacts:
    """What the rule needs of a unit."""

    code: str
    region: str
    unit_type: str
    parent: str | None = None


def visible(scope: Scope, units: Iterable[UnitFacts]) -> frozenset[str]:
    """The codes of the units `scope` allows (a unit entry brings its descendants)."""
    rows = list(units)
    if scope.whole:
        return frozenset(u.code for u in rows)
    parent: Mapping[str, str | None] = {u.code: u.parent for u in rows}
    out = set()
    for u in rows:
        by_attribute = u.region in scope.regions or u.unit_type in scope.unit_types
        if by_attribute or _under(u.code, scope.units, parent):
            out.add(u.code)
    return frozenset(out)


def _under(code: str, assigned: frozenset[str], parent: Mapping[str, str | None]) -> bool:
    if not assigned:
        return False
    seen: set[str] = set()
    node: str | None = code
    while node is not None and node not in seen:  # a cycle in the data cannot hang us
        if node in assigned:
            return True
        seen.add(node)
        node = parent.get(node)
    return False


def allows(scope: Scope, unit: UnitFacts, units: Iterable[UnitFacts] = ()) -> bool:
    """Whether `scope` allows `unit` (`units`: the others, to follow its parents)."""
    return unit.code in visible(scope, [unit, *(u for u in units if u.code != unit.code)])


WORKFLOW_ENTITIES = ("cycle", "comment")


def event_visible(
    entity: str, entity_id: str, before: Mapping | None, after: Mapping | None, codes: frozenset
) -> bool:
    """Whether an audit event is about units a scoped reader may see (`codes`).

    Kept: the cycle's workflow and comments (unless they name a unit outside), a rating's
    event of a visible unit ("cycle/unit/item"), an event whose values name a visible unit.
    Anything else is left out: when unsure, a scoped reader does not see it.
    """
    named = [(v or {}).get(k) for v in (after, before) for k in ("unit", "unit_code", "unit_id")]
    named = [str(n) for n in named if isinstance(n, str) and n]
    if entity.endswith("_rating"):
        parts = str(entity_id).split("/")
        return len(parts) == 3 and parts[1] in codes
    if entity in WORKFLOW_ENTITIES:
        return all(n in codes for n in named)
    return bool(named) and all(n in codes for n in named)
