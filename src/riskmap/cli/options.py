"""Options shared by several command modules (no commands here)."""

from __future__ import annotations

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from riskmap.store.engine import database_url


def _resolve_db(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str:
    return database_url(value)


db_option = click.option(
    "--db",
    "db",
    metavar="URL",
    default=None,
    callback=_resolve_db,
    help=(
        "Database URL, e.g. sqlite:///path/riskmap.sqlite or postgresql://user@host/db "
        "(default: $RISKMAP_DATABASE_URL, else ./data/riskmap.sqlite)."
    ),
)
"""`@db_option` gives the command a `db: str` argument: the resolved database URL."""


def shown_url(url: str) -> str:
    """`url` with any password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return url
