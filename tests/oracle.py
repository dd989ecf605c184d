"""A plain, row-by-row implementation of the residual-risk rule: the tests' reference.

It shares no code with `riskmap.scoring`: loops, dicts and `math.prod` over records,
reading every number (strength weights, maturity scale, cap, floor, bands) from the
catalogue's method. The vectorised core must agree with it on any input.

The rule, from method.yaml: for a unit and an applicable risk, every control that is
rated applicable with maturity above zero, that the catalogue applies to the unit's type
and that mitigates the risk contributes a factor ``1 - w * m / M``;
``reduction = min(cap, 1 - prod(factors))``;
``residual_likelihood = max(min(likelihood, floor), likelihood * (1 - reduction))``;
``residual = residual_likelihood * impact``; a band is the highest whose `min` the score
reaches.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from riskmap.catalogue import Catalogue


def records(table: Any) -> list[dict[str, Any]]:
    """Rows of a DataFrame (or any iterable of mappings) as plain dicts."""
    if hasattr(table, "to_dict"):
        return [dict(r) for r in table.to_dict("records")]
    return [dict(r) for r in table]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def is_applicable(value: Any) -> bool:
    """Not stated counts as applicable (the catalogue already says it applies)."""
    return True if _missing(value) else bool(value)


def band_of(score: float, catalogue: Catalogue) -> str:
    """The highest band whose threshold `score` reaches (the lowest band below all of them)."""
    chosen = catalogue.method.bands[0].id
    for band in catalogue.method.bands:
        if score >= band.min:
            chosen = band.id
    return chosen


def score_rows(
    risk_ratings: Any, control_ratings: Any, units: Any, catalogue: Catalogue
) -> list[dict[str, Any]]:
    """One dict per applicable (unit, risk), sorted by unit_id then risk_id."""
    method = catalogue.method
    weights = dict(method.strengths)
    top = float(method.maturity.max)
    cap = method.rule.reduction_cap
    floor = method.rule.likelihood_floor
    unit_by_id = {u["unit_id"]: u for u in records(units)}
    applies = {(c.id, t) for c in catalogue.controls for t in c.unit_types}
    mitigates = {c.id: dict(c.mitigates) for c in catalogue.controls}
    risk_by_id = {r.id: r for r in catalogue.risks}

    in_force: dict[Any, list[tuple[str, float]]] = defaultdict(list)
    for row in records(control_ratings):
        unit = unit_by_id.get(row["unit_id"])
        if unit is None or not is_applicable(row["applicable"]):
            continue
        maturity = row["maturity"]
        if _missing(maturity) or maturity <= 0:
            continue
        if (row["control_id"], unit["unit_type"]) not in applies:
            continue
        in_force[row["unit_id"]].append((row["control_id"], float(maturity)))

    out = []
    for row in records(risk_ratings):
        if not is_applicable(row["applicable"]):
            continue
        unit = unit_by_id.get(row["unit_id"])
        risk = risk_by_id.get(row["risk_id"])
        if unit is None or risk is None:
            continue
        factors, names = [], []
        for control_id, maturity in in_force[row["unit_id"]]:
            strength = mitigates[control_id].get(risk.id)
            if strength is None:
                continue
            factors.append(1.0 - weights[strength] * maturity / top)
            names.append(control_id)
        likelihood = float(row["likelihood"])
        impact = float(row["impact"])
        reduction = min(cap, 1.0 - math.prod(factors))
        res_l = max(min(likelihood, floor), likelihood * (1.0 - reduction))
        inherent = likelihood * impact
        residual = res_l * impact
        region = unit.get("region", "")
        out.append(
            {
                "unit_id": row["unit_id"],
                "unit": unit["unit"],
                "unit_type": unit["unit_type"],
                "region": "" if _missing(region) else region,
                "risk_id": risk.id,
                "risk": risk.title,
                "stage": risk.stage,
                "likelihood": int(row["likelihood"]),
                "impact": int(row["impact"]),
                "inherent": inherent,
                "reduction": reduction,
                "residual_likelihood": res_l,
                "residual": residual,
                "inherent_band": band_of(inherent, catalogue),
                "residual_band": band_of(residual, catalogue),
                "controls": ";".join(sorted(names)),
            }
        )
    out.sort(key=lambda r: (r["unit_id"], r["risk_id"]))
    return out


def raise_controls(
    control_ratings: Any, raises: Iterable[tuple[Any, str, int]]
) -> list[dict[str, Any]]:
    """Control ratings with each (unit_id, control_id, level) raised and marked applicable."""
    rows = {(r["unit_id"], r["control_id"]): r for r in records(control_ratings)}
    for unit_id, control_id, level in raises:
        rows[(unit_id, control_id)] = {
            "unit_id": unit_id,
            "control_id": control_id,
            "applicable": True,
            "maturity": level,
        }
    return list(rows.values())


def total_residual(rows: Iterable[Mapping[str, Any]]) -> float:
    return math.fsum(r["residual"] for r in rows)


def outlier_flags(rows: Iterable[Mapping[str, Any]], catalogue: Catalogue) -> set[tuple]:
    """(unit_id, risk_id, field) of every rating `outlier_levels` or more from its peers' median.

    Peers are the other units of the same type that rated the same risk; at least
    `min_peers` of them are needed.
    """
    cal = catalogue.method.calibration
    groups: dict[tuple, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(row["unit_type"], row["risk_id"])].append(row)
    flags = set()
    for members in groups.values():
        for i, row in enumerate(members):
            peers = members[:i] + members[i + 1 :]
            if len(peers) < cal.min_peers:
                continue
            for field in ("likelihood", "impact"):
                median = statistics.median(p[field] for p in peers)
                if abs(row[field] - median) >= cal.outlier_levels:
                    flags.add((row["unit_id"], row["risk_id"], field))
    return flags
