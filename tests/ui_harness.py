"""Shared set-up of the dashboard's AppTests: a small demo database and a page runner.

A demo ministry of 8 units is built once per session (cheap password hashes); each test
gets its own copy of the SQLite file, named by `RISKMAP_DATABASE_URL`, so tests never see
each other's writes and the process-wide caches (keyed by database URL) never mix them.
The fixtures (`demo_template`, `ui_db`) reach every test module through `pytest_plugins`
in tests/conftest.py.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from riskmap import security
from riskmap.demo import build_demo
from riskmap.service import Service

APP = str(Path(__file__).resolve().parents[1] / "app.py")
USERS = {
    role: {"username": f"demo.{role}", "role": role, "display_name": f"Demo {role}"}
    for role in ("admin", "officer", "manager", "auditor")
}
ROLES = tuple(USERS)
TIMEOUT = 30


@dataclass
class DemoDb:
    url: str
    path: Path
    passwords: dict[str, str]

    def service(self) -> Service:
        return Service.open(self.url, upgrade=False)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> DemoDb:
    path = tmp_path_factory.mktemp("demo") / "template.sqlite"
    url = f"sqlite:///{path}"
    cost = security.N
    security.N = 2**4
    try:
        with Service.open(url) as svc:
            result = build_demo(svc, units=8)
    finally:
        security.N = cost
    return DemoDb(url, path, result.passwords)


@pytest.fixture
def ui_db(demo_template: DemoDb, tmp_path: Path, monkeypatch) -> DemoDb:
    """A private copy of the demo database, configured as the dashboard's database."""
    path = tmp_path / "riskmap.sqlite"
    shutil.copyfile(demo_template.path, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("RISKMAP_DATABASE_URL", url)
    return DemoDb(url, path, demo_template.passwords)


def _page_script(module: str) -> None:
    import importlib

    importlib.import_module(module).render()


def page(module: str, role: str | None, *, cycle: str | None = "2026", **state) -> AppTest:
    """An AppTest of one page (not yet run), signed in as the demo user of `role`."""
    at = AppTest.from_function(_page_script, args=(module,), default_timeout=TIMEOUT)
    if role is not None:
        at.session_state["user"] = dict(USERS[role])
    if cycle is not None:
        at.session_state["cycle"] = cycle
    for key, value in state.items():
        at.session_state[key] = value
    return at


def app(role: str | None = None) -> AppTest:
    """An AppTest of the whole app (sign-in, navigation, sidebar)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if role is not None:
        at.session_state["user"] = dict(USERS[role])
    return at


def errors(at: AppTest) -> list[str]:
    return [unescape(e.value) for e in at.error]


def refused(at: AppTest) -> bool:
    return any("not open to your role" in e or "sign in" in e.lower() for e in errors(at))


def unescape(text: str) -> str:
    """Markdown as a reader sees it: the escapes of `escape_md` removed."""
    return re.sub(r"\\([\\`*_{}\[\]()<>#+\-.!|~$:])", r"\1", text)


def texts(at: AppTest) -> str:
    """Every markdown, caption, title, subheader, info, success and warning of the run,
    joined, as a reader sees it (escapes removed)."""
    parts = []
    for kind in ("markdown", "caption", "title", "subheader", "info", "success", "warning"):
        parts.extend(str(e.value) for e in getattr(at, kind))
    return unescape("\n".join(parts))
