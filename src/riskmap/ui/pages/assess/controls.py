"""Step 3: the unit's controls, in a grid for quick edits or one control in detail.

The detail form is a `form.Record` like a risk's: maturity with the level descriptions
written for this control, evidence, a justification, and its own reason when the control
does not apply. The grid saves each changed row at the version it was read at; a row
refused (conflict, missing reason) stays as an edit, with the reason next to it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from riskmap.service import ConflictError, DomainError, rate_control
from riskmap.ui import state
from riskmap.ui.pages.assess import evidence_panel, form, place
from riskmap.ui.pages.assess.form import Record
from riskmap.ui.widgets import escape_md, field_error, level_label

VIEWS = ("grid", "detail")
VIEW_LABELS = {"grid": "Grid (quick edits)", "detail": "One control in detail"}
VIEW_KEY = "assess-controls-view"
GRID_FIELDS = ("maturity", "applicable", "evidence", "justification")

ss = st.session_state


def grid_prefix(cycle: str, code: str) -> str:
    return f"g|{cycle}|{code}|"


def grid_changes(base: pd.DataFrame, edited_rows: dict) -> list[tuple[str, int, dict[str, Any]]]:
    """The grid's edits as (control id, version read, changed values), in row order."""
    out = []
    for index, change in sorted(edited_rows.items(), key=lambda kv: int(kv[0])):
        row = base.iloc[int(index)]
        values = {k: change[k] for k in GRID_FIELDS if k in change}
        if values.get("maturity") is not None:
            values["maturity"] = int(values["maturity"])
        if "applicable" in values:
            values["applicable"] = bool(values["applicable"])
        for k in ("evidence", "justification"):
            if k in values and values[k] is None:
                values[k] = ""
        if values:
            out.append((str(row["control_id"]), int(row["version"]), values))
    return out


def _edits(g: str) -> dict[int, dict[str, Any]]:
    """Every unsaved edit of the grid, by row: the draft it was drawn with (edits made
    before the officer looked elsewhere) and the editor's edits since."""
    combined = {int(k): dict(v) for k, v in ss.get(f"{g}shown-draft", {}).items()}
    for k, v in ss.get(f"{g}editor", {}).get("edited_rows", {}).items():
        combined.setdefault(int(k), {}).update(v)
    return combined


def _keep_draft(g: str) -> None:
    """The editor's callback: keep its edits as the grid's draft, which outlives the
    editor (Streamlit drops a widget's state when it is not drawn)."""
    ss[f"{g}draft"] = _edits(g)


def save_grid(cycle: str, code: str) -> None:
    g = grid_prefix(cycle, code)
    base: pd.DataFrame = ss[f"{g}base"]
    edits = _edits(g)
    saved, problems, conflicts = [], [], []
    for control_id, version, values in grid_changes(base, edits):
        try:
            state.write(rate_control, cycle, code, control_id, expected_version=version, **values)
        except ConflictError as exc:
            conflicts.append(exc)
            continue
        except DomainError as exc:
            problems.append(f"{control_id}: {state.error_message(exc)}")
            continue
        saved.append(control_id)
        form.forget(Record("control", code, cycle, control_id))
    if saved:
        names = state.service().catalogue.control_by_id
        shown = [f"{names[c].name} ({c})" if c in names else c for c in saved]
        form.notice(
            f"Saved and confirmed {len(saved)} control(s) of unit {code}: {'; '.join(shown)}."
        )
    if not problems and not conflicts:
        state.forget([g])
        return
    ss[f"{g}problems"] = problems
    ss[f"{g}conflicts"] = conflicts
    if saved:  # keep the failed rows as edits; re-read the saved ones
        ids = list(base["control_id"])
        ss[f"{g}draft"] = {i: ch for i, ch in edits.items() if ids[i] not in saved}
        state.forget([f"{g}base", f"{g}editor", f"{g}shown-draft"])


def _maturity_options(control: Any, scale: Any) -> tuple[list[int], list[str]]:
    """The levels and, for each, the description written for this control (else the
    scale's), without the level name it repeats ("Nascent: ...")."""
    levels = list(range(scale.min, scale.max + 1))
    captions = []
    for lv in levels:
        text = (control.maturity.get(lv) if control is not None else None) or ""
        text = text or scale.levels[lv].definition
        captions.append(text.removeprefix(f"{scale.levels[lv].name}:").strip())
    return levels, captions


def grid(cycle: str, code: str, frame: pd.DataFrame, editable: bool) -> None:
    scale = state.service().catalogue.method.maturity
    g = grid_prefix(cycle, code)
    if f"{g}base" not in ss:
        cols = ["control", "applicable", "maturity", "evidence", "justification", "confirmed"]
        ss[f"{g}base"] = frame[[*cols, "control_id", "version"]].reset_index(drop=True)
    if f"{g}editor" not in ss:  # drawn anew: start from the draft kept
        ss[f"{g}shown-draft"] = ss.get(f"{g}draft", {})
    shown = ss[f"{g}base"].copy()
    for i, change in ss[f"{g}shown-draft"].items():
        for field, value in change.items():
            shown.at[int(i), field] = value
    st.data_editor(
        shown,
        key=f"{g}editor",
        on_change=_keep_draft,
        args=(g,),
        hide_index=True,
        width="stretch",
        disabled=not editable or ["control", "confirmed", "control_id", "version"],
        column_order=[
            "control",
            "applicable",
            "maturity",
            "evidence",
            "justification",
            "confirmed",
            "control_id",
        ],  # fmt: skip
        column_config={
            "control": st.column_config.TextColumn("Control", width="medium"),
            "applicable": st.column_config.CheckboxColumn("Applies"),
            "maturity": st.column_config.SelectboxColumn(
                "Maturity",
                options=list(range(scale.min, scale.max + 1)),
                format_func=lambda lv: level_label(scale, lv),
                required=True,
            ),
            "evidence": st.column_config.TextColumn("Evidence", width="medium"),
            "justification": st.column_config.TextColumn("Justification", width="medium"),
            "confirmed": st.column_config.CheckboxColumn("Confirmed"),
            "control_id": st.column_config.TextColumn("Id", width="small"),
        },
    )
    for problem in ss.get(f"{g}problems", []):
        st.error(escape_md(problem), icon=":material/error:")
    for exc in ss.get(f"{g}conflicts", []):
        state.show_error(exc, key=f"{g}{exc.what}", forget_keys=[g])
    if editable:
        pending = len(_edits(g))
        if pending:
            st.caption(
                f":orange[{pending} row(s) changed, not saved yet: kept while you look "
                "elsewhere in this session.]"
            )
        st.button(
            f"Save {pending} changed row(s) and confirm them" if pending else "No changes to save",
            key=f"{g}save",
            type="primary",
            disabled=not pending,
            on_click=save_grid,
            args=(cycle, code),
        )


def saved_values(row: pd.Series) -> dict[str, Any]:
    applies = bool(row["applicable"])
    text = row["justification"] or ""
    return {
        "app": applies,
        "m": int(row["maturity"]),
        "e": row["evidence"] or "",
        "j": text if applies else "",
        "na": "" if applies else text,
    }


def save_detail(rec: Record) -> None:
    """Save control `rec` (the form's own identity)."""
    applies = bool(form.value(rec, "app"))
    after = form.save(
        rec,
        {"maturity": "m", "justification": "j" if applies else "na"},
        rate_control,
        rec.cycle,
        rec.unit,
        rec.item,
        maturity=int(form.value(rec, "m")),
        applicable=applies,
        evidence=form.value(rec, "e"),
        justification=form.value(rec, "j" if applies else "na"),
    )
    if after is None:
        return
    state.forget([grid_prefix(rec.cycle, rec.unit)])  # the grid re-reads the saved version
    control = state.service().catalogue.control_by_id.get(rec.item)
    name = f"{control.name} ({rec.item})" if control else rec.item
    form.notice(f"Saved and confirmed control {name} for unit {rec.unit}.")


def _picker_label(control_id: str, row: pd.Series) -> str:
    return f"{row['control']} ({control_id})"


def detail(cycle: str, code: str, frame: pd.DataFrame, where: place.Place, editable: bool) -> None:
    cat = state.service().catalogue
    scale = cat.method.maturity
    row, rec, saved, errors = form.open_picked(
        cycle, where, frame, "control", "Control", _picker_label, saved_values
    )
    control_id = rec.item
    control = cat.control_by_id.get(control_id)
    title = control.name if control else row["control"]
    with form.rating_box(rec, title, control.description if control else None):
        if control is not None:
            risks = state.read("risk_ratings", cycle, unit=code)
            here = set(risks.loc[risks["applicable"], "risk_id"])
            mitigated = [f"{r} ({s})" for r, s in control.mitigates.items() if r in here]
            if mitigated:
                st.caption("Mitigates in this unit: " + ", ".join(mitigated))
        applies = form.status_and_applies(rec, row, "control", editable)
        if applies:
            levels, captions = _maturity_options(control, scale)
            st.radio(
                f"{scale.name}: {scale.question}",
                levels,
                key=rec.key("m"),
                format_func=lambda lv: level_label(scale, lv),
                captions=captions,
                disabled=not editable,
                persist_state=form.PERSIST,
            )
            field_error(errors, "m")
            if control is not None:
                st.caption("Evidence that shows it: the checklist below, with its items")
            evidence = "Evidence (documents, records, where they are)"
            form.text_field(rec, "e", evidence, editable, height=80)
            form.text_field(rec, "j", "Justification", editable, height=80)
            field_error(errors, "j")
        else:
            form.not_applicable_reason(rec, "control", editable, errors, height=80)
        labels = {"app": "Applies", "m": "Maturity", "e": "Evidence", "j": "Justification"}
        form.rating_feedback(rec, saved, int(row["version"]), errors, labels)
        if editable:
            st.button(
                "Save and confirm control",
                key=rec.key("save"),
                type="primary",
                on_click=save_detail,
                args=(rec,),
            )
    if control is not None:
        evidence_panel.render(cycle, code, control, editable)


def render(cycle: str, code: str, where: place.Place, editable: bool) -> None:
    frame = state.read("control_ratings", cycle, unit=code)
    if frame.empty:
        st.info(f"No control of the catalogue applies to unit {code}.")
    else:
        done = int(frame["confirmed"].sum())
        st.subheader(f"Controls of {code}: {done} of {len(frame)} confirmed")
        # A radio, not tabs: the choice survives the rerun after a save.
        if ss.get(VIEW_KEY) not in VIEWS:
            ss[VIEW_KEY] = "detail" if where.control else "grid"
        view = st.radio(
            "View",
            VIEWS,
            key=VIEW_KEY,
            format_func=VIEW_LABELS.get,
            horizontal=True,
            label_visibility="collapsed",
        )
        if view == "grid":
            grid(cycle, code, frame, editable)
        else:
            detail(cycle, code, frame, where, editable)
    place.step_button("Next: summary →", "summary", "assess-to-4")
