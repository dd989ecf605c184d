"""`riskmap catalogue ...`: validate and describe the controls catalogue."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from riskmap.catalogue import CatalogueError, CatalogueIssue, load_catalogue
from riskmap.catalogue.citations import check_citations, every_citation

dir_option = click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Catalogue folder (default: $RISKMAP_CATALOGUE_DIR or ./controls_catalogue).",
)


overrides_option = click.option(
    "--overrides",
    "overrides",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Local overrides of effort, cost classes and deadlines (default: "
    "$RISKMAP_CATALOGUE_OVERRIDES, else controls_catalogue.local.yaml beside the folder).",
)


@click.group()
def catalogue() -> None:
    """The controls catalogue: principles, unit types, risks, controls, method."""


@catalogue.command()
@dir_option
@overrides_option
@click.option(
    "--sources",
    "sources_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    envvar="RISKMAP_SOURCES_DIR",
    help="Folder of the source documents: also check that every locator names a passage "
    "and every quote is in it (default: $RISKMAP_SOURCES_DIR; unchecked if neither).",
)
def validate(directory: Path | None, overrides: Path | None, sources_dir: Path | None) -> None:
    """Load and cross-check the catalogue; list every error (exit 1) or summarise (exit 0)."""
    try:
        cat = load_catalogue(directory, overrides)
        if sources_dir is not None:
            if not sources_dir.is_dir():
                raise CatalogueError(
                    [CatalogueIssue("sources.yaml", "", "", f"no folder {sources_dir}")]
                )
            issues = check_citations(cat, sources_dir)
            if issues:
                raise CatalogueError(issues)
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
    if cat.overrides_file:
        click.echo(f"overrides: {cat.overrides_file} applied ({len(cat.overridden)} values)")
    if sources_dir is not None:
        count = sum(1 for _ in every_citation(cat))
        click.echo(f"citations: {count} resolved and quoted in {sources_dir}")


@catalogue.command()
@dir_option
@overrides_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def show(directory: Path | None, overrides: Path | None, as_json: bool) -> None:
    """Counts per kind and the version hash of the catalogue."""
    try:
        cat = load_catalogue(directory, overrides)
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
