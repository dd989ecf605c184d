"""Benchmark row for the chart core: the national residual heat map, built and serialised.

The stage builds `riskmap.charts.heatmap` over the register of the synthetic ministry
(1,000 units x 29 risk scenarios by default) and serialises it with `fig.to_json()`, which
is what a server-side render (Streamlit's plotly_chart) costs before the browser draws it.
Target: under 1 s.

`python -m bench` picks the row up through `@register`; `bench_charts()` runs it alone and
returns plain dicts (also `python -m bench.charts`).
"""

from __future__ import annotations

from typing import Any

from bench import Context, Stage, build_context, measure_rows, register

TARGET_SECONDS = 1.0


def _heatmap_json(ctx: Context) -> str:
    from riskmap.charts import heatmap

    return heatmap(ctx.register, ctx.catalogue, value="residual").to_json()


@register
def chart_stages(ctx: Context) -> list[Stage]:
    """The residual heat map of the whole ministry: figure + to_json."""
    return [
        Stage(
            f"charts: residual heat map ({ctx.units:,} units) + to_json",
            lambda: _heatmap_json(ctx),
            TARGET_SECONDS,
            note="riskmap.charts.heatmap(register, value='residual') + fig.to_json()",
        )
    ]


def bench_charts(repeats: int = 7, units: int = 1000, seed: int = 7) -> list[dict[str, Any]]:
    """Run the chart row alone: [{stage, median_ms, peak_mib, target, met}] (target in ms)."""
    ctx = build_context(units=units, seed=seed)
    return measure_rows(chart_stages(ctx), repeats)


if __name__ == "__main__":
    for row in bench_charts():
        print(row)
