"""The rating rules, in one place: every way in (a page, the command line, a questionnaire,
a CSV file) asks here, so a rating accepted by one is accepted by all.

Pure (the catalogue and values in, answers out); each rule comes as a scalar function for
one rating and a vectorised one over a table of ratings.

Scales: a level is a whole number on the method's declared scale (never assume 1-5).

- `is_level(value, scale) -> bool`; `on_scale(values: Series, scale) -> Series[bool]`
- `scale_range(scale) -> str`: "1-5", as messages show it

Applicability: the catalogue decides where an item is rated.

- `risk_applies(risk, unit_type)`, `control_applies(control, unit_type) -> bool`
- `applies(item_ids, unit_types, catalogue, kind) -> Series[bool]` (kind `RISK`/`CONTROL`)
- `where_rated(item) -> str`: its unit types, for a message
"""

from __future__ import annotations

import numbers

import pandas as pd

from riskmap.catalogue import Catalogue
from riskmap.catalogue.models import Control, Risk, Scale


def is_level(value: object, scale: Scale) -> bool:
    """A whole number (not a bool, not 2.5) between the scale's first and last level."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        return False
    return scale.min <= int(value) <= scale.max


def on_scale(values: pd.Series, scale: Scale) -> pd.Series:
    """`is_level` over a numeric column (NaN and fractions are off the scale)."""
    numbers_ = pd.to_numeric(values, errors="coerce")
    whole = numbers_.notna() & (numbers_ == numbers_.round())
    return whole & (numbers_ >= scale.min) & (numbers_ <= scale.max)


def scale_range(scale: Scale) -> str:
    return f"{scale.min}-{scale.max}"


# --------------------------------------------------------------------------- applicability
# The catalogue decides where an item is rated: a risk in the unit types of its defaults'
# keys (`Risk.unit_types`), a control in its `unit_types`.

RISK, CONTROL = "risk", "control"


def catalogue_items(catalogue: Catalogue, kind: str) -> dict[str, Risk] | dict[str, Control]:
    """The catalogue's risks or controls by id (`kind` RISK or CONTROL)."""
    return catalogue.risk_by_id if kind == RISK else catalogue.control_by_id


def risk_applies(risk: Risk, unit_type: str) -> bool:
    return unit_type in risk.unit_types


def control_applies(control: Control, unit_type: str) -> bool:
    return unit_type in control.unit_types


def applies(
    item_ids: pd.Series, unit_types: pd.Series, catalogue: Catalogue, kind: str
) -> pd.Series:
    """Whether each (risk or control, unit type) pair is one the catalogue rates.

    Unknown items and unknown unit types do not apply (report those separately: they are a
    different mistake).
    """
    pairs = {
        (item.id, t) for item in catalogue_items(catalogue, kind).values() for t in item.unit_types
    }
    keys = zip(item_ids.astype(str), unit_types.astype(str), strict=True)
    return pd.Series([k in pairs for k in keys], index=item_ids.index, dtype=bool)


def where_rated(item: Risk | Control) -> str:
    """The unit types an item is rated in, as a message lists them."""
    return ", ".join(item.unit_types)
