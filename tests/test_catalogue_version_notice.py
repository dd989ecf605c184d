"""A cycle keeps its catalogue version and says so; the catalogue page says where items come from.

A catalogue change (a new release, or local overrides) is a new catalogue version. The
cycles started before keep their version; the workbook and the dashboard's sidebar then
tell the reader that the catalogue in force is another one.
"""

from __future__ import annotations

import dataclasses
import io

import sqlalchemy as sa
from openpyxl import load_workbook

import worked_example
from riskmap.catalogue import load_catalogue, version_notice
from riskmap.reports.snapshot import CycleSnapshot
from riskmap.reports.workbook import export_workbook
from ui_harness import app

OLD = "0123456789abcdef"


def test_notice_only_when_the_versions_differ():
    cat = load_catalogue()
    assert version_notice(cat.version, cat) is None
    assert version_notice(None, cat) is None
    notice = version_notice(OLD, cat)
    assert OLD in notice and cat.version in notice and "in force" in notice


def summary(snapshot, cat) -> dict:
    wb = load_workbook(io.BytesIO(export_workbook(snapshot, cat)))
    return {r[0].value: r[1].value for r in wb["Summary"].iter_rows(min_row=4) if r[0].value}


def test_workbook_keeps_the_cycle_version_and_names_the_catalogue_in_force():
    cat = load_catalogue()
    units, risks, controls = worked_example.border_post(cat, justification=True)
    same = CycleSnapshot(
        organisation="Example ministry",
        cycle_label="example",
        status="draft",
        catalogue_version=cat.version,
        units=units,
        risk_ratings=risks,
        control_ratings=controls,
    )
    pairs = summary(same, cat)
    assert pairs["Catalogue version"] == pairs["Catalogue in force"] == cat.version
    assert "is the one in force" in pairs["Catalogue notice"]

    older = summary(dataclasses.replace(same, catalogue_version=OLD), cat)
    assert older["Catalogue version"] == OLD
    assert older["Catalogue in force"] == cat.version
    assert older["Catalogue notice"] == version_notice(OLD, cat)


def test_sidebar_warns_when_the_cycle_in_view_was_started_under_another_catalogue(ui_db):
    engine = sa.create_engine(ui_db.url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE cycles SET catalogue_version = :v WHERE label = '2025'"), {"v": OLD}
        )
    engine.dispose()
    at = app()
    at.session_state["user"] = {
        "username": "demo.officer",
        "role": "officer",
        "display_name": "Demo officer",
    }
    at.run()
    assert not at.exception, at.exception
    assert not at.sidebar.warning  # 2026, in view by default, uses the catalogue in force
    assert any("Catalogue version" in c.value for c in at.sidebar.caption)
    at.sidebar.selectbox(key="sidebar-cycle").select("2025").run()
    warnings = [w.value for w in at.sidebar.warning]
    assert len(warnings) == 1 and OLD in warnings[0] and "in force" in warnings[0]


def test_catalogue_page_shows_key_controls_and_where_each_item_comes_from(ui_db):
    from ui_harness import page

    at = page("riskmap.ui.pages.catalogue", "auditor").run()
    assert not at.exception, at.exception
    cat = load_catalogue()
    risks, controls = at.dataframe[0].value, at.dataframe[1].value
    by_risk = risks.set_index("risk_id")
    for r in cat.risks:
        assert by_risk.loc[r.id, "key controls"] == ", ".join(r.key_controls)
    by_control = controls.set_index("control_id")
    practice = next(c for c in cat.controls if c.basis == "practice")
    assert by_control.loc[practice.id, "sources"].startswith("practice: ")
    cited = next(c for c in cat.controls if c.basis == "source")
    first = cited.sources[0]
    assert f'{first.source} {first.locator} "{first.quote}"' in by_control.loc[cited.id, "sources"]
