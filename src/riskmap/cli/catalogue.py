"""`riskmap catalogue ...`: validate and describe the controls catalogue."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from riskmap.catalogue import CatalogueError, load_catalogue

dir_option = click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Catalogue folder (default: $RISKMAP_CATALOGUE_DIR or ./controls_catalogue).",
)


@click.group()
def catalogue() -> None:
    """The controls catalogue: principles, unit types, risks, controls, method."""


@catalogue.command()
@dir_option
def validate(directory: Path | None) -> None:
    """Load and cross-check the catalogue; list every error (exit 1) or summarise (exit 0)."""
    try:
        cat = load_catalogue(directory)
    except CatalogueError as exc:
        click.echo(f"catalogue invalid: {len(exc.issues)} error(s)", err=True)
        for issue in exc.issues:
            click.echo(f"  {issue}", err=True)
        sys.exit(1)
    s = cat.summary()
    click.echo(
        f"catalogue valid: {s['principles']} principles ({s['statements']} statements), "
        f"{s['unit_types']} unit types, {s['risks']} risks, {s['controls']} controls, "
        f"{s['sources']} sources; version {s['version']}"
    )


@catalogue.command()
@dir_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def show(directory: Path | None, as_json: bool) -> None:
    """Counts per kind and the version hash of the catalogue."""
    try:
        cat = load_catalogue(directory)
    except CatalogueError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    s = cat.summary()
    if as_json:
        click.echo(json.dumps(s, indent=2))
        return
    width = max(len(k) for k in s)
    for key, value in s.items():
        click.echo(f"{key.ljust(width)}  {value}")


COMMANDS = [catalogue]
