"""The command line loads a command's module only when that command runs."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest

import riskmap.cli as cli
from riskmap.cli import COMMAND_MODULES, main
from riskmap.store.migrate import _scripts_head, head_revision


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


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory) -> str:
    """A small demo ministry at the schema's head, for commands that read a database."""
    url = f"sqlite:///{tmp_path_factory.mktemp('lazy') / 'riskmap.sqlite'}"
    assert main(["demo", "--units", "6", "--db", url], standalone_mode=False) is None
    return url


HEAVY = {"openpyxl", "fpdf", "plotly", "streamlit", "alembic"}


def test_audit_verify_imports_no_pandas_nor_alembic(demo_url):
    loaded = _imported_after(["audit", "verify", "--db", demo_url])
    assert "riskmap.cli.audit" in loaded
    assert not {"pandas", "numpy", *HEAVY} & loaded


def test_score_and_plan_import_neither_excel_nor_pdf_nor_alembic(demo_url):
    for command in ("score", "plan"):
        loaded = _imported_after([command, "--cycle", "2026", "--db", demo_url])
        assert "riskmap.scoring" in loaded, command
        assert (
            not {
                *HEAVY,
                "riskmap.reports",
                "riskmap.service.exports",
                "riskmap.service.briefing",
                "riskmap.service.evidence",
            }
            & loaded
        ), command


def test_backup_imports_no_workbook(demo_url, tmp_path):
    loaded = _imported_after(["backup", "-o", str(tmp_path / "b.json"), "--db", demo_url])
    assert "riskmap.backup" in loaded
    assert not {"pandas", *HEAVY, "riskmap.reports.workbook"} & loaded


def test_an_old_database_still_goes_through_alembic(tmp_path):
    from riskmap.store.engine import make_engine
    from riskmap.store.migrate import current_revision, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    upgrade(engine, "0001")
    assert current_revision(engine) == "0001"
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_the_fast_head_check_reads_the_head_alembic_reads():
    assert _scripts_head() == head_revision()


def test_the_lazy_service_gives_every_name_it_lists():
    code = (
        "import riskmap.service.briefing, riskmap.service.incidents\n"
        "import riskmap.service.unit_profile\n"
        "from riskmap import service\n"
        "assert callable(service.briefing) and callable(service.incidents)\n"
        "assert callable(service.unit_profile)\n"
        "print(sorted(n for n in service.__all__ if getattr(service, n, None) is None))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_the_role_matrix_is_whole_however_little_was_imported():
    code = (
        "from riskmap.service import USE_CASES\n"
        "import riskmap.service as s, pkgutil, importlib\n"
        "n = len(USE_CASES)\n"
        "for m in pkgutil.iter_modules(s.__path__):\n"
        "    importlib.import_module(f'riskmap.service.{m.name}')\n"
        "print(n, len(USE_CASES))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert int(out[0]) > 50 and out[0] == out[1]
