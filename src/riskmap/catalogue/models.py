"""Pydantic models of the controls catalogue, one per kind of item.

The models are strict (unknown keys are errors, so a typo in a YAML key is caught rather
than silently ignored) and frozen (a loaded catalogue is a fact of a cycle: cycles record
its version hash, so nothing may change it after loading).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
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
    # their number, and that each mitigates it and applies to at least one of its unit
    # types (the count is a catalogue rule, not a model one, so that the scoring tests can
    # build a catalogue with a single key control).
    key_controls: tuple[Id, ...]

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


# The method's models live in riskmap.catalogue.method; imported here so that callers find
# every catalogue model in one place. (At the end: that module imports the bases above.)
from riskmap.catalogue.method import (  # noqa: E402
    Band,
    Calibration,
    CostClasses,
    ExposureFactor,
    ExposureRule,
    ExposureScale,
    Level,
    Method,
    Parameter,
    Planning,
    Rule,
    Scale,
)

__all__ = [
    "Band",
    "Basis",
    "Calibration",
    "Citation",
    "Cited",
    "Control",
    "CorruptionForm",
    "CostClasses",
    "ExposureFactor",
    "ExposureRule",
    "ExposureScale",
    "Level",
    "Method",
    "Parameter",
    "Planning",
    "Principle",
    "Risk",
    "RiskDefault",
    "Rule",
    "Scale",
    "Source",
    "Sourced",
    "Stage",
    "Statement",
    "Strict",
    "UnitType",
]
