"""`CycleSnapshot`: everything the reports need about one cycle, read once, no database.

The service builds a snapshot inside its read transaction and hands it to the reports; the
reports never touch the database. Frames follow the service's conventions: `unit_code` is the
key that joins units, ratings, actions and incidents (the unit's code in the service), and
every optional column gets a default here so writers can rely on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

UNIT_FRAME_COLUMNS = ["unit_code", "code", "unit", "unit_type", "region", "parent", "headcount"]
# What a rating says, as every frame of ratings names it (a snapshot's, an import's answers).
RISK_RATING_COLUMNS = [
    "unit_code",
    "risk_id",
    "applicable",
    "likelihood",
    "impact",
    "justification",
]
CONTROL_RATING_COLUMNS = [
    "unit_code",
    "control_id",
    "applicable",
    "maturity",
    "evidence",
    "justification",
]
RISK_FRAME_COLUMNS = [*RISK_RATING_COLUMNS, "confirmed", "version"]
CONTROL_FRAME_COLUMNS = [*CONTROL_RATING_COLUMNS, "confirmed", "version"]
AUDIT_FRAME_COLUMNS = [
    "id",
    "at",
    "actor",
    "action",
    "entity",
    "entity_id",
    "before",
    "after",
    "reason",
]

# Columns a frame must have; the others default (see `_DEFAULTS`).
_REQUIRED = {
    "units": ["unit_code", "unit", "unit_type"],
    "risk_ratings": ["unit_code", "risk_id", "applicable", "likelihood", "impact"],
    "control_ratings": ["unit_code", "control_id", "applicable", "maturity"],
    "actions": [],
    "incidents": [],
    "audit_events": [],
}
_DEFAULTS: dict[str, dict[str, object]] = {
    "units": {"region": "", "parent": "", "headcount": 0},
    "risk_ratings": {"justification": "", "confirmed": False, "version": 0},
    "control_ratings": {"evidence": "", "justification": "", "confirmed": False, "version": 0},
    "actions": {},
    "incidents": {},
    "audit_events": {},
}


def _empty(columns: list[str] | None = None) -> pd.DataFrame:
    return pd.DataFrame(columns=columns or [])


@dataclass(frozen=True, eq=False)
class CycleSnapshot:
    """One cycle as the reports see it: who did what and when, and its frames.

    Frames (pandas):
      units: unit_code, code, unit, unit_type, region, parent, headcount
      risk_ratings: unit_code, risk_id, applicable, likelihood, impact, justification,
        confirmed, version; optionally the baseline of each (`riskmap.rules.risk_baselines`:
        baseline_likelihood, baseline_impact, baseline_source), else the questionnaire
        compares answers with the catalogue defaults
      control_ratings: unit_code, control_id, applicable, maturity, evidence, justification,
        confirmed, version
      actions: planning.ACTION_COLUMNS (those present) plus owner, status, due_date, notes,
        indicator; any column is written as it is
      incidents: any columns (e.g. id, unit_code, risk_id, occurred_on, kind, outcome,
        description, recorded_by)
      audit_events: id, at, actor, action, entity, entity_id, before, after, reason
      evidence: the cycle's current evidence items (`service.evidence.ITEM_COLUMNS`, with
        their status on the day the cycle is judged); any column is written as it is
      audit_anchor: the whole trail's head and last checkpoint (`service.reads.anchor`:
        events, head_id, head_hash, checkpoint {at, by, count, head_id, head_hash} or None)

    Missing optional columns get defaults (code = unit_code, region "", justification "",
    version 0, ...); a missing required column raises ValueError naming it.
    """

    organisation: str
    cycle_label: str
    status: str
    catalogue_version: str
    units: pd.DataFrame
    risk_ratings: pd.DataFrame
    control_ratings: pd.DataFrame
    actions: pd.DataFrame = field(default_factory=_empty)
    incidents: pd.DataFrame = field(default_factory=_empty)
    audit_events: pd.DataFrame = field(default_factory=lambda: _empty(AUDIT_FRAME_COLUMNS))
    evidence: pd.DataFrame = field(default_factory=_empty)
    drafted_by: str | None = None
    drafted_at: datetime | None = None
    submitted_by: str | None = None
    submitted_at: datetime | None = None
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    locked_at: datetime | None = None
    previous_cycle: str | None = None
    generated_at: datetime | None = None
    audit_anchor: dict | None = None

    def __post_init__(self) -> None:
        for name, required in _REQUIRED.items():
            frame = getattr(self, name)
            if not isinstance(frame, pd.DataFrame):
                raise TypeError(f"CycleSnapshot.{name} must be a pandas DataFrame")
            missing = [c for c in required if c not in frame.columns]
            if missing:
                raise ValueError(
                    f"CycleSnapshot.{name}: missing column(s) {missing}; has {list(frame.columns)}"
                )
            additions = {
                col: default for col, default in _DEFAULTS[name].items() if col not in frame.columns
            }
            if name == "units" and "code" not in frame.columns:
                additions["code"] = frame["unit_code"]
            if additions:
                frame = frame.assign(**additions)
            object.__setattr__(self, name, frame.reset_index(drop=True))

    @property
    def people(self) -> list[tuple[str, str | None, datetime | None]]:
        """(step, who, when) of the cycle's workflow, in order."""
        return [
            ("drafted", self.drafted_by, self.drafted_at),
            ("submitted", self.submitted_by, self.submitted_at),
            ("reviewed", self.reviewed_by, self.reviewed_at),
            ("approved", self.approved_by, self.approved_at),
            ("locked", None, self.locked_at),
        ]
