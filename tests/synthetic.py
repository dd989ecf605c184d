"""A deterministic synthetic ministry drawn from the catalogue, for tests and the benchmark.

`ministry(catalogue, units=1000, seed=7)` returns the four frames the scoring and planning
cores take: units, risk ratings, control ratings and incidents. The same seed and size
always give the same frames (one `random.Random` drives every draw, in a fixed order), so a
failing test or a benchmark row can be reproduced exactly.

The ratings follow the catalogue: each unit rates the risks and controls the catalogue
applies to its type; likelihood and impact scatter around the risk's default for that type;
a few ratings are marked not applicable, and a few likelihoods sit at the far end of the
scale from the default (outliers for the calibration check); maturity leans towards the low
end, as in a first assessment cycle. Incidents fall more often on risks rated likely, with a
few on risks rated unlikely, so the calibration flags have something to find.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pandas as pd

from riskmap.catalogue import Catalogue

REGIONS = ("North", "South", "East", "West", "Centre", "Capital", "Coast", "Abroad")

# Maturity 0..4 in a first cycle: most controls nascent or emerging, few leading.
_MATURITY_WEIGHTS = (0.45, 0.3, 0.15, 0.07, 0.03)


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
    outlier_rate: float = 0.02,
    evidence_gap: float = 0.2,
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
            if rng.random() < outlier_rate:  # a unit that sees this risk unlike its peers
                likelihood = l_lo if default.likelihood > (l_lo + l_hi) / 2 else l_hi
            impact = _clip(default.impact + rng.choice((-1, 0, 0, 0, 1)), i_lo, i_hi)
            risk_rows.append((unit_id, risk.id, applicable, likelihood, impact))
            if applicable and rng.random() < incident_rate * (1 + likelihood) / 3:
                for _ in range(1 + (rng.random() < 0.3)):
                    incident_rows.append(
                        (
                            unit_id,
                            risk.id,
                            f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                        )
                    )
        for control in controls_for[unit_type]:
            applicable = rng.random() >= not_applicable
            level = rng.choices(maturity_levels, weights=weights)[0]
            level = _clip(level + culture, 0, top)
            # Most ratings above Nascent cite their evidence; some do not (and earn less).
            evidence = "" if level <= 1 or rng.random() < evidence_gap else f"doc {unit_id}"
            control_rows.append((unit_id, control.id, applicable, level, evidence))

    return Ministry(
        units=pd.DataFrame(unit_rows, columns=["unit_code", "unit", "unit_type", "region"]),
        risk_ratings=pd.DataFrame(
            risk_rows, columns=["unit_code", "risk_id", "applicable", "likelihood", "impact"]
        ),
        control_ratings=pd.DataFrame(
            control_rows, columns=["unit_code", "control_id", "applicable", "maturity", "evidence"]
        ),
        incidents=pd.DataFrame(incident_rows, columns=["unit_code", "risk_id", "date"]),
    )


def small(
    units: list[tuple],
    risks: list[tuple] = (),
    controls: list[tuple] = (),
    incidents: list[tuple] = (),
) -> Ministry:
    """A hand-written ministry for unit tests.

    units: (unit_code, unit_type[, region]); risks: (unit_code, risk_id, applicable, likelihood,
    impact); controls: (unit_code, control_id, applicable, maturity); incidents: (unit_code,
    risk_id).
    """
    unit_rows = [(u[0], f"Unit {u[0]}", u[1], u[2] if len(u) > 2 else REGIONS[0]) for u in units]
    return Ministry(
        units=pd.DataFrame(unit_rows, columns=["unit_code", "unit", "unit_type", "region"]),
        risk_ratings=pd.DataFrame(
            list(risks), columns=["unit_code", "risk_id", "applicable", "likelihood", "impact"]
        ),
        control_ratings=pd.DataFrame(
            list(controls), columns=["unit_code", "control_id", "applicable", "maturity"]
        ),
        incidents=pd.DataFrame(list(incidents), columns=["unit_code", "risk_id"]),
    )


def with_method(catalogue: Catalogue, tag: str, **changes) -> Catalogue:
    """The catalogue with some method fields replaced (strengths, rule, bands, calibration...).

    The copy gets its own version string: the scoring core caches per catalogue version, and
    a version names one set of numbers.
    """
    method = catalogue.method.model_copy(update=changes)
    return catalogue.model_copy(update={"method": method, "version": f"{catalogue.version}+{tag}"})


def pinned(catalogue: Catalogue) -> Catalogue:
    """The catalogue with the method numbers the hand-computed tests are written for.

    Weights low/medium/high 0.25/0.5/0.75; maturity 0-4 with credits 0/0.1/0.4/0.75/1;
    evidence needed above level 1; key controls weigh 2x; at most 70% of the likelihood
    removed; bands at 0/5/10/15 with target maturity 1/3/4/4 and deadlines 730/365/180/90
    days; planning weights 1/1/10/100; outliers at 2 levels from the median of at least 3
    peers; contradicted at likelihood <= 2 with one incident; under-rated for exposure at
    likelihood <= 2 where the mean exposure is >= 4. These are the shipped values today;
    pinning them keeps hand-worked examples valid if method.yaml is retuned. Risks carry no
    key controls.
    """
    from riskmap.catalogue.models import Band, Calibration, Planning

    shipped = {b.id: b for b in catalogue.method.bands}
    specs = [("low", 0, 730, 1), ("medium", 5, 365, 3), ("high", 10, 180, 4)]
    specs.append(("critical", 15, 90, 4))
    bands = tuple(
        Band(
            id=bid,
            name=bid.title(),
            min=lo,
            color=shipped[bid].color if bid in shipped else "#FFFFFF",
            text_color="#000000",
            deadline_days=days,
            target_maturity=target,
        )
        for bid, lo, days, target in specs
    )
    assert sorted(catalogue.method.maturity.levels) == [0, 1, 2, 3, 4]
    # No key controls either: the hand-worked examples weigh each control by its strength
    # alone, and a test that wants key controls adds them (test_scoring.with_key_controls).
    # The shipped catalogue names two to four per risk since catalogue v2.
    keyless = catalogue.model_copy(
        update={
            "risks": tuple(
                r.model_copy(update={"key_controls": ()}) if getattr(r, "key_controls", ()) else r
                for r in catalogue.risks
            )
        }
    )
    return with_method(
        keyless,
        "pinned",
        strengths={"low": 0.25, "medium": 0.5, "high": 0.75},
        rule=PINNED_RULE,
        bands=bands,
        band_matrix=None,
        planning=Planning(band_weights={"low": 1, "medium": 1, "high": 10, "critical": 100}),
        calibration=Calibration(
            outlier_levels=2,
            min_peers=3,
            contradicted_max_likelihood=2,
            contradicting_incidents=1,
            exposed_min_index=4.0,
            exposed_max_likelihood=2,
        ),
    )


def _pinned_rule():
    from riskmap.catalogue.models import Rule

    return Rule(
        max_reduction=0.7,
        credit={0: 0.0, 1: 0.1, 2: 0.4, 3: 0.75, 4: 1.0},
        evidence_required_above=1,
        key_control_weight=2.0,
    )


PINNED_RULE = _pinned_rule()
