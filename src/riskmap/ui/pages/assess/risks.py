"""Step 2: the unit's risks, one scenario at a time.

Likelihood and impact on the method's scales, each level with its written definition,
prefilled from last cycle's rating (or the catalogue default). A change from that
starting point asks for a justification; "does not apply" asks for its own reason (never
the old justification silently reused), and a risk that does not apply has no score.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from riskmap.service import rate_risk
from riskmap.ui import state
from riskmap.ui.pages.assess import evidence_panel, form, place
from riskmap.ui.pages.assess.form import Record
from riskmap.ui.pages.assess.rules_view import risk_justification
from riskmap.ui.widgets import band_text, escape_md, field_error, level_label, table

FIELDS = {"likelihood": "l", "impact": "i", "justification": "j"}


def saved_values(row: pd.Series) -> dict[str, Any]:
    """The form's fields as the record is saved: applies, levels, justification and the
    separate reason for not applying."""
    applies = bool(row["applicable"])
    text = row["justification"] or ""
    return {
        "app": applies,
        "l": int(row["likelihood"]),
        "i": int(row["impact"]),
        "j": text if applies else "",
        "na": "" if applies else text,
    }


def save(rec: Record, then: str | None) -> None:
    """Save risk `rec` (the form's own identity) and, if `then`, open that risk next."""
    applies = bool(form.value(rec, "app"))
    fields = dict(FIELDS, justification="j" if applies else "na")
    after = form.save(
        rec,
        fields,
        rate_risk,
        rec.cycle,
        rec.unit,
        rec.item,
        likelihood=int(form.value(rec, "l")),
        impact=int(form.value(rec, "i")),
        applicable=applies,
        justification=form.value(rec, "j" if applies else "na"),
    )
    if after is None:
        return
    form.notice(f"Saved and confirmed risk {rec.item} for unit {rec.unit}.")
    if then is not None:
        place.go(risk=then)


def _score(values: pd.Series, applies: pd.Series) -> pd.Series:
    """A level or score as shown: the number, or "—" for a risk that does not apply."""
    return pd.Series(
        [f"{int(v)}" if a and pd.notna(v) else "—" for v, a in zip(values, applies, strict=True)],
        index=values.index,
    )


def overview(frame: pd.DataFrame, inherent: pd.Series) -> None:
    """Every risk of the unit; a risk that does not apply shows no levels and no score.
    `inherent` is the service's score by risk id (the register has applicable risks only)."""
    applies = frame["applicable"]
    shown = pd.DataFrame(
        {
            "Risk": frame["risk_id"],
            "Scenario": frame["risk"].fillna(""),
            "Applies": applies.map({True: "yes", False: "no"}),
            "Likelihood": _score(frame["likelihood"], applies),
            "Impact": _score(frame["impact"], applies),
            "Inherent": _score(frame["risk_id"].map(inherent), applies),
            "Confirmed": frame["confirmed"].map({True: "✓", False: "○"}),
            "Justification or reason": frame["justification"].fillna(""),
        }
    )
    table(
        shown,
        height=min(38 + 35 * len(shown), 420),
        column_config={
            "Risk": st.column_config.TextColumn(width="small"),
            "Scenario": st.column_config.TextColumn(width=220),  # leaves the levels in view
            "Applies": st.column_config.TextColumn(width="small"),
            "Confirmed": st.column_config.TextColumn(width="small"),
            "Likelihood": st.column_config.TextColumn(width="small"),
            "Impact": st.column_config.TextColumn(width="small"),
            "Inherent": st.column_config.TextColumn(width="small"),
        },
    )


def _picker_label(risk_id: str, row: pd.Series) -> str:
    return f"{risk_id} · {row['risk']}"


def render(cycle: str, code: str, where: place.Place, editable: bool, has_previous: bool) -> None:
    cat = state.service().catalogue
    method = cat.method
    frame = state.read("risk_ratings", cycle, unit=code)
    if frame.empty:
        st.info(f"No risk scenario applies to unit {code} in cycle {cycle}.")
        place.step_button("Next: controls →", "controls", "assess-to-3")
        return
    st.subheader(f"Risks of {code}: {int(frame['confirmed'].sum())} of {len(frame)} confirmed")
    scored = state.read("unit_summary", cycle, code).now
    overview(frame, scored.set_index("risk_id")["inherent"])

    ids = list(frame["risk_id"])
    row, rec, saved, errors = form.open_picked(
        cycle, where, frame, "risk", "Risk scenario", _picker_label, saved_values
    )
    risk_id = rec.item
    following = ids[ids.index(risk_id) + 1] if ids.index(risk_id) + 1 < len(ids) else None
    risk = cat.risk_by_id.get(risk_id)
    title = f"{risk_id} · {risk.title if risk else row['risk']}"
    with form.rating_box(rec, title, risk.description if risk else None):
        if risk is not None:
            with st.expander("Red flags to look for"):
                for flag in risk.red_flags:
                    st.markdown(f"- {escape_md(flag)}")
        applies = form.status_and_applies(rec, row, "scenario", editable)
        if applies:
            _levels(rec, row, method, has_previous, editable, errors)
        else:
            form.not_applicable_reason(
                rec,
                "scenario",
                editable,
                errors,
                height=90,
                placeholder="e.g. the unit issues no visas since the 2025 reorganisation",
            )
            st.caption("Not applicable: no score; left out of the unit's scores.")
        labels = {"app": "Applies", "l": "Likelihood", "i": "Impact", "j": "Justification"}
        form.rating_feedback(rec, saved, int(row["version"]), errors, labels)
        if editable:
            buttons = st.container(horizontal=True)  # wraps on a narrow screen
            buttons.button(
                "Save and confirm",
                key=rec.key("save"),
                type="primary",
                on_click=save,
                args=(rec, None),
                width="content",
            )
            buttons.button(
                "Save, next risk →" if following else "Save",
                key=rec.key("save-next"),
                on_click=save,
                args=(rec, following),
                width="content",
            )
    if bool(row["applicable"]):  # evidence for the saved rating's justification
        departs = risk_justification(row, int(row["likelihood"]), int(row["impact"]), has_previous)
        evidence_panel.render_risk(cycle, code, risk_id, editable, departs.required)
    place.step_button("Next: controls →", "controls", "assess-to-3")


def _levels(
    rec: Record, row: pd.Series, method: Any, has_previous: bool, editable: bool, errors
) -> None:
    cat = state.service().catalogue
    rule = risk_justification(row, form.value(rec, "l"), form.value(rec, "i"), has_previous)
    if rule.baseline is not None:
        base_l, base_i = rule.baseline
        st.caption(
            f"Starting point ({rule.source}): likelihood {level_label(method.likelihood, base_l)}"
            f" × impact {level_label(method.impact, base_i)} = {base_l * base_i}"
        )
    left, right = st.columns(2)
    for col, scale, suffix in ((left, method.likelihood, "l"), (right, method.impact, "i")):
        with col:
            levels = list(range(scale.min, scale.max + 1))
            st.radio(
                f"{scale.name}: {scale.question}",
                levels,
                key=rec.key(suffix),
                format_func=lambda lv, s=scale: level_label(s, lv),
                captions=[scale.levels[lv].definition for lv in levels],
                disabled=not editable,
                persist_state=form.PERSIST,
            )
            field_error(errors, suffix)
    rule = risk_justification(row, form.value(rec, "l"), form.value(rec, "i"), has_previous)
    form.text_field(rec, "j", rule.label, editable, height=90)
    if editable and rule.required and not str(form.value(rec, "j")).strip() and "j" not in errors:
        st.caption(
            ":orange[A justification is needed before this can be saved: evidence, "
            "incidents, changed procedures.]"
        )
    field_error(errors, "j")
    lik, imp = int(form.value(rec, "l")), int(form.value(rec, "i"))
    score = lik * imp
    st.caption(
        f"Inherent risk with these values: {lik} × {imp} = "
        f"{score} ({band_text(cat.band_for(score, lik, imp).id)})"
    )
