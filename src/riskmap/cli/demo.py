"""`riskmap demo`: fill an empty database with a fictional ministry to explore riskmap."""

from __future__ import annotations

import time

import click

from riskmap.cli.options import db_option, shown_url
from riskmap.cli.users import cli_service
from riskmap.demo import build_demo
from riskmap.store.migrate import is_empty


@click.command()
@click.option(
    "--units", type=click.IntRange(min=1), default=24, show_default=True, help="How many units."
)
@click.option("--seed", type=int, default=2025, show_default=True, help="Seed of the variation.")
@click.option(
    "--if-empty", is_flag=True, help="Do nothing if the database already has an organisation."
)
@db_option
def demo(units: int, seed: int, if_empty: bool, db: str) -> None:
    """Load the demo ministry: units, cycles 2025 (locked) and 2026 (draft), demo users."""
    with cli_service(db) as svc:
        if if_empty and not is_empty(svc.engine):
            click.echo(f"{shown_url(db)} already holds an organisation: demo not loaded")
            return
        started = time.perf_counter()
        result = build_demo(svc, units=units, seed=seed)
        took = time.perf_counter() - started
    click.echo(
        f"demo loaded into {shown_url(db)} in {took:.1f} s: {result.organisation}, "
        f"{result.units} units, cycles {', '.join(result.cycles)} "
        f"(2025 approved and locked, 2026 draft)"
    )
    for name, value in result.counts.items():
        click.echo(f"  {name.replace('_', ' ')}: {value}")
    click.echo("demo users (sign in with these; the passwords are shown only now):")
    for username, password in result.passwords.items():
        click.echo(f"  {username.ljust(14)} {password}")


COMMANDS = [demo]
