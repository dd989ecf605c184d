"""AppTests of the manager's pages: overview, heat maps, remediation plan, trends, audit trail.

Every page renders for the roles it is open to and refuses the others; each page's main
action works on a small demo ministry (8 units, cycle 2025 locked, 2026 draft): the figures
agree with the service, a unit's profile opens, a budget gives a plan within it, an edited
action is saved and audited, the audit CSV holds the events (formula-safe).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pandas as pd
import pytest

from riskmap import service as s
from riskmap.catalogue import load_catalogue
from riskmap.charts import shorten
from riskmap.charts.heatmap import ROW_CHARS
from riskmap.scoring.aggregate import maturity_of_units_by_type
from riskmap.service import CLI_ADMIN
from riskmap.ui import registry, views
from riskmap.ui.widgets import escape_md
from ui_harness import ROLES, errors, page, refused, texts

CAT = load_catalogue()
PAGES = {
    "overview": ("admin", "officer", "manager", "auditor"),
    "heatmaps": ("officer", "manager", "auditor"),
    "plan": ("officer", "manager", "auditor"),
    "trends": ("manager", "auditor"),
    "audit_trail": ("auditor", "admin"),
}
OFFICER, MANAGER = "demo.officer", "demo.manager"


def module(name: str) -> str:
    return f"riskmap.ui.pages.{name}"


def run(name: str, role: str | None, **state):
    at = page(module(name), role, **state).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def dataframe_with(at, column: str) -> pd.DataFrame:
    frames = [d.value for d in at.dataframe if column in d.value.columns]
    assert frames, f"no table with a {column!r} column"
    return frames[0]


def plotly_specs(at) -> list[str]:
    return [e.proto.spec for e in at.get("plotly_chart")]


def unit_options(at) -> set[str]:
    """The unit ids the profile picker offers (its labels read "name (id)"; the first is
    the "choose a unit" placeholder)."""
    return {o.rsplit("(", 1)[1].rstrip(")") for o in at.selectbox(key="hm-unit").options[1:]}


def color(metric) -> str:
    from streamlit.proto.Metric_pb2 import Metric as MetricProto

    return MetricProto.MetricColor.Name(metric.proto.color)


def button(at, label: str):
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r}: {[b.label for b in at.button]}"
    return found[0]


# --------------------------------------------------------------------------- roles


def test_registry_lists_the_five_pages_with_the_pages_own_roles():
    import importlib

    specs = {p.url_path: p for p in registry.PAGES}
    for name, roles in PAGES.items():
        assert name in specs, name
        assert set(specs[name].roles) == set(roles)
        assert set(importlib.import_module(module(name)).ROLES) == set(roles)
        assert specs[name].section == registry.OVERSIGHT


@pytest.mark.parametrize(("name", "role"), [(n, r) for n in PAGES for r in ROLES])
def test_page_renders_for_allowed_roles_and_refuses_others(ui_db, name, role):  # noqa: F811
    at = run(name, role)
    if role in PAGES[name]:
        assert not refused(at), errors(at)
        assert not errors(at), errors(at)
        assert at.title and at.title[0].value
    else:
        assert refused(at)
        assert not at.metric and not at.get("plotly_chart") and not at.dataframe


@pytest.mark.parametrize("name", list(PAGES))
def test_page_asks_to_sign_in(ui_db, name):  # noqa: F811
    at = run(name, None)
    assert refused(at)


# --------------------------------------------------------------------------- overview


def test_overview_figures_and_change_against_the_last_cycle(ui_db):  # noqa: F811
    at = run("overview", "manager")
    with ui_db.service() as svc:
        kf = s.key_figures(svc, MANAGER, "2026")
    metrics = {m.label: m for m in at.metric}
    assert metrics["Units assessed"].value == str(kf["figures"]["units_assessed"])
    assert metrics["Units confirmed"].value == str(kf["figures"]["units_confirmed"])
    for band in CAT.method.bands:
        m = metrics[f"Risks {band.name.lower()}"]
        assert m.value == str(kf["figures"][f"n_{band.id}"])
        assert m.proto.delta == str(kf["change"][f"n_{band.id}"])
    assert metrics["Actions overdue"].value == str(kf["figures"]["actions_overdue"])
    mean = metrics["Mean residual risk"]
    change = round(kf["change"]["mean_residual"], 2)
    assert mean.value == f"{kf['figures']['mean_residual']:.2f}"
    assert float(mean.proto.delta) == pytest.approx(change)
    # Lower is better: a fall shows green, a rise red.
    if change:
        assert color(mean) == ("GREEN" if change < 0 else "RED")
    assert "2025" in texts(at)
    assert any("at a glance" in spec or "unit type" in spec for spec in plotly_specs(at))


def test_overview_sees_a_change_made_elsewhere_without_clearing_caches(ui_db):  # noqa: F811
    at = run("overview", "manager")
    done = int({m.label: m.value for m in at.metric}["Actions done"])
    with ui_db.service() as svc:  # another process: the dashboard's caches are not cleared
        a = s.actions(svc, OFFICER, "2026")
        a = a[a["status"] != "done"].iloc[0]
        s.update_action(
            svc, OFFICER, int(a["id"]), expected_version=int(a["version"]), status="done"
        )
    at.run()
    assert int({m.label: m.value for m in at.metric}["Actions done"]) == done + 1


# --------------------------------------------------------------------------- heat maps


def test_heatmaps_switch_filter_and_open_a_unit(ui_db):  # noqa: F811
    at = run("heatmaps", "manager")
    specs = plotly_specs(at)
    assert any("Residual risk by unit and risk scenario" in sp for sp in specs)
    assert any("Top missing controls" in sp for sp in specs), "hover names missing controls"
    assert len(specs) == 5  # map, chain, chain per region, 5x5 matrices, maturity

    at.radio(key="hm-view").set_value("after").run()
    assert not at.exception
    assert any("after the plan" in sp for sp in plotly_specs(at))
    at.radio(key="hm-view").set_value("inherent").run()
    assert any("Inherent risk by unit" in sp for sp in plotly_specs(at))

    with ui_db.service() as svc:
        reg = s.register(svc, MANAGER, "2026")
    unit_type = reg["unit_type"].value_counts().index[0]
    at.multiselect(key="hm-types").set_value([unit_type]).run()
    wanted = set(reg.loc[reg["unit_type"] == unit_type, "unit_code"])
    assert unit_options(at) == wanted

    unit = sorted(wanted)[0]
    at.selectbox(key="hm-unit").set_value(unit).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Risks rated"] == str((reg["unit_code"] == unit).sum())
    risks = dataframe_with(at, "top_missing")
    assert sorted(risks["risk_id"]) == sorted(reg.loc[reg["unit_code"] == unit, "risk_id"])
    history = dataframe_with(at, "worst_band")
    assert list(history["cycle"]) == ["2025", "2026"]


def test_heatmaps_profile_shows_calibration_flags(ui_db):  # noqa: F811
    with ui_db.service() as svc:
        flags = s.calibration(svc, MANAGER, "2026")
    assert len(flags), "the demo has contradicted ratings"
    unit = flags["unit_code"].iloc[0]
    at = run("heatmaps", "auditor", **{"hm-unit": unit})
    shown = dataframe_with(at, "flag")
    assert set(shown["risk_id"]) == set(flags.loc[flags["unit_code"] == unit, "risk_id"])
    assert "calibration flag" in texts(at)


def test_a_big_map_is_paged(ui_db, monkeypatch):  # noqa: F811
    from riskmap.charts import heatmap_order
    from riskmap.ui.pages import heatmaps

    monkeypatch.setattr(heatmaps, "PAGE_ROWS", 3)
    at = run("heatmaps", "manager")
    pager = at.number_input(key="hm-page")
    assert pager.max == 3  # 8 units, 3 a page
    with ui_db.service() as svc:
        reg = s.register(svc, MANAGER, "2026")
    rows, _ = heatmap_order(reg, CAT)
    names = dict(zip(reg["unit_code"], reg["unit"], strict=False))
    pager.set_value(2).run()
    spec = json.loads(next(sp for sp in plotly_specs(at) if "Residual risk by unit" in sp))
    shown = spec["layout"]["yaxis"]["categoryarray"]
    assert shown == [shorten(names[u], ROW_CHARS, middle=True) for u in rows[3:6]]
    assert "Units 4-6 of 8" in texts(at)


def test_band_filter_keeps_only_cells_of_those_bands(ui_db):  # noqa: F811
    at = run("heatmaps", "manager")
    at.multiselect(key="hm-bands").set_value(["high"]).run()
    assert not at.exception
    with ui_db.service() as svc:
        reg = s.register(svc, MANAGER, "2026")
    assert unit_options(at) == set(reg.loc[reg["residual_band"] == "high", "unit_code"])


def test_typed_text_is_shown_as_text(ui_db):  # noqa: F811
    evil = "<img src=x onerror=alert(1)> **bold** [link](javascript:alert(1))"
    with ui_db.service() as svc:
        unit = s.list_units(svc, CLI_ADMIN).iloc[0]
        s.edit_unit(svc, CLI_ADMIN, unit["code"], expected_version=int(unit["version"]), name=evil)
    at = run("heatmaps", "manager", **{"hm-unit": unit["code"]})
    header = next(m.value for m in at.markdown if "headcount" in m.value)
    assert f"**{escape_md(evil)}**" in header, header  # every markup character escaped
    assert "\\<img" in header and "\\*\\*bold" in header
    for name in PAGES:
        role = "auditor" if name != "plan" else "officer"
        for element in run(name, role).markdown:
            assert not element.proto.allow_html, (name, element.value)


# --------------------------------------------------------------------------- plan


def test_a_budget_gives_a_plan_within_it_and_the_map_after_it(ui_db):  # noqa: F811
    at = run("plan", "manager")
    assert "Set a budget" in texts(at)
    assert not [b for b in at.button if b.label.startswith("Store this plan")], "officer only"
    at.number_input(key="plan-days").set_value(60.0)
    button(at, "Show the plan").click().run()
    assert not at.exception
    table = dataframe_with(at, "cumulative_days")
    assert len(table) > 0
    assert table["effort_days"].sum() <= 60
    assert list(table["priority"]) == sorted(table["priority"])
    with ui_db.service() as svc:
        preview = s.preview_plan(svc, MANAGER, "2026", budget_days=60.0, start=date.today())
    assert len(table) == len(preview.actions)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Actions chosen"] == str(len(preview.actions))
    specs = plotly_specs(at)
    assert any("Residual risk now" in sp for sp in specs)
    assert any("Residual risk after the plan" in sp for sp in specs)
    # Nothing was stored by looking.
    with ui_db.service() as svc:
        assert not (s.audit_trail(svc, CLI_ADMIN)["action"] == "plan.build").sum() > 2


def test_officer_stores_the_plan(ui_db):  # noqa: F811
    at = run("plan", "officer")
    at.number_input(key="plan-days").set_value(40.0)
    button(at, "Store this plan as the cycle's actions").click().run()
    assert not at.exception, errors(at)
    message = next(str(m.value) for m in at.success if "Plan stored" in str(m.value))
    with ui_db.service() as svc:
        stored = s.actions(svc, MANAGER, "2026")
    assert len(dataframe_with(at, "manual")) == len(stored), "the list shows the stored plan"
    with ui_db.service() as svc:
        trail = s.audit_trail(svc, CLI_ADMIN, cycle="2026")
    last = trail[trail["action"] == "plan.build"].iloc[-1]
    assert last["actor"] == OFFICER and last["after"]["budget_days"] == 40.0
    # The officer reads the counts the audit event records (issue 14).
    a = last["after"]
    assert f"{a['actions_added']} added, {a['actions_replaced']} replaced" in message
    assert f"{a['actions_kept']} kept" in message
    assert f"{a['actions_removed']} earlier generated actions removed" in message


def test_officer_edits_an_action_and_the_change_is_audited(ui_db):  # noqa: F811
    with ui_db.service() as svc:
        acts = s.actions(svc, OFFICER, "2026")
    a = acts[acts["status"] != "done"].iloc[0]
    action_id, version = int(a["id"]), int(a["version"])
    at = run("plan", "officer")
    at.selectbox(key="plan-edit-id").set_value(action_id).run()
    tag = f"{action_id}-{version}"
    at.selectbox(key=f"plan-status-{tag}").set_value("done")
    at.text_input(key=f"plan-owner-{tag}").set_value("Head of the border police")
    at.text_area(key=f"plan-notes-{tag}").set_value("Rotation <b>scheme</b> adopted")
    at.text_input(key=f"plan-reason-{tag}").set_value("Evidence checked on site")
    button(at, "Save the action").click().run()
    assert not at.exception, errors(at)
    assert any(f"Action #{action_id} saved" in str(m.value) for m in at.success)
    with ui_db.service() as svc:
        row = s.actions(svc, MANAGER, "2026").set_index("id").loc[action_id]
        trail = s.audit_trail(svc, CLI_ADMIN, entity="action", entity_id=str(action_id))
    assert row["status"] == "done" and row["owner"] == "Head of the border police"
    assert row["notes"] == "Rotation <b>scheme</b> adopted"
    event = trail.iloc[-1]
    assert (event["action"], event["actor"]) == ("action.edit", OFFICER)
    assert event["before"]["status"] == a["status"] and event["after"]["status"] == "done"
    assert event["reason"] == "Evidence checked on site"
    # The table now shows the saved values (the read caches follow the data version).
    table = dataframe_with(at, "overdue")
    assert table.set_index("id").loc[action_id, "status"] == "done"


def test_officer_adds_an_action_by_hand(ui_db):  # noqa: F811
    with ui_db.service() as svc:
        cr = s.control_ratings(svc, OFFICER, "2026")
    target = cr[(cr["maturity"] < 3) & cr["applicable"]].iloc[0]
    at = run("plan", "officer")
    at.selectbox(key="plan-add-unit").set_value(target["unit_code"]).run()
    at.selectbox(key="plan-add-control").set_value(target["control_id"])
    at.selectbox(key="plan-add-level").set_value(4)
    at.text_input(key="plan-add-owner").set_value("Regional director")
    button(at, "Add the action").click().run()
    assert not at.exception, errors(at)
    with ui_db.service() as svc:
        acts = s.actions(svc, MANAGER, "2026")
        trail = s.audit_trail(svc, CLI_ADMIN)
    added = acts[acts["manual"]].iloc[-1]
    assert (added["unit_code"], added["control_id"]) == (target["unit_code"], target["control_id"])
    assert added["to_level"] == 4 and added["owner"] == "Regional director"
    assert trail.iloc[-1]["action"] == "action.add" and trail.iloc[-1]["actor"] == OFFICER
    assert any(f"Action #{added['id']} added" in str(m.value) for m in at.success)
    assert int(added["id"]) in set(dataframe_with(at, "overdue")["id"]), "listed at once"


def test_overdue_actions_are_flagged(ui_db):  # noqa: F811
    with ui_db.service() as svc:
        a = s.actions(svc, OFFICER, "2026").iloc[0]
        s.update_action(
            svc,
            OFFICER,
            int(a["id"]),
            expected_version=int(a["version"]),
            status="in_progress",
            due_date=date(2020, 1, 1),
        )
    at = run("plan", "manager")
    table = dataframe_with(at, "overdue")
    assert table.set_index("id").loc[int(a["id"]), "overdue"].startswith("⚠")
    assert any("past their due date" in str(w.value) for w in at.warning)
    assert any("overdue" in sp for sp in plotly_specs(at)), "the timeline says so too"


def test_locked_cycle_offers_no_edit(ui_db):  # noqa: F811
    at = run("plan", "officer", cycle="2025")
    assert "locked" in texts(at)
    assert not [b for b in at.button if b.label == "Save the action"]
    store = [b for b in at.button if b.label.startswith("Store this plan")]
    assert store and store[0].disabled


# --------------------------------------------------------------------------- trends


def test_trends_compare_two_cycles(ui_db):  # noqa: F811
    at = run("trends", "manager")
    with ui_db.service() as svc:
        t = s.trend(svc, MANAGER, "2025", "2026")
    metrics = {m.label: m for m in at.metric}
    assert metrics["Mean residual risk"].value == f"{t.summary['mean_residual_after']:.2f}"
    assert metrics["Actions completed"].value == str(t.summary["actions_completed"])
    assert metrics["Pairs up a band (worse)"].value == str(t.summary["pairs_up"])
    moved = dataframe_with(at, "direction")
    assert len(moved) == len(t.movers)
    gain = dataframe_with(at, "gained")
    assert set(gain["principle"]) == set(t.maturity["principle"])
    at.selectbox(key="trend-before").set_value("2026").run()
    assert any("two different cycles" in str(w.value) for w in at.warning)


# --------------------------------------------------------------------------- audit trail


def test_audit_trail_verifies_filters_and_downloads_csv(ui_db, monkeypatch):  # noqa: F811
    with ui_db.service() as svc:
        a = s.actions(svc, OFFICER, "2026").iloc[0]
        s.update_action(
            svc,
            OFFICER,
            int(a["id"]),
            expected_version=int(a["version"]),
            notes="@SUM(1+1)",
            reason='=HYPERLINK("http://example.invalid","click")',
        )
        trail = s.audit_trail(svc, CLI_ADMIN)
    produced: list[bytes] = []
    original = views.audit_csv

    def recording(events, cycles=None):
        data = original(events, cycles)
        produced.append(data)
        return data

    monkeypatch.setattr(views, "audit_csv", recording)
    at = run("audit_trail", "auditor")
    assert any("Chain verified" in str(m.value) for m in at.success)
    assert at.download_button and at.download_button[0].proto.url.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(produced[-1].decode("utf-8-sig"))))
    assert [int(r["id"]) for r in rows] == list(trail["id"])
    edit = next(r for r in rows if r["action"] == "action.edit")
    assert edit["reason"].startswith("'=HYPERLINK")
    assert edit["actor"] == OFFICER and edit["cycle"] == "2026"
    assert json.loads(edit["after"])["notes"] == "@SUM(1+1)", "JSON cells start with {"

    at.multiselect(key="audit-actors").set_value([OFFICER]).run()
    shown = dataframe_with(at, "reason")
    assert len(shown) == (trail["actor"] == OFFICER).sum()
    assert set(shown["actor"]) == {OFFICER}
    rows = list(csv.DictReader(io.StringIO(produced[-1].decode("utf-8-sig"))))
    assert len(rows) == len(shown)
    assert f"{len(shown):,} of {len(trail):,} events" in texts(at)


def test_audit_trail_reports_a_broken_chain(ui_db):  # noqa: F811
    from sqlalchemy import text

    at = run("audit_trail", "admin")
    assert any("Chain verified" in str(m.value) for m in at.success)
    with ui_db.service() as svc:  # change an event behind the application's back
        victim = int(s.audit_trail(svc, CLI_ADMIN)["id"].iloc[2])
        with svc.engine.begin() as conn:
            conn.execute(text("DROP TRIGGER audit_events_no_update"))
            conn.execute(
                text("UPDATE audit_events SET reason = 'nothing to see' WHERE id = :id"),
                {"id": victim},
            )
    button(at, "Check the chain again now").click().run()
    shown = [str(e.value) for e in at.error]
    assert any("Chain broken at event" in e and str(victim) in e for e in shown), shown
    assert not at.success


# --------------------------------------------------------------------------- pure helpers


def test_csv_safe_prefixes_formula_starts_only():
    assert views.csv_safe("=1+1") == "'=1+1"
    for start in ("+", "-", "@", "\t", "\r"):
        assert views.csv_safe(start + "x") == "'" + start + "x"
    assert views.csv_safe("plain") == "plain"
    assert views.csv_safe(-5) == -5
    assert views.csv_safe("") == ""


def test_unit_at_maps_a_clicked_cell_to_its_unit():
    order = ["A", "B", "C"]
    assert views.unit_at([{"x": 4.0, "y": 2.0, "curve_number": 3}], order) == "C"
    assert views.unit_at([{"x": "BOR-01", "y": "Consulate"}, {"x": 0, "y": 1}], order) == "B"
    assert views.unit_at([], order) is None
    assert views.unit_at([{"x": 1, "y": 7}], order) is None


def test_map_pages():
    rows = [f"U{i}" for i in range(450)]
    assert views.page_count(450, 200) == 3 and views.page_count(0, 200) == 1
    assert views.page_of(rows, 1, 200) == rows[:200]
    assert views.page_of(rows, 3, 200) == rows[400:]
    assert views.page_of(rows, 9, 200) == rows[400:], "clamped to the last page"
    assert views.page_span(450, 3, 200) == "401-450"


def test_maturity_by_type_is_the_mean_over_all_ratings():
    per_unit = pd.DataFrame(
        {
            "unit_code": ["A", "B", "C"],
            "unit_type": ["t", "t", "u"],
            "region": ["", "", ""],
            "principle": ["P1", "P1", "P1"],
            "mean_maturity": [1.0, 3.0, 2.0],
            "controls": [1, 3, 2],
        }
    )
    out = maturity_of_units_by_type(per_unit).set_index("unit_type")
    assert out.loc["t", "mean_maturity"] == pytest.approx((1 * 1 + 3 * 3) / 4)
    assert out.loc["t", "controls"] == 4
    only_a = maturity_of_units_by_type(per_unit, ["A"]).set_index("unit_type")
    assert only_a.loc["t", "mean_maturity"] == 1.0 and "u" not in only_a.index


def test_key_metrics_colour_rule():
    figures = {"units_assessed": 3, "mean_residual": 5.0, "units_critical": 1}
    figures.update({f"n_{b.id}": 1 for b in CAT.method.bands})
    figures.update(units_confirmed=2, actions_open=4, actions_overdue=1, actions_done=2)
    change = {k: 1 for k in figures}
    rows = views.key_metrics({"figures": figures, "change": change, "previous": "2025"}, CAT)
    by_key = {m.key: m for row in rows for m in row}
    assert by_key["mean_residual"].delta_color == "inverse"
    assert by_key["actions_overdue"].delta_color == "inverse"
    assert by_key["n_critical"].delta_color == "inverse"
    assert by_key["n_low"].delta_color == "normal"
    assert by_key["actions_done"].delta_color == "normal"
    none = views.key_metrics({"figures": figures, "change": change, "previous": None}, CAT)
    assert all(m.delta is None for row in none for m in row)
