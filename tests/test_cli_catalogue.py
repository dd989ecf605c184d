"""`riskmap catalogue validate` and `riskmap catalogue show`, driven through click."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from riskmap.catalogue import load_catalogue
from riskmap.cli import main

SHIPPED = Path(__file__).resolve().parents[1] / "controls_catalogue"


@pytest.fixture
def runner(monkeypatch) -> CliRunner:
    monkeypatch.delenv("RISKMAP_CATALOGUE_DIR", raising=False)
    return CliRunner()


@pytest.fixture
def broken(tmp_path) -> Path:
    """A copy of the catalogue with two errors in two files."""
    directory = tmp_path / "controls_catalogue"
    shutil.copytree(SHIPPED, directory)
    controls = directory / "controls.yaml"
    data = yaml.safe_load(controls.read_text(encoding="utf-8"))
    data["controls"][0]["mitigates"]["NO-SUCH-RISK"] = "high"
    data["controls"][0]["reasons"]["NO-SUCH-RISK"] = "a reason, so that only the risk is unknown"
    controls.write_text(yaml.safe_dump(data, sort_keys=False))
    unit_types = directory / "unit_types.yaml"
    data = yaml.safe_load(unit_types.read_text(encoding="utf-8"))
    data["unit_types"][0]["exposure"]["discretion"] = 9
    unit_types.write_text(yaml.safe_dump(data, sort_keys=False))
    return directory


def test_validate_shipped_catalogue_exits_0_with_summary(runner):
    cat = load_catalogue(SHIPPED)
    result = runner.invoke(main, ["catalogue", "validate", "--dir", str(SHIPPED)])
    assert result.exit_code == 0, result.output
    line = result.stdout.strip()
    assert line.startswith("catalogue valid: ")
    m = re.search(
        r"(\d+) principles \((\d+) statements\), (\d+) unit types, (\d+) risks, "
        r"(\d+) controls, (\d+) sources; version ([0-9a-f]{16})$",
        line,
    )
    assert m, line
    assert [int(x) for x in m.groups()[:6]] == [
        len(cat.principles),
        sum(len(p.statements) for p in cat.principles),
        len(cat.unit_types),
        len(cat.risks),
        len(cat.controls),
        len(cat.sources),
    ]
    assert m.group(7) == cat.version


def test_validate_uses_the_environment_variable(runner, broken):
    result = runner.invoke(
        main, ["catalogue", "validate"], env={"RISKMAP_CATALOGUE_DIR": str(broken)}
    )
    assert result.exit_code == 1


def test_validate_broken_copy_exits_1_listing_every_error(runner, broken):
    result = runner.invoke(main, ["catalogue", "validate", "--dir", str(broken)])
    assert result.exit_code == 1
    assert result.stdout == ""
    err = result.stderr
    assert "catalogue invalid: 2 error(s)" in err
    first = load_catalogue(SHIPPED)
    control, unit_type = first.controls[0].id, first.unit_types[0].id
    assert f"controls.yaml [{control}] mitigates.NO-SUCH-RISK: unknown risk 'NO-SUCH-RISK'" in err
    assert f"unit_types.yaml [{unit_type}] exposure.discretion: 9 is not on the exposure scale" in (
        err
    )


def test_validate_missing_folder_exits_1(runner, tmp_path):
    result = runner.invoke(main, ["catalogue", "validate", "--dir", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert result.stderr.count("file not found") == 6


def test_show_json_gives_counts_and_version(runner):
    cat = load_catalogue(SHIPPED)
    result = runner.invoke(main, ["catalogue", "show", "--json", "--dir", str(SHIPPED)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["version"] == cat.version
    assert data["principles"] == len(cat.principles) == 6
    assert data["statements"] == sum(len(p.statements) for p in cat.principles)
    assert data["unit_types"] == len(cat.unit_types)
    assert data["risks"] == len(cat.risks)
    assert data["controls"] == len(cat.controls)
    assert data["sources"] == len(cat.sources)
    assert data["stages"] == len(cat.stages)
    assert data["method"] == f"{cat.method.name} {cat.method.version}"


def test_show_table_lists_every_summary_key(runner):
    result = runner.invoke(main, ["catalogue", "show", "--dir", str(SHIPPED)])
    assert result.exit_code == 0, result.output
    keys = [line.split()[0] for line in result.stdout.splitlines()]
    assert keys == list(load_catalogue(SHIPPED).summary())


def test_show_broken_copy_exits_1(runner, broken):
    result = runner.invoke(main, ["catalogue", "show", "--json", "--dir", str(broken)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "catalogue has 2 error(s)" in result.stderr
