"""Units of the organisation: list, add, edit, move, retire, and import a unit list.

Officers and managers read the list; changing units is the administrator's (the service's
role table decides, and the page follows it). An import is checked row by row first and
applied all or nothing.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from riskmap.problems import Problem
from riskmap.service import (
    DomainError,
    ImportRejected,
    add_unit,
    edit_unit,
    import_units,
    move_unit,
    retire_unit,
)
from riskmap.service.imports import read_unit_table
from riskmap.ui import registry, state
from riskmap.ui.widgets import escape_md, labelled_table, level_label, table

ROLES = registry.roles_of("units")  # the registry is the one list
ss = st.session_state


def _units(include_retired: bool) -> pd.DataFrame:
    return state.read("list_units", include_retired=include_retired)


def _unit_table(units: pd.DataFrame) -> None:
    cat = state.service().catalogue
    shown = units.drop(columns=["version", "exposure"]).copy()
    shown["unit_type"] = shown["unit_type"].map(
        lambda t: cat.unit_type_by_id[t].name if t in cat.unit_type_by_id else t
    )
    shown["retired"] = shown["retired"].map({True: "retired", False: ""})
    labels = {"code": "Code", "name": "Name", "unit_type": "Unit type", "parent": "Reports to",
              "region": "Region", "headcount": "Headcount", "retired": "Status"}  # fmt: skip
    for f in cat.method.exposure.factors:
        shown[f.id] = units["exposure"].map(lambda x, f=f.id: (x or {}).get(f))
        labels[f.id] = f.name
    labelled_table(shown, labels)


def _form_error(key: str, exc: Exception) -> None:
    ss[key] = state.error_message(exc)


def _show_form_error(key: str) -> None:
    message = ss.pop(key, None)
    if message:
        st.error(escape_md(message), icon=":material/error:")


ADD = {"units-add-code": "", "units-add-name": "", "units-add-region": "", "units-add-headcount": 0}


def _add() -> None:
    """The add form's submit (a callback): kept on an error, emptied after a save."""
    code = str(ss.get("units-add-code", "")).strip()
    try:
        state.write(
            add_unit,
            code,
            ss.get("units-add-name", ""),
            ss.get("units-add-type"),
            parent=ss.get("units-add-parent"),
            region=ss.get("units-add-region", ""),
            headcount=int(ss.get("units-add-headcount", 0)),
        )
    except DomainError as exc:
        _form_error("units-add-error", exc)
        return
    state.flash(f"Added unit {code}.")
    ss.update(ADD)


def _add_form() -> None:
    cat = state.service().catalogue
    units = _units(False)
    for key, empty in ADD.items():
        ss.setdefault(key, empty)
    with st.form("unit-add", clear_on_submit=False):
        c1, c2 = st.columns(2)
        c1.text_input("Code (unique, e.g. BC-014)", key="units-add-code")
        c2.text_input("Name", key="units-add-name")
        types = [t.id for t in cat.unit_types]
        c1.selectbox(
            "Unit type",
            types,
            key="units-add-type",
            format_func=lambda t: cat.unit_type_by_id[t].name,
        )
        c2.selectbox(
            "Reports to",
            [None, *units["code"]],
            key="units-add-parent",
            format_func=lambda c: c or "— (top level)",
        )
        c1.text_input("Region", key="units-add-region")
        c2.number_input("Headcount", min_value=0, step=1, key="units-add-headcount")
        st.caption("The exposure profile starts from the unit type's; edit it afterwards.")
        st.form_submit_button("Add unit", type="primary", on_click=_add)
    _show_form_error("units-add-error")


def _edit_form(units: pd.DataFrame) -> None:
    cat = state.service().catalogue
    scale = cat.method.exposure
    code = st.selectbox("Unit", list(units["code"]), key="units-edit-code")
    if code is None:
        return
    unit = units[units["code"] == code].iloc[0]
    # The version read when this unit was picked: a save after someone else's is refused.
    with st.form(f"unit-edit-{code}-{unit['version']}"):
        c1, c2 = st.columns(2)
        name = c1.text_input("Name", value=unit["name"])
        types = [t.id for t in cat.unit_types]
        unit_type = c2.selectbox(
            "Unit type",
            types,
            index=types.index(unit["unit_type"]) if unit["unit_type"] in types else 0,
            format_func=lambda t: cat.unit_type_by_id[t].name,
        )
        region = c1.text_input("Region", value=unit["region"] or "")
        headcount = c2.number_input("Headcount", min_value=0, step=1, value=int(unit["headcount"]))
        levels = list(range(scale.min, scale.max + 1))
        exposure = {}
        cols = st.columns(3)
        for i, factor in enumerate(scale.factors):
            exposure[factor.id] = cols[i % 3].select_slider(
                factor.name,
                options=levels,
                value=int((unit["exposure"] or {}).get(factor.id, scale.min)),
                format_func=lambda lv: level_label(scale, lv),
                help=factor.description,
            )
        reason = st.text_input("Why this change (kept in the audit trail)")
        if st.form_submit_button("Save unit", type="primary"):
            state.write_and_rerun(
                "units-edit",
                f"Saved unit {code}.",
                edit_unit,
                code,
                expected_version=int(unit["version"]),
                reason=reason,
                name=name,
                unit_type=unit_type,
                region=region.strip(),
                headcount=int(headcount),
                exposure=exposure,
            )
    state.show_kept_error("units-edit")


def _move_retire(units: pd.DataFrame) -> None:
    left, right = st.columns(2)
    with left, st.form("unit-move"):
        st.markdown("**Move a unit**")
        code = st.selectbox("Unit", list(units["code"]), key="units-move-code")
        parent = st.selectbox(
            "New parent", [None, *units["code"]], format_func=lambda c: c or "— (top level)"
        )
        reason = st.text_input("Why", key="units-move-reason")
        if st.form_submit_button("Move"):
            version = int(units.loc[units["code"] == code, "version"].iloc[0])
            moved = f"Moved unit {code} under {parent or 'the top level'}."
            state.write_and_rerun(
                "units-move",
                moved,
                move_unit,
                code,
                parent,
                expected_version=version,
                reason=reason,
            )
    with right, st.form("unit-retire"):
        st.markdown("**Retire a unit**")
        code_r = st.selectbox("Unit", list(units["code"]), key="units-retire-code")
        reason_r = st.text_input("Why (required)", key="units-retire-reason")
        st.caption("A retired unit keeps its history and is left out of the next cycles.")
        if st.form_submit_button("Retire"):
            version = int(units.loc[units["code"] == code_r, "version"].iloc[0])
            state.write_and_rerun(
                "units-move",
                f"Retired unit {code_r}.",
                retire_unit,
                code_r,
                expected_version=version,
                reason=reason_r,
            )
    state.show_kept_error("units-move")


def _problems_frame(problems: list[Problem]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"row": p.row or "header", "column": p.column, "problem": p.message} for p in problems],
        columns=["row", "column", "problem"],
    )


def _import() -> None:
    st.markdown(
        "Columns: `code`, `name`, `unit_type` (catalogue id or name), and optionally "
        "`parent`, `region`, `headcount` and one column per exposure factor. Every row is "
        "checked first; the list is applied only if there is no problem at all."
    )
    upload = st.file_uploader(
        "Unit list (CSV or Excel)",
        type=["csv", "xlsx"],
        key=f"units-file-{ss.get('units-uploads', 0)}",  # a new key empties the uploader
    )
    update = st.checkbox("Update existing units from the file", key="units-update")
    if upload is None:
        return
    try:
        frame = read_unit_table(upload.getvalue(), upload.name)
    except DomainError as exc:
        state.show_error(exc)
        return
    st.markdown(f"**Preview: {len(frame)} row(s)**")
    table(frame)
    try:
        check = state.call("check_unit_import", frame, update_existing=update)
    except DomainError as exc:
        state.show_error(exc)
        return
    problems = check["problems"]
    if problems:
        st.error(
            f"{len(problems)} problem(s): fix the file and upload it again. Nothing was imported.",
            icon=":material/error:",
        )
        table(_problems_frame(problems))
        return
    st.success(
        f"Ready: {len(check['add'])} unit(s) to add, {len(check['update'])} to update.",
        icon=":material/task_alt:",
    )
    if st.button("Apply the whole list", type="primary", key="units-apply"):
        try:
            result = state.write(import_units, frame, update_existing=update, source=upload.name)
        except ImportRejected as exc:
            st.error("The list changed meanwhile; nothing was imported.")
            table(_problems_frame(exc.problems))
            return
        except DomainError as exc:
            state.show_error(exc)
            return
        state.flash(
            f"Imported {upload.name}: {len(result['added'])} unit(s) added, "
            f"{len(result['updated'])} updated."
        )
        ss["units-uploads"] = ss.get("units-uploads", 0) + 1
        st.rerun()


def render() -> None:
    state.require(*ROLES)
    state.show_flash()
    st.title("Units")
    include_retired = st.toggle("Show retired units", key="units-retired")
    units = _units(include_retired)
    st.caption(f"{len(units)} unit(s)")
    _unit_table(units)
    if not state.can(add_unit):
        st.caption(
            "Only an administrator can add, change, move, retire or import units "
            "(the service's rule); ask them."
        )
        return
    active = _units(False)
    # Keyed: an upload or a save reruns the page on the tab the administrator is on.
    tabs = st.tabs(
        ["Add", "Edit", "Move or retire", "Import a list"], key="units-tab", on_change="rerun"
    )
    with tabs[0]:
        _add_form()
    with tabs[1]:
        _edit_form(active)
    with tabs[2]:
        _move_retire(active)
    with tabs[3]:
        _import()
