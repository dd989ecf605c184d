"""Where the database is and how to connect to it: a SQLite file by default, PostgreSQL by URL.

SQLite connections get foreign keys enforced, write-ahead logging (readers never block the
one writer) and a busy timeout (a second writer waits up to 5 s instead of failing at once).
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

ENV_VAR = "RISKMAP_DATABASE_URL"

SQLITE_PRAGMAS = (
    "PRAGMA foreign_keys=ON",
    "PRAGMA journal_mode=WAL",
    "PRAGMA busy_timeout=5000",
)


def database_url(explicit: str | None = None) -> str:
    """The database URL: `explicit`, else $RISKMAP_DATABASE_URL, else ./data/riskmap.sqlite."""
    if explicit:
        return explicit
    from_env = os.environ.get(ENV_VAR, "").strip()
    if from_env:
        return from_env
    # The folder is created by make_engine when a connection is made, not by resolving a URL.
    return f"sqlite:///{Path.cwd() / 'data' / 'riskmap.sqlite'}"


def normalise_url(url: str | URL) -> URL:
    """Parse `url`; bare `postgresql://` (or `postgres://`) URLs use the psycopg 3 driver."""
    if isinstance(url, str) and url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | None = None) -> Engine:
    """An Engine for `url` (default: `database_url()`), configured for its backend."""
    parsed = normalise_url(database_url(url))
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        db = parsed.database
        if db and db != ":memory:" and not db.startswith("file:"):
            Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    if backend == "postgresql":
        return create_engine(parsed, pool_pre_ping=True)
    return create_engine(parsed)


def _sqlite_on_connect(dbapi_connection, _connection_record) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
            cursor.fetchall()
    finally:
        cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to `engine`; objects stay readable after commit (no expiry)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def read_snapshot(session: Session) -> Connection:
    """The session's connection, with every read from here to the end of its transaction
    seeing one state of the database: a backup's tables must agree with each other (an
    action and its audit event), while others keep saving.

    SQLite: the driver begins no transaction for a SELECT, so each would see the latest
    commit; an explicit BEGIN makes them one read transaction (one WAL snapshot, writers
    not blocked). PostgreSQL: REPEATABLE READ, set before the transaction's first statement
    (a session that already began keeps its own isolation)."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql" and not session.in_transaction():
        return session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        raw = conn.connection.dbapi_connection
        if raw is not None and not raw.in_transaction:
            raw.execute("BEGIN")
    return conn
