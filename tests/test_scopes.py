"""The need-to-know rule itself (`riskmap.scopes`, pure), `riskmap user scope` on a real
SQLite file, and scopes in a backup (restored, and refused when edited against the trail)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from riskmap import scopes, security
from riskmap import service as s
from riskmap.backup import RestoreError, backup, restore
from riskmap.cli import main
from riskmap.demo import build_demo
from riskmap.scopes import Scope, UnitFacts
from riskmap.service import CLI_ADMIN, Service
from riskmap.store.engine import make_engine, session_factory
from test_service_workflow import CAT

UNITS = [
    UnitFacts("HQ", "Capital", "border_control"),
    UnitFacts("N-1", "North", "border_control", "HQ"),
    UnitFacts("N-2", "North", "border_control", "N-1"),
    UnitFacts("S-1", "South", "customs", None),
    UnitFacts("C-1", "Capital", "consular", None),
]


@pytest.mark.parametrize(
    ("scope", "seen"),
    [
        (Scope(), {"HQ", "N-1", "N-2", "S-1", "C-1"}),
        (Scope(regions=frozenset({"North"})), {"N-1", "N-2"}),
        (Scope(unit_types=frozenset({"customs"})), {"S-1"}),
        (Scope(units=frozenset({"N-1"})), {"N-1", "N-2"}),  # with the unit under it
        (Scope(units=frozenset({"HQ"})), {"HQ", "N-1", "N-2"}),  # and under those
        (Scope(units=frozenset({"C-1"}), regions=frozenset({"South"})), {"C-1", "S-1"}),
    ],
)
def test_visible_units(scope, seen):
    assert scopes.visible(scope, UNITS) == seen
    for unit in UNITS:
        assert scopes.allows(scope, unit, UNITS) == (unit.code in seen)


def test_a_loop_in_the_parents_does_not_hang():
    looped = [UnitFacts("A", "", "x", "B"), UnitFacts("B", "", "x", "A")]
    assert scopes.visible(Scope(units=frozenset({"C"})), looped) == frozenset()
    assert scopes.visible(Scope(units=frozenset({"A"})), looped) == {"A", "B"}


def test_who_may_be_limited_and_by_what():
    north = Scope(regions=frozenset({"North"}))
    one_unit = Scope(units=frozenset({"HQ"}))
    assert scopes.problem("officer", one_unit) is None
    assert scopes.problem("manager", north) is None
    assert "regions only (not units)" in scopes.problem("manager", one_unit)
    assert scopes.problem("auditor", north).startswith("an auditor reads the whole ministry")
    assert scopes.problem("admin", north).startswith("an admin reads")
    assert scopes.problem("auditor", Scope()) is None
    assert not scopes.applies("admin") and scopes.applies("officer")


def test_a_scope_in_words():
    scope = Scope.of([("region", "North"), ("region", "East"), ("unit", "HQ")])
    assert scope.describe() == "regions East, North; unit HQ"
    assert Scope().describe() == "whole ministry"
    assert Scope.of(scope.entries()) == scope


@pytest.mark.parametrize(
    ("entity", "entity_id", "after", "visible"),
    [
        ("risk_rating", "2026/N-1/BOR-01", {}, True),
        ("risk_rating", "2026/S-1/BOR-01", {}, False),
        ("cycle", "2026", {"status": "locked"}, True),
        ("cycle", "2026", {"unit": "S-1"}, False),  # a confirmation of another unit
        ("cycle", "2026", {"unit": None}, True),  # of all units
        ("evidence_item", "3", {"unit_code": "N-1"}, True),
        ("evidence_item", "4", {"unit_id": "N-1"}, True),  # as trails before the rename
        ("action", "7", {"unit_id": 12}, False),  # the store's key: unsure, left out
    ],
)
def test_which_audit_events_a_scoped_reader_sees(entity, entity_id, after, visible):
    codes = frozenset({"N-1", "N-2"})
    assert scopes.event_visible(entity, entity_id, None, after, codes) is visible


# --- the command line and backups on a real database -----------------------------------


@pytest.fixture
def demo_url(tmp_path, monkeypatch):
    monkeypatch.setattr(security, "N", 2**4)
    monkeypatch.setenv("RISKMAP_EVIDENCE_DIR", str(tmp_path / "evidence"))
    url = f"sqlite:///{tmp_path / 'riskmap.sqlite'}"
    with Service.open(url, catalogue=CAT) as svc:
        build_demo(svc, units=8, seed=11)
    return url


def _user(runner: CliRunner, url: str, *args: str):
    return runner.invoke(main, ["user", *args, "--db", url])


def test_cli_sets_shows_and_clears_a_scope(demo_url):
    runner = CliRunner()
    done = _user(runner, demo_url, "scope", "demo.officer", "--region", "North", "--unit", "LI-001")
    assert done.exit_code == 0, done.output
    assert "user demo.officer now sees: region North; unit LI-001" in done.output
    listed = _user(runner, demo_url, "list").output.splitlines()
    assert listed[0].split()[-1] == "scope"
    row = next(line for line in listed if line.startswith("demo.officer"))
    assert row.endswith("region North; unit LI-001")
    with Service.open(demo_url, catalogue=CAT) as svc:
        assert set(s.list_units(svc, "demo.officer")["code"]) == {"BC-002", "LI-001"}

    refused = _user(runner, demo_url, "scope", "demo.auditor", "--region", "North")
    assert refused.exit_code == 1
    assert "demo.auditor: an auditor reads the whole ministry" in refused.output
    neither = _user(runner, demo_url, "scope", "demo.officer")
    assert neither.exit_code == 2 and "or --clear" in neither.output

    cleared = _user(runner, demo_url, "scope", "demo.officer", "--clear")
    assert cleared.exit_code == 0 and "now sees: whole ministry" in cleared.output
    with Service.open(demo_url, catalogue=CAT) as svc:
        assert len(s.list_units(svc, "demo.officer")) == 8
        trail = s.audit_trail(svc, CLI_ADMIN, entity="user", entity_id="demo.officer")
    assert list(trail["action"]).count("user.scope") == 2


def _backup(url: str) -> dict:
    eng = make_engine(url)
    try:
        with session_factory(eng)() as session:
            return backup(session)
    finally:
        eng.dispose()


def test_a_scope_survives_backup_and_restore(demo_url, tmp_path):
    with Service.open(demo_url, catalogue=CAT) as svc:
        s.set_scope(svc, CLI_ADMIN, "demo.manager", regions=["North", "South"])
    data = _backup(demo_url)
    assert {r["value"] for r in data["tables"]["user_scopes"]} == {"North", "South"}
    target = f"sqlite:///{tmp_path / 'restored.sqlite'}"
    Service.open(target).close()
    eng = make_engine(target)
    try:
        with session_factory(eng)() as session, session.begin():
            restore(session, data)
    finally:
        eng.dispose()
    with Service.open(target, catalogue=CAT) as svc:
        assert set(s.list_units(svc, "demo.manager")["region"]) == {"North", "South"}
        assert s.my_scope(svc, "demo.manager").line == "You see 2 of 8 units: regions North, South"


def test_a_scope_edited_in_the_backup_disagrees_with_the_trail(demo_url, tmp_path):
    with Service.open(demo_url, catalogue=CAT) as svc:
        s.set_scope(svc, CLI_ADMIN, "demo.officer", regions=["North"])
    data = _backup(demo_url)
    data["tables"]["user_scopes"] = []  # widened to the whole ministry behind the trail
    target = f"sqlite:///{tmp_path / 'restored.sqlite'}"
    Service.open(target).close()
    eng = make_engine(target)
    try:
        with session_factory(eng)() as session, pytest.raises(RestoreError) as err:
            restore(session, data, accept_edited=True)
    finally:
        eng.dispose()
    shown = "\n".join(p.message for p in err.value.problems)
    assert "whole ministry, but the audit trail's last scope change" in shown


def test_an_unknown_stored_kind_fails_closed():
    with pytest.raises(ValueError, match="unknown scope kind 'everything'"):
        Scope.of([("everything", "all")])
