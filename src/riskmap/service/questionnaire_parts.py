"""Which units a questionnaire file carries: the one selection rule of a template.

A national ministry (10,000 units) cannot send one questionnaire: it would pass the upload
cap (`riskmap.reports.safety.MAX_UPLOAD_BYTES`) and no head of unit needs the others'
rows. So a template is made for a part of the cycle's units: chosen codes, a region, a
unit type, or both filters at once. `template_units` is the rule (the template use case,
the command line and the Exports page all ask it; an access scope intersects with its
result: `frames` reads only the actor's units, and a code named outside the scope is
refused by `Tx.guard`), `template_parts` lists the regions and unit types a page offers,
with how many units each part holds. The import of a part file needs nothing of this: the
parser checks the rows the file carries against the cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from riskmap.service import frames
from riskmap.service.core import Tx, use_case
from riskmap.service.errors import NotFound, ValidationError
from riskmap.store.models import Cycle

TEMPLATE_MAKERS = ("officer", "admin")


@dataclass(frozen=True)
class TemplateParts:
    """The parts a cycle's questionnaire can be split into: name -> units in it."""

    regions: dict[str, int]
    unit_types: dict[str, int]
    units: int


def _cycle_units(tx: Tx, cyc: Cycle) -> pd.DataFrame:
    units = frames.unit_frame(tx.session, cyc)[["unit_code", "unit_type", "region"]]
    return units.assign(region=units["region"].fillna(""))


def template_units(
    tx: Tx,
    cyc: Cycle,
    units: list[str] | None = None,
    *,
    region: str | None = None,
    unit_type: str | None = None,
) -> list[str] | None:
    """The codes of the units a template of `cyc` carries, sorted; None for every unit.

    `units` (codes) and the filters combine: a unit is carried if it is among `units` (when
    given) and in `region` and of `unit_type` (when given). An unknown code, region or unit
    type is refused by name, and so is a selection that leaves no unit.
    """
    region = region.strip() if region is not None else None
    unit_type = unit_type.strip() if unit_type is not None else None
    if units is None and not region and not unit_type:
        return None
    frame = _cycle_units(tx, cyc)
    keep = pd.Series(True, index=frame.index)
    if units is not None:
        wanted = list(dict.fromkeys(str(u).strip() for u in units if str(u).strip()))
        for code in wanted:
            tx.guard(code)  # need-to-know: a template of the scope's units only
        unknown = [u for u in wanted if u not in set(frame["unit_code"])]
        if unknown:
            raise NotFound(f"unit(s) {', '.join(unknown)} are not assessed in cycle {cyc.label}")
        if not wanted:
            raise ValidationError("units", "choose at least one unit (or all units)")
        keep &= frame["unit_code"].isin(wanted)
    for field, value in (("region", region), ("unit_type", unit_type)):
        if not value:
            continue
        known = sorted(v for v in set(frame[field]) if v)
        if value not in known:
            shown = field.replace("_", " ")
            raise ValidationError(
                field,
                f"no unit of cycle {cyc.label} has {shown} {value!r}; "
                f"the {shown}s are: {', '.join(known) or 'none'}",
            )
        keep &= frame[field] == value
    chosen = sorted(frame.loc[keep, "unit_code"])
    if not chosen:
        raise ValidationError("units", "no unit of the cycle is in this selection")
    return chosen


@use_case(*TEMPLATE_MAKERS)
def template_parts(tx: Tx, cycle: str) -> TemplateParts:
    """The regions and unit types of the cycle's units, with units in each (for a choice)."""
    frame = _cycle_units(tx, tx.cycle(cycle))
    regions = frame.loc[frame["region"] != "", "region"].value_counts().sort_index()
    types = frame["unit_type"].value_counts().sort_index()
    return TemplateParts(
        regions={str(k): int(v) for k, v in regions.items()},
        unit_types={str(k): int(v) for k, v in types.items()},
        units=len(frame),
    )
