"""`riskmap user ...` on a real SQLite file: add (password on stdin), list, set-role, disable."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from riskmap import security
from riskmap import service as s
from riskmap.cli import main
from riskmap.service import CLI_ADMIN, Service, signin_guard
from test_service_workflow import CAT


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch):
    monkeypatch.setattr(security, "N", 2**4)


def run(runner: CliRunner, url: str, *args: str, stdin: str | None = None):
    return runner.invoke(main, ["user", *args, "--db", url], input=stdin)


def test_user_commands_then_authenticate(sqlite_url):
    runner = CliRunner()
    added = run(runner, sqlite_url, "add", "olga", "--role", "officer", stdin="s3cret-pass\n")
    assert added.exit_code == 0, added.output
    assert "user olga added with role officer" in added.output
    assert "s3cret-pass" not in added.output
    run(
        runner,
        sqlite_url,
        "add",
        "max",
        "--role",
        "manager",
        "--display-name",
        "Max M",
        stdin="another-pass\n",
    )

    with Service.open(sqlite_url, catalogue=CAT) as svc:
        user = s.authenticate(svc, "olga", "s3cret-pass")
        assert user is not None and user.role == "officer"
        assert s.authenticate(svc, "olga", "s3cret-pass\n") is None  # newline not kept

    listed = run(runner, sqlite_url, "list")
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert lines[0].split() == ["user", "role", "status", "name", "scope"]
    assert lines[1].split() == ["max", "manager", "active", "Max", "M", "whole", "ministry"]
    assert lines[2].split() == ["olga", "officer", "active", "olga", "whole", "ministry"]

    changed = run(runner, sqlite_url, "set-role", "olga", "auditor")
    assert changed.exit_code == 0 and "now has role auditor" in changed.output
    disabled = run(runner, sqlite_url, "disable", "max", "--reason", "left the ministry")
    assert disabled.exit_code == 0 and "user max disabled" in disabled.output
    listed = run(runner, sqlite_url, "list").output.splitlines()
    assert listed[1].split()[:3] == ["max", "manager", "disabled"]
    assert listed[2].split()[:3] == ["olga", "auditor", "active"]

    with Service.open(sqlite_url, catalogue=CAT) as svc:
        assert s.authenticate(svc, "max", "another-pass") is None
        assert s.authenticate(svc, "olga", "s3cret-pass").role == "auditor"
        trail = s.audit_trail(svc, CLI_ADMIN, entity="user")
    # Failed sign-ins are audited too, by the sign-in guard (riskmap.service.signin_guard).
    failed = trail[trail["action"].str.startswith("signin.")]
    assert len(failed) >= 2 and failed["actor"].unique().tolist() == [signin_guard.ACTOR]
    trail = trail[~trail["action"].str.startswith("signin.")]
    assert trail["actor"].unique().tolist() == [CLI_ADMIN]
    assert trail["action"].tolist() == ["user.add", "user.add", "user.set_role", "user.disable"]
    assert trail.iloc[-1]["reason"] == "left the ministry"
    assert trail.iloc[-1]["before"]["active"] is True and trail.iloc[-1]["after"]["active"] is False


def test_user_command_errors_are_plain_messages(sqlite_url):
    runner = CliRunner()
    assert (
        run(runner, sqlite_url, "add", "olga", "--role", "officer", stdin="pw-123456\n").exit_code
        == 0
    )
    twice = run(runner, sqlite_url, "add", "olga", "--role", "manager", stdin="pw-123456\n")
    assert twice.exit_code == 1 and "'olga' is already taken" in twice.output
    short = run(runner, sqlite_url, "add", "ivan", "--role", "officer", stdin="short\n")
    assert short.exit_code == 1 and "password: must have at least 8 characters" in short.output
    bad_role = run(runner, sqlite_url, "add", "ivan", "--role", "boss", stdin="pw-123456\n")
    assert bad_role.exit_code == 2
    bad_name = run(
        runner, sqlite_url, "add", "Ivan Petrov", "--role", "officer", stdin="pw-123456\n"
    )
    assert bad_name.exit_code == 1 and "user name" in bad_name.output
    ghost = run(runner, sqlite_url, "disable", "ghost")
    assert ghost.exit_code == 1 and "no user named 'ghost'" in ghost.output
    listed = run(runner, sqlite_url, "list").output
    assert "ivan" not in listed and "olga" in listed
