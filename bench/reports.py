"""Benchmark rows for Excel: the auditor's workbook and the questionnaire, at national scale.

The demo ministry (`riskmap.demo.build_demo`, `--units` units, 1,000 by default) is loaded
into a temporary SQLite file the first time a row runs (during the untimed warm-up), with
its questionnaire template filled in as an officer would (one risk and one control row in
ten changed, each with a justification). `python -m bench` picks these rows up through
`@register`:

- export, service: `riskmap.service.export_workbook` on cycle 2026: the snapshot read from
  the database, the workbook written, the export audited (< 10 s and < 1 GiB; the file's
  size is in the note);
- export, writer only: `riskmap.reports.export_workbook` on the same snapshot in memory;
- template: `riskmap.service.questionnaire_template` for every unit (< 10 s);
- import: `riskmap.service.import_questionnaire` of the filled-in questionnaire: every row
  parsed and checked, every change saved and audited in one transaction (< 10 s); each run
  works on a fresh copy of the database (the copy is timed too; its time is in the note);
- bare dump: openpyxl's write-only mode dumping the export's cells with no formatting at
  all. Not a floor: without lxml installed openpyxl's write-only mode falls back to its
  slow pure-Python XML writer (3x slower than riskmap's own streamed writer), so
  "export <= 2x the bare dump" held by construction. The honest floor is the minimal
  streamed XML/zip writer of `bench/floors.py`, in the command table of `python -m bench`.
  These rows run only with `python -m bench --in-process`.

`bench_reports()` runs these rows alone and returns plain dicts (also
`python -m bench.reports [repeats]`).
"""

from __future__ import annotations

import io
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/reports.py` as well as `python -m bench`
    sys.path.insert(0, str(ROOT))

from openpyxl import Workbook, load_workbook  # noqa: E402

from bench import Context, Stage, measure_rows, register  # noqa: E402

CYCLE = "2026"
OFFICER = "demo.officer"
SECONDS = 10.0
MEMORY_MIB = 1024.0
_SITES: dict[int, Any] = {}


def _cells(data: bytes) -> dict[str, list[tuple]]:
    """Every sheet's cell values (formulas as their text), as a bare dump would write them."""
    wb = load_workbook(io.BytesIO(data), read_only=True)
    try:
        return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb}
    finally:
        wb.close()


def _bare_dump(cells: dict[str, list[tuple]]) -> bytes:
    wb = Workbook(write_only=True)
    for title, rows in cells.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _filled(template: bytes) -> bytes:
    """The template with one answer in ten changed (with a justification), as an officer would."""
    wb = load_workbook(io.BytesIO(template))
    ws = wb["Risks"]
    for r in range(2, ws.max_row + 1, 10):
        ws[f"G{r}"].value = 6 - int(ws[f"G{r}"].value)
        ws[f"K{r}"].value = "Reviewed with the unit head"
    ws = wb["Controls"]
    for r in range(2, ws.max_row + 1, 10):
        ws[f"G{r}"].value = 4 - int(ws[f"G{r}"].value)
        ws[f"J{r}"].value = "Checked against the records"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _mib(n: int) -> str:
    return f"{n / 2**20:,.1f} MiB"


class ReportsSite:
    """The demo ministry in a temporary SQLite file, its files, and the timed operations.

    Timings of the runs outside tracemalloc (the warm-up excepted) are kept, so the bare
    dump's row can state the ratio to the writer-only export.
    """

    def __init__(self, units: int, catalogue: Any = None) -> None:
        self.units = units
        self.catalogue = catalogue
        self.folder: tempfile.TemporaryDirectory | None = None
        self.svc: Any = None
        self.times: dict[str, list[float]] = {}

    def _ready(self) -> None:
        if self.svc is not None:
            return
        from riskmap import security, service
        from riskmap.catalogue import load_catalogue
        from riskmap.demo import build_demo
        from riskmap.service import CLI_ADMIN, Service

        self.catalogue = self.catalogue or load_catalogue()
        self.folder = tempfile.TemporaryDirectory(prefix="riskmap-bench-reports-")
        self.path = Path(self.folder.name) / "riskmap.sqlite"
        self.work = Path(self.folder.name) / "import.sqlite"
        cost, security.N = security.N, 2**4  # the demo users' hashes are not timed here
        try:
            with Service.open(f"sqlite:///{self.path}", catalogue=self.catalogue) as svc:
                build_demo(svc, units=self.units)
        finally:
            security.N = cost
        self.svc = Service.open(f"sqlite:///{self.path}", catalogue=self.catalogue)
        self.snapshot = service.cycle_snapshot(self.svc, CLI_ADMIN, CYCLE)
        self.template = service.questionnaire_template(self.svc, CLI_ADMIN, CYCLE)
        self.filled = _filled(self.template)
        self.workbook = service.export_workbook(self.svc, CLI_ADMIN, CYCLE)
        self.cells = _cells(self.workbook)
        self.db_bytes = self.path.stat().st_size

    def _timed(self, name: str, fn: Any) -> Any:
        start = time.perf_counter()
        result = fn()
        if not tracemalloc.is_tracing():
            self.times.setdefault(name, []).append(time.perf_counter() - start)
        return result

    def median(self, name: str) -> float | None:
        runs = self.times.get(name, [])[1:]  # the first is the warm-up
        return statistics.median(runs) if runs else None

    # -- the rows ---------------------------------------------------------------------------

    def export(self, stage: Stage) -> bytes:
        from riskmap import service
        from riskmap.service import CLI_ADMIN

        self._ready()
        data = self._timed("export", lambda: service.export_workbook(self.svc, CLI_ADMIN, CYCLE))
        stage.note = (
            f"service.export_workbook (snapshot read + workbook written + audit event): "
            f"{_mib(len(data))} .xlsx; targets < {SECONDS:g} s and < {MEMORY_MIB:,.0f} MiB peak"
        )
        return data

    def writer(self, stage: Stage) -> bytes:
        from riskmap.reports import export_workbook

        self._ready()
        data = self._timed("writer", lambda: export_workbook(self.snapshot, self.catalogue))
        units, pairs = len(self.snapshot.units), len(self.snapshot.risk_ratings)
        stage.note = (
            f"reports.export_workbook on the cycle's snapshot in memory ({units:,} units, "
            f"{pairs:,} risk ratings, {len(self.snapshot.control_ratings):,} control ratings): "
            f"{_mib(len(data))}"
        )
        return data

    def template_(self, stage: Stage) -> bytes:
        from riskmap import service
        from riskmap.service import CLI_ADMIN

        self._ready()
        data = service.questionnaire_template(self.svc, CLI_ADMIN, CYCLE)
        stage.note = f"service.questionnaire_template, every unit: {_mib(len(data))} .xlsx"
        return data

    def import_(self, stage: Stage) -> Any:
        from riskmap import service
        from riskmap.service import Service

        self._ready()
        start = time.perf_counter()
        shutil.copyfile(self.path, self.work)
        copied = time.perf_counter() - start
        with Service.open(f"sqlite:///{self.work}", upgrade=False, catalogue=self.catalogue) as svc:
            result = service.import_questionnaire(svc, OFFICER, CYCLE, self.filled, "bench.xlsx")
        stage.note = (
            f"service.import_questionnaire of a {_mib(len(self.filled))} file: "
            f"{result.rows_read:,} rows parsed and checked, {result.risk_ratings:,} risk and "
            f"{result.control_ratings:,} control ratings saved and audited in one transaction; "
            f"includes copying the {_mib(self.db_bytes)} database first ({copied * 1000:,.0f} ms)"
        )
        return result

    def dump(self, stage: Stage) -> bytes:
        self._ready()
        data = self._timed("dump", lambda: _bare_dump(self.cells))
        try:
            import lxml  # noqa: F401

            how = "with lxml"
        except ImportError:
            how = "WITHOUT lxml (pure-Python writer): not a floor, see the command table"
        writer, bare = self.median("writer"), self.median("dump")
        ratio = f"writer-only export / this dump = {writer / bare:.2f}" if writer and bare else ""
        stage.note = f"openpyxl write-only {how}, same cells, no styles: {_mib(len(data))}; {ratio}"
        return data


def _site(units: int, catalogue: Any = None) -> ReportsSite:
    if units not in _SITES:
        _SITES[units] = ReportsSite(units, catalogue)
    return _SITES[units]


@register
def report_stages(ctx: Context) -> list[Stage]:
    """The workbook (service and writer only), the template, the import, the bare dump."""
    site = _site(ctx.units, ctx.catalogue)
    n = f"{ctx.units:,}-unit demo"

    def row(name: str, fn: Any, target: float | None) -> Stage:
        stage = Stage(name, lambda: None, target, repeats=3)
        stage.run = lambda: fn(stage)  # the run writes its file size etc. into the note
        return stage

    return [
        row(f"reports: export workbook, service ({n})", site.export, SECONDS),
        row(f"reports: export workbook, writer only ({n})", site.writer, SECONDS),
        row(f"reports: questionnaire template ({n})", site.template_, SECONDS),
        row(f"reports: import filled questionnaire ({n})", site.import_, SECONDS),
        row(f"reports: openpyxl write-only dump of the export ({n})", site.dump, None),
    ]


def bench_reports(repeats: int = 3, units: int = 1000) -> list[dict[str, Any]]:
    """Run the report rows alone: [{stage, median_ms, peak_mib, target, met, note}]."""
    ctx = Context(None, None, None, units, 0, 0.0)
    return measure_rows(report_stages(ctx), repeats, with_note=True)


if __name__ == "__main__":
    for row in bench_reports(int(sys.argv[1]) if len(sys.argv) > 1 else 3):
        print(row)
