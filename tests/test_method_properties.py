"""The method's properties on meaning (issue "method v2"): what a band should be.

Each test states one property an integrity expert would ask of the residual rule or the
planner, on the shipped method and catalogue, over every unit type and risk scenario (or a
hypothesis draw where the space is too large). They are the reasons the rule was chosen
(docs/decisions/0001-residual-method.md), so a retuned method.yaml that breaks one fails here.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import synthetic
from riskmap.catalogue import load_catalogue
from riskmap.catalogue.models import Method
from riskmap.planning import gaps, plan, select
from riskmap.scoring import score
from riskmap.scoring.exposure import suggested_likelihood, underrated_for_exposure
from riskmap.scoring.sensitivity import sensitivity

CAT = load_catalogue()
METHOD = CAT.method
RANK = METHOD.band_rank()
TOP = METHOD.maturity.max
EVIDENCE_LEVEL = METHOD.rule.evidence_required_above
PROPS = settings(
    max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
CRITICAL = METHOD.bands[-1]
CRITICAL_CELLS = [
    (lik, imp)
    for lik in METHOD.likelihood.levels
    for imp in METHOD.impact.levels
    if lik * imp >= CRITICAL.min
]


def _one_unit(unit_type: str, maturity: int, evidence: str, cells=CRITICAL_CELLS):
    """One unit per critical (likelihood, impact) cell, every risk of the type rated at it,
    every control of the type at `maturity` with `evidence`."""
    units, risks, controls = [], [], []
    for n, (lik, imp) in enumerate(cells):
        uid = f"U{n}"
        units.append((uid, f"Unit {n}", unit_type))
        risks += [(uid, r.id, True, lik, imp) for r in CAT.risks_for(unit_type)]
        controls += [(uid, c.id, True, maturity, evidence) for c in CAT.controls_for(unit_type)]
    return (
        pd.DataFrame(risks, columns=["unit_code", "risk_id", "applicable", "likelihood", "impact"]),
        pd.DataFrame(
            controls, columns=["unit_code", "control_id", "applicable", "maturity", "evidence"]
        ),
        pd.DataFrame(units, columns=["unit_code", "unit", "unit_type"]),
    )


def _bands_dropped(register: pd.DataFrame) -> pd.Series:
    return register["inherent_band"].map(RANK) - register["residual_band"].map(RANK)


@pytest.mark.parametrize("unit_type", [t.id for t in CAT.unit_types])
@pytest.mark.parametrize("evidence", ["", "policy document"])
def test_paper_is_not_protection(unit_type, evidence):
    """Every control of the type on paper (Nascent): a critical cell drops at most one band."""
    reg = score(*_one_unit(unit_type, 1, evidence), CAT)
    assert len(reg) and (reg["inherent_band"] == CRITICAL.id).all()
    assert _bands_dropped(reg).max() <= 1, reg.loc[_bands_dropped(reg) > 1, ["risk_id"]]


@PROPS
@given(data=st.data())
def test_the_number_of_weak_controls_does_not_drive_the_residual_down(data):
    """Ten paper controls cover a risk exactly as well as one: add or drop controls at the same
    level and the residual does not move."""
    t = data.draw(st.sampled_from([t.id for t in CAT.unit_types]))
    level = data.draw(st.integers(0, TOP))
    risks, controls, units = _one_unit(t, level, "evidence on file", [(5, 4)])
    full = score(risks, controls, units, CAT).set_index("risk_id")["residual"]
    keep = data.draw(st.lists(st.booleans(), min_size=len(controls), max_size=len(controls)))
    # Dropped controls are rated "does not apply"; the rest keep the same level.
    fewer = controls.assign(applicable=keep)
    part = score(risks, fewer, units, CAT).set_index("risk_id")
    covered = part["controls"] != ""
    if level == 0:
        covered = part["coverage"] >= 0  # nothing credits: every residual is the inherent
    assert np.allclose(part.loc[covered, "residual"], full[covered.index[covered]], atol=1e-9)


@pytest.mark.parametrize("unit_type", [t.id for t in CAT.unit_types])
def test_real_controls_earn_real_credit(unit_type):
    """Every control of the type Leading and evidenced: a critical cell drops two bands or more."""
    reg = score(*_one_unit(unit_type, TOP, "indicators and review reports"), CAT)
    assert _bands_dropped(reg).min() >= 2, reg.loc[_bands_dropped(reg) < 2, ["risk_id"]]


def test_the_floor_of_a_severe_almost_certain_risk_is_medium():
    """What the floor means (docs/methodology.md): controls remove at most `max_reduction`
    of the likelihood, so a likelihood-5, impact-5 risk never falls below medium."""
    reg = score(*_one_unit("border_control", TOP, "reports", [(5, 5)]), CAT)
    floor = 5 * (1 - METHOD.rule.max_reduction) * 5
    assert reg["residual"].min() == pytest.approx(floor)
    assert (reg["residual_band"] == "medium").all()


def _random_ratings(data, unit_type: str):
    risks = [
        ("U1", r.id, True, data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5)))
        for r in CAT.risks_for(unit_type)
    ]
    controls = [
        (
            "U1",
            c.id,
            data.draw(st.booleans().map(lambda b: b or True)),
            data.draw(st.integers(0, TOP)),
            data.draw(st.sampled_from(["", "minutes"])),
        )
        for c in CAT.controls_for(unit_type)
    ]
    return (
        pd.DataFrame(risks, columns=["unit_code", "risk_id", "applicable", "likelihood", "impact"]),
        pd.DataFrame(
            controls, columns=["unit_code", "control_id", "applicable", "maturity", "evidence"]
        ),
        pd.DataFrame([("U1", "Unit", unit_type)], columns=["unit_code", "unit", "unit_type"]),
    )


@PROPS
@given(data=st.data())
def test_every_maturity_step_counts(data):
    """Raising any evidenced control one level strictly lowers the residual of every risk it
    mitigates that is above the lowest band; no residual rises; residual <= inherent."""
    t = data.draw(st.sampled_from([t.id for t in CAT.unit_types]))
    risks, controls, units = _random_ratings(data, t)
    controls["evidence"] = "records"
    below = controls.index[controls["maturity"] < TOP]
    if not len(below):
        return
    i = data.draw(st.sampled_from(list(below)))
    before = score(risks, controls, units, CAT).set_index("risk_id")
    raised = controls.copy()
    raised.loc[i, "maturity"] += 1
    after = score(risks, raised, units, CAT).set_index("risk_id")
    assert (after["residual"] <= before["residual"] + 1e-12).all()
    assert (before["residual"] <= before["inherent"] + 1e-12).all()
    control = CAT.control_by_id[controls.loc[i, "control_id"]]
    lowest = METHOD.bands[0].id
    for risk_id in before.index:
        if risk_id in control.mitigates and before.loc[risk_id, "residual_band"] != lowest:
            assert after.loc[risk_id, "residual"] < before.loc[risk_id, "residual"] - 1e-12


@pytest.mark.parametrize("claimed", range(EVIDENCE_LEVEL + 1, TOP + 1))
def test_credit_needs_evidence(claimed):
    """A level above the evidence level with no evidence counts as that level, and the register
    names the control as unevidenced."""
    risks, controls, units = _one_unit("labour_inspection", EVIDENCE_LEVEL, "", [(4, 4)])
    at_level = score(risks, controls, units, CAT).set_index("risk_id")
    claimed_bare = score(risks, controls.assign(maturity=claimed), units, CAT).set_index("risk_id")
    shown = score(
        risks, controls.assign(maturity=claimed, evidence="inspection logs"), units, CAT
    ).set_index("risk_id")
    assert np.allclose(claimed_bare["residual"], at_level["residual"])
    assert (shown["residual"] < claimed_bare["residual"]).all()
    assert (claimed_bare["unevidenced"] != "").all() and (shown["unevidenced"] == "").all()
    assert (at_level["unevidenced"] == "").all()


def test_exposure_moves_the_suggested_likelihood():
    """A unit a level more exposed than its type's profile is suggested one level more."""
    t = CAT.unit_type_by_id["labour_inspection"]
    typical = dict(t.exposure)
    more = {k: min(5, v + 1) for k, v in typical.items()}
    less = {k: max(1, v - 1) for k, v in typical.items()}
    assert suggested_likelihood(3, typical, t.id, CAT) == 3
    assert suggested_likelihood(3, None, t.id, CAT) == 3
    if sum(more.values()) - sum(typical.values()) >= METHOD.exposure_rule.shift_at * len(more):
        assert suggested_likelihood(3, more, t.id, CAT) == 4
    if sum(typical.values()) - sum(less.values()) >= METHOD.exposure_rule.shift_at * len(less):
        assert suggested_likelihood(3, less, t.id, CAT) == 2
    assert suggested_likelihood(METHOD.likelihood.max, {k: 5 for k in typical}, t.id, CAT) <= 5
    assert suggested_likelihood(METHOD.likelihood.min, {k: 1 for k in typical}, t.id, CAT) >= 1


def test_a_highly_exposed_unit_rating_a_risk_unlikely_is_flagged():
    """Flagged: high exposure, likelihood at most the threshold, and below what the unit's
    profile suggests. Not flagged: the catalogue's own default for a type, or a unit
    below the exposure threshold."""
    cal = METHOD.calibration
    t = "labour_inspection"
    # A risk whose default the exposed unit's profile would raise above the threshold.
    risk = min(CAT.risks_for(t), key=lambda r: r.defaults[t].likelihood)
    default = risk.defaults[t].likelihood
    typical = sum(CAT.unit_type_by_id[t].exposure.values()) / len(CAT.unit_type_by_id[t].exposure)
    reg = pd.DataFrame(
        [
            ("U1", t, risk.id, cal.exposed_max_likelihood),  # very exposed, rated low
            ("U2", t, risk.id, cal.exposed_max_likelihood),  # not exposed enough
            ("U3", t, risk.id, default),  # the catalogue default of a typical unit
        ],
        columns=["unit_code", "unit_type", "risk_id", "likelihood"],
    )
    units = pd.DataFrame(
        [("U1", 5.0), ("U2", cal.exposed_min_index - 0.5), ("U3", typical)],
        columns=["unit_code", "exposure_index"],
    )
    flags = underrated_for_exposure(reg, units, CAT)
    expected = [("U1", risk.id)] if min(5, default + 1) > cal.exposed_max_likelihood else []
    assert expected, "the case needs a default the exposure rule lifts above the threshold"
    assert list(zip(flags["unit_code"], flags["risk_id"], strict=True)) == expected
    assert (flags["flag"] == "exposed").all()


def test_a_declared_band_matrix_decides_the_cells_it_declares():
    """Declared cells override the thresholds; null cells keep them; between two levels the
    residual likelihood is read at the nearest level."""
    matrix = {lik: (None,) * 5 for lik in range(1, 6)}
    matrix[5] = ("medium", "high", "critical", "critical", "critical")
    matrix[2] = (None, None, None, None, "critical")
    data = METHOD.model_dump()
    data["band_matrix"] = matrix
    data["rationale"]["band_matrix"] = "The ministry's published matrix."
    cat = CAT.model_copy(update={"method": Method.model_validate(data)})
    risks, controls, units = _one_unit("border_control", 1, "", [(5, 1), (5, 3), (2, 5), (4, 1)])
    reg = score(risks, controls, units, cat)
    by_unit = reg.groupby("unit_code")
    inherent = by_unit["inherent_band"].first().to_dict()
    # (5,1) medium as declared (threshold: medium); (5,3) critical; (2,5) critical as declared
    # (threshold: high); (4,1) not declared: low by threshold.
    assert inherent == {"U0": "medium", "U1": "critical", "U2": "critical", "U3": "low"}
    # Paper controls leave likelihood 5 at 4.65, read as level 5: the declared medium,
    # where the threshold alone would say low (4.65 x 1 < 5).
    u0 = reg[reg["unit_code"] == "U0"]
    assert (u0["residual_likelihood"] > 4.5).all()
    assert (u0["residual_band"] == "medium").all()
    plain = score(risks, controls, units, CAT)
    assert (plain.loc[plain["unit_code"] == "U0", "residual_band"] == "low").all()
    assert (plain.loc[plain["unit_code"] == "U2", "inherent_band"] == "high").all()
    matrix[3] = ("low", "low", "low", "low", "low")
    with pytest.raises(ValueError, match="above a more likely"):
        Method.model_validate({**data, "band_matrix": matrix})


def test_every_number_of_the_method_has_a_reason():
    params = METHOD.parameters()
    assert len(params) >= 30
    assert all(p.rationale.strip() for p in params)
    data = METHOD.model_dump()
    del data["rationale"]["rule.max_reduction"]
    with pytest.raises(ValueError, match="no rationale for \\['rule.max_reduction'\\]"):
        Method.model_validate(data)


def test_sensitivity_moves_one_number_at_a_time():
    m = synthetic.ministry(CAT, units=40, seed=3)
    table = sensitivity(m.risk_ratings, m.control_ratings, m.units, CAT).set_index(
        ["parameter", "moved_to"]
    )
    base = score(m.risk_ratings, m.control_ratings, m.units, CAT)["residual_band"].value_counts()
    first = table.iloc[0]
    for b in METHOD.bands:
        assert first[f"n_{b.id}"] == base.get(b.id, 0)
    lo, hi = METHOD.rule.max_reduction - 0.05, METHOD.rule.max_reduction + 0.05
    # More reduction never leaves more critical cells; less never leaves fewer.
    assert table.loc[("rule.max_reduction", round(hi, 10)), "change_critical"] <= 0
    assert table.loc[("rule.max_reduction", round(lo, 10)), "change_critical"] >= 0
    # A lower critical threshold makes more cells critical.
    crit = CRITICAL.min
    assert table.loc[(f"bands.{CRITICAL.id}.min", crit - 1), "change_critical"] >= 0
    # The count of cells never changes, only their bands.
    counts = table[[f"n_{b.id}" for b in METHOD.bands]].dropna()
    assert (counts.sum(axis=1) == len(m.risk_ratings[m.risk_ratings["applicable"]])).all()


# --------------------------------------------------------------------------- the planner


@pytest.fixture(scope="module")
def ministry():
    m = synthetic.ministry(CAT, units=60, seed=11)
    reg = score(m.risk_ratings, m.control_ratings, m.units, CAT)
    return m, reg


def test_the_plan_uses_the_budget(ministry):
    """After the selection, no move left out that could still be taken fits what is left."""
    m, reg = ministry
    for budget in (37.0, 150.0, 400.0):
        p = plan(reg, m.control_ratings, m.units, m.risk_ratings, CAT, budget_days=budget)
        ranking = p.ranking
        left = budget - ranking.loc[ranking["selected"], "effort_days"].sum()
        assert left >= -1e-9
        reached = {}
        start = gaps(reg, m.control_ratings, m.units, CAT).set_index(["unit_code", "control_id"])
        for row in ranking[ranking["selected"]].itertuples():
            reached[(row.unit_code, row.control_id)] = row.to_level
        for row in ranking[~ranking["selected"]].itertuples():
            key = (row.unit_code, row.control_id)
            level = reached.get(key, start.loc[key, "from_level"])
            if level == row.from_level:  # the move could be taken next
                assert row.effort_days > left + 1e-9, (key, row.effort_days, left)


def test_select_never_skips_a_level():
    ranking = pd.DataFrame(
        {
            "unit_code": ["U1", "U2", "U1", "U2"],
            "control_id": ["a", "b", "a", "b"],
            "from_level": [0, 1, 3, 2],
            "to_level": [3, 2, 4, 3],
            "effort_days": [30.0, 50.0, 10.0, 5.0],
            "cost": [0.0, 0.0, 0.0, 0.0],
        }
    )
    chosen, prefix = select(ranking, 45.0, None)
    # Prefix: a 0->3 (30); b 1->2 (50) does not fit; a 3->4 (10) fits; b 2->3 needs b 1->2.
    assert prefix == 1
    assert chosen.tolist() == [True, False, True, False]


def test_a_critical_residual_risk_gets_a_90_day_action(ministry):
    m, reg = ministry
    assert (reg["residual_band"] == CRITICAL.id).any()
    p = plan(reg, m.control_ratings, m.units, m.risk_ratings, CAT, start=date(2026, 1, 1))
    ranking = p.ranking
    critical = ranking[ranking["band"] == CRITICAL.id]
    assert len(critical)
    assert set(critical["due_date"]) == {
        date(2026, 1, 1) + pd.Timedelta(days=CRITICAL.deadline_days)
    }
    assert (critical["to_level"] <= CRITICAL.target_maturity).all()


def hot_cells_without_a_move(register: pd.DataFrame, ranking: pd.DataFrame) -> list[tuple]:
    """High or critical cells that no ranked move with a gain addresses."""
    ranked = ranking[ranking["residual_removed"] > 0]
    covered = {
        (u, r)
        for u, rs in zip(ranked["unit_code"], ranked["risks"], strict=True)
        for r in rs.split(";")
    }
    hot = register[register["residual_band"].isin(["high", "critical"])]
    assert len(hot)
    return [k for k in zip(hot["unit_code"], hot["risk_id"], strict=True) if k not in covered]


def test_every_high_or_critical_cell_has_a_ranked_move_with_a_gain(ministry):
    m, reg = ministry
    p = plan(reg, m.control_ratings, m.units, m.risk_ratings, CAT)
    assert not hot_cells_without_a_move(reg, p.ranking)


def test_fewest_critical_cells_first(ministry):
    """The critical-first objective leaves no more critical cells than most-residual-removed
    on the same budget, and spends on critical cells first."""
    m, reg = ministry
    args = (reg, m.control_ratings, m.units, m.risk_ratings, CAT)
    most = plan(*args, budget_days=120.0, objective="residual")
    crit = plan(*args, budget_days=120.0, objective="critical_high")
    assert crit.summary["critical_after"] <= most.summary["critical_after"]
    assert crit.summary["critical_after"] < crit.summary["critical_before"]
    # Its first action brings a cell out of a band or removes risk from a critical cell.
    assert crit.actions["band"].iloc[0] in ("critical", "high")
    assert crit.summary["best_possible_at_most"] is None
    assert most.summary["best_possible_at_most"] >= most.summary["residual_removed"] - 1e-9


# --------------------------------------------------------------------------- the demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from riskmap import security
    from riskmap import service as s
    from riskmap.demo import build_demo
    from riskmap.service import Service

    n, security.N = security.N, 2**4
    try:
        url = f"sqlite:///{tmp_path_factory.mktemp('demo')}/demo.sqlite"
        with Service.open(url) as svc:
            build_demo(svc, units=24)
            reg = s.register(svc, s.CLI_ADMIN, "2026")
            frames = s.cycle_frames(svc, s.CLI_ADMIN, "2026")
    finally:
        security.N = n
    return reg, frames


def test_the_demo_is_plausible_under_the_method(demo):
    reg, f = demo
    at_floor = (reg["reduction"] >= METHOD.rule.max_reduction - 1e-12).mean()
    assert at_floor <= 0.15
    assert (reg["residual_band"] == CRITICAL.id).any()
    p = plan(reg, f.control_ratings, f.units, f.risk_ratings, CAT, budget_days=200.0)
    assert (p.actions["band"] == CRITICAL.id).any()
    assert (p.actions["due_date"] - date.today()).map(
        lambda d: d.days
    ).min() <= CRITICAL.deadline_days
    assert not hot_cells_without_a_move(reg, p.ranking)


# --------------------------------------------------------------------------- exposure, seen


def test_the_walkthrough_suggests_a_likelihood_from_the_units_exposure(sqlite_url, monkeypatch):
    """Property 5, through the service: a unit clearly more exposed than its type's profile
    starts one likelihood level higher, one clearly less exposed one lower, and the
    calibration flags name the exposed unit that rates a risk unlikely."""
    from riskmap import security
    from riskmap import service as s
    from riskmap.service import CLI_ADMIN, Service

    monkeypatch.setattr(security, "N", 2**4)
    t = CAT.unit_type_by_id["labour_inspection"]
    more = {k: 5 for k in t.exposure}
    less = {k: 1 for k in t.exposure}
    with Service.open(sqlite_url, catalogue=CAT) as svc:
        s.set_up_organisation(svc, CLI_ADMIN, "Test ministry")
        s.add_user(svc, CLI_ADMIN, "olga", "officer", "olga-password")
        s.add_unit(svc, CLI_ADMIN, "LI-T", "Typical", t.id)
        s.add_unit(svc, CLI_ADMIN, "LI-X", "Exposed", t.id, exposure=more)
        s.add_unit(svc, CLI_ADMIN, "LI-Q", "Quiet", t.id, exposure=less)
        s.start_cycle(svc, "olga", "2026", how="empty")
        ratings = {
            u: s.risk_ratings(svc, "olga", "2026", unit=u).set_index("risk_id")["likelihood"]
            for u in ("LI-T", "LI-X", "LI-Q")
        }
        scale = METHOD.likelihood
        for risk in CAT.risks_for(t.id):
            default = risk.defaults[t.id].likelihood
            assert ratings["LI-T"][risk.id] == default
            assert ratings["LI-X"][risk.id] == min(scale.max, default + 1)
            assert ratings["LI-Q"][risk.id] == max(scale.min, default - 1)
        # The exposed unit's officer rates one risk unlikely; so does the quiet unit's.
        risk = CAT.risks_for(t.id)[0].id
        for unit in ("LI-X", "LI-Q"):
            row = s.risk_ratings(svc, "olga", "2026", unit=unit).set_index("risk_id").loc[risk]
            s.rate_risk(
                svc,
                "olga",
                "2026",
                unit,
                risk,
                expected_version=int(row["version"]),
                likelihood=METHOD.calibration.exposed_max_likelihood,
                justification="The unit no longer issues permits on site",
            )
        flags = s.calibration(svc, "olga", "2026")
    exposed = flags[flags["flag"] == "exposed"]
    assert list(zip(exposed["unit_code"], exposed["risk_id"], strict=True)) == [("LI-X", risk)]
