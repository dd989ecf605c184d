"""Where the officer is in the walk-through: unit, step and record, kept in the address bar.

The address bar (`st.query_params`: `?unit=BC-003&step=risks&risk=BOR-02`) is the one
source of truth for the place, so Back, a bookmark and a reload land where the officer
was. The last place is also kept in the session, for when the officer comes back to
Assess from another page (whose address carries no place).

The navigation widgets (unit, step, record pickers) never hold the place themselves: on
every run their value is set from the place before they are drawn, and a choice goes
back to the address bar through their callback. A picker therefore cannot drift to
another unit or risk on its own (Streamlit resets a selectbox whose stored label no
longer matches an option, e.g. after a progress mark in the label changed), and the
labels always show the state of now.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
import streamlit as st

STEPS = ("unit", "risks", "controls", "summary")
STEP_LABELS = {
    "unit": "1. Unit",
    "risks": "2. Risks",
    "controls": "3. Controls",
    "summary": "4. Summary",
}
RECORDS = ("risk", "control")  # the step that shows each kind: risks, controls
PLACE_KEY = "assess-place"
MOVED_KEY = "assess-moved"  # set by a picker or button: this run goes where it says
UNLISTED_KEY = "assess-unlisted"  # a unit the address bar named that the list does not hold
UNIT_PICKER = "assess-unit"
STEP_PICKER = "assess-step"
PICKER = {"risk": "assess-risk", "control": "assess-control"}

ss = st.session_state


@dataclass(frozen=True)
class Place:
    """Unit, step and (per kind) the record open in the walk-through."""

    unit: str
    step: str = "unit"
    risk: str | None = None
    control: str | None = None

    def params(self) -> dict[str, str]:
        out = {"unit": self.unit, "step": self.step}
        for kind in RECORDS:
            if getattr(self, kind):
                out[kind] = getattr(self, kind)
        return out


def _from(params: Any) -> dict[str, str]:
    return {k: str(params[k]) for k in ("unit", "step", *RECORDS) if params.get(k)}


def current(codes: Sequence[str], default_unit: str) -> Place:
    """The place of this run: where a picker or button just moved the officer, else the
    address bar's (a bookmark, a reload, Back), else the one last kept in the session,
    else the default unit at step 1. A unit or step that does not exist is replaced by
    the default."""
    wanted = _from(st.query_params)
    if ss.pop(MOVED_KEY, False) or "unit" not in wanted:
        wanted = dict(ss.get(PLACE_KEY) or {})
    unit = wanted.get("unit")
    if unit not in codes:
        if unit:  # a link to a unit not listed: the page asks the service why (a refusal)
            ss[UNLISTED_KEY] = str(unit)
        unit, wanted = default_unit, {}
    step = wanted.get("step") if wanted.get("step") in STEPS else "unit"
    place = Place(unit, step, wanted.get("risk"), wanted.get("control"))
    keep(place)
    return place


def keep(place: Place) -> None:
    """Keep `place` as this run's; `publish` writes it to the address bar at the end."""
    ss[PLACE_KEY] = place.params()


def publish() -> None:
    """Write the run's place to the address bar, once per run and only when it differs:
    each change is one entry of the browser's history, so Back goes one place back."""
    params = dict(ss.get(PLACE_KEY) or {})
    if params and _from(st.query_params) != params:
        st.query_params.from_dict(params)


def here() -> Place:
    """The place kept by the last run (for callbacks, which run before the page)."""
    p = dict(ss.get(PLACE_KEY) or {})
    return Place(p.get("unit", ""), p.get("step", "unit"), p.get("risk"), p.get("control"))


def go(**changes: str | None) -> None:
    """Move to another place (a callback): another unit keeps the step and drops the
    records open in the old one."""
    place = here()
    if "unit" in changes and changes["unit"] != place.unit:
        place = Place(str(changes.pop("unit")), place.step)
    keep(replace(place, **changes))
    ss[MOVED_KEY] = True


def choose_record(place: Place, kind: str, record: str) -> Place:
    """`place` with `record` open for `kind` ("risk" or "control"), kept."""
    moved = replace(place, **{kind: record})
    if moved != place:
        keep(moved)
    return moved


def open_record(place: Place, kind: str, frame: pd.DataFrame) -> Place:
    """`place` with a record of `kind` open: the one in the address bar if the unit has it,
    else the first not yet confirmed, else the first (`frame`: the unit's ratings of that
    kind, with `<kind>_id` and `confirmed`). Risks and controls open alike."""
    ids = list(frame[f"{kind}_id"])
    if getattr(place, kind) in ids:
        return place
    unconfirmed = frame.loc[~frame["confirmed"], f"{kind}_id"]
    return choose_record(place, kind, unconfirmed.iloc[0] if len(unconfirmed) else ids[0])


def pick_record(place: Place, kind: str, frame: pd.DataFrame, label: Callable, text: str) -> Place:
    """Open a record of `kind` (`open_record`) and draw its picker; the place it leaves."""
    place = open_record(place, kind, frame)
    record_picker(place, kind, list(frame[f"{kind}_id"]), label, text)
    return place


# -- the pickers -------------------------------------------------------------------------


def _picked(key: str, to: Callable[[Any], dict[str, str | None]]) -> Callable[[], None]:
    def chosen() -> None:
        go(**to(ss[key]))

    return chosen


def unit_picker(where: Any, place: Place, codes: Sequence[str], label: Callable) -> None:
    ss[UNIT_PICKER] = place.unit
    where.selectbox(
        "Unit",
        list(codes),
        key=UNIT_PICKER,
        width=420,
        format_func=label,
        on_change=_picked(UNIT_PICKER, lambda code: {"unit": code}),
    )


def step_picker(place: Place) -> None:
    ss[STEP_PICKER] = place.step
    st.radio(
        "Step",
        STEPS,
        key=STEP_PICKER,
        format_func=STEP_LABELS.get,
        horizontal=True,
        label_visibility="collapsed",
        on_change=_picked(STEP_PICKER, lambda step: {"step": step}),
    )


def record_picker(place: Place, kind: str, ids: Sequence[str], label: Callable, text: str) -> None:
    key = PICKER[kind]
    ss[key] = getattr(place, kind)
    st.selectbox(
        text,
        list(ids),
        key=key,
        format_func=label,
        on_change=_picked(key, lambda record: {kind: record}),
    )


def step_button(text: str, step: str, key: str) -> None:
    st.button(text, key=key, on_click=go, kwargs={"step": step})
