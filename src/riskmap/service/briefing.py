"""The briefing: one page a manager takes to a meeting or sends up the line.

`briefing` gathers, in one read transaction, what the page and the PDF show: the cycle and
its approval (who, when), the method and catalogue version, the key figures against the
last cycle (`key_figures`, the Overview's own numbers), the register for the heat map, the
trafficking chain (`riskmap.scoring.chain`), the ten highest residual risks with their
units, the plan in brief (budget, open actions by deadline, overdue) and the open
calibration flags. `briefing_pdf` lays it out on one A4 page (`riskmap.reports.briefing`)
and records the export in the audit trail, as the workbook's export is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd

from riskmap.figures import action_figures
from riskmap.planning import CLOSED_STATUSES, overdue
from riskmap.scoring import calibration_flags, score
from riskmap.scoring.chain import chain_links
from riskmap.service import frames
from riskmap.service.core import READERS, Tx, use_case, within
from riskmap.service.exports import EXPORTERS
from riskmap.service.overview import key_figures
from riskmap.service.plans import actions as _actions_case

TOP_RISKS = 10
TOP_COLUMNS = ["unit_code", "unit", "unit_type", "region", "risk_id", "risk", "residual"]
DEADLINE_COLUMNS = ["deadline", "actions", "effort_days"]


@dataclass(frozen=True)
class Briefing:
    """Everything the one-page briefing shows, read once."""

    organisation: str
    cycle: str
    status: str
    previous: str | None
    people: dict[str, Any]
    method: str
    catalogue_version: str
    today: date
    figures: dict[str, Any]
    register: pd.DataFrame
    chain: pd.DataFrame
    top_risks: pd.DataFrame
    plan: dict[str, Any]
    deadlines: pd.DataFrame
    flags: pd.DataFrame

    @property
    def approval(self) -> str:
        """The cycle's approval in words: "approved by X on 2026-03-02", or where it stands."""
        p = self.people
        when = p.get("approved_at")
        if p.get("approved_by"):
            day = f" on {when:%Y-%m-%d}" if isinstance(when, datetime) else ""
            return f"approved by {p['approved_by']}{day}"
        if p.get("submitted_by"):
            when = p.get("submitted_at")
            day = f" on {when:%Y-%m-%d}" if isinstance(when, datetime) else ""
            return f"submitted for review by {p['submitted_by']}{day}, not approved yet"
        return f"draft by {p.get('drafted_by') or '?'}, not submitted for review"


def top_risks(register: pd.DataFrame, catalogue, n: int = TOP_RISKS) -> pd.DataFrame:
    """The `n` highest residual unit x risk pairs (ties: unit id, risk id), with their band."""
    if register.empty:
        return pd.DataFrame(columns=[*TOP_COLUMNS, "residual_band"])
    out = register.sort_values(
        ["residual", "unit_code", "risk_id"], ascending=[False, True, True], kind="mergesort"
    ).head(n)
    names = {t.id: t.name for t in catalogue.unit_types}
    out = out.assign(unit_type=out["unit_type"].map(names).fillna(out["unit_type"]))
    return out[[*TOP_COLUMNS, "residual_band"]].reset_index(drop=True)


def by_deadline(actions: pd.DataFrame, today: date) -> pd.DataFrame:
    """Open actions per deadline: "overdue" first, then each quarter they fall due in."""
    if actions.empty:
        return pd.DataFrame(columns=DEADLINE_COLUMNS)
    open_ = actions[~actions["status"].isin(CLOSED_STATUSES)].copy()
    if open_.empty:
        return pd.DataFrame(columns=DEADLINE_COLUMNS)
    late = overdue(open_, today).reindex(open_.index, fill_value=False)
    due = pd.to_datetime(open_["due_date"], errors="coerce")
    quarter = (
        due.dt.year.astype("Int64").astype(str) + " Q" + due.dt.quarter.astype("Int64").astype(str)
    )
    open_["deadline"] = quarter.where(due.notna(), "no due date").where(~late, "overdue")
    open_["_key"] = due.where(~late, pd.Timestamp.min).fillna(pd.Timestamp.max)
    out = open_.groupby("deadline").agg(
        actions=("deadline", "size"), effort_days=("effort_days", "sum"), _key=("_key", "min")
    )
    return out.sort_values("_key").reset_index()[DEADLINE_COLUMNS]


@use_case(*READERS)
def briefing(tx: Tx, cycle: str, *, today: date | None = None) -> Briefing:
    """The briefing of a cycle: see the module's docstring for what it holds."""
    today = today or date.today()
    cat = tx.catalogue
    cyc = tx.cycle(cycle)
    figures = within(tx, tx.who, key_figures, cyc.label, today=today)
    f = frames.cycle_frames(tx.session, cyc)
    reg = score(f.risk_ratings, f.control_ratings, f.units, cat)
    acts = within(tx, tx.who, _actions_case, cyc.label)
    counts = action_figures(acts, today)
    open_ = acts[~acts["status"].isin(CLOSED_STATUSES)]
    plan = {
        **counts,
        "effort_days": float(acts.loc[acts["status"] != "cancelled", "effort_days"].sum()),
        "cost": float(acts.loc[acts["status"] != "cancelled", "cost"].sum()),
        "open_effort_days": float(open_["effort_days"].sum()),
        "currency": cat.method.cost_classes.currency,
    }
    flags = calibration_flags(reg, f.incidents[["unit_code", "risk_id"]], cat, f.units)
    people = {
        "drafted_by": cyc.drafted_by,
        "started_at": cyc.started_at,
        "submitted_by": cyc.submitted_by,
        "submitted_at": cyc.submitted_at,
        "approved_by": cyc.approved_by,
        "approved_at": cyc.approved_at,
        "locked_at": cyc.locked_at,
    }
    return Briefing(
        organisation=tx.organisation().name,
        cycle=cyc.label,
        status=cyc.status,
        previous=figures["previous"],
        people=people,
        method=f"{cat.method.name} {cat.method.version}",
        catalogue_version=cyc.catalogue_version,
        today=today,
        figures=figures,
        register=reg,
        chain=chain_links(reg, cat),
        top_risks=top_risks(reg, cat),
        plan=plan,
        deadlines=by_deadline(acts, today),
        flags=flags,
    )


@use_case(*EXPORTERS)
def briefing_pdf(tx: Tx, cycle: str, *, today: date | None = None) -> bytes:
    """The briefing as a one-page A4 PDF; the export is an audit event."""
    from riskmap.reports.briefing import briefing_document

    b = within(tx, tx.who, briefing, cycle, today=today)
    data = briefing_document(b, tx.catalogue)
    tx.audit_export(tx.cycle(cycle), "briefing", "pdf", data)
    return data
