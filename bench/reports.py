"""Benchmark of the reports: the auditor's workbook and the questionnaire at national scale.

`bench_reports(repeats=3) -> list[dict]`, one row per stage with keys stage, median_ms,
peak_mib (tracemalloc peak of one extra run), size_kib, target, met:

- export: the auditor's workbook of a 1,000-unit synthetic cycle (< 10 s, < 1 GB);
- template: the questionnaire template of the same cycle (informative, < 10 s);
- parse: parsing that questionnaire, filled in (< 10 s);
- bare dump: openpyxl's write-only mode dumping the same cells with no formatting at all;
  its row also carries `ratio` = export time / dump time (the cost of riskmap's
  formatting, formulas and safety over a bare write; target < 2).

Run: .venv/bin/python bench/reports.py [repeats]
"""

from __future__ import annotations

import io
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT / "src", ROOT / "tests"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from openpyxl import Workbook, load_workbook  # noqa: E402

import synthetic  # noqa: E402
from riskmap.catalogue import load_catalogue  # noqa: E402
from riskmap.reports import (  # noqa: E402
    CycleSnapshot,
    export_workbook,
    parse_questionnaire,
    questionnaire_template,
)

UNITS = 1000
SECONDS = 10.0
MEMORY_MIB = 1024.0
RATIO = 2.0


def _median_ms(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def _peak_mib(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _snapshot(units: int) -> tuple[CycleSnapshot, Any]:
    catalogue = load_catalogue()
    m = synthetic.ministry(catalogue, units=units)
    snapshot = CycleSnapshot(
        organisation="Synthetic ministry",
        cycle_label="2025",
        status="draft",
        catalogue_version=catalogue.version,
        units=m.units,
        risk_ratings=m.risk_ratings.assign(justification="", confirmed=False, version=1),
        control_ratings=m.control_ratings.assign(
            evidence="", justification="", confirmed=False, version=1
        ),
        incidents=m.incidents,
    )
    return snapshot, catalogue


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


def bench_reports(repeats: int = 3, units: int = UNITS) -> list[dict]:
    snapshot, catalogue = _snapshot(units)
    rows: list[dict] = []

    export_ms, workbook = _median_ms(lambda: export_workbook(snapshot, catalogue), repeats)
    export_peak = _peak_mib(lambda: export_workbook(snapshot, catalogue))
    rows.append(
        {
            "stage": f"export workbook, {units} units",
            "median_ms": round(export_ms, 1),
            "peak_mib": round(export_peak, 1),
            "size_kib": round(len(workbook) / 1024, 1),
            "target": f"< {SECONDS:g} s, < {MEMORY_MIB:g} MiB",
            "met": export_ms < SECONDS * 1000 and export_peak < MEMORY_MIB,
        }
    )

    template_ms, template = _median_ms(lambda: questionnaire_template(snapshot, catalogue), repeats)
    rows.append(
        {
            "stage": f"questionnaire template, {units} units",
            "median_ms": round(template_ms, 1),
            "peak_mib": round(_peak_mib(lambda: questionnaire_template(snapshot, catalogue)), 1),
            "size_kib": round(len(template) / 1024, 1),
            "target": f"< {SECONDS:g} s",
            "met": template_ms < SECONDS * 1000,
        }
    )

    filled = _filled(template)
    parse_ms, answers = _median_ms(
        lambda: parse_questionnaire(filled, snapshot, catalogue, "bench.xlsx"), repeats
    )
    rows.append(
        {
            "stage": f"parse questionnaire, {units} units ({answers.changes} changes)",
            "median_ms": round(parse_ms, 1),
            "peak_mib": round(
                _peak_mib(lambda: parse_questionnaire(filled, snapshot, catalogue, "b.xlsx")), 1
            ),
            "size_kib": round(len(filled) / 1024, 1),
            "target": f"< {SECONDS:g} s",
            "met": parse_ms < SECONDS * 1000,
        }
    )

    cells = _cells(workbook)
    dump_ms, dump = _median_ms(lambda: _bare_dump(cells), repeats)
    ratio = export_ms / dump_ms
    rows.append(
        {
            "stage": f"bare openpyxl write-only dump of the export's cells (ratio {ratio:.2f})",
            "median_ms": round(dump_ms, 1),
            "peak_mib": None,
            "size_kib": round(len(dump) / 1024, 1),
            "target": f"export / dump < {RATIO:g}",
            "met": ratio < RATIO,
            "ratio": round(ratio, 3),
        }
    )
    return rows


def main(argv: list[str]) -> int:
    repeats = int(argv[1]) if len(argv) > 1 else 3
    rows = bench_reports(repeats)
    width = max(len(r["stage"]) for r in rows)
    print(f"{'stage':<{width}}  {'median_ms':>10}  {'peak_mib':>8}  {'size_kib':>9}  target")
    for r in rows:
        peak = "" if r["peak_mib"] is None else f"{r['peak_mib']:.1f}"
        print(
            f"{r['stage']:<{width}}  {r['median_ms']:>10}  {peak:>8}  {r['size_kib']:>9}  "
            f"{r['target']}  {'met' if r['met'] else 'NOT MET'}"
        )
    return 0 if all(r["met"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
