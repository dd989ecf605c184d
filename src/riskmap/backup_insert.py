"""Writing a checked backup's rows into the database, a column at a time.

`riskmap.backup.restore` calls `insert_all` once every row has passed
`riskmap.backup_checks`, so each value already has its column's type in JSON form (ISO
texts for dates and timestamps). Each column is turned into what SQLAlchemy stores
(`loader`, then the column type's own bind processor, the one SQLAlchemy would apply to
it) as a whole, and a table's rows go to the driver's `executemany` in one statement,
without SQLAlchemy building parameters row by row, which was most of a restore's time.

Rows that point at rows of their own table (`units.parent_id`, `actions.carried_from_id`,
...) are inserted with those columns empty and set once every row of the table exists, in
one `executemany` per table too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Column, Connection, Table, bindparam, update
from sqlalchemy.sql.expression import Executable
from sqlalchemy.types import JSON, Date, DateTime, Float, Numeric

from riskmap.backup_checks import columns_of

_BATCH = 5000  # rows per executemany


def loader(column: Column) -> Callable[[Any], Any] | None:
    """How a (checked, non-null) value of `column` in a backup becomes the value
    SQLAlchemy stores; None: as it is. The reverse of `riskmap.backup.dumper`."""
    kind = column.type
    if isinstance(kind, JSON):
        return None
    if isinstance(kind, DateTime):
        return _zoned if kind.timezone else datetime.fromisoformat
    if isinstance(kind, Date):
        return date.fromisoformat
    if isinstance(kind, (Float, Numeric)):
        return float
    return None


def _zoned(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _execute_many(
    conn: Connection, statement: Executable, values: dict[str, list], *, insert: bool = False
) -> None:
    """`statement` once per row of `values` (bind name -> that bind's value of each row),
    by the driver's `executemany` on the session's connection, in its transaction."""
    dialect = conn.dialect
    keys = {"column_keys": list(values)} if insert else {}
    compiled = statement.compile(dialect=dialect, **keys)
    names = list(compiled.positiontup or ()) if compiled.positional else list(compiled.binds)
    processed = []
    for name in names:
        process = compiled.binds[name].type._cached_bind_processor(dialect)
        column = values[compiled.binds[name].key]
        processed.append(column if process is None else [process(v) for v in column])
    rows: Any = zip(*processed, strict=True)
    if not compiled.positional:
        rows = (dict(zip(names, row, strict=True)) for row in rows)
    rows = list(rows)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        for start in range(0, len(rows), _BATCH):
            cursor.executemany(str(compiled), rows[start : start + _BATCH])
    finally:
        cursor.close()


def insert_all(
    conn: Connection,
    tables: dict[str, list[dict]],
    schema: list[Table],
    read: dict[str, dict[str, list]] | None = None,
) -> None:
    """Insert every row of `tables` (checked) with its own ids, tables in `schema`'s
    (foreign-key) order; `read`: the tables' `columns_of` if the checks made them."""
    deferred: list[tuple[Table, dict[str, list]]] = []
    for table in schema:
        rows = tables.get(table.name) or []
        if not rows:
            continue
        columns = dict((read or {}).get(table.name) or columns_of(table, rows))
        for col in table.columns:
            load = loader(col)
            if load is not None:
                columns[col.name] = [None if v is None else load(v) for v in columns[col.name]]
        refs = sorted(fk.parent.name for fk in table.foreign_keys if fk.column.table is table)
        later = [i for i in range(len(rows)) if any(columns[c][i] is not None for c in refs)]
        if later:
            keep = [c.name for c in table.primary_key.columns] + refs
            deferred.append((table, {name: [columns[name][i] for i in later] for name in keep}))
            columns.update({name: [None] * len(rows) for name in refs})
        _execute_many(conn, table.insert(), columns, insert=True)
    for table, values in deferred:
        pk = list(table.primary_key.columns)
        refs = [name for name in values if name not in {c.name for c in pk}]
        statement = (
            update(table)
            .where(*(c == bindparam(f"old_{c.name}") for c in pk))
            .values({name: bindparam(f"new_{name}") for name in refs})
        )
        named = {f"old_{c.name}": values[c.name] for c in pk}
        named.update({f"new_{name}": values[name] for name in refs})
        _execute_many(conn, statement, named)
