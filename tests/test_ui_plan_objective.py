"""The plan page under method v2: the objective a manager chooses, and the plan's bound in
words (no bare percentage)."""

from __future__ import annotations

from datetime import date

from riskmap import service as s
from ui_harness import page, texts

MANAGER = "demo.manager"


def _plan(ui_db, objective: str, days: float = 200.0):
    at = page("riskmap.ui.pages.plan", "manager", cycle="2026").run()
    at.number_input(key="plan-days").set_value(days)
    at.radio(key="plan-objective").set_value(objective)
    next(b for b in at.button if b.label == "Show the plan").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_fewest_critical_cells_objective_shows_its_plan(ui_db):  # noqa: F811
    at = _plan(ui_db, "critical_high")
    with ui_db.service() as svc:
        want = s.preview_plan(
            svc, MANAGER, "2026", budget_days=200.0, start=date.today(), objective="critical_high"
        )
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Actions chosen"] == str(len(want.actions))
    critical = f"Critical {want.summary['critical_before']} → {want.summary['critical_after']}"
    assert critical in texts(at)
    # The bound is claimed only for "most residual removed".
    assert "No plan within" not in texts(at)


def test_most_residual_removed_states_its_bound_in_words(ui_db):  # noqa: F811
    at = _plan(ui_db, "residual", days=120.0)
    with ui_db.service() as svc:
        want = s.preview_plan(svc, MANAGER, "2026", budget_days=120.0, start=date.today())
    bound = want.summary["best_possible_at_most"]
    assert f"could remove more than {bound:,.1f}" in texts(at)
    assert "Guarantee" not in {m.label for m in at.metric}
