"""A ministry's local overrides of the catalogue's estimates, kept out of the shipped files.

Why: effort and cost of controls are the catalogue authors' estimates, and the method's
deadlines and cost classes are defaults; a ministry knows its own figures. It writes them
in one small YAML file (default: `controls_catalogue.local.yaml` beside the catalogue
folder, or the path in $RISKMAP_CATALOGUE_OVERRIDES, or `--overrides FILE`) instead of
editing the shipped catalogue, so that a catalogue update does not overwrite them and an
auditor sees at once what was changed locally. Only estimates can be overridden, never a
risk, a citation or a rule:

    controls:
      code_of_conduct: {effort_days: 12, cost_class: medium}
    method:
      deadlines: {critical: 60}       # band id -> deadline_days
      cost_classes: {currency: EUR, low: 2000}

The overrides are applied to the parsed files before validation, and the catalogue version
hash covers them, so a cycle records which figures it was planned with.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from riskmap.catalogue.models import CostClass, Id, Strict, Text

ENV = "RISKMAP_CATALOGUE_OVERRIDES"

PositiveDays = Annotated[int, Field(gt=0)]


class ControlOverride(Strict):
    effort_days: float | None = Field(default=None, gt=0)
    cost_class: CostClass | None = None


class CostClassesOverride(Strict):
    currency: Text | None = None
    low: float | None = Field(default=None, ge=0)
    medium: float | None = Field(default=None, ge=0)
    high: float | None = Field(default=None, ge=0)


class MethodOverride(Strict):
    deadlines: dict[Id, PositiveDays] = {}
    cost_classes: CostClassesOverride | None = None


class Overrides(Strict):
    controls: dict[Id, ControlOverride] = {}
    method: MethodOverride | None = None


def default_overrides(directory: Path) -> Path | None:
    """$RISKMAP_CATALOGUE_OVERRIDES, else `<catalogue folder>.local.yaml` if it exists."""
    env = os.environ.get(ENV)
    if env:
        return Path(env)
    sibling = directory.parent / f"{directory.name}.local.yaml"
    return sibling if sibling.is_file() else None


def apply(
    raw: dict[str, Any], overrides: Overrides
) -> tuple[dict[str, Any], list[str], list[tuple[str, str, str]]]:
    """The raw catalogue with the overrides applied, what was changed, and what is unknown.

    Returns (merged, changed, unknown): `changed` lists dotted paths such as
    "controls.code_of_conduct.effort_days"; `unknown` lists (item, field, message) for ids
    that name nothing in the catalogue.
    """
    merged = copy.deepcopy(raw)
    changed: list[str] = []
    unknown: list[tuple[str, str, str]] = []
    controls = {
        c.get("id"): c
        for c in ((merged.get("controls") or {}).get("controls") or [])
        if isinstance(c, dict)
    }
    for cid, values in overrides.controls.items():
        target = controls.get(cid)
        if target is None:
            unknown.append((cid, f"controls.{cid}", f"unknown control {cid!r}"))
            continue
        for field, value in values.model_dump(exclude_none=True).items():
            target[field] = value
            changed.append(f"controls.{cid}.{field}")
    method = merged.get("method") if isinstance(merged.get("method"), dict) else None
    if overrides.method is not None and method is not None:
        bands = {b.get("id"): b for b in method.get("bands") or [] if isinstance(b, dict)}
        for band_id, days in overrides.method.deadlines.items():
            band = bands.get(band_id)
            if band is None:
                unknown.append(("", f"method.deadlines.{band_id}", f"unknown band {band_id!r}"))
                continue
            band["deadline_days"] = days
            changed.append(f"method.bands.{band_id}.deadline_days")
        if overrides.method.cost_classes is not None:
            classes = method.setdefault("cost_classes", {})
            for field, value in overrides.method.cost_classes.model_dump(exclude_none=True).items():
                classes[field] = value
                changed.append(f"method.cost_classes.{field}")
    return merged, changed, unknown
