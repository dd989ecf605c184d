"""The store: engine set-up, migrations, SQLite pragmas, optimistic versioning, evidence
items (on SQLite and PostgreSQL alike)."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from riskmap.cli import main
from riskmap.cli.options import shown_url
from riskmap.store.engine import database_url, make_engine, session_factory
from riskmap.store.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    is_empty,
    upgrade,
)
from riskmap.store.models import Base, Cycle, EvidenceItem, Organisation, Unit

MODEL_TABLES = set(Base.metadata.tables)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request) -> str:
    """A database with nothing in it: not even a schema."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("fresh_pg_url")


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


def _table_names(eng) -> set[str]:
    return set(inspect(eng).get_table_names())


def _add_org_and_unit(session_maker) -> int:
    with session_maker() as s, s.begin():
        org = Organisation(name="Ministry of the Interior")
        s.add(org)
        s.flush()
        unit = Unit(organisation_id=org.id, code="BC-01", name="Border post", unit_type="border")
        s.add(unit)
        s.flush()
        return unit.id


# --- URL and engine --------------------------------------------------------------------


def test_database_url_prefers_explicit_then_environment_then_data_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RISKMAP_DATABASE_URL", "sqlite:///from-env.sqlite")
    assert database_url("sqlite:///explicit.sqlite") == "sqlite:///explicit.sqlite"
    assert database_url() == "sqlite:///from-env.sqlite"
    monkeypatch.delenv("RISKMAP_DATABASE_URL")
    assert not (tmp_path / "data").exists()
    assert database_url() == f"sqlite:///{tmp_path / 'data' / 'riskmap.sqlite'}"
    assert not (tmp_path / "data").exists()  # resolving a URL creates nothing ...
    make_engine().dispose()
    assert (tmp_path / "data").is_dir()  # ... connecting does


@pytest.mark.parametrize(
    "url", ["postgresql://u:pw@db.example/riskmap", "postgres://u:pw@db.example/riskmap"]
)
def test_bare_postgresql_urls_use_psycopg3(url):
    eng = make_engine(url)  # no connection is made until first use
    try:
        assert eng.url.drivername == "postgresql+psycopg"
        assert eng.url.host == "db.example" and eng.url.database == "riskmap"
    finally:
        eng.dispose()


def test_sqlite_pragmas_are_set_on_every_connection(sqlite_url):
    eng = make_engine(sqlite_url)
    try:
        for _ in range(2):
            with eng.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
            eng.dispose()  # the next round gets a brand-new connection
    finally:
        eng.dispose()


def test_sqlite_enforces_foreign_keys(sqlite_url):
    eng = make_engine(sqlite_url)
    try:
        upgrade(eng)
        with session_factory(eng)() as s:
            s.add(Unit(organisation_id=999, code="X", name="Orphan", unit_type="border"))
            with pytest.raises(IntegrityError):
                s.flush()
    finally:
        eng.dispose()


def test_session_factory_keeps_objects_readable_after_commit(engine):
    make = session_factory(engine)
    with make() as s:
        org = Organisation(name="Ministry")
        s.add(org)
        s.commit()
    assert org.name == "Ministry"  # no refresh needed (expire_on_commit=False)


# --- migrations ------------------------------------------------------------------------


def test_upgrade_on_an_empty_database_creates_every_table(empty_url):
    eng = make_engine(empty_url)
    try:
        assert current_revision(eng) is None
        assert is_empty(eng)
        assert _table_names(eng) == set()
        upgrade(eng)
        assert _table_names(eng) == MODEL_TABLES | {"alembic_version"}
        assert current_revision(eng) == head_revision() == "0003_user_scopes"
        assert is_empty(eng)  # a schema but no organisation yet
    finally:
        eng.dispose()


def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, Base.metadata) == []


def test_is_empty_is_false_once_an_organisation_exists(engine):
    _add_org_and_unit(session_factory(engine))
    assert not is_empty(engine)


def test_downgrade_to_base_removes_everything_and_upgrade_recreates_it(engine):
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    assert _table_names(engine) <= {"alembic_version"}
    assert current_revision(engine) is None
    upgrade(engine)
    assert _table_names(engine) == MODEL_TABLES | {"alembic_version"}


def test_cli_db_upgrade_twice_is_a_no_op(empty_url):
    runner = CliRunner()
    first = runner.invoke(main, ["db", "upgrade", "--db", empty_url])
    assert first.exit_code == 0, first.output
    assert "upgraded from empty to revision 0003_user_scopes" in first.output

    eng = make_engine(empty_url)
    try:
        _add_org_and_unit(session_factory(eng))
        second = runner.invoke(main, ["db", "upgrade", "--db", empty_url])
        assert second.exit_code == 0, second.output
        assert "already at revision 0003_user_scopes" in second.output
        assert _table_names(eng) == MODEL_TABLES | {"alembic_version"}
        with eng.connect() as conn:
            assert conn.execute(select(Unit.code)).scalars().all() == ["BC-01"]
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
            assert versions == [("0003_user_scopes",)]
    finally:
        eng.dispose()

    current = runner.invoke(main, ["db", "current", "--db", empty_url])
    assert current.exit_code == 0
    assert current.output.strip() == "0003_user_scopes (head)"


def test_cli_db_current_on_a_database_without_schema_exits_1(sqlite_url):
    result = CliRunner().invoke(main, ["db", "current", "--db", sqlite_url])
    assert result.exit_code == 1
    assert "no schema yet" in result.output


def test_cli_db_uses_the_environment_url(sqlite_url, monkeypatch):
    monkeypatch.setenv("RISKMAP_DATABASE_URL", sqlite_url)
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    eng = make_engine(sqlite_url)
    try:
        assert current_revision(eng) == "0003_user_scopes"
    finally:
        eng.dispose()


def test_messages_never_show_the_database_password():
    shown = shown_url("postgresql://u:topsecret@db.example/riskmap")
    assert "topsecret" not in shown
    assert "db.example/riskmap" in shown


# --- optimistic versioning -------------------------------------------------------------


def test_stale_copy_cannot_overwrite_a_newer_save(engine):
    make = session_factory(engine)
    unit_id = _add_org_and_unit(make)

    with make() as first, make() as second:
        a = first.get(Unit, unit_id)
        b = second.get(Unit, unit_id)
        assert a.version == b.version == 1

        a.name = "Border post (north)"
        first.commit()
        assert a.version == 2

        b.name = "Border post (south)"
        with pytest.raises(StaleDataError):
            second.commit()
        second.rollback()

    with make() as check:
        saved = check.get(Unit, unit_id)
        assert (saved.name, saved.version) == ("Border post (north)", 2)


# --- evidence items --------------------------------------------------------------------


def test_evidence_items_keep_what_they_say_and_a_successor_must_exist(engine):
    """An item's hash, dates, long text and its superseded_by link round-trip on both
    backends; a successor that is not an item, or a unit that does not exist, is refused
    by the database itself."""
    from datetime import date

    make = session_factory(engine)
    unit_id = _add_org_and_unit(make)
    sha = "ab" * 32
    entry = "Rotation roster signed by the head of unit, " * 20  # long text: Text column
    with make() as s, s.begin():
        org_id = s.get(Unit, unit_id).organisation_id
        cyc = Cycle(organisation_id=org_id, label="2026", catalogue_version="v", drafted_by="x")
        s.add(cyc)
        s.flush()
        old = EvidenceItem(
            cycle_id=cyc.id, unit_id=unit_id, control_id="staff_rotation", kind="file",
            checklist_entry=entry, file_name="roster ü.pdf", media_type="application/pdf",
            size=1234, sha256=sha, added_by="officer", valid_until=date(2027, 2, 28),
        )  # fmt: skip
        s.add(old)
        s.flush()
        new = EvidenceItem(
            cycle_id=cyc.id, unit_id=unit_id, risk_id="BOR-01", kind="reference",
            reference="Register 4, shelf 2", added_by="officer",
        )  # fmt: skip
        s.add(new)
        s.flush()
        old.superseded_by = new.id
        ids, cycle_id = (old.id, new.id), cyc.id
    with make() as s:
        got = s.scalars(select(EvidenceItem).order_by(EvidenceItem.id)).all()
        assert [g.id for g in got] == list(ids)
        a, b = got
        assert (a.sha256, a.size, a.file_name, a.checklist_entry) == (
            sha,
            1234,
            "roster ü.pdf",
            entry,
        )
        assert a.valid_until == date(2027, 2, 28) and a.superseded_by == b.id
        assert a.added_at is not None and b.valid_until is None
        assert (b.control_id, b.risk_id, b.reference) == (None, "BOR-01", "Register 4, shelf 2")
    for bad in ({"superseded_by": 999_999}, {"unit_id": 999_999}):
        with pytest.raises(IntegrityError), make() as s, s.begin():
            fields = {"cycle_id": cycle_id, "unit_id": unit_id, "kind": "reference",
                      "reference": "r", "added_by": "officer", **bad}  # fmt: skip
            s.add(EvidenceItem(**fields))
