"""A ministry's local overrides of effort, cost classes and deadlines.

The shipped catalogue's effort and cost figures are estimates; a ministry replaces them
in a local file rather than editing the shipped files. These tests show that the figures
reach the loaded catalogue, that the version hash changes with them (a cycle records
which figures it was planned with), that the shipped files stay as they are, and that a
wrong overrides file is refused with every problem named.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from riskmap.catalogue import CatalogueError, load_catalogue
from riskmap.catalogue.overrides import ENV
from riskmap.cli import main

SHIPPED = Path(__file__).resolve().parents[1] / "controls_catalogue"


@pytest.fixture(autouse=True)
def no_ambient_overrides(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.delenv("RISKMAP_CATALOGUE_DIR", raising=False)


@pytest.fixture(scope="module")
def shipped():
    return load_catalogue(SHIPPED, overrides=False)


def write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def other_cost(value: str) -> str:
    return {"low": "medium", "medium": "high", "high": "low"}[value]


def test_overrides_reach_the_catalogue_and_change_its_version(tmp_path, shipped):
    control = shipped.controls[0]
    band = shipped.method.bands[-1]
    before = {p.name: p.read_bytes() for p in SHIPPED.iterdir()}
    local = write(
        tmp_path / "local.yaml",
        {
            "controls": {
                control.id: {
                    "effort_days": control.effort_days + 7,
                    "cost_class": other_cost(control.cost_class),
                }
            },
            "method": {
                "deadlines": {band.id: band.deadline_days + 30},
                "cost_classes": {"low": shipped.method.cost_classes.low + 500},
            },
        },
    )
    cat = load_catalogue(SHIPPED, overrides=local)

    changed = cat.control_by_id[control.id]
    assert changed.effort_days == control.effort_days + 7
    assert changed.cost_class == other_cost(control.cost_class)
    assert cat.method.bands[-1].deadline_days == band.deadline_days + 30
    assert cat.method.cost_classes.low == shipped.method.cost_classes.low + 500
    assert cat.method.cost_classes.high == shipped.method.cost_classes.high  # untouched
    other = shipped.controls[1]
    assert cat.control_by_id[other.id].effort_days == other.effort_days

    assert cat.version != shipped.version
    assert cat.overrides_file == str(local)
    assert sorted(cat.overridden) == sorted(
        [
            f"controls.{control.id}.effort_days",
            f"controls.{control.id}.cost_class",
            f"method.bands.{band.id}.deadline_days",
            "method.cost_classes.low",
        ]
    )
    # The shipped files are not edited.
    assert {p.name: p.read_bytes() for p in SHIPPED.iterdir()} == before
    assert load_catalogue(SHIPPED, overrides=False).version == shipped.version


def test_different_overrides_give_different_versions(tmp_path, shipped):
    control = shipped.controls[0]
    versions = {
        load_catalogue(
            SHIPPED,
            overrides=write(
                tmp_path / f"local{days}.yaml", {"controls": {control.id: {"effort_days": days}}}
            ),
        ).version
        for days in (3, 4)
    }
    assert len(versions) == 2
    assert shipped.version not in versions


def test_default_file_beside_the_folder_and_environment_variable(tmp_path, monkeypatch, shipped):
    directory = tmp_path / "controls_catalogue"
    shutil.copytree(SHIPPED, directory)
    control = shipped.controls[0]
    assert load_catalogue(directory).overrides_file is None
    assert load_catalogue(directory).version == shipped.version

    sibling = write(
        tmp_path / "controls_catalogue.local.yaml", {"controls": {control.id: {"effort_days": 99}}}
    )
    found = load_catalogue(directory)
    assert found.overrides_file == str(sibling)
    assert found.control_by_id[control.id].effort_days == 99
    assert load_catalogue(directory, overrides=False).version == shipped.version

    elsewhere = write(tmp_path / "ministry.yaml", {"controls": {control.id: {"effort_days": 42}}})
    monkeypatch.setenv(ENV, str(elsewhere))
    assert load_catalogue(directory).control_by_id[control.id].effort_days == 42


@pytest.mark.parametrize(
    ("data", "item", "field", "message"),
    [
        (
            {"controls": {"no_such_control": {"effort_days": 3}}},
            "no_such_control",
            "controls.no_such_control",
            "unknown control 'no_such_control'",
        ),
        (
            {"method": {"deadlines": {"purple": 30}}},
            "",
            "method.deadlines.purple",
            "unknown band 'purple'",
        ),
        (
            {"controls": {"code_of_conduct": {"effort_days": 0}}},
            "",
            "controls.code_of_conduct.effort_days",
            "greater than 0",
        ),
        (
            {"controls": {"code_of_conduct": {"cost_class": "huge"}}},
            "",
            "controls.code_of_conduct.cost_class",
            "'low', 'medium' or 'high'",
        ),
        # Only estimates may be overridden, never what a control mitigates.
        (
            {"controls": {"code_of_conduct": {"mitigates": {"EXP-06": "high"}}}},
            "",
            "controls.code_of_conduct.mitigates",
            "unknown field",
        ),
        (
            {"method": {"deadlines": {"critical": -5}}},
            "",
            "method.deadlines.critical",
            "greater than 0",
        ),
        ({"risks": {"EXP-06": {"impact": 1}}}, "", "risks", "unknown field"),
    ],
)
def test_a_wrong_overrides_file_is_refused(tmp_path, data, item, field, message):
    local = write(tmp_path / "local.yaml", data)
    with pytest.raises(CatalogueError) as exc:
        load_catalogue(SHIPPED, overrides=local)
    assert [(i.file, i.item, i.field) for i in exc.value.issues] == [("local.yaml", item, field)]
    assert message in exc.value.issues[0].message


def test_a_missing_overrides_file_is_refused(tmp_path):
    with pytest.raises(CatalogueError, match="not found"):
        load_catalogue(SHIPPED, overrides=tmp_path / "absent.yaml")


def test_validate_and_show_report_the_overrides(tmp_path, shipped):
    control = shipped.controls[0]
    local = write(tmp_path / "local.yaml", {"controls": {control.id: {"effort_days": 5}}})
    runner = CliRunner()
    ok = runner.invoke(
        main, ["catalogue", "validate", "--dir", str(SHIPPED), "--overrides", str(local)]
    )
    assert ok.exit_code == 0, ok.output
    assert f"overrides: {local} applied (1 values)" in ok.stdout
    version = load_catalogue(SHIPPED, overrides=local).version
    assert f"version {version}" in ok.stdout

    shown = runner.invoke(
        main, ["catalogue", "show", "--json", "--dir", str(SHIPPED), "--overrides", str(local)]
    )
    assert shown.exit_code == 0, shown.output
    assert f"{local} (1 values)" in shown.stdout

    bad = write(tmp_path / "bad.yaml", {"controls": {"no_such_control": {"effort_days": 3}}})
    refused = runner.invoke(
        main, ["catalogue", "validate", "--dir", str(SHIPPED), "--overrides", str(bad)]
    )
    assert refused.exit_code == 1
    assert "bad.yaml [no_such_control] controls.no_such_control: unknown control" in (
        refused.stderr
    )
