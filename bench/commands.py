"""Whole commands as a user waits for them: `riskmap ...` subprocesses on the demo database.

Each row runs one command as a fresh process (`sys.executable -c "from riskmap.cli import
main; main()" ...`, so the interpreter's and the imports' start-up is counted), on the demo
ministry (`riskmap demo --units N`, built once per run into a temporary folder), and
reports the median wall time and the peak *resident* memory of that process (`ru_maxrss`
from `os.wait4`, the child's own, not the benchmark's). Beside each row, its floor: a
script of `bench/floors.py` doing the least the same result needs, run and measured the
same way in the same run, and the ratio command / floor.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOORS = ROOT / "bench" / "floors.py"
CYCLE = "2026"
RISKMAP = [sys.executable, "-c", "import sys; from riskmap.cli import main; sys.exit(main())"]
PART_FROM = 2000  # units: a larger ministry's questionnaire goes out per region


def _largest_region(db: Path) -> str:
    """The region with the most units (the import row's questionnaire is that region's)."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        (region,) = conn.execute(
            "SELECT region FROM units WHERE region IS NOT NULL AND region <> '' "
            "GROUP BY region ORDER BY count(*) DESC, region LIMIT 1"
        ).fetchone()
    return region


@dataclass
class Run:
    seconds: float
    rss_mb: float


_LAUNCHER: subprocess.Popen | None = None


def start_launcher() -> None:
    """Start bench/launcher.py now, while this process is small (see its docstring)."""
    global _LAUNCHER
    if _LAUNCHER is None:
        # the children run in the demo's folder: a relative PYTHONPATH (src) must not
        # silently fall back to another installed riskmap
        paths = os.environ.get("PYTHONPATH", "")
        if paths:
            os.environ["PYTHONPATH"] = os.pathsep.join(
                os.path.abspath(p) for p in paths.split(os.pathsep) if p
            )
        _LAUNCHER = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "launcher.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )


def riskmap_location() -> str:
    """Where the children import riskmap from (the tree under test)."""
    out = subprocess.run(
        [sys.executable, "-c", "import riskmap; print(riskmap.__file__)"],
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
        check=True,
    )
    return out.stdout.strip()


def launcher_rss_mb() -> float:
    """The launcher's own peak resident set: a floor under every child's figure."""
    with open(f"/proc/{_LAUNCHER.pid}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run(argv: list[str], cwd: Path, setup=None) -> Run:
    """One process: wall time and peak resident set (MB) of that child alone."""
    start_launcher()
    if setup:
        setup()
    _LAUNCHER.stdin.write(json.dumps({"argv": argv, "cwd": str(cwd)}) + "\n")
    _LAUNCHER.stdin.flush()
    answer = json.loads(_LAUNCHER.stdout.readline())
    if answer["rc"] != 0:
        shown = argv[3:] if argv[:3] == RISKMAP else argv
        raise RuntimeError(f"{' '.join(shown)} failed: {answer['err']}")
    return Run(answer["seconds"], answer["rss_kb"] / 1024)  # Linux: kilobytes


def measure(argv: list[str], cwd: Path, repeats: int, setup=None) -> tuple[float, float]:
    runs = [run(argv, cwd, setup) for _ in range(repeats)]
    return statistics.median(r.seconds for r in runs), max(r.rss_mb for r in runs)


class Site:
    """The demo database of `units` units, its questionnaire filled in, and the rows."""

    def __init__(self, units: int) -> None:
        self.units = units
        self.folder = Path(tempfile.mkdtemp(prefix="riskmap-bench-cmd-"))
        self.db = self.folder / "riskmap.sqlite"
        self.url = f"sqlite:///{self.db}"
        self.work = self.folder / "work"
        self.work.mkdir()
        try:
            start = time.perf_counter()
            run([*RISKMAP, "demo", "--units", str(units), "--db", self.url], self.folder)
            self.build_seconds = time.perf_counter() - start
            # past the upload cap a ministry sends one file per region: so does the bench
            self.region = _largest_region(self.db) if units > PART_FROM else None
            part = ["--region", self.region] if self.region else []
            run(
                [*RISKMAP, "template", "--cycle", CYCLE, *part, "-o", "q.xlsx", "--db", self.url],
                self.folder,
            )
            from bench.reports import _filled

            self.filled = self.folder / "filled.xlsx"
            self.filled.write_bytes(_filled((self.folder / "q.xlsx").read_bytes()))
        except BaseException:
            self.close()
            raise

    def fresh_copy(self) -> None:
        """The import writes: each run gets its own copy of the database (not timed)."""
        for name in os.listdir(self.folder):
            if name.startswith("riskmap.sqlite") or name.endswith(".key"):
                shutil.copyfile(self.folder / name, self.work / name)

    def rows(self, repeats: int, only: list[str] | None = None) -> list[dict]:
        url, f = self.url, self.folder
        rm = RISKMAP
        py = [sys.executable, str(FLOORS)]
        db = str(self.db)
        table = []

        def row(name, argv, floor, floor_note, setup=None, cwd=f):
            if only and not any(o.lower() in name.lower() for o in only):
                return
            seconds, rss = measure(argv, cwd, repeats, setup)
            fs, frss = measure(floor, f, repeats) if floor else (None, None)
            table.append(
                dict(name=name, s=seconds, rss=rss, floor_s=fs, floor_rss=frss, floor=floor_note)
            )

        work_url = f"sqlite:///{self.work / 'riskmap.sqlite'}"
        row(
            "riskmap --version",
            [*rm, "--version"],
            [sys.executable, "-c", "import click"],
            'python -c "import click"',
        )
        row(
            "riskmap score --cycle",
            [*rm, "score", "--cycle", CYCLE, "--format", "json", "--db", url],
            [*py, "score", db, CYCLE],
            "sqlite3 SELECTs + numpy rule + json",
        )
        row(
            "riskmap plan --cycle",
            [*rm, "plan", "--cycle", CYCLE, "--db", url],
            [*py, "score", db, CYCLE],
            "the score floor (reads + rule; the planner's own work on top)",
        )
        row(
            "riskmap audit verify",
            [*rm, "audit", "verify", "--db", url],
            [*py, "verify", db],
            "SELECT audit_events + one HMAC-SHA256 each",
        )
        row(
            "riskmap backup",
            [*rm, "backup", "-o", "b.json", "--db", url],
            [*py, "backup", db, str(f / "floor-b.json")],
            "SELECT * every table + one json.dumps per row",
        )
        row(
            "riskmap export",
            [*rm, "export", "--cycle", CYCLE, "-o", "e.xlsx", "--db", url],
            [*py, "xlsx", db, CYCLE, str(f / "floor-e.xlsx")],
            "SELECTs + minimal streamed XML/zip writer (lxml not installed)",
        )
        row(
            "riskmap template",
            [*rm, "template", "--cycle", CYCLE, "-o", "t.xlsx", "--db", url],
            [*py, "xlsx", db, CYCLE, str(f / "floor-t.xlsx")],
            "SELECTs + minimal streamed XML/zip writer",
        )
        row(
            f"riskmap import (filled template{', region ' + self.region if self.region else ''})",
            [
                *rm,
                "import",
                str(self.filled),
                "--cycle",
                CYCLE,
                "--user",
                "demo.officer",
                "--db",
                work_url,
            ],
            [*py, "parse", str(self.filled)],
            "zipfile + ElementTree.iterparse of the file (parse only)",
            setup=self.fresh_copy,
        )
        return table

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _t(s: float | None) -> str:
    if s is None:
        return "-"
    return f"{s * 1000:,.0f} ms" if s < 1 else f"{s:,.2f} s"


def format_table(rows: list[dict]) -> str:
    header = ("command", "median", "peak RSS", "floor", "floor RSS", "ratio", "floor is")
    out = [header]
    for r in rows:
        ratio = f"{r['s'] / r['floor_s']:.1f}x" if r["floor_s"] else "-"
        out.append(
            (
                r["name"],
                _t(r["s"]),
                f"{r['rss']:,.0f} MB",
                _t(r["floor_s"]),
                f"{r['floor_rss']:,.0f} MB" if r["floor_rss"] else "-",
                ratio,
                r["floor"],
            )
        )
    widths = [max(len(x[i]) for x in out) for i in range(len(header))]
    lines = []
    for i, x in enumerate(out):
        lines.append(
            "  ".join(
                [
                    x[0].ljust(widths[0]),
                    *(c.rjust(w) for c, w in zip(x[1:-1], widths[1:-1], strict=True)),
                ]
                + [x[-1]]
            )
        )
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def bench_commands(units: int, repeats: int) -> tuple[Site, str]:
    site = Site(units)
    try:
        table = format_table(site.rows(repeats))
    finally:
        site.close()
    return site, table


if __name__ == "__main__":
    s, t = bench_commands(int(sys.argv[1]) if len(sys.argv) > 1 else 1000, 1)
    print(f"demo build {s.build_seconds:.1f} s")
    print(t)
