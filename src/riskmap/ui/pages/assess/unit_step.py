"""Step 1: the unit, its type, region, headcount and exposure profile.

Everyone reads it; only an administrator changes a unit (the service says so), through
the same record form as the ratings: keyed by the unit, saved at the version it was read.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from riskmap.service import edit_unit
from riskmap.ui import state
from riskmap.ui.pages.assess import form, place
from riskmap.ui.pages.assess.form import Record
from riskmap.ui.widgets import escape_md, field_error, level_label, present

FIELDS = {"unit name": "name", "name": "name", "headcount": "headcount", "exposure": "exposure"}


def _unit_row(code: str) -> dict[str, Any] | None:
    units = state.read("list_units", include_retired=True)
    hit = units[units["code"] == code]
    return hit.iloc[0].to_dict() if len(hit) else None


def saved_values(unit: dict[str, Any], factors: list[str], low: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": unit["name"],
        "region": unit["region"] or "",
        "headcount": int(unit["headcount"] or 0),
        "reason": "",
    }
    for f in factors:
        out[f"x-{f}"] = int((unit["exposure"] or {}).get(f, low))
    return out


def save(rec: Record, factors: list[str]) -> None:
    after = form.save(
        rec,
        FIELDS,
        edit_unit,
        rec.unit,
        reason=form.value(rec, "reason"),
        name=form.value(rec, "name"),
        region=str(form.value(rec, "region")).strip(),
        headcount=int(form.value(rec, "headcount")),
        exposure={f: int(form.value(rec, f"x-{f}")) for f in factors},
    )
    if after is not None:
        form.notice(f"Saved unit {rec.unit}.")


def render(code: str) -> None:
    cat = state.service().catalogue
    unit = _unit_row(code)
    if unit is None:
        st.error(f"Unit {code} is no longer in the unit list.")
        return
    scale = cat.method.exposure
    factors = [f.id for f in scale.factors]
    utype = cat.unit_type_by_id.get(unit["unit_type"])
    editable = state.can(edit_unit)
    rec = Record("unit", code)
    saved = saved_values(unit, factors, scale.min)
    errors = form.open_form(rec, saved, int(unit["version"]))

    st.subheader(f"{escape_md(code)} · {escape_md(unit['name'])}")
    facts = [
        ("Unit type", utype.name if utype else unit["unit_type"]),
        ("Region", unit["region"] if present(unit["region"]) else "—"),
        ("Headcount", str(int(unit["headcount"] or 0))),
        ("Reports to", unit["parent"] if present(unit["parent"]) else "— (top level)"),
    ]
    for col, (label, value) in zip(st.columns(4), facts, strict=True):
        col.markdown(f"**{label}**  \n{escape_md(value)}")
    if utype:
        st.caption(utype.description)

    st.markdown(f"**{scale.name}**: {scale.question}")
    if not editable:
        st.caption(
            "Only an administrator can change a unit (name, region, headcount, exposure); "
            "tell them what is out of date."
        )
    keep = form.PERSIST
    c1, c2, c3 = st.columns(3)
    c1.text_input("Name", key=rec.key("name"), disabled=not editable, persist_state=keep)
    c2.text_input("Region", key=rec.key("region"), disabled=not editable, persist_state=keep)
    c3.number_input(
        "Headcount",
        key=rec.key("headcount"),
        min_value=0,
        step=1,
        disabled=not editable,
        persist_state=keep,
    )
    field_error(errors, "name")
    field_error(errors, "headcount")
    grid = st.columns(3)
    levels = list(range(scale.min, scale.max + 1))
    for i, factor in enumerate(scale.factors):
        with grid[i % 3]:
            st.select_slider(
                factor.name,
                options=levels,
                key=rec.key(f"x-{factor.id}"),
                format_func=lambda lv: level_label(scale, lv),
                help=factor.description,
                disabled=not editable,
                persist_state=keep,
            )
    field_error(errors, "exposure")
    if editable:
        st.text_input(
            "Why this change (kept in the audit trail)", key=rec.key("reason"), persist_state=keep
        )
        field_error(errors, "_form")
        form.show_unsaved(rec, {k: v for k, v in saved.items() if k != "reason"})
        form.conflict_panel(
            rec, saved, int(unit["version"]), {"name": "Name", "region": "Region",
                                               "headcount": "Headcount"}
        )  # fmt: skip
        st.button(
            "Save unit", key=rec.key("save"), type="primary", on_click=save, args=(rec, factors)
        )
    place.step_button("Next: risks →", "risks", "assess-to-2")
