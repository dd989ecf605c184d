"""The rating rules (`riskmap.rules`): the scalar and the table form agree, and each rule
says what the methodology says (a value equal to its baseline needs no justification)."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

import synthetic
from riskmap import rules
from riskmap.catalogue import load_catalogue

CAT = load_catalogue()
MIN = synthetic.ministry(CAT, units=30, seed=11)


def test_levels_come_from_the_declared_scale():
    scale = CAT.method.maturity
    values = [scale.min - 1, scale.min, scale.max, scale.max + 1, 2.5, True, "3", None]
    assert [rules.is_level(v, scale) for v in values] == [
        False, True, True, False, False, False, False, False,
    ]  # fmt: skip
    column = pd.Series([scale.min - 1, scale.min, scale.max, scale.max + 1, 2.5, np.nan])
    assert rules.on_scale(column, scale).tolist() == [False, True, True, False, False, False]
    assert rules.on_scale(pd.Series(["3", " x", "", "3.0"]), scale).tolist() == [
        True, False, False, True,
    ]  # fmt: skip


@pytest.mark.parametrize("kind", [rules.RISK, rules.CONTROL])
def test_applies_is_the_scalar_rule_over_a_table(kind):
    items = rules.catalogue_items(CAT, kind)
    pairs = pd.DataFrame(
        [(i, t.id) for i in items for t in CAT.unit_types] + [("nope", "courts")],
        columns=["item", "unit_type"],
    )
    one = rules.risk_applies if kind == rules.RISK else rules.control_applies
    want = [i in items and one(items[i], t) for i, t in pairs.itertuples(index=False)]
    got = rules.applies(pairs["item"], pairs["unit_type"], CAT, kind).tolist()
    assert got == want
    assert 0 < sum(got) < len(got)


def test_the_default_rating_is_the_catalogue_default_for_the_unit_type():
    risk = CAT.risks[0]
    unit_type = risk.unit_types[0]
    assert rules.default_risk_rating(risk, unit_type, CAT) == risk.defaults[unit_type]
    other = next(t.id for t in CAT.unit_types if t.id not in risk.unit_types)
    assert rules.default_risk_rating(risk, other, CAT) is None
    assert rules.risk_baseline(risk, other, CAT) is None


def test_baselines_name_their_source_rating_by_rating():
    rr = MIN.risk_ratings
    # Half the units were rated last cycle (at another likelihood): only those
    # ratings start from last cycle's; the others from the catalogue default.
    rated_before = set(MIN.units["unit_code"][::2])
    top = CAT.method.likelihood.max
    previous = rr[rr["unit_code"].isin(rated_before)].assign(
        likelihood=lambda f: f["likelihood"] % top + 1
    )
    got = rules.risk_baselines(rr, MIN.units, CAT, previous)
    assert list(got.columns) == rules.BASELINE_COLUMNS
    types = dict(zip(MIN.units["unit_code"], MIN.units["unit_type"], strict=True))
    prev = {
        (u, r): (li, im)
        for u, r, li, im in previous[["unit_code", "risk_id", "likelihood", "impact"]].itertuples(
            index=False
        )
    }
    for (u, r), b in zip(
        rr[["unit_code", "risk_id"]].itertuples(index=False),
        got.itertuples(index=False),
        strict=True,
    ):
        one = rules.risk_baseline(CAT.risk_by_id[r], types[u], CAT, prev.get((u, r)))
        assert (b.baseline_likelihood, b.baseline_impact, b.baseline_source) == (
            one.likelihood, one.impact, one.source,
        )  # fmt: skip
        assert one.source == (rules.LAST_CYCLE if u in rated_before else rules.CATALOGUE_DEFAULT)
    assert rules.risk_baselines(rr, MIN.units, CAT).equals(
        rules.risk_baselines(rr, MIN.units, CAT, previous.iloc[:0])
    )


def test_no_baseline_where_the_catalogue_no_longer_rates_the_risk():
    rr = MIN.risk_ratings.iloc[:1]
    elsewhere = next(
        t.id for t in CAT.unit_types if t.id not in CAT.risk_by_id[rr.iloc[0]["risk_id"]].unit_types
    )
    units = MIN.units.assign(unit_type=elsewhere)
    got = rules.risk_baselines(rr, units, CAT).iloc[0]
    assert np.isnan(got["baseline_likelihood"]) and got["baseline_source"] == ""


def test_justification_is_needed_away_from_the_baseline_only():
    base = rules.Baseline(3, 4, rules.LAST_CYCLE)
    ask = dict(risk_id="BOR-01", unit="BP-N", baseline=base)
    assert (
        rules.risk_justification_problem(
            applicable=True, likelihood=3, impact=4, justification="", **ask
        )
        is None
    )
    assert rules.risk_justification_problem(
        applicable=True, likelihood=3, impact=5, justification=" ", **ask
    ) == (
        "likelihood 3 x impact 5 differs from the last cycle's rating (3 x 4); say why "
        "(evidence, incidents, changed procedures)"
    )
    assert (
        rules.risk_justification_problem(
            applicable=True, likelihood=2, impact=4, justification="seen", **ask
        )
        is None
    )
    assert rules.risk_justification_problem(
        applicable=False, likelihood=3, impact=4, justification="", **ask
    ) == ("say why risk BOR-01 does not apply to unit BP-N")
    assert (
        rules.control_justification_problem(
            control_id="x", unit="BP-N", applicable=True, justification=""
        )
        is None
    )
    assert rules.control_justification_problem(
        control_id="x", unit="BP-N", applicable=False, justification=""
    ) == ("say why control x does not apply to unit BP-N")


def test_the_table_form_of_the_justification_rule_is_the_scalar_rule_row_by_row():
    rng = random.Random(5)
    rr = MIN.risk_ratings.copy()
    rr = rr.join(rules.risk_baselines(rr, MIN.units, CAT))
    rr["unit"] = rr["unit_code"]
    rr["justification"] = [rng.choice(["", "", "because"]) for _ in range(len(rr))]
    rr.loc[rr.index[:3], "baseline_likelihood"] = np.nan  # no baseline: always asked
    got = rules.risk_justification_problems(rr)
    want = []
    for row in rr.itertuples():
        base = None
        if not np.isnan(row.baseline_likelihood):
            base = rules.Baseline(
                int(row.baseline_likelihood), int(row.baseline_impact), row.baseline_source
            )
        want.append(
            rules.risk_justification_problem(
                risk_id=row.risk_id, unit=row.unit, applicable=row.applicable,
                likelihood=row.likelihood, impact=row.impact, justification=row.justification,
                baseline=base,
            ) or ""
        )  # fmt: skip
    assert got.tolist() == want
    assert 0 < sum(bool(w) for w in want) < len(want)

    cr = MIN.control_ratings.assign(unit=MIN.control_ratings["unit_code"])
    cr["justification"] = [rng.choice(["", "because"]) for _ in range(len(cr))]
    want = [
        rules.control_justification_problem(
            control_id=r.control_id,
            unit=r.unit,
            applicable=r.applicable,
            justification=r.justification,
        )
        or ""
        for r in cr.itertuples()
    ]
    assert rules.control_justification_problems(cr).tolist() == want
    assert any(want)
