"""Demo databases for tests: built once per module with cheap password hashing.

The demo's accounts get scrypt hashes; at the production cost each takes a noticeable
fraction of a second, which tests that build a ministry do not need.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from riskmap import security
from riskmap.catalogue import Catalogue
from riskmap.demo import build_demo
from riskmap.service import Service


@contextmanager
def cheap_hashing() -> Iterator[None]:
    """Password hashes at a test's cost while the block runs."""
    cost, security.N = security.N, 2**4
    try:
        yield
    finally:
        security.N = cost


def demo_file(path: Path, catalogue: Catalogue, *, units: int, seed: int = 5) -> Path:
    """A demo ministry of `units` units in the SQLite file `path` (2025 locked, 2026 draft)."""
    with cheap_hashing(), Service.open(f"sqlite:///{path}", catalogue=catalogue) as svc:
        build_demo(svc, units=units, seed=seed)
    return path


@contextmanager
def private_copy(template: Path, folder: Path, catalogue: Catalogue) -> Iterator[Service]:
    """A service on a copy of the demo file `template` in `folder`: a test may write to it
    without touching the module's template or another test's copy."""
    import shutil

    path = folder / "riskmap.sqlite"
    shutil.copyfile(template, path)
    with Service.open(f"sqlite:///{path}", catalogue=catalogue) as service:
        yield service
