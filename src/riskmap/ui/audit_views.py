"""The audit trail as people read it: rows for the page, a filter, and a formula-safe CSV.

Split from `riskmap.ui.views` (the manager pages' view helpers) to keep each module small.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def compact_json(value: Any) -> str:
    """An event's before/after as one line of JSON ("" when there is none)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def audit_view(events: pd.DataFrame, cycles: Mapping[int, str] | None = None) -> pd.DataFrame:
    """Audit events for display: who, when, what, before, after, why (plain text)."""
    cols = ["id", "at", "actor", "action", "entity", "entity_id", "cycle", "before", "after"]
    cols.append("reason")
    if events is None or events.empty:
        return pd.DataFrame(columns=cols)
    cycles = cycles or {}
    out = events.assign(
        at=events["at"].astype(str).str[:19].str.replace("T", " "),
        cycle=[cycles.get(int(c), "") if pd.notna(c) else "" for c in events["cycle_id"]],
        before=[compact_json(v) for v in events["before"]],
        after=[compact_json(v) for v in events["after"]],
    )
    return out[cols].reset_index(drop=True)


def cycle_labels(events: pd.DataFrame) -> dict[int, str]:
    """Cycle id -> label, read from the trail itself (a cycle's own events name it)."""
    if events is None or events.empty:
        return {}
    own = events[(events["entity"] == "cycle") & events["cycle_id"].notna()]
    own = own.drop_duplicates("cycle_id")
    return {int(i): str(label) for i, label in zip(own["cycle_id"], own["entity_id"], strict=True)}


def filter_events(
    events: pd.DataFrame,
    *,
    cycle_ids: Iterable[int] = (),
    actions: Iterable[str] = (),
    actors: Iterable[str] = (),
    entities: Iterable[str] = (),
    text: str = "",
    since: date | None = None,
    until: date | None = None,
) -> pd.DataFrame:
    """Events matching every filter; `text` is searched (without case) in every column,
    `since` and `until` are days (UTC, both included)."""
    keep = np.ones(len(events), dtype=bool)
    cycle_ids = [int(c) for c in cycle_ids]
    if cycle_ids:
        keep &= events["cycle_id"].isin(cycle_ids).to_numpy()
    for column, wanted in (("action", actions), ("actor", actors), ("entity", entities)):
        wanted = list(wanted)
        if wanted:
            keep &= events[column].isin(wanted).to_numpy()
    if since is not None or until is not None:
        day = pd.to_datetime(events["at"].astype(str).str[:10], errors="coerce").dt.date
        if since is not None:
            keep &= (day >= since).fillna(False).to_numpy(dtype=bool)
        if until is not None:
            keep &= (day <= until).fillna(False).to_numpy(dtype=bool)
    needle = (text or "").strip().lower()
    if needle:
        hay = events.astype(str).apply(
            lambda col: col.str.lower().str.contains(needle, regex=False)
        )
        keep &= hay.any(axis=1).to_numpy()
    return events.loc[keep].reset_index(drop=True)


def csv_safe(value: Any) -> Any:
    """A cell that a spreadsheet will not run as a formula: text starting with = + - @ (or a
    tab or carriage return) gets a leading single quote; numbers and other text stay."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def audit_csv(events: pd.DataFrame, cycles: Mapping[int, str] | None = None) -> bytes:
    """The events as UTF-8 CSV (with a BOM, so Excel reads the accents), formula-safe."""
    view = audit_view(events, cycles)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(list(view.columns))
    for row in view.itertuples(index=False):
        writer.writerow(["" if v is None else csv_safe(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
