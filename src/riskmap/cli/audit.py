"""`riskmap audit ...`: check the keyed audit trail, take checkpoints, rotate the key.

- `verify [--checkpoint FILE]`: every seal and link; with a checkpoint an auditor kept, also
  that no event up to its head was deleted or rewritten (a cut-off tail is only seen so);
- `checkpoint -o FILE`: the trail's length and head, signed, for the auditor to keep;
- `rotate-key`: a new audit key seals from now on; the old ones stay to verify;
- `adopt`: a trail recorded before keys is vouched for by one keyed event, so `verify`
  accepts that prefix (and only it) without `--allow-unkeyed`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from riskmap import audit as audit_log
from riskmap import checkpoints, keys
from riskmap.cli.options import db_option
from riskmap.store.engine import make_engine, session_factory


@click.group()
def audit() -> None:
    """The append-only audit trail."""


@audit.command("verify")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A checkpoint (`riskmap audit checkpoint`): also detect deleted or re-chained events.",
)
@click.option(
    "--allow-unkeyed",
    is_flag=True,
    help="Accept events with a plain SHA-256 at the start (a trail from before keys).",
)
@db_option
def verify_cmd(checkpoint_file: Path | None, allow_unkeyed: bool, db: str) -> None:
    """Recompute every event's seal and link; exit 1 naming the first broken event."""
    engine = make_engine(db)
    try:
        with session_factory(engine)() as session:
            ring = keys.keyring(engine.url)
            body = None
            if checkpoint_file is not None:
                try:
                    body = checkpoints.load(checkpoint_file.read_text(encoding="utf-8"), ring)
                except (checkpoints.CheckpointError, OSError, UnicodeDecodeError) as exc:
                    click.echo(f"{checkpoint_file}: {exc}", err=True)
                    sys.exit(1)
            result = audit_log.verify(session, ring, allow_unkeyed=allow_unkeyed)
            lost = checkpoints.verify(session, body) if body is not None else None
    finally:
        engine.dispose()
    if not result.ok:
        click.echo(
            f"audit chain BROKEN at event {result.first_broken_id}: {result.message}", err=True
        )
        sys.exit(1)
    if lost:
        click.echo(f"audit trail BROKEN against {checkpoint_file}: {lost}", err=True)
        sys.exit(1)
    click.echo(result.message)
    if body is not None:
        click.echo(
            f"checkpoint {checkpoint_file}: {body['count']} events up to event "
            f"{body['head_id']} still there, unchanged"
        )


@audit.command("checkpoint")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
    help="Where to write the signed checkpoint (keep it away from the database).",
)  # fmt: skip
@db_option
def checkpoint_cmd(output: Path, db: str) -> None:
    """Write the trail's length and head, signed with the audit key; the checkpoint is an
    audit event. Refused (exit 1) if the trail does not verify."""
    from riskmap.service.core import CLI_ADMIN  # the service: not for `audit verify`

    engine = make_engine(db)
    try:
        with session_factory(engine)() as session, session.begin():
            try:
                body = checkpoints.take_checked(session, CLI_ADMIN)
            except checkpoints.CheckpointError as exc:
                click.echo(str(exc), err=True)
                sys.exit(1)
    finally:
        engine.dispose()
    from riskmap.files import write_atomically

    write_atomically(output, (json.dumps(body, indent=1) + "\n").encode("utf-8"))
    click.echo(
        f"checkpoint written to {output}: {body['count']} events, head event "
        f"{body['head_id']} {body['head_hash'][:16]}..., signed with key {body['key_id']}"
    )


@audit.command("rotate-key")
@db_option
def rotate_key_cmd(db: str) -> None:
    """Seal from now on with a new key (appended to the key file); recorded in the trail."""
    from riskmap.service.core import CLI_ADMIN

    engine = make_engine(db)
    try:
        old = keys.keyring(engine.url)
        try:
            new = keys.rotate(old)
        except keys.KeyUnavailable as exc:
            click.echo(f"key not rotated: {exc}", err=True)
            sys.exit(1)
        with session_factory(engine)() as session, session.begin():
            audit_log.record(
                session,
                actor=CLI_ADMIN,
                action="audit.key_rotated",
                entity="audit_trail",
                before={"key_id": old.current.id},
                after={"key_id": new.current.id},
                reason=f"audit key rotated in {new.where}",
            )
    finally:
        engine.dispose()
    click.echo(f"new audit key {new.current.id} in {new.where}; {len(new.keys)} keys kept")


@audit.command("adopt")
@click.option(
    "--reason", required=True,
    help="Why the pre-key trail is vouched for (e.g. the upgrade it comes from); recorded.",
)  # fmt: skip
@db_option
def adopt_cmd(reason: str, db: str) -> None:
    """Adopt the events recorded before the trail was keyed: one keyed event records how
    many there are and the last one's hash. Refused (exit 1) if the trail does not verify."""
    from riskmap.service.core import CLI_ADMIN

    engine = make_engine(db)
    try:
        with session_factory(engine)() as session, session.begin():
            try:
                event = audit_log.adopt_unkeyed(session, CLI_ADMIN, reason)
            except ValueError as exc:
                click.echo(f"nothing adopted: {exc}", err=True)
                sys.exit(1)
            events, head_id = event.after["events"], event.after["head_id"]
    finally:
        engine.dispose()
    click.echo(
        f"adopted {events} events recorded before keys (up to event {head_id}); "
        "`riskmap audit verify` now accepts them without --allow-unkeyed"
    )


COMMANDS = [audit]
