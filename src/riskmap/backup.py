"""Whole-database backup to plain JSON data, and restore into an empty database.

The backup is backend-neutral: timestamps are ISO strings in UTC, dates ISO strings, JSON
columns kept as they are. So a SQLite backup restores into PostgreSQL and back, and the
audit events keep their hash chain (restored byte for byte, never re-recorded).

Format (version 1)::

    {"format": "riskmap-backup", "format_version": 1, "schema_revision": "0001",
     "tables": {"actions": [{"carried_from_id": null, ...}, ...], "audit_events": [...], ...},
     "digest": {"algorithm": "HMAC-SHA256", "key_id": "...", "value": "..."}}

Rows appear in primary-key order. The file `riskmap.backup_write` writes is the digest's
canonical JSON itself (tables by name, each row's keys sorted, one row a line) followed by
the digest; backups written before (tables in foreign-key order, columns in the schema's
order, spaces) hold the same data and restore the same: only the JSON's value counts.

The digest is an HMAC of the canonical JSON of everything but itself, under the audit key
(`riskmap.keys`): the audit chain covers only the audit events, so without it a
likelihood of 99 or an auditor made administrator in the file would be restored as if
riskmap had written it. A backup
whose digest is missing or does not match is refused unless the administrator accepts it
(`accept_edited`, recorded as an audit event). Either way every row is checked first
(`riskmap.backup_checks`: the service's rules), and nothing is written unless all pass.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Table, func, inspect, select, text
from sqlalchemy.orm import Session
from sqlalchemy.types import JSON, Boolean, Date, DateTime, Float, Integer, Numeric, String

from riskmap import audit, keys
from riskmap.problems import Problem
from riskmap.store.migrate import current_revision
from riskmap.store.models import Base

if TYPE_CHECKING:  # a backup needs neither: restore imports them (the service, pandas)
    from riskmap.catalogue import Catalogue

FORMAT = "riskmap-backup"
FORMAT_VERSION = 1


DIGEST_ALGORITHM = "HMAC-SHA256"
EDITED_ACTION = "backup.restore_edited"


class RestoreError(ValueError):
    """The backup cannot be restored into this database (and nothing was written).

    `problems`: every row problem, each naming table, row id and field (may be empty when
    the whole file is refused, e.g. another schema revision)."""

    def __init__(self, message: str, problems: list[Problem] | None = None):
        self.problems = list(problems or [])
        super().__init__(message)


def _content(data: dict) -> bytes:
    body = {k: data.get(k) for k in ("format", "format_version", "schema_revision", "tables")}
    return audit.canonical_json(body).encode("utf-8")


def digest(data: dict, ring: keys.Keyring) -> dict[str, str]:
    """The keyed digest of a backup's content (everything but the digest itself)."""
    key = ring.current
    return {"algorithm": DIGEST_ALGORITHM, "key_id": key.id, "value": key.seal(_content(data))}


def digest_problem(data: dict, ring: keys.Keyring) -> str | None:
    """Why the backup's digest does not vouch for its content (None: it does)."""
    found = data.get("digest")
    if not isinstance(found, dict) or found.get("algorithm") != DIGEST_ALGORITHM:
        return "the backup carries no digest (made by an older riskmap, or the digest was removed)"
    key = ring.by_id(str(found.get("key_id")))
    if key is None:
        return (
            f"the backup's digest is made with key {found.get('key_id')}, which this riskmap "
            f"does not hold ({ring.where}): use the key file of the installation that made it"
        )
    try:
        content = _content(data)
    except ValueError:  # NaN or infinity somewhere: never written by riskmap
        return "the backup's content does not match its digest: it was edited after it was made"
    if not hmac.compare_digest(key.seal(content), str(found.get("value"))):
        return "the backup's content does not match its digest: it was edited after it was made"
    return None


def tables_in_order() -> list[Table]:
    """Every table of the schema, in foreign-key order (the order a restore inserts)."""
    return list(Base.metadata.sorted_tables)


# --- value conversion ------------------------------------------------------------------


def dumper(column: Column) -> Callable[[Any], Any] | None:
    """How a (non-null) value of `column`, as SQLAlchemy reads it, is written in a backup;
    None: as it is (numbers, text, booleans, JSON). Timestamps with a time zone in UTC
    (SQLite returns them naive, stored in UTC), dates in ISO form, decimals as floats."""
    kind = column.type
    if isinstance(kind, JSON):
        return None
    if isinstance(kind, DateTime):
        return _utc_iso if kind.timezone else _iso
    if isinstance(kind, Date):
        return _iso
    if isinstance(kind, Numeric) and not isinstance(kind, Float):
        return _plain_number
    if isinstance(kind, (Integer, String, Boolean, Float)):
        return None
    return _as_read


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (datetime, date)) else value


def _utc_iso(value: Any) -> Any:
    if not isinstance(value, datetime):
        return _iso(value)
    if value.tzinfo is None:  # SQLite returns stored UTC timestamps naive
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def _plain_number(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def _as_read(value: Any) -> Any:
    return _plain_number(_iso(value))


def _pk_order(table: Table) -> list[Column]:
    return list(table.primary_key.columns)


# --- backup ----------------------------------------------------------------------------


def backup(session: Session) -> dict:
    """Every table of the schema as JSON-safe rows, plus the schema revision and digest:
    the backup `riskmap.backup_write.write` streams to a file, read back."""
    import io
    import json

    from riskmap.backup_write import write

    out = io.BytesIO()
    write(session, out)
    return json.loads(out.getvalue())


# --- restore ---------------------------------------------------------------------------


def _check(data: Any, revision: str | None) -> dict[str, list[dict]]:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise RestoreError("not a riskmap backup (missing format marker 'riskmap-backup')")
    if data.get("format_version") != FORMAT_VERSION:
        raise RestoreError(
            f"backup format version {data.get('format_version')!r} is not supported "
            f"(this riskmap reads version {FORMAT_VERSION})"
        )
    if revision is None:
        raise RestoreError("the target database has no schema yet: run `riskmap db upgrade`")
    if data.get("schema_revision") != revision:
        raise RestoreError(
            f"backup is of schema revision {data.get('schema_revision')!r} but the target "
            f"database is at {revision!r}"
        )
    tables = data.get("tables")
    if not isinstance(tables, dict):
        raise RestoreError("backup has no 'tables' mapping")
    known = {t.name: t for t in tables_in_order()}
    unknown = sorted(set(tables) - set(known))
    if unknown:
        raise RestoreError(f"backup has tables this schema does not know: {', '.join(unknown)}")
    for name, rows in tables.items():
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise RestoreError(f"table {name}: rows must be a list of objects")
        named = set().union(*rows)  # the column names of every row
        if any(not isinstance(k, str) for k in named):
            raise RestoreError(f"table {name}: column names must be text")
        columns = set(known[name].columns.keys())
        for row in rows if named - columns else ():  # the first row that has one
            extra = set(row) - columns
            if extra:
                raise RestoreError(
                    f"table {name}: unknown column(s) {', '.join(sorted(extra))} in backup"
                )
    return tables


def _non_empty_tables(session: Session) -> list[str]:
    conn = session.connection()
    names = set(inspect(conn).get_table_names())
    found = []
    for table in tables_in_order():
        if table.name not in names:
            continue
        count = conn.execute(select(func.count()).select_from(table)).scalar_one()
        if count:
            found.append(f"{table.name} ({count} rows)")
    return found


def restore(
    session: Session,
    data: dict,
    *,
    catalogue: Catalogue | None = None,
    accept_edited: bool = False,
    actor: str = "cli:admin",
    source: str = "",
) -> str | None:
    """Insert every row of `data` with its original id, into an EMPTY database.

    Runs in the caller's transaction: the caller commits (or rolls back on error).
    Raises RestoreError, before writing anything, if the database is not empty, has no
    schema, or is at another schema revision than the backup; if the digest does not vouch
    for the content and `accept_edited` is not given; or listing every row problem
    (`riskmap.backup_checks`). Returns why the digest did not vouch when the edited backup
    was accepted (recorded as an audit event by `actor`), else None.
    """
    conn = session.connection()
    tables = _check(data, current_revision(conn))
    occupied = _non_empty_tables(session)
    if occupied:
        raise RestoreError(
            "refusing to restore into a database that is not empty: " + ", ".join(occupied)
        )
    edited = digest_problem(data, keys.keyring(conn.engine.url))
    if edited and not accept_edited:
        raise RestoreError(
            f"{edited}; nothing was written (an administrator who knows why may restore it "
            "with --accept-edited, which is recorded in the audit trail)"
        )
    from riskmap.backup_checks import check_rows
    from riskmap.catalogue import load_catalogue

    columns: dict[str, dict[str, list]] = {}
    problems = check_rows(tables, tables_in_order(), catalogue or load_catalogue(), columns)
    if problems:
        raise RestoreError(
            f"{len(problems)} problem(s) in the backup's rows; nothing was written", problems
        )

    from riskmap.backup_insert import insert_all

    insert_all(conn, tables, tables_in_order(), columns)
    if conn.dialect.name == "postgresql":
        _reset_sequences(session)
    if edited:
        audit.record(
            session,
            actor=actor,
            action=EDITED_ACTION,
            entity="backup",
            entity_id=source[:80],
            after={"digest": edited},
            reason=f"backup restored although {edited}",
        )
    return edited


def _reset_sequences(session: Session) -> None:
    """Point each serial id sequence past the restored ids."""
    conn = session.connection()
    for table in tables_in_order():
        pk = _pk_order(table)
        if len(pk) != 1 or not isinstance(pk[0].type, Integer):
            continue
        name, col = table.name, pk[0].name
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence(:t, :c), "  # noqa: S608 - names from metadata
                f'COALESCE((SELECT MAX("{col}") FROM "{name}"), 1), '
                f'(SELECT MAX("{col}") FROM "{name}") IS NOT NULL)'
            ).bindparams(t=name, c=col)
        )
