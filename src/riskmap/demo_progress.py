"""The demo's ratings moving over time: varied risk ratings, action progress, the new
cycle's rework, and incidents (some on risks rated unlikely, for the calibration check).

Split from `riskmap.demo` so that each module does one thing; `build_demo` calls these.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import bindparam, func, insert, select, update

from riskmap.service.core import Tx
from riskmap.store.models import Action, ControlRating, Cycle, Incident, RiskRating

OFFICER = "demo.officer"

RAISED = (
    "Complaints received last year point to this practice",
    "Internal audit found decisions here are rarely reviewed",
    "High staff turnover left posts with little supervision",
    "NGO observations and press reports from the region",
)
LOWERED = (
    "A second official now countersigns every decision",
    "The case management system records every step since spring",
    "Staff rotation every two years was introduced",
    "Far fewer applications are handled here than before",
)
NOT_APPLICABLE = "The unit no longer performs this task (moved to headquarters)"
INCIDENTS = (
    ("complaint", "An applicant reported being asked for an informal payment", "under review"),
    ("disciplinary", "An official was found to share case files with a recruiter", "suspended"),
    ("prosecution", "Officials charged with accepting bribes to ignore exploitation", "pending"),
)


def vary_risks(rows: list[dict[str, Any]], rng: np.random.Generator, share: float) -> int:
    """Move a share of likelihoods/impacts one level, each with a justification."""
    n = len(rows)
    moved = rng.random(n) < share
    d_l = rng.choice([-1, 1], size=n)
    d_i = np.where(rng.random(n) < 0.3, rng.choice([-1, 1], size=n), 0)
    na = rng.random(n) < 0.015
    texts = rng.integers(0, len(RAISED), size=n)
    changed = 0
    for k, row in enumerate(rows):
        if na[k]:
            row.update(applicable=False, justification=NOT_APPLICABLE)
            changed += 1
            continue
        if not moved[k]:
            continue
        new_l = int(np.clip(row["likelihood"] + d_l[k], 1, 5))
        new_i = int(np.clip(row["impact"] + d_i[k], 1, 5))
        if (new_l, new_i) == (row["likelihood"], row["impact"]):
            continue
        up = new_l * new_i > row["likelihood"] * row["impact"]
        row.update(
            likelihood=new_l,
            impact=new_i,
            justification=(RAISED if up else LOWERED)[texts[k]],
        )
        changed += 1
    return changed


def set_statuses(tx: Tx, cycle: Cycle, rng: np.random.Generator, done: float, going: float):
    """Mark a share of the cycle's open actions done and another in progress (bulk)."""
    ids = tx.session.scalars(
        select(Action.id)
        .where(Action.cycle_id == cycle.id, Action.status == "planned")
        .order_by(Action.id)
    ).all()
    draw = rng.random(len(ids))
    status = {
        i: "done" if d < done else "in_progress"
        for i, d in zip(ids, draw, strict=True)
        if d < done + going
    }
    if status:
        table = Action.__table__
        tx.session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(status=bindparam("b_status"), version=table.c.version + 1),
            [{"b_id": i, "b_status": s} for i, s in status.items()],
        )
    return sum(s == "done" for s in status.values()), sum(s != "done" for s in status.values())


def vary_2026(tx: Tx, cycle: Cycle, rng: np.random.Generator) -> dict[str, int]:
    """Changes an officer would make in the new draft: ratings moved, actions completed."""
    rr = RiskRating.__table__
    rows = [
        dict(r)
        for r in tx.session.execute(
            select(rr.c.id, rr.c.likelihood, rr.c.impact, rr.c.applicable, rr.c.justification)
            .where(rr.c.cycle_id == cycle.id)
            .order_by(rr.c.id)
        ).mappings()
    ]
    before = {r["id"]: (r["likelihood"], r["impact"], r["applicable"]) for r in rows}
    vary_risks(rows, rng, share=0.1)
    changed = [
        r for r in rows if (r["likelihood"], r["impact"], r["applicable"]) != before[r["id"]]
    ]
    if changed:
        tx.session.execute(
            update(rr)
            .where(rr.c.id == bindparam("b_id"))
            .values(
                likelihood=bindparam("b_l"),
                impact=bindparam("b_i"),
                applicable=bindparam("b_a"),
                justification=bindparam("b_j"),
                confirmed=True,
                version=rr.c.version + 1,
                updated_by=OFFICER,
            ),
            [
                {
                    "b_id": r["id"],
                    "b_l": r["likelihood"],
                    "b_i": r["impact"],
                    "b_a": r["applicable"],
                    "b_j": r["justification"],
                }
                for r in changed
            ],
        )
    done, going = set_statuses(tx, cycle, rng, done=0.3, going=0.3)

    # Completed actions raise the control's maturity in the new cycle (both cycles' plans).
    cr = ControlRating.__table__
    finished = tx.session.execute(
        select(Action.unit_id, Action.control_id, func.max(Action.to_level))
        .where(Action.cycle_id.in_([cycle.id, cycle.previous_cycle_id]), Action.status == "done")
        .group_by(Action.unit_id, Action.control_id)
    ).all()
    if finished:
        tx.session.execute(
            update(cr)
            .where(
                cr.c.cycle_id == cycle.id,
                cr.c.unit_id == bindparam("b_u"),
                cr.c.control_id == bindparam("b_c"),
                cr.c.maturity < bindparam("b_m"),
            )
            .values(
                maturity=bindparam("b_m"),
                evidence="Action completion report and the records it lists",
                justification="Remediation action completed; evidence checked",
                version=cr.c.version + 1,
                updated_by=OFFICER,
            ),
            [{"b_u": u, "b_c": c, "b_m": m} for u, c, m in finished],
        )

    # Half of the units have been gone through and confirmed so far.
    unit_ids = sorted(
        {u for u in tx.session.scalars(select(rr.c.unit_id).where(rr.c.cycle_id == cycle.id))}
    )
    confirmed = [
        u for u, keep in zip(unit_ids, rng.random(len(unit_ids)) < 0.5, strict=True) if keep
    ]
    for table in (rr, cr):
        tx.session.execute(
            update(table)
            .where(table.c.cycle_id == cycle.id, table.c.unit_id.in_(confirmed))
            .values(confirmed=True)
        )
    return {
        "risk_ratings_changed": len(changed),
        "actions_done": done,
        "actions_in_progress": going,
        "controls_raised": len(finished),
        "units_confirmed": len(confirmed),
    }


def incidents(tx: Tx, cycle: Cycle, rng: np.random.Generator, n_units: int) -> int:
    """Incidents in 2025, a few on risks the 2026 draft rates unlikely (calibration flags)."""
    rr = RiskRating
    candidates = tx.session.execute(
        select(rr.id, rr.unit_id, rr.risk_id, rr.likelihood)
        .where(rr.cycle_id == cycle.id, rr.applicable.is_(True))
        .order_by(rr.id)
    ).all()
    if not candidates:
        return 0
    count = max(4, n_units // 4)
    picks = rng.choice(len(candidates), size=min(count, len(candidates)), replace=False)
    rows, lowered = [], []
    for j, p in enumerate(sorted(picks)):
        c = candidates[p]
        # One in three sits on a risk rated unlikely: the officer's rating is contradicted.
        if j % 3 == 0 and c.likelihood > 2:
            lowered.append({"b_id": c.id})
        kind, text, outcome = INCIDENTS[j % len(INCIDENTS)]
        rows.append(
            {
                "unit_id": c.unit_id,
                "risk_id": c.risk_id,
                "occurred_on": date(2025, 1, 15) + timedelta(days=int(rng.integers(0, 330))),
                "kind": kind,
                "description": text,
                "outcome": outcome,
                "recorded_by": OFFICER,
            }
        )
    if lowered:
        table = RiskRating.__table__
        tx.session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(
                likelihood=2,
                justification="No complaint has reached us about this; rated unlikely",
                version=table.c.version + 1,
                updated_by=OFFICER,
            ),
            lowered,
        )
    tx.session.execute(insert(Incident.__table__), rows)
    return len(rows)
