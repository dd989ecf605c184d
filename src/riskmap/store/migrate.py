"""Schema migrations (Alembic), configured from code: no alembic.ini is needed at run time.

The migration scripts ship inside the package (`riskmap/migrations`), so an installed
riskmap can create or upgrade its database anywhere with `riskmap db upgrade`.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, func, inspect, select, text

from riskmap.store.models import Organisation

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

# pg_advisory_xact_lock key that serialises concurrent upgrades of one PostgreSQL database.
_UPGRADE_LOCK = 0x726D_6D69_6772  # "rmmigr"


def alembic_config() -> Config:
    """An Alembic Config pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    return config


def head_revision() -> str:
    """The newest revision the packaged migrations know."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` (default: the newest). A no-op if already there."""
    config = alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _UPGRADE_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def _revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def current_revision(bind: Engine | Connection) -> str | None:
    """The revision the database is at, or None if it was never migrated."""
    if isinstance(bind, Connection):
        return _revision(bind)
    with bind.connect() as conn:
        return _revision(conn)


def is_empty(bind: Engine | Connection) -> bool:
    """True if the database has no tables yet, or no organisation row."""
    if isinstance(bind, Connection):
        return _is_empty(bind)
    with bind.connect() as conn:
        return _is_empty(conn)


def _is_empty(conn: Connection) -> bool:
    if not inspect(conn).has_table(Organisation.__tablename__):
        return True
    return conn.execute(select(func.count()).select_from(Organisation)).scalar_one() == 0
