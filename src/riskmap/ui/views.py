"""Pure helpers that shape service results for the manager's pages (no Streamlit here).

The pages (overview, heat maps, plan, trends, audit trail) call these to turn what the
service returns into what a widget shows: metric cards with their change, filtered
registers, a clicked heat map cell back to its unit, display tables, the audit CSV.
Nothing here decides a score, a band or a plan: that is the cores' and the service's job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from riskmap import vocabulary
from riskmap.catalogue import Catalogue
from riskmap.charts.pick import cell_of
from riskmap.scoring import INHERENT_COLUMNS, SCENARIO_COLUMNS

# --------------------------------------------------------------------------- overview


@dataclass(frozen=True)
class Metric:
    """One `st.metric`: label, value, change against the previous cycle and its colouring."""

    key: str
    label: str
    value: str
    delta: float | int | None
    delta_color: str  # "normal" (up is good), "inverse" (down is good), "off"
    help: str


def _fmt(value: Any, decimals: int) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "-"
    return f"{value:,.{decimals}f}" if decimals else f"{int(value):,}"


def _delta(change: Any, decimals: int) -> float | int | None:
    if change is None or (isinstance(change, float) and np.isnan(change)):
        return None
    return round(float(change), decimals) if decimals else int(change)


def band_delta_colors(catalogue: Catalogue) -> dict[str, str]:
    """More pairs in the lowest band is good news, more in the top two bands bad news."""
    ids = [b.id for b in catalogue.method.bands]
    colors = {b: "off" for b in ids}
    colors[ids[0]] = "normal"
    for b in ids[-2:]:
        colors[b] = "inverse"
    return colors


def key_metrics(figures: Mapping[str, Any], catalogue: Catalogue) -> list[list[Metric]]:
    """The overview's metric rows from `service.key_figures`: units, bands, actions.

    Each metric carries the change against the previous cycle (None without one) and the
    colour rule: `inverse` where lower is better (a fall shows green).
    """
    now = figures["figures"]
    change = figures.get("change") or {}
    previous = figures.get("previous")
    against = f" Change against cycle {previous}." if previous else " No previous cycle."
    top = catalogue.method.bands[-1]

    def metric(key: str, label: str, color: str, help_: str, decimals: int = 0) -> Metric:
        return Metric(
            key,
            label,
            _fmt(now.get(key), decimals),
            _delta(change.get(key), decimals) if previous else None,
            color,
            help_ + against,
        )

    units = [
        metric("units_assessed", "Units assessed", "off", "Units with ratings in the cycle."),
        metric(
            "units_confirmed",
            "Units confirmed",
            "normal",
            "Units whose every risk and control rating is confirmed.",
        ),
        metric(
            "units_critical",
            f"Units with a {top.name.lower()} risk",
            "inverse",
            f"Units whose worst residual risk is in the {top.name.lower()} band.",
        ),
        metric(
            "mean_residual",
            "Mean residual risk",
            "inverse",
            "Mean residual score over every applicable unit x risk.",
            decimals=2,
        ),
    ]
    colors = band_delta_colors(catalogue)
    bands = [
        metric(
            f"n_{b.id}",
            f"Risks {b.name.lower()}",
            colors[b.id],
            f"Unit x risk pairs whose residual score is in the {b.name.lower()} band.",
        )
        for b in reversed(catalogue.method.bands)
    ]
    actions = [
        metric("actions_open", "Actions open", "off", "Actions planned or in progress."),
        metric(
            "actions_overdue",
            "Actions overdue",
            "inverse",
            "Open actions whose due date has passed.",
        ),
        metric("actions_done", "Actions done", "normal", "Actions marked done in the cycle."),
    ]
    return [units, bands, actions]


# --------------------------------------------------------------------------- heat maps

VIEWS = {
    "residual": "Residual (now)",
    "inherent": "Inherent",
    "after": "Residual after the plan",
}


def filter_options(register: pd.DataFrame, catalogue: Catalogue) -> dict[str, list[str]]:
    """The values each filter offers, in catalogue order where there is one."""
    type_rank = {t.id: i for i, t in enumerate(catalogue.unit_types)}
    stage_rank = {s.id: i for i, s in enumerate(catalogue.stages)}
    present = set(register["unit_type"]) if len(register) else set()
    stages = set(register["stage"]) if len(register) else set()
    return {
        "unit_type": sorted(present, key=lambda t: (type_rank.get(t, len(type_rank)), t)),
        "region": sorted({str(r) for r in register.get("region", pd.Series()).fillna("")}),
        "stage": sorted(stages, key=lambda s: (stage_rank.get(s, len(stage_rank)), s)),
        "band": [b.id for b in catalogue.method.bands],
    }


def filter_register(
    register: pd.DataFrame,
    *,
    unit_types: Iterable[str] = (),
    regions: Iterable[str] = (),
    stages: Iterable[str] = (),
    bands: Iterable[str] = (),
    band_column: str = "residual_band",
    units: Iterable[str] = (),
) -> pd.DataFrame:
    """The register rows that pass every filter (an empty filter lets everything through).

    `bands` keeps the cells whose `band_column` is one of them, so a unit appears with
    only its cells in those bands.
    """
    keep = np.ones(len(register), dtype=bool)
    for column, wanted in (
        ("unit_type", unit_types),
        ("region", regions),
        ("stage", stages),
        (band_column, bands),
        ("unit_code", units),
    ):
        wanted = list(wanted)
        if wanted:
            values = register[column].fillna("").astype(str)
            keep &= values.isin([str(w) for w in wanted]).to_numpy()
    return register.loc[keep].reset_index(drop=True)


def page_count(n: int, size: int) -> int:
    """How many pages of `size` rows `n` rows fill (at least one)."""
    return max(1, -(-n // size))


def page_of(rows: Sequence[str], page: int, size: int) -> list[str]:
    """The rows of page `page` (1-based), clamped to the pages there are."""
    page = min(max(1, page), page_count(len(rows), size))
    return list(rows[(page - 1) * size : page * size])


def page_span(n: int, page: int, size: int) -> str:
    """ "201-400": the rows page `page` shows, 1-based, both ends included."""
    page = min(max(1, page), page_count(n, size))
    return f"{(page - 1) * size + 1:,}-{min(page * size, n):,}"


def unit_choices(register: pd.DataFrame) -> dict[str, str]:
    """Unit id -> "name (id)" for the unit picker, most exposed first (as the map orders)."""
    if register is None or register.empty:
        return {}
    worst = (
        register.groupby(["unit_code", "unit"], sort=False)["residual"]
        .max()
        .reset_index()
        .sort_values(["residual", "unit"], ascending=[False, True], kind="mergesort")
    )
    return {u: f"{n} ({u})" for u, n in zip(worst["unit_code"], worst["unit"], strict=True)}


def unit_at(points: Sequence[Mapping[str, Any]], row_order: Sequence[str]) -> str | None:
    """The unit of the first clicked cell of a heat map with a pick layer, or None.

    `points` is the plotly selection event's points (`riskmap.charts.with_pick_layer`
    names a cell by its row and column position), `row_order` the unit ids top to bottom.
    """
    cell = cell_of(points)
    if cell is None or not 0 <= cell[0] < len(row_order):
        return None
    return row_order[cell[0]]


def band_label(band: Any, catalogue: Catalogue) -> str:
    names = {b.id: b.name for b in catalogue.method.bands}
    return names.get(str(band), "") if band is not None and not pd.isna(band) else ""


def risk_table(risks: pd.DataFrame, missing: pd.DataFrame, catalogue: Catalogue):
    """A unit's risks for display: scores, bands in words, top missing controls."""
    cols = [
        *SCENARIO_COLUMNS,
        *INHERENT_COLUMNS,
        "inherent_band",
        "residual",
        "residual_band",
        "top_missing",
    ]
    if risks.empty:
        return pd.DataFrame(columns=cols)
    stage_names = {s.id: s.name for s in catalogue.stages}
    text = missing.set_index("risk_id")["text"] if len(missing) else pd.Series(dtype=object)
    out = risks.assign(
        stage=risks["stage"].map(stage_names).fillna(risks["stage"]),
        inherent_band=[band_label(b, catalogue) for b in risks["inherent_band"]],
        residual_band=[band_label(b, catalogue) for b in risks["residual_band"]],
        top_missing=risks["risk_id"].map(text).fillna(""),
    )
    return out[cols]


# --------------------------------------------------------------------------- plan

# What every list of actions shows of one (the plan a budget buys, the stored actions).
_ACTION_SHOWN = [
    "unit_code",
    "unit",
    "control",
    "from_level",
    "to_level",
    "residual_removed",
    "effort_days",
    "cost",
]
PLAN_COLUMNS = [
    "priority",
    *_ACTION_SHOWN,
    "cumulative_days",
    "band",
    "due_date",
    "overdue",
    "stored_as",
    "owner_role",
]
ACTION_COLUMNS = [
    "id",
    "overdue",
    "priority",
    *_ACTION_SHOWN,
    "due_date",
    "owner",
    "status",
    "notes",
    "manual",
]


def plan_table(plan_actions: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """The selected actions of a (previewed) plan, ranked, for display."""
    if plan_actions is None or plan_actions.empty:
        return pd.DataFrame(columns=PLAN_COLUMNS)
    out = plan_actions.assign(band=[band_label(b, catalogue) for b in plan_actions["band"]])
    late, days = out["overdue"].astype(bool), out["days_overdue"].astype(str)
    out["overdue"] = np.where(late, "⚠ " + days + " days", "")
    return out[PLAN_COLUMNS].reset_index(drop=True)


def actions_table(actions: pd.DataFrame, today: date) -> pd.DataFrame:
    """The cycle's stored actions with an `overdue` flag ("⚠ 12 days"), for display."""
    from riskmap.service.overview import with_overdue

    if actions is None or actions.empty:
        return pd.DataFrame(columns=ACTION_COLUMNS)
    out = with_overdue(actions, today)
    out["overdue"] = np.where(out["overdue"], "⚠ " + out["days_overdue"].astype(str) + " days", "")
    out["status"] = out["status"].map(vocabulary.action_status_label)
    return out[ACTION_COLUMNS].reset_index(drop=True)


def band_legend(catalogue: Catalogue) -> str:
    """The bands in words with their thresholds: "low < 5 ≤ medium < 10 ≤ high < 15 ≤ critical"."""
    bands = catalogue.method.bands
    parts = [bands[0].name.lower()]
    for band in bands[1:]:
        parts.append(f"< {band.min:g} ≤ {band.name.lower()}")
    return " ".join(parts)


def action_label(row: Mapping[str, Any]) -> str:
    """How an action is named in the picker: "#12 BC-003 Staff rotation (planned)"."""
    status = vocabulary.action_status_label(row.get("status", ""))
    return f"#{row['id']} {row['unit_code']}: {row['control']} ({status})"


# --------------------------------------------------------------------------- trends


def unit_change(per_unit: pd.DataFrame) -> pd.DataFrame:
    """`Trend.per_unit` as `riskmap.charts.trend_units` takes it (mean residual per unit)."""
    return per_unit.rename(
        columns={"mean_residual_before": "residual_before", "mean_residual_after": "residual_after"}
    )[["unit_code", "unit", "residual_before", "residual_after"]]


def risk_change(per_risk: pd.DataFrame) -> pd.DataFrame:
    """`Trend.per_risk` as `riskmap.charts.trend_units` takes it (one bar per risk)."""
    out = per_risk.assign(unit=per_risk["risk_id"].astype(str) + " " + per_risk["risk"].astype(str))
    out = out.rename(
        columns={"mean_residual_before": "residual_before", "mean_residual_after": "residual_after"}
    )
    return out[["risk_id", "unit", "residual_before", "residual_after"]]


def movers_table(movers: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """`Trend.movers` (unit x risk pairs that changed band) with bands in words."""
    cols = ["direction", "unit_code", "unit", "risk_id", "risk", "residual_before"]
    cols += ["residual_band_before", "residual_after", "residual_band_after", "change"]
    if movers is None or movers.empty:
        return pd.DataFrame(columns=cols)
    out = movers.assign(
        direction=["▲ worse" if d == "up" else "▼ better" for d in movers["direction"]],
        residual_band_before=[band_label(b, catalogue) for b in movers["residual_band_before"]],
        residual_band_after=[band_label(b, catalogue) for b in movers["residual_band_after"]],
    )
    return out[cols].reset_index(drop=True)


def maturity_gain(maturity: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """`Trend.maturity` with each principle's number and title, in catalogue order."""
    by_id = {p.id: p for p in catalogue.principles}
    rank = {p.id: i for i, p in enumerate(catalogue.principles)}
    out = maturity.assign(
        title=[
            f"{by_id[p].number}. {by_id[p].title}" if p in by_id else str(p)
            for p in maturity["principle"]
        ],
        _rank=maturity["principle"].map(rank),
    ).sort_values("_rank", kind="mergesort")
    return out[
        ["principle", "title", "mean_maturity_before", "mean_maturity_after", "gained"]
    ].reset_index(drop=True)


def default_pair(labels: Sequence[str], in_view: str | None) -> tuple[str | None, str | None]:
    """(before, after) to compare by default: the cycle in view and the one before it."""
    labels = list(labels)
    if len(labels) < 2:
        return None, None
    after = in_view if in_view in labels else labels[-1]
    i = labels.index(after)
    if i == 0:
        return labels[0], labels[1]
    return labels[i - 1], after


# --------------------------------------------------------------------------- audit trail


# The audit trail's views live in riskmap.ui.audit_views; named here for the pages and tests.
from riskmap.ui.audit_views import (  # noqa: E402
    audit_csv,
    audit_view,
    compact_json,
    csv_safe,
    cycle_labels,
    filter_events,
)

__all__ = ["audit_csv", "audit_view", "compact_json", "csv_safe", "cycle_labels", "filter_events"]
