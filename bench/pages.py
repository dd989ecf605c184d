"""Dashboard pages as a user waits for them, server side: Overview, Heat maps, Assess.

Each page of the demo database (the one `bench/commands.py` builds) is rendered with
Streamlit's AppTest signed in as the demo manager (Assess: the demo officer), cycle 2026:
the whole script run on the server, without the browser's drawing.

- cold: `st.cache_data` and the service's scored-cycle memo cleared inside the run (the
  first visit in a new process: every read and score happens in the run);
- after a save: a save in the cycle in view (a comment on cycle 2026, an audited write of
  that cycle as a rating save is) just before the page, which moves the data version: the
  cached reads and the cycle's own scores are redone, the previous cycle's stay memoised
  (the first visit after an officer's save);
- warm: the reads come from `st.cache_data` (every click after the first).

Floor beside each page: the plain SELECTs of the cycle's rows with sqlite3 (what any page
of the cycle must at least read once), measured in this process in the same run.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import time
from typing import Any

PAGES = {
    "Overview": ("riskmap.ui.pages.overview", "manager"),
    "Heat maps": ("riskmap.ui.pages.heatmaps", "manager"),
    "Assess": ("riskmap.ui.pages.assess", "officer"),
}
KINDS = ("cold", "after a save", "warm")


def _page_script() -> None:
    import importlib

    import streamlit as st

    from riskmap import service as svc
    from riskmap.ui import state

    kind = st.session_state.pop("bench-kind", "warm")
    if kind == "cold":
        st.cache_data.clear()
        try:  # the service's memo too (in riskmap.service.overview in older trees)
            from riskmap.service.scored import forget_scored
        except ImportError:
            from riskmap.service.overview import forget_scored
        forget_scored()
    module, role = st.session_state["bench-page"]
    state.sign_in_as({"username": f"demo.{role}", "role": role, "display_name": role})
    st.session_state["cycle"] = "2026"
    if kind == "after a save":
        state.write(svc.comment, "2026", "benchmark: a save in the cycle in view")
    importlib.import_module(module).render()


def _floor(db: str) -> float:
    start = time.perf_counter()
    con = sqlite3.connect(db)
    cycle = con.execute("SELECT id FROM cycles WHERE label = '2026'").fetchone()[0]
    con.execute("SELECT * FROM units").fetchall()
    for t in ("risk_ratings", "control_ratings", "actions"):
        con.execute(f"SELECT * FROM {t} WHERE cycle_id = ?", (cycle,)).fetchall()
    con.close()
    return time.perf_counter() - start


def page_rows(url: str, db: str, repeats: int, only: list[str] | None = None) -> list[dict]:
    import logging

    from streamlit.testing.v1 import AppTest

    for name in ("streamlit", "streamlit.runtime.scriptrunner_utils.script_run_context"):
        logging.getLogger(name).setLevel(logging.ERROR)
    os.environ["RISKMAP_DATABASE_URL"] = url
    floor = statistics.median(_floor(db) for _ in range(max(repeats, 3)))
    rows = []
    for title, spec in PAGES.items():
        if only and not any(o.lower() in f"{title} page".lower() for o in only):
            continue
        app = AppTest.from_function(_page_script, default_timeout=300)
        app.session_state["bench-page"] = spec
        first = None
        times: dict[str, list[float]] = {kind: [] for kind in KINDS}
        for i in range(repeats + 1):
            for kind in KINDS:
                app.session_state["bench-kind"] = kind
                start = time.perf_counter()
                app.run()
                took = time.perf_counter() - start
                if app.exception:
                    raise RuntimeError(f"{title} failed: {app.exception[0].value}")
                if first is None:
                    first = took
                elif i:  # the first round warms the imports and the Service
                    times[kind].append(took)
        for kind in KINDS:
            rows.append(
                dict(
                    name=f"{title} page, {kind}",
                    s=statistics.median(times[kind]),
                    floor_s=floor,
                    first=first if kind == "cold" else None,
                )
            )
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    def t(s: float) -> str:
        return f"{s * 1000:,.0f} ms" if s < 1 else f"{s:,.2f} s"

    lines = [
        f"{'page':28}  {'median':>8}  {'floor':>7}  {'ratio':>6}  first run in the process",
        f"{'-' * 28}  {'-' * 8}  {'-' * 7}  {'-' * 6}  {'-' * 24}",
    ]
    for r in rows:
        first = t(r["first"]) if r["first"] else ""
        lines.append(
            f"{r['name']:28}  {t(r['s']):>8}  {t(r['floor_s']):>7}  "
            f"{r['s'] / r['floor_s']:>5.1f}x  {first}"
        )
    return "\n".join(lines)
