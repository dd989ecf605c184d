"""Calibration flags: where a unit's self-assessment looks out of line.

Every integrity-plan methodology is criticised for the subjectivity of self-assessment.
Three checks make it visible instead of hiding it: a rating far from the median of peer
units of the same type (outlier), a risk rated unlikely in a unit where integrity
incidents on that very risk are on record (contradicted), and a risk rated unlikely in a
unit whose own exposure profile is high (exposed). Thresholds live in method.yaml. A
control whose evidence item has expired is flagged too (evidence_expired).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmap.catalogue import Catalogue
from riskmap.scoring.exposure import underrated_for_exposure
from riskmap.scoring.residual import require_columns

FLAG_COLUMNS = ["unit_code", "risk_id", "flag", "detail"]


def _median_of_others(reg: pd.DataFrame, keys: list[str], field: str) -> pd.Series:
    """Per row, the median of `field` over the other rows of its group (NaN if it is alone).

    Vectorised: sort each group once; leaving out the row at sorted position i, the j-th
    smallest of the others is the group's j-th if j < i, else its (j+1)-th.
    """
    values = reg[field].to_numpy(dtype=float)
    out = np.full(len(values), np.nan)
    if not len(values):
        return pd.Series(out, index=reg.index)
    group = reg.groupby(keys, sort=False).ngroup().to_numpy()
    order = np.lexsort((values, group))
    v, g = values[order], group[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    sizes = np.diff(np.r_[starts, len(v)])
    start = np.repeat(starts, sizes)
    others = np.repeat(sizes, sizes) - 1
    pos = np.arange(len(v)) - start

    def kth_other(k: np.ndarray) -> np.ndarray:
        k = np.clip(k, 0, np.maximum(others - 1, 0))
        return v[np.minimum(start + k + (k >= pos), len(v) - 1)]

    median = (kth_other((others - 1) // 2) + kth_other(others // 2)) / 2
    out[order] = np.where(others > 0, median, np.nan)
    return pd.Series(out, index=reg.index)


def outliers(register: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """Ratings at least `outlier_levels` from the median of the other units of the same type."""
    cal = catalogue.method.calibration
    reg = register[["unit_code", "unit_type", "risk_id", "likelihood", "impact"]].copy()
    group = reg.groupby(["unit_type", "risk_id"])
    reg["peers"] = group["unit_code"].transform("size") - 1
    flags = []
    for field in ("likelihood", "impact"):
        # The peers' median, without the unit itself: with it, a unit pulls the median
        # towards its own rating and hides exactly the outliers this check is for.
        median = _median_of_others(reg, ["unit_type", "risk_id"], field)
        gap = reg[field] - median
        hit = (reg["peers"] >= cal.min_peers) & (gap.abs() >= cal.outlier_levels)
        sel = reg.loc[hit, ["unit_code", "risk_id", field, "peers"]].assign(median=median[hit])
        sel["flag"] = "outlier"
        sel["detail"] = [
            f"{field} {v} vs median {m:g} of {p} peer units"
            for v, m, p in zip(sel[field], sel["median"], sel["peers"], strict=True)
        ]
        flags.append(sel[FLAG_COLUMNS])
    return pd.concat(flags, ignore_index=True)


def contradicted(
    register: pd.DataFrame, incidents: pd.DataFrame, catalogue: Catalogue
) -> pd.DataFrame:
    """Risks rated unlikely in units with recorded incidents on that risk."""
    cal = catalogue.method.calibration
    require_columns(incidents, ["unit_code", "risk_id"], "incidents")
    counts = incidents.dropna(subset=["risk_id"]).groupby(["unit_code", "risk_id"]).size()
    counts = counts.rename("incidents").reset_index()
    reg = register[["unit_code", "risk_id", "likelihood"]].merge(
        counts, on=["unit_code", "risk_id"], how="inner"
    )
    hit = (reg["likelihood"] <= cal.contradicted_max_likelihood) & (
        reg["incidents"] >= cal.contradicting_incidents
    )
    sel = reg[hit].copy()
    sel["flag"] = "contradicted"
    sel["detail"] = [
        f"likelihood {v} but {n} recorded incident(s) on this risk"
        for v, n in zip(sel["likelihood"], sel["incidents"], strict=True)
    ]
    return sel[FLAG_COLUMNS].reset_index(drop=True)


def expired_evidence(control_ratings: pd.DataFrame) -> pd.DataFrame:
    """A control with an expired evidence item (`evidence_items` counted more than
    `valid_evidence_items`, as the service's frames count them): the rating leans on
    evidence that no longer shows it. One flag per unit and control; `risk_id` is blank
    (the control serves several risks) and the detail names the control."""
    if "evidence_items" not in control_ratings.columns:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    n = control_ratings["evidence_items"].fillna(0).astype(int)
    valid = control_ratings["valid_evidence_items"].fillna(0).astype(int)
    sel = control_ratings[n > valid].copy()
    expired, left = (n - valid)[n > valid], valid[n > valid]
    sel["risk_id"] = ""
    sel["flag"] = "evidence_expired"
    sel["detail"] = [
        f"control {c}: {e} evidence item(s) expired, "
        + (f"{v} still valid" if v else "none valid: credited as if unevidenced")
        for c, e, v in zip(sel["control_id"], expired, left, strict=True)
    ]
    return sel[FLAG_COLUMNS].reset_index(drop=True)


def calibration_flags(
    register: pd.DataFrame,
    incidents: pd.DataFrame | None,
    catalogue: Catalogue,
    units: pd.DataFrame | None = None,
    control_ratings: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Outliers, contradicted ratings and, given units with an `exposure_index`, ratings
    that the unit's own exposure profile contradicts; given control ratings with evidence
    counts, controls whose evidence has expired."""
    parts = [outliers(register, catalogue)]
    if control_ratings is not None:
        expired = expired_evidence(control_ratings)
        if len(expired):
            parts.append(expired)
    if incidents is not None and len(incidents):
        parts.append(contradicted(register, incidents, catalogue))
    if units is not None:
        exposed = underrated_for_exposure(register, units, catalogue)
        if len(exposed):
            parts.append(exposed)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["unit_code", "risk_id", "flag"], ignore_index=True) if len(out) else out
