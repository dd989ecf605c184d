"""The unit's exposure profile, made to count (pure).

IntoSAINT and the integrity-plan methodologies collect a unit's vulnerability factors
(discretion, contact, remoteness, supervision, cash and fees, volume). riskmap uses them in
two documented ways, both from method.yaml:

- the likelihood the walk-through *suggests* for a unit with no earlier rating is the
  catalogue's default for the unit type, one level higher when the unit is clearly more
  exposed than its type's typical profile (mean factor at least `exposure_rule.shift_at`
  above), one level lower when clearly less exposed; the officer confirms or changes it;
- a calibration flag where a highly exposed unit (mean factor at least
  `calibration.exposed_min_index`) rates a risk at or below
  `calibration.exposed_max_likelihood` and below what its profile suggests.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from riskmap.catalogue import Catalogue


def exposure_index(profile: Mapping[str, float] | None, catalogue: Catalogue) -> float | None:
    """Mean of the method's exposure factors in `profile` (None when none is given)."""
    if not isinstance(profile, Mapping) or not profile:
        return None
    values = [float(profile[f.id]) for f in catalogue.method.exposure.factors if f.id in profile]
    return sum(values) / len(values) if values else None


def likelihood_shift(
    profile: Mapping[str, float] | None, unit_type: str, catalogue: Catalogue
) -> int:
    """-1, 0 or +1: how the unit's profile moves the type's default likelihood."""
    return shift_for_index(exposure_index(profile, catalogue), unit_type, catalogue)


def shift_for_index(own: float | None, unit_type: str, catalogue: Catalogue) -> int:
    """The shift for a unit whose mean exposure factor is `own` (None or NaN: no shift)."""
    typical = exposure_index(catalogue.unit_type_by_id[unit_type].exposure, catalogue)
    if own is None or typical is None or own != own:  # NaN: no profile recorded
        return 0
    step = catalogue.method.exposure_rule.shift_at
    if own - typical >= step:
        return 1
    if typical - own >= step:
        return -1
    return 0


def suggested_likelihood(
    default: int, profile: Mapping[str, float] | None, unit_type: str, catalogue: Catalogue
) -> int:
    """The catalogue default moved by the unit's exposure, kept on the likelihood scale."""
    scale = catalogue.method.likelihood
    shifted = default + likelihood_shift(profile, unit_type, catalogue)
    return max(scale.min, min(scale.max, shifted))


def underrated_for_exposure(
    register: pd.DataFrame, units: pd.DataFrame, catalogue: Catalogue
) -> pd.DataFrame:
    """Flags (unit_code, risk_id, flag, detail) where a highly exposed unit rates a risk
    unlikely, and lower than its own profile suggests (the type's default moved by the
    exposure rule): the catalogue's own defaults are not flagged.

    `units` carries the unit's `exposure_index` (mean factor); without it, nothing is flagged.
    """
    cal = catalogue.method.calibration
    columns = ["unit_code", "risk_id", "flag", "detail"]
    if "exposure_index" not in units.columns or register.empty:
        return pd.DataFrame(columns=columns)
    reg = register[["unit_code", "unit_type", "risk_id", "likelihood"]].merge(
        units[["unit_code", "exposure_index"]], on="unit_code"
    )
    scale = catalogue.method.likelihood
    risks = catalogue.risk_by_id
    suggested = [
        max(scale.min, min(scale.max, d.likelihood + shift_for_index(x, t, catalogue)))
        if (d := risks[r].defaults.get(t)) is not None
        else scale.min
        for r, t, x in zip(reg["risk_id"], reg["unit_type"], reg["exposure_index"], strict=True)
    ]
    reg["suggested"] = suggested
    hit = (
        (reg["exposure_index"] >= cal.exposed_min_index)
        & (reg["likelihood"] <= cal.exposed_max_likelihood)
        & (reg["likelihood"] < reg["suggested"])
    )
    sel = reg[hit.fillna(False)].copy()
    sel["flag"] = "exposed"
    sel["detail"] = [
        f"likelihood {v} in a unit of mean exposure {x:.1f} (high); its profile suggests {g}"
        for v, x, g in zip(sel["likelihood"], sel["exposure_index"], sel["suggested"], strict=True)
    ]
    return sel[columns].reset_index(drop=True)
