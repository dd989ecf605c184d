"""The scoring and planning cores' look-ups by position agree with the plain pandas way.

`links` finds each unit's rating of a linked control in a dense unit x control table,
the planner picks each unit's best move without sorting every candidate, and small tables
are looked up over long text columns at once (`scoring.lookup`). Each is checked here
against the straightforward form it replaced (merges, a full sort, `Series.map`), on
ministries built to hit the awkward rows: a control rated twice, rated "does not apply",
not rated at all, rated by a unit outside the pairs, a control the catalogue does not
apply to the unit's type, an unknown control id, and ties.
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import synthetic
from riskmap.catalogue import load_catalogue
from riskmap.planning.ranking import _best_per_unit
from riskmap.scoring.lookup import looked_up
from riskmap.scoring.residual import (
    LINK_COLUMNS,
    _type_links,
    credit_of,
    credited_maturity,
    has_evidence,
    link_weights,
    links,
)

CAT = load_catalogue()
PROPS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def merged_links(pairs, control_ratings, catalogue, include_not_applicable=False):
    """`links` as merges on the text keys (the form before positions), kept as the reference."""
    keep = ["unit_code", "risk_id", "unit_type"]
    tl = _type_links(catalogue)
    tl = tl.assign(weight=link_weights(tl, catalogue))
    edges = pairs[keep].merge(tl, on=["unit_type", "risk_id"])
    cr = control_ratings[["unit_code", "control_id", "applicable", "maturity"]].assign(
        evidenced=has_evidence(control_ratings), rated=True
    )
    cr = cr.drop_duplicates(["unit_code", "control_id"], keep="last")
    edges = edges.merge(cr, on=["unit_code", "control_id"], how="left")
    edges["rated"] = edges["rated"].notna()
    applicable = edges["applicable"].where(edges["applicable"].notna(), True).astype(bool)
    edges["applicable"] = applicable
    if not include_not_applicable:
        edges = edges[applicable.to_numpy()].copy()
    edges["maturity"] = edges["maturity"].fillna(0).astype(int)
    edges["evidenced"] = edges["evidenced"].where(edges["evidenced"].notna(), False).astype(bool)
    edges["credited"] = credited_maturity(edges["maturity"], edges["evidenced"], catalogue)
    edges["credit"] = credit_of(edges["credited"], catalogue)
    return edges[LINK_COLUMNS].reset_index(drop=True)


def awkward(seed: int, units: int = 12):
    """A small ministry with every awkward rating row, and its (unit, risk) pairs."""
    rng = random.Random(seed)
    m = synthetic.ministry(CAT, units=units, seed=seed, not_applicable=0.2)
    cr = m.control_ratings.copy()
    extra = []
    for _ in range(rng.randint(1, 6)):  # rated twice: the last row counts
        row = cr.iloc[rng.randrange(len(cr))].tolist()
        row[3] = rng.randint(0, CAT.method.maturity.max)
        row[4] = rng.choice(["", "doc"])
        extra.append(row)
    other_type = {
        t.id: [c.id for c in CAT.controls if t.id not in c.unit_types] for t in CAT.unit_types
    }
    for code, unit_type in m.units[["unit_code", "unit_type"]].itertuples(index=False):
        if other_type[unit_type] and rng.random() < 0.5:  # not applied to its type
            extra.append([code, rng.choice(other_type[unit_type]), True, 4, "doc"])
    first = cr.iloc[0].tolist()
    blank_at = len(cr) + len(extra)  # its index after the concat below
    extra.append([first[0], first[1], None, 3, "doc"])  # applicability left blank: it applies
    extra.append([m.units["unit_code"].iloc[0], "no-such-control", True, 4, "doc"])
    extra.append(["U-OUTSIDE", CAT.controls[0].id, True, 4, "doc"])  # a unit not in the pairs
    cr = pd.concat([cr, pd.DataFrame(extra, columns=cr.columns)], ignore_index=True)
    dropped = [i for i in rng.sample(range(len(cr)), k=len(cr) // 5) if i != blank_at]
    cr = cr.drop(index=dropped)  # unrated controls
    assert cr.loc[blank_at, "applicable"] is None
    cr = cr.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    types = m.units.set_index("unit_code")["unit_type"]
    pairs = m.risk_ratings[["unit_code", "risk_id"]].assign(
        unit_type=lambda f: f["unit_code"].map(types)
    )
    pairs = pairs.sort_values(["unit_code", "risk_id"], ignore_index=True)
    return pairs, cr


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("include_not_applicable", [False, True])
def test_links_by_position_are_the_merged_links(seed, include_not_applicable):
    pairs, cr = awkward(seed)
    got = links(pairs, cr, CAT, include_not_applicable=include_not_applicable)
    want = merged_links(pairs, cr, CAT, include_not_applicable=include_not_applicable)
    assert len(want) > 0
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    if include_not_applicable:
        assert (~got["applicable"]).any(), "the case holds a 'does not apply' link"
    assert (~got["rated"]).any(), "the case holds an unrated linked control"


def test_links_of_no_pairs_and_no_ratings_are_empty_frames_with_the_columns():
    pairs, cr = awkward(1)
    for p, c in ((pairs.iloc[:0], cr), (pairs, cr.iloc[:0]), (pairs.iloc[:0], cr.iloc[:0])):
        got = links(p, c, CAT)
        assert list(got.columns) == LINK_COLUMNS
        assert len(got) == len(merged_links(p, c, CAT))
        assert not len(c) or not len(got) or not got["rated"].any()


def sorted_pick(ratio: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """The per-unit pick as a full sort by (unit, -ratio, position): the form replaced."""
    n = len(ratio)
    order = np.lexsort((np.arange(n), -ratio, unit))
    first = np.ones(n, dtype=bool)
    first[1:] = unit[order][1:] != unit[order][:-1]
    return order[first & np.isfinite(ratio[order])]


RATIOS = st.sampled_from([0.0, 0.5, 1.0, 2.0, np.inf, -np.inf, np.nan, 1e-13])


@PROPS
@given(st.lists(st.tuples(st.integers(0, 5), RATIOS), min_size=0, max_size=60))
def test_the_best_move_per_unit_is_the_sorted_pick(rows):
    unit = np.array([u for u, _ in rows], dtype=np.int64)
    ratio = np.array([r for _, r in rows], dtype=float)
    got = _best_per_unit(ratio, unit, 6)
    want = sorted_pick(ratio, unit)
    np.testing.assert_array_equal(got, want)


def test_a_tie_goes_to_the_first_candidate_and_an_infinite_best_to_none():
    unit = np.array([0, 0, 0, 1, 1, 2])
    ratio = np.array([1.0, 2.0, 2.0, np.inf, 5.0, -np.inf])
    assert _best_per_unit(ratio, unit, 3).tolist() == [1]  # unit 1's best is not finite


KEYS = st.sampled_from(["low", "medium", "high", "critical", "x"])


@PROPS
@given(
    st.lists(KEYS, max_size=40),
    st.one_of(  # one kind of value per table, as every caller's (levels, weights, names)
        st.dictionaries(KEYS, st.integers(0, 9)),
        st.dictionaries(KEYS, st.floats(0, 9)),
        st.dictionaries(KEYS, st.text(max_size=3)),
        st.dictionaries(KEYS, st.booleans()),
    ),
)
def test_looked_up_is_series_map(values, table):
    s = pd.Series(values, index=np.arange(len(values)) * 3, name="band", dtype="str")
    pd.testing.assert_series_equal(looked_up(s, table), s.map(table))
