"""The scoring core: the residual rule, its bands, the roll-ups and the calibration flags.

Hand-worked examples use `synthetic.pinned` (method numbers fixed in the test, equal to the
shipped ones today); property tests run on the shipped catalogue and on random methods and
compare the vectorised core with the row-by-row oracle in tests/oracle.py.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import oracle
import synthetic
from riskmap.catalogue import load_catalogue
from riskmap.catalogue.models import Rule
from riskmap.scoring import (
    SCORE_COLUMNS,
    band_ids,
    by_risk,
    by_stage,
    by_unit,
    by_unit_type,
    calibration_flags,
    contradicted,
    maturity_by_principle,
    ministry,
    outliers,
    score,
)

CAT = load_catalogue()
PIN = synthetic.pinned(CAT)
PROPS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


class Case(NamedTuple):
    """A unit type, one of its risks, and controls around that risk."""

    unit_type: str
    risk: str
    high: str  # applies to the type, mitigates the risk strongly
    medium: str
    low: str
    elsewhere: str  # mitigates the risk but the catalogue does not apply it to the type
    unrelated: str  # applies to the type but does not mitigate the risk


def _find_case(cat) -> Case:
    for t in cat.unit_types:
        for r in cat.risks_for(t.id):
            found: dict[str, str] = {}
            for c in cat.controls:
                if r.id in c.mitigates:
                    key = c.mitigates[r.id] if t.id in c.unit_types else "elsewhere"
                    found.setdefault(key, c.id)
            unrelated = [c.id for c in cat.controls_for(t.id) if r.id not in c.mitigates]
            if {"low", "medium", "high", "elsewhere"} <= found.keys() and unrelated:
                return Case(
                    t.id,
                    r.id,
                    found["high"],
                    found["medium"],
                    found["low"],
                    found["elsewhere"],
                    unrelated[0],
                )
    raise AssertionError("the catalogue has no risk with low/medium/high/elsewhere controls")


CASE = _find_case(CAT)


def one_risk(likelihood, impact, controls=(), cat=PIN, applicable=True):
    """Score one unit rating only CASE.risk, with (control_id, applicable, maturity) ratings."""
    m = synthetic.small(
        units=[("U1", CASE.unit_type)],
        risks=[("U1", CASE.risk, applicable, likelihood, impact)],
        controls=[("U1", c, a, lvl) for c, a, lvl in controls],
    )
    return score(m.risk_ratings, m.control_ratings, m.units, cat)


def only_row(register) -> dict:
    assert len(register) == 1
    return register.iloc[0].to_dict()


# --------------------------------------------------------------------------- the rule


@pytest.mark.parametrize("strength", ["low", "medium", "high"])
@pytest.mark.parametrize("maturity", [1, 2, 3, 4])
def test_single_control_factor_is_one_minus_w_m_over_max(strength, maturity):
    control = getattr(CASE, strength)
    w = {"low": 0.25, "medium": 0.5, "high": 0.75}[strength]
    row = only_row(one_risk(5, 4, [(control, True, maturity)]))
    expected_reduction = w * maturity / 4  # one factor: 1 - (1 - w m / M)
    assert row["reduction"] == pytest.approx(expected_reduction, abs=1e-12)
    assert row["residual_likelihood"] == pytest.approx(5 * (1 - expected_reduction), abs=1e-12)
    assert row["residual"] == pytest.approx(20 * (1 - expected_reduction), abs=1e-12)
    assert row["inherent"] == 20
    assert row["controls"] == control


def test_factors_multiply_worked_example():
    # high at 2: 1 - 0.75*2/4 = 0.625; medium at 1: 1 - 0.5/4 = 0.875; low at 4: 0.75
    # product 0.41015625, reduction 0.58984375, residual likelihood 5 * 0.41015625
    reg = one_risk(5, 3, [(CASE.high, True, 2), (CASE.medium, True, 1), (CASE.low, True, 4)])
    row = only_row(reg)
    assert row["reduction"] == pytest.approx(0.58984375, abs=1e-12)
    assert row["residual_likelihood"] == pytest.approx(2.05078125, abs=1e-12)
    assert row["residual"] == pytest.approx(6.15234375, abs=1e-12)
    assert row["inherent_band"] == "critical"  # 15
    assert row["residual_band"] == "medium"  # 6.15


def test_reduction_is_capped():
    # high at 4 (0.25) and medium at 4 (0.5): product 0.125, uncapped reduction 0.875
    row = only_row(one_risk(5, 5, [(CASE.high, True, 4), (CASE.medium, True, 4)]))
    assert row["reduction"] == pytest.approx(0.8, abs=1e-12)
    assert row["residual_likelihood"] == pytest.approx(1.0, abs=1e-12)  # 5 * (1 - 0.8)
    # A lower cap from the method is obeyed too.
    low_cap = synthetic.with_method(PIN, "cap05", rule=Rule(reduction_cap=0.5, likelihood_floor=0))
    row = only_row(one_risk(4, 5, [(CASE.high, True, 4), (CASE.medium, True, 4)], cat=low_cap))
    assert row["reduction"] == pytest.approx(0.5, abs=1e-12)
    assert row["residual"] == pytest.approx(10.0, abs=1e-12)


def test_residual_likelihood_never_below_floor():
    # likelihood 3 with reduction 0.8 would be 0.6; the floor holds it at 1.
    row = only_row(one_risk(3, 4, [(CASE.high, True, 4), (CASE.medium, True, 4)]))
    assert row["reduction"] == pytest.approx(0.8, abs=1e-12)
    assert row["residual_likelihood"] == pytest.approx(1.0, abs=1e-12)
    assert row["residual"] == pytest.approx(4.0, abs=1e-12)


def test_floor_never_raises_likelihood_above_the_rating():
    high_floor = synthetic.with_method(
        PIN, "floor2", rule=Rule(reduction_cap=0.8, likelihood_floor=2.0)
    )
    row = only_row(one_risk(1, 5, [(CASE.high, True, 4)], cat=high_floor))
    assert row["residual_likelihood"] == 1.0
    assert row["residual"] == row["inherent"] == 5.0
    row = only_row(one_risk(4, 5, [(CASE.high, True, 4), (CASE.medium, True, 4)], cat=high_floor))
    assert row["residual_likelihood"] == pytest.approx(2.0, abs=1e-12)  # 4 * 0.2 = 0.8 -> 2


def test_band_ids_at_exact_thresholds():
    scores = [0, 1, 4.999999, 5, 5.000001, 9.999, 10, 14.99, 15, 25, -1]
    expected = [
        "low",
        "low",
        "low",
        "medium",
        "medium",
        "medium",
        "high",
        "high",
        "critical",
        "critical",
        "low",
    ]
    assert list(band_ids(PIN, np.array(scores, dtype=float))) == expected
    assert [oracle.band_of(s, PIN) for s in scores] == expected


@pytest.mark.parametrize(
    ("likelihood", "impact", "band"),
    [(1, 4, "low"), (1, 5, "medium"), (3, 3, "medium"), (2, 5, "high"), (3, 5, "critical")],
)
def test_inherent_band_at_thresholds(likelihood, impact, band):
    row = only_row(one_risk(likelihood, impact))
    assert row["inherent"] == likelihood * impact
    assert row["inherent_band"] == band
    assert row["residual_band"] == band  # no control: residual = inherent
    assert row["reduction"] == 0
    assert row["controls"] == ""


def test_residual_band_at_exact_threshold():
    # high at 4: factor exactly 0.25, residual likelihood 4 * 0.25 = 1, residual 5 -> medium
    row = only_row(one_risk(4, 5, [(CASE.high, True, 4)]))
    assert row["residual"] == 5.0
    assert row["residual_band"] == "medium"


def test_not_applicable_risk_is_dropped():
    m = synthetic.small(
        units=[("U1", CASE.unit_type)],
        risks=[("U1", CASE.risk, False, 5, 5)],
        controls=[("U1", CASE.high, True, 4)],
    )
    assert len(score(m.risk_ratings, m.control_ratings, m.units, PIN)) == 0
    other = next(r.id for r in CAT.risks_for(CASE.unit_type) if r.id != CASE.risk)
    m = synthetic.small(
        units=[("U1", CASE.unit_type)],
        risks=[("U1", CASE.risk, False, 5, 5), ("U1", other, True, 2, 2)],
    )
    reg = score(m.risk_ratings, m.control_ratings, m.units, PIN)
    assert list(reg["risk_id"]) == [other]
    assert list(reg.columns) == SCORE_COLUMNS


@pytest.mark.parametrize(
    "rating",
    [
        pytest.param((CASE.high, False, 4), id="rated-not-applicable"),
        pytest.param((CASE.high, True, 0), id="maturity-zero"),
        pytest.param((CASE.elsewhere, True, 4), id="not-for-this-unit-type"),
        pytest.param((CASE.unrelated, True, 4), id="does-not-mitigate-the-risk"),
    ],
)
def test_control_that_contributes_nothing(rating):
    alone = only_row(one_risk(5, 5))
    row = only_row(one_risk(5, 5, [rating]))
    assert row["reduction"] == 0
    assert row["residual"] == alone["residual"] == 25
    assert row["controls"] == ""
    # ... and alongside a contributing control it changes nothing either.
    with_medium = only_row(one_risk(5, 5, [(CASE.medium, True, 2)]))
    both = only_row(one_risk(5, 5, [(CASE.medium, True, 2), rating]))
    assert both["residual"] == with_medium["residual"] == pytest.approx(25 * 0.75)
    assert both["controls"] == CASE.medium


def test_controls_column_lists_contributors_sorted():
    ratings = [
        (CASE.medium, True, 1),
        (CASE.high, True, 3),
        (CASE.low, False, 4),
        (CASE.elsewhere, True, 4),
        (CASE.unrelated, True, 2),
    ]
    row = only_row(one_risk(4, 4, ratings))
    assert row["controls"] == ";".join(sorted([CASE.medium, CASE.high]))


def test_units_without_region_column_get_empty_region():
    m = synthetic.small(units=[("U1", CASE.unit_type)], risks=[("U1", CASE.risk, True, 2, 2)])
    reg = score(m.risk_ratings, m.control_ratings, m.units.drop(columns="region"), PIN)
    assert reg.loc[0, "region"] == ""


def test_missing_column_is_named():
    m = synthetic.small(units=[("U1", CASE.unit_type)], risks=[("U1", CASE.risk, True, 2, 2)])
    with pytest.raises(ValueError, match=r"risk ratings: missing column\(s\) \['impact'\]"):
        score(m.risk_ratings.drop(columns="impact"), m.control_ratings, m.units, PIN)
    with pytest.raises(ValueError, match=r"control ratings: missing column\(s\) \['maturity'\]"):
        score(m.risk_ratings, m.control_ratings.drop(columns="maturity"), m.units, PIN)


def test_oracle_agrees_on_a_synthetic_ministry():
    m = synthetic.ministry(CAT, units=60, seed=3)
    assert_agrees(m.risk_ratings, m.control_ratings, m.units, CAT)


# --------------------------------------------------------------------------- properties

RISK_IDS = [r.id for r in CAT.risks]
TYPE_IDS = [t.id for t in CAT.unit_types]
MITIGATORS = {r: [c.id for c in CAT.controls if r in c.mitigates] for r in RISK_IDS}


@st.composite
def ministries(draw, max_units: int = 4):
    """Small random ministries; risks and controls lean towards ones that meet."""
    n_units = draw(st.integers(1, max_units))
    applicable = st.sampled_from([True, True, True, True, False])
    lik = st.integers(CAT.method.likelihood.min, CAT.method.likelihood.max)
    imp = st.integers(CAT.method.impact.min, CAT.method.impact.max)
    mat = st.integers(0, CAT.method.maturity.max)
    units, risks, controls = [], [], []
    for i in range(n_units):
        uid = f"U{i:02d}"
        unit_type = draw(st.sampled_from(TYPE_IDS))
        units.append((uid, unit_type, draw(st.sampled_from(["North", "South"]))))
        own = [r.id for r in CAT.risks_for(unit_type)]
        chosen = draw(
            st.lists(st.sampled_from(own + RISK_IDS[:3]), min_size=1, max_size=5, unique=True)
        )
        for r in chosen:
            risks.append((uid, r, draw(applicable), draw(lik), draw(imp)))
        pool = sorted({c for r in chosen for c in MITIGATORS[r]})
        for c in draw(st.lists(st.sampled_from(pool), max_size=10, unique=True)):
            controls.append((uid, c, draw(applicable), draw(mat)))
    return synthetic.small(units, risks, controls)


def assert_agrees(risk_ratings, control_ratings, units, cat):
    got = score(risk_ratings, control_ratings, units, cat).to_dict("records")
    want = oracle.score_rows(risk_ratings, control_ratings, units, cat)
    assert len(got) == len(want)
    thresholds = [b.min for b in cat.method.bands]
    for g, w in zip(got, want, strict=True):
        assert set(g) == set(w)
        for key, value in w.items():
            if isinstance(value, float):
                assert math.isclose(g[key], value, rel_tol=0, abs_tol=1e-9), (key, g, w)
            elif key.endswith("_band"):
                near = min(abs(g[key.replace("_band", "")] - t) for t in thresholds) < 1e-9
                assert g[key] == value or near, (key, g, w)
            else:
                assert g[key] == value, (key, g, w)


@PROPS
@given(ministries())
def test_vectorised_score_agrees_with_oracle(m):
    assert_agrees(m.risk_ratings, m.control_ratings, m.units, CAT)


@st.composite
def methods(draw):
    weights = sorted(draw(st.lists(st.floats(0.01, 1.0), min_size=3, max_size=3)))
    cap = draw(st.floats(0.05, 0.95))
    floor = draw(st.floats(0.0, 3.0))
    tag = f"w{weights}-c{cap}-f{floor}"
    return synthetic.with_method(
        CAT,
        tag,
        strengths=dict(zip(["low", "medium", "high"], weights, strict=True)),
        rule=Rule(reduction_cap=cap, likelihood_floor=floor),
    )


@PROPS
@given(ministries(max_units=2), methods())
def test_vectorised_score_agrees_with_oracle_under_any_method(m, cat):
    assert_agrees(m.risk_ratings, m.control_ratings, m.units, cat)


@PROPS
@given(ministries())
def test_residual_never_exceeds_inherent_and_cap_holds(m):
    reg = score(m.risk_ratings, m.control_ratings, m.units, CAT)
    rule = CAT.method.rule
    assert (reg["residual"] <= reg["inherent"] + 1e-12).all()
    assert (reg["residual"] >= 0).all()
    assert (reg["reduction"] >= 0).all()
    assert (reg["reduction"] <= rule.reduction_cap + 1e-12).all()
    floor = np.minimum(reg["likelihood"], rule.likelihood_floor)
    assert (reg["residual_likelihood"] >= floor - 1e-12).all()
    assert (reg["residual_likelihood"] <= reg["likelihood"] + 1e-12).all()


@PROPS
@given(ministries(), st.data())
def test_raising_maturity_never_raises_any_residual(m, data):
    cr = m.control_ratings
    assume(len(cr) > 0)
    i = data.draw(st.integers(0, len(cr) - 1))
    top = CAT.method.maturity.max
    assume(cr.loc[i, "maturity"] < top)
    new_level = data.draw(st.integers(int(cr.loc[i, "maturity"]) + 1, top))
    raised = cr.copy()
    raised.loc[i, "maturity"] = new_level
    before = score(m.risk_ratings, cr, m.units, CAT)
    after = score(m.risk_ratings, raised, m.units, CAT)
    assert list(before["risk_id"]) == list(after["risk_id"])
    assert list(before["unit_id"]) == list(after["unit_id"])
    assert (after["residual"].to_numpy() <= before["residual"].to_numpy() + 1e-12).all()
    assert (after["reduction"].to_numpy() >= before["reduction"].to_numpy() - 1e-12).all()


# --------------------------------------------------------------------------- roll-ups

STAGE_FIRST = CAT.stages[0].id  # "recruitment": first in the catalogue, not alphabetically
STAGE_OTHER = next(s.id for s in CAT.stages[1:] if s.id < STAGE_FIRST)


def _risk_in(stage: str, n: int) -> str:
    return [r.id for r in CAT.risks if r.stage == stage][n]


R1, R3 = _risk_in(STAGE_FIRST, 0), _risk_in(STAGE_FIRST, 1)
R2 = _risk_in(STAGE_OTHER, 0)
TYPE_A, TYPE_B = TYPE_IDS[0], TYPE_IDS[1]


def hand_register() -> pd.DataFrame:
    """Five scored pairs, three units (C without a region), two types, two stages."""
    rows = [
        # unit, type, region, risk, inherent, residual, residual band
        ("A", TYPE_A, "North", R1, 20.0, 12.0, "high"),
        ("A", TYPE_A, "North", R2, 9.0, 4.0, "low"),
        ("B", TYPE_A, "South", R1, 16.0, 16.0, "critical"),
        ("C", TYPE_B, None, R3, 6.0, 5.0, "medium"),
        ("C", TYPE_B, None, R2, 10.0, 9.5, "medium"),
    ]
    risk = CAT.risk_by_id
    return pd.DataFrame(
        [
            {
                "unit_id": u,
                "unit": f"Unit {u}",
                "unit_type": t,
                "region": reg,
                "risk_id": r,
                "risk": risk[r].title,
                "stage": risk[r].stage,
                "likelihood": 4,
                "impact": 5,
                "inherent": inh,
                "reduction": 0.0,
                "residual_likelihood": res / 5,
                "residual": res,
                "inherent_band": oracle.band_of(inh, PIN),
                "residual_band": band,
                "controls": "",
            }
            for u, t, reg, r, inh, res, band in rows
        ]
    )


def _records(frame: pd.DataFrame, columns: list[str]) -> list[tuple]:
    return [tuple(r) for r in frame[columns].itertuples(index=False)]


STATS = ["pairs", "max_inherent", "mean_inherent", "max_residual", "mean_residual"]
COUNTS = ["n_low", "n_medium", "n_high", "n_critical", "worst_band"]


def test_by_unit_hand_computed():
    out = by_unit(hand_register(), PIN)
    assert list(out["unit_id"]) == ["B", "A", "C"]  # most exposed first
    assert _records(out, STATS + COUNTS) == [
        (1, 16.0, 16.0, 16.0, 16.0, 0, 0, 0, 1, "critical"),
        (2, 20.0, 14.5, 12.0, 8.0, 1, 0, 1, 0, "high"),
        (2, 10.0, 8.0, 9.5, 7.25, 0, 2, 0, 0, "medium"),
    ]
    assert out.loc[2, "unit_type"] == TYPE_B
    assert pd.isna(out.loc[2, "region"])  # a unit without a region is still reported


def test_by_unit_type_hand_computed():
    out = by_unit_type(hand_register(), PIN).set_index("unit_type")
    assert out.loc[TYPE_A, "units"] == 2
    assert out.loc[TYPE_B, "units"] == 1
    assert tuple(out.loc[TYPE_A, STATS + COUNTS]) == (
        3,
        20.0,
        15.0,
        16.0,
        pytest.approx(32 / 3),
        1,
        0,
        1,
        1,
        "critical",
    )
    assert tuple(out.loc[TYPE_B, STATS + COUNTS]) == (2, 10.0, 8.0, 9.5, 7.25, 0, 2, 0, 0, "medium")


def test_by_stage_hand_computed_in_catalogue_order():
    out = by_stage(hand_register(), PIN)
    assert list(out["stage"]) == [STAGE_FIRST, STAGE_OTHER]
    assert _records(out, STATS + COUNTS) == [
        (3, 20.0, 14.0, 16.0, 11.0, 0, 1, 1, 1, "critical"),
        (2, 10.0, 9.5, 9.5, 6.75, 1, 1, 0, 0, "medium"),
    ]


def test_by_risk_hand_computed():
    out = by_risk(hand_register(), PIN).set_index("risk_id")
    assert out.loc[R1, "pairs"] == 2
    assert out.loc[R1, "mean_residual"] == 14.0
    assert out.loc[R2, "max_residual"] == 9.5
    assert out.loc[R3, "worst_band"] == "medium"


def test_ministry_hand_computed():
    assert ministry(hand_register(), PIN) == {
        "units": 3,
        "pairs": 5,
        "mean_inherent": pytest.approx(12.2),
        "mean_residual": pytest.approx(9.3),
        "max_residual": 16.0,
        "n_low": 1,
        "n_medium": 2,
        "n_high": 1,
        "n_critical": 1,
    }
    empty = ministry(hand_register().iloc[:0], PIN)
    assert empty["pairs"] == 0 and empty["mean_residual"] == 0.0 and empty["n_low"] == 0


def test_band_counts_add_up_on_a_synthetic_ministry():
    m = synthetic.ministry(CAT, units=45, seed=5)
    reg = score(m.risk_ratings, m.control_ratings, m.units, CAT)
    out = by_unit(reg, CAT)
    assert len(out) == reg["unit_id"].nunique()
    bands = [f"n_{b.id}" for b in CAT.method.bands]
    assert (out[bands].sum(axis=1) == out["pairs"]).all()
    assert out["pairs"].sum() == len(reg)
    assert (out["max_residual"].diff().dropna() <= 0).all()


def test_maturity_by_principle_hand_computed():
    principle = CAT.principle_of_statement
    c1 = CAT.control_by_id[CASE.high]
    p1 = principle[c1.principle].id
    same = [
        c
        for c in CAT.controls_for(CASE.unit_type)
        if principle[c.principle].id == p1 and c.id != c1.id
    ]
    assert same, "need two controls of one principle for the unit type"
    c2 = same[0]
    m = synthetic.small(
        units=[("U1", CASE.unit_type, "North"), ("U2", CASE.unit_type, "South")],
        controls=[
            ("U1", c1.id, True, 4),
            ("U1", c2.id, False, 3),  # not applicable: left out of the mean
            ("U2", c1.id, True, 2),
            ("U2", CASE.elsewhere, True, 4),  # not applicable to the type: ignored
        ],
    )
    # Applicable (unit, control) pairs of principle p1: every catalogue control of p1 for the
    # type, in both units, less the one rated not applicable; unrated ones count as 0.
    n_p1 = sum(principle[c.principle].id == p1 for c in CAT.controls_for(CASE.unit_type))
    out = maturity_by_principle(m.control_ratings, m.units, CAT).set_index("principle")
    assert out.loc[p1, "controls"] == 2 * n_p1 - 1
    assert out.loc[p1, "mean_maturity"] == pytest.approx((4 + 2) / (2 * n_p1 - 1))
    others = out.drop(index=p1)
    assert (others["mean_maturity"] == 0).all()
    by_region = maturity_by_principle(m.control_ratings, m.units, CAT, by="region")
    by_region = by_region.set_index(["region", "principle"])
    assert by_region.loc[("North", p1), "mean_maturity"] == pytest.approx(4 / (n_p1 - 1))
    assert by_region.loc[("South", p1), "mean_maturity"] == pytest.approx(2 / n_p1)
    by_type = maturity_by_principle(m.control_ratings, m.units, CAT, by="unit_type")
    assert (
        by_type.set_index(["unit_type", "principle"]).loc[(CASE.unit_type, p1), "controls"]
        == 2 * n_p1 - 1
    )


# --------------------------------------------------------------------------- calibration


def peer_register(likelihoods: list[int], impacts: list[int] | None = None) -> pd.DataFrame:
    """Units P0..Pn of one type rating CASE.risk with the given likelihoods."""
    impacts = impacts or [3] * len(likelihoods)
    m = synthetic.small(
        units=[(f"P{i}", CASE.unit_type) for i in range(len(likelihoods))],
        risks=[
            (f"P{i}", CASE.risk, True, lk, im)
            for i, (lk, im) in enumerate(zip(likelihoods, impacts, strict=True))
        ],
    )
    return score(m.risk_ratings, m.control_ratings, m.units, PIN)


def _flagged(flags: pd.DataFrame, kind: str) -> set[str]:
    return set(flags.loc[flags["flag"] == kind, "unit_id"])


def test_outlier_among_enough_peers_is_flagged():
    flags = outliers(peer_register([4, 4, 4, 2]), PIN)  # P3: 2 vs peers' median 4
    assert _flagged(flags, "outlier") == {"P3"}
    row = flags.iloc[0]
    assert row["risk_id"] == CASE.risk
    assert row["detail"] == "likelihood 2 vs median 4 of 3 peer units"


def test_rating_within_threshold_is_not_flagged():
    assert outliers(peer_register([4, 4, 4, 3]), PIN).empty


def test_too_few_peers_is_not_flagged():
    assert outliers(peer_register([4, 4, 1]), PIN).empty  # two peers < min_peers 3


def test_outlier_on_impact_is_flagged():
    flags = outliers(peer_register([3, 3, 3, 3], impacts=[1, 3, 3, 3]), PIN)
    assert list(flags["unit_id"]) == ["P0"]
    assert flags.loc[0, "detail"].startswith("impact 1 vs median 3")


def test_outlier_median_is_of_the_peers_not_including_the_unit():
    # P0 rates 1; its three peers rate 2, 3, 3 (median 3): two levels away, so flagged, as
    # method.yaml and the flag's own text ("median of N peer units") say. A median taken
    # with P0 itself in it (1, 2, 3, 3 -> 2.5) would hide the outlier. P1 (peers 1, 3, 3)
    # and P2, P3 (peers 1, 2, 3) are within one level of their peers' median.
    flags = outliers(peer_register([1, 2, 3, 3]), PIN)
    assert list(flags["detail"]) == ["likelihood 1 vs median 3 of 3 peer units"]
    assert list(flags["unit_id"]) == ["P0"]
    # An even number of peers: the median is the mean of the middle two (P0: 3, 3, 1, 1 -> 2).
    flags = outliers(peer_register([5, 3, 3, 1, 1]), PIN)
    assert "likelihood 5 vs median 2 of 4 peer units" in set(flags["detail"])


@PROPS
@given(
    st.lists(
        st.tuples(st.sampled_from([TYPE_A, TYPE_B]), st.integers(1, 5), st.integers(1, 5)),
        min_size=1,
        max_size=12,
    )
)
def test_outlier_flags_agree_with_oracle(ratings):
    # Every unit rates the same risk id (whether or not the catalogue applies it to the type).
    m = synthetic.small(
        units=[(f"P{i:02d}", t) for i, (t, _, _) in enumerate(ratings)],
        risks=[(f"P{i:02d}", CASE.risk, True, lk, im) for i, (_, lk, im) in enumerate(ratings)],
    )
    reg = score(m.risk_ratings, m.control_ratings, m.units, PIN)
    flags = outliers(reg, PIN)
    got = {(u, r, d.split()[0]) for u, r, d in flags[["unit_id", "risk_id", "detail"]].values}
    assert len(got) == len(flags)
    assert got == oracle.outlier_flags(reg.to_dict("records"), PIN)


def test_contradicted_fires_on_low_likelihood_only():
    m = synthetic.small(
        units=[("U1", CASE.unit_type), ("U2", CASE.unit_type)],
        risks=[("U1", CASE.risk, True, 2, 4), ("U2", CASE.risk, True, 4, 4)],
        incidents=[("U1", CASE.risk), ("U2", CASE.risk), ("U2", CASE.risk), ("U1", None)],
    )
    reg = score(m.risk_ratings, m.control_ratings, m.units, PIN)
    flags = contradicted(reg, m.incidents, PIN)
    assert list(flags["unit_id"]) == ["U1"]
    assert flags.loc[0, "detail"] == "likelihood 2 but 1 recorded incident(s) on this risk"
    none = contradicted(reg, m.incidents[m.incidents["unit_id"] == "U2"], PIN)
    assert none.empty


def test_calibration_flags_combines_both_and_sorts():
    reg = peer_register([4, 4, 4, 2])
    incidents = pd.DataFrame({"unit_id": ["P3", "P0"], "risk_id": [CASE.risk, CASE.risk]})
    flags = calibration_flags(reg, incidents, PIN)
    assert _records(flags, ["unit_id", "flag"]) == [("P3", "contradicted"), ("P3", "outlier")]
    assert list(calibration_flags(reg, None, PIN)["flag"]) == ["outlier"]
