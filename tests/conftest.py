"""Shared fixtures: a real SQLite file and a real PostgreSQL server.

PostgreSQL comes from $RISKMAP_TEST_PG_URL (a server where the user may CREATE DATABASE;
tests create and drop their own `riskmap_test_*` databases and never touch the one named
in the URL), else from a throw-away cluster started from the server binaries under
/usr/lib/postgresql/*/bin. Without either the PostgreSQL tests skip, unless
RISKMAP_REQUIRE_SERVICES=1, which turns the skip into a failure.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from riskmap.store.engine import make_engine
from riskmap.store.migrate import upgrade

REQUIRE_SERVICES = os.environ.get("RISKMAP_REQUIRE_SERVICES") == "1"

# One audit key for the whole run, in a folder of its own: tests never read a developer's
# key ($RISKMAP_AUDIT_KEY or ./data/audit.key), and a backup made in one test database
# verifies when restored into another. Tests of where the key lives set their own.
os.environ.pop("RISKMAP_AUDIT_KEY", None)
os.environ["RISKMAP_AUDIT_KEY_FILE"] = str(
    Path(tempfile.mkdtemp(prefix="riskmap-test-key-")) / "audit.key"
)

# The dashboard's AppTest fixtures (demo_template, ui_db), loaded here so that pytest
# rewrites the asserts of their helpers too.
pytest_plugins = ["ui_harness"]


def _unavailable(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"PostgreSQL required (RISKMAP_REQUIRE_SERVICES=1) but {reason}")
    pytest.skip(f"PostgreSQL not available: {reason}")


def _server_binaries() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin that has initdb, if any."""

    def version(initdb: str) -> int:
        name = Path(initdb).parent.parent.name
        return int(name) if name.isdigit() else 0

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """A PostgreSQL server on which tests create and drop their own databases."""

    def __init__(self, base_url: str) -> None:
        self.base_url = make_url(base_url).set(drivername="postgresql+psycopg")

    def _admin(self):
        import psycopg

        url = self.base_url
        return psycopg.connect(
            host=url.host or "127.0.0.1",
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            dbname=url.database or "postgres",
            autocommit=True,
        )

    def create_database(self) -> str:
        name = f"riskmap_test_{uuid.uuid4().hex[:12]}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.base_url.set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        name = make_url(url).database
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run_as_postgres(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kwargs)


def _start_cluster(bindir: Path, root: Path) -> str:
    """initdb + pg_ctl start in `root`, on 127.0.0.1 and a free port; returns the server URL."""
    data, log = root / "data", root / "log"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()
    try:
        _run_as_postgres(
            [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "riskmap", "-E", "UTF8"]
        )
        _run_as_postgres(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off",
                "-l",
                str(log),
                "-w",
                "start",
            ]
        )
    except (subprocess.CalledProcessError, OSError) as exc:
        detail = getattr(exc, "stderr", "") or ""
        if log.exists():
            detail += log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"could not start a throw-away cluster: {exc}\n{detail}") from exc
    return f"postgresql+psycopg://riskmap@127.0.0.1:{port}/postgres"


def _stop_cluster(bindir: Path, root: Path) -> None:
    data = root / "data"
    if (data / "postmaster.pid").exists():
        with contextlib.suppress(subprocess.CalledProcessError, OSError):
            _run_as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL server (see module docstring); skips or fails if there is none."""
    env_url = os.environ.get("RISKMAP_TEST_PG_URL", "").strip()
    if env_url:
        server = PgServer(env_url)
        try:
            server.drop_database(server.create_database())
        except Exception as exc:
            _unavailable(f"cannot create databases on $RISKMAP_TEST_PG_URL: {exc}")
        yield server
        return
    bindir = _server_binaries()
    if bindir is None:
        _unavailable("no $RISKMAP_TEST_PG_URL and no server under /usr/lib/postgresql/*/bin")
    root = Path(tempfile.mkdtemp(prefix="riskmap-pg-"))
    try:
        try:
            url = _start_cluster(bindir, root)
        except RuntimeError as exc:
            _unavailable(str(exc))
        yield PgServer(url)
    finally:
        _stop_cluster(bindir, root)


@pytest.fixture(scope="session")
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """One empty (not migrated) PostgreSQL database for the whole session."""
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(url)


@pytest.fixture
def fresh_pg_url(pg_server: PgServer) -> Iterator[str]:
    """A new empty (not migrated) PostgreSQL database for this test only."""
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(url)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file in this test's tmp_path (not created yet, not migrated)."""
    return f"sqlite:///{tmp_path / 'riskmap.sqlite'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request) -> str:
    """A migrated, empty database on each backend: a SQLite file, a fresh PostgreSQL db."""
    if request.param == "sqlite":
        url = request.getfixturevalue("sqlite_url")
    else:
        url = request.getfixturevalue("fresh_pg_url")
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return url


@pytest.fixture
def db_factory(request, tmp_path: Path):
    """`make(backend, migrate=True) -> url`: more databases for one test (dropped after it).

    `backend` is "sqlite" (a new file in tmp_path) or "postgres" (a new database).
    """
    created: list[tuple[PgServer | None, str]] = []

    def make(backend: str, *, migrate: bool = True) -> str:
        server: PgServer | None = None
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path / f'db{len(created)}.sqlite'}"
        elif backend == "postgres":
            server = request.getfixturevalue("pg_server")
            url = server.create_database()
        else:
            raise ValueError(f"unknown backend {backend!r}")
        created.append((server, url))
        if migrate:
            engine = make_engine(url)
            try:
                upgrade(engine)
            finally:
                engine.dispose()
        return url

    yield make
    for server, url in created:
        if server is not None:
            server.drop_database(url)
