"""Benchmark rows for the dashboard: the heat map page of a national ministry, server side.

The demo ministry (`riskmap.demo.build_demo`, as `riskmap demo --units N` builds it; N is
the benchmark's `--units`, 1,000 by default) is loaded into a temporary SQLite file the
first time a row runs (during the untimed warm-up). Each row renders the heat maps page
(`riskmap.ui.pages.heatmaps`) with Streamlit's AppTest, signed in as the demo manager, cycle
2026: the whole script run on the server (reads, filters, the figures, their serialisation
into the page), without the browser's drawing.

- warm: the reads come from `st.cache_data` (keyed on the cycle and the data version), as
  on every click after the first. Target: under 1 s.
- cold: the read caches are cleared before each run (the first visit after a change):
  reading and scoring the cycle, top missing controls, maturity. No target; shown for scale.

`python -m bench --only "heat map page"` runs these rows alone; `bench_ui()` returns them
as plain dicts (also `python -m bench.ui`).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import Context, Stage, measure_rows, register

TARGET_SECONDS = 1.0
CYCLE = "2026"
_SITES: dict[int, Any] = {}


def _page_script() -> None:
    import streamlit as st

    from riskmap.ui import state
    from riskmap.ui.pages import heatmaps

    if st.session_state.pop("bench-cold", False):
        st.cache_data.clear()  # inside the run: the runtime's cache storage, no log line
    state.sign_in_as({"username": "demo.manager", "role": "manager", "display_name": "Manager"})
    st.session_state["cycle"] = "2026"
    heatmaps.render()


class HeatmapPage:
    """The demo ministry in a temporary SQLite file and an AppTest of the heat map page."""

    def __init__(self, units: int) -> None:
        self.units = units
        self.folder: tempfile.TemporaryDirectory | None = None
        self.app: Any = None
        self.build_seconds = 0.0

    def _ready(self) -> None:
        if self.app is not None:
            return
        from streamlit.testing.v1 import AppTest

        from riskmap.demo import build_demo
        from riskmap.service import Service

        self.folder = tempfile.TemporaryDirectory(prefix="riskmap-bench-ui-")
        url = f"sqlite:///{Path(self.folder.name) / 'riskmap.sqlite'}"
        started = time.perf_counter()
        with Service.open(url) as svc:
            build_demo(svc, units=self.units)
        self.build_seconds = time.perf_counter() - started
        os.environ["RISKMAP_DATABASE_URL"] = url
        self.app = AppTest.from_function(_page_script, default_timeout=120)

    def render(self, *, cold: bool) -> None:
        self._ready()
        self.app.session_state["bench-cold"] = cold
        self.app.run()
        if self.app.exception:
            raise RuntimeError(f"the heat map page failed: {self.app.exception[0].value}")


def _site(units: int) -> HeatmapPage:
    if units not in _SITES:
        _SITES[units] = HeatmapPage(units)
    return _SITES[units]


@register
def ui_stages(ctx: Context) -> list[Stage]:
    """The heat map page of the demo ministry: warm (cached reads) and cold."""
    site = _site(ctx.units)
    return [
        Stage(
            f"ui: heat map page, warm ({ctx.units:,}-unit demo)",
            lambda: site.render(cold=False),
            TARGET_SECONDS,
            note="AppTest run of riskmap.ui.pages.heatmaps as the demo manager, reads cached "
            "(st.cache_data on cycle + data version); the demo is built once, untimed",
        ),
        Stage(
            f"ui: heat map page, cold ({ctx.units:,}-unit demo)",
            lambda: site.render(cold=True),
            None,
            repeats=3,
            note="the same run after st.cache_data.clear(): the first visit after a change",
        ),
    ]


def bench_ui(repeats: int = 7, units: int = 1000) -> list[dict[str, Any]]:
    """Run the UI rows alone: [{stage, median_ms, peak_mib, target, met}] (target in ms)."""
    ctx = Context(None, None, None, units, 0, 0.0)
    return measure_rows(ui_stages(ctx), repeats)


if __name__ == "__main__":
    for row in bench_ui():
        print(row)
