"""The command line loads a command's module only when that command runs."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import riskmap.cli as cli
from riskmap.cli import COMMAND_MODULES, main


def test_every_command_of_every_module_is_registered():
    defined = {}
    for info in pkgutil.iter_modules(cli.__path__):
        module = importlib.import_module(f"riskmap.cli.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            defined[command.name] = info.name
    assert defined == COMMAND_MODULES


def test_every_registered_command_resolves():
    ctx = main.make_context("riskmap", ["--help"], resilient_parsing=True)
    for name in COMMAND_MODULES:
        assert main.get_command(ctx, name).name == name
    assert main.get_command(ctx, "no-such-command") is None


def _imported_after(argv: list[str]) -> set[str]:
    code = (
        "import sys\n"
        "from riskmap.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(out.strip().splitlines()[-1].split())


def test_version_imports_neither_pandas_nor_the_service():
    loaded = _imported_after(["--version"])
    assert "riskmap.cli" in loaded
    assert not {"pandas", "plotly", "sqlalchemy", "riskmap.service", "streamlit"} & loaded


def test_a_command_imports_its_own_module_only():
    loaded = _imported_after(["catalogue", "--help"])
    assert "riskmap.cli.catalogue" in loaded
    assert not {"riskmap.cli.reports", "riskmap.cli.scoring", "riskmap.cli.demo"} & loaded
