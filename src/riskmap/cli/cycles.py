"""`riskmap cycle ...`: read assessment cycles: list, progress, trend between two cycles.

Changing a cycle (rating, submitting, approving) is for officers and managers, signed
in as themselves in the dashboard; the command line, acting as the local administrator,
only reads here.
"""

from __future__ import annotations

import json
import sys

import click

from riskmap import service
from riskmap.cli.options import db_option
from riskmap.cli.users import cli_service, listed
from riskmap.service import CLI_ADMIN


@click.group()
def cycle() -> None:
    """Assessment cycles (draft, in review, approved, locked)."""


@cycle.command("list")
@db_option
def list_(db: str) -> None:
    """Every cycle with its status and who drafted and approved it."""
    frame = listed(db, service.list_cycles, "no cycles yet")
    if frame is None:
        return
    cols = ["label", "status", "previous", "drafted_by", "submitted_by", "approved_by"]
    frame[cols].fillna("").to_csv(sys.stdout, index=False)


@cycle.command("show")
@click.argument("label")
@db_option
def show(label: str, db: str) -> None:
    """Status and progress of cycle LABEL (JSON)."""
    with cli_service(db) as svc:
        info = service.get_cycle(svc, CLI_ADMIN, label)
    click.echo(json.dumps(info, indent=2, default=str))


@cycle.command("trend")
@click.argument("before")
@click.argument("after")
@click.option(
    "--by",
    type=click.Choice(["unit", "risk", "movers", "maturity", "actions"]),
    default="unit",
    show_default=True,
    help="Which comparison to print as CSV.",
)
@db_option
def trend(before: str, after: str, by: str, db: str) -> None:
    """Compare cycle BEFORE with cycle AFTER; the summary goes to stderr."""
    with cli_service(db) as svc:
        result = service.trend(svc, CLI_ADMIN, before, after)
    frame = {
        "unit": result.per_unit,
        "risk": result.per_risk,
        "movers": result.movers,
        "maturity": result.maturity,
        "actions": result.actions_completed,
    }[by]
    frame.to_csv(sys.stdout, index=False)
    click.echo(json.dumps(result.summary), err=True)


COMMANDS = [cycle]
