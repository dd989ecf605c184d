"""Audit events as changes a person reads: "field: before → after", newest first (pure).

An audit event stores the record before and after as JSON. An auditor wants to know what
changed: only the fields whose value differs, each as `field: before → after`; a record
created shows its fields (`field: value`), a record removed `field: value → (removed)`.
`changes_view` lays the trail out newest first with the reason; the raw JSON stays one
click away on the page. Plain text, never markup: the page shows it in a table cell.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

ARROW = "→"
NOTHING = "—"
MAX_VALUE = 80  # characters of one value before it is cut (the raw JSON has it whole)
CHANGE_COLUMNS = ["id", "at", "actor", "action", "record", "cycle", "changes", "reason"]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def show_value(value: Any) -> str:
    """One value in words: text as it is, numbers and dates plainly, the rest as JSON."""
    if _missing(value):
        return NOTHING
    if isinstance(value, str):
        text = value if value.strip() else '""'
    elif isinstance(value, bool | int | float):
        text = str(value)
    else:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    text = " ".join(text.split())
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def change_lines(before: Any, after: Any) -> list[str]:
    """The fields an event changed, one line each, in the order the record lists them."""
    b = before if isinstance(before, Mapping) else None
    a = after if isinstance(after, Mapping) else None
    if b is None and a is None:
        if _missing(before) and _missing(after):
            return []
        return [f"value: {show_value(before)} {ARROW} {show_value(after)}"]
    if b is None:  # created, or an event that records only its outcome
        return [f"{k}: {show_value(v)}" for k, v in a.items()]
    if a is None:
        return [f"{k}: {show_value(v)} {ARROW} (removed)" for k, v in b.items()]
    keys = list(dict.fromkeys([*b, *a]))
    return [
        f"{k}: {show_value(b.get(k))} {ARROW} {show_value(a.get(k))}"
        for k in keys
        if b.get(k) != a.get(k)
    ]


def changes_view(events: pd.DataFrame, cycles: Mapping[int, str] | None = None) -> pd.DataFrame:
    """The trail for reading: newest first, each event's changes (one per line) and why."""
    if events is None or events.empty:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    cycles = cycles or {}
    out = events.sort_values("id", ascending=False, kind="mergesort")
    out = out.assign(
        at=out["at"].astype(str).str[:19].str.replace("T", " "),
        record=out["entity"].astype(str) + " " + out["entity_id"].fillna("").astype(str),
        cycle=[cycles.get(int(c), "") if pd.notna(c) else "" for c in out["cycle_id"]],
        changes=[
            "\n".join(change_lines(b, a)) for b, a in zip(out["before"], out["after"], strict=True)
        ],
        reason=out["reason"].fillna(""),
    )
    return out[CHANGE_COLUMNS].reset_index(drop=True)
