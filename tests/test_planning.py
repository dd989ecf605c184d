"""The remediation planner: gaps, the greedy ranking, the budget cut and its guarantee.

Objective values are recomputed with the row-by-row oracle (tests/oracle.py), so the
planner's own bookkeeping is checked against an independent score of the ratings the plan
would produce.
"""

from __future__ import annotations

import itertools
import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import oracle
import synthetic
from riskmap.catalogue import load_catalogue
from riskmap.planning import ACTION_COLUMNS, apply_actions, gaps, plan
from riskmap.scoring import score

CAT = load_catalogue()
PIN = synthetic.pinned(CAT)
START = date(2025, 1, 1)
PROPS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def scored(m: synthetic.Ministry, cat=CAT) -> pd.DataFrame:
    return score(m.risk_ratings, m.control_ratings, m.units, cat)


def make_plan(m: synthetic.Ministry, cat=CAT, **budget):
    return plan(
        scored(m, cat), m.control_ratings, m.units, m.risk_ratings, cat, start=START, **budget
    )


def objective(m: synthetic.Ministry, cat, raises) -> float:
    """Residual removed by raising (unit_id, control_id, level)s, scored by the oracle."""
    before = oracle.score_rows(m.risk_ratings, m.control_ratings, m.units, cat)
    after = oracle.score_rows(
        m.risk_ratings, oracle.raise_controls(m.control_ratings, raises), m.units, cat
    )
    return oracle.total_residual(before) - oracle.total_residual(after)


def raises_of(actions: pd.DataFrame) -> list[tuple]:
    return list(zip(actions["unit_id"], actions["control_id"], actions["to_level"], strict=True))


# --------------------------------------------------------------------------- gaps

UNIT_TYPE = "police_local" if "police_local" in CAT.unit_type_by_id else CAT.unit_types[0].id


def _two_risks():
    """Two risks of UNIT_TYPE and controls mitigating: both, only the first, only the second."""
    controls = CAT.controls_for(UNIT_TYPE)
    for ra, rb in itertools.permutations([r.id for r in CAT.risks_for(UNIT_TYPE)], 2):
        both = [c.id for c in controls if ra in c.mitigates and rb in c.mitigates]
        only_a = [c.id for c in controls if ra in c.mitigates and rb not in c.mitigates]
        only_b = [c.id for c in controls if rb in c.mitigates and ra not in c.mitigates]
        if len(both) >= 2 and len(only_a) >= 2 and len(only_b) >= 2:
            return ra, rb, both, only_a, only_b
    raise AssertionError("no suitable pair of risks in the catalogue")


RA, RB, BOTH, ONLY_A, ONLY_B = _two_risks()


def gap_fixture():
    # RA: 1 x 4 = 4, band low (target 1); RB: 3 x 5 = 15, band critical (target 4).
    controls = [
        ("U1", BOTH[0], True, 2),  # target 4 (worst of RA, RB): gap 2 -> 4
        ("U1", BOTH[1], True, 4),  # at target: no gap
        ("U1", ONLY_A[0], True, 1),  # target 1 (RA low): at target, no gap
        ("U1", ONLY_A[1], True, 0),  # gap 0 -> 1
        ("U1", ONLY_B[0], False, 0),  # rated not applicable: never a candidate
        ("U1", ONLY_B[1], True, 3),  # gap 3 -> 4
    ]
    return synthetic.small(
        units=[("U1", UNIT_TYPE)],
        risks=[("U1", RA, True, 1, 4), ("U1", RB, True, 3, 5)],
        controls=controls,
    )


def test_gap_targets_follow_the_worst_inherent_band():
    m = gap_fixture()
    reg = scored(m, PIN)
    assert dict(zip(reg["risk_id"], reg["inherent_band"], strict=True)) == {
        RA: "low",
        RB: "critical",
    }
    g = gaps(reg, m.control_ratings, m.units, PIN).set_index("control_id")
    ctl = CAT.control_by_id
    assert tuple(g.loc[BOTH[0], ["from_level", "to_level"]]) == (2, 4)
    assert tuple(g.loc[ONLY_A[1], ["from_level", "to_level"]]) == (0, 1)
    assert tuple(g.loc[ONLY_B[1], ["from_level", "to_level"]]) == (3, 4)
    assert g.loc[BOTH[0], "effort_days"] == 2 * ctl[BOTH[0]].effort_days
    money = PIN.method.cost_classes
    assert g.loc[BOTH[0], "cost"] == 2 * getattr(money, ctl[BOTH[0]].cost_class)
    assert g.loc[BOTH[0], "risks"] == ";".join(sorted([RA, RB]))
    assert g.loc[ONLY_A[1], "risks"] == RA
    # Not candidates: at or above target, or rated not applicable.
    for control in (BOTH[1], ONLY_A[0], ONLY_B[0]):
        assert control not in g.index
    # Unrated controls that mitigate a rated risk are gaps from 0; nothing else is a gap.
    rated = set(m.control_ratings["control_id"])
    for c in CAT.controls_for(UNIT_TYPE):
        mitigated = {RA, RB} & set(c.mitigates)
        if c.id in rated:
            continue
        if not mitigated:
            assert c.id not in g.index
        else:
            assert g.loc[c.id, "from_level"] == 0
            assert g.loc[c.id, "to_level"] == (4 if RB in mitigated else 1)


def test_control_not_for_the_unit_type_is_never_a_gap():
    elsewhere = [c.id for c in CAT.controls if UNIT_TYPE not in c.unit_types and RB in c.mitigates]
    m = gap_fixture()
    if elsewhere:
        cr = pd.concat(
            [
                m.control_ratings,
                pd.DataFrame([("U1", elsewhere[0], True, 0)], columns=m.control_ratings.columns),
            ],
            ignore_index=True,
        )
        g = gaps(scored(m, PIN), cr, m.units, PIN)
        assert elsewhere[0] not in set(g["control_id"])
    g = gaps(scored(m, PIN), m.control_ratings, m.units, PIN)
    assert set(g["control_id"]) <= {c.id for c in CAT.controls_for(UNIT_TYPE)}


def test_no_gap_for_a_not_applicable_risk():
    m = gap_fixture()
    rr = m.risk_ratings.assign(applicable=[True, False])  # RB not applicable
    reg = score(rr, m.control_ratings, m.units, PIN)
    g = gaps(reg, m.control_ratings, m.units, PIN).set_index("control_id")
    assert set(g.index) <= {c.id for c in CAT.controls_for(UNIT_TYPE) if RA in c.mitigates}
    assert (g["to_level"] == 1).all()


# --------------------------------------------------------------------------- plans

MIN = synthetic.ministry(CAT, units=24, seed=11)
FULL = make_plan(MIN)


def test_ranking_shape_and_no_zero_gain():
    r = FULL.ranking
    assert list(r.columns) == ACTION_COLUMNS
    assert len(r) > 10
    assert list(r["priority"]) == list(range(1, len(r) + 1))
    assert (r["reduction"] > 1e-9).all()
    assert np.allclose(r["reduction_per_day"], r["reduction"] / r["effort_days"])
    assert r["selected"].all()  # no budget: the whole ranking
    # one-level steps, each (unit, control) climbing its levels in order
    assert (r["to_level"] == r["from_level"] + 1).all()
    assert not r.duplicated(["unit_id", "control_id", "from_level"]).any()
    for _, steps in r.groupby(["unit_id", "control_id"], sort=False):
        levels = list(steps["from_level"])
        assert levels == list(range(levels[0], levels[0] + len(levels)))
    # actions merge a pair's steps into one
    a = FULL.actions
    assert not a.duplicated(["unit_id", "control_id"]).any()
    assert a["effort_days"].sum() == pytest.approx(r["effort_days"].sum())
    assert a["reduction"].sum() == pytest.approx(r["reduction"].sum())


@pytest.mark.parametrize(
    "budget",
    [
        {"budget_days": 0},
        {"budget_days": 45},
        {"budget_days": 200.5},
        {"budget_money": 60000},
        {"budget_days": 300, "budget_money": 150000},
    ],
)
def test_plan_stays_within_budget_and_is_the_longest_fitting_prefix(budget):
    p = make_plan(MIN, **budget)
    r = p.ranking
    days, money = budget.get("budget_days", math.inf), budget.get("budget_money", math.inf)
    a = p.actions
    assert a["effort_days"].sum() <= days + 1e-9
    assert a["cost"].sum() <= money + 1e-9
    assert (a["reduction"] > 0).all()
    k = int(r["selected"].sum())
    assert list(r["selected"]) == [True] * k + [False] * (len(r) - k)  # a prefix
    prefix = r.iloc[:k]
    assert set(zip(a["unit_id"], a["control_id"], strict=True)) == set(
        zip(prefix["unit_id"], prefix["control_id"], strict=True)
    )
    assert a["effort_days"].sum() == pytest.approx(prefix["effort_days"].sum())
    top = prefix.groupby(["unit_id", "control_id"])["to_level"].max()
    assert all(top[(u, c)] == t for u, c, t in a[["unit_id", "control_id", "to_level"]].values)
    if k < len(r):  # the next action would not fit
        nxt = r.iloc[k]
        assert nxt["cumulative_days"] > days + 1e-9 or nxt["cumulative_cost"] > money + 1e-9
    assert p.summary["selected"] == len(a)
    assert p.summary["effort_days"] == pytest.approx(a["effort_days"].sum())
    assert p.summary["cost"] == pytest.approx(a["cost"].sum())
    # the ranking itself does not depend on the budget
    assert r[["unit_id", "control_id"]].equals(FULL.ranking[["unit_id", "control_id"]])


def test_a_money_budget_limits_the_plan():
    p = make_plan(MIN, budget_money=FULL.ranking["cost"].iloc[0])
    assert len(p.actions) == 1
    assert len(make_plan(MIN, budget_money=0).actions) == 0


@settings(PROPS, max_examples=8)
@given(st.lists(st.floats(0, 1.1), min_size=2, max_size=3))
def test_bigger_budget_never_buys_less(fractions):
    total = float(FULL.ranking["effort_days"].sum())
    plans = [make_plan(MIN, budget_days=f * total) for f in sorted(fractions)]
    for small_p, big_p in itertools.pairwise(plans):
        assert small_p.summary["reduction"] <= big_p.summary["reduction"] + 1e-9
        assert small_p.summary["residual_after"] >= big_p.summary["residual_after"] - 1e-9
        chosen = set(zip(small_p.actions["unit_id"], small_p.actions["control_id"], strict=True))
        bigger = set(zip(big_p.actions["unit_id"], big_p.actions["control_id"], strict=True))
        assert chosen <= bigger


@pytest.mark.parametrize("budget_days", [None, 0, 60, 250])
def test_plan_reduction_equals_residual_before_minus_after(budget_days):
    p = make_plan(MIN, budget_days=budget_days)
    s = p.summary
    assert s["reduction"] == pytest.approx(s["residual_before"] - s["residual_after"], abs=1e-9)
    # ... and both agree with the oracle scoring the raised ratings.
    assert s["reduction"] == pytest.approx(objective(MIN, CAT, raises_of(p.actions)), abs=1e-9)
    assert s["residual_before"] == pytest.approx(p.register_before["residual"].sum())
    assert len(p.register_after) == len(p.register_before)


def test_due_dates_follow_band_deadlines():
    reg = FULL.register_before.set_index(["unit_id", "risk_id"])["residual"]
    deadline = {b.id: b.deadline_days for b in CAT.method.bands}
    r = FULL.ranking
    seen = set()
    for row in r.itertuples():
        worst = max(reg[(row.unit_id, risk)] for risk in row.risks.split(";"))
        band = oracle.band_of(worst, CAT)
        assert row.band == band
        assert row.due_date == START + timedelta(days=deadline[band])
        seen.add(band)
    assert len(seen) >= 2, "the fixture should exercise more than one deadline"


def test_apply_actions_raises_and_keeps_the_rest():
    actions = FULL.actions.head(5)
    after = apply_actions(MIN.control_ratings, actions)
    assert len(after) == len(
        pd.concat(
            [MIN.control_ratings[["unit_id", "control_id"]], actions[["unit_id", "control_id"]]]
        ).drop_duplicates()
    )
    idx = after.set_index(["unit_id", "control_id"])
    for row in actions.itertuples():
        assert idx.loc[(row.unit_id, row.control_id), "maturity"] == row.to_level
        assert bool(idx.loc[(row.unit_id, row.control_id), "applicable"])


# --------------------------------------------------------------------------- marginal gains


def _risk_with_two_controls():
    for t in CAT.unit_types:
        for r in CAT.risks_for(t.id):
            mit = {c.mitigates[r.id]: c.id for c in CAT.controls_for(t.id) if r.id in c.mitigates}
            if "high" in mit and "medium" in mit:
                return t.id, r.id, mit["high"], mit["medium"]
    raise AssertionError("no risk with a high and a medium control")


def test_marginal_gains_are_recomputed_after_each_choice():
    unit_type, risk, c_high, c_medium = _risk_with_two_controls()
    # Inherent 5 x 2 = 10 (band high, target 3): neither the cap nor the floor binds.
    others = [c.id for c in CAT.controls_for(unit_type) if c.id not in (c_high, c_medium)]
    m = synthetic.small(
        units=[("U1", unit_type)],
        risks=[("U1", risk, True, 5, 2)],
        controls=[("U1", c_high, True, 0), ("U1", c_medium, True, 0)]
        + [("U1", c, False, 0) for c in others],
    )
    p = make_plan(m, PIN)
    r = p.ranking
    assert set(r["control_id"]) == {c_high, c_medium}
    assert (p.actions["to_level"] == 3).all()

    def residual(levels: dict[str, int]) -> float:
        raises = pd.DataFrame(
            [("U1", c, lv) for c, lv in levels.items()],
            columns=["unit_id", "control_id", "to_level"],
        )
        cr = apply_actions(m.control_ratings, raises)
        return float(score(m.risk_ratings, cr, m.units, PIN)["residual"].sum())

    # Each step's recorded reduction is its marginal gain given every step ranked before it.
    levels = {c_high: 0, c_medium: 0}
    for step in r.itertuples():
        before = residual(levels)
        assert step.from_level == levels[step.control_id]
        levels[step.control_id] += 1
        assert step.reduction == pytest.approx(before - residual(levels), abs=1e-12)
    # Diminishing returns: the other control's first step gains less than it would alone.
    first = r.iloc[0]["control_id"]
    other = c_medium if first == c_high else c_high
    other_first = r[r["control_id"] == other].iloc[0]
    alone = residual({c_high: 0, c_medium: 0}) - residual({first: 0, other: 1})
    assert other_first["reduction"] < alone - 1e-6
    # The first step chosen has the better ratio when both are fresh.
    first_alone = residual({c_high: 0, c_medium: 0}) - residual({first: 1, other: 0})
    per_day = {c.id: c.effort_days for c in PIN.controls}
    assert first_alone / per_day[first] >= alone / per_day[other]


# --------------------------------------------------------------------------- guarantee

TYPE_IDS = [t.id for t in CAT.unit_types]


@st.composite
def tiny_instances(draw):
    """One or two units, each with at most 5 candidate controls (<= 10 in all)."""
    n_units = draw(st.integers(1, 2))
    units, risks, controls = [], [], []
    for i in range(n_units):
        uid = f"U{i}"
        unit_type = draw(st.sampled_from(TYPE_IDS))
        units.append((uid, unit_type))
        own = [r.id for r in CAT.risks_for(unit_type)]
        chosen = draw(st.lists(st.sampled_from(own), min_size=1, max_size=3, unique=True))
        # likelihood 2-5: at 1 the floor leaves nothing to remove
        for r in chosen:
            risks.append((uid, r, True, draw(st.integers(2, 5)), draw(st.integers(1, 5))))
        pool = [c.id for c in CAT.controls_for(unit_type) if set(chosen) & set(c.mitigates)]
        picked = draw(
            st.lists(st.sampled_from(pool), min_size=min(3, len(pool)), max_size=5, unique=True)
        )
        for c in CAT.controls_for(unit_type):
            if c.id in picked:
                controls.append((uid, c.id, True, draw(st.integers(0, 2))))
            else:
                controls.append((uid, c.id, False, 0))
    return synthetic.small(units, risks, controls)


def _records(m: synthetic.Ministry) -> synthetic.Ministry:
    """The same ministry as lists of dicts: the oracle's fast path for enumeration."""
    return synthetic.Ministry(
        *(oracle.records(f) for f in (m.units, m.risk_ratings, m.control_ratings, m.incidents))
    )


@PROPS
@given(tiny_instances(), st.floats(0.0, 1.0))
def test_greedy_prefix_meets_the_submodular_guarantee(m, fraction):
    reg = scored(m)
    candidates = gaps(reg, m.control_ratings, m.units, CAT)
    options = [range(c.from_level, c.to_level + 1) for c in candidates.itertuples()]
    assume(len(candidates) > 0 and math.prod(len(o) for o in options) <= 4000)
    step = candidates["effort_per_level"]
    budget = float(step.min() + fraction * (candidates["effort_days"].sum() - step.min()))
    p = plan(reg, m.control_ratings, m.units, m.risk_ratings, CAT, budget_days=budget, start=START)
    fast = _records(m)
    rows = list(candidates.itertuples(index=False))
    best = 0.0
    for levels in itertools.product(*options):  # every choice of level per control
        cost = sum(
            (lv - c.from_level) * c.effort_per_level for lv, c in zip(levels, rows, strict=True)
        )
        if cost <= budget + 1e-9:
            raised = [(c.unit_id, c.control_id, lv) for lv, c in zip(levels, rows, strict=True)]
            best = max(best, objective(fast, CAT, raised))
    used = p.summary["effort_days"]
    got = objective(fast, CAT, raises_of(p.actions))
    assert got == pytest.approx(p.summary["reduction"], abs=1e-9)
    assert used <= budget + 1e-9
    assert got >= (1 - math.exp(-used / budget)) * best - 1e-9
    assert p.summary["guarantee"] == pytest.approx(1 - math.exp(-used / budget))


@PROPS
@given(tiny_instances())
def test_ranking_is_the_greedy_sequence(m):
    """Each ranked action has the best gain per day among all candidates still open, and its
    recorded reduction is its marginal gain given the actions ranked before it."""
    reg = scored(m)
    candidates = gaps(reg, m.control_ratings, m.units, CAT)
    assume(len(candidates) <= 10)
    r = plan(reg, m.control_ratings, m.units, m.risk_ratings, CAT, start=START).ranking
    fast = _records(m)
    gap = {(c.unit_id, c.control_id): c for c in candidates.itertuples()}
    level = {key: c.from_level for key, c in gap.items()}  # open: next step is level + 1

    def state() -> list[tuple]:
        return [(*key, lv) for key, lv in level.items()]

    for step in r.itertuples():
        base = objective(fast, CAT, state())
        open_ = [key for key in gap if level[key] < gap[key].to_level]
        gains = {}
        for key in open_:
            level[key] += 1
            gains[key] = objective(fast, CAT, state()) - base
            level[key] -= 1
        key = (step.unit_id, step.control_id)
        assert step.from_level == level[key]
        assert step.reduction == pytest.approx(gains[key], abs=1e-9)
        best_ratio = max(g / gap[k].effort_per_level for k, g in gains.items())
        assert gains[key] / gap[key].effort_per_level >= best_ratio * (1 - 1e-9) - 1e-12
        assert step.reduction_per_day == pytest.approx(gains[key] / step.effort_days)
        level[key] += 1
    # whatever step was left out of the ranking gains nothing
    base = objective(fast, CAT, state())
    for key in gap:
        if level[key] < gap[key].to_level:
            level[key] += 1
            assert objective(fast, CAT, state()) - base <= 1e-9
            level[key] -= 1


def test_no_gap_gives_an_empty_plan():
    # Inherent 1 x 1 (band low, target 1) and the only applicable control already at 1.
    unit_type, risk, c_high, _ = _risk_with_two_controls()
    m = synthetic.small(
        units=[("U1", unit_type)],
        risks=[("U1", risk, True, 1, 1)],
        controls=[("U1", c.id, c.id == c_high, 1) for c in CAT.controls_for(unit_type)],
    )
    assert gaps(scored(m, PIN), m.control_ratings, m.units, PIN).empty
    p = make_plan(m, PIN, budget_days=10)
    assert p.ranking.empty and list(p.ranking.columns) == ACTION_COLUMNS
    assert p.summary["selected"] == 0
    assert p.summary["reduction"] == 0
    assert p.summary["residual_after"] == p.summary["residual_before"]
