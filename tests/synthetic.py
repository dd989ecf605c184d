"""A deterministic synthetic ministry drawn from the catalogue, for tests and the benchmark.

`ministry(catalogue, units=1000, seed=7)` returns the four frames the scoring and planning
cores take: units, risk ratings, control ratings and incidents. The same seed and size
always give the same frames (one `random.Random` drives every draw, in a fixed order), so a
failing test or a benchmark row can be reproduced exactly.

The ratings follow the catalogue: each unit rates the risks and controls the catalogue
applies to its type; likelihood and impact scatter around the risk's default for that type;
a few ratings are marked not applicable; maturity leans towards the low end, as in a first
assessment cycle. Incidents fall more often on risks rated likely, with a few on risks rated
unlikely, so the calibration flags have something to find.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pandas as pd

from riskmap.catalogue import Catalogue

REGIONS = ("North", "South", "East", "West", "Centre", "Capital", "Coast", "Abroad")

# Maturity 0..4 in a first cycle: most controls nascent or emerging, few leading.
_MATURITY_WEIGHTS = (0.2, 0.3, 0.25, 0.17, 0.08)


@dataclass(frozen=True)
class Ministry:
    units: pd.DataFrame
    risk_ratings: pd.DataFrame
    control_ratings: pd.DataFrame
    incidents: pd.DataFrame

    @property
    def sizes(self) -> dict[str, int]:
        return {
            "units": len(self.units),
            "risk_ratings": len(self.risk_ratings),
            "control_ratings": len(self.control_ratings),
            "incidents": len(self.incidents),
        }


def _clip(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def ministry(
    catalogue: Catalogue,
    units: int = 1000,
    seed: int = 7,
    not_applicable: float = 0.05,
    incident_rate: float = 0.08,
) -> Ministry:
    """A ministry of `units` units spread over every unit type of the catalogue."""
    rng = random.Random(seed)
    method = catalogue.method
    top = method.maturity.max
    maturity_levels = sorted(method.maturity.levels)
    weights = list(_MATURITY_WEIGHTS[: len(maturity_levels)])
    weights += [weights[-1]] * (len(maturity_levels) - len(weights))
    l_lo, l_hi = method.likelihood.min, method.likelihood.max
    i_lo, i_hi = method.impact.min, method.impact.max
    types = [t.id for t in catalogue.unit_types]
    risks_for = {t: catalogue.risks_for(t) for t in types}
    controls_for = {t: catalogue.controls_for(t) for t in types}

    unit_rows, risk_rows, control_rows, incident_rows = [], [], [], []
    width = max(4, len(str(units)))
    for n in range(units):
        unit_type = types[n % len(types)]
        unit_id = f"U{n + 1:0{width}d}"
        region = REGIONS[rng.randrange(len(REGIONS))]
        name = f"{catalogue.unit_type_by_id[unit_type].name} {region} {n + 1}"
        unit_rows.append((unit_id, name, unit_type, region))
        # A unit's own culture shifts all its maturity ratings a little up or down.
        culture = rng.choice((-1, 0, 0, 1))
        for risk in risks_for[unit_type]:
            default = risk.defaults[unit_type]
            applicable = rng.random() >= not_applicable
            likelihood = _clip(default.likelihood + rng.choice((-1, 0, 0, 0, 1)), l_lo, l_hi)
            impact = _clip(default.impact + rng.choice((-1, 0, 0, 0, 1)), i_lo, i_hi)
            risk_rows.append((unit_id, risk.id, applicable, likelihood, impact))
            if applicable and rng.random() < incident_rate * (1 + likelihood) / 3:
                for _ in range(1 + (rng.random() < 0.3)):
                    incident_rows.append(
                        (unit_id, risk.id, f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}")
                    )
        for control in controls_for[unit_type]:
            applicable = rng.random() >= not_applicable
            level = rng.choices(maturity_levels, weights=weights)[0]
            control_rows.append((unit_id, control.id, applicable, _clip(level + culture, 0, top)))

    return Ministry(
        units=pd.DataFrame(unit_rows, columns=["unit_id", "unit", "unit_type", "region"]),
        risk_ratings=pd.DataFrame(
            risk_rows, columns=["unit_id", "risk_id", "applicable", "likelihood", "impact"]
        ),
        control_ratings=pd.DataFrame(
            control_rows, columns=["unit_id", "control_id", "applicable", "maturity"]
        ),
        incidents=pd.DataFrame(incident_rows, columns=["unit_id", "risk_id", "date"]),
    )
