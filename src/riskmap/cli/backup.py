"""`riskmap backup` and `riskmap restore`: the whole database to and from one file.

`-o FILE.zip` writes the JSON and every evidence file its items name
(`riskmap.backup_files`), checked by hash on restore; `-o FILE.json` the JSON alone (the
files stay in the evidence store, and the command says how many it left out).
"""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from riskmap import audit as audit_log
from riskmap import backup_files
from riskmap.backup import RestoreError
from riskmap.backup import restore as restore_backup
from riskmap.backup_write import write as write_backup
from riskmap.cli.options import db_option, shown_url
from riskmap.evidence_files import EvidenceStore, store_dir
from riskmap.files import open_atomically
from riskmap.store.engine import make_engine, session_factory
from riskmap.store.migrate import upgrade


@contextmanager
def _parsed() -> Iterator[None]:
    """No cyclic garbage collection while a backup is parsed, and what exists then (the
    modules, the backup's rows: they last until the command ends) left out of every later
    collection (`gc.freeze`). Else the collector walks those million objects again every
    few thousand new ones, which took a fifth of a restore's checks at 1,000 units."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


@click.command("backup")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File to write (replaced atomically): .zip carries the evidence files, .json not. "
    "It holds password hashes: keep it safe.",
)
@db_option
def backup_cmd(output: Path, db: str) -> None:
    """Write every table of the database to one JSON file."""
    gc.freeze()  # the modules: see _parsed
    engine = make_engine(db)
    try:
        with session_factory(engine)() as session, open_atomically(output) as out:
            if output.suffix.lower() == ".zip":
                try:
                    written = backup_files.pack(out, session, EvidenceStore(store_dir(db)))
                except OSError as exc:
                    raise click.ClickException(
                        f"cannot back up the evidence files: {exc}"
                    ) from None
            else:
                written = write_backup(session, out)
    finally:
        engine.dispose()
    if written.evidence and output.suffix.lower() != ".zip":
        click.echo(
            f"note: {len(written.evidence)} evidence file(s) are not in a .json backup; "
            "write a .zip to carry them",
            err=True,
        )
    click.echo(
        f"backup of {shown_url(db)} written to {output}: {written.rows} rows in "
        f"{written.tables} tables, schema revision {written.schema_revision}"
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
    files: dict[str, bytes] = {}
    try:
        raw = file.read_bytes()
        with _parsed():
            if backup_files.is_zip(raw):
                data, files = backup_files.unpack(raw)
            else:
                data = json.loads(raw.decode("utf-8"))
    except backup_files.BackupFilesError as exc:
        click.echo(f"restore refused: {exc}", err=True)
        sys.exit(1)
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
            missing = [sha for sha in backup_files.referenced(data) if sha not in files]
            if missing:
                click.echo(
                    f"warning: {len(missing)} evidence file(s) the items name are not in "
                    "this backup (a .json backup carries none): `riskmap evidence verify` "
                    "names them",
                    err=True,
                )
            store = EvidenceStore(store_dir(db))
            for body in files.values():  # before the commit: a failed write keeps nothing
                store.put(body)
            session.commit()
            if edited:
                click.echo(f"warning: {edited}; restored as asked (--accept-edited)", err=True)
    finally:
        engine.dispose()
    rows = sum(len(r) for r in data["tables"].values())
    click.echo(
        f"restored {rows} rows and {len(files)} evidence files from {file} into "
        f"{shown_url(db)}; {check.message}"
    )


COMMANDS = [backup_cmd, restore_cmd]
