"""The walk-through's read models: unit progress, the next unit, the unit summary."""

from __future__ import annotations

import pandas as pd

from riskmap import service as s
from riskmap.service import CLI_ADMIN
from riskmap.service.assess_reads import pick_next


def test_unit_progress_counts_confirmed_ratings(ui_db):
    with ui_db.service() as svc:
        progress = s.unit_progress(svc, "demo.manager", "2026").set_index("unit_code")
        risks = s.risk_ratings(svc, CLI_ADMIN, "2026")
        controls = s.control_ratings(svc, CLI_ADMIN, "2026")
    for unit, row in progress.iterrows():
        r, c = risks[risks["unit_code"] == unit], controls[controls["unit_code"] == unit]
        assert row["risk_done"] == r["confirmed"].sum() and row["risk_total"] == len(r)
        assert row["control_done"] == c["confirmed"].sum() and row["control_total"] == len(c)
        assert row["done"] == row["risk_done"] + row["control_done"]


def test_the_next_unit_is_the_next_pending_one_wrapping_around():
    progress = pd.DataFrame(
        {"unit_code": ["A", "B", "C", "D"], "done": [1, 5, 0, 3], "total": [2, 5, 4, 3]}
    )
    assert pick_next(progress, None) == "A"
    assert pick_next(progress, "A") == "C"  # B is done
    assert pick_next(progress, "C") == "A"  # D is done: wrap around
    done = progress.assign(done=progress["total"])
    assert pick_next(done, "A") is None


def test_unit_summary_bands_come_from_the_method(ui_db):
    with ui_db.service() as svc:
        summary = s.unit_summary(svc, "demo.auditor", "2026", "BC-002")
        bands = sorted(svc.catalogue.method.bands, key=lambda b: b.min)
        register = s.register(svc, CLI_ADMIN, "2026")
    now = register[register["unit_code"] == "BC-002"]
    assert summary.serious_bands == tuple(b.id for b in bands[-2:])
    assert summary.serious_count == int(now["residual_band"].isin(summary.serious_bands).sum())
    assert abs(summary.mean_residual - now["residual"].mean()) < 1e-9
    assert summary.previous == "2025"
    assert list(summary.now["residual"]) == sorted(now["residual"], reverse=True)
