"""`riskmap score` and `riskmap plan`: the scoring and planning cores from the command line.

Ratings come from CSV files (the form an officer can prepare in any spreadsheet) or, with
`--cycle LABEL`, from a cycle in the database; the output columns are the same either way
(in the database form `unit_code` is the unit's code). CSV files are checked whole first
(`riskmap.rating_files`): any problem is printed, file, line and column, and the command
exits with status 2 having scored nothing. Both commands only read: `plan --cycle` shows
the service's plan (`service.preview_plan`, the computation `build_plan` stores), it does
not store actions (officers do that in the dashboard).
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click
import pandas as pd

from riskmap import service
from riskmap.catalogue import Catalogue, CatalogueError, load_catalogue
from riskmap.cli.options import db_option
from riskmap.cli.users import cli_service
from riskmap.planning import OBJECTIVES
from riskmap.planning import plan as make_plan
from riskmap.rating_files import (
    RatingFile,
    RatingFilesRejected,
    check_rating_files,
    header_help,
)
from riskmap.scoring import score as score_register

csv_path = click.Path(exists=True, dir_okay=False, path_type=Path)


def _inputs(f):
    f = click.option(
        "--catalogue",
        "catalogue_dir",
        type=click.Path(file_okay=False),
        default=None,
        help="Catalogue folder.",
    )(f)
    f = click.option(
        "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
    )(f)
    files = (("--units", "units"), ("--control-ratings", "control"), ("--risk-ratings", "risk"))
    for flag, kind in files:
        help_ = f"CSV: {header_help(kind)}."
        f = click.option(flag, type=csv_path, default=None, help=help_)(f)
    f = click.option(
        "--cycle",
        default=None,
        metavar="LABEL",
        help="Read units and ratings of this cycle from the database instead of CSV files.",
    )(f)
    f = db_option(f)
    return f


class InputRefused(click.ClickException):
    """The CSV files have problems (each already printed): exit status 2, nothing scored."""

    exit_code = 2


def _read_files(catalogue: Catalogue, risk_ratings: Path, control_ratings: Path, units: Path):
    files = [RatingFile(str(p), p.read_bytes()) for p in (units, risk_ratings, control_ratings)]
    try:
        return check_rating_files(*files, catalogue)
    except RatingFilesRejected as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise InputRefused(
            f"{len(exc.problems)} problem(s) in the input files; nothing was scored"
        ) from exc


def _load(catalogue_dir, risk_ratings, control_ratings, units):
    """(catalogue, risk ratings, control ratings, units) from the CSV files."""
    cat = _catalogue(catalogue_dir)
    _need_files(risk_ratings, control_ratings, units)
    inputs = _read_files(cat, risk_ratings, control_ratings, units)
    return cat, inputs.risk_ratings, inputs.control_ratings, inputs.units


def _from_cycle(cycle, *files) -> bool:
    """Whether to read the cycle from the database (`--cycle`) rather than the CSV files."""
    if cycle is not None and any(p is not None for p in files):
        raise click.UsageError("give either --cycle or the CSV files, not both")
    return cycle is not None


def _catalogue(catalogue_dir) -> Catalogue:
    try:
        return load_catalogue(catalogue_dir)
    except CatalogueError as exc:
        raise click.ClickException(str(exc)) from exc


def _need_files(risk_ratings, control_ratings, units) -> None:
    if any(p is None for p in (risk_ratings, control_ratings, units)):
        raise click.UsageError(
            "give --cycle LABEL, or all of --risk-ratings, --control-ratings and --units"
        )


def _emit(frame: pd.DataFrame, fmt: str) -> None:
    if fmt == "json":
        click.echo(frame.to_json(orient="records", date_format="iso", indent=1))
    else:
        frame.to_csv(sys.stdout, index=False)


@click.command()
@_inputs
def score(risk_ratings, control_ratings, units, cycle, db, fmt, catalogue_dir) -> None:
    """Inherent and residual risk of every applicable unit x risk."""
    if _from_cycle(cycle, risk_ratings, control_ratings, units):
        with cli_service(db, _catalogue(catalogue_dir)) as svc:  # the service's one register
            _emit(service.register(svc, service.CLI_ADMIN, cycle), fmt)
        return
    cat, rr, cr, un = _load(catalogue_dir, risk_ratings, control_ratings, units)
    try:
        register = score_register(rr, cr, un, cat)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    _emit(register, fmt)


@click.command()
@_inputs
@click.option(
    "--budget-days",
    type=click.FloatRange(min=0),
    default=None,
    help="Person-days available; omit for the full ranking.",
)
@click.option(
    "--budget-money",
    type=click.FloatRange(min=0),
    default=None,
    help="Money available, in the method's currency.",
)
@click.option(
    "--start",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Plan start date (default today); due dates count from it.",
)
@click.option(
    "--objective",
    type=click.Choice(list(OBJECTIVES)),
    default="residual",
    show_default=True,
    help="residual: most residual removed; critical_high: fewest critical and high cells.",
)
@click.option("--all", "show_all", is_flag=True, help="Print the whole ranking, not only the plan.")
def plan(
    risk_ratings,
    control_ratings,
    units,
    cycle,
    db,
    fmt,
    catalogue_dir,
    budget_days,
    budget_money,
    start,
    objective,
    show_all,
) -> None:
    """Rank the control gaps and choose the actions the budget affords."""
    start_date = start.date() if start else date.today()
    if _from_cycle(cycle, risk_ratings, control_ratings, units):
        # The service's one plan computation: what `build_plan` would store.
        with cli_service(db, _catalogue(catalogue_dir)) as svc:
            result = service.preview_plan(
                svc,
                service.CLI_ADMIN,
                cycle,
                budget_days=budget_days,
                budget_money=budget_money,
                start=start_date,
                objective=objective,
            )
    else:
        cat, rr, cr, un = _load(catalogue_dir, risk_ratings, control_ratings, units)
        try:
            register = score_register(rr, cr, un, cat)
            result = make_plan(
                register,
                cr,
                un,
                rr,
                cat,
                budget_days,
                budget_money,
                start_date,
                objective=objective,
            )
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    _emit(result.ranking if show_all else result.actions, fmt)
    click.echo(json.dumps(result.summary), err=True)


COMMANDS = [score, plan]
