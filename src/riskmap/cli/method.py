"""`riskmap method ...`: the scoring method in force, its numbers and how much they matter."""

from __future__ import annotations

import sys

import click

from riskmap import service
from riskmap.catalogue import CatalogueError, load_catalogue
from riskmap.cli.options import db_option
from riskmap.cli.users import cli_service


@click.group()
def method() -> None:
    """The scoring method: parameters with their rationale, and their sensitivity."""


@method.command()
def parameters() -> None:
    """Every number of the method with the reason it has its value (CSV)."""
    try:
        cat = load_catalogue()
    except CatalogueError as exc:
        raise click.ClickException(str(exc)) from exc
    import pandas as pd

    frame = pd.DataFrame([p.model_dump() for p in cat.method.parameters()])
    frame.to_csv(sys.stdout, index=False)


@method.command()
@db_option
@click.option("--cycle", required=True, metavar="LABEL", help="The cycle whose ratings to use.")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
def sensitivity(db: str, cycle: str, fmt: str) -> None:
    """How the cells per residual band move when each parameter moves one step either way.

    The first row is the method as shipped; each other row moves one number (weights,
    credits and the maximum reduction by 0.05, the key-control weight by 0.5, the evidence
    level by one level, band thresholds by one point) and gives the counts and their change.
    """
    with cli_service(db) as svc:
        frame = service.method_sensitivity(svc, service.CLI_ADMIN, cycle)
    if fmt == "json":
        click.echo(frame.to_json(orient="records", indent=1))
    else:
        frame.to_csv(sys.stdout, index=False)


COMMANDS = [method]
