"""The `riskmap` console script: one click group, one module per command family.

Anything a dashboard page can do, a command here can do too, so that admins can script
the tool and tests can drive it without a browser.
"""

from __future__ import annotations

import click

from riskmap import __version__
from riskmap.cli.catalogue import catalogue


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="riskmap")
def main() -> None:
    """riskmap: corruption-risk map and remediation planner for trafficking-exposed units."""


main.add_command(catalogue)


def _register_optional() -> None:
    """Attach the command families of the other layers (kept apart so each stays small)."""
    from riskmap.cli import scoring

    main.add_command(scoring.score)
    main.add_command(scoring.plan)


_register_optional()
