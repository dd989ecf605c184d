"""A real dashboard in a real browser: `streamlit run app.py` and the system Chromium.

Fixtures (reuse them for other browser tests; mark those tests `browser`):

- `demo_site` (session): a demo ministry (8 units) in a SQLite file in a temp folder, with
  the demo users' passwords (`demo_site.passwords["demo.officer"]`).
- `streamlit_server` (session): the base URL of `streamlit run app.py` on a free port,
  serving `demo_site`'s database. Tests share this server and its database.
- `browser` (session) and `page` (per test, a fresh context so nobody is signed in).
- `sign_in(page, username, password=None)`: open the site and sign in (the password
  defaults to the demo user's); `sign_out(page)`.
- `wait_for_app(page)`: wait until the page's script run has finished; fails on an
  exception shown by Streamlit.
- `screenshot(page, name)`: save `test-artifacts/screenshots/<name>.png`.

Playwright drives the system Chromium (/usr/bin/chromium, or $RISKMAP_CHROMIUM); it never
downloads a browser. Without Chromium or Playwright the tests skip, unless
RISKMAP_REQUIRE_SERVICES=1, which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
REQUIRE_SERVICES = os.environ.get("RISKMAP_REQUIRE_SERVICES") == "1"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_SECONDS = 90
RUN_TIMEOUT_MS = 30_000


def _unavailable(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"browser tests required (RISKMAP_REQUIRE_SERVICES=1) but {reason}")
    pytest.skip(f"browser tests need {reason}")


def chromium_path() -> str | None:
    explicit = os.environ.get("RISKMAP_CHROMIUM", "").strip()
    for candidate in (explicit, "/usr/bin/chromium", shutil.which("chromium") or ""):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class DemoSite:
    url: str
    folder: Path
    passwords: dict[str, str]


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory) -> DemoSite:
    from riskmap import security
    from riskmap.demo import build_demo
    from riskmap.service import Service

    folder = tmp_path_factory.mktemp("browser-site")
    url = f"sqlite:///{folder / 'riskmap.sqlite'}"
    cost, security.N = security.N, 2**4  # quick sign-in; the hash records its own cost
    try:
        with Service.open(url) as svc:
            result = build_demo(svc, units=8)
    finally:
        security.N = cost
    return DemoSite(url, folder, result.passwords)


@pytest.fixture(scope="session")
def streamlit_server(demo_site: DemoSite) -> Iterator[str]:
    """`streamlit run app.py` on 127.0.0.1 and a free port; yields its base URL."""
    if chromium_path() is None:
        _unavailable("Chromium (apt-get install chromium)")
    port = _free_port()
    log_path = demo_site.folder / "streamlit.log"
    env = {
        **os.environ,
        "RISKMAP_DATABASE_URL": demo_site.url,
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app.py"),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(  # noqa: S603 (our own interpreter and app)
            cmd,
            cwd=demo_site.folder,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"streamlit exited with {proc.returncode}:\n"
                    + log_path.read_text(errors="replace")[-3000:]
                )
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:  # noqa: S310
                    if r.read().decode().strip() == "ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"streamlit did not answer within {STARTUP_SECONDS} s:\n"
                    + log_path.read_text(errors="replace")[-3000:]
                )
            time.sleep(0.3)
        yield base
    finally:
        # Stop the server we started (its own process group), and only it.
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


@pytest.fixture(scope="session")
def browser(streamlit_server: str) -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package (pip install playwright)")
    path = chromium_path()
    if path is None:
        _unavailable("Chromium (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, streamlit_server: str) -> Iterator[object]:
    context = browser.new_context(
        viewport={"width": 1440, "height": 1300}, base_url=streamlit_server
    )
    pg = context.new_page()
    pg.set_default_timeout(RUN_TIMEOUT_MS)
    try:
        yield pg
    finally:
        context.close()


def wait_for_app(page) -> None:
    """Wait for the current script run to finish; fail if Streamlit shows an exception."""
    page.wait_for_selector("[data-testid='stApp']", timeout=RUN_TIMEOUT_MS)
    # A run may start a moment after a click: give it the chance, then wait it out.
    page.wait_for_timeout(250)
    page.wait_for_function(
        "() => { const a = document.querySelector(\"[data-testid='stApp']\");"
        " return a && a.getAttribute('data-test-script-state') !== 'running'; }",
        timeout=RUN_TIMEOUT_MS,
    )
    page.wait_for_timeout(150)
    exceptions = page.locator("[data-testid='stException']")
    if exceptions.count():
        pytest.fail("the page shows an exception:\n" + exceptions.first.inner_text())


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture
def sign_in(streamlit_server: str, demo_site: DemoSite) -> Callable[..., None]:
    """`sign_in(page, username, password=None)`: sign in through the form, wait for the app."""

    def run(page, username: str, password: str | None = None) -> None:
        page.goto(streamlit_server + "/")
        wait_for_app(page)
        page.get_by_label("User name", exact=True).fill(username)
        page.get_by_label("Password", exact=True).fill(password or demo_site.passwords[username])
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("button", name="Sign out").wait_for()
        wait_for_app(page)

    return run


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in").wait_for()
    wait_for_app(page)
