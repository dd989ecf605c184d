"""Pydantic models of the controls catalogue, one per kind of item.

The models are strict (unknown keys are errors, so a typo in a YAML key is caught rather
than silently ignored) and frozen (a loaded catalogue is a fact of a cycle: cycles record
its version hash, so nothing may change it after loading).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
Text = Annotated[str, Field(min_length=1)]
Strength = Literal["low", "medium", "high"]
ControlKind = Literal["preventive", "detective", "corrective"]
CostClass = Literal["low", "medium", "high"]
LocatorScheme = Literal[
    "numbered-paragraphs", "guiding-principles", "behaviours-and-recommendations", "paragraphs"
]

_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Citation(Strict):
    """A pointer into a source document, precise enough for an auditor to find it.

    `locator` names the passage (UNODC "para 17", OECD "Principle 3.2", AIAMP
    "behaviour (e)" or "recommendation 1.3(c)", State Department and INTERPOL
    `recommendation "its opening words"` or `paragraph "its opening words"`); `quote` is a
    few words copied verbatim from that passage, so that a test (and an auditor) can check
    that the passage says what the item claims. `riskmap.catalogue.citations` resolves both.
    The loader requires a quote on every citation except the method's.
    """

    source: Id
    locator: Text
    quote: Text | None = None


class Cited(Strict):
    sources: tuple[Citation, ...] = Field(min_length=1)


Basis = Literal["source", "practice"]


class Sourced(Strict):
    """An item grounded either in cited passages of the sources or in recognised practice.

    `basis: source` (the default) needs at least one citation. `basis: practice` marks an
    item that no source states exactly (a safeguard the catalogue's own red flags imply,
    say): it carries no citation, so that nothing is cited loosely, and `basis_note` says
    why it is in the catalogue.
    """

    sources: tuple[Citation, ...] = ()
    basis: Basis = "source"
    basis_note: Text | None = None

    @model_validator(mode="after")
    def _grounded(self) -> Sourced:
        if self.basis == "source" and not self.sources:
            raise ValueError("an item with basis 'source' needs at least one citation")
        if self.basis == "practice":
            if self.sources:
                raise ValueError("an item with basis 'practice' cites no source")
            if not self.basis_note:
                raise ValueError("an item with basis 'practice' needs a basis_note")
        return self


class Source(Strict):
    id: Id
    title: Text
    publisher: Text
    year: int = Field(ge=1900, le=2100)
    identifier: str | None = None
    file: str | None = None
    # How citations of this source name a passage (see riskmap.catalogue.citations).
    locators: LocatorScheme | None = None


class Statement(Strict):
    id: Id
    text: Text


class Principle(Sourced):
    id: Id
    number: int = Field(ge=1)
    title: Text
    statements: tuple[Statement, ...] = Field(min_length=1)


class UnitType(Sourced):
    id: Id
    name: Text
    description: Text
    exposure: dict[Id, int]


class Stage(Strict):
    id: Id
    name: Text
    description: Text


class CorruptionForm(Strict):
    id: Id
    name: Text
    description: Text


class RiskDefault(Strict):
    likelihood: int
    impact: int


class Risk(Sourced):
    id: Id
    title: Text
    description: Text
    stage: Id
    corruption_form: Id
    defaults: dict[Id, RiskDefault] = Field(min_length=1)
    red_flags: tuple[Text, ...] = Field(min_length=1)
    # The two to four controls that matter most against this scenario; the loader checks
    # that each mitigates it and applies to at least one of its unit types.
    key_controls: tuple[Id, ...] = Field(min_length=2, max_length=4)

    @field_validator("key_controls")
    @classmethod
    def _distinct(cls, ids: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(ids)) != len(ids):
            raise ValueError(f"key controls must be distinct, got {list(ids)}")
        return ids

    @property
    def unit_types(self) -> tuple[str, ...]:
        """Unit types the scenario applies to: the keys of its defaults (one fact, one place)."""
        return tuple(self.defaults)


class Control(Sourced):
    id: Id
    name: Text
    description: Text
    principle: Id
    kind: ControlKind
    unit_types: tuple[Id, ...] = Field(min_length=1)
    mitigates: dict[Id, Strength] = Field(min_length=1)
    # One line per mitigated risk saying why the control has that strength against it; the
    # loader checks that its keys are exactly those of `mitigates`.
    reasons: dict[Id, Text] = Field(min_length=1)
    maturity: dict[int, Text]
    effort_days: float = Field(gt=0)
    cost_class: CostClass
    owner_role: Text
    evidence: tuple[Text, ...] = Field(min_length=1)


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
    reduction_cap: float = Field(gt=0, lt=1)
    likelihood_floor: float = Field(ge=0)


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
    cost_classes: CostClasses
    calibration: Calibration

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
    def _floor_on_scale(cls, rule: Rule, info: ValidationInfo) -> Rule:
        likelihood = info.data.get("likelihood")
        if likelihood is not None and rule.likelihood_floor > likelihood.max:
            raise ValueError(
                f"likelihood_floor {rule.likelihood_floor} is above the likelihood scale "
                f"({likelihood.max})"
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
