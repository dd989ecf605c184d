"""A fictional ministry to explore riskmap with: units, two cycles, incidents, a plan, users.

`build_demo` fills an empty database in one transaction: a ministry with units of many
types in several regions (national headquarters, regional offices, field offices), cycle
"2025" (approved by a second person and locked) and cycle "2026" (a draft cloned from
2025, with changed ratings, actions moved forward and completed), incidents (some on risks
rated unlikely, so the calibration check has something to show) and one demo user per
role. Everything but the passwords follows from the seed. Ratings and actions are written
in bulk and audited as one event per step, so a national ministry of 1,000 units is built
in seconds; the workflow steps (confirm, plan, submit, approve, lock, clone) run through
the same use cases a person would, as the demo users.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select

from riskmap import vocabulary
from riskmap.catalogue import Catalogue
from riskmap.demo_progress import OFFICER, incidents, set_statuses, vary_2026, vary_risks
from riskmap.service import cycles as cycle_cases
from riskmap.service import plans, ratings, users
from riskmap.service.core import CLI_ADMIN, Service, Tx, resolve_actor, within
from riskmap.service.errors import DomainError
from riskmap.service.seeding import active_units, baseline_rows, create_cycle
from riskmap.store.models import Cycle, Organisation
from riskmap.store.models import Unit as UnitRow

# The demo holds units of every unit type (police, border and immigration, but also labour
# inspection, prosecution, courts, health, consular missions): no single ministry does, so
# the demo organisation is the national coordination that assesses them together.
ORGANISATION = "National Anti-Trafficking Coordination of Arcadia (demo)"
MANAGER = "demo.manager"
REGIONS = ("Capital", "North", "South", "East", "West", "Coast")
# Unit types whose offices sit in missions abroad, not in the country's regions.
ABROAD = {"consular", "deployed_missions"}
MISSIONS = ("Mission in Borealia", "Mission in Ostmark", "Mission in Sudria", "Mission in Westria")
ROLES = vocabulary.ROLES
# Front-line unit types get more field offices than the others.
FRONT_LINE = {"border_control": 3, "police_local": 3, "labour_inspection": 2, "consular": 2}
PREFIX = {
    "border_control": "BC",
    "immigration": "IMM",
    "consular": "CON",
    "civil_registry": "CR",
    "recruitment_licensing": "RL",
    "labour_inspection": "LI",
    "police_vice": "PV",
    "police_local": "PL",
    "anti_trafficking_unit": "ATU",
    "prosecution": "PRO",
    "courts": "COU",
    "victim_protection": "VP",
    "municipal_licensing": "ML",
    "customs": "CUS",
    "prisons": "PRI",
}


@dataclass
class DemoResult:
    organisation: str
    units: int
    cycles: list[str]
    passwords: dict[str, str]
    counts: dict[str, int] = field(default_factory=dict)


def _prefix(unit_type: str) -> str:
    return PREFIX.get(unit_type, unit_type[:3].upper())


def _unit_plan(catalogue: Catalogue, n: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Units to create, parents before children: one headquarters per type, then offices."""
    order = sorted(catalogue.unit_types, key=lambda t: -FRONT_LINE.get(t.id, 1))
    types = order[: min(len(order), max(1, math.ceil(n * 0.6)))]
    pool = [t for t in types for _ in range(FRONT_LINE.get(t.id, 1))]
    chosen = types[:n] + [pool[i % len(pool)] for i in range(max(0, n - len(types)))]
    seq: dict[str, int] = {}
    regional: dict[tuple[str, str], str] = {}
    plan: list[dict[str, Any]] = []
    for t in chosen:
        k = seq[t.id] = seq.get(t.id, 0) + 1
        hq = f"{_prefix(t.id)}-001"
        code = f"{_prefix(t.id)}-{k:03d}"
        if k == 1:
            region, parent, depth, name = REGIONS[0], None, 0, f"{t.name}, national headquarters"
        elif t.id in ABROAD:
            region, parent, depth = "Abroad", hq, 1
            name = f"{t.name}, {MISSIONS[(k - 2) % len(MISSIONS)]}"
        else:
            # The first office of a type in a region is its regional office; later offices
            # in that region report to it.
            region = REGIONS[1 + (k - 2) % (len(REGIONS) - 1)]
            parent = regional.setdefault((t.id, region), code)
            if parent == code:
                parent, depth, name = hq, 1, f"{t.name}, {region} regional office"
            else:
                depth, name = 2, f"{t.name}, {region} office {k}"
        exposure = {
            f: int(np.clip(level + rng.choice([-1, 0, 0, 1]), 1, 5))
            for f, level in t.exposure.items()
        }
        plan.append(
            {
                "code": code,
                "name": name,
                "unit_type": t.id,
                "region": region,
                "parent": parent,
                "depth": depth,
                "headcount": int(rng.integers(8, 160)),
                "exposure": exposure,
            }
        )
    return plan


def _insert_units(tx: Tx, org: Organisation, plan: list[dict[str, Any]]) -> None:
    """Bulk insert, one level of the hierarchy at a time so parents have ids."""
    ids: dict[str, int] = {}
    for depth in (0, 1, 2):
        rows = [
            {
                "organisation_id": org.id,
                "code": u["code"],
                "name": u["name"],
                "unit_type": u["unit_type"],
                "parent_id": ids[u["parent"]] if u["parent"] else None,
                "region": u["region"],
                "headcount": u["headcount"],
                "exposure": u["exposure"],
                "retired": False,
                "version": 1,
            }
            for u in plan
            if u["depth"] == depth
        ]
        if rows:
            tx.session.execute(insert(UnitRow.__table__), rows)
            ids.update(tx.session.execute(select(UnitRow.code, UnitRow.id)).all())


# Maturity 0-4 by how far a unit's integrity work has come: most are only starting.
MATURITY_MIX = (
    (0.55, 0.35, 0.08, 0.02, 0.0),  # weak
    (0.35, 0.4, 0.18, 0.06, 0.01),  # average
    (0.15, 0.3, 0.35, 0.15, 0.05),  # strong
)


UNEVIDENCED_SHARE = 0.2


def _rate_controls(tx: Tx, rows: list[dict[str, Any]], rng: np.random.Generator) -> None:
    units = sorted({row["unit_id"] for row in rows})
    strength = dict(zip(units, rng.choice(3, size=len(units), p=[0.4, 0.4, 0.2]), strict=True))
    draw = rng.random(len(rows))
    cumulative = np.cumsum(MATURITY_MIX, axis=1)
    levels = [
        int(np.searchsorted(cumulative[strength[row["unit_id"]]], d, side="right"))
        for row, d in zip(rows, draw, strict=True)
    ]
    controls = tx.catalogue.control_by_id
    # One rating in five above Nascent is claimed without its evidence: the rule credits it
    # as Nascent, and the register says so.
    unevidenced = rng.random(len(rows)) < UNEVIDENCED_SHARE
    for row, level, bare in zip(rows, levels, unevidenced, strict=True):
        evidence = controls[row["control_id"]].evidence
        row["maturity"] = int(level)
        row["evidence"] = "" if bare else "; ".join(evidence[: max(0, int(level) - 1)])


def build_demo(svc: Service, *, units: int = 24, seed: int = 2025) -> DemoResult:
    """Fill an empty database with the demo ministry (one transaction); see the module doc."""
    if units < 1:
        raise DomainError("the demo needs at least one unit")
    rng = np.random.default_rng(seed)
    cat = svc.catalogue
    passwords = {f"demo.{role}": secrets.token_urlsafe(9) for role in ROLES}
    counts: dict[str, int] = {}
    with svc.transaction(CLI_ADMIN, "demo") as tx:
        if tx.session.scalar(select(func.count()).select_from(Organisation)):
            raise DomainError(
                "the database already holds an organisation; the demo needs an empty one"
            )
        org = Organisation(name=ORGANISATION, is_demo=True)
        tx.session.add(org)
        tx.session.flush()
        for role in ROLES:
            name = f"demo.{role}"
            within(
                tx,
                CLI_ADMIN,
                users.add_user,
                name,
                role,
                passwords[name],
                display_name=f"Demo {role}",
            )
        plan = _unit_plan(cat, units, rng)
        _insert_units(tx, org, plan)
        tx.audit(
            "demo.seed",
            "organisation",
            org.id,
            after={"name": org.name, "is_demo": True, "units": len(plan), "seed": seed},
        )

        # 2025: defaults varied, controls rated, everything confirmed, a plan, then review.
        officer, manager = OFFICER, MANAGER
        officer_tx = Tx(svc, tx.session, resolve_actor(tx.session, officer, "demo"), "demo")
        risk_rows, control_rows = baseline_rows(officer_tx, active_units(officer_tx), None)
        counts["risk_ratings_varied_2025"] = vary_risks(risk_rows, rng, share=0.25)
        _rate_controls(officer_tx, control_rows, rng)
        c2025 = create_cycle(officer_tx, "2025", None, risk_rows, control_rows, how="demo")
        within(tx, officer, ratings.confirm_ratings, "2025")
        _plan(tx, officer, "2025", 20.0 * units)
        done, going = set_statuses(officer_tx, c2025, rng, done=0.35, going=0.35)
        officer_tx.audit(
            "demo.progress",
            "cycle",
            "2025",
            after={"actions_done": done, "actions_in_progress": going},
            cycle_id=c2025.id,
        )
        within(tx, officer, cycle_cases.submit_cycle, "2025")
        within(
            tx,
            manager,
            cycle_cases.comment,
            "2025",
            "Approved. Border posts and local police stay the priority for 2026.",
        )
        within(tx, manager, cycle_cases.approve_cycle, "2025")
        within(tx, manager, cycle_cases.lock_cycle, "2025")

        # 2026: cloned from 2025 with its open actions, then partly reworked.
        within(tx, officer, cycle_cases.start_cycle, "2026", how="clone", from_cycle="2025")
        c2026 = tx.session.scalar(select(Cycle).where(Cycle.label == "2026"))
        counts.update(vary_2026(officer_tx, c2026, rng))
        counts["incidents"] = incidents(officer_tx, c2026, rng, len(plan))
        officer_tx.audit("demo.progress", "cycle", "2026", after=counts, cycle_id=c2026.id)
        _plan(tx, officer, "2026", 10.0 * units)
        within(
            tx,
            officer,
            cycle_cases.comment,
            "2026",
            "Draft in progress: half of the units reviewed with their heads of office.",
        )
    return DemoResult(ORGANISATION, len(plan), ["2025", "2026"], passwords, counts)


def _plan(tx: Any, officer: str, cycle: str, budget_days: float) -> None:
    """The officer stores the plan of the demo's `cycle`, starting on 1 March of its year."""
    start = date(int(cycle), 3, 1)
    within(tx, officer, plans.build_plan, cycle, budget_days=budget_days, start=start)
