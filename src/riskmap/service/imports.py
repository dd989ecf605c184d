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
    None}. Rows come back
    ordered so that a parent is added before its sub-units.
    """
    problems: list[Problem] = []
    columns = list(frame.columns)
    for col in REQUIRED:
        if col not in columns:
            problems.append(Problem(0, col, "this column is missing from the header"))
    known = set(REQUIRED) | set(OPTIONAL)
    factor_cols = _exposure_columns(catalogue, columns)
    unknown = [c for c in columns if c not in known and c not in factor_cols.values()]
    for col in unknown:
        problems.append(
            Problem(
                0,
                col,
                "unknown column (known: code, name, unit_type, parent, region, "
                "headcount and the exposure factors)",
            )
        )
    if problems:
        return [], problems
    if len(frame) == 0:
        return [], [Problem(0, "code", "the file has no unit rows")]
    if len(frame) > MAX_ROWS:
        return [], [Problem(0, "code", f"at most {MAX_ROWS} rows per import")]

    scale = catalogue.method.exposure
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for i, rec in enumerate(frame.to_dict("records")):
        n = i + FIRST_ROW
        code, name, type_value = rec["code"], rec["name"], rec["unit_type"]
        ok = True
        if not CODE.match(code):
            problems.append(
                Problem(
                    n,
                    "code",
                    f"{code!r}: use up to 40 letters, digits, dots, dashes or underscores",
                )
            )
            ok = False
        elif code in seen:
            problems.append(Problem(n, "code", f"{code} is already on row {seen[code]}"))
            ok = False
        elif code in existing and not update_existing:
            problems.append(
                Problem(
                    n,
                    "code",
                    f"unit {code} already exists (tick 'update existing units' "
                    "to change it from the file)",
                )
            )
            ok = False
        if code and code not in seen:
            seen[code] = n
        if not name:
            problems.append(Problem(n, "name", "must not be empty"))
            ok = False
        for field in ("name", "region"):  # what the store could not hold (riskmap.texts)
            length = Unit.__table__.c[field].type.length
            problem = texts.text_problem(field, str(rec.get(field, "") or ""), length)
            if problem:
                problems.append(Problem(n, field, problem))
                ok = False
        unit_type = _unit_type(catalogue, type_value)
        if unit_type is None:
            problems.append(
                Problem(n, "unit_type", f"{type_value!r} is not a unit type of the catalogue")
            )
            ok = False
        headcount = 0
        raw_head = rec.get("headcount", "")
        if raw_head:
            try:
                headcount = int(float(raw_head))
                if headcount < 0 or float(raw_head) != headcount:
                    raise ValueError
            except (ValueError, OverflowError):  # 'abc', 'inf'
                problems.append(Problem(n, "headcount", f"{raw_head!r}: a whole number, 0 or more"))
                ok = False
        exposure: dict[str, int] = {}  # the levels the file gives
        for factor, col in factor_cols.items():
            raw = rec.get(col, "")
            if not raw:
                continue
            try:
                level = int(float(raw))
                if float(raw) != level or not scale.min <= level <= scale.max:
                    raise ValueError
            except (ValueError, OverflowError):  # 'abc', 'inf'
                problems.append(
                    Problem(n, col, f"{raw!r}: a whole number from {scale.min} to {scale.max}")
                )
                ok = False
                continue
            exposure[factor] = level
        if ok:
            rows.append(
                {
                    "row": n,
                    "code": code,
                    "name": name,
                    "unit_type": unit_type,
                    "parent": rec.get("parent", "") or None,
                    "region": rec.get("region", ""),
                    "headcount": headcount,
                    "exposure": exposure,
                    "update": code in existing,
                    "columns": {c for c in OPTIONAL if c in columns},
                }
            )

    # Parents: a code of the file or of the database, not retired, and no cycle.
    in_file = {r["code"]: r for r in rows}
    for r in rows:
        parent = r["parent"]
        if parent is None:
            continue
        if parent == r["code"]:
            continue  # reported as a loop below
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
    ordered: list[dict[str, Any]] = []
    placed: set[str] = set()
    pending = list(rows)
    while pending:
        ready = [r for r in pending if r["parent"] not in in_file or r["parent"] in placed]
        if not ready:  # a loop, reported above
            break
        for r in ready:
            ordered.append(r)
            placed.add(r["code"])
        pending = [r for r in pending if r["code"] not in placed]
    problems.sort(key=lambda p: (p.row, p.column))
    return ordered, problems


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
