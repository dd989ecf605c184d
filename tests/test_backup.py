"""Backup and restore: identical round trips, intact audit chain, refusal to overwrite."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from riskmap import audit
from riskmap.backup import RestoreError, backup, restore
from riskmap.cli import main
from riskmap.security import hash_password
from riskmap.store.engine import make_engine, session_factory
from riskmap.store.migrate import current_revision, head_revision
from riskmap.store.models import (
    Action,
    AuditEvent,
    Comment,
    ControlRating,
    Cycle,
    Incident,
    Organisation,
    RiskRating,
    Unit,
    User,
)


def _backend(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgres"


def _canonical(data: dict) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def _backup_of(url: str) -> dict:
    eng = make_engine(url)
    try:
        with session_factory(eng)() as s:
            return backup(s)
    finally:
        eng.dispose()


def _restore_into(url: str, data: dict) -> None:
    eng = make_engine(url)
    try:
        with session_factory(eng)() as s, s.begin():
            restore(s, data)
    finally:
        eng.dispose()


def populate(url: str) -> None:
    """A small but complete assessment, with self-references pointing at later ids."""
    eng = make_engine(url)
    try:
        with session_factory(eng)() as s, s.begin():
            org = Organisation(name="Ministère de l'Intérieur", is_demo=True)
            s.add(org)
            s.add_all(
                [
                    User(username="officer", role="officer", password_hash=hash_password("pw1")),
                    User(
                        username="manager",
                        display_name="Ана Петровић",
                        email="m@example.org",
                        role="manager",
                        password_hash=hash_password("pw2"),
                        active=False,
                    ),
                ]
            )
            s.flush()
            child = Unit(
                organisation_id=org.id,
                code="BC-N",
                name="Border post north",
                unit_type="border_control",
                region="North",
                headcount=42,
                exposure={"discretion": 4, "remote": True, "notes": ["a", "ü"], "ratio": 0.1},
            )
            s.add(child)
            s.flush()
            parent = Unit(
                organisation_id=org.id, code="BC", name="Border police", unit_type="border_control"
            )
            s.add(parent)
            s.flush()
            child.parent_id = parent.id  # the child's id is lower than its parent's
            c1 = Cycle(
                organisation_id=org.id,
                label="2024",
                catalogue_version="abc",
                status="locked",
                drafted_by="officer",
                approved_by="manager",
                approved_at=datetime(2024, 12, 1, 9, 30, 15, 123456, tzinfo=UTC),
                locked_at=datetime(2024, 12, 2, tzinfo=UTC),
            )
            s.add(c1)
            s.flush()
            c2 = Cycle(
                organisation_id=org.id,
                label="2025",
                catalogue_version="abd",
                drafted_by="officer",
                previous_cycle_id=c1.id,
            )
            s.add(c2)
            s.flush()
            s.add_all(
                [
                    RiskRating(
                        cycle_id=c2.id,
                        unit_id=child.id,
                        risk_id="BOR-01",
                        likelihood=4,
                        impact=5,
                        justification="multi\nline",
                    ),
                    ControlRating(
                        cycle_id=c2.id,
                        unit_id=child.id,
                        control_id="staff_rotation",
                        maturity=2,
                        evidence="memo 12/2024",
                    ),
                    Incident(
                        unit_id=child.id,
                        occurred_on=date(2024, 3, 9),
                        kind="complaint",
                        recorded_by="officer",
                    ),
                    Comment(cycle_id=c2.id, author="manager", text="Please justify BOR-01."),
                ]
            )
            older = Action(
                cycle_id=c2.id,
                unit_id=child.id,
                control_id="staff_rotation",
                from_level=2,
                to_level=3,
                reduction=0.1 + 0.2,
                effort_days=12.5,
                cost=1e6 / 3,
                due_date=date(2025, 6, 30),
            )
            s.add(older)
            s.flush()
            newer = Action(
                cycle_id=c1.id,
                unit_id=parent.id,
                control_id="supervision",
                from_level=0,
                to_level=2,
            )
            s.add(newer)
            s.flush()
            older.carried_from_id = newer.id  # again a reference to a higher id
            for i in range(3):
                audit.record(
                    s,
                    actor="officer",
                    action="risk_rating.update",
                    entity="risk_rating",
                    entity_id=i,
                    before={"likelihood": i, "when": date(2025, 1, 1)},
                    after={"likelihood": i + 1, "ratio": 1 / 3, "note": "ñ"},
                    reason="évidence nouvelle",
                    cycle_id=c2.id,
                )
    finally:
        eng.dispose()


# --- round trips -----------------------------------------------------------------------


def test_round_trip_is_identical_and_the_audit_chain_still_verifies(db_url, db_factory):
    populate(db_url)
    first = _backup_of(db_url)
    assert first["schema_revision"] == head_revision()
    assert first["format"] == "riskmap-backup" and first["format_version"] == 1
    assert len(first["tables"]["units"]) == 2 and len(first["tables"]["audit_events"]) == 3
    json.dumps(first, allow_nan=False)  # plain JSON, nothing exotic

    target = db_factory(_backend(db_url))
    _restore_into(target, first)
    second = _backup_of(target)
    assert _canonical(second) == _canonical(first)

    eng = make_engine(target)
    try:
        with session_factory(eng)() as s:
            assert audit.verify(s).ok
            assert audit.verify(s).checked == 3
            child = s.scalar(select(Unit).where(Unit.code == "BC-N"))
            assert child.parent_id == s.scalar(select(Unit.id).where(Unit.code == "BC"))
            assert child.exposure["notes"] == ["a", "ü"]
            approved = s.scalar(select(Cycle.approved_at).where(Cycle.label == "2024"))
            assert approved.replace(tzinfo=approved.tzinfo or UTC) == datetime(
                2024, 12, 1, 9, 30, 15, 123456, tzinfo=UTC
            )
        # New rows get fresh ids after the restored ones (PostgreSQL sequences reset).
        with session_factory(eng)() as s, s.begin():
            org_id = s.scalar(select(Organisation.id))
            unit = Unit(organisation_id=org_id, code="NEW", name="New", unit_type="customs")
            s.add(unit)
            event = audit.record(s, actor="admin", action="unit.create", entity="unit")
            s.flush()
            assert unit.id == 3
            assert event.id == 4
        with session_factory(eng)() as s:
            assert audit.verify(s).checked == 4
    finally:
        eng.dispose()


def test_backup_lists_rows_in_primary_key_order_with_json_safe_values(db_url):
    populate(db_url)
    data = _backup_of(db_url)
    for rows in data["tables"].values():
        ids = [r["id"] for r in rows]
        assert ids == sorted(ids)
    action = data["tables"]["actions"][0]
    assert action["due_date"] == "2025-06-30"
    assert action["reduction"] == 0.1 + 0.2
    cycle = data["tables"]["cycles"][0]
    assert cycle["approved_at"] == "2024-12-01T09:30:15.123456+00:00"
    assert data["tables"]["users"][1]["display_name"] == "Ана Петровић"
    assert data["tables"]["users"][1]["active"] is False


@pytest.mark.postgres
@pytest.mark.parametrize("source,target", [("sqlite", "postgres"), ("postgres", "sqlite")])
def test_backup_moves_between_backends(db_factory, source, target):
    a = db_factory(source)
    populate(a)
    first = _backup_of(a)
    b = db_factory(target)
    _restore_into(b, first)
    assert _canonical(_backup_of(b)) == _canonical(first)
    eng = make_engine(b)
    try:
        with session_factory(eng)() as s:
            assert audit.verify(s).ok
    finally:
        eng.dispose()


# --- refusals --------------------------------------------------------------------------


def test_restore_into_a_non_empty_database_is_refused(db_url, db_factory):
    source = db_factory(_backend(db_url))
    populate(source)
    data = _backup_of(source)
    eng = make_engine(db_url)
    try:
        with session_factory(eng)() as s, s.begin():
            s.add(Organisation(name="Already here"))
        with session_factory(eng)() as s:
            with pytest.raises(RestoreError, match="not empty.*organisation \\(1 rows\\)"):
                restore(s, data)
            s.rollback()
            assert s.scalar(select(func.count()).select_from(Unit)) == 0
            assert s.scalar(select(func.count()).select_from(AuditEvent)) == 0
    finally:
        eng.dispose()


def test_restore_refuses_a_backup_of_another_schema_revision(sqlite_url, db_factory):
    source = db_factory("sqlite")
    data = _backup_of(source)
    data["schema_revision"] = "9999"
    target = db_factory("sqlite")
    eng = make_engine(target)
    try:
        assert current_revision(eng) == head_revision()
        with session_factory(eng)() as s, pytest.raises(RestoreError, match="9999"):
            restore(s, data)
    finally:
        eng.dispose()


def test_restore_refuses_what_is_not_a_backup(db_factory):
    target = db_factory("sqlite")
    eng = make_engine(target)
    try:
        with session_factory(eng)() as s:
            with pytest.raises(RestoreError, match="not a riskmap backup"):
                restore(s, {"tables": {}})
            with pytest.raises(RestoreError, match="does not know: secrets"):
                restore(
                    s,
                    {
                        "format": "riskmap-backup",
                        "format_version": 1,
                        "schema_revision": head_revision(),
                        "tables": {"secrets": []},
                    },
                )
    finally:
        eng.dispose()


# --- CLI -------------------------------------------------------------------------------


def test_cli_backup_and_restore(db_url, db_factory, tmp_path):
    populate(db_url)
    runner = CliRunner()
    out = tmp_path / "backups" / "riskmap.json"
    made = runner.invoke(main, ["backup", "-o", str(out), "--db", db_url])
    assert made.exit_code == 0, made.output
    assert "written to" in made.output
    assert _canonical(json.loads(out.read_text("utf-8"))) == _canonical(_backup_of(db_url))

    # restore creates the schema itself: the target is a brand-new, unmigrated database
    target = db_factory(_backend(db_url), migrate=False)
    restored = runner.invoke(main, ["restore", str(out), "--db", target])
    assert restored.exit_code == 0, restored.output
    assert "audit chain intact: 3 events" in restored.output
    assert _canonical(_backup_of(target)) == _canonical(_backup_of(db_url))

    again = runner.invoke(main, ["restore", str(out), "--db", target])
    assert again.exit_code == 1
    assert "not empty" in again.output


def test_cli_restore_refuses_an_edited_backup_then_its_broken_audit_chain(db_factory, tmp_path):
    source = db_factory("sqlite")
    populate(source)
    data = _backup_of(source)
    data["tables"]["audit_events"][1]["reason"] = "edited in the file"
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data), "utf-8")
    target = db_factory("sqlite", migrate=False)
    runner = CliRunner()

    def organisations() -> int:
        eng = make_engine(target)
        try:
            with session_factory(eng)() as s:
                return s.scalar(select(func.count()).select_from(Organisation))
        finally:
            eng.dispose()

    refused = runner.invoke(main, ["restore", str(edited), "--db", target])
    assert refused.exit_code == 1
    assert "does not match its digest: it was edited after it was made" in refused.output
    assert organisations() == 0

    accepted = runner.invoke(main, ["restore", str(edited), "--db", target, "--accept-edited"])
    assert accepted.exit_code == 1
    victim = data["tables"]["audit_events"][1]["id"]
    assert f"broken at event {victim}" in accepted.output
    assert organisations() == 0

    forced = runner.invoke(
        main,
        ["restore", str(edited), "--db", target, "--accept-edited", "--allow-broken-audit"],
    )
    assert forced.exit_code == 0, forced.output
    assert f"event {victim}: content altered" in forced.output
    eng = make_engine(target)
    try:
        with session_factory(eng)() as s:
            last = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    finally:
        eng.dispose()
    assert (last.action, last.actor, last.entity_id) == (
        "backup.restore_edited", "cli:admin", "edited.json",
    )  # fmt: skip


def test_a_backup_is_one_moment_of_the_database_while_others_save(db_url, monkeypatch):
    """The tables are read one after the other; a save committed between two of them (an
    action and its audit event, written after the actions table was read) must not reach
    the backup's later tables: the backup is the database as it stood when it began."""
    import riskmap.backup_write as bw
    from riskmap import audit

    populate(db_url)
    before = _backup_of(db_url)
    read = bw._batches
    done = []

    def then_someone_saves(conn, table):
        yield from read(conn, table)
        if table.name == "actions" and not done:  # the first table: all the rest come after
            eng = make_engine(db_url)
            try:
                with session_factory(eng)() as s, s.begin():
                    audit.record(s, actor="manager", action="comment", entity="cycle")
            finally:
                eng.dispose()
            done.append(table.name)

    monkeypatch.setattr(bw, "_batches", then_someone_saves)
    during = _backup_of(db_url)
    assert done == ["actions"]
    assert during == before
    monkeypatch.setattr(bw, "_batches", read)
    after = _backup_of(db_url)
    assert len(after["tables"]["audit_events"]) == len(before["tables"]["audit_events"]) + 1
