"""What every form of the walk-through shares: record identity, version, draft, errors,
conflicts and the feedback after a save.

A form edits one record (a unit, or the rating of one risk or control in one unit and
cycle), named by a `Record`. Every widget of the form is keyed by that record, so the
values typed for one record can never show up in another's form; the widgets keep their
values in the session while the record is not on screen (`persist_state="session"`), so
a draft survives moving to another record, step or page until it is saved. Every save
names the record from the form's own identity (bound to its button when the form is
drawn), never from a picker that may have moved since.

The version the form was opened at is kept with it: a save after someone else's is
refused by the service as a conflict, shown here with their values beside the officer's,
on the same record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import pandas as pd
import streamlit as st

from riskmap.service import ConflictError, DomainError, ValidationError
from riskmap.ui import state
from riskmap.ui.pages.assess import place
from riskmap.ui.widgets import escape_md, field_error, present, table, validation_errors

ss = st.session_state
NOTICE_KEY = "assess-notice"
TOAST_KEY = "assess-toasts"
PERSIST = "session"  # widgets of a form keep their draft across reruns, steps and pages


@dataclass(frozen=True)
class Record:
    """The identity of what a form edits: `kind` "unit", "risk" or "control"."""

    kind: str
    unit: str
    cycle: str = ""
    item: str = ""

    @property
    def prefix(self) -> str:
        if self.kind == "unit":
            return f"u|{self.unit}|"
        return f"{self.kind[0]}|{self.cycle}|{self.unit}|{self.item}|"

    def key(self, field: str) -> str:
        return self.prefix + field

    @property
    def name(self) -> str:
        if self.kind == "unit":
            return f"unit {self.unit}"
        return f"{self.kind} {self.item} of unit {self.unit}"


class Picked(NamedTuple):
    """The rating open in a form: its row as saved, identity, saved values, field errors."""

    row: pd.Series
    rec: Record
    saved: dict[str, Any]
    errors: dict[str, str]


def open_picked(
    cycle: str,
    where: place.Place,
    frame: pd.DataFrame,
    kind: str,
    text: str,
    label: Callable[[str, pd.Series], str],
    saved_values: Callable[[pd.Series], dict[str, Any]],
) -> Picked:
    """Draw the picker of the ratings of `kind` in `frame` (one row per `<kind>_id`, each
    labelled ✓ confirmed or ○ not yet, then `label`) and open the form of the one picked:
    the head a risk's form and a control's share."""
    rows = frame.set_index(f"{kind}_id")

    def picker_label(i: str) -> str:
        return f"{'✓' if rows.loc[i, 'confirmed'] else '○'} {label(i, rows.loc[i])}"

    where = place.pick_record(where, kind, frame, picker_label, text)
    row = rows.loc[getattr(where, kind)]
    rec = Record(kind, where.unit, cycle, getattr(where, kind))
    saved = saved_values(row)
    return Picked(row, rec, saved, open_form(rec, saved, int(row["version"])))


def rating_box(rec: Record, title: str, description: str | None) -> Any:
    """The bordered box of a rating's form (keyed by the record, so a test or a browser
    finds it), headed alike for a risk and a control: `title`, which rating of which unit
    in which cycle, and the catalogue's `description` (None: not in the catalogue)."""
    box = st.container(border=True, key=f"form-{rec.prefix}")
    box.markdown(f"#### {escape_md(title)}")
    box.caption(f"Rating of {rec.kind} {rec.item} for unit {rec.unit}, cycle {rec.cycle}")
    if description is not None:
        box.write(description)
    return box


def open_form(rec: Record, saved: Mapping[str, Any], version: int) -> dict[str, str]:
    """Give the form its values: the saved record's the first time it is opened (or after
    Reload), the officer's draft after that. Returns the form's field errors."""
    first = rec.key("v") not in ss
    if not first and ss[rec.key("v")] != int(version) and rec.key("conflict") not in ss:
        # Saved again since (here or elsewhere): a form without a draft follows the record.
        base = ss.get(rec.key("base"), {})
        first = all(ss.get(rec.key(f)) == base.get(f) for f in saved)
    if first:
        ss[rec.key("v")] = int(version)
        ss[rec.key("base")] = dict(saved)
    for field, value in saved.items():
        if first or rec.key(field) not in ss:
            ss[rec.key(field)] = value
    ss[rec.key("id")] = rec  # the form's hidden identity, checked again at save
    return ss.get(rec.key("err"), {})


def value(rec: Record, field: str) -> Any:
    return ss.get(rec.key(field))


def unsaved(rec: Record, saved: Mapping[str, Any]) -> list[str]:
    """The fields whose value in the form differs from the saved record."""
    return [f for f, v in saved.items() if rec.key(f) in ss and ss[rec.key(f)] != v]


def forget(rec: Record) -> None:
    """Drop the form's draft, version and errors: it re-reads the record at the next run."""
    state.forget([rec.prefix])


def save(rec: Record, fields: dict[str, str], fn: Callable, /, *args: Any, **kwargs: Any) -> Any:
    """Save the form's record through use case `fn` at the version the form was opened at.

    `fields` maps the service's field names to the form's field keys, for errors. A
    conflict is kept for `conflict_panel`; other refusals as field errors. On success the
    form moves to the saved version. Returns what the service returned, or None.
    """
    if ss.get(rec.key("id")) != rec:  # the form on screen is not this record's
        ss[rec.key("err")] = {"_form": f"This form is not the one of {rec.name}: nothing saved."}
        return None
    try:
        after = state.write(fn, *args, expected_version=ss[rec.key("v")], **kwargs)
    except ConflictError as exc:
        ss[rec.key("conflict")] = exc
        return None
    except ValidationError as exc:
        ss[rec.key("err")] = validation_errors(exc, fields)
        return None
    except DomainError as exc:
        ss[rec.key("err")] = {"_form": state.error_message(exc)}
        return None
    if isinstance(after, Mapping) and "version" in after:
        ss[rec.key("v")] = int(after["version"])
    ss[rec.key("base")] = {f: ss.get(rec.key(f)) for f in ss.get(rec.key("base"), {})}
    ss[rec.key("err")] = {}
    ss.pop(rec.key("conflict"), None)
    return after


def show_unsaved(rec: Record, saved: Mapping[str, Any]) -> None:
    changed = unsaved(rec, saved)
    if changed:
        st.caption(
            f":orange[Not saved yet: {len(changed)} change(s) to {escape_md(rec.name)}. "
            "They are kept while you look elsewhere in this session; save to record them.]"
        )


def text_field(rec: Record, field: str, label: str, editable: bool, **kw: Any) -> None:
    """A free-text field of `rec`'s form: keyed by the record, its draft kept in the
    session, read only where the officer may not edit (`kw`: height, placeholder)."""
    st.text_area(label, key=rec.key(field), disabled=not editable, persist_state=PERSIST, **kw)


def rating_feedback(
    rec: Record,
    saved: Mapping[str, Any],
    version: int,
    errors: Mapping[str, str],
    labels: Mapping[str, str],
) -> None:
    """The foot of a rating's form (a risk's or a control's), shown alike for both: the
    form-wide error, what is not saved yet, and a refused save's conflict, in which the
    applies toggle (`app`) reads yes/no and an empty value reads as nothing."""
    field_error(errors, "_form")
    show_unsaved(rec, saved)
    conflict_panel(rec, saved, version, {**labels, "na": "Why it does not apply"}, _rating_value)


def _rating_value(field: str, value: Any) -> str:
    if field == "app":
        return "yes" if value else "no"
    return str(value if value is not None else "")


# -- drafts across a reload --------------------------------------------------------------

_RECORD_FIELDS = {"v", "base", "id", "app", "l", "i", "j", "na", "m", "e", "name", "region",
                  "headcount", "reason"}  # fmt: skip
_GRID_FIELDS = {"base", "draft"}


def drafts() -> dict[str, Any]:
    """The forms' drafts and versions in this session (what a reload must not lose); not
    the buttons, editors or errors, which are drawn anew."""
    out = {}
    for key in list(ss.keys()):
        if not isinstance(key, str) or key[:2] not in ("u|", "r|", "c|", "g|"):
            continue
        field = key.rsplit("|", 1)[1]
        allowed = _GRID_FIELDS if key.startswith("g|") else _RECORD_FIELDS
        if field in allowed or (key.startswith("u|") and field.startswith("x-")):
            out[key] = ss[key]
    return out


# -- conflicts ---------------------------------------------------------------------------


def _keep_mine(rec: Record, version: int) -> None:
    ss[rec.key("v")] = int(version)
    ss.pop(rec.key("conflict"), None)


def conflict_panel(
    rec: Record,
    theirs: Mapping[str, Any],
    version: int,
    labels: Mapping[str, str],
    shown: Callable[[str, Any], str] = lambda f, v: str(v),
) -> None:
    """If the last save of `rec` was refused as a conflict: who saved what and when, their
    values (`theirs`, the record as saved now) beside the officer's, and two ways on, both
    on this same record: Reload theirs (drops the draft) or keep mine (save again over
    theirs, knowingly)."""
    exc = ss.get(rec.key("conflict"))
    if exc is None:
        return
    lines = state.conflict_lines(exc, rec.name)
    lines.append("\nNothing was overwritten. Their values and yours:")
    st.warning("\n".join(lines), icon=":material/sync_problem:")
    rows = [
        {
            "Field": label,
            "Theirs (saved)": shown(f, theirs.get(f)),
            "Yours": shown(f, value(rec, f)),
        }
        for f, label in labels.items()
    ]
    table(pd.DataFrame(rows))
    buttons = st.container(horizontal=True)
    buttons.button(
        "Reload theirs",
        key=rec.key("reload"),
        icon=":material/refresh:",
        on_click=forget,
        args=(rec,),
    )
    buttons.button(
        "Keep mine",
        key=rec.key("keep"),
        help="Keep your values in the form; the next save replaces theirs.",
        on_click=_keep_mine,
        args=(rec, version),
    )


# -- feedback ----------------------------------------------------------------------------


def notice(message: str) -> None:
    """Feedback that lasts: a toast at the next run, and the message kept at the top of
    the page until the next one."""
    ss[NOTICE_KEY] = message
    ss.setdefault(TOAST_KEY, []).append(message)


def show_notices() -> None:
    for message in ss.pop(TOAST_KEY, []):
        st.toast(escape_md(message), icon=":material/check_circle:")
    last = ss.get(NOTICE_KEY)
    if last:
        st.success(escape_md(last), icon=":material/check_circle:")


def errors_of(rec: Record) -> dict[str, str]:
    return ss.get(rec.key("err"), {})


def status_and_applies(rec: Record, row: Any, what: str, editable: bool) -> bool:
    """The record's status line and its "applies to the unit" toggle (a risk scenario's or a
    control's: the same form part); returns whether it applies as the form stands."""
    saved_by = row["updated_by"]
    by = f" · last saved by {escape_md(saved_by)}" if present(saved_by) else ""
    st.caption(f"Status: {'confirmed' if row['confirmed'] else 'not confirmed yet'}{by}")
    st.toggle(
        f"This {what} applies to the unit",
        key=rec.key("app"),
        disabled=not editable,
        persist_state=PERSIST,
    )
    return bool(value(rec, "app"))


def not_applicable_reason(
    rec: Record,
    what: str,
    editable: bool,
    errors: Mapping[str, str],
    height: int,
    placeholder: str | None = None,
) -> None:
    """Its own question when the record does not apply (never the old justification)."""
    text_field(
        rec,
        "na",
        f"Why does this {what} not apply to the unit? (required)",
        editable,
        height=height,
        placeholder=placeholder,
    )
    field_error(errors, "na")
