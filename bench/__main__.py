"""`python -m bench`: time the registered stages on a synthetic national ministry."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time

import bench


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
    args = parser.parse_args(argv)

    _discover()
    started = time.perf_counter()
    ctx = bench.build_context(args.units, args.seed, args.budget_days)
    m = ctx.ministry
    print(f"riskmap benchmark: {bench.environment()}")
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


if __name__ == "__main__":
    sys.exit(main())
