"""The guided assessment walk-through: one unit at a time, in four steps.

1. the unit (type, region, headcount, exposure profile);
2. its risks: likelihood and impact on the declared scales, with every level's written
   definition, prefilled from last cycle (or the catalogue default); a change asks for a
   justification and "does not apply" for a reason;
3. its controls: maturity with the level descriptions written for each control, evidence
   and justification, in a grid for quick work or one control in detail;
4. a summary: inherent and residual risk of the unit now, what changed since last cycle,
   what is still unconfirmed, and a confirm button.

Officers edit a draft cycle; every other role (and every cycle past draft) reads. Every
save goes through the service (role, cycle status, version, audit). The version an edit
started from is kept with the edit, so a save after someone else's save is refused as a
conflict (shown with who changed what, and a Reload), never written over.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from riskmap.service import (
    ConflictError,
    DomainError,
    ValidationError,
    confirm_ratings,
    edit_unit,
    rate_control,
    rate_risk,
)
from riskmap.ui import state
from riskmap.ui.registry import ALL_ROLES
from riskmap.ui.widgets import (
    band_text,
    escape_md,
    field_error,
    level_label,
    present,
    progress,
    style_bands,
    validation_errors,
)

STEPS = ("1. Unit", "2. Risks", "3. Controls", "4. Summary")
STEP_KEY = "assess-step"
CONTROL_VIEWS = ("Grid (quick edits)", "One control in detail")
UNIT_KEY = "assess-unit"

ss = st.session_state


# -- reads -------------------------------------------------------------------------------


def _units_in_cycle(cycle: str) -> pd.DataFrame:
    frames = state.read("cycle_frames", cycle)
    units = frames.units.copy()
    for kind, frame in (("risk", frames.risk_ratings), ("control", frames.control_ratings)):
        counts = frame.groupby("unit_id")["confirmed"].agg(["sum", "count"])
        units[f"{kind}_done"] = units["unit_id"].map(counts["sum"]).fillna(0).astype(int)
        units[f"{kind}_total"] = units["unit_id"].map(counts["count"]).fillna(0).astype(int)
    units["done"] = units["risk_done"] + units["control_done"]
    units["total"] = units["risk_total"] + units["control_total"]
    return units


def _unit_row(code: str) -> dict[str, Any] | None:
    units = state.read("list_units", include_retired=True)
    hit = units[units["code"] == code]
    return hit.iloc[0].to_dict() if len(hit) else None


# -- flow between units and steps --------------------------------------------------------


def _go(step: int) -> None:
    ss[STEP_KEY] = STEPS[step]


def _go_unit(code: str, step: int = 0) -> None:
    ss[UNIT_KEY] = code
    ss[STEP_KEY] = STEPS[step]


def _header(cycle: str, info: dict, units: pd.DataFrame) -> str | None:
    st.title("Assess")
    total = info["risk_ratings"] + info["control_ratings"]
    done = total - info["risk_ratings_unconfirmed"] - info["control_ratings_unconfirmed"]
    progress(done, total, f"Cycle {cycle}: ratings")
    if units.empty:
        st.info(f"Cycle {cycle} has no units to assess.")
        return None
    codes = list(units["unit_id"])
    if ss.get(UNIT_KEY) not in codes:
        pending = units[units["done"] < units["total"]]
        ss[UNIT_KEY] = pending["unit_id"].iloc[0] if len(pending) else codes[0]
    by_code = units.set_index("unit_id")

    def label(code: str) -> str:
        row = by_code.loc[code]
        mark = "✓" if row["done"] == row["total"] else f"{row['done']}/{row['total']}"
        return f"{code} · {row['unit']} · {mark}"

    left, right = st.columns([4, 1], vertical_alignment="bottom")
    left.selectbox("Unit", codes, key=UNIT_KEY, format_func=label)
    pending = [c for c in codes if by_code.loc[c, "done"] < by_code.loc[c, "total"]]
    current = ss[UNIT_KEY]
    after = [c for c in pending if c > current] or [c for c in pending if c != current]
    right.button(
        "Next unit to confirm",
        key="assess-next-unit",
        disabled=not after,
        on_click=_go_unit,
        args=(after[0] if after else current,),
        width="stretch",
    )
    row = by_code.loc[current]
    progress(int(row["done"]), int(row["total"]), f"Unit {current}: ratings")
    return current


# -- shared by the forms -----------------------------------------------------------------


def _submit(
    p: str, fields: dict[str, str], fn: Any, /, *args: Any, **kwargs: Any
) -> dict[str, Any] | None:
    """Save a form through the service; None when refused.

    A conflict is kept under `{p}conflict`, validation errors under `{p}err` (keyed by the
    form's field suffixes in `fields`), any other refusal as the form's `_form` error. On
    success the form's version `{p}v` moves to the saved one and its errors are cleared.
    """
    try:
        after = state.write(fn, *args, **kwargs)
    except ConflictError as exc:
        ss[f"{p}conflict"] = exc
        return None
    except ValidationError as exc:
        ss[f"{p}err"] = validation_errors(exc, fields)
        return None
    except DomainError as exc:
        ss[f"{p}err"] = {"_form": state.error_message(exc)}
        return None
    ss[f"{p}v"] = after["version"]
    ss[f"{p}err"] = {}
    return after


def _show_conflict(p: str) -> None:
    conflict = ss.get(f"{p}conflict")
    if conflict is not None:
        state.show_error(conflict, key=p, forget_keys=[p])


def _pick(
    frame: pd.DataFrame, id_col: str, name_col: str, pick_key: str, label: str
) -> tuple[list[str], str, pd.Series]:
    """A selectbox over the frame's rows (the first unconfirmed one picked at first):
    (ids in order, the picked id, its row)."""
    ids = list(frame[id_col])
    if ss.get(pick_key) not in ids:
        unconfirmed = frame.loc[~frame["confirmed"], id_col]
        ss[pick_key] = unconfirmed.iloc[0] if len(unconfirmed) else ids[0]
    rows = frame.set_index(id_col)
    st.selectbox(
        label,
        ids,
        key=pick_key,
        format_func=lambda i: (
            f"{'✓' if rows.loc[i, 'confirmed'] else '○'} {i} · {rows.loc[i, name_col]}"
        ),
    )
    picked = ss[pick_key]
    return ids, picked, rows.loc[picked]


def _status_caption(row: pd.Series) -> None:
    st.caption(
        f"Status: {'confirmed' if row['confirmed'] else 'not confirmed yet'}"
        + (f" · last saved by {escape_md(row['updated_by'])}" if present(row["updated_by"]) else "")
    )


# -- step 1: the unit --------------------------------------------------------------------


def _save_unit(code: str, p: str, factors: list[str]) -> None:
    values = {
        "name": ss[f"{p}name"],
        "region": ss[f"{p}region"].strip(),
        "headcount": int(ss[f"{p}headcount"]),
        "exposure": {f: int(ss[f"{p}x-{f}"]) for f in factors},
    }
    after = _submit(
        p,
        {"unit name": "name", "headcount": "headcount", "exposure": "exposure"},
        edit_unit,
        code,
        expected_version=ss[f"{p}v"],
        reason=ss[f"{p}reason"],
        **values,
    )
    if after is None:
        return
    state.flash(f"Saved unit {code}.")


def _step_unit(code: str) -> None:
    cat = state.service().catalogue
    unit = _unit_row(code)
    if unit is None:
        st.error(f"Unit {code} is no longer in the unit list.")
        return
    scale = cat.method.exposure
    factors = [f.id for f in scale.factors]
    utype = cat.unit_type_by_id.get(unit["unit_type"])
    editable = state.can(edit_unit)
    p = f"u|{code}|"
    if f"{p}v" not in ss:
        ss[f"{p}v"] = int(unit["version"])
        ss[f"{p}name"] = unit["name"]
        ss[f"{p}region"] = unit["region"] or ""
        ss[f"{p}headcount"] = int(unit["headcount"] or 0)
        ss[f"{p}reason"] = ""
        for f in factors:
            ss[f"{p}x-{f}"] = int((unit["exposure"] or {}).get(f, scale.min))
    errors: dict[str, str] = ss.get(f"{p}err", {})

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
    c1, c2, c3 = st.columns(3)
    c1.text_input("Name", key=f"{p}name", disabled=not editable)
    c2.text_input("Region", key=f"{p}region", disabled=not editable)
    c3.number_input("Headcount", key=f"{p}headcount", min_value=0, step=1, disabled=not editable)
    field_error(errors, "name")
    field_error(errors, "headcount")
    grid = st.columns(3)
    levels = list(range(scale.min, scale.max + 1))
    for i, factor in enumerate(scale.factors):
        with grid[i % 3]:
            st.select_slider(
                factor.name,
                options=levels,
                key=f"{p}x-{factor.id}",
                format_func=lambda lv: level_label(scale, lv),
                help=factor.description,
                disabled=not editable,
            )
    field_error(errors, "exposure")
    if editable:
        st.text_input("Why this change (kept in the audit trail)", key=f"{p}reason")
        field_error(errors, "_form")
        _show_conflict(p)
        st.button(
            "Save unit",
            key=f"{p}save",
            type="primary",
            on_click=_save_unit,
            args=(code, p, factors),
        )
    st.button("Next: risks →", key="assess-to-2", on_click=_go, args=(1,))


# -- step 2: risks -----------------------------------------------------------------------


def _risk_prefix(cycle: str, code: str, risk_id: str) -> str:
    return f"r|{cycle}|{code}|{risk_id}|"


def _save_risk(cycle: str, code: str, risk_id: str, then: str | None) -> None:
    p = _risk_prefix(cycle, code, risk_id)
    after = _submit(
        p,
        {"likelihood": "l", "impact": "i", "justification": "j"},
        rate_risk,
        cycle,
        code,
        risk_id,
        expected_version=ss[f"{p}v"],
        likelihood=int(ss[f"{p}l"]),
        impact=int(ss[f"{p}i"]),
        applicable=bool(ss[f"{p}app"]),
        justification=ss[f"{p}j"],
    )
    if after is None:
        return
    state.flash(f"Saved and confirmed risk {risk_id} for unit {code}.")
    if then is not None:
        ss[f"assess-risk|{cycle}|{code}"] = then


def _risk_overview(frame: pd.DataFrame) -> None:
    shown = pd.DataFrame(
        {
            "risk": frame["risk_id"] + " · " + frame["risk"].fillna(""),
            "applies": frame["applicable"],
            "likelihood": frame["likelihood"],
            "impact": frame["impact"],
            "inherent": frame["likelihood"] * frame["impact"],
            "confirmed": frame["confirmed"],
            "justification": frame["justification"],
        }
    )
    st.dataframe(shown, hide_index=True, width="stretch", height=min(38 + 35 * len(shown), 460))


def _step_risks(cycle: str, code: str, editable: bool) -> None:
    cat = state.service().catalogue
    method = cat.method
    frame = state.read("risk_ratings", cycle, unit=code)
    if frame.empty:
        st.info(f"No risk scenario applies to unit {code} in cycle {cycle}.")
        st.button("Next: controls →", key="assess-to-3", on_click=_go, args=(2,))
        return
    done = int(frame["confirmed"].sum())
    st.subheader(f"Risks of {code}: {done} of {len(frame)} confirmed")
    _risk_overview(frame)

    ids, risk_id, row = _pick(
        frame, "risk_id", "risk", f"assess-risk|{cycle}|{code}", "Risk scenario"
    )
    risk = cat.risk_by_id.get(risk_id)
    position = ids.index(risk_id)
    following = ids[position + 1] if position + 1 < len(ids) else None

    p = _risk_prefix(cycle, code, risk_id)
    if f"{p}v" not in ss:
        ss[f"{p}v"] = int(row["version"])
        ss[f"{p}app"] = bool(row["applicable"])
        ss[f"{p}l"] = int(row["likelihood"])
        ss[f"{p}i"] = int(row["impact"])
        ss[f"{p}j"] = row["justification"] or ""
    errors: dict[str, str] = ss.get(f"{p}err", {})

    with st.container(border=True):
        st.markdown(f"#### {risk_id} · {risk.title if risk else row['risk']}")
        if risk is not None:
            st.write(risk.description)
            with st.expander("Red flags to look for"):
                for flag in risk.red_flags:
                    st.markdown(f"- {flag}")
        _status_caption(row)
        st.toggle("This scenario applies to the unit", key=f"{p}app", disabled=not editable)
        applies = bool(ss[f"{p}app"])
        base_l, base_i = row.get("baseline_likelihood"), row.get("baseline_impact")
        source = "last cycle's rating" if _has_previous(cycle) else "catalogue default"
        if pd.notna(base_l) and pd.notna(base_i):
            base_l, base_i = int(base_l), int(base_i)
            st.caption(
                f"Starting point ({source}): likelihood {level_label(method.likelihood, base_l)}"
                f" × impact {level_label(method.impact, base_i)} = {base_l * base_i}"
            )
        left, right = st.columns(2)
        for col, scale, suffix in ((left, method.likelihood, "l"), (right, method.impact, "i")):
            with col:
                levels = list(range(scale.min, scale.max + 1))
                st.radio(
                    f"{scale.name}: {scale.question}",
                    levels,
                    key=f"{p}{suffix}",
                    format_func=lambda lv, s=scale: level_label(s, lv),
                    captions=[scale.levels[lv].definition for lv in levels],
                    disabled=not editable or not applies,
                )
                field_error(errors, suffix)
        changed = pd.notna(base_l) and (ss[f"{p}l"], ss[f"{p}i"]) != (base_l, base_i)
        if not applies:
            label = "Why does this scenario not apply to the unit? (required)"
        elif changed:
            label = f"Why does the rating differ from the {source}? (required)"
        else:
            label = "Justification (optional when you keep the starting point)"
        st.text_area(label, key=f"{p}j", height=90, disabled=not editable)
        needs_text = (not applies or changed) and not str(ss[f"{p}j"]).strip()
        if editable and needs_text and "j" not in errors:
            st.caption(
                ":orange[A justification is needed before this can be saved: evidence, "
                "incidents, changed procedures.]"
            )
        field_error(errors, "j")
        field_error(errors, "_form")
        st.caption(
            f"Inherent risk with these values: {ss[f'{p}l']} × {ss[f'{p}i']} = "
            f"{ss[f'{p}l'] * ss[f'{p}i']} ({band_text(cat.band_for(ss[f'{p}l'] * ss[f'{p}i']).id)})"
            if applies
            else "Not applicable: left out of the unit's scores."
        )
        _show_conflict(p)
        if editable:
            b1, b2, _ = st.columns([1, 1, 2])
            b1.button(
                "Save and confirm",
                key=f"{p}save",
                type="primary",
                on_click=_save_risk,
                args=(cycle, code, risk_id, None),
                width="stretch",
            )
            b2.button(
                "Save, next risk →" if following else "Save",
                key=f"{p}save-next",
                on_click=_save_risk,
                args=(cycle, code, risk_id, following),
                width="stretch",
            )
    st.button("Next: controls →", key="assess-to-3", on_click=_go, args=(2,))


def _has_previous(cycle: str) -> bool:
    return bool(state.read("get_cycle", cycle).get("previous"))


# -- step 3: controls --------------------------------------------------------------------


def _control_prefix(cycle: str, code: str, control_id: str) -> str:
    return f"c|{cycle}|{code}|{control_id}|"


def _grid_prefix(cycle: str, code: str) -> str:
    return f"g|{cycle}|{code}|"


def _save_control(cycle: str, code: str, control_id: str) -> None:
    p = _control_prefix(cycle, code, control_id)
    after = _submit(
        p,
        {"maturity": "m", "justification": "j"},
        rate_control,
        cycle,
        code,
        control_id,
        expected_version=ss[f"{p}v"],
        maturity=int(ss[f"{p}m"]),
        applicable=bool(ss[f"{p}app"]),
        evidence=ss[f"{p}e"],
        justification=ss[f"{p}j"],
    )
    if after is None:
        return
    state.forget([_grid_prefix(cycle, code)])  # the grid re-reads the saved version
    state.flash(f"Saved and confirmed control {control_id} for unit {code}.")


GRID_FIELDS = ("maturity", "applicable", "evidence", "justification")


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


def _save_grid(cycle: str, code: str) -> None:
    g = _grid_prefix(cycle, code)
    base: pd.DataFrame = ss[f"{g}base"]
    edits: dict = ss.get(f"{g}editor", {}).get("edited_rows", {})
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
        state.forget([_control_prefix(cycle, code, control_id)])
    if saved:
        state.flash(f"Saved and confirmed {len(saved)} control(s): {', '.join(saved)}.")
    if not problems and not conflicts:
        state.forget([g])
        return
    # Keep the rows that failed as edits; drop the saved ones by re-reading the grid.
    ss[f"{g}problems"] = problems
    ss[f"{g}conflicts"] = conflicts
    if saved:
        state.forget([f"{g}base", f"{g}editor"])


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


def _control_grid(cycle: str, code: str, frame: pd.DataFrame, editable: bool) -> None:
    scale = state.service().catalogue.method.maturity
    g = _grid_prefix(cycle, code)
    if f"{g}base" not in ss:
        cols = [
            "control_id",
            "control",
            "applicable",
            "maturity",
            "evidence",
            "justification",
            "confirmed",
            "version",
        ]
        ss[f"{g}base"] = frame[cols].reset_index(drop=True)
    base = ss[f"{g}base"]
    st.data_editor(
        base,
        key=f"{g}editor",
        hide_index=True,
        width="stretch",
        disabled=not editable or ["control_id", "control", "confirmed", "version"],
        column_order=[
            "control_id",
            "control",
            "applicable",
            "maturity",
            "evidence",
            "justification",
            "confirmed",
        ],
        column_config={
            "control_id": st.column_config.TextColumn("Control", width="small"),
            "control": st.column_config.TextColumn("Name", width="medium"),
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
        },
    )
    for problem in ss.get(f"{g}problems", []):
        st.error(escape_md(problem), icon=":material/error:")
    for exc in ss.get(f"{g}conflicts", []):
        state.show_error(exc, key=f"{g}{exc.what}", forget_keys=[g])
    if editable:
        pending = len(ss.get(f"{g}editor", {}).get("edited_rows", {}))
        st.button(
            f"Save {pending} changed row(s) and confirm them" if pending else "No changes to save",
            key=f"{g}save",
            type="primary",
            disabled=not pending,
            on_click=_save_grid,
            args=(cycle, code),
        )


def _control_detail(cycle: str, code: str, frame: pd.DataFrame, editable: bool) -> None:
    cat = state.service().catalogue
    scale = cat.method.maturity
    _, control_id, row = _pick(
        frame, "control_id", "control", f"assess-control|{cycle}|{code}", "Control"
    )
    control = cat.control_by_id.get(control_id)
    p = _control_prefix(cycle, code, control_id)
    if f"{p}v" not in ss:
        ss[f"{p}v"] = int(row["version"])
        ss[f"{p}app"] = bool(row["applicable"])
        ss[f"{p}m"] = int(row["maturity"])
        ss[f"{p}e"] = row["evidence"] or ""
        ss[f"{p}j"] = row["justification"] or ""
    errors: dict[str, str] = ss.get(f"{p}err", {})
    with st.container(border=True):
        st.markdown(f"#### {control_id} · {control.name if control else row['control']}")
        if control is not None:
            st.write(control.description)
            risks = state.read("risk_ratings", cycle, unit=code)
            here = set(risks.loc[risks["applicable"], "risk_id"])
            mitigated = [f"{r} ({s})" for r, s in control.mitigates.items() if r in here]
            if mitigated:
                st.caption("Mitigates in this unit: " + ", ".join(mitigated))
        _status_caption(row)
        st.toggle("This control applies to the unit", key=f"{p}app", disabled=not editable)
        applies = bool(ss[f"{p}app"])
        levels, captions = _maturity_options(control, scale)
        st.radio(
            f"{scale.name}: {scale.question}",
            levels,
            key=f"{p}m",
            format_func=lambda lv: level_label(scale, lv),
            captions=captions,
            disabled=not editable or not applies,
        )
        field_error(errors, "m")
        if control is not None:
            st.caption("Evidence that shows it: " + "; ".join(control.evidence))
        st.text_area(
            "Evidence (documents, records, where they are)",
            key=f"{p}e",
            height=80,
            disabled=not editable,
        )
        st.text_area(
            "Justification" if applies else "Why does this control not apply? (required)",
            key=f"{p}j",
            height=80,
            disabled=not editable,
        )
        field_error(errors, "j")
        field_error(errors, "_form")
        _show_conflict(p)
        if editable:
            st.button(
                "Save and confirm control",
                key=f"{p}save",
                type="primary",
                on_click=_save_control,
                args=(cycle, code, control_id),
            )


def _step_controls(cycle: str, code: str, editable: bool) -> None:
    frame = state.read("control_ratings", cycle, unit=code)
    if frame.empty:
        st.info(f"No control of the catalogue applies to unit {code}.")
    else:
        done = int(frame["confirmed"].sum())
        st.subheader(f"Controls of {code}: {done} of {len(frame)} confirmed")
        # A radio, not tabs: the choice survives the rerun after a save.
        view = st.radio(
            "View",
            CONTROL_VIEWS,
            key="assess-controls-view",
            horizontal=True,
            label_visibility="collapsed",
        )
        if view == CONTROL_VIEWS[0]:
            _control_grid(cycle, code, frame, editable)
        else:
            _control_detail(cycle, code, frame, editable)
    st.button("Next: summary →", key="assess-to-4", on_click=_go, args=(3,))


# -- step 4: summary ---------------------------------------------------------------------


def _confirm_unit(cycle: str, code: str) -> None:
    try:
        counts = state.write(confirm_ratings, cycle, code)
    except DomainError as exc:
        ss["assess-confirm-error"] = state.error_message(exc)
        return
    state.forget([f"r|{cycle}|{code}|", f"c|{cycle}|{code}|", _grid_prefix(cycle, code)])
    n = counts["risk_ratings"] + counts["control_ratings"]
    state.flash(f"Confirmed {n} rating(s) of unit {code} as they stand.")


def unit_summary(cycle: str, code: str) -> dict[str, Any]:
    """The unit's register now and last cycle's, for the summary (also used by tests)."""
    reg = state.read("register", cycle)
    now = reg[reg["unit_id"] == code]
    previous = state.read("get_cycle", cycle).get("previous")
    before = pd.DataFrame(columns=now.columns)
    if previous:
        prev_reg = state.read("register", previous)
        before = prev_reg[prev_reg["unit_id"] == code]
    return {"now": now, "before": before, "previous": previous}


def _step_summary(cycle: str, code: str, editable: bool) -> None:
    cat = state.service().catalogue
    s = unit_summary(cycle, code)
    now, before, previous = s["now"], s["before"], s["previous"]
    st.subheader(f"Summary of {code}")
    cols = st.columns(4)
    mean_inh = float(now["inherent"].mean()) if len(now) else 0.0
    mean_res = float(now["residual"].mean()) if len(now) else 0.0
    delta_res = None
    if previous and len(before):
        delta_res = round(mean_res - float(before["residual"].mean()), 2)
    cols[0].metric("Inherent risk (mean)", f"{mean_inh:.2f}")
    cols[1].metric(
        "Residual risk (mean)",
        f"{mean_res:.2f}",
        delta=None if delta_res is None else f"{delta_res:+.2f} vs {previous}",
        delta_color="inverse",
    )
    worst = cat.band_for(float(now["residual"].max())).id if len(now) else None
    cols[2].metric("Worst residual band", band_text(worst))
    high = int(now["residual_band"].isin(["high", "critical"]).sum()) if len(now) else 0
    cols[3].metric("Risks high or critical", high)

    table = now[
        [
            "risk_id",
            "risk",
            "likelihood",
            "impact",
            "inherent",
            "inherent_band",
            "reduction",
            "residual",
            "residual_band",
        ]
    ].copy()
    table["inherent_band"] = table["inherent_band"].map(band_text)
    table["residual_band"] = table["residual_band"].map(band_text)
    formats = {"inherent": "{:.0f}", "reduction": "{:.0%}", "residual": "{:.2f}"}
    if len(before):
        last = before.set_index("risk_id")["residual"]
        table[f"residual {previous}"] = table["risk_id"].map(last)
        table["change"] = table["residual"] - table[f"residual {previous}"]
        formats.update({f"residual {previous}": "{:.2f}", "change": "{:+.2f}"})
    styled = style_bands(
        table.sort_values("residual", ascending=False), ["inherent_band", "residual_band"]
    ).format(formats, na_rep="—")
    st.dataframe(
        styled,
        hide_index=True,
        width="stretch",
        column_config={
            "risk_id": st.column_config.TextColumn("risk", width="small"),
            "risk": st.column_config.TextColumn("scenario", width="medium"),
            "likelihood": st.column_config.NumberColumn("L", width="small"),
            "impact": st.column_config.NumberColumn("I", width="small"),
            "inherent_band": st.column_config.TextColumn("inherent band"),
            "residual_band": st.column_config.TextColumn("residual band"),
        },
    )

    risks = state.read("risk_ratings", cycle, unit=code)
    controls = state.read("control_ratings", cycle, unit=code)
    st.markdown(f"**What changed since {previous or 'the starting point'}**")
    changes: list[str] = []
    moved = risks[
        risks["baseline_likelihood"].notna()
        & (
            (risks["likelihood"] != risks["baseline_likelihood"])
            | (risks["impact"] != risks["baseline_impact"])
        )
    ]
    for _, r in moved.iterrows():
        changes.append(
            f"Risk {r['risk_id']}: {int(r['baseline_likelihood'])} × {int(r['baseline_impact'])}"
            f" → {int(r['likelihood'])} × {int(r['impact'])}: {r['justification'] or '—'}"
        )
    if previous:
        prev_c = state.read("control_ratings", previous, unit=code).set_index("control_id")
        for _, c in controls.iterrows():
            if c["control_id"] in prev_c.index:
                old = prev_c.loc[c["control_id"]]
                if int(old["maturity"]) != int(c["maturity"]) or bool(old["applicable"]) != bool(
                    c["applicable"]
                ):
                    changes.append(
                        f"Control {c['control_id']}: maturity {int(old['maturity'])} → "
                        f"{int(c['maturity'])}" + ("" if c["applicable"] else " (not applicable)")
                    )
    for _, r in risks[~risks["applicable"]].iterrows():
        changes.append(f"Risk {r['risk_id']} does not apply: {r['justification']}")
    if changes:
        for line in changes:
            st.markdown(f"- {escape_md(line)}")
    else:
        st.caption("Nothing changed.")

    open_r = list(risks.loc[~risks["confirmed"], "risk_id"])
    open_c = list(controls.loc[~controls["confirmed"], "control_id"])
    st.markdown("**Still unconfirmed**")
    if not open_r and not open_c:
        st.success(f"Every rating of unit {code} is confirmed.", icon=":material/task_alt:")
    else:
        if open_r:
            st.markdown(f"- Risks ({len(open_r)}): {escape_md(', '.join(open_r))}")
        if open_c:
            st.markdown(f"- Controls ({len(open_c)}): {escape_md(', '.join(open_c))}")
        error = ss.pop("assess-confirm-error", None)
        if error:
            st.error(escape_md(error), icon=":material/error:")
        if editable:
            st.button(
                f"Confirm the {len(open_r) + len(open_c)} unconfirmed rating(s) as they stand",
                key="assess-confirm",
                type="primary",
                on_click=_confirm_unit,
                args=(cycle, code),
            )


# -- the page ----------------------------------------------------------------------------


def render() -> None:
    state.require(*ALL_ROLES)
    state.show_flash()
    cycle = state.require_cycle()
    info = state.read("get_cycle", cycle)
    units = _units_in_cycle(cycle)
    code = _header(cycle, info, units)
    if code is None:
        return
    editable = state.can(rate_risk) and info["status"] == "draft"
    if info["status"] != "draft":
        st.info(
            f"Cycle {cycle} is {info['status'].replace('_', ' ')}: ratings are read only. "
            + ("A manager can reopen it." if info["status"] != "locked" else "")
        )
    elif not state.can(rate_risk):
        st.caption("You are reading: only an integrity officer rates risks and controls.")
    if ss.get(STEP_KEY) not in STEPS:
        ss[STEP_KEY] = STEPS[0]
    st.radio("Step", STEPS, key=STEP_KEY, horizontal=True, label_visibility="collapsed")
    step = STEPS.index(ss[STEP_KEY])
    if step == 0:
        _step_unit(code)
    elif step == 1:
        _step_risks(cycle, code, editable)
    elif step == 2:
        _step_controls(cycle, code, editable)
    else:
        _step_summary(cycle, code, editable)
