"""The remediation timeline: one bar per action from its start to its due date.

Bars are coloured by status and grouped by owner (rows ordered by owner, then due date).
An action is overdue when its due date is before `today` and it is still open (not done,
not cancelled); overdue bars are hatched, outlined in the method's top band colour and
say so in their hover text. A dotted line marks today.

Accepts the planner's actions (`Plan.actions`: owner_role, no status: all "planned") and
the service's stored actions (owner, status). Actions without a due date cannot be placed
and are counted in a note.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from riskmap import planning, vocabulary
from riskmap.charts.common import FONT, build_figure, empty_figure, escape, escape_series

CLOSED_STATUSES = planning.CLOSED_STATUSES
# Okabe-Ito palette: distinguishable with every common colour-vision deficiency.
STATUS_COLORS = {
    vocabulary.ActionStatus.PLANNED: "#56B4E9",
    vocabulary.ActionStatus.IN_PROGRESS: "#0072B2",
    vocabulary.ActionStatus.DONE: "#009E73",
    vocabulary.ActionStatus.CANCELLED: "#999999",
}
OTHER_STATUS_COLOR = "#E69F00"
OVERDUE_COLOR = "#BD0026"
_DAY_MS = 86_400_000


def _timestamp(value: date | datetime | str | pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def _owner(actions: pd.DataFrame) -> pd.Series:
    for column in ("owner", "owner_role"):
        if column in actions.columns:
            return actions[column].fillna("").astype(str)
    return pd.Series("", index=actions.index)


def _status(actions: pd.DataFrame) -> pd.Series:
    if "status" in actions.columns:
        return actions["status"].fillna(vocabulary.ActionStatus.PLANNED).astype(str)
    return pd.Series(vocabulary.ActionStatus.PLANNED.value, index=actions.index)


def overdue(actions: pd.DataFrame, today: date | datetime | str) -> np.ndarray:
    """True for each action due before `today` and still open (the planner's rule)."""
    if actions is None or actions.empty:
        return np.zeros(0, dtype=bool)
    return planning.overdue(actions, _timestamp(today)).to_numpy(dtype=bool)


def gantt(
    actions: pd.DataFrame,
    today: date | datetime | str,
    start: date | datetime | str | None = None,
    title: str | None = None,
) -> go.Figure:
    """Actions as bars from their start to their due date, one trace per status.

    Start: the action's own `start` column if it has one, else `start`, else the earlier
    of `today` and the earliest due date (so every bar is visible); a bar never starts
    after its due date. Each trace's customdata holds [action position in `actions`,
    overdue flag (0/1), days overdue].
    """
    title = title or "Remediation plan: actions by owner and due date"
    if actions is None or actions.empty:
        return empty_figure("No actions to show.", title)
    if "due_date" not in actions.columns:
        raise ValueError(f"actions: missing column 'due_date'; has {list(actions.columns)}")
    now = _timestamp(today)
    frame = actions.reset_index(drop=True)
    due = pd.to_datetime(frame["due_date"], errors="coerce").dt.normalize()
    placed = due.notna().to_numpy()
    unplaced = int((~placed).sum())
    if not placed.any():
        return empty_figure(f"{unplaced} action(s), none with a due date to place.", title)

    if "start" in frame.columns:
        begin = pd.to_datetime(frame["start"], errors="coerce").dt.normalize()
    else:
        begin = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    default_start = _timestamp(start) if start is not None else min(now, due[placed].min())
    begin = begin.fillna(default_start)
    begin = begin.where(begin <= due, due)

    owner = _owner(frame)
    status = _status(frame)
    late = overdue(frame, now)
    days_late = np.where(late, (now - due).dt.days.fillna(0).to_numpy(), 0).astype(int)

    unit = frame["unit"] if "unit" in frame.columns else frame.get("unit_code", "")
    control = frame["control"] if "control" in frame.columns else frame.get("control_id", "")
    label = (
        escape_series(owner.where(owner != "", "(no owner)"))
        + " | "
        + escape_series(pd.Series(unit, index=frame.index))
        + ": "
        + escape_series(pd.Series(control, index=frame.index))
    )
    dup = label.duplicated(keep=False)
    label = label.where(~dup, label + " #" + (frame.index + 1).astype(str))

    order = (
        pd.DataFrame({"owner": owner, "due": due, "label": label})[placed]
        .sort_values(["owner", "due", "label"], kind="mergesort")
        .index.to_numpy()
    )
    hover = (
        "<b>"
        + label
        + "</b><br>Status: "
        + escape_series(status.map(vocabulary.action_status_label))
        + "<br>Start: "
        + begin.dt.strftime("%Y-%m-%d").fillna("")
        + "<br>Due: "
        + due.dt.strftime("%Y-%m-%d").fillna("")
        + np.where(late, "<br><b>Overdue by " + days_late.astype(str) + " days</b>", "")
    )

    traces = []
    for name in pd.unique(status.iloc[order]):
        idx = order[(status.iloc[order] == name).to_numpy()]
        is_late = late[idx]
        width = ((due.iloc[idx] - begin.iloc[idx]).dt.days.to_numpy() + 1) * _DAY_MS
        traces.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": vocabulary.action_status_label(name),
                "y": label.iloc[idx].tolist(),
                "base": begin.iloc[idx].dt.strftime("%Y-%m-%d").tolist(),
                "x": width.astype(float),
                "customdata": np.column_stack([idx, is_late.astype(int), days_late[idx]]),
                "hovertext": hover.iloc[idx].tolist(),
                "hoverinfo": "text",
                "marker": {
                    "color": STATUS_COLORS.get(name, OTHER_STATUS_COLOR),
                    "line": {
                        "color": np.where(is_late, OVERDUE_COLOR, "rgba(0,0,0,0)").tolist(),
                        "width": np.where(is_late, 2.5, 0.0),
                    },
                    "pattern": {"shape": np.where(is_late, "x", "").tolist()},
                },
            }
        )

    today_text = now.strftime("%Y-%m-%d")
    annotations = [
        {
            "x": today_text,
            "xref": "x",
            "y": 1,
            "yref": "paper",
            "yanchor": "bottom",
            "text": f"today {today_text}",
            "showarrow": False,
            "font": {"size": 11},
        }
    ]
    n_late = int(late.sum())
    notes = []
    if n_late:
        notes.append(f"{n_late} overdue (hatched, red outline)")
    if unplaced:
        notes.append(f"{unplaced} without a due date not shown")
    if notes:
        annotations.append(
            {
                "text": "; ".join(notes),
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": 1,
                "xanchor": "left",
                "yanchor": "bottom",
                "yshift": 18,
                "showarrow": False,
                "font": {"color": OVERDUE_COLOR if n_late else "#555555"},
            }
        )
    labels = label.iloc[order].tolist()
    layout = {
        "title": {"text": escape(title), "x": 0},
        "barmode": "overlay",
        "xaxis": {"type": "date", "title": {"text": "Due date"}},
        "yaxis": {
            "type": "category",
            "categoryorder": "array",
            "categoryarray": labels,
            "autorange": "reversed",
            "tickfont": {"size": 10},
        },
        "shapes": [
            {
                "type": "line",
                "xref": "x",
                "x0": today_text,
                "x1": today_text,
                "yref": "paper",
                "y0": 0,
                "y1": 1,
                "line": {"color": "#333333", "width": 1.5, "dash": "dot"},
            }
        ],
        "annotations": annotations,
        "legend": {"title": {"text": "Status"}},
        "plot_bgcolor": "white",
        "font": {"family": FONT},
        "height": 180 + 22 * max(len(labels), 4),
        "margin": {"t": 110},
    }
    return build_figure(traces, layout)
