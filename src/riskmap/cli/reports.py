"""`riskmap export`, `riskmap template` and `riskmap import`: Excel in and out of a cycle.

- `export`: the auditor's workbook of a cycle (recorded in the audit trail as an export).
- `template`: the questionnaire officers fill in offline, for every unit or chosen units.
- `import`: a filled-in questionnaire saved into the cycle, acting as the officer named by
  `--user`: every row is checked first; any problem refuses the whole file (each problem
  on stderr, one per line, exit status 1) and nothing is saved.

`export` and `template` act as the local administrator unless `--user` names someone.
"""

from __future__ import annotations

from pathlib import Path

import click

from riskmap import service
from riskmap.cli.options import db_option
from riskmap.cli.users import cli_service
from riskmap.files import write_atomically
from riskmap.reports.safety import read_upload
from riskmap.service import CLI_ADMIN, QuestionnaireRejected

xlsx_out = click.Path(dir_okay=False, writable=True, path_type=Path)


def _user_option(default_help: str):
    return click.option(
        "--user",
        "user",
        default=None,
        metavar="NAME",
        help=f"Act as this riskmap user (default: {default_help}).",
    )


@click.command("export")
@click.option("--cycle", required=True, metavar="LABEL", help="The cycle to export.")
@click.option("-o", "--output", type=xlsx_out, required=True, help="The .xlsx file to write.")
@_user_option("the local administrator")
@db_option
def export_cmd(cycle: str, output: Path, user: str | None, db: str) -> None:
    """Write the auditor's workbook of a cycle (every score recomputable in Excel)."""
    with cli_service(db) as svc:
        data = service.export_workbook(svc, user or CLI_ADMIN, cycle)
    write_atomically(output, data)
    click.echo(f"auditor's workbook of cycle {cycle} written to {output} ({len(data):,} bytes)")


@click.command("template")
@click.option("--cycle", required=True, metavar="LABEL", help="A draft cycle.")
@click.option(
    "--unit",
    "units",
    multiple=True,
    metavar="CODE",
    help="A unit to include (repeatable; default: every unit of the cycle).",
)
@click.option("--region", default=None, metavar="NAME", help="Only the units of this region.")
@click.option("--unit-type", default=None, metavar="ID", help="Only the units of this unit type.")
@click.option("-o", "--output", type=xlsx_out, required=True, help="The .xlsx file to write.")
@_user_option("the local administrator")
@db_option
def template_cmd(
    cycle: str,
    units: tuple[str, ...],
    region: str | None,
    unit_type: str | None,
    output: Path,
    user: str | None,
    db: str,
):
    """Write the questionnaire of a draft cycle, to be filled in offline and imported.

    A large ministry sends one file per region or unit type (`--region`, `--unit-type`,
    together or with `--unit`), each small enough to upload back.
    """
    with cli_service(db) as svc:
        data = service.questionnaire_template(
            svc,
            user or CLI_ADMIN,
            cycle,
            list(units) if units else None,
            region=region,
            unit_type=unit_type,
        )
    write_atomically(output, data)
    which = [", ".join(units)] if units else []
    which += [f"region {region}"] if region else []
    which += [f"unit type {unit_type}"] if unit_type else []
    click.echo(
        f"questionnaire of cycle {cycle} ({'; '.join(which) or 'every unit'}) written to "
        f"{output} ({len(data):,} bytes)"
    )


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--cycle", required=True, metavar="LABEL", help="The draft cycle to save into.")
@click.option("--user", "user", required=True, metavar="NAME", help="The officer importing.")
@click.option("--dry-run", is_flag=True, help="Check the file and list the changes; save nothing.")
@db_option
def import_cmd(file: Path, cycle: str, user: str, dry_run: bool, db: str) -> None:
    """Save the answers of a filled-in questionnaire FILE, all of them or none.

    Every problem goes to stderr, one per line (`Risks!G5: ...`), and the exit status is 1;
    on success the counts are printed.
    """
    with file.open("rb") as stream:  # never more than the upload limit (/dev/zero)
        data = read_upload(stream)
    case = service.check_questionnaire if dry_run else service.import_questionnaire
    with cli_service(db) as svc:
        try:
            if isinstance(data, list):
                raise QuestionnaireRejected(file.name, data)
            result = case(svc, user, cycle, data, file.name)
        except QuestionnaireRejected as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            click.echo(
                f"refused: {len(exc.problems)} problem(s) in {file.name}; nothing was saved",
                err=True,
            )
            raise SystemExit(1) from None
    if dry_run:
        for c in result.changes.itertuples(index=False):
            click.echo(
                f"{c.cell}: {c.unit_code} {c.kind} {c.item_id} {c.field}: "
                f"{c.before!s} -> {c.after!s}"
            )
    click.echo(result.summary())


COMMANDS = [export_cmd, template_cmd, import_cmd]
