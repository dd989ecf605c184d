"""The rating rules, in one place: every way a rating comes in (a page, the command line,
a questionnaire, a CSV file) asks here, so a rating one of them accepts, all accept.

Pure: the catalogue and values in, answers out. Each rule comes as a scalar function for
one rating (a page, a service save) and a vectorised one over a table of ratings (the
questionnaire parser, the CSV files, a page listing a unit's ratings).

Scales (a level is a whole number on the method's declared scale; never assume 1-5):

- `is_level(value, scale) -> bool`; `on_scale(values: Series, scale) -> Series[bool]`
- `scale_range(scale) -> str`: "1-5", as messages and headers show it

Applicability (the catalogue decides where an item is rated; `kind` is RISK or CONTROL):

- `risk_applies(risk, unit_type)`, `control_applies(control, unit_type) -> bool`
- `applies(item_ids, unit_types, catalogue, kind) -> Series[bool]`
- `catalogue_items(catalogue, kind) -> {id: item}`; `where_rated(item) -> str`

Baselines (what a rating starts from and is compared with):

- `default_risk_rating(risk, unit_type, catalogue, exposure=None) -> RiskDefault | None`:
  the rating with no previous one; the ONLY reader of `risk.defaults`
- `default_control_maturity(catalogue) -> int`: a control not rated before
- `risk_baseline(risk, unit_type, catalogue, previous=None, exposure=None)
  -> Baseline(likelihood, impact, source) | None`, `previous` = last cycle's
  (likelihood, impact) of this unit and risk; `source` is `LAST_CYCLE` ("last cycle's
  rating") or `CATALOGUE_DEFAULT` ("catalogue default"), per rating: a unit added since the
  last cycle starts from the catalogue default
- `risk_baselines(ratings, units, catalogue, previous=None) -> DataFrame[BASELINE_COLUMNS]`
  (baseline_likelihood, baseline_impact as floats, NaN where none; baseline_source);
  `service.risk_ratings` returns these columns with every rating

Justification (needed for "not applicable", and for a risk's likelihood x impact that
differs from its baseline; a value equal to the baseline needs none, whatever it was
before; a control's maturity needs none, its evidence supports it). Each returns the
message (the service raises it as `ValidationError("justification", message)`, the
questionnaire reports it as `Risks!K5: justification: message`), or None / "":

- `risk_justification_problem(*, risk_id, unit, applicable, likelihood, impact,
  justification, baseline) -> str | None` (`unit`: the unit's code, for the message)
- `control_justification_problem(*, control_id, unit, applicable, justification)`
- `risk_justification_problems(ratings) -> Series[str]` (columns unit, risk_id,
  applicable, likelihood, impact, justification and BASELINE_COLUMNS);
  `control_justification_problems(ratings)` (unit, control_id, applicable, justification)
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskmap.catalogue import Catalogue
from riskmap.catalogue.models import Control, Risk, RiskDefault, Scale
from riskmap.scoring.exposure import suggested_likelihood


def is_level(value: object, scale: Scale) -> bool:
    """A whole number (not a bool, not 2.5) between the scale's first and last level."""
    if type(value) is int:  # the common case, without the slower check of any integer type
        return scale.min <= value <= scale.max
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        return False
    return scale.min <= int(value) <= scale.max


def on_scale(values: pd.Series, scale: Scale) -> pd.Series:
    """`is_level` over a column of numbers or text (blanks, words, fractions: off it)."""
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


# --------------------------------------------------------------------------- baselines
# A rating starts at its baseline and is compared with it: last cycle's rating of the same
# unit and risk when there is one, else the catalogue default for the unit's type.

LAST_CYCLE = "last cycle's rating"
CATALOGUE_DEFAULT = "catalogue default"


@dataclass(frozen=True)
class Baseline:
    likelihood: int
    impact: int
    source: str  # LAST_CYCLE or CATALOGUE_DEFAULT, as messages and pages name it


def default_risk_rating(
    risk: Risk,
    unit_type: str,
    catalogue: Catalogue,
    exposure: Mapping[str, int] | None = None,
) -> RiskDefault | None:
    """The rating a unit of `unit_type` starts from when it has no previous rating.

    The one reader of `risk.defaults`: seeding, baselines and the checks all come here, so
    a refinement (e.g. adjusting for the unit's `exposure` profile) changes them together.
    None when the catalogue does not rate the risk in that unit type.
    """
    default = risk.defaults.get(unit_type)
    if default is None or not exposure:
        return default
    # The unit's own exposure profile moves the type's default likelihood (method.yaml
    # `exposure_rule`; riskmap.scoring.exposure has the rule).
    likelihood = suggested_likelihood(default.likelihood, exposure, unit_type, catalogue)
    if likelihood == default.likelihood:
        return default
    return RiskDefault(likelihood=likelihood, impact=default.impact)


def default_control_maturity(catalogue: Catalogue) -> int:
    """A control not rated before starts at the bottom of the scale (not in place)."""
    return catalogue.method.maturity.min


def risk_baseline(
    risk: Risk,
    unit_type: str,
    catalogue: Catalogue,
    previous: tuple[int, int] | None = None,
    exposure: Mapping[str, int] | None = None,
) -> Baseline | None:
    """The baseline of one rating; `previous` is last cycle's (likelihood, impact) if any."""
    if previous is not None:
        return Baseline(int(previous[0]), int(previous[1]), LAST_CYCLE)
    default = default_risk_rating(risk, unit_type, catalogue, exposure)
    if default is None:
        return None
    return Baseline(default.likelihood, default.impact, CATALOGUE_DEFAULT)


BASELINE_COLUMNS = ["baseline_likelihood", "baseline_impact", "baseline_source"]


def risk_baselines(
    ratings: pd.DataFrame,
    units: pd.DataFrame,
    catalogue: Catalogue,
    previous: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """`risk_baseline` of every rating: BASELINE_COLUMNS, aligned with `ratings`' index.

    ratings: unit_code, risk_id; units: unit_code, unit_type (and `exposure`, a mapping per
    unit, if the caller has it); previous: last cycle's ratings (unit_code, risk_id,
    likelihood, impact), or None for a first cycle. Levels are floats, NaN (and source "")
    where there is no baseline: a risk the catalogue no longer rates in the unit's type.
    """
    by_unit = units.drop_duplicates("unit_code").set_index("unit_code")
    unit_type = ratings["unit_code"].map(by_unit["unit_type"]).fillna("").astype(str)
    risks = catalogue.risk_by_id
    if "exposure" in by_unit.columns:
        exposures = ratings["unit_code"].map(by_unit["exposure"])
        keys = list(zip(ratings["risk_id"], unit_type, ratings.index, strict=True))
    else:
        exposures = pd.Series(None, index=ratings.index, dtype=object)
        keys = list(zip(ratings["risk_id"], unit_type, strict=True))
    found: dict[tuple, RiskDefault | None] = {}
    for key, exposure in zip(keys, exposures, strict=True):
        if key not in found:
            risk = risks.get(key[0])
            found[key] = (
                None if risk is None else default_risk_rating(risk, key[1], catalogue, exposure)
            )
    defaults = [found[k] for k in keys]
    out = pd.DataFrame(
        {
            "baseline_likelihood": [d.likelihood if d else np.nan for d in defaults],
            "baseline_impact": [d.impact if d else np.nan for d in defaults],
            "baseline_source": [CATALOGUE_DEFAULT if d else "" for d in defaults],
        },
        index=ratings.index,
    ).astype({"baseline_likelihood": float, "baseline_impact": float})
    if previous is not None and len(previous):
        prev = previous.drop_duplicates(["unit_code", "risk_id"]).set_index(
            ["unit_code", "risk_id"]
        )
        last = prev[["likelihood", "impact"]].reindex(
            pd.MultiIndex.from_frame(ratings[["unit_code", "risk_id"]])
        )
        hit = last["likelihood"].notna().to_numpy()
        out.loc[hit, "baseline_likelihood"] = last["likelihood"].to_numpy(dtype=float)[hit]
        out.loc[hit, "baseline_impact"] = last["impact"].to_numpy(dtype=float)[hit]
        out.loc[hit, "baseline_source"] = LAST_CYCLE
    return out


# --------------------------------------------------------------------------- justification
# A rating needs a justification when it is marked not applicable, or when a risk's
# likelihood x impact differs from its baseline. A value equal to the baseline needs none,
# whatever it was before (a change undone needs no reason). A control's maturity needs no
# justification: its evidence supports it.

SAY_WHY = "say why (evidence, incidents, changed procedures)"


def not_applicable_message(kind: str, item_id: str, unit: str) -> str:
    return f"say why {kind} {item_id} does not apply to unit {unit}"


def baseline_message(likelihood: int, impact: int, baseline: Baseline | None) -> str:
    if baseline is None:
        return (
            f"likelihood {likelihood} x impact {impact} has no baseline (the catalogue does "
            f"not rate this risk in units of this type); {SAY_WHY}"
        )
    return (
        f"likelihood {likelihood} x impact {impact} differs from the {baseline.source} "
        f"({baseline.likelihood} x {baseline.impact}); {SAY_WHY}"
    )


def risk_justification_problem(
    *,
    risk_id: str,
    unit: str,
    applicable: bool,
    likelihood: int,
    impact: int,
    justification: str,
    baseline: Baseline | None,
) -> str | None:
    """Why this risk rating cannot be saved without a justification, or None.

    `unit` names the unit in the message (its code).
    """
    if justification.strip():
        return None
    if not applicable:
        return not_applicable_message(RISK, risk_id, unit)
    if baseline is None or (likelihood, impact) != (baseline.likelihood, baseline.impact):
        return baseline_message(likelihood, impact, baseline)
    return None


def control_justification_problem(
    *, control_id: str, unit: str, applicable: bool, justification: str
) -> str | None:
    """Why this control rating cannot be saved without a justification, or None."""
    if not applicable and not justification.strip():
        return not_applicable_message(CONTROL, control_id, unit)
    return None


def risk_justification_problems(ratings: pd.DataFrame) -> pd.Series:
    """`risk_justification_problem` of every row ("" where none), aligned with the index.

    Columns: unit (the name a message shows), risk_id, applicable, likelihood, impact,
    justification and BASELINE_COLUMNS (from `risk_baselines`).
    """
    text = ratings["justification"].fillna("").astype(str).str.strip()
    applicable = ratings["applicable"].astype(bool)
    base_l, base_i = ratings["baseline_likelihood"], ratings["baseline_impact"]
    no_base = base_l.isna() | base_i.isna()
    moved = no_base | (ratings["likelihood"] != base_l) | (ratings["impact"] != base_i)
    out = pd.Series("", index=ratings.index, dtype=object)
    blank = text == ""
    for i in ratings.index[blank & ~applicable]:
        out[i] = not_applicable_message(RISK, str(ratings.at[i, "risk_id"]), _unit(ratings, i))
    for i in ratings.index[blank & applicable & moved]:
        baseline = None
        if not no_base[i]:
            baseline = Baseline(
                int(base_l[i]), int(base_i[i]), str(ratings.at[i, "baseline_source"])
            )
        out[i] = baseline_message(
            int(ratings.at[i, "likelihood"]), int(ratings.at[i, "impact"]), baseline
        )
    return out


def control_justification_problems(ratings: pd.DataFrame) -> pd.Series:
    """`control_justification_problem` of every row ("" where none).

    Columns: unit, control_id, applicable, justification.
    """
    text = ratings["justification"].fillna("").astype(str).str.strip()
    refused = (text == "") & ~ratings["applicable"].astype(bool)
    out = pd.Series("", index=ratings.index, dtype=object)
    for i in ratings.index[refused]:
        out[i] = not_applicable_message(
            CONTROL, str(ratings.at[i, "control_id"]), _unit(ratings, i)
        )
    return out


def _unit(ratings: pd.DataFrame, i) -> str:
    return str(ratings.at[i, "unit"])
