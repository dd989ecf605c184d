"""Heat maps: units x risk scenarios, the likelihood x impact matrix, maturity by principle.

Everything is read once per cycle and data version (`service.cycle_map`, cached; the top
missing controls, `service.top_missing`, only once units are drawn, and the register after
the plan only for that view) and drawn
by the chart core: the map is `riskmap.charts.heatmap` (rows grouped by unit type, columns
by trafficking stage, the score written in every cell, the hover in words with the top
missing controls), switched between inherent, residual and residual after the plan, and
filtered by unit type, region, stage and band, every view on the columns of the map now.
Past `GROUP_FROM` units the map opens on groups (unit type or region, `group_heatmap`) and
a group opens to its units. A unit picked in the list, or clicked on the map, opens its
profile: risks, control gaps, actions, calibration flags, history. The Trafficking chain
tab is `riskmap.ui.chain_section`; the camera button downloads any map as PNG or SVG.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from riskmap.catalogue import Catalogue
from riskmap.charts import (
    GROUPINGS,
    IMAGE_FORMATS,
    cell_of,
    group_heatmap,
    heatmap,
    heatmap_order,
    image_config,
    matrix_pair,
    principle_heatmap,
    with_pick_layer,
)
from riskmap.scoring.aggregate import maturity_of_units_by_type
from riskmap.ui import registry, views
from riskmap.ui.chain_section import render_chain
from riskmap.ui.pages._shared import open_cycle_page, read
from riskmap.ui.unit_profile_section import unit_section
from riskmap.ui.widgets import escape_md, plotly_points

ROLES = registry.roles_of("heatmaps")  # the registry is the one list
KEY = "hm-"
PAGE_ROWS = 200  # units drawn at once: a national map is paged, so the browser stays quick
SCROLL_ROWS = 36  # taller maps scroll inside a box, so the unit profile stays in reach
MAP_BOX_PX = 760
GROUP_FROM = 60  # more units than this open on the map of groups (type or region) first


def _names(cat: Catalogue) -> dict[str, dict[str, str]]:
    return {
        "unit_type": {t.id: t.name for t in cat.unit_types},
        "stage": {s.id: s.name for s in cat.stages},
        "band": {b.id: b.name for b in cat.method.bands},
    }


def _filters(register: pd.DataFrame, cat: Catalogue) -> dict[str, Any]:
    options = views.filter_options(register, cat)
    names = _names(cat)
    left, *cols = st.columns([1.2, 1.2, 1, 1, 1])
    view = left.radio(
        "Show",
        list(views.VIEWS),
        format_func=views.VIEWS.get,
        key=f"{KEY}view",
        help="Inherent: likelihood x impact before controls. Residual: after the controls as "
        "rated. After the plan: once the cycle's actions (not cancelled) are carried out.",
    )

    def pick(column: Any, label: str, field: str, key: str, every: str, **kw: Any) -> list:
        """A filter on one field of the register: its values, named from the catalogue."""
        words = names.get(field, {})
        return column.multiselect(
            label,
            options[field],
            format_func=lambda v: words.get(v, v),
            key=f"{KEY}{key}",
            placeholder=every,
            **kw,
        )

    types = pick(cols[0], "Unit type", "unit_type", "types", "All unit types")
    regions = pick(cols[1], "Region", "region", "regions", "All regions")
    stages = pick(cols[2], "Stage", "stage", "stages", "All stages")
    bands = pick(
        cols[3],
        "Band",
        "band",
        "bands",
        "All bands",
        help="Keep the cells in these bands (of the score shown).",
    )
    return {"view": view, "types": types, "regions": regions, "stages": stages, "bands": bands}


def render() -> None:
    opened = open_cycle_page(
        ROLES, "Heat maps", ("cycle_map", {"missing_per_pair": 0, "after": False})
    )
    if opened is None:
        return
    cycle, cat, (cmap,) = opened
    if cmap.register.empty:
        st.info(f"No applicable unit x risk pair is rated in cycle {escape_md(cycle)} yet.")
        return

    chosen = _filters(cmap.register, cat)
    view = chosen["view"]
    if view == "after":  # the register after the plan is scored only for this view
        cmap = read("cycle_map", cycle, missing_per_pair=0)
    value = "inherent" if view == "inherent" else "residual"
    common = {
        "unit_types": chosen["types"],
        "regions": chosen["regions"],
        "stages": chosen["stages"],
    }
    now = views.filter_register(cmap.register, **common)
    source = cmap.register_after if view == "after" else cmap.register
    shown = views.filter_register(
        source, **common, bands=chosen["bands"], band_column=f"{value}_band"
    )
    # Every view has the columns of the map now (under the unit, region and stage filters),
    # so "now" and "after the plan" line up; the band filter narrows rows, never columns.
    rows, _ = heatmap_order(now if view == "after" else shown, cat)
    _, cols = heatmap_order(now, cat)
    present_units = set(shown["unit_code"])
    rows = [u for u in rows if u in present_units]

    tab_map, tab_chain, tab_matrix, tab_maturity = st.tabs(
        ["Units x risk scenarios", "Trafficking chain", "Likelihood x impact", "Maturity"]
    )
    with tab_chain:
        render_chain(views.filter_register(source, **common), cat, cycle, _picture())
    picked = None
    with tab_map:
        picked = _map(cycle, cmap, shown, view, value, rows, cols, cat)
    with tab_matrix:
        st.caption(
            "How many unit x risk pairs sit in each cell of the 5 x 5 matrix: inherent "
            "(likelihood x impact) beside residual (residual likelihood, rounded half up, x "
            "impact). The filters above apply" + (", after the plan." if view == "after" else ".")
        )
        st.plotly_chart(
            matrix_pair(shown, cat),
            width="stretch",
            key=f"{KEY}matrix",
            config=image_config(f"riskmap-matrix-{cycle}", _picture()),
        )
    with tab_maturity:
        st.caption(
            "Mean maturity of the applicable controls of each OECD principle, per unit type, "
            "over the units the filters keep (0 not in place ... 4 leading)."
        )
        maturity = maturity_of_units_by_type(cmap.maturity, present_units)
        st.plotly_chart(
            principle_heatmap(maturity, cat),
            width="stretch",
            key=f"{KEY}maturity",
            config=image_config(f"riskmap-maturity-{cycle}", _picture()),
        )

    st.divider()
    unit_section(cycle, now if view == "after" else shown, picked, cat, key=KEY)


def _picture() -> str:
    """The picture format chosen under the map (PNG until someone picks SVG)."""
    fmt = st.session_state.get(f"{KEY}picture")
    return fmt if fmt in IMAGE_FORMATS else IMAGE_FORMATS[0]


def _map(cycle, cmap, shown, view, value, rows, cols, cat) -> str | None:
    """Draw the units x risks map; return the unit of a clicked cell (if any)."""
    titles = {
        "residual": f"Residual risk by unit and risk scenario, cycle {cycle}",
        "inherent": f"Inherent risk by unit and risk scenario, cycle {cycle}",
        "after": f"Residual risk after the plan ({cmap.actions_applied} actions), cycle {cycle}",
    }
    st.caption(
        f"{len(rows):,} units x {len(cols):,} risk scenarios. Rows are grouped by unit type "
        "(most exposed first), columns by stage of the trafficking chain; the score is written "
        "in each cell. Hover a cell for its meaning in words; click one, or pick a unit "
        "below, to open the unit's profile."
    )
    if not rows:
        st.info("No unit x risk pair passes these filters: widen them.")
        return None
    fmt = _picture()
    if len(rows) > GROUP_FROM:
        rows = _grouped(cycle, shown, view, value, rows, cols, cat, fmt)
        if rows is None:
            return None
    rows = _page(rows, shown, cat)
    fig = heatmap(
        shown,
        cat,
        value,
        title=titles[view],
        top_missing=None if view == "after" else read("top_missing", cycle),
        row_order=rows,
        col_order=cols,
    )
    with_pick_layer(fig)
    box = st.container(height=MAP_BOX_PX) if len(rows) > SCROLL_ROWS else st.container()
    with box:
        event = _clickable(fig, f"{KEY}map", image_config(f"riskmap-{view}-{cycle}", fmt))
    st.radio(
        "Picture format",
        IMAGE_FORMATS,
        format_func=str.upper,
        horizontal=True,
        key=f"{KEY}picture",
        help="The camera button at the top right of a map downloads its picture.",
    )
    return views.unit_at(plotly_points(event), rows)


def _clickable(fig: Any, key: str, config: dict) -> Any:
    """Draw a map whose cells pick on click (the page runs again with the points picked)."""
    return st.plotly_chart(
        fig, width="content", key=key, on_select="rerun", selection_mode="points", config=config
    )


def _grouped(cycle, shown, view, value, rows, cols, cat, fmt) -> list[str] | None:
    """At ministry scale: the map of groups first; the rows of the group opened (or None)."""
    by = st.radio(
        "Group the units by",
        list(GROUPINGS),
        format_func=GROUPINGS.get,
        horizontal=True,
        key=f"{KEY}group-by",
    )
    fig = group_heatmap(
        shown,
        cat,
        by,
        value,
        title=f"Worst {value} risk by {GROUPINGS[by]}, cycle {cycle}",
        col_order=cols,
    )
    with_pick_layer(fig, marker_px=24)
    picture = image_config(f"riskmap-{view}-{cycle}-by-{by}", fmt)
    event = _clickable(fig, f"{KEY}groups-{by}", picture)
    groups = list(fig.layout.meta["groups"]) if fig.data else []
    names = dict(zip(groups, fig.layout.meta["names"], strict=True)) if groups else {}
    key = f"{KEY}group-{by}"
    cell = cell_of(plotly_points(event))
    if cell is not None and cell[0] < len(groups) and cell != st.session_state.get(f"{key}-cell"):
        st.session_state[f"{key}-cell"] = cell
        st.session_state[key] = groups[cell[0]]
    if st.session_state.get(key) not in ["", *groups]:
        st.session_state[key] = ""
    group = st.selectbox(
        f"Open a {GROUPINGS[by]}",
        ["", *groups],
        key=key,
        format_func=lambda g: names.get(g, f"Choose a {GROUPINGS[by]} (or click its row)"),
    )
    if not group:
        st.caption(
            f"{len(rows):,} units in {len(groups)} groups: click a cell or choose a "
            f"{GROUPINGS[by]} to see its units, then a unit for its profile."
        )
        return None
    members = set(shown.loc[shown[by].fillna("").astype(str) == group, "unit_code"])
    st.markdown(f"**{escape_md(names[group])}**: {len(members):,} units")
    return [u for u in rows if u in members]


def _page(rows: list[str], shown: pd.DataFrame, cat: Catalogue) -> list[str]:
    """The rows of the map's current page (all of them when they fit on one)."""
    n_pages = views.page_count(len(rows), PAGE_ROWS)
    if n_pages == 1:
        return rows
    key = f"{KEY}page"
    if not 1 <= int(st.session_state.get(key, 1)) <= n_pages:
        st.session_state[key] = 1
    left, right = st.columns([1, 4], vertical_alignment="bottom")
    page = left.number_input("Page of the map", min_value=1, max_value=n_pages, step=1, key=key)
    part = views.page_of(rows, int(page), PAGE_ROWS)
    names = {t.id: t.name for t in cat.unit_types}
    types = pd.unique(shown.loc[shown["unit_code"].isin(part), "unit_type"])
    right.caption(
        f"Units {views.page_span(len(rows), int(page), PAGE_ROWS)} of {len(rows):,} "
        f"({', '.join(names.get(t, t) for t in types)}). The map draws {PAGE_ROWS} units "
        "at a time so that it stays quick in the browser; filter by unit type or region to "
        "narrow it, or page through."
    )
    return part
