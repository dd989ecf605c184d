"""`riskmap db ...`: create or upgrade the database schema, show its revision."""

from __future__ import annotations

import sys

import click

from riskmap.cli.options import db_option, shown_url
from riskmap.store.engine import make_engine
from riskmap.store.migrate import current_revision, head_revision, upgrade


@click.group()
def db() -> None:
    """The database schema (Alembic migrations shipped with riskmap)."""


@db.command("upgrade")
@db_option
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def upgrade_cmd(db: str, revision: str) -> None:
    """Create the schema or bring it up to date (safe to run again: then a no-op)."""
    engine = make_engine(db)
    try:
        before = current_revision(engine)
        upgrade(engine, revision)
        after = current_revision(engine)
    finally:
        engine.dispose()
    where = shown_url(db)
    if before == after:
        click.echo(f"{where}: already at revision {after}; nothing to do")
    else:
        click.echo(f"{where}: upgraded from {before or 'empty'} to revision {after}")


@db.command("current")
@db_option
def current_cmd(db: str) -> None:
    """Print the schema revision of the database (exit 1 if it has no schema yet)."""
    engine = make_engine(db)
    try:
        revision = current_revision(engine)
    finally:
        engine.dispose()
    if revision is None:
        click.echo(f"{shown_url(db)}: no schema yet (run `riskmap db upgrade`)", err=True)
        sys.exit(1)
    note = " (head)" if revision == head_revision() else f" (head is {head_revision()})"
    click.echo(f"{revision}{note}")


COMMANDS = [db]
