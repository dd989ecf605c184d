"""AppTests of the readable heat maps (issue 14): groups at scale, same columns, pictures."""

from __future__ import annotations

import json

from riskmap import charts
from riskmap import service as s
from riskmap.catalogue import load_catalogue
from ui_harness import page

CAT = load_catalogue()
MANAGER = "demo.manager"


def run(role: str = "manager", **state):
    at = page("riskmap.ui.pages.heatmaps", role, **state).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def specs(at) -> list[dict]:
    return [json.loads(e.proto.spec) for e in at.get("plotly_chart")]


def unit_map(at) -> dict:
    return next(sp for sp in specs(at) if "by unit and risk scenario" in str(sp["layout"]["title"]))


def test_now_and_after_the_plan_show_the_same_columns_under_a_band_filter(ui_db):
    at = run()
    at.multiselect(key="hm-bands").set_value(["high"]).run()
    now = unit_map(at)["layout"]["xaxis"]["categoryarray"]
    at.radio(key="hm-view").set_value("after").run()
    after = next(sp for sp in specs(at) if "after the plan" in str(sp["layout"]["title"]))
    assert after["layout"]["xaxis"]["categoryarray"] == now
    with ui_db.service() as svc:
        reg = s.register(svc, MANAGER, "2026")
    assert len(now) == reg["risk_id"].nunique(), "a band filter narrows rows, not columns"


def test_the_map_is_drawn_at_its_own_width_with_a_picture_download(ui_db):
    at = run()
    el = next(e for e in at.get("plotly_chart") if "by unit and risk scenario" in e.proto.spec)
    spec = json.loads(el.proto.spec)
    assert spec["layout"]["width"] <= 1400
    config = json.loads(el.proto.config)
    assert config["toImageButtonOptions"]["format"] == "png"
    at.radio(key="hm-picture").set_value("svg").run()
    el = next(e for e in at.get("plotly_chart") if "by unit and risk scenario" in e.proto.spec)
    assert json.loads(el.proto.config)["toImageButtonOptions"]["format"] == "svg"


def test_at_ministry_scale_the_map_opens_on_groups_then_a_group_then_a_unit(ui_db, monkeypatch):
    from riskmap.ui.pages import heatmaps

    monkeypatch.setattr(heatmaps, "GROUP_FROM", 3)  # the demo's 8 units count as many
    at = run()
    groups = next(sp for sp in specs(at) if "Worst residual risk by unit type" in str(sp))
    with ui_db.service() as svc:
        reg = s.register(svc, MANAGER, "2026")
    types = {t.id: t.name for t in CAT.unit_types}
    assert set(groups["layout"]["meta"]["groups"]) == set(reg["unit_type"])
    assert not [sp for sp in specs(at) if "by unit and risk scenario" in str(sp["layout"]["title"])]

    unit_type = reg["unit_type"].value_counts().index[0]
    at.selectbox(key="hm-group-unit_type").set_value(unit_type).run()
    assert not at.exception
    rows = unit_map(at)["layout"]["yaxis"]["categoryarray"]
    members = reg.loc[reg["unit_type"] == unit_type].drop_duplicates("unit_code")
    # The group's units, labelled as the units map labels them (cut, ids where they collide).
    alone = charts.heatmap(reg[reg["unit_code"].isin(members["unit_code"])], CAT).data[0].y
    assert sorted(rows) == sorted(alone) and len(rows) == len(members), types[unit_type]

    at.radio(key="hm-group-by").set_value("region").run()
    by_region = next(sp for sp in specs(at) if "by region" in str(sp["layout"]["title"]))
    assert set(by_region["layout"]["meta"]["groups"]) == set(reg["region"].fillna(""))


# --------------------------------------------------------------------------- audit trail


def test_change_lines_show_only_what_changed():
    from riskmap.ui.audit_changes import change_lines

    before = {"status": "planned", "notes": "", "version": 1, "owner": "Ana"}
    after = {"status": "done", "notes": "rotation in place", "version": 2, "owner": "Ana"}
    assert change_lines(before, after) == [
        "status: planned → done",
        'notes: "" → rotation in place',
        "version: 1 → 2",
    ]
    assert change_lines(None, {"label": "2027"}) == ["label: 2027"]
    assert change_lines({"label": "x"}, None) == ["label: x → (removed)"]
    assert change_lines(None, None) == []
    long = change_lines({"a": "x" * 500}, {"a": "y"})[0]
    assert len(long) < 100 and "…" in long


def test_the_audit_trail_reads_as_changes_newest_first_with_the_raw_json(ui_db):
    from riskmap.service import CLI_ADMIN

    with ui_db.service() as svc:
        acts = s.actions(svc, "demo.officer", "2026")
        a = acts[acts["status"] == "planned"].iloc[0]
        s.update_action(
            svc,
            "demo.officer",
            int(a["id"]),
            expected_version=int(a["version"]),
            status="in_progress",
            reason="work started with the head of office",
        )
        trail = s.audit_trail(svc, CLI_ADMIN)
    at = page("riskmap.ui.pages.audit_trail", "auditor").run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "changes" in d.value.columns)
    assert list(table["id"]) == sorted(trail["id"], reverse=True), "newest first"
    top = table.iloc[0]
    assert (
        top["action"] == "action.edit" and top["reason"] == "work started with the head of office"
    )
    assert f"status: {a['status']} → in_progress" in top["changes"].splitlines()
    assert "{" not in top["changes"], "no JSON blob"
    assert "newest first" in " ".join(c.value for c in at.caption)
    # The raw record, on demand: the newest event is the one picked first.
    assert at.selectbox(key="audit-raw-id").value == int(trail["id"].max())
    raw = [j.proto.body for j in at.json]
    assert any('"in_progress"' in body for body in raw)


# --------------------------------------------------------------------------- plan preview


def test_the_plan_preview_says_how_each_action_is_stored_and_keeps_its_date(ui_db):
    from datetime import date

    at = page("riskmap.ui.pages.plan", "manager").run()
    at.number_input(key="plan-days").set_value(500.0)
    next(b for b in at.button if b.label == "Show the plan").click().run()
    assert not at.exception, [e.value for e in at.exception]
    table = next(d.value for d in at.dataframe if "stored_as" in d.value.columns)
    with ui_db.service() as svc:
        preview = s.preview_plan(svc, MANAGER, "2026", budget_days=500.0, start=date.today())
    want = preview.actions.reset_index(drop=True)
    assert list(table["stored_as"]) == list(want["stored_as"])
    assert "kept" in set(table["stored_as"]), "the demo's carried actions are kept"
    assert [str(d)[:10] for d in table["due_date"]] == [str(d)[:10] for d in want["due_date"]]
    late = want["overdue"].astype(bool)
    assert late.any(), "carried 2025 actions are overdue"
    shown = table["overdue"]
    assert all(shown[late] == "⚠ " + want.loc[late, "days_overdue"].astype(str) + " days")
    assert all(shown[~late] == "")
