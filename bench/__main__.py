"""`python -m bench`: what users wait for, on the demo ministry, with floors beside it.

1. whole commands as subprocesses (start-up included), median wall time and peak resident
   memory of each process, and the floor (bench/floors.py) measured the same way;
2. pages (Overview, Heat maps, Assess), cold, after a save in the cycle and warm, server
   side with AppTest;
3. the in-process core rows (scoring, aggregation, planning, oracle, heat map figure) on
   frames in memory; `--in-process` adds the old in-process export/template/import and
   heat map page rows.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time

import bench
from bench import commands


def _discover() -> None:
    """Import every bench/<name>.py so that its @register factories add their rows."""
    for info in pkgutil.iter_modules(bench.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"bench.{info.name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--units", type=int, default=1000, help="units in the ministry")
    parser.add_argument("--seed", type=int, default=7, help="seed of the synthetic ministry")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per stage")
    parser.add_argument(
        "--budget-days", type=float, default=2000.0, help="person-days for the planning stage"
    )
    parser.add_argument(
        "--only", action="append", help="run only stages whose name contains this (repeatable)"
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 1 if a target is missed"
    )
    parser.add_argument(
        "--quick", action="store_true", help="one run per command and page; no in-process rows"
    )
    parser.add_argument(
        "--in-process", action="store_true", help="also the old in-process report and page rows"
    )
    parser.add_argument("--no-commands", action="store_true", help="skip commands and pages")
    args = parser.parse_args(argv)

    commands.start_launcher()  # first, while this process is small (bench/launcher.py)
    started = time.perf_counter()
    print(f"riskmap benchmark: {bench.environment()}")
    if not args.no_commands:
        _whole(args)
    if args.quick:
        print(f"\nbenchmark took {time.perf_counter() - started:.1f} s")
        return 0
    _discover()
    if not args.in_process:
        bench.FACTORIES[:] = [
            f for f in bench.FACTORIES if f.__module__ not in ("bench.reports", "bench.ui")
        ]
    ctx = bench.build_context(args.units, args.seed, args.budget_days)
    m = ctx.ministry
    print()
    print("in-process rows on frames in memory (catalogue loaded, no start-up, no database):")
    print(
        f"synthetic ministry (seed {ctx.seed}): {len(m.units):,} units, "
        f"{len(m.risk_ratings):,} risk ratings, {len(m.control_ratings):,} control ratings, "
        f"{len(m.incidents):,} incidents; register {len(ctx.register):,} unit x risk pairs; "
        f"catalogue {len(ctx.catalogue.risks)} risks, {len(ctx.catalogue.controls)} controls"
    )
    print(
        f"each stage: 1 warm-up, median of {args.repeats} runs, then 1 run under tracemalloc "
        "(peak of Python/NumPy allocations; Arrow string buffers are not traced)"
    )
    print()
    results = bench.run_all(ctx, args.repeats, args.only)
    print(bench.format_table(results))

    by_name = {r.name: r for r in results}
    if "scoring" in by_name and "oracle scoring" in by_name:
        fast, plain = by_name["scoring"].median, by_name["oracle scoring"].median
        ratio = plain / fast
        print()
        print(
            f"speed ratio: vectorised scoring {fast * 1000:,.1f} ms, plain Python oracle "
            f"{plain * 1000:,.1f} ms: the vectorised core is "
            + (f"{ratio:.1f}x faster" if ratio >= 1 else f"{1 / ratio:.1f}x SLOWER")
            + " than the oracle"
        )
    missed = [r.name for r in results if r.met is False]
    print()
    print(
        f"targets: {'all met' if not missed else 'missed by ' + ', '.join(missed)}; "
        f"benchmark took {time.perf_counter() - started:.1f} s"
    )
    return 1 if (missed and args.strict) else 0


def _whole(args: argparse.Namespace) -> None:
    from bench import pages

    repeats = 1 if args.quick else min(args.repeats, 3)
    site = commands.Site(args.units)
    try:
        print(
            f"demo database: {args.units:,} units (riskmap demo, built in "
            f"{site.build_seconds:.1f} s); each command and floor run {repeats}x as a fresh "
            f"process, median wall time, peak resident set (ru_maxrss of that process; "
            f"the launcher that starts them holds {commands.launcher_rss_mb():.0f} MB)"
        )
        print(f"commands run riskmap from {commands.riskmap_location()}")
        print()
        print(commands.format_table(site.rows(repeats, args.only)))
        print()
        print(
            f"pages, server side (AppTest), median of {repeats} after one warm-up round; "
            "floor: plain SELECTs of the cycle's rows (sqlite3)"
        )
        print(pages.format_table(pages.page_rows(site.url, str(site.db), repeats, args.only)))
    finally:
        site.close()


if __name__ == "__main__":
    sys.exit(main())
