"""`riskmap evidence ...`: add or supersede an item, list a cycle's items, verify the store,
check received copies.

`add` and `supersede` act as the officer named by `--user` (an officer's change, audited
in their name); `list` and `verify` read as the local administrator. `verify` re-hashes every
stored file and names each one that changed or went missing, with the items that cite
it; the exit status is then 1, so a scheduled check can alert. `check` is the auditor's side
of the workbook's Evidence sheet: it hashes the files they received and names the cycle's
items each one is (exit 1 when one is none of them).
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from riskmap import service
from riskmap.cli.options import db_option
from riskmap.cli.users import cli_service
from riskmap.evidence_files import FileRefused, hash_file, max_bytes
from riskmap.service import CLI_ADMIN


@click.group()
def evidence() -> None:
    """Evidence items: files and references that show a rated control."""


@evidence.command("add")
@click.option("--cycle", required=True, metavar="LABEL", help="The draft cycle.")
@click.option("--unit", required=True, metavar="CODE")
@click.option("--control", "control_id", default=None, metavar="ID")
@click.option("--risk", "risk_id", default=None, metavar="ID", help="For a risk rating.")
@click.option("--entry", default=None, help="The checklist entry answered (number or text).")
@click.option("--file", "file", default=None, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--reference", default="", help="Document number, register and location.")
@click.option("--valid-until", default=None, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--user", "user", required=True, metavar="NAME", help="The officer adding it.")
@db_option
def add(cycle, unit, control_id, risk_id, entry, file, reference, valid_until, user, db) -> None:
    """Add a file (--file) or a reference (--reference) to a rating of a draft cycle."""
    data = _read(file)
    until: date | None = valid_until.date() if valid_until else None
    with cli_service(db) as svc:
        item = service.add_evidence(
            svc, user, cycle, unit, control_id=control_id, risk_id=risk_id,
            checklist_entry=entry, data=data, file_name=file.name if file else "",
            reference=reference, valid_until=until,
        )  # fmt: skip
    click.echo(f"added evidence item {item['id']} ({item['kind']}) sha256={item['sha256'] or '-'}")


@evidence.command("supersede")
@click.argument("item_id", type=int)
@click.option("--reason", required=True, help="Why the item is replaced (audited).")
@click.option("--entry", default=None, help="Checklist entry (default: the old item's).")
@click.option("--file", "file", default=None, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--reference", default="", help="Document number, register and location.")
@click.option("--valid-until", default=None, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--user", "user", required=True, metavar="NAME", help="The officer.")
@db_option
def supersede(item_id, reason, entry, file, reference, valid_until, user, db) -> None:
    """Replace item ITEM_ID by a new file or reference; the old one stays, superseded."""
    data = _read(file)
    until: date | None = valid_until.date() if valid_until else None
    with cli_service(db) as svc:
        item = service.supersede_evidence(
            svc, user, item_id, reason=reason, checklist_entry=entry, data=data,
            file_name=file.name if file else "", reference=reference, valid_until=until,
        )  # fmt: skip
    click.echo(f"item {item_id} superseded by item {item['id']} ({item['kind']})")


def _read(file: Path | None) -> bytes | None:
    if file is None:
        return None
    try:
        with file.open("rb") as stream:
            return _bounded(stream)
    except OSError as exc:
        raise click.ClickException(f"{file}: {exc.strerror or exc}") from None


def _bounded(stream) -> bytes:
    """At most one byte over the evidence limit read from `stream` (a /dev/zero is not
    read whole); the service then refuses what is over it, in its words."""
    try:
        return stream.read(max_bytes() + 1)
    except FileRefused as exc:
        raise click.ClickException(str(exc)) from None


@evidence.command("list")
@click.option("--cycle", required=True, metavar="LABEL")
@click.option("--unit", default=None, metavar="CODE")
@click.option("--all", "every", is_flag=True, help="Superseded items too.")
@db_option
def list_(cycle: str, unit: str | None, every: bool, db: str) -> None:
    """The cycle's items with their status today (CSV)."""
    with cli_service(db) as svc:
        frame = service.evidence_items(svc, CLI_ADMIN, cycle, unit, include_superseded=every)
    frame.to_csv(sys.stdout, index=False)


@evidence.command("verify")
@db_option
def verify(db: str) -> None:
    """Re-hash every stored file; name any that changed or went missing (exit 1 then)."""
    with cli_service(db) as svc:
        checked = service.verify_evidence(svc, CLI_ADMIN)
    bad = checked[checked["state"] != "ok"]
    for row in bad.itertuples():
        items = ", ".join(str(i) for i in row.items)
        names = ", ".join(repr(n) for n in row.file_names)
        click.echo(f"{row.state}: {row.sha256} ({row.path}; items {items}: {names})")
    if len(bad):
        click.echo(f"{len(bad)} of {len(checked)} files changed or missing", err=True)
        sys.exit(1)
    click.echo(f"{len(checked)} files, all unchanged")


@evidence.command("check")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--cycle", required=True, metavar="LABEL", help="The cycle of the workbook.")
@db_option
def check(files: tuple[Path, ...], cycle: str, db: str) -> None:
    """Hash each received FILE and name the cycle's items it is (exit 1 if one is none)."""
    import pandas as pd  # the command's own: loaded when it runs

    with cli_service(db) as svc:
        items = service.evidence_items(svc, CLI_ADMIN, cycle, include_superseded=True)
    by_hash = items[items["sha256"].notna()].groupby("sha256")
    unmatched = 0
    for file in files:
        try:
            sha = hash_file(file)
        except OSError as exc:
            raise click.ClickException(f"{file}: {exc.strerror or exc}") from None
        if sha not in by_hash.groups:
            unmatched += 1
            click.echo(f"no item: {file} sha256={sha} is no evidence file of cycle {cycle}")
            continue
        for row in by_hash.get_group(sha).itertuples():
            rated = f"control {row.control_id}" if row.control_id else f"risk {row.risk_id}"
            gone = not pd.isna(row.superseded_by)
            state = f"superseded by item {int(row.superseded_by)}" if gone else row.status
            click.echo(
                f"match: {file} sha256={sha} is item {row.id} ({row.file_name!r}; unit "
                f"{row.unit_code}, {rated}; {state})"
            )
    if unmatched:
        click.echo(f"{unmatched} of {len(files)} files match no item", err=True)
        sys.exit(1)


COMMANDS = [evidence]
