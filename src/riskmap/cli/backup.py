"""`riskmap backup` and `riskmap restore`: the whole database to and from one JSON file."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import click

from riskmap import audit as audit_log
from riskmap.backup import RestoreError
from riskmap.backup import backup as make_backup
from riskmap.backup import restore as restore_backup
from riskmap.cli.options import db_option, shown_url
from riskmap.store.engine import make_engine, session_factory
from riskmap.store.migrate import upgrade


def _write_json(data: dict, fh) -> None:
    """`data` as JSON, one table row a line: one C-encoded `json.dumps` per row.

    `json.dump(indent=...)` forces the pure-Python encoder over the whole backup; this
    writes the same JSON value (restore reads either) several times faster."""
    fh.write("{\n")
    items = list(data.items())
    for i, (key, value) in enumerate(items):
        fh.write(f" {json.dumps(key)}: ")
        if key == "tables":
            fh.write("{\n")
            for j, (name, rows) in enumerate(value.items()):
                fh.write(f"  {json.dumps(name)}: [")
                for k, row in enumerate(rows):
                    fh.write(("," if k else "") + "\n   " + json.dumps(row, ensure_ascii=False))
                fh.write("\n  ]" if rows else "]")
                fh.write(",\n" if j < len(value) - 1 else "\n")
            fh.write(" }")
        else:
            fh.write(json.dumps(value, ensure_ascii=False))
        fh.write(",\n" if i < len(items) - 1 else "\n")
    fh.write("}\n")


@click.command("backup")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="JSON file to write (replaced atomically). It holds password hashes: keep it safe.",
)
@db_option
def backup_cmd(output: Path, db: str) -> None:
    """Write every table of the database to one JSON file."""
    engine = make_engine(db)
    try:
        with session_factory(engine)() as session:
            data = make_backup(session)
    finally:
        engine.dispose()
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            _write_json(data, fh)
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    rows = sum(len(r) for r in data["tables"].values())
    click.echo(
        f"backup of {shown_url(db)} written to {output}: {rows} rows in "
        f"{len(data['tables'])} tables, schema revision {data['schema_revision']}"
    )


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option
@click.option(
    "--allow-broken-audit",
    is_flag=True,
    help="Restore even if the backup's audit chain does not verify.",
)
@click.option(
    "--accept-edited",
    is_flag=True,
    help="Restore even if the backup's keyed digest does not match (recorded in the trail).",
)
def restore_cmd(file: Path, db: str, allow_broken_audit: bool, accept_edited: bool) -> None:
    """Load a backup into an EMPTY database (its schema is created or upgraded first).

    Every row is checked first (table, row id and field of each problem on stderr), and a
    backup edited since it was made (its keyed digest) is refused unless --accept-edited."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except RecursionError:
        click.echo(f"cannot read {file}: its JSON is nested too deeply for a backup", err=True)
        sys.exit(1)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        click.echo(f"cannot read {file}: {exc}", err=True)
        sys.exit(1)
    engine = make_engine(db)
    try:
        upgrade(engine)
        with session_factory(engine)() as session:
            try:
                edited = restore_backup(
                    session, data, accept_edited=accept_edited, source=file.name
                )
            except RestoreError as exc:
                session.rollback()
                click.echo(f"restore refused: {exc}", err=True)
                for problem in exc.problems:
                    click.echo(str(problem), err=True)
                sys.exit(1)
            check = audit_log.verify(session)
            if not check.ok and not allow_broken_audit:
                session.rollback()
                click.echo(
                    f"restore refused: the backup's audit chain is broken at event "
                    f"{check.first_broken_id}: {check.message} (nothing was written; "
                    "--allow-broken-audit restores it anyway)",
                    err=True,
                )
                sys.exit(1)
            session.commit()
            if edited:
                click.echo(f"warning: {edited}; restored as asked (--accept-edited)", err=True)
    finally:
        engine.dispose()
    rows = sum(len(r) for r in data["tables"].values())
    click.echo(f"restored {rows} rows from {file} into {shown_url(db)}; {check.message}")


COMMANDS = [backup_cmd, restore_cmd]
