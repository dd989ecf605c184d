"""`riskmap user ...`: add users, list them, change a role or a scope, disable an account.

The command line acts as the local administrator: its changes are audited under the
system actor "cli:admin". A password is read from standard input when it is piped
(`echo "$PW" | riskmap user add ...`), else asked for twice at the prompt.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from riskmap import service
from riskmap.catalogue import Catalogue, CatalogueError
from riskmap.cli.options import db_option
from riskmap.service import CLI_ADMIN, ROLES, DomainError, Service


@contextmanager
def cli_service(db: str, catalogue: Catalogue | None = None) -> Iterator[Service]:
    """The service on database `db` (schema brought up to date); domain errors exit 1."""
    try:
        with Service.open(db, catalogue=catalogue) as svc:
            yield svc
    except (DomainError, CatalogueError) as exc:
        raise click.ClickException(str(exc)) from exc


def listed(db: str, read: Any, none_yet: str) -> Any:
    """What a list command shows: the read as the local administrator, or None after
    saying `none_yet` (an empty list says what to do rather than printing nothing)."""
    with cli_service(db) as svc:
        frame = read(svc, CLI_ADMIN)
    if frame.empty:
        click.echo(none_yet)
        return None
    return frame


def _password() -> str:
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@click.group()
def user() -> None:
    """Users and their roles (admin, officer, manager, auditor)."""


@user.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice([r.value for r in ROLES]),
    required=True,
    help="What the user may do.",
)
@click.option("--display-name", default="", help="Full name shown in the dashboard.")
@click.option("--email", default=None)
@db_option
def add(name: str, role: str, display_name: str, email: str | None, db: str) -> None:
    """Create user NAME; the password comes from stdin when piped, else from a prompt."""
    password = _password()
    with cli_service(db) as svc:
        service.add_user(
            svc, CLI_ADMIN, name, role, password, display_name=display_name, email=email
        )
    click.echo(f"user {name} added with role {role}")


@user.command("list")
@db_option
def list_(db: str) -> None:
    """Every user with role and status."""
    none_yet = "no users yet (add one with `riskmap user add NAME --role ROLE`)"
    frame = listed(db, service.list_users, none_yet)
    if frame is None:
        return
    width = max(8, *(len(u) for u in frame["username"]))
    names = max(4, *(len(n) for n in frame["display_name"]))
    click.echo(f"{'user'.ljust(width)}  {'role'.ljust(8)}  status    {'name'.ljust(names)}  scope")
    for row in frame.itertuples(index=False):
        status = "active" if row.active else "disabled"
        click.echo(
            f"{row.username.ljust(width)}  {row.role.ljust(8)}  {status.ljust(8)}  "
            f"{row.display_name.ljust(names)}  {row.scope}"
        )


@user.command("set-role")
@click.argument("name")
@click.argument("role", type=click.Choice([r.value for r in ROLES]))
@db_option
def set_role(name: str, role: str, db: str) -> None:
    """Give user NAME another role (it applies to their next action)."""
    with cli_service(db) as svc:
        service.set_role(svc, CLI_ADMIN, name, role)
    click.echo(f"user {name} now has role {role}")


@user.command("scope")
@click.argument("name")
@click.option("--unit", "units", multiple=True, help="A unit code (with its sub-units); repeat.")
@click.option("--region", "regions", multiple=True, help="A region; repeat for several.")
@click.option("--unit-type", "unit_types", multiple=True, help="A unit type id; repeat.")
@click.option("--clear", is_flag=True, help="The whole ministry again (no scope).")
@click.option("--reason", default="", help="Why (audited).")
@db_option
def scope(
    name: str,
    units: tuple[str, ...],
    regions: tuple[str, ...],
    unit_types: tuple[str, ...],
    clear: bool,
    reason: str,
    db: str,
) -> None:
    """Limit user NAME to units, regions or unit types (need-to-know), or --clear it.

    An officer can be limited by any of the three, a manager by regions; administrators
    and auditors always read the whole ministry. The new scope replaces the old one.
    """
    given = units or regions or unit_types
    if clear == bool(given):
        raise click.UsageError("give --unit, --region or --unit-type, or --clear (not both)")
    with cli_service(db) as svc:
        done = service.set_scope(
            svc, CLI_ADMIN, name, units=units, regions=regions, unit_types=unit_types,
            reason=reason,
        )  # fmt: skip
    click.echo(f"user {name} now sees: {done['text']}")


@user.command("disable")
@click.argument("name")
@click.option("--reason", default="", help="Why the account is disabled (audited).")
@db_option
def disable(name: str, reason: str, db: str) -> None:
    """Disable user NAME: they can no longer sign in; their past work stays attributed."""
    with cli_service(db) as svc:
        service.disable_user(svc, CLI_ADMIN, name, reason=reason)
    click.echo(f"user {name} disabled")


COMMANDS = [user]
