"""How the heat map moves when the method's numbers move (pure).

A method an integrity expert signs must show which of its numbers the picture depends on.
For every parameter that changes a residual band (strength weights, credits, the maximum
reduction, the evidence level, the key-control weight, band thresholds) the register is
scored again with that one number moved one step down and one step up, and the count of
cells per band is set beside the method as shipped. A move that would make the method
invalid (weights out of order, credits no longer rising, thresholds crossing) is reported as
such instead of scored.

Steps: weights, credits and the maximum reduction move by 0.05; the key-control weight by
0.5; the evidence level by one maturity level; band thresholds by one score point.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from pydantic import ValidationError

from riskmap.catalogue import Catalogue
from riskmap.catalogue.models import Method
from riskmap.scoring.residual import score

STEPS = {
    "strengths": 0.05,
    "rule.max_reduction": 0.05,
    "rule.credit": 0.05,
    "rule.evidence_required_above": 1,
    "rule.key_control_weight": 0.5,
    "bands": 1,
}
SENSITIVITY_COLUMNS = ["parameter", "value", "moved_to", "valid", "note"]


def _step(path: str) -> float | None:
    for prefix, step in STEPS.items():
        if path == prefix or path.startswith(prefix + "."):
            if prefix == "bands" and not path.endswith(".min"):
                return None
            return step
    return None


def _moved(method: Method, path: str, value: float) -> dict[str, Any]:
    data = method.model_dump()
    parts = path.split(".")
    if parts[0] == "bands":
        for band in data["bands"]:
            if band["id"] == parts[1]:
                band["min"] = value
        return data
    node = data
    for part in parts[:-1]:
        node = node[part]
    last: Any = parts[-1]
    if isinstance(node, dict) and last not in node and last.isdigit():
        last = int(last)
    node[last] = int(value) if path == "rule.evidence_required_above" else value
    return data


def moved_parameters(catalogue: Catalogue) -> list[tuple[str, float, float]]:
    """(path, value now, value moved) for every parameter that can move a residual band."""
    out = []
    method = catalogue.method
    lowest = method.bands[0].id
    for param in method.parameters():
        step = _step(param.path)
        if step is None or param.path == f"bands.{lowest}.min":
            continue
        if param.path.startswith("rule.credit.") and param.path.split(".")[-1] in (
            str(min(method.rule.credit)),
            str(max(method.rule.credit)),
        ):
            continue  # the ends of the credit scale are fixed: 0 and 1
        for sign in (-1, 1):
            out.append((param.path, param.value, round(param.value + sign * step, 10)))
    return out


def sensitivity(
    risk_ratings: pd.DataFrame,
    control_ratings: pd.DataFrame,
    units: pd.DataFrame,
    catalogue: Catalogue,
) -> pd.DataFrame:
    """One row for the method as shipped, then one per parameter moved one step either way:
    cells per residual band (`n_<band>`) and the change against the method as shipped."""
    bands = [b.id for b in catalogue.method.bands]
    base = score(risk_ratings, control_ratings, units, catalogue)
    base_counts = base["residual_band"].value_counts()
    rows: list[dict[str, Any]] = [
        {"parameter": "(method as shipped)", "value": None, "moved_to": None, "valid": True,
         "note": "", **{f"n_{b}": int(base_counts.get(b, 0)) for b in bands}}
    ]  # fmt: skip
    for path, value, moved in moved_parameters(catalogue):
        row: dict[str, Any] = {"parameter": path, "value": value, "moved_to": moved}
        try:
            method = Method.model_validate(_moved(catalogue.method, path, moved))
        except ValidationError as exc:
            row.update(valid=False, note=exc.errors()[0]["msg"])
            rows.append(row)
            continue
        # Same version: the scoring core caches only the catalogue's structure per version,
        # and reads every number from the method it is given.
        cat = catalogue.model_copy(update={"method": method})
        reg = score(risk_ratings, control_ratings, units, cat)
        counts = reg["residual_band"].value_counts()
        row.update(valid=True, note="")
        row.update({f"n_{b}": int(counts.get(b, 0)) for b in bands})
        rows.append(row)
    out = pd.DataFrame(rows)
    for b in bands:
        out[f"change_{b}"] = out[f"n_{b}"] - rows[0][f"n_{b}"]
    return out
