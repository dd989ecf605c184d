"""Step 4: the unit's summary, from the service's `unit_summary` read model.

Inherent and residual risk now, against last cycle; what changed since (each risk or
control once); what is still unconfirmed; and "confirm the rest as they stand", which
asks first, in a dialog, for the officer's attestation that they reviewed the ratings
with the unit: confirming is a statement in their name, not a click.
"""

from __future__ import annotations

import streamlit as st

from riskmap.service import DomainError, UnitSummary, confirm_ratings
from riskmap.ui import state
from riskmap.ui.pages.assess import controls, form
from riskmap.ui.widgets import band_text, escape_md, style_bands, table

ATTESTATION = "I reviewed these ratings with the unit"
OPEN_KEY = "assess-confirm-open"  # the dialog stays open across its own reruns until closed
ss = st.session_state


def _open() -> None:
    ss[OPEN_KEY] = True


def _close() -> None:
    ss.pop(OPEN_KEY, None)
    ss.pop("assess-confirm-attest", None)


def control_name(control_id: str) -> str:
    """A control as people read it: its name, with the id after it."""
    control = state.service().catalogue.control_by_id.get(control_id)
    return f"{control.name} ({control_id})" if control else control_id


def change_lines(s: UnitSummary) -> list[str]:
    """The summary's "what changed" entries in words, one per risk or control."""
    lines = []
    for c in s.changes:
        kind, name = c["kind"], c["id"]
        what = f"Control {control_name(name)}" if kind == "control" else f"Risk {name}"
        if c["what"] == "does not apply":
            lines.append(f"{what} does not apply: {c['why'] or '—'}")
        elif c["kind"] == "risk":
            lines.append(f"{what}: {c['before']} → {c['after']}: {c['why'] or '—'}")
        else:
            lines.append(f"{what}: maturity {c['before']} → {c['after']}")
    return lines


def _confirm(cycle: str, code: str) -> bool:
    try:
        counts = state.write(confirm_ratings, cycle, code)
    except DomainError as exc:
        ss["assess-confirm-error"] = state.error_message(exc)
        return False
    state.forget([f"r|{cycle}|{code}|", f"c|{cycle}|{code}|", controls.grid_prefix(cycle, code)])
    n = counts["risk_ratings"] + counts["control_ratings"]
    form.notice(f"Confirmed {n} rating(s) of unit {code} as they stand.")
    return True


@st.dialog("Confirm the ratings as they stand", on_dismiss=_close)
def confirm_dialog(cycle: str, code: str, open_risks: list[str], open_controls: list[str]) -> None:
    n = len(open_risks) + len(open_controls)
    st.markdown(
        f"This confirms **{n}** rating(s) of unit **{escape_md(code)}** in cycle "
        f"{escape_md(cycle)} without changing them, in your name:"
    )
    if open_risks:
        st.markdown(f"- Risks ({len(open_risks)}): {escape_md(', '.join(open_risks))}")
    if open_controls:
        names = ", ".join(control_name(c) for c in open_controls)
        st.markdown(f"- Controls ({len(open_controls)}): {escape_md(names)}")
    attest = st.checkbox(ATTESTATION, key="assess-confirm-attest")
    left, right = st.columns(2)
    if left.button(
        f"Confirm {n} rating(s)",
        key="assess-confirm-yes",
        type="primary",
        disabled=not attest,
        width="stretch",
    ):
        _close()
        _confirm(cycle, code)
        st.rerun()
    if right.button("Cancel", key="assess-confirm-no", width="stretch"):
        _close()
        st.rerun()


def _table(s: UnitSummary) -> None:
    risks_now = s.now[
        ["risk_id", "risk", "likelihood", "impact", "inherent", "inherent_band", "reduction",
         "residual", "residual_band"]
    ].copy()  # fmt: skip
    risks_now["inherent_band"] = risks_now["inherent_band"].map(band_text)
    risks_now["residual_band"] = risks_now["residual_band"].map(band_text)
    formats = {"inherent": "{:.0f}", "reduction": "{:.0%}", "residual": "{:.2f}"}
    prev_col = f"residual {s.previous}"
    if len(s.before):
        last = s.before.set_index("risk_id")["residual"]
        risks_now[prev_col] = risks_now["risk_id"].map(last)
        risks_now["change"] = risks_now["residual"] - risks_now[prev_col]
        formats.update({prev_col: "{:.2f}", "change": "{:+.2f}"})
    styled = style_bands(risks_now, ["inherent_band", "residual_band"]).format(formats, na_rep="—")
    table(
        styled,
        column_config={
            "risk_id": st.column_config.TextColumn("Risk", width="small"),
            "risk": st.column_config.TextColumn("Scenario", width="medium"),
            "likelihood": st.column_config.NumberColumn("L", width="small"),
            "impact": st.column_config.NumberColumn("I", width="small"),
            "inherent": st.column_config.NumberColumn("Inherent"),
            "inherent_band": st.column_config.TextColumn("Inherent band"),
            "reduction": st.column_config.NumberColumn("Reduction"),
            "residual": st.column_config.NumberColumn("Residual"),
            "residual_band": st.column_config.TextColumn("Residual band"),
            prev_col: st.column_config.NumberColumn(f"Residual {s.previous}"),
            "change": st.column_config.NumberColumn("Change"),
        },
    )


def render(cycle: str, code: str, editable: bool) -> None:
    cat = state.service().catalogue
    s: UnitSummary = state.read("unit_summary", cycle, code)
    st.subheader(f"Summary of {code}")
    cols = st.columns(4)
    cols[0].metric(
        "Inherent risk (mean)", "—" if s.mean_inherent is None else f"{s.mean_inherent:.2f}"
    )
    cols[1].metric(
        "Residual risk (mean)",
        "—" if s.mean_residual is None else f"{s.mean_residual:.2f}",
        delta=None if s.residual_change is None else f"{s.residual_change:+.2f} vs {s.previous}",
        delta_color="inverse",
    )
    cols[2].metric("Worst residual band", band_text(s.worst_band))
    names = {b.id: b.name for b in cat.method.bands}
    serious = " or ".join(names[b] for b in s.serious_bands)
    cols[3].metric(f"Risks {serious}", s.serious_count)
    if len(s.now):
        _table(s)

    st.markdown(f"**What changed since {s.previous or 'the starting point'}**")
    lines = change_lines(s)
    for line in lines:
        st.markdown(f"- {escape_md(line)}")
    if not lines:
        st.caption("Nothing changed.")

    st.markdown("**Still unconfirmed**")
    if not s.open_risks and not s.open_controls:
        st.success(f"Every rating of unit {code} is confirmed.", icon=":material/task_alt:")
        return
    if s.open_risks:
        st.markdown(f"- Risks ({len(s.open_risks)}): {escape_md(', '.join(s.open_risks))}")
    if s.open_controls:
        names = ", ".join(control_name(c) for c in s.open_controls)
        st.markdown(f"- Controls ({len(s.open_controls)}): {escape_md(names)}")
    error = ss.pop("assess-confirm-error", None)
    if error:
        st.error(escape_md(error), icon=":material/error:")
    if not editable:
        return
    st.button(
        f"Confirm the {len(s.open_risks) + len(s.open_controls)} unconfirmed rating(s) "
        "as they stand…",
        key="assess-confirm",
        type="primary",
        on_click=_open,
    )
    if ss.get(OPEN_KEY):
        confirm_dialog(cycle, code, s.open_risks, s.open_controls)
