"""Numbers that agree (issue 14): one definition per key figure, an honest plan report.

Each test replays a disagreement a manager met on the demo and asserts the screens, the
workbook and the audit trail now give the same number.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import openpyxl
import pandas as pd
import pytest

from demo_db import demo_file, private_copy
from riskmap import charts
from riskmap import service as s
from riskmap.catalogue import load_catalogue
from riskmap.service import CLI_ADMIN

CAT = load_catalogue()
MANAGER, OFFICER, AUDITOR = "demo.manager", "demo.officer", "demo.auditor"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return demo_file(tmp_path_factory.mktemp("numbers") / "template.sqlite", CAT, units=12)


@pytest.fixture
def svc(template, tmp_path):
    with private_copy(template, tmp_path, CAT) as service:
        yield service


def _summary_sheet(svc, cycle: str) -> dict:
    data = s.export_workbook(svc, AUDITOR, cycle)
    ws = openpyxl.load_workbook(io.BytesIO(data), read_only=True)["Summary"]
    return {r[0]: r[1] for r in ws.iter_rows(values_only=True) if r and r[0]}


def test_actions_done_is_one_number_on_overview_trends_and_workbook(svc):
    # Mark two 2026 actions done: the 2025 ones done stay 2025's.
    acts = s.actions(svc, OFFICER, "2026")
    already = int((acts["status"] == "done").sum())
    for row in acts[acts["status"] != "done"].head(2).itertuples():
        s.update_action(svc, OFFICER, int(row.id), expected_version=int(row.version), status="done")
    done_2025 = int((s.actions(svc, MANAGER, "2025")["status"] == "done").sum())
    assert done_2025 > 0, "the demo has done actions in 2025 (else the test proves nothing)"

    overview = s.key_figures(svc, MANAGER, "2026")["figures"]["actions_done"]
    trend = s.trend(svc, MANAGER, "2025", "2026")
    assert overview == already + 2
    assert trend.summary["actions_completed"] == overview == len(trend.actions_completed)
    assert set(trend.actions_completed["completed_in"]) == {"2026"}
    sheet = _summary_sheet(svc, "2026")
    assert sheet["Actions done"] == overview
    assert sheet["Actions open"] == s.key_figures(svc, MANAGER, "2026")["figures"]["actions_open"]


def test_overdue_in_the_workbook_is_the_overviews(svc):
    today = datetime.now(UTC).date()  # the workbook counts overdue on its export day (UTC)
    kf = s.key_figures(svc, MANAGER, "2026", today=today)["figures"]
    sheet = _summary_sheet(svc, "2026")
    assert sheet[f"Actions overdue on {today.isoformat()}"] == kf["actions_overdue"]
    assert kf["actions_overdue"] > 0, "the demo's carried 2025 actions are overdue"


def test_a_zero_change_is_neither_worse_nor_better_and_the_title_counts_the_bars():
    frame = pd.DataFrame(
        {
            "unit_code": ["A", "B", "C", "D", "E"],
            "unit": ["Alpha", "Bravo", "Charlie", "Delta", "Echo"],
            "residual_before": [5.0, 5.0, 5.0, 5.0, 6.0],
            "residual_after": [6.5, 5.001, 4.999, 5.0, 4.0],
        }
    )
    fig = charts.movers(frame, CAT, n=10, before_label="cycle 1", after_label="cycle 2")
    bars = fig.data[0]
    assert list(bars.y) == ["Alpha", "Echo"], "changes that read +0.00 are not movers"
    assert fig.layout.title.text == "Largest movers: 1 unit worse and 1 better, cycle 1 to cycle 2"
    worse = charts.trend.worse_color(CAT)
    assert list(bars.marker.color) == [worse, charts.trend.BETTER_COLOR]
    # The full per-unit chart draws the near-zero ones grey and calls them unchanged.
    full = charts.trend_units(frame, CAT).data[0]
    colors = dict(zip(full.y, full.marker.color, strict=True))
    assert colors["Bravo"] == colors["Charlie"] == colors["Delta"] == charts.trend.SAME_COLOR
    hover = dict(zip(full.y, full.hovertext, strict=True))
    assert "+0.00 (unchanged)" in hover["Bravo"] and "worse" not in hover["Bravo"]


def test_storing_a_plan_reports_what_the_audit_event_and_the_action_list_show(svc):
    start = date(2027, 1, 10)
    before = s.actions(svc, OFFICER, "2026")
    preview = s.preview_plan(svc, MANAGER, "2026", budget_days=60, start=start)
    stored = s.build_plan(svc, OFFICER, "2026", budget_days=60, start=start)
    after = s.actions(svc, OFFICER, "2026")
    event = s.audit_trail(svc, CLI_ADMIN, entity="cycle").iloc[-1]["after"]

    counts = (stored.added, stored.replaced, stored.kept, stored.removed)
    assert counts == (
        event["actions_added"],
        event["actions_replaced"],
        event["actions_kept"],
        event["actions_removed"],
    )
    chosen = stored.added + stored.replaced + stored.kept
    assert chosen == len(stored.chosen) == len(preview.actions)
    assert len(after) - len(before) == stored.added - stored.removed
    assert (event["actions_before"], event["actions_after"]) == (len(before), len(after))
    msg = stored.report()
    assert f"{stored.added} added" in msg and f"{stored.kept} kept" in msg
    assert f"{stored.removed} earlier generated actions removed" in msg

    # Due dates: what the preview showed is what was stored, action by action.
    stored_due = {
        (r.unit_code, r.control_id): r.due_date
        for r in after.itertuples()
        if r.status in ("planned", "in_progress")
    }
    for r in preview.actions.itertuples():
        assert stored_due[(r.unit_code, r.control_id)] == r.due_date, (r.unit_code, r.control_id)


def test_a_carried_action_keeps_its_past_date_and_says_it_is_overdue(svc):
    acts = s.actions(svc, OFFICER, "2026")
    carried = acts[acts["carried_from_id"].notna() & acts["status"].eq("planned")]
    assert len(carried), "the demo carries open 2025 actions into 2026"
    preview = s.preview_plan(
        svc, MANAGER, "2026", budget_days=10_000, start=date(2027, 1, 10), today=date(2026, 6, 1)
    )
    kept = preview.actions[preview.actions["stored_as"] == "kept"]
    assert len(kept), "a big budget chooses gaps the carried actions already address"
    for r in kept.itertuples():
        assert r.due_date < date(2027, 1, 1), "a kept action keeps its own date"
        assert r.overdue == (r.due_date < date(2026, 6, 1))
        if r.overdue:
            assert r.days_overdue == (date(2026, 6, 1) - r.due_date).days
    new = preview.actions[preview.actions["stored_as"] != "kept"]
    assert (pd.to_datetime(new["due_date"]) >= pd.Timestamp(2027, 1, 10)).all()
    assert not new["overdue"].any()


def test_a_stored_plan_copies_and_pickles_like_a_plan(svc):
    import copy
    import pickle

    stored = s.build_plan(svc, OFFICER, "2026", budget_days=30, start=date(2027, 1, 10))
    again = pickle.loads(pickle.dumps(stored))
    assert again.summary == stored.summary == copy.copy(stored).summary
    assert again.added == stored.added
