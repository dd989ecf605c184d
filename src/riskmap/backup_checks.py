"""Every row of a backup checked before anything is restored, as the service would check it.

A backup is a file from outside: someone may have edited it (`backup.py`'s keyed digest
says whether) or it may simply be damaged. Restoring writes straight into the tables, past
the use cases, so the rules those use cases keep are checked here, for every row, and every
problem is reported at once, named by table, row id and field (`riskmap.problems.Problem`):

- the column's type, NULL-ness and length (the schema's own columns; texts by
  `riskmap.texts`), dates and timestamps in ISO form, JSON nested at most `MAX_DEPTH` deep;
- ids unique, unique constraints kept, every foreign key pointing at a row of the backup;
- the domain: roles (`service.core.ROLES`), levels on the method's scales
  (`rules.is_level`), risks, controls and unit types from the catalogue, cycle, action and
  incident statuses, a cycle's status agreeing with its timestamps ("locked is final"),
  an evidence item's kind and hash;
- history: a user's role and account status, and a cycle's status, must be what the last
  audit event about them made them (the audit trail is sealed, the rows are not);
- need-to-know scopes (`riskmap.scopes`): a known kind, naming a unit, region or unit
  type that exists, and each user's scope what their last `user.scope` event made it.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, UniqueConstraint
from sqlalchemy.types import JSON, Boolean, Date, DateTime, Float, Integer, Numeric, String

from riskmap import rules, scopes, texts, vocabulary
from riskmap.catalogue import Catalogue
from riskmap.problems import Problem
from riskmap.service.core import ROLES
from riskmap.service.incidents import KINDS
from riskmap.service.plans import STATUSES as ACTION_STATUSES

EVIDENCE_KINDS = ("file", "reference")
_SHA = re.compile(r"^[0-9a-f]{64}$")
MAX_DEPTH = 32  # JSON columns: exposure profiles and audit values are a few levels deep
CYCLE_STATUSES = vocabulary.CYCLE_STATUSES
NAMED = {"username", "code", "name", "label", "drafted_by"}  # must not be blank
# table -> (key column, audit entity, fields the trail's last event fixes)
HISTORY = {
    "users": ("username", "user", ("role", "active")),
    "cycles": ("label", "cycle", ("status",)),
}


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _depth(value: Any) -> int:
    """How deeply `value` nests (iteratively: a hostile depth must not blow the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            if deepest > MAX_DEPTH:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def type_problem(column: Any, value: Any) -> str | None:
    """Why `value` cannot be stored in `column` as riskmap stores it (None: it can)."""
    kind = column.type
    if value is None:
        return None if column.nullable else "missing (a value is required)"
    if isinstance(kind, JSON):
        deep = _depth(value)
        return f"nested more than {MAX_DEPTH} levels deep" if deep > MAX_DEPTH else None
    if isinstance(kind, Boolean):
        return None if isinstance(value, bool) else f"must be true or false, got {_shown(value)}"
    if isinstance(kind, Integer):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"must be a whole number, got {_shown(value)}"
    if isinstance(kind, (Float, Numeric)):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok or not math.isfinite(value):
            return f"must be a number, got {_shown(value)}"
        return None
    if isinstance(kind, (DateTime, Date)):
        parse = datetime.fromisoformat if isinstance(kind, DateTime) else date.fromisoformat
        try:
            if not isinstance(value, str):
                raise TypeError
            parse(value)
        except (TypeError, ValueError):
            what = "a timestamp" if isinstance(kind, DateTime) else "a date"
            return f"must be {what} in ISO form (2025-06-30), got {_shown(value)}"
        return None
    if isinstance(kind, String):
        if not isinstance(value, str):
            return f"must be text, got {_shown(value)}"
        if column.name in NAMED and not value.strip():
            return "must not be blank"
        return texts.column_problem(column, value)
    return None


def _domain(catalogue: Catalogue) -> dict[str, dict[str, Any]]:
    """table -> column -> check(value) -> problem or None: the rules the use cases keep."""
    m = catalogue.method

    def level(scale):
        return lambda v: (
            None
            if rules.is_level(v, scale)
            else f"must be {scale.min}-{scale.max}, got {_shown(v)}"
        )

    def one_of(allowed, what):
        return lambda v: (
            None if v in allowed else f"{_shown(v)} is not {what} ({', '.join(allowed)})"
        )

    def known(ids, what):
        return lambda v: None if v is None or v in ids else f"unknown {what} {_shown(v)}"

    risks, controls = set(catalogue.risk_by_id), set(catalogue.control_by_id)
    return {
        "users": {"role": one_of(ROLES, "a role")},
        "units": {
            "unit_type": known(set(catalogue.unit_type_by_id), "unit type"),
            "headcount": lambda v: None if v >= 0 else f"must not be negative, got {v}",
        },
        "cycles": {"status": one_of(CYCLE_STATUSES, "a cycle status")},
        "user_scopes": {"kind": one_of(scopes.KINDS, "a scope kind")},
        "risk_ratings": {
            "risk_id": known(risks, "risk"),
            "likelihood": level(m.likelihood),
            "impact": level(m.impact),
        },
        "control_ratings": {
            "control_id": known(controls, "control"),
            "maturity": level(m.maturity),
        },
        "actions": {
            "control_id": known(controls, "control"),
            "from_level": level(m.maturity),
            "to_level": level(m.maturity),
            "status": one_of(ACTION_STATUSES, "an action status"),
        },
        "incidents": {"risk_id": known(risks, "risk"), "kind": one_of(KINDS, "an incident kind")},
        "evidence_items": {  # the hash names a file in the store: never a path
            "control_id": known(controls, "control"),
            "risk_id": known(risks, "risk"),
            "kind": one_of(EVIDENCE_KINDS, "an evidence kind"),
            "sha256": lambda v: None if _SHA.match(v) else "must be 64 lower-case hex digits",
            "size": lambda v: None if v >= 0 else f"must not be negative, got {v}",
        },
    }


def _cycle_steps(row: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, problem) where a cycle's status and its timestamps disagree."""
    status, out = row.get("status"), []
    if status == "locked" and row.get("locked_at") is None:
        out.append(("locked_at", "a locked cycle has the time it was locked"))
    if status != "locked" and row.get("locked_at") is not None:
        out.append(("status", f"{status}, but the cycle was locked (locked is final)"))
    if status in ("approved", "locked") and row.get("approved_by") is None:
        out.append(("approved_by", f"a cycle {status} names who approved it"))
    return out


class _Found:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, table: str, row: dict[str, Any], field: str, message: str) -> None:
        rid = row.get("id")
        at = rid if isinstance(rid, int) and not isinstance(rid, bool) else 0
        self.problems.append(Problem(at, field, message, f"table {table}", "row id"))


def columns_of(table: Table, rows: list[dict]) -> dict[str, list]:
    """Each column of `table` as the list of its values in `rows` (None where a row has
    none): the backup's rows read a column at a time, by the checks and the restore."""
    names = [c.name for c in table.columns]
    try:
        cells = list(map(itemgetter(*names), rows)) if len(names) > 1 else None
    except KeyError:  # a row without some column
        cells = None
    if cells is None:
        return {name: [r.get(name) for r in rows] for name in names}
    if not cells:
        return {name: [] for name in names}
    return dict(zip(names, map(list, zip(*cells, strict=True)), strict=True))


def _column_clean(column: Any, values: list, check: Any) -> bool:
    """True when no value of `column` has a problem (neither `type_problem` nor the domain's
    `check`), decided for the whole column at once, as most columns of a good backup are;
    False says only: look at each value."""
    present = [v for v in values if v is not None]
    if len(present) < len(values) and not column.nullable:
        return False
    kinds, kind = set(map(type, present)), column.type
    try:
        if isinstance(kind, JSON):
            clean = all(_depth(v) <= MAX_DEPTH for v in present)
        elif isinstance(kind, Boolean):
            clean = kinds <= {bool}
        elif isinstance(kind, Integer):
            clean = kinds <= {int}
        elif isinstance(kind, (Float, Numeric)):
            clean = kinds <= {int, float} and all(map(math.isfinite, present))
        elif isinstance(kind, (DateTime, Date)):
            parse = datetime.fromisoformat if isinstance(kind, DateTime) else date.fromisoformat
            clean = kinds <= {str} and all(parse(v) for v in present)  # raises if not
        elif isinstance(kind, String):
            clean = (
                kinds <= {str}
                and (column.name not in NAMED or all(map(str.strip, present)))
                and texts.all_storable(column.name, present, getattr(kind, "length", None))
            )
        else:
            clean = True
        # the domain's checks are rules on a value alone: each distinct value once
        return clean and (check is None or not any(map(check, set(present))))
    except (TypeError, ValueError, OverflowError):
        return False


def check_rows(
    tables: dict[str, list[dict]],
    schema: list[Table],
    catalogue: Catalogue,
    columns: dict[str, dict[str, list]] | None = None,
) -> list[Problem]:
    """Every problem of the backup's rows (empty: it may be restored), table by table.

    A column found clean as a whole (`_column_clean`) is not looked at value by value: the
    problems found, and their order (row by row, then field by field), are the same.
    `columns`, if given, is filled with each table's `columns_of`, for the restore."""
    found = _Found()
    domain = _domain(catalogue)
    ids: dict[str, set] = {}
    columns = {} if columns is None else columns
    for table in schema:
        rows = tables.get(table.name) or []
        checks = domain.get(table.name, {})
        values = columns[table.name] = columns_of(table, rows)
        suspects = [
            c for c in table.columns if not _column_clean(c, values[c.name], checks.get(c.name))
        ]
        try:
            rids = {r.get("id") for r in rows}
        except TypeError:  # an id that is a list or an object: said row by row
            rids = set()
        if suspects or len(rids) < len(rows) or table.name == "cycles":
            rids = _row_by_row(table.name, rows, suspects, checks, found)
        ids[table.name] = rids
        _unique(table, rows, values, found)
    for table in schema:
        for fk in table.foreign_keys:
            target = ids.get(fk.column.table.name, set())
            try:
                if {v for v in columns[table.name][fk.parent.name] if v is not None} <= target:
                    continue
            except TypeError:
                pass
            for row in tables.get(table.name) or []:
                value = row.get(fk.parent.name)
                if value is not None and value not in target:
                    found.add(
                        table.name,
                        row,
                        fk.parent.name,
                        f"points at {fk.column.table.name} row id {_shown(value)}, which the "
                        "backup does not have",
                    )
    _history(tables, found)
    _scopes(tables, catalogue, found)
    return found.problems


def _row_by_row(
    name: str, rows: list[dict], suspects: list, checks: dict[str, Any], found: _Found
) -> set:
    """The problems of the `suspects` columns, duplicate ids and a cycle's steps, row by
    row; returns the table's ids."""
    seen: dict[Any, int] = {}
    for position, row in enumerate(rows, 1):
        for column in suspects:
            value = row.get(column.name)
            problem = type_problem(column, value)
            if problem is None and value is not None and column.name in checks:
                problem = checks[column.name](value)
            if problem:
                found.add(name, row, column.name, problem)
        rid = row.get("id")
        if rid in seen:
            found.add(name, row, "id", f"duplicate id (also row {seen[rid]} of the table)")
        seen.setdefault(rid, position)
        if name == "cycles":
            for field, problem in _cycle_steps(row):
                found.add(name, row, field, problem)
    return set(seen)


def _unique(table: Table, rows: list[dict], values: dict[str, list], found: _Found) -> None:
    groups = [
        tuple(c.name for c in k.columns)
        for k in table.constraints
        if isinstance(k, UniqueConstraint)
    ]
    groups += [(c.name,) for c in table.columns if c.unique]
    groups = list(dict.fromkeys(groups))  # unique=True is also a UniqueConstraint
    for names in groups:
        keys = list(zip(*([str(v) for v in values[n]] for n in names), strict=True))
        if len(set(keys)) == len(keys):
            continue
        first: dict[tuple, Any] = {}
        for row, key in zip(rows, keys, strict=True):
            if key in first:
                found.add(
                    table.name,
                    row,
                    names[-1],
                    f"{', '.join(names)} {', '.join(key)} is already row id {first[key]}'s",
                )
            else:
                first[key] = row.get("id")


def _history(tables: dict[str, list[dict]], found: _Found) -> None:
    """Users' roles and status, cycles' status: as the audit trail's last word on them."""
    last: dict[tuple[str, str, str], tuple[Any, Any]] = {}
    for event in tables.get("audit_events") or []:
        after = event.get("after")
        if not isinstance(after, dict):
            continue
        for field, value in after.items():
            where = (str(event.get("entity")), str(event.get("entity_id")), field)
            last[where] = (value, event.get("id"))
    for table, (key, entity, fields) in HISTORY.items():
        for row in tables.get(table) or []:
            for field in fields:
                said = last.get((entity, str(row.get(key)), field))
                if said is not None and said[0] != row.get(field):
                    found.add(
                        table,
                        row,
                        field,
                        f"{_shown(row.get(field))}, but the audit trail's last change of {entity} "
                        f"{row.get(key)} (event {said[1]}) made it {_shown(said[0])}",
                    )


def _scopes(tables: dict[str, list[dict]], catalogue: Catalogue, found: _Found) -> None:
    """A scope entry names what exists; a user's scope is what the trail last made it."""
    units = [u for u in tables.get("units") or [] if isinstance(u, dict)]
    exists = {
        scopes.UNIT: ({str(u.get("code")) for u in units}, "unit code"),
        scopes.REGION: ({str(u.get("region")) for u in units} - {""}, "region of a unit"),
        scopes.UNIT_TYPE: (set(catalogue.unit_type_by_id), "unit type"),
    }
    stored: dict[Any, list[tuple[str, str]]] = {}
    for row in tables.get("user_scopes") or []:
        kind, value = row.get("kind"), row.get("value")
        if kind in exists and value not in exists[kind][0]:
            found.add("user_scopes", row, "value", f"{_shown(value)} is no {exists[kind][1]}")
        if kind in exists:
            stored.setdefault(row.get("user_id"), []).append((str(kind), str(value)))
    said: dict[str, tuple[Any, Any]] = {}
    for event in tables.get("audit_events") or []:
        after = event.get("after")
        if event.get("action") == "user.scope" and isinstance(after, dict):
            said[str(event.get("entity_id"))] = (after.get("scope"), event.get("id"))
    for user in tables.get("users") or []:
        last = said.get(str(user.get("username")))
        now = scopes.Scope.of(stored.get(user.get("id"), [])).as_dict()
        if last is not None and last[0] != now:
            found.add(
                "users", user, "scope",
                f"{scopes.Scope.of(stored.get(user.get('id'), [])).describe()}, but the audit "
                f"trail's last scope change (event {last[1]}) made it otherwise",
            )  # fmt: skip
