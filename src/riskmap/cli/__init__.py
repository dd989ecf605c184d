"""The `riskmap` console script: one click group, one module per command family.

Anything a dashboard page can do, a command here can do too, so that admins can script
the tool and tests can drive it without a browser.
"""

from __future__ import annotations

import importlib
import pkgutil

import click

from riskmap import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="riskmap")
def main() -> None:
    """riskmap: corruption-risk map and remediation planner for trafficking-exposed units."""


def _register() -> None:
    """Attach every command a module of this package lists in COMMANDS.

    Each command family lives in its own small module; adding a module adds its commands.
    """
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            main.add_command(command)


_register()
