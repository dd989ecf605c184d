"""Pydantic models of the scoring method (method.yaml): scales, the rule, bands, weights.

Split from the item models so that the method, which a methodologist tunes and argues,
reads as one file; `riskmap.catalogue.models` re-exports every name.
"""

from __future__ import annotations

import re

from pydantic import Field, ValidationInfo, field_validator, model_validator

from riskmap.catalogue.models import Cited, Id, Strength, Strict, Text

_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


class Level(Strict):
    name: Text
    definition: Text


class Scale(Strict):
    """A declared scale: every level has a name and a written definition."""

    name: Text
    question: Text
    levels: dict[int, Level] = Field(min_length=2)

    @field_validator("levels")
    @classmethod
    def _contiguous(cls, levels: dict[int, Level]) -> dict[int, Level]:
        keys = sorted(levels)
        if keys != list(range(keys[0], keys[0] + len(keys))):
            raise ValueError(f"levels must be consecutive integers, got {keys}")
        return levels

    @property
    def min(self) -> int:
        return min(self.levels)

    @property
    def max(self) -> int:
        return max(self.levels)


class ExposureFactor(Strict):
    id: Id
    name: Text
    description: Text


class ExposureScale(Scale):
    factors: tuple[ExposureFactor, ...] = Field(min_length=1)


class Rule(Strict):
    """The residual rule's numbers (docs/decisions/0001-residual-method.md argues them).

    `credit[m]` is the share of a control's strength a maturity level earns: 0 at the bottom
    of the scale, 1 at the top, strictly rising, so every step counts. A maturity above
    `evidence_required_above` with no evidence recorded is credited at that level. A risk's
    key controls weigh `key_control_weight` times their strength. Controls, however many and
    however mature, remove at most `max_reduction` of the likelihood: collusion and override
    defeat any system of internal control.
    """

    max_reduction: float = Field(gt=0, lt=1)
    credit: dict[int, float] = Field(min_length=2)
    evidence_required_above: int = Field(ge=0)
    key_control_weight: float = Field(ge=1)

    @field_validator("credit")
    @classmethod
    def _credit_rises(cls, credit: dict[int, float]) -> dict[int, float]:
        levels = sorted(credit)
        values = [credit[m] for m in levels]
        if values[0] != 0 or values[-1] != 1:
            raise ValueError(f"credit must be 0 at the lowest level and 1 at the top, got {values}")
        if any(b <= a for a, b in zip(values, values[1:], strict=False)):
            raise ValueError(f"credit must rise strictly with maturity, got {values}")
        return credit


class ExposureRule(Strict):
    """How the unit's exposure profile moves the likelihood the walk-through suggests."""

    shift_at: float = Field(gt=0)


class Planning(Strict):
    """Weights of the "fewest critical and high cells" objective, per band of the cell."""

    band_weights: dict[Id, float] = Field(min_length=1)


class Band(Strict):
    id: Id
    name: Text
    min: float
    color: str
    text_color: str
    deadline_days: int = Field(gt=0)
    target_maturity: int = Field(ge=0)

    @field_validator("color", "text_color")
    @classmethod
    def _hex(cls, value: str) -> str:
        if not _COLOR.match(value):
            raise ValueError(f"colour must be #RRGGBB, got {value!r}")
        return value


class CostClasses(Strict):
    currency: Text
    low: float = Field(ge=0)
    medium: float = Field(ge=0)
    high: float = Field(ge=0)


class Calibration(Strict):
    outlier_levels: float = Field(gt=0)
    min_peers: int = Field(ge=1)
    contradicted_max_likelihood: int = Field(ge=1)
    contradicting_incidents: int = Field(ge=1)
    # A unit whose mean exposure is at least `exposed_min_index` and that rates a risk at or
    # below `exposed_max_likelihood` is flagged: its own profile says the risk is likely.
    exposed_min_index: float = Field(gt=0)
    exposed_max_likelihood: int = Field(ge=1)


class Parameter(Strict):
    """One number of the method, with the reason it has the value it has."""

    path: str
    value: float
    rationale: str


class Method(Cited):
    name: Text
    version: Text
    likelihood: Scale
    impact: Scale
    maturity: Scale
    exposure: ExposureScale
    strengths: dict[Strength, float]
    rule: Rule
    bands: tuple[Band, ...] = Field(min_length=2)
    # Optional declared band of likelihood x impact cells: likelihood level -> one band id
    # (or null: the thresholds decide) per impact level, lowest impact first.
    band_matrix: dict[int, tuple[Id | None, ...]] | None = None
    cost_classes: CostClasses
    calibration: Calibration
    exposure_rule: ExposureRule
    planning: Planning
    # One line per number above saying why it has its value (path -> reason).
    rationale: dict[str, Text]

    @field_validator("strengths")
    @classmethod
    def _weights(cls, strengths: dict[str, float]) -> dict[str, float]:
        missing = {"low", "medium", "high"} - set(strengths)
        if missing:
            raise ValueError(f"missing strength weights: {sorted(missing)}")
        for name, weight in strengths.items():
            if not 0 < weight <= 1:
                raise ValueError(f"weight of {name!r} must be in (0, 1], got {weight}")
        if not strengths["low"] <= strengths["medium"] <= strengths["high"]:
            raise ValueError("weights must satisfy low <= medium <= high")
        return strengths

    # Cross-field checks are field validators (not a model validator) so that each error is
    # located at the field at fault ("rule", "bands") rather than at the whole method. The
    # scales they compare against are declared earlier, so they are already in `info.data`
    # (absent if they failed validation themselves, in which case that error is reported).
    @field_validator("rule")
    @classmethod
    def _rule_on_scale(cls, rule: Rule, info: ValidationInfo) -> Rule:
        maturity = info.data.get("maturity")
        if maturity is None:
            return rule
        if sorted(rule.credit) != sorted(maturity.levels):
            raise ValueError(
                f"credit must give every maturity level {sorted(maturity.levels)}, "
                f"got {sorted(rule.credit)}"
            )
        if not maturity.min <= rule.evidence_required_above <= maturity.max:
            raise ValueError(
                f"evidence_required_above {rule.evidence_required_above} is off the maturity "
                f"scale ({maturity.min}-{maturity.max})"
            )
        return rule

    @field_validator("bands")
    @classmethod
    def _bands_ordered(cls, bands: tuple[Band, ...], info: ValidationInfo) -> tuple[Band, ...]:
        mins = [band.min for band in bands]
        if any(b <= a for a, b in zip(mins, mins[1:], strict=False)):
            raise ValueError(f"thresholds must be strictly increasing, got {mins}")
        targets = [band.target_maturity for band in bands]
        if any(b < a for a, b in zip(targets, targets[1:], strict=False)):
            raise ValueError(f"target_maturity must not fall as bands rise, got {targets}")
        maturity = info.data.get("maturity")
        if maturity is not None and max(targets) > maturity.max:
            raise ValueError(f"target_maturity above the maturity scale ({maturity.max})")
        return bands

    @field_validator("band_matrix")
    @classmethod
    def _matrix_on_scales(
        cls, matrix: dict[int, tuple[str | None, ...]] | None, info: ValidationInfo
    ) -> dict[int, tuple[str | None, ...]] | None:
        likelihood, impact = info.data.get("likelihood"), info.data.get("impact")
        bands = info.data.get("bands")
        if matrix is None or likelihood is None or impact is None or bands is None:
            return matrix
        if sorted(matrix) != sorted(likelihood.levels):
            raise ValueError(f"needs one row per likelihood level {sorted(likelihood.levels)}")
        rank = {b.id: i for i, b in enumerate(bands)}
        width = len(impact.levels)
        for level, row in matrix.items():
            if len(row) != width:
                raise ValueError(f"likelihood {level}: {len(row)} cells, needs {width}")
            unknown = [b for b in row if b is not None and b not in rank]
            if unknown:
                raise ValueError(f"likelihood {level}: unknown band(s) {unknown}")
        # A declared matrix must not rank a cell below a cell that is less likely or less
        # severe: compare only declared neighbours.
        for level in sorted(matrix):
            row = matrix[level]
            for j, band in enumerate(row):
                if band is None:
                    continue
                right = row[j + 1] if j + 1 < width else None
                above = matrix.get(level + 1, (None,) * width)[j]
                for other in (right, above):
                    if other is not None and rank[other] < rank[band]:
                        raise ValueError(
                            f"likelihood {level}, impact {sorted(impact.levels)[j]}: band "
                            f"{band!r} is above a more likely or more severe cell ({other!r})"
                        )
        return matrix

    @field_validator("planning")
    @classmethod
    def _planning_bands(cls, planning: Planning, info: ValidationInfo) -> Planning:
        bands = info.data.get("bands")
        if bands is None:
            return planning
        ids = [b.id for b in bands]
        if sorted(planning.band_weights) != sorted(ids):
            raise ValueError(f"band_weights needs every band {ids}")
        weights = [planning.band_weights[b] for b in ids]
        if any(w <= 0 for w in weights) or any(
            b < a for a, b in zip(weights, weights[1:], strict=False)
        ):
            raise ValueError(f"band_weights must be positive and not fall as bands rise: {weights}")
        return planning

    @model_validator(mode="after")
    def _every_number_has_a_reason(self) -> Method:
        paths = {p for p, _ in self._numbers()}
        missing = sorted(paths - set(self.rationale))
        unknown = sorted(set(self.rationale) - paths)
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"no rationale for {missing}")
            if unknown:
                parts.append(f"rationale for unknown parameter(s) {unknown}")
            raise ValueError("rationale: " + "; ".join(parts))
        return self

    def _numbers(self) -> list[tuple[str, float]]:
        out: list[tuple[str, float]] = [(f"strengths.{k}", v) for k, v in self.strengths.items()]
        rule = self.rule
        out.append(("rule.max_reduction", rule.max_reduction))
        out += [(f"rule.credit.{m}", v) for m, v in sorted(rule.credit.items())]
        out.append(("rule.evidence_required_above", float(rule.evidence_required_above)))
        out.append(("rule.key_control_weight", rule.key_control_weight))
        for band in self.bands:
            out.append((f"bands.{band.id}.min", band.min))
            out.append((f"bands.{band.id}.deadline_days", float(band.deadline_days)))
            out.append((f"bands.{band.id}.target_maturity", float(band.target_maturity)))
        if self.band_matrix is not None:
            out.append(("band_matrix", float(len(self.band_matrix))))
        for name in ("low", "medium", "high"):
            out.append((f"cost_classes.{name}", getattr(self.cost_classes, name)))
        for name, value in self.calibration.model_dump().items():
            out.append((f"calibration.{name}", float(value)))
        out.append(("exposure_rule.shift_at", self.exposure_rule.shift_at))
        out += [(f"planning.band_weights.{b}", w) for b, w in self.planning.band_weights.items()]
        return out

    def parameters(self) -> list[Parameter]:
        """Every number of the method with its rationale, in the order the method file reads."""
        return [
            Parameter(path=p, value=v, rationale=self.rationale.get(p, ""))
            for p, v in self._numbers()
        ]

    def band_rank(self) -> dict[str, int]:
        return {b.id: i for i, b in enumerate(self.bands)}
