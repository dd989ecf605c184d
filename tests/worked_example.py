"""docs/methodology.md's worked example, for the tests that recompute or report it.

One border post (Border post North, unit U1) rates two of the catalogue's border-control
risks as applicable (BOR-01 likelihood 5, BOR-03 likelihood 3, impact 4) and three of its
controls (staff rotation 2 with its rosters as evidence, supervision 3 with no evidence
recorded, victim identification training 1); every other risk and control of the unit type
is rated not applicable.
"""

from __future__ import annotations

import pandas as pd

from riskmap.catalogue import Catalogue

UNIT_TYPE = "border_control"
APPLICABLE_RISKS = ("BOR-01", "BOR-03")
LIKELIHOOD = {"BOR-01": 5, "BOR-03": 3}
RATED = {"staff_rotation": 2, "supervision": 3, "victim_identification_training": 1}
EVIDENCE = {"staff_rotation": "Duty rosters and rotation orders, 2025"}


def border_post(
    catalogue: Catalogue, *, justification: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The example's units, risk ratings and control ratings frames.

    With `justification`, the risk ratings carry a `justification` column: empty for the
    applicable risks, "Not at this post" for the others.
    """
    units = pd.DataFrame([{"unit_code": "U1", "unit": "Border post North", "unit_type": UNIT_TYPE}])
    risk_rows = []
    for r in catalogue.risks_for(UNIT_TYPE):
        row = {
            "unit_code": "U1",
            "risk_id": r.id,
            "applicable": r.id in APPLICABLE_RISKS,
            "likelihood": LIKELIHOOD.get(r.id, 1),
            "impact": 4,
        }
        if justification:
            row["justification"] = "" if r.id in APPLICABLE_RISKS else "Not at this post"
        risk_rows.append(row)
    risks = pd.DataFrame(risk_rows)
    controls = pd.DataFrame(
        [
            {
                "unit_code": "U1",
                "control_id": c.id,
                "applicable": c.id in RATED,
                "maturity": RATED.get(c.id, 0),
                "evidence": EVIDENCE.get(c.id, ""),
            }
            for c in catalogue.controls_for(UNIT_TYPE)
        ]
    )
    return units, risks, controls
