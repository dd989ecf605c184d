"""A plain, row-by-row implementation of the residual-risk rule: the tests' reference.

It shares no code with `riskmap.scoring`: loops, dicts and sums over records, reading every
number (strength weights, credits, evidence level, key-control weight, maximum reduction,
bands, band matrix) from the catalogue's method. The vectorised core must agree with it on
any input.

The rule, from method.yaml: for a unit and an applicable risk, every control that the
catalogue applies to the unit's type and links to the risk counts, unless it is rated not
applicable; an unrated one counts at maturity 0. Its credited maturity is its maturity, or
at most `evidence_required_above` if it has no evidence; its credit is `credit[credited]`;
its weight is the strength weight, times `key_control_weight` for a key control.
``coverage = sum(weight * credit) / sum(weight)`` (0 with no control);
``reduction = max_reduction * coverage``; ``residual_likelihood = likelihood * (1 -
reduction)``; ``residual = residual_likelihood * impact``; a band is the declared matrix cell
at (likelihood rounded half up, impact) when declared, else the highest band whose `min`
the score reaches.
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


def band_of(score: float, catalogue: Catalogue, likelihood=None, impact=None) -> str:
    """The declared matrix cell, else the highest band whose threshold `score` reaches."""
    matrix = catalogue.method.band_matrix
    if matrix is not None and likelihood is not None:
        levels = sorted(catalogue.method.likelihood.levels)
        level = min(max(int(math.floor(likelihood + 0.5)), levels[0]), levels[-1])
        impacts = sorted(catalogue.method.impact.levels)
        declared = matrix[level][impacts.index(int(impact))]
        if declared is not None:
            return declared
    chosen = catalogue.method.bands[0].id
    for band in catalogue.method.bands:
        if score >= band.min:
            chosen = band.id
    return chosen


def score_rows(
    risk_ratings: Any, control_ratings: Any, units: Any, catalogue: Catalogue
) -> list[dict[str, Any]]:
    """One dict per applicable (unit, risk), sorted by unit_code then risk_id."""
    method = catalogue.method
    rule = method.rule
    unit_by_id = {u["unit_code"]: u for u in records(units)}
    risk_by_id = {r.id: r for r in catalogue.risks}
    keys = {(r.id, c) for r in catalogue.risks for c in getattr(r, "key_controls", ())}
    rating: dict[tuple, dict[str, Any]] = {}
    for row in records(control_ratings):
        rating[(row["unit_code"], row["control_id"])] = row

    out = []
    for row in records(risk_ratings):
        if not is_applicable(row["applicable"]):
            continue
        unit = unit_by_id.get(row["unit_code"])
        risk = risk_by_id.get(row["risk_id"])
        if unit is None or risk is None or unit["unit_type"] not in risk.defaults:
            continue
        total_weight = 0.0
        total_share = 0.0
        names, short = [], []
        for control in catalogue.controls:
            strength = control.mitigates.get(risk.id)
            if strength is None or unit["unit_type"] not in control.unit_types:
                continue
            rated = rating.get((row["unit_code"], control.id))
            if rated is not None and not is_applicable(rated.get("applicable")):
                continue
            maturity = 0 if rated is None or _missing(rated["maturity"]) else int(rated["maturity"])
            evidence = "" if rated is None else rated.get("evidence", "")
            evidenced = not _missing(evidence) and str(evidence).strip() != ""
            credited = maturity
            if not evidenced and maturity > rule.evidence_required_above:
                credited = rule.evidence_required_above
            weight = method.strengths[strength]
            if (risk.id, control.id) in keys:
                weight *= rule.key_control_weight
            total_weight += weight
            total_share += weight * rule.credit[credited]
            if credited > 0:
                names.append(control.id)
            if credited < maturity:
                short.append(control.id)
        coverage = total_share / total_weight if total_weight > 0 else 0.0
        likelihood = float(row["likelihood"])
        impact = float(row["impact"])
        reduction = rule.max_reduction * coverage
        res_l = likelihood * (1.0 - reduction)
        inherent = likelihood * impact
        residual = res_l * impact
        region = unit.get("region", "")
        out.append(
            {
                "unit_code": row["unit_code"],
                "unit": unit["unit"],
                "unit_type": unit["unit_type"],
                "region": "" if _missing(region) else region,
                "risk_id": risk.id,
                "risk": risk.title,
                "stage": risk.stage,
                "likelihood": int(row["likelihood"]),
                "impact": int(row["impact"]),
                "inherent": inherent,
                "coverage": coverage,
                "reduction": reduction,
                "residual_likelihood": res_l,
                "residual": residual,
                "inherent_band": band_of(inherent, catalogue, likelihood, impact),
                "residual_band": band_of(residual, catalogue, res_l, impact),
                "controls": ";".join(sorted(names)),
                "unevidenced": ";".join(sorted(short)),
            }
        )
    out.sort(key=lambda r: (r["unit_code"], r["risk_id"]))
    return out


def raise_controls(
    control_ratings: Any, raises: Iterable[tuple[Any, str, int]]
) -> list[dict[str, Any]]:
    """Control ratings with each (unit_code, control_id, level) raised and marked applicable."""
    rows = {(r["unit_code"], r["control_id"]): r for r in records(control_ratings)}
    for unit_id, control_id, level in raises:
        rows[(unit_id, control_id)] = {
            "unit_code": unit_id,
            "control_id": control_id,
            "applicable": True,
            "maturity": level,
            "evidence": "planned action",
        }
    return list(rows.values())


def total_residual(rows: Iterable[Mapping[str, Any]]) -> float:
    return math.fsum(r["residual"] for r in rows)


def outlier_flags(rows: Iterable[Mapping[str, Any]], catalogue: Catalogue) -> set[tuple]:
    """(unit_code, risk_id, field) of every rating `outlier_levels` or more from its peers' median.

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
                    flags.add((row["unit_code"], row["risk_id"], field))
    return flags
