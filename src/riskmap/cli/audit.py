"""`riskmap audit ...`: check the audit trail's hash chain."""

from __future__ import annotations

import sys

import click

from riskmap import audit as audit_log
from riskmap.cli.options import db_option
from riskmap.store.engine import make_engine, session_factory


@click.group()
def audit() -> None:
    """The append-only audit trail."""


@audit.command("verify")
@db_option
def verify_cmd(db: str) -> None:
    """Recompute every event's hash and link; exit 1 naming the first broken event."""
    engine = make_engine(db)
    try:
        with session_factory(engine)() as session:
            result = audit_log.verify(session)
    finally:
        engine.dispose()
    if result.ok:
        click.echo(f"audit chain intact: {result.checked} events")
        return
    click.echo(f"audit chain BROKEN at event {result.first_broken_id}: {result.message}", err=True)
    sys.exit(1)


COMMANDS = [audit]
