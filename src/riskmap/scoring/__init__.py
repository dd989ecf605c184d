"""The scoring core: residual risk, roll-ups and calibration flags (pure: frames in, frames out)."""

from riskmap.scoring.aggregate import (
    by_risk,
    by_stage,
    by_unit,
    by_unit_type,
    maturity_by_principle,
    ministry,
)
from riskmap.scoring.calibration import FLAG_COLUMNS, calibration_flags, contradicted, outliers
from riskmap.scoring.residual import (
    CONTROL_RATING_COLUMNS,
    INHERENT_COLUMNS,
    RISK_RATING_COLUMNS,
    SCENARIO_COLUMNS,
    SCORE_COLUMNS,
    UNIT_COLUMNS,
    band_ids,
    contributions,
    mitigation_frame,
    require_columns,
    residual_likelihood,
    score,
)

__all__ = [
    "CONTROL_RATING_COLUMNS",
    "FLAG_COLUMNS",
    "INHERENT_COLUMNS",
    "RISK_RATING_COLUMNS",
    "SCENARIO_COLUMNS",
    "SCORE_COLUMNS",
    "UNIT_COLUMNS",
    "band_ids",
    "by_risk",
    "by_stage",
    "by_unit",
    "by_unit_type",
    "calibration_flags",
    "contradicted",
    "contributions",
    "maturity_by_principle",
    "ministry",
    "mitigation_frame",
    "outliers",
    "require_columns",
    "residual_likelihood",
    "score",
]
