"""The performance benchmark: stages timed on a synthetic national ministry.

Not a test: nothing here fails a build. `python -m bench` (or `make bench`) builds one
synthetic ministry (tests/synthetic.py), runs every registered stage a few times, and prints
a plain-text table with the median time, the peak memory and the target of each stage.

Adding rows: a module `bench/<name>.py` that defines a function taking the `Context` and
returning a list of `Stage`s, decorated with `@register`, is imported by `python -m bench`
and its stages are appended to the table (e.g. the database and the export, later):

    from bench import Context, Stage, register

    @register
    def export_stages(ctx: Context) -> list[Stage]:
        return [Stage("export workbook", lambda: write_workbook(ctx.register, ...), 2.0)]
"""

from __future__ import annotations

import gc
import importlib.util
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _load_test_module(name: str):
    """Import tests/<name>.py under a private name (the tests folder is not a package)."""
    qualified = f"_bench_tests_{name}"
    if qualified in sys.modules:
        return sys.modules[qualified]
    spec = importlib.util.spec_from_file_location(qualified, ROOT / "tests" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class Stage:
    """One row of the table: a callable timed as a whole, with an optional target (seconds)."""

    name: str
    run: Callable[[], Any]
    target: float | None = None
    repeats: int | None = None  # None: the run's default
    note: str = ""


@dataclass
class Result:
    name: str
    times: list[float]
    peak_bytes: int
    target: float | None
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.median < self.target


@dataclass
class Context:
    """What every stage may use: the catalogue, the ministry and its scored register."""

    catalogue: Any
    ministry: Any
    register: Any
    units: int
    seed: int
    budget_days: float
    extra: dict[str, Any] = field(default_factory=dict)


StageFactory = Callable[[Context], list[Stage]]
FACTORIES: list[StageFactory] = []


def register(factory: StageFactory) -> StageFactory:
    """Add a stage factory; its stages are appended to the table in registration order."""
    FACTORIES.append(factory)
    return factory


def build_context(units: int = 1000, seed: int = 7, budget_days: float = 2000.0) -> Context:
    from riskmap.catalogue import load_catalogue
    from riskmap.scoring import score

    synthetic = _load_test_module("synthetic")
    catalogue = load_catalogue()
    m = synthetic.ministry(catalogue, units=units, seed=seed)
    register_ = score(m.risk_ratings, m.control_ratings, m.units, catalogue)
    return Context(catalogue, m, register_, units, seed, budget_days)


def measure(stage: Stage, repeats: int) -> Result:
    """Median of `repeats` timed runs after one warm-up, then one run under tracemalloc.

    Memory is measured apart from the timings because tracing slows every allocation.
    """
    n = stage.repeats or repeats
    stage.run()  # warm-up: imports, caches
    times = []
    for _ in range(n):
        gc.collect()
        start = time.perf_counter()
        stage.run()
        times.append(time.perf_counter() - start)
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        stage.run()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return Result(stage.name, times, peak, stage.target, stage.note)


def measure_rows(
    stages: list[Stage], repeats: int, *, with_note: bool = False
) -> list[dict[str, Any]]:
    """Measure `stages` in order: [{stage, median_ms, peak_mib, target, met}] (target in ms).

    With `with_note`, each row also carries the result's `note`. For the modules' own
    `bench_<name>()` runners, which return plain dicts rather than the table.
    """
    rows = []
    for stage in stages:
        result = measure(stage, repeats)
        row: dict[str, Any] = {
            "stage": result.name,
            "median_ms": round(result.median * 1000, 1),
            "peak_mib": round(result.peak_bytes / 2**20, 1),
            "target": None if result.target is None else result.target * 1000,
            "met": result.met,
        }
        if with_note:
            row["note"] = result.note
        rows.append(row)
    return rows


def run_all(ctx: Context, repeats: int = 7, only: list[str] | None = None) -> list[Result]:
    results = []
    for factory in FACTORIES:
        for stage in factory(ctx):
            if only and not any(o.lower() in stage.name.lower() for o in only):
                continue
            results.append(measure(stage, repeats))
    return results


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 1 else f"{seconds:,.2f} s"


def format_table(results: list[Result]) -> str:
    header = ("stage", "median", "min", "runs", "peak mem", "target", "met")
    rows = [header]
    for r in results:
        target = f"< {_ms(r.target)}" if r.target is not None else "-"
        met = {True: "yes", False: "NO", None: "-"}[r.met]
        rows.append(
            (
                r.name,
                _ms(r.median),
                _ms(r.best),
                str(len(r.times)),
                f"{r.peak_bytes / 2**20:,.1f} MiB",
                target,
                met,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for i, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    notes = [f"  {r.name}: {r.note}" for r in results if r.note]
    return "\n".join(lines + ([""] + notes if notes else []))


def environment() -> str:
    import numpy
    import pandas

    load = ""
    if hasattr(os, "getloadavg"):  # a busy machine slows every row: say so next to the table
        load = f", load average {os.getloadavg()[0]:.2f}"
    return (
        f"Python {platform.python_version()}, pandas {pandas.__version__}, "
        f"numpy {numpy.__version__}, {platform.machine()}, {os.cpu_count()} CPUs{load}"
    )


# --------------------------------------------------------------------------- core stages


@register
def core_stages(ctx: Context) -> list[Stage]:
    """Scoring, the roll-ups with calibration, planning, and the plain-Python oracle."""
    from riskmap import scoring
    from riskmap.planning import plan

    oracle = _load_test_module("oracle")
    cat, m, reg = ctx.catalogue, ctx.ministry, ctx.register

    def score() -> Any:
        return scoring.score(m.risk_ratings, m.control_ratings, m.units, cat)

    def aggregate() -> Any:
        return (
            scoring.by_unit(reg, cat),
            scoring.by_unit_type(reg, cat),
            scoring.by_stage(reg, cat),
            scoring.by_risk(reg, cat),
            scoring.ministry(reg, cat),
            scoring.maturity_by_principle(m.control_ratings, m.units, cat),
            scoring.maturity_by_principle(m.control_ratings, m.units, cat, by="region"),
            scoring.calibration_flags(reg, m.incidents, cat),
        )

    def make_plan() -> Any:
        return plan(
            reg, m.control_ratings, m.units, m.risk_ratings, cat, budget_days=ctx.budget_days
        )

    def plain() -> Any:
        return oracle.score_rows(m.risk_ratings, m.control_ratings, m.units, cat)

    return [
        Stage("scoring", score, 0.100, note="riskmap.scoring.score over every unit x risk"),
        Stage(
            "aggregation",
            aggregate,
            None,
            note="by_unit, by_unit_type, by_stage, by_risk, ministry, "
            "maturity_by_principle (x2), calibration_flags",
        ),
        Stage(
            "planning",
            make_plan,
            1.0,
            note=f"gaps + greedy ranking + budget cut ({ctx.budget_days:,.0f} person-days) "
            "+ re-score",
        ),
        Stage(
            "oracle scoring",
            plain,
            None,
            note="tests/oracle.py: plain Python loops on the same frames (row conversion included)",
        ),
    ]
