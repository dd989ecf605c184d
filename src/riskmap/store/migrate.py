"""Schema migrations (Alembic), configured from code: no alembic.ini is needed at run time.

The migration scripts ship inside the package (`riskmap/migrations`), so an installed
riskmap can create or upgrade its database anywhere with `riskmap db upgrade`.

Every command and the dashboard open the database through `upgrade`, so its common case,
a database already at the head, is answered without importing Alembic (about a tenth of
a second of start-up): the scripts' `revision` / `down_revision` lines are read as text,
and only a database not at that one head goes through Alembic itself.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, func, inspect, select, text

from riskmap.store.models import Organisation

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

# pg_advisory_xact_lock key that serialises concurrent upgrades of one PostgreSQL database.
_UPGRADE_LOCK = 0x726D_6D69_6772  # "rmmigr"

_REVISION_LINE = re.compile(
    r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(?:\"([^\"]*)\"|'([^']*)'|(None))\s*$",
    re.MULTILINE,
)


def alembic_config() -> Config:
    """An Alembic Config pointing at the packaged migrations."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    return config


def head_revision() -> str:
    """The newest revision the packaged migrations know."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


@cache
def _scripts_head() -> str | None:
    """The one head of the packaged scripts read as text, or None when unsure.

    None (so Alembic decides) if any script lacks a plain `revision = "..."` and
    `down_revision = "..." | None` line, or the scripts have more than one head.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS_DIR / "versions").glob("*.py"):
        if script.name.startswith("_"):
            continue
        found = {
            m.group(1): m.group(2) or m.group(3)
            for m in _REVISION_LINE.finditer(script.read_text())
        }
        if "revision" not in found or "down_revision" not in found or not found["revision"]:
            return None
        revisions.add(found["revision"])
        if found["down_revision"]:
            parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _at_head(engine: Engine) -> bool:
    head = _scripts_head()
    if head is None:
        return False
    with engine.connect() as conn:
        return _stamped(conn) == [head]


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` (default: the newest). A no-op if already there."""
    if revision == "head" and _at_head(engine):
        return
    from alembic import command

    config = alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _UPGRADE_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def _stamped(conn: Connection) -> list[str]:
    """The revisions `alembic_version` holds (read as Alembic does, without importing it)."""
    if not inspect(conn).has_table("alembic_version"):
        return []
    return list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def _revision(conn: Connection) -> str | None:
    stamped = _stamped(conn)
    if len(stamped) > 1:
        raise RuntimeError(f"the database has several schema heads: {sorted(stamped)}")
    return stamped[0] if stamped else None


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
