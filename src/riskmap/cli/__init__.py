"""The `riskmap` console script: one click group, one module per command family.

Anything a dashboard page can do, a command here can do too, so that admins can script
the tool and tests can drive it without a browser.

Commands are loaded lazily (click's lazy-group pattern): `riskmap --version` or `riskmap
audit verify` imports only the module of the command run, not pandas, plotly and the
whole service for every command. `COMMAND_MODULES` names the module of each command; a test
checks it against every module's `COMMANDS`, so a new command cannot be forgotten here.
"""

from __future__ import annotations

import importlib

import click

from riskmap import __version__

# command name -> module of riskmap.cli that defines it (in its COMMANDS list)
COMMAND_MODULES = {
    "audit": "audit",
    "backup": "backup",
    "briefing": "briefing",
    "restore": "backup",
    "catalogue": "catalogue",
    "cycle": "cycles",
    "db": "db",
    "demo": "demo",
    "evidence": "evidence",
    "method": "method",
    "export": "reports",
    "template": "reports",
    "import": "reports",
    "score": "scoring",
    "plan": "scoring",
    "user": "users",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMAND_MODULES})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        module_name = COMMAND_MODULES.get(cmd_name)
        if module_name is None:
            return None
        module = importlib.import_module(f"{__name__}.{module_name}")
        for command in getattr(module, "COMMANDS", ()):
            if command.name == cmd_name:
                return command
        raise RuntimeError(f"riskmap.cli.{module_name} does not define command {cmd_name!r}")


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="riskmap")
def main() -> None:
    """riskmap: corruption-risk map and remediation planner for trafficking-exposed units."""
