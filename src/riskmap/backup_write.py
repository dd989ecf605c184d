"""Writing a backup in one pass: each row is read, converted and serialised once, and the
same bytes go to the file and into the digest.

The digest (`riskmap.backup.digest`) is the HMAC of the canonical JSON of the backup's
content, and that definition is fixed: backups already written must still verify. Canonical
JSON sorts keys, so the content is, in this order, `format`, `format_version`,
`schema_revision` and `tables`, the tables by name, each row's columns by name. This module
writes exactly that text, fed piece by piece to the HMAC, with a line break after each row
and around each table's rows (whitespace, which the digest does not see), then the digest:

    {"format":"riskmap-backup","format_version":1,"schema_revision":"0003_user_scopes","tables":{
    "actions":[
    {"carried_from_id":null,"control_id":"staff_rotation",...,"id":1,...},
    ...
    ],
    ...
    "users":[
    ...
    ]},
    "digest":{"algorithm":"HMAC-SHA256","key_id":"...","value":"..."}}

So nothing is serialised twice and no table is held whole: rows are fetched from the
driver's cursor a batch at a time (`_BATCH`), converted a column at a time by SQLAlchemy's
own result processors and `riskmap.backup.dumper`, and written. Peak memory stays that of a
batch, whatever the database's size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from json.encoder import encode_basestring
from typing import Any, BinaryIO

from sqlalchemy import Connection, DateTime, Table, select
from sqlalchemy.orm import Session

from riskmap import backup_files, keys
from riskmap.audit_seal import canonical_json, canonical_json_many
from riskmap.backup import DIGEST_ALGORITHM, FORMAT, FORMAT_VERSION, dumper, tables_in_order
from riskmap.store.engine import read_snapshot
from riskmap.store.migrate import current_revision

_BATCH = 5000  # rows fetched, converted and written together


@dataclass
class Written:
    """What a backup holds: rows, tables, the schema revision, and the SHA-256 of every
    evidence file its items name (in order, once each: what a zip backup must carry)."""

    rows: int = 0
    tables: int = 0
    schema_revision: str | None = None
    evidence: list[str] = field(default_factory=list)


def _batches(conn: Connection, table: Table) -> Iterator[tuple[list[str], dict[str, list]]]:
    """`table`'s rows in primary-key order, `_BATCH` at a time: each row's canonical JSON
    (`canonical_json` of the row as a dict), and the batch's JSON-safe values by column.

    The driver's own cursor in the session's transaction, each value through the result
    processor SQLAlchemy would apply to it and then `dumper`'s conversion: the values of
    `select(table)` through SQLAlchemy's rows, without building a row object (nor a dict)
    per row. Each column is converted and serialised whole, and a row's text is put
    together from its columns' texts, the keys sorted as canonical JSON sorts them."""
    dialect = conn.dialect
    compiled = select(table).order_by(*table.primary_key.columns).compile(dialect=dialect)
    names = [col.name for col in table.columns]
    order = sorted(range(len(names)), key=names.__getitem__)
    row = "{" + ",".join(encode_basestring(names[i]).replace("%", "%%") + ":%s" for i in order)
    row += "}"
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), () if compiled.positional else {})
        converters = [
            _converter(col.type._cached_result_processor(dialect, described[1]), col, dialect)
            for col, described in zip(table.columns, cursor.description, strict=True)
        ]
        while batch := cursor.fetchmany(_BATCH):
            columns: list[list] = [list(values) for values in zip(*batch, strict=True)]
            for i, convert in enumerate(converters):
                if convert is not None:
                    columns[i] = [None if v is None else convert(v) for v in columns[i]]
            texts = zip(*(_json_texts(columns[i]) for i in order), strict=True)
            yield list(map(row.__mod__, texts)), dict(zip(names, columns, strict=True))
    finally:
        cursor.close()


_NULL = type(None)


def _json_texts(values: list) -> Iterable[str]:
    """Each value's canonical JSON; a column of integers or of text (most of them), nulls
    among them or not, by the C functions the encoder itself calls, a call per value."""
    kinds = set(map(type, values))
    if kinds <= {int, _NULL} or kinds <= {str, _NULL}:
        text = int.__repr__ if int in kinds else encode_basestring
        if _NULL not in kinds:
            return map(text, values)
        return ["null" if v is None else text(v) for v in values]
    if kinds <= {bool, _NULL}:
        return [_BOOLEANS[v] for v in values]
    return map(canonical_json_many, values)


_BOOLEANS = {True: "true", False: "false", None: "null"}


def _converter(process: Callable | None, col: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """How a non-null value of `col` from the driver becomes the one a backup writes:
    SQLAlchemy's `process`, then `dumper`'s conversion (None: as it is)."""
    dump = dumper(col)
    if process is None or dump is None:
        convert = process or dump
    else:
        convert = lambda value: None if (loaded := process(value)) is None else dump(loaded)  # noqa: E731
    if convert is not None and dialect.name == "sqlite" and isinstance(col.type, DateTime):
        return partial(_sqlite_timestamp, convert, col.type.timezone)
    return convert


def _sqlite_timestamp(otherwise: Callable[[Any], Any], zoned: bool, value: Any) -> Any:
    """A timestamp as SQLite holds it, in SQLAlchemy's format (`2026-12-03 17:27:26.485920`,
    UTC), straight to the ISO text `dumper` writes (`2026-12-03T17:27:26.485920+00:00`,
    without `.000000`), five times faster than parsing it; any other value `otherwise`."""
    if not (
        isinstance(value, str)
        and len(value) == 26
        and value[4] == value[7] == "-"
        and value[10] == " "
        and value[13] == value[16] == ":"
        and value[19] == "."
    ):
        return otherwise(value)
    text = value[:10] + "T" + (value[11:19] if value.endswith(".000000") else value[11:])
    return text + "+00:00" if zoned else text


class _Out:
    """The digest and the file fed together, in blocks (not a write per row)."""

    def __init__(self, out: BinaryIO, seal: Any) -> None:
        self.out, self.seal = out, seal

    def put(self, text: str, shown: str | None = None) -> None:
        """`text` into the digest; `shown` (default: `text`, with line breaks) to the file."""
        data = text.encode("utf-8")
        self.seal.update(data)
        self.out.write(data if shown is None else shown.encode("utf-8"))


def write(session: Session, out: BinaryIO) -> Written:
    """Write the backup of the session's database to `out` (binary), digest last: every
    table as it stood at one moment (`read_snapshot`), however many save meanwhile."""
    conn = read_snapshot(session)
    written = Written(schema_revision=current_revision(conn))
    key = keys.keyring(conn.engine.url).current
    head = {"format": FORMAT, "format_version": FORMAT_VERSION}
    head["schema_revision"] = written.schema_revision
    sink = _Out(out, key.sealing())
    sink.put(canonical_json(head)[:-1] + ',"tables":{')  # `tables` sorts after the others
    for n, table in enumerate(sorted(tables_in_order(), key=lambda t: t.name)):
        name = canonical_json(table.name) + ":["
        sink.put(("," if n else "") + name, (",\n" if n else "\n") + name)
        count = 0
        for text, columns in _batches(conn, table):
            if table.name == "evidence_items":
                written.evidence.extend(backup_files.named_files(columns["sha256"]))
            first = "," if count else ""
            sink.put(first + ",".join(text), first + "\n" + ",\n".join(text))
            count += len(text)
        sink.put("]", "\n]" if count else "]")
        written.rows += count
        written.tables += 1
    sink.put("}}", "")
    found = {"algorithm": DIGEST_ALGORITHM, "key_id": key.id, "value": sink.seal.hexdigest()}
    out.write(('\n},\n"digest":' + canonical_json(found) + "}\n").encode("utf-8"))
    written.evidence = list(dict.fromkeys(written.evidence))
    return written
