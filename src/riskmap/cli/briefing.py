"""`riskmap briefing`: the one-page briefing of a cycle as a PDF (A4).

The same document as the dashboard's Briefing page (`service.briefing_pdf`), recorded in
the audit trail as an export. Pictures are drawn by plotly's static export (kaleido),
which needs a Chrome or Chromium on the machine (Debian: `chromium`).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click

from riskmap import service
from riskmap.cli.options import db_option
from riskmap.cli.users import cli_service
from riskmap.files import write_atomically
from riskmap.service import CLI_ADMIN

pdf_out = click.Path(dir_okay=False, writable=True, path_type=Path)


@click.command("briefing")
@click.option("--cycle", required=True, metavar="LABEL", help="The cycle to brief on.")
@click.option("-o", "--output", type=pdf_out, required=True, help="The .pdf file to write.")
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day overdue actions are counted on (default: today).",
)
@click.option("--user", default=None, metavar="NAME", help="Act as this riskmap user.")
@db_option
def briefing_cmd(
    cycle: str, output: Path, as_of: datetime | None, user: str | None, db: str
) -> None:
    """Write the one-page briefing of a cycle (PDF): status, key figures, maps, plan."""
    today = as_of.date() if as_of else date.today()
    with cli_service(db) as svc:
        data = service.briefing_pdf(svc, user or CLI_ADMIN, cycle, today=today)
    write_atomically(output, data)
    click.echo(f"Wrote the briefing of cycle {cycle} to {output} ({len(data):,} bytes).")


COMMANDS = [briefing_cmd]
