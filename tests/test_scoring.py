"""The scoring core: the residual rule (method v2), its bands, the roll-ups and the flags.

The rule (method.yaml, docs/decisions/0001-residual-method.md): a control's credited
maturity is its maturity, or at most `evidence_required_above` without evidence; its credit
is `credit[credited]`; a risk's coverage is the strength-weighted mean of the credits of its
linked controls that apply to the unit's type and are not rated "does not apply" (unrated
ones count at 0, key controls weigh `key_control_weight` times their strength);
``reduction = max_reduction x coverage``; ``residual = likelihood x (1 - reduction) x impact``.

Hand-worked examples use `synthetic.pinned` (method numbers fixed in the test, equal to the
shipped ones today): weights 0.25/0.5/0.75, credits 0/0.1/0.4/0.75/1, evidence needed above
1, key controls x2, at most 70% removed, bands at 0/5/10/15. Property tests run on the
shipped catalogue and on random valid methods and compare the vectorised core with the
row-by-row oracle in tests/oracle.py.
"""

from __future__ import annotations

import dataclasses
import itertools
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
from riskmap.catalogue.models import Method, Risk, Rule
from riskmap.scoring import (
    SCORE_COLUMNS,
    band_ids,
    by_risk,
    by_stage,
    by_unit,
    by_unit_type,
    calibration_flags,
    contradicted,
    contributions,
    maturity_by_principle,
    ministry,
    outliers,
    score,
)

CAT = load_catalogue()
PIN = synthetic.pinned(CAT)
PROPS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
W = {"low": 0.25, "medium": 0.5, "high": 0.75}  # pinned strength weights
CREDIT = {0: 0.0, 1: 0.1, 2: 0.4, 3: 0.75, 4: 1.0}  # pinned credit table
EVIDENCE = "register extract 2025"


class Case(NamedTuple):
    """A unit type, one of its risks, and controls around that risk."""

    unit_type: str
    risk: str
    high: str  # applies to the type, mitigates the risk strongly
    medium: str
    low: str
    elsewhere: str  # mitigates the risk but the catalogue does not apply it to the type
    unrelated: str  # applies to the type but does not mitigate the risk
    linked: tuple[str, ...]  # every control counted in the risk's coverage for the type


def _find_case(cat) -> Case:
    for t in cat.unit_types:
        for r in cat.risks_for(t.id):
            found: dict[str, str] = {}
            for c in cat.controls:
                if r.id in c.mitigates:
                    key = c.mitigates[r.id] if t.id in c.unit_types else "elsewhere"
                    found.setdefault(key, c.id)
            unrelated = [c.id for c in cat.controls_for(t.id) if r.id not in c.mitigates]
            linked = tuple(c.id for c in cat.controls_for(t.id) if r.id in c.mitigates)
            if {"low", "medium", "high", "elsewhere"} <= found.keys() and unrelated:
                return Case(
                    t.id,
                    r.id,
                    found["high"],
                    found["medium"],
                    found["low"],
                    found["elsewhere"],
                    unrelated[0],
                    linked,
                )
    raise AssertionError("the catalogue has no risk with low/medium/high/elsewhere controls")


CASE = _find_case(CAT)
OTHER_TYPE_RISK = next(r.id for r in CAT.risks if CASE.unit_type not in r.defaults)


def with_key_controls(cat, tag: str, keys: dict[str, tuple[str, ...]]):
    """The catalogue with `key_controls` set on some risks (its own version string).

    The shipped `Risk` model may not declare `key_controls` yet; the scoring core reads it
    with getattr, so a model copy carrying the attribute exercises the key weight either way.
    """
    if "key_controls" in Risk.model_fields:
        risks = tuple(
            r.model_validate({**r.model_dump(), "key_controls": keys[r.id]}) if r.id in keys else r
            for r in cat.risks
        )
    else:
        risks = tuple(
            r.model_copy(update={"key_controls": keys[r.id]}) if r.id in keys else r
            for r in cat.risks
        )
    return cat.model_copy(update={"risks": risks, "version": f"{cat.version}+{tag}"})


KEYED = with_key_controls(PIN, "key-high", {CASE.risk: (CASE.high,)})


def validated(cat, tag: str, **changes):
    """`synthetic.with_method`, but the new method is validated as a loaded one would be."""
    data = {**cat.method.model_dump(), **changes}
    if data.get("band_matrix") is not None and "band_matrix" not in data["rationale"]:
        data["rationale"] = {**data["rationale"], "band_matrix": "declared by the test"}
    method = Method.model_validate(data)
    return cat.model_copy(update={"method": method, "version": f"{cat.version}+{tag}"})


def ratings(unit_type, risks, controls) -> synthetic.Ministry:
    """One unit U1; risks (risk_id, applicable, likelihood, impact); controls (control_id,
    applicable, maturity[, evidence])."""
    m = synthetic.small(
        units=[("U1", unit_type)],
        risks=[("U1", *r) for r in risks],
        controls=[("U1", *c[:3]) for c in controls],
    )
    evidence = [c[3] if len(c) > 3 else "" for c in controls]
    return dataclasses.replace(m, control_ratings=m.control_ratings.assign(evidence=evidence))


def one_risk(likelihood, impact, controls=(), cat=PIN, isolate=True, applicable=True):
    """Score U1 rating only CASE.risk. With `isolate`, every linked control not listed in
    `controls` is rated "does not apply", so the listed ones alone make the coverage."""
    listed = {c[0] for c in controls}
    rest = [(c, False, 0) for c in CASE.linked if c not in listed] if isolate else []
    m = ratings(CASE.unit_type, [(CASE.risk, applicable, likelihood, impact)], [*controls, *rest])
    return score(m.risk_ratings, m.control_ratings, m.units, cat)


def only_row(register) -> dict:
    assert len(register) == 1
    return register.iloc[0].to_dict()


# --------------------------------------------------------------------------- the rule


@pytest.mark.parametrize("strength", ["low", "medium", "high"])
@pytest.mark.parametrize("maturity", [0, 1, 2, 3, 4])
def test_single_control_coverage_is_its_credit_whatever_its_strength(strength, maturity):
    # One control: coverage = w credit / w = credit[m]; the strength cancels out.
    control = getattr(CASE, strength)
    row = only_row(one_risk(5, 4, [(control, True, maturity, EVIDENCE)]))
    reduction = 0.7 * CREDIT[maturity]
    assert row["coverage"] == pytest.approx(CREDIT[maturity], abs=1e-12)
    assert row["reduction"] == pytest.approx(reduction, abs=1e-12)
    assert row["residual_likelihood"] == pytest.approx(5 * (1 - reduction), abs=1e-12)
    assert row["residual"] == pytest.approx(20 * (1 - reduction), abs=1e-12)
    assert row["inherent"] == 20
    assert row["controls"] == (control if maturity > 0 else "")
    assert row["unevidenced"] == ""


def test_coverage_is_the_strength_weighted_mean_worked_example():
    # high at 3 (0.75 x 0.75), medium at 1 (0.5 x 0.1), low at 4 (0.25 x 1), all evidenced:
    # shares 0.5625 + 0.05 + 0.25 = 0.8625 over weights 1.5 -> coverage 0.575;
    # reduction 0.7 x 0.575 = 0.4025; residual likelihood 5 x 0.5975 = 2.9875; x 4 = 11.95.
    controls = [
        (CASE.high, True, 3, EVIDENCE),
        (CASE.medium, True, 1, EVIDENCE),
        (CASE.low, True, 4, EVIDENCE),
    ]
    row = only_row(one_risk(5, 4, controls))
    assert row["coverage"] == pytest.approx(0.575, abs=1e-12)
    assert row["reduction"] == pytest.approx(0.4025, abs=1e-12)
    assert row["residual_likelihood"] == pytest.approx(2.9875, abs=1e-12)
    assert row["residual"] == pytest.approx(11.95, abs=1e-12)
    assert row["inherent_band"] == "critical"  # 20
    assert row["residual_band"] == "high"  # 11.95
    assert row["controls"] == ";".join(sorted([CASE.high, CASE.medium, CASE.low]))


def test_a_mean_not_a_sum_many_paper_controls_cover_as_one():
    # Every linked control at Nascent: coverage 0.1 whatever their number (not 1 - 0.9^n).
    controls = [(c, True, 1) for c in CASE.linked]
    assert len(controls) >= 3
    row = only_row(one_risk(4, 5, controls))
    assert row["coverage"] == pytest.approx(0.1, abs=1e-12)
    assert row["residual"] == pytest.approx(20 * (1 - 0.07), abs=1e-12)


def test_key_control_weighs_key_control_weight_times_its_strength():
    keyed_risk = next(r for r in KEYED.risks if r.id == CASE.risk)
    assert getattr(keyed_risk, "key_controls", ()) == (CASE.high,)
    controls = [
        (CASE.high, True, 3, EVIDENCE),
        (CASE.medium, True, 1, EVIDENCE),
        (CASE.low, True, 4, EVIDENCE),
    ]
    # CASE.high is key: weight 2 x 0.75 = 1.5. Shares 1.5 x 0.75 + 0.05 + 0.25 = 1.425 over
    # weights 1.5 + 0.5 + 0.25 = 2.25 -> coverage 0.6333..; reduction 0.7 x 19/30.
    row = only_row(one_risk(5, 4, controls, cat=KEYED))
    coverage = 1.425 / 2.25
    assert row["coverage"] == pytest.approx(coverage, abs=1e-12)
    assert row["residual"] == pytest.approx(20 * (1 - 0.7 * coverage), abs=1e-12)
    plain = only_row(one_risk(5, 4, controls))
    assert row["coverage"] > plain["coverage"] + 0.05  # the key control weighs more
    # A key control that is weak pulls the coverage down more than a plain one.
    weak = [(CASE.high, True, 0), (CASE.medium, True, 4, EVIDENCE)]
    keyed = only_row(one_risk(5, 4, weak, cat=KEYED))
    assert keyed["coverage"] == pytest.approx(0.5 / (1.5 + 0.5), abs=1e-12)
    assert only_row(one_risk(5, 4, weak))["coverage"] == pytest.approx(0.5 / 1.25, abs=1e-12)
    # The key weight is read from the method.
    triple = synthetic.with_method(
        KEYED, "k3", rule=PIN.method.rule.model_copy(update={"key_control_weight": 3.0})
    )
    row = only_row(one_risk(5, 4, weak, cat=triple))
    assert row["coverage"] == pytest.approx(0.5 / (2.25 + 0.5), abs=1e-12)


@pytest.mark.parametrize("maturity", [2, 3, 4])
def test_maturity_above_the_evidence_level_without_evidence_is_credited_at_that_level(maturity):
    row = only_row(one_risk(5, 4, [(CASE.high, True, maturity)]))
    assert row["coverage"] == pytest.approx(CREDIT[1], abs=1e-12)  # credited as Nascent
    assert row["residual"] == pytest.approx(20 * (1 - 0.07), abs=1e-12)
    assert row["unevidenced"] == CASE.high
    assert row["controls"] == CASE.high  # it still earns the Nascent credit
    proven = only_row(one_risk(5, 4, [(CASE.high, True, maturity, EVIDENCE)]))
    assert proven["coverage"] == pytest.approx(CREDIT[maturity], abs=1e-12)
    assert proven["unevidenced"] == ""


@pytest.mark.parametrize("blank", ["", "   ", None, float("nan")])
def test_blank_evidence_is_no_evidence(blank):
    row = only_row(one_risk(5, 4, [(CASE.high, True, 3, blank)]))
    assert row["coverage"] == pytest.approx(0.1, abs=1e-12)
    assert row["unevidenced"] == CASE.high


def test_no_evidence_column_means_no_evidence():
    m = ratings(
        CASE.unit_type,
        [(CASE.risk, True, 5, 4)],
        [(CASE.high, True, 3)] + [(c, False, 0) for c in CASE.linked if c != CASE.high],
    )
    reg = score(m.risk_ratings, m.control_ratings.drop(columns="evidence"), m.units, PIN)
    assert only_row(reg)["coverage"] == pytest.approx(0.1, abs=1e-12)


def test_nascent_needs_no_evidence_and_the_level_is_read_from_the_method():
    row = only_row(one_risk(5, 4, [(CASE.high, True, 1)]))
    assert row["coverage"] == pytest.approx(0.1, abs=1e-12)
    assert row["unevidenced"] == ""
    # evidence_required_above 0: even Nascent needs evidence; without it nothing is credited.
    strict = synthetic.with_method(
        PIN, "ev0", rule=PIN.method.rule.model_copy(update={"evidence_required_above": 0})
    )
    row = only_row(one_risk(5, 4, [(CASE.high, True, 2)], cat=strict))
    assert row["coverage"] == 0
    assert row["controls"] == ""
    assert row["unevidenced"] == CASE.high
    # evidence_required_above at the top: nothing is ever capped.
    lax = synthetic.with_method(
        PIN, "ev4", rule=PIN.method.rule.model_copy(update={"evidence_required_above": 4})
    )
    row = only_row(one_risk(5, 4, [(CASE.high, True, 3)], cat=lax))
    assert row["coverage"] == pytest.approx(0.75, abs=1e-12)
    assert row["unevidenced"] == ""


def test_control_rated_not_applicable_leaves_the_denominator():
    # high at 4 (evidenced) and medium rated "does not apply": coverage 0.75 / 0.75 = 1.
    row = only_row(one_risk(5, 4, [(CASE.high, True, 4, EVIDENCE), (CASE.medium, False, 2)]))
    assert row["coverage"] == pytest.approx(1.0, abs=1e-12)
    assert row["controls"] == CASE.high
    # The same medium rated 0 and applicable stays in it: 0.75 / (0.75 + 0.5) = 0.6.
    row = only_row(one_risk(5, 4, [(CASE.high, True, 4, EVIDENCE), (CASE.medium, True, 0)]))
    assert row["coverage"] == pytest.approx(0.6, abs=1e-12)


def test_unrated_linked_controls_count_at_zero():
    # Only CASE.high is rated (4, evidenced); every other linked control is unrated.
    row = only_row(one_risk(5, 4, [(CASE.high, True, 4, EVIDENCE)], isolate=False))
    total = sum(W[CAT.control_by_id[c].mitigates[CASE.risk]] for c in CASE.linked)
    assert total > 0.75
    assert row["coverage"] == pytest.approx(0.75 / total, abs=1e-12)
    # Unrated is the same as rated 0.
    zeros = [(c, True, 0) for c in CASE.linked if c != CASE.high]
    rated = only_row(one_risk(5, 4, [(CASE.high, True, 4, EVIDENCE), *zeros]))
    assert rated["coverage"] == pytest.approx(row["coverage"], abs=1e-12)


def test_control_not_applied_to_the_unit_type_does_not_count():
    base = [(CASE.high, True, 2, EVIDENCE)]
    assert only_row(one_risk(5, 4, base))["coverage"] == pytest.approx(0.4, abs=1e-12)
    for extra in ((CASE.elsewhere, True, 4, EVIDENCE), (CASE.elsewhere, True, 0)):
        row = only_row(one_risk(5, 4, [*base, extra]))
        assert row["coverage"] == pytest.approx(0.4, abs=1e-12)  # neither share nor weight
        assert row["controls"] == CASE.high


def test_control_that_does_not_mitigate_the_risk_does_not_count():
    row = only_row(one_risk(5, 4, [(CASE.high, True, 2, EVIDENCE), (CASE.unrelated, True, 4)]))
    assert row["coverage"] == pytest.approx(0.4, abs=1e-12)
    assert row["controls"] == CASE.high


def test_every_linked_control_rated_not_applicable_gives_no_coverage():
    row = only_row(one_risk(5, 5, [(CASE.high, False, 4, EVIDENCE)]))
    assert row["coverage"] == 0
    assert row["reduction"] == 0
    assert row["residual"] == row["inherent"] == 25
    assert row["controls"] == "" and row["unevidenced"] == ""


def test_coverage_at_the_top_removes_max_reduction_and_no_more():
    controls = [(c, True, 4, EVIDENCE) for c in CASE.linked]
    row = only_row(one_risk(5, 5, controls))
    assert row["coverage"] == pytest.approx(1.0, abs=1e-12)
    assert row["reduction"] == pytest.approx(0.7, abs=1e-12)
    assert row["residual"] == pytest.approx(25 * 0.3, abs=1e-12)  # still medium (7.5)
    assert row["residual_band"] == "medium"
    half = validated(PIN, "mr05", rule=PIN.method.rule.model_copy(update={"max_reduction": 0.5}))
    row = only_row(one_risk(4, 5, controls, cat=half))
    assert row["reduction"] == pytest.approx(0.5, abs=1e-12)
    assert row["residual"] == pytest.approx(10.0, abs=1e-12)


def test_risk_not_applied_to_the_units_type_is_not_scored():
    m = ratings(
        CASE.unit_type,
        [(OTHER_TYPE_RISK, True, 5, 5), (CASE.risk, True, 2, 2)],
        [(CASE.high, True, 4, EVIDENCE)],
    )
    reg = score(m.risk_ratings, m.control_ratings, m.units, PIN)
    assert list(reg["risk_id"]) == [CASE.risk]


def test_not_applicable_risk_is_dropped():
    m = ratings(CASE.unit_type, [(CASE.risk, False, 5, 5)], [(CASE.high, True, 4, EVIDENCE)])
    assert len(score(m.risk_ratings, m.control_ratings, m.units, PIN)) == 0
    other = next(r.id for r in CAT.risks_for(CASE.unit_type) if r.id != CASE.risk)
    m = ratings(CASE.unit_type, [(CASE.risk, False, 5, 5), (other, True, 2, 2)], [])
    reg = score(m.risk_ratings, m.control_ratings, m.units, PIN)
    assert list(reg["risk_id"]) == [other]
    assert list(reg.columns) == SCORE_COLUMNS


def test_controls_and_unevidenced_columns_list_ids_sorted():
    controls = [
        (CASE.medium, True, 1),  # credited 1: listed, not short of evidence
        (CASE.high, True, 3),  # claimed 3, credited 1: listed and unevidenced
        (CASE.low, True, 2, EVIDENCE),  # credited 2
        (CASE.elsewhere, True, 4),  # not for the type
        (CASE.unrelated, True, 2),  # not on the risk
    ]
    row = only_row(one_risk(4, 4, controls))
    assert row["controls"] == ";".join(sorted([CASE.medium, CASE.high, CASE.low]))
    assert row["unevidenced"] == CASE.high


def test_contributions_lists_crediting_controls_per_risk():
    m = ratings(
        CASE.unit_type,
        [(CASE.risk, True, 4, 4)],
        [(CASE.high, True, 3), (CASE.medium, True, 0), (CASE.low, False, 4, EVIDENCE)],
    )
    out = contributions(m.control_ratings, m.units, PIN)
    mine = out[out["risk_id"] == CASE.risk].set_index("control_id")
    assert list(mine.index) == [CASE.high]  # medium credits 0; low does not apply
    assert mine.loc[CASE.high, "maturity"] == 3
    assert mine.loc[CASE.high, "credited"] == 1
    assert mine.loc[CASE.high, "credit"] == pytest.approx(0.1)
    assert (out["credited"] > 0).all()


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


# --------------------------------------------------------------------------- bands


def test_band_ids_at_exact_thresholds():
    scores = [0, 1, 4.999999, 5, 5.000001, 9.999, 10, 14.99, 15, 25, -1]
    expected = ["low", "low", "low", "medium", "medium", "medium"]
    expected += ["high", "high", "critical", "critical", "low"]
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


HALF = validated(PIN, "mr05", rule=PIN.method.rule.model_copy(update={"max_reduction": 0.5}))


@pytest.mark.parametrize(
    ("likelihood", "residual", "band"), [(2, 5.0, "medium"), (4, 10.0, "high")]
)
def test_residual_band_at_exact_threshold(likelihood, residual, band):
    # max_reduction 0.5, one control at Leading with evidence: coverage 0.75 / 0.75 = 1, half
    # the likelihood removed exactly; impact 5.
    row = only_row(one_risk(likelihood, 5, [(CASE.high, True, 4, EVIDENCE)], cat=HALF))
    assert row["residual_likelihood"] == likelihood / 2
    assert row["residual"] == residual
    assert row["residual_band"] == band


# A declared risk matrix: likelihood level -> bands for impact 1..5 (None: thresholds).
MATRIX = {
    1: ("low", "low", "low", None, None),
    2: ("low", "low", None, None, "critical"),
    3: ("low", "high", None, None, None),
    4: (None, "high", None, None, None),
    5: (None, None, None, None, None),
}
DECLARED = validated(PIN, "matrix", band_matrix=MATRIX)
DECLARED_HALF = validated(HALF, "matrix", band_matrix=MATRIX)


def test_declared_matrix_is_a_valid_method():
    assert DECLARED.method.band_matrix[2][4] == "critical"
    broken = {**MATRIX, 3: ("low", "high", None, None, "low")}  # below (2, 5) critical
    with pytest.raises(ValueError, match="more likely or more severe"):
        validated(PIN, "broken", band_matrix=broken)


@pytest.mark.parametrize(
    ("likelihood", "impact", "threshold_band", "declared_band"),
    [
        (2, 5, "high", "critical"),  # 10: declared cell overrides the thresholds
        (3, 2, "medium", "high"),  # 6
        (2, 2, "low", "low"),
        (3, 3, "medium", "medium"),  # 9: null cell, thresholds decide
        (5, 4, "critical", "critical"),  # 20: null cell
        (1, 5, "medium", "medium"),  # 5: null cell
    ],
)
def test_declared_matrix_cells_override_thresholds(
    likelihood, impact, threshold_band, declared_band
):
    assert only_row(one_risk(likelihood, impact))["inherent_band"] == threshold_band
    row = only_row(one_risk(likelihood, impact, cat=DECLARED))
    assert row["inherent_band"] == declared_band
    assert row["residual_band"] == declared_band  # no control


def test_declared_matrix_reads_the_residual_likelihood_rounded_half_up():
    # Likelihood 5, impact 2, one control at Leading with evidence, max_reduction 0.5:
    # residual likelihood 2.5 exactly -> row 3, cell (3, 2) declared high; the thresholds
    # would say medium (residual 5) and row 2 would say low.
    row = only_row(one_risk(5, 2, [(CASE.high, True, 4, EVIDENCE)], cat=DECLARED_HALF))
    assert row["residual_likelihood"] == 2.5
    assert row["residual"] == 5.0
    assert row["residual_band"] == "high"
    assert row["inherent_band"] == "high"  # (5, 2): null cell, score 10
    assert (
        only_row(one_risk(5, 2, [(CASE.high, True, 4, EVIDENCE)], cat=HALF))["residual_band"]
        == "medium"
    )
    # Directly: 2.4999 rounds to 2, 2.5 to 3, 1.5 to 2, 0.6 to 1 (off-scale levels clip).
    lik = np.array([2.4999, 2.5, 1.5, 0.6, 0.2, 3.5])
    imp = np.array([2, 2, 5, 1, 3, 2])
    scores = lik * imp
    want = ["low", "high", "critical", "low", "low", "high"]
    assert list(band_ids(DECLARED, scores, lik, imp)) == want
    assert [
        oracle.band_of(s, DECLARED, li, im) for s, li, im in zip(scores, lik, imp, strict=True)
    ] == want
    # Without likelihood and impact (a roll-up's maximum) only the thresholds apply.
    assert list(band_ids(DECLARED, scores)) == [oracle.band_of(s, PIN) for s in scores]


# --------------------------------------------------------------------------- properties

RISK_IDS = [r.id for r in CAT.risks]
TYPE_IDS = [t.id for t in CAT.unit_types]
MITIGATORS = {r: [c.id for c in CAT.controls if r in c.mitigates] for r in RISK_IDS}
# Two key controls on every risk (the first two that mitigate it), for the property tests.
KEYS_EVERYWHERE = with_key_controls(CAT, "keys", {r: tuple(MITIGATORS[r][:2]) for r in RISK_IDS})


@st.composite
def ministries(draw, max_units: int = 4):
    """Small random ministries with evidence; risks and controls lean towards ones that meet."""
    n_units = draw(st.integers(1, max_units))
    applicable = st.sampled_from([True, True, True, True, False])
    lik = st.integers(CAT.method.likelihood.min, CAT.method.likelihood.max)
    imp = st.integers(CAT.method.impact.min, CAT.method.impact.max)
    mat = st.integers(0, CAT.method.maturity.max)
    evidence = st.sampled_from(["", EVIDENCE, EVIDENCE, None, " "])
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
            controls.append((uid, c, draw(applicable), draw(mat), draw(evidence)))
    m = synthetic.small(units, risks, [c[:4] for c in controls])
    cr = m.control_ratings.assign(evidence=[c[4] for c in controls])
    return dataclasses.replace(m, control_ratings=cr)


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
                # A score within rounding of a threshold (or a residual likelihood within
                # rounding of a half level) may fall either side.
                near = min(abs(g[key.replace("_band", "")] - t) for t in thresholds) < 1e-9
                lik = g["residual_likelihood"] if key == "residual_band" else g["likelihood"]
                half = abs(lik - math.floor(lik) - 0.5) < 1e-9
                assert g[key] == value or near or half, (key, g, w)
            else:
                assert g[key] == value, (key, g, w)


def test_oracle_agrees_on_a_synthetic_ministry():
    m = synthetic.ministry(CAT, units=60, seed=3)
    assert m.control_ratings["evidence"].eq("").any()  # some ratings lack evidence
    assert_agrees(m.risk_ratings, m.control_ratings, m.units, CAT)
    assert_agrees(m.risk_ratings, m.control_ratings, m.units, KEYS_EVERYWHERE)
    reg = score(m.risk_ratings, m.control_ratings, m.units, CAT)
    assert (reg["unevidenced"] != "").any()  # the evidence cap is exercised
    assert (reg["coverage"] > 0).any()


@PROPS
@given(ministries())
def test_vectorised_score_agrees_with_oracle(m):
    assert_agrees(m.risk_ratings, m.control_ratings, m.units, CAT)


_DRAWN = itertools.count()


@st.composite
def methods(draw):
    """A random valid method (validated as a loaded one), with key controls on every risk."""
    weights = sorted(draw(st.lists(st.floats(0.01, 1.0), min_size=3, max_size=3)))
    inner = sorted(draw(st.lists(st.floats(0.01, 0.99), min_size=3, max_size=3, unique=True)))
    assume(all(b - a > 1e-6 for a, b in itertools.pairwise(inner)))
    credit = dict(zip(range(5), [0.0, *inner, 1.0], strict=True))
    rule = Rule(
        max_reduction=draw(st.floats(0.05, 0.95)),
        credit=credit,
        evidence_required_above=draw(st.integers(0, 4)),
        key_control_weight=draw(st.floats(1.0, 4.0)),
    )
    mins = sorted(draw(st.lists(st.floats(0.5, 24.5), min_size=3, max_size=3, unique=True)))
    assume(all(b - a > 1e-6 for a, b in itertools.pairwise(mins)))
    targets = sorted(draw(st.lists(st.integers(0, 4), min_size=4, max_size=4)))
    bands = tuple(
        b.model_copy(update={"min": lo, "target_maturity": t})
        for b, lo, t in zip(PIN.method.bands, [0.0, *mins], targets, strict=True)
    )
    matrix = draw(st.sampled_from([None, MATRIX]))
    return validated(
        KEYS_EVERYWHERE,
        f"rand{next(_DRAWN)}",
        strengths=dict(zip(["low", "medium", "high"], weights, strict=True)),
        rule=rule.model_dump(),
        bands=[b.model_dump() for b in bands],
        band_matrix=matrix,
    )


@PROPS
@given(ministries(max_units=2), methods())
def test_vectorised_score_agrees_with_oracle_under_any_method(m, cat):
    assert_agrees(m.risk_ratings, m.control_ratings, m.units, cat)


@PROPS
@given(ministries(), methods())
def test_residual_is_bounded_by_inherent_and_max_reduction(m, cat):
    reg = score(m.risk_ratings, m.control_ratings, m.units, cat)
    top = cat.method.rule.max_reduction
    assert (reg["coverage"] >= -1e-12).all() and (reg["coverage"] <= 1 + 1e-12).all()
    assert (reg["reduction"] >= -1e-12).all()
    assert (reg["reduction"] <= top + 1e-12).all()
    assert (reg["residual"] <= reg["inherent"] + 1e-12).all()
    assert (reg["residual"] >= reg["inherent"] * (1 - top) - 1e-12).all()
    assert (reg["residual_likelihood"] <= reg["likelihood"] + 1e-12).all()
    # Impact is never reduced: residual = residual likelihood x impact.
    assert np.allclose(reg["residual"], reg["residual_likelihood"] * reg["impact"], atol=1e-12)


@PROPS
@given(ministries(), methods(), st.data())
def test_raising_maturity_with_evidence_never_raises_any_residual(m, cat, data):
    cr = m.control_ratings
    assume(len(cr) > 0)
    i = data.draw(st.integers(0, len(cr) - 1))
    top = CAT.method.maturity.max
    new_level = data.draw(st.integers(int(cr.loc[i, "maturity"]), top))
    raised = cr.copy()
    raised.loc[i, "maturity"] = new_level
    raised.loc[i, "evidence"] = EVIDENCE
    before = score(m.risk_ratings, cr, m.units, cat)
    after = score(m.risk_ratings, raised, m.units, cat)
    assert list(before["risk_id"]) == list(after["risk_id"])
    assert list(before["unit_code"]) == list(after["unit_code"])
    assert (after["residual"].to_numpy() <= before["residual"].to_numpy() + 1e-12).all()
    assert (after["coverage"].to_numpy() >= before["coverage"].to_numpy() - 1e-12).all()


@PROPS
@given(ministries(), st.data())
def test_raising_maturity_without_evidence_never_raises_any_residual(m, data):
    cr = m.control_ratings
    assume(len(cr) > 0)
    i = data.draw(st.integers(0, len(cr) - 1))
    raised = cr.copy()
    raised.loc[i, "maturity"] = data.draw(st.integers(int(cr.loc[i, "maturity"]), 4))
    before = score(m.risk_ratings, cr, m.units, CAT)["residual"].to_numpy()
    after = score(m.risk_ratings, raised, m.units, CAT)["residual"].to_numpy()
    assert (after <= before + 1e-12).all()


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
                "unit_code": u,
                "unit": f"Unit {u}",
                "unit_type": t,
                "region": reg,
                "risk_id": r,
                "risk": risk[r].title,
                "stage": risk[r].stage,
                "likelihood": 4,
                "impact": 5,
                "inherent": inh,
                "coverage": 0.0,
                "reduction": 0.0,
                "residual_likelihood": res / 5,
                "residual": res,
                "inherent_band": oracle.band_of(inh, PIN),
                "residual_band": band,
                "controls": "",
                "unevidenced": "",
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
    assert list(out["unit_code"]) == ["B", "A", "C"]  # most exposed first
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
    assert len(out) == reg["unit_code"].nunique()
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
    return set(flags.loc[flags["flag"] == kind, "unit_code"])


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
    assert list(flags["unit_code"]) == ["P0"]
    assert flags.loc[0, "detail"].startswith("impact 1 vs median 3")


def test_outlier_median_is_of_the_peers_not_including_the_unit():
    # P0 rates 1; its three peers rate 2, 3, 3 (median 3): two levels away, so flagged, as
    # method.yaml and the flag's own text ("median of N peer units") say. A median taken
    # with P0 itself in it (1, 2, 3, 3 -> 2.5) would hide the outlier. P1 (peers 1, 3, 3)
    # and P2, P3 (peers 1, 2, 3) are within one level of their peers' median.
    flags = outliers(peer_register([1, 2, 3, 3]), PIN)
    assert list(flags["detail"]) == ["likelihood 1 vs median 3 of 3 peer units"]
    assert list(flags["unit_code"]) == ["P0"]
    # An even number of peers: the median is the mean of the middle two (P0: 3, 3, 1, 1 -> 2).
    flags = outliers(peer_register([5, 3, 3, 1, 1]), PIN)
    assert "likelihood 5 vs median 2 of 4 peer units" in set(flags["detail"])


def test_calibration_thresholds_are_read_from_the_method():
    # Three levels needed instead of two: P3 (2 vs 4) is no longer an outlier, P3 at 1 is.
    loose = synthetic.with_method(
        PIN, "out3", calibration=PIN.method.calibration.model_copy(update={"outlier_levels": 3})
    )
    assert outliers(peer_register([4, 4, 4, 2]), loose).empty
    assert set(outliers(peer_register([4, 4, 4, 1]), loose)["unit_code"]) == {"P3"}


@PROPS
@given(
    st.lists(
        st.tuples(st.sampled_from([TYPE_A, TYPE_B]), st.integers(1, 5), st.integers(1, 5)),
        min_size=1,
        max_size=12,
    )
)
def test_outlier_flags_agree_with_oracle(ratings_):
    # Every unit rates the same risk id (whether or not the catalogue applies it to the type).
    m = synthetic.small(
        units=[(f"P{i:02d}", t) for i, (t, _, _) in enumerate(ratings_)],
        risks=[(f"P{i:02d}", CASE.risk, True, lk, im) for i, (_, lk, im) in enumerate(ratings_)],
    )
    reg = score(m.risk_ratings, m.control_ratings, m.units, PIN)
    flags = outliers(reg, PIN)
    got = {(u, r, d.split()[0]) for u, r, d in flags[["unit_code", "risk_id", "detail"]].values}
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
    assert list(flags["unit_code"]) == ["U1"]
    assert flags.loc[0, "detail"] == "likelihood 2 but 1 recorded incident(s) on this risk"
    none = contradicted(reg, m.incidents[m.incidents["unit_code"] == "U2"], PIN)
    assert none.empty


def test_calibration_flags_combines_both_and_sorts():
    reg = peer_register([4, 4, 4, 2])
    incidents = pd.DataFrame({"unit_code": ["P3", "P0"], "risk_id": [CASE.risk, CASE.risk]})
    flags = calibration_flags(reg, incidents, PIN)
    assert _records(flags, ["unit_code", "flag"]) == [("P3", "contradicted"), ("P3", "outlier")]
    assert list(calibration_flags(reg, None, PIN)["flag"]) == ["outlier"]


def test_names_per_pair_join_each_pairs_ids_in_edge_order_in_or_out_of_pair_order():
    import numpy as np

    from riskmap.scoring.residual import _names_per_pair

    ids = np.array(["a", "b", "c", "d", "e"], dtype=object)
    in_order = _names_per_pair(ids, np.array([0, 0, 2, 2, 2]), 4)
    assert list(in_order) == ["a;b", "", "c;d;e", ""]
    shuffled = _names_per_pair(ids, np.array([2, 0, 2, 0, 3]), 4)
    assert list(shuffled) == ["b;d", "", "a;c", "e"]
    assert list(_names_per_pair(ids[:0], np.array([], dtype=int), 2)) == ["", ""]
