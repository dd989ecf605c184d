"""Small helpers shared by the pages: escaping, field errors, bands, progress, levels.

Text a user typed is data: build markdown from it only through `escape_md`, and never
render anything with `unsafe_allow_html`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import streamlit as st

from riskmap.catalogue.models import Scale
from riskmap.service import DomainError, ValidationError

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")


def escape_md(text: Any) -> str:
    """`text` safe to embed in Streamlit markdown: every markdown/HTML character escaped."""
    if text is None:
        return ""
    s = str(text)
    return _MD_SPECIAL.sub(r"\\\1", s)


def field_error(errors: Mapping[str, str], field: str) -> None:
    """Show the error recorded for `field` (if any) right where it is called."""
    message = errors.get(field)
    if message:
        st.error(escape_md(message), icon=":material/error:")


def validation_errors(exc: ValidationError, fields: dict[str, str]) -> dict[str, str]:
    """Map a `ValidationError` to the widget it concerns: `fields` maps the service's field
    names ("justification", "likelihood") to the keys the page uses; unknown ones go to
    "_form"."""
    message = str(exc).removeprefix(f"{exc.field}: ")
    text = f"{exc.field[:1].upper()}{exc.field[1:]}: {message}"
    return {fields.get(exc.field, "_form"): text}


def level_label(scale: Scale, level: int) -> str:
    lv = scale.levels.get(int(level))
    return f"{level} {lv.name}" if lv else str(level)


def level_help(scale: Scale) -> str:
    """Every level of a scale with its written definition, as a markdown list."""
    return "\n".join(
        f"- **{k} {escape_md(lv.name)}**: {escape_md(lv.definition)}"
        for k, lv in sorted(scale.levels.items())
    )


def progress(done: int, total: int, label: str) -> None:
    share = done / total if total else 1.0
    st.progress(min(max(share, 0.0), 1.0), text=f"{label}: {done} of {total} confirmed")


def _bands() -> dict[str, Any]:
    from riskmap.ui import state  # local: state imports this module

    return {b.id: b for b in state.service().catalogue.method.bands}


def band_text(band: Any) -> str:
    """The band's name as the method file writes it ("High"), or "—"."""
    if not present(band):
        return "—"
    found = _bands().get(str(band))
    return found.name if found else str(band)


def style_bands(frame: pd.DataFrame, columns: list[str]) -> Any:
    """`frame` as a Styler whose band columns carry the method file's band colours; the
    band's name stays written in the cell, so colour is never the only signal."""
    by_name = {b.name: b for b in _bands().values()}

    def colour(value: Any) -> str:
        band = by_name.get(str(value))
        return f"background-color: {band.color}; color: {band.text_color}" if band else ""

    present_cols = [c for c in columns if c in frame.columns]
    return frame.style.map(colour, subset=present_cols)


def present(value: Any) -> bool:
    """True for a real value: not None, NaN, NaT nor an empty string."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return False
    try:
        return not bool(pd.isna(value))
    except (TypeError, ValueError):
        return True


def when(value: Any) -> str:
    """A timestamp as 'YYYY-MM-DD HH:MM' (UTC), or '' when there is none."""
    if not present(value):
        return ""
    return str(value)[:16].replace("T", " ")


def table(frame: pd.DataFrame, **kwargs: Any) -> None:
    """A read-only table (user text shown as data, never as markup)."""
    st.dataframe(frame, hide_index=True, width="stretch", **kwargs)


def labelled_table(
    frame: pd.DataFrame,
    labels: Mapping[str, str],
    *,
    dates: tuple[str, ...] = (),
    **kwargs: Any,
) -> None:
    """A read-only table for people: the columns of `labels` (in that order) under their
    labels, the `dates` columns in the reader's own date format (the browser's locale;
    stored in UTC), and an empty cell, not "None", where there is no value."""
    shown = frame[[c for c in labels if c in frame.columns]].copy()
    config: dict[str, Any] = {}
    for col in shown.columns:
        if col in dates:
            values = shown[col].dropna()
            first = values.iloc[0] if len(values) else None
            if isinstance(first, date) and not isinstance(first, datetime):  # a day
                shown[col] = pd.to_datetime(shown[col], errors="coerce")
                config[col] = st.column_config.DateColumn(labels[col], format="localized")
                continue
            shown[col] = pd.to_datetime(shown[col], utc=True, errors="coerce", format="ISO8601")
            config[col] = st.column_config.DatetimeColumn(labels[col], format="localized")
            continue
        if not pd.api.types.is_numeric_dtype(shown[col]) and not pd.api.types.is_bool_dtype(
            shown[col]
        ):
            shown[col] = shown[col].astype(object).where(shown[col].notna(), "")
        config[col] = st.column_config.Column(labels[col])
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config, **kwargs)


def plotly_points(event: Any) -> list:
    """The points a click selected on a chart drawn with `on_select="rerun"` ([] if none)."""
    if event is not None and hasattr(event, "get"):
        return (event.get("selection") or {}).get("points") or []
    return []


def prepare_button(
    key: str,
    cycle: str,
    label: str,
    spinner: str,
    make: Callable[[], bytes],
    *,
    icon: str = ":material/build:",
    **extra: Any,
) -> None:
    """A button that prepares a file of `cycle` (`make`, a service call) and keeps it under
    `key` with the time (UTC) and `extra` for `download_prepared`; a refusal is shown in an
    officer's words. Every export is prepared the same way."""
    from riskmap.ui import state  # local: state imports this module

    if not st.button(label, key=f"{key}-make", icon=icon):
        return
    try:
        with st.spinner(spinner):
            data = make()
    except DomainError as exc:
        state.show_error(exc, key=key)
    else:
        at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        st.session_state[key] = {"cycle": cycle, "data": data, "at": at, **extra}


def prepared(key: str, cycle: str) -> dict | None:
    """A file prepared earlier in this session for `cycle` under `key` (`{"cycle", "data",
    "at", ...}`); dropped, and None, once the cycle in view is another."""
    kept = st.session_state.get(key)
    if kept is not None and kept["cycle"] != cycle:
        st.session_state.pop(key, None)
        return None
    return kept


def download_prepared(key: str, cycle: str, label: str, file_name: str, mime: str) -> dict | None:
    """The download button of the file prepared for `cycle` under `key`, if there is one
    (the same button for every export: primary, no rerun on click); the file kept."""
    kept = prepared(key, cycle)
    if kept is None:
        return None
    st.download_button(
        label,
        kept["data"],
        file_name=kept.get("name", file_name),
        mime=mime,
        key=f"{key}-download",
        icon=":material/download:",
        type="primary",
        on_click="ignore",
    )
    return kept
