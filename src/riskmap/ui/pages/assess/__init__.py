"""The guided assessment walk-through: one unit at a time, in four steps.

1. the unit (type, region, headcount, exposure profile): `unit_step`;
2. its risks: likelihood and impact with every level's written definition, prefilled
   from last cycle (or the catalogue default); a change asks for a justification and
   "does not apply" for its own reason: `risks`;
3. its controls, in a grid or one in detail: `controls`;
4. a summary: inherent and residual risk now, what changed since last cycle, what is
   still unconfirmed, and a confirmation (with the officer's attestation): `summary`.

Where the officer is (unit, step, record) lives in the address bar (`place`), so Back,
a bookmark and a reload land there. Every form edits one named record (`form`): keyed by
it, saved under its own identity at the version it was opened at, its draft kept in the
session until saved. What the page shows is computed by the service
(`service.assess_reads`: unit progress, next unit, the unit's summary); the page shows it
and sends the officer's actions back. Officers edit a draft cycle; everyone else reads.
"""

from __future__ import annotations

import streamlit as st

from riskmap import vocabulary
from riskmap.service import DomainError, rate_risk
from riskmap.ui import session_cookie, state
from riskmap.ui.pages.assess import controls, form, place, risks, summary, unit_step
from riskmap.ui.pages.assess.controls import grid_changes
from riskmap.ui.pages.assess.place import STEP_LABELS, STEPS
from riskmap.ui.registry import ALL_ROLES
from riskmap.ui.widgets import progress

__all__ = ["STEPS", "STEP_LABELS", "grid_changes", "render"]


def _header(cycle: str, info: dict) -> place.Place | None:
    st.title("Assess")
    total = info["risk_ratings"] + info["control_ratings"]
    done = total - info["risk_ratings_unconfirmed"] - info["control_ratings_unconfirmed"]
    progress(done, total, f"Cycle {cycle}: ratings")
    units = state.read("unit_progress", cycle)
    if units.empty:
        st.info(f"Cycle {cycle} has no units to assess.")
        return None
    codes = list(units["unit_code"])
    first = state.read("next_unit", cycle) or codes[0]
    where = place.current(codes, first)
    _unlisted(cycle)
    by_code = units.set_index("unit_code")

    def label(code: str) -> str:
        row = by_code.loc[code]
        mark = "✓" if row["done"] == row["total"] else f"{row['done']}/{row['total']}"
        return f"{code} · {row['unit']} · {mark}"

    # A row that wraps when the screen is narrow: the button keeps its words.
    row_ = st.container(horizontal=True, vertical_alignment="bottom")
    place.unit_picker(row_, where, codes, label)
    after = state.read("next_unit", cycle, where.unit)
    row_.button(
        "Next unit to confirm",
        key="assess-next-unit",
        disabled=after is None,
        on_click=place.go,
        kwargs={"unit": after or where.unit, "step": "unit"},
        width="content",
    )
    row = by_code.loc[where.unit]
    progress(int(row["done"]), int(row["total"]), f"Unit {where.unit}: ratings")
    return where


def _unlisted(cycle: str) -> None:
    """A link to a unit the list does not hold: the service's refusal (outside the
    reader's scope), or that it is not assessed in this cycle; never its record."""
    unit = st.session_state.pop(place.UNLISTED_KEY, None)
    if unit is None:
        return
    try:
        state.read("unit_summary", cycle, unit)
    except DomainError as exc:
        state.show_error(exc, key="assess-unlisted")
    else:
        st.warning(f"Unit {unit} is not assessed in cycle {cycle}.")


def render() -> None:
    state.require(*ALL_ROLES)
    state.show_flash()
    state.scope_line()
    form.show_notices()
    cycle = state.require_cycle()
    info = state.read("get_cycle", cycle)
    where = _header(cycle, info)
    if where is None:
        return
    editable = state.can(rate_risk) and info["status"] == vocabulary.CycleStatus.DRAFT
    if info["status"] != vocabulary.CycleStatus.DRAFT:
        locked = info["status"] == vocabulary.CycleStatus.LOCKED
        st.info(
            f"Cycle {cycle} is {vocabulary.cycle_status_label(info['status'])}: "
            "ratings are read only. " + ("" if locked else "A manager can reopen it.")
        )
    elif not state.can(rate_risk):
        st.caption("You are reading: only an integrity officer rates risks and controls.")
    place.step_picker(where)
    try:
        _step(cycle, where, editable, bool(info.get("previous")))
    finally:
        place.publish()
        session_cookie.keep_drafts(form.drafts())


def _step(cycle: str, where: place.Place, editable: bool, has_previous: bool) -> None:
    if where.step == "unit":
        unit_step.render(where.unit)
    elif where.step == "risks":
        risks.render(cycle, where.unit, where, editable, has_previous)
    elif where.step == "controls":
        controls.render(cycle, where.unit, where, editable)
    else:
        summary.render(cycle, where.unit, editable)
