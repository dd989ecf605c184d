"""Importing a unit list (CSV or Excel): check every row first, then apply all or nothing.

`read_unit_table` turns the uploaded bytes into rows (pure, no database);
`check_unit_import` (a use case) reports every problem with its row and column, so the
person importing can fix the file in one go; `import_units` checks again and, only if
there is no problem at all, adds (or, with `update_existing`, updates) every unit in one
transaction, each with its audit event.

Columns (header names, case and spaces ignored): `code`, `name`, `unit_type` (the
catalogue id or name), optional `parent` (a code in the file or already in the database),
`region`, `headcount`, and one optional column per exposure factor (`discretion`,
`contact`, ... or `exposure_discretion`, ...; a blank keeps the unit type's default for a
new unit, the unit's level for an existing one). Updating an existing unit changes only
what the file has: optional columns missing from the file keep the unit's values.
Rows are numbered as a spreadsheet shows them: the header is row 1.
"""

from __future__ import annotations

import io
from pathlib import PurePath
from typing import Any

import pandas as pd
from sqlalchemy import select

from riskmap import texts
from riskmap.catalogue import Catalogue
from riskmap.problems import Problem
from riskmap.service.core import Tx, snapshot, use_case
from riskmap.service.errors import ValidationError
from riskmap.service.units import CODE
from riskmap.store.models import Unit

REQUIRED = ("code", "name", "unit_type")
OPTIONAL = ("parent", "region", "headcount")
MAX_ROWS = 5000
FIRST_ROW = 2  # the header is row 1 in a spreadsheet


class ImportRejected(ValidationError):
    """The file has problems: nothing was imported. `problems` lists every one."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        shown = "; ".join(str(p) for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(
            "unit list", f"{len(problems)} problem(s), nothing imported: {shown}{more}"
        )


def _clean_header(name: Any) -> str:
    return str(name).strip().lower().replace(" ", "_").replace("-", "_")


def read_unit_table(data: bytes, filename: str) -> pd.DataFrame:
    """The uploaded file as a frame of strings (headers normalised; blanks as "").

    CSV (comma or semicolon, UTF-8 with or without BOM) or Excel (.xlsx, first sheet).
    """
    suffix = PurePath(filename).suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            frame = pd.read_excel(io.BytesIO(data), dtype=str, engine="openpyxl")
        elif suffix in (".csv", ".txt", ""):
            text = data.decode("utf-8-sig")
            frame = pd.read_csv(
                io.StringIO(text), dtype=str, sep=None, engine="python", keep_default_na=False
            )
        else:
            raise ValidationError(
                "file", f"{filename}: use a .csv or .xlsx file (got {suffix or 'no extension'})"
            )
    except UnicodeDecodeError as exc:
        raise ValidationError(
            "file", f"{filename} is not UTF-8 text: save it as CSV UTF-8"
        ) from exc
    except ValidationError:
        raise
    except Exception as exc:  # a damaged or unreadable file: say so in words  # noqa: BLE001
        raise ValidationError("file", f"{filename} could not be read: {exc}") from exc
    frame.columns = [_clean_header(c) for c in frame.columns]
    frame = frame.fillna("").map(lambda v: str(v).strip())
    blank = (frame == "").all(axis=1)
    return frame[~blank].reset_index(drop=True) if len(frame) else frame


def _exposure_columns(catalogue: Catalogue, columns: list[str]) -> dict[str, str]:
    """factor id -> the column holding it."""
    out = {}
    for factor in catalogue.method.exposure.factors:
        for name in (factor.id, f"exposure_{factor.id}"):
            if name in columns:
                out[factor.id] = name
    return out


def _unit_type(catalogue: Catalogue, value: str) -> str | None:
    if value in catalogue.unit_type_by_id:
        return value
    by_name = {t.name.strip().lower(): t.id for t in catalogue.unit_types}
    return by_name.get(value.strip().lower())


def plan_unit_import(
    catalogue: Catalogue,
    frame: pd.DataFrame,
    existing: dict[str, dict[str, Any]],
    *,
    update_existing: bool = False,
) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Rows turned into unit values, and every problem found (pure: no database).

    `existing` maps the codes already in the database to {"retired": bool, "parent": code or
    None}. Rows come back ordered so that a parent is added before its sub-units.
    """
    columns = list(frame.columns)
    factor_cols = _exposure_columns(catalogue, columns)
    problems = _header_problems(columns, factor_cols)
    if problems:
        return [], problems
    if len(frame) == 0:
        return [], [Problem(0, "code", "the file has no unit rows")]
    if len(frame) > MAX_ROWS:
        return [], [Problem(0, "code", f"at most {MAX_ROWS} rows per import")]
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for i, rec in enumerate(frame.to_dict("records")):
        found, row = _unit_row(catalogue, rec, i + FIRST_ROW, factor_cols, seen, existing,
                               update_existing)  # fmt: skip
        problems.extend(found)
        if row is not None:
            row["update"] = row["code"] in existing
            row["columns"] = {c for c in OPTIONAL if c in columns}
            rows.append(row)
    problems.extend(_parent_problems(rows, seen, existing))
    problems.sort(key=lambda p: (p.row, p.column))
    return _parents_first(rows), problems


def _header_problems(columns: list[str], factor_cols: dict[str, str]) -> list[Problem]:
    problems = [
        Problem(0, col, "this column is missing from the header")
        for col in REQUIRED
        if col not in columns
    ]
    known = set(REQUIRED) | set(OPTIONAL) | set(factor_cols.values())
    problems += [
        Problem(
            0,
            col,
            "unknown column (known: code, name, unit_type, parent, region, "
            "headcount and the exposure factors)",
        )
        for col in columns
        if col not in known
    ]
    return problems


def _code_problem(
    code: str, seen: dict[str, int], existing: dict[str, dict[str, Any]], update: bool
) -> str | None:
    if not CODE.match(code):
        return f"{code!r}: use up to 40 letters, digits, dots, dashes or underscores"
    if code in seen:
        return f"{code} is already on row {seen[code]}"
    if code in existing and not update:
        return (
            f"unit {code} already exists (tick 'update existing units' to change it from the file)"
        )
    return None


def _whole(raw: Any, low: int, high: int | None) -> int | None:
    """`raw` as a whole number in [low, high] (None: no upper bound), or None if it is not."""
    try:
        value = int(float(raw))
    except (TypeError, ValueError, OverflowError):  # 'abc', 'inf'
        return None
    if float(raw) != value or value < low or (high is not None and value > high):
        return None
    return value


def _unit_row(
    catalogue: Catalogue,
    rec: dict[str, Any],
    n: int,
    factor_cols: dict[str, str],
    seen: dict[str, int],
    existing: dict[str, dict[str, Any]],
    update_existing: bool,
) -> tuple[list[Problem], dict[str, Any] | None]:
    """The problems of file row `n`, and its unit values when it has none."""
    found: list[Problem] = []
    code, name, type_value = rec["code"], rec["name"], rec["unit_type"]
    problem = _code_problem(code, seen, existing, update_existing)
    if problem:
        found.append(Problem(n, "code", problem))
    if code and code not in seen:
        seen[code] = n
    if not name:
        found.append(Problem(n, "name", "must not be empty"))
    for field in ("name", "region"):  # what the store could not hold (riskmap.texts)
        length = Unit.__table__.c[field].type.length
        problem = texts.text_problem(field, str(rec.get(field, "") or ""), length)
        if problem:
            found.append(Problem(n, field, problem))
    unit_type = _unit_type(catalogue, type_value)
    if unit_type is None:
        found.append(Problem(n, "unit_type", f"{type_value!r} is not a unit type of the catalogue"))
    raw_head = rec.get("headcount", "")
    headcount = _whole(raw_head, 0, None) if raw_head else 0
    if headcount is None:
        found.append(Problem(n, "headcount", f"{raw_head!r}: a whole number, 0 or more"))
    scale = catalogue.method.exposure
    exposure: dict[str, int] = {}  # the levels the file gives
    for factor, col in factor_cols.items():
        raw = rec.get(col, "")
        if not raw:
            continue
        level = _whole(raw, scale.min, scale.max)
        if level is None:
            found.append(
                Problem(n, col, f"{raw!r}: a whole number from {scale.min} to {scale.max}")
            )
        else:
            exposure[factor] = level
    if found:
        return found, None
    return found, {
        "row": n,
        "code": code,
        "name": name,
        "unit_type": unit_type,
        "parent": rec.get("parent", "") or None,
        "region": rec.get("region", ""),
        "headcount": headcount,
        "exposure": exposure,
    }


def _parent_problems(
    rows: list[dict[str, Any]], seen: dict[str, int], existing: dict[str, dict[str, Any]]
) -> list[Problem]:
    """Parents: a code of the file or of the database, not retired, and no cycle."""
    problems: list[Problem] = []
    in_file = {r["code"]: r for r in rows}
    for r in rows:
        parent = r["parent"]
        if parent is None or parent == r["code"]:
            continue  # a unit that is its own parent is reported as a loop below
        if parent not in in_file and parent not in seen and parent not in existing:
            problems.append(
                Problem(r["row"], "parent", f"{parent} is neither in the file nor an existing unit")
            )
        elif parent not in in_file and parent in existing and existing[parent].get("retired"):
            problems.append(Problem(r["row"], "parent", f"{parent} is retired"))
    # No loops in the hierarchy that results (file rows over the database's parents).
    parents = {code: info.get("parent") for code, info in existing.items()}
    parents.update({r["code"]: r["parent"] for r in rows})
    for r in rows:
        node, path = r["parent"], {r["code"]}
        while node is not None and node not in path:
            path.add(node)
            node = parents.get(node)
        if node is not None:
            problems.append(
                Problem(
                    r["row"],
                    "parent",
                    f"{r['parent']} is {r['code']} itself or one of its sub-units (a loop)",
                )
            )
    return problems


def _parents_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows ordered so that a parent of the file comes before its sub-units."""
    in_file = {r["code"] for r in rows}
    ordered: list[dict[str, Any]] = []
    placed: set[str] = set()
    pending = list(rows)
    while pending:
        ready = [r for r in pending if r["parent"] not in in_file or r["parent"] in placed]
        if not ready:  # a loop, reported by _parent_problems
            break
        for r in ready:
            ordered.append(r)
            placed.add(r["code"])
        pending = [r for r in pending if r["code"] not in placed]
    return ordered


def _existing(tx: Tx) -> dict[str, dict[str, Any]]:
    rows = tx.session.execute(select(Unit.id, Unit.code, Unit.retired, Unit.parent_id)).all()
    codes = {i: c for i, c, _, _ in rows}
    return {c: {"retired": r, "parent": codes.get(p) if p else None} for _, c, r, p in rows}


@use_case("admin")
def check_unit_import(
    tx: Tx, frame: pd.DataFrame, *, update_existing: bool = False
) -> dict[str, Any]:
    """Every problem of the file (row, column, message) and what applying it would do."""
    rows, problems = plan_unit_import(
        tx.catalogue, frame, _existing(tx), update_existing=update_existing
    )
    return {
        "problems": problems,
        "add": [r["code"] for r in rows if not r["update"]],
        "update": [r["code"] for r in rows if r["update"]],
    }


@use_case("admin")
def import_units(
    tx: Tx, frame: pd.DataFrame, *, update_existing: bool = False, source: str = ""
) -> dict[str, Any]:
    """Add (and with `update_existing`, update) every unit of the file, or none.

    Raises `ImportRejected` listing every problem; then nothing is written.
    """
    rows, problems = plan_unit_import(
        tx.catalogue, frame, _existing(tx), update_existing=update_existing
    )
    if problems:
        raise ImportRejected(problems)
    org = tx.organisation()
    reason = f"imported from {source}" if source else "imported from a unit list"
    units: dict[str, Unit] = {
        u.code: u
        for u in tx.session.scalars(select(Unit).where(Unit.code.in_([r["code"] for r in rows])))
    }
    added, updated = [], []
    for r in rows:
        parent_id = None
        if r["parent"]:
            parent = units.get(r["parent"]) or tx.unit(r["parent"])
            parent_id = parent.id
        values = {
            "name": r["name"],
            "unit_type": r["unit_type"],
            "region": r["region"],
            "headcount": r["headcount"],
            "parent_id": parent_id,
        }
        unit = units.get(r["code"])
        if unit is None:
            exposure = dict(tx.catalogue.unit_type_by_id[r["unit_type"]].exposure)
            values["exposure"] = {**exposure, **r["exposure"]}
            unit = Unit(organisation_id=org.id, code=r["code"], retired=False, **values)
            tx.session.add(unit)
            tx.session.flush()
            units[r["code"]] = unit
            tx.audit("unit.add", "unit", r["code"], after=snapshot(unit), reason=reason)
            added.append(r["code"])
            continue
        # An update changes only what the file has: optional columns it lacks, and blank
        # exposure levels, keep the unit's values.
        column_of = {"parent_id": "parent", "region": "region", "headcount": "headcount"}
        values = {
            k: v
            for k, v in values.items()
            if column_of.get(k, k) in r["columns"] | {"name", "unit_type"}
        }
        values["exposure"] = {**(unit.exposure or {}), **r["exposure"]}
        before = snapshot(unit)
        changed = {k: v for k, v in values.items() if getattr(unit, k) != v}
        if not changed:
            continue
        for key, value in changed.items():
            setattr(unit, key, value)
        tx.session.flush()
        tx.audit("unit.edit", "unit", r["code"], before=before, after=snapshot(unit), reason=reason)
        updated.append(r["code"])
    if added or updated:
        tx.audit(
            "units.import",
            "organisation",
            org.id,
            after={"added": len(added), "updated": len(updated), "source": source},
            reason=reason,
        )
    return {"added": added, "updated": updated}
