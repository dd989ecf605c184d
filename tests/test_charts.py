"""The chart core: figure content checked against the register, the method file and the plan.

Registers are hand-made (every number chosen in the test) except for the plan, the
principle maturity and the size test, which use the synthetic ministry. Colours are
checked against method.yaml read directly, not through the catalogue models.
"""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest
import yaml

import synthetic
from riskmap import charts
from riskmap.catalogue import default_directory, load_catalogue
from riskmap.planning import plan
from riskmap.scoring import SCORE_COLUMNS, band_ids, maturity_by_principle, score

CAT = load_catalogue()
METHOD_YAML = yaml.safe_load((default_directory() / "method.yaml").read_text(encoding="utf-8"))
YAML_BANDS = METHOD_YAML["bands"]  # lowest first
YAML_COLOR = {b["id"]: b["color"] for b in YAML_BANDS}
YAML_TEXT_COLOR = {b["id"]: b["text_color"] for b in YAML_BANDS}
TYPE_NAME = {t.id: t.name for t in CAT.unit_types}
STAGE_ORDER = [s.id for s in CAT.stages]
RISKS_BY_STAGE = {s: [r.id for r in CAT.risks if r.stage == s] for s in STAGE_ORDER}
# Two unit types in catalogue order (the first and the third), to check type grouping.
TYPE_A, TYPE_B = CAT.unit_types[0].id, CAT.unit_types[2].id
# Risks of the first, a middle and the last stage; two of the first stage.
FIRST, SECOND = RISKS_BY_STAGE[STAGE_ORDER[0]][:2]
MIDDLE = RISKS_BY_STAGE[STAGE_ORDER[2]][0]
LAST = RISKS_BY_STAGE[STAGE_ORDER[-1]][0]


def band_for(score_value: float) -> str:
    """The band of a score by method.yaml's thresholds (independent of the code)."""
    chosen = YAML_BANDS[0]["id"]
    for b in YAML_BANDS:
        if score_value >= b["min"]:
            chosen = b["id"]
    return chosen


def make_register(rows: list[tuple]) -> pd.DataFrame:
    """A register from (unit_code, unit, unit_type, risk_id, likelihood, impact, residual)."""
    df = pd.DataFrame(
        rows,
        columns=["unit_code", "unit", "unit_type", "risk_id", "likelihood", "impact", "residual"],
    )
    df["region"] = "North"
    df["risk"] = df["risk_id"].map(lambda r: CAT.risk_by_id[r].title)
    df["stage"] = df["risk_id"].map(lambda r: CAT.risk_by_id[r].stage)
    df["inherent"] = (df["likelihood"] * df["impact"]).astype(float)
    df["residual"] = df["residual"].astype(float)
    df["residual_likelihood"] = df["residual"] / df["impact"]
    df["reduction"] = 1 - df["residual_likelihood"] / df["likelihood"]
    df["coverage"] = df["reduction"] / CAT.method.rule.max_reduction
    df["inherent_band"] = band_ids(CAT, df["inherent"])
    df["residual_band"] = band_ids(CAT, df["residual"])
    df["controls"] = ""
    df["unevidenced"] = ""
    return df[SCORE_COLUMNS]


# Units of TYPE_B first in the frame, to check that rows follow the catalogue's type order.
# Exposure (highest residual) within TYPE_A: A2 (20) > A1 (16) > A3 (6).
REGISTER = make_register(
    [
        ("B1", "Consulate Abroad", TYPE_B, LAST, 3, 3, 4.5),
        ("B1", "Consulate Abroad", TYPE_B, FIRST, 2, 5, 7.5),
        ("A1", "Border post North", TYPE_A, LAST, 4, 4, 16.0),
        ("A1", "Border post North", TYPE_A, MIDDLE, 4, 5, 12.0),
        ("A1", "Border post North", TYPE_A, FIRST, 2, 2, 4.0),
        ("A2", "Border post South", TYPE_A, SECOND, 5, 5, 20.0),
        ("A2", "Border post South", TYPE_A, FIRST, 3, 4, 9.0),
        ("A3", "Airport", TYPE_A, MIDDLE, 2, 3, 6.0),
    ]
)


def cells(fig):
    """The data trace of a band heat map and its axis labels."""
    trace = fig.data[0]
    return trace, list(trace.y), list(trace.x)


def at(fig, unit_label: str, risk_id: str):
    trace, ys, xs = cells(fig)
    r, c = ys.index(unit_label), xs.index(risk_id)
    return (
        np.asarray(trace.z, dtype=float)[r, c],
        np.asarray(trace.text, dtype=object)[r, c],
        np.asarray(trace.customdata, dtype=float)[r, c],
        np.asarray(trace.hovertext, dtype=object)[r, c],
    )


def annotation_texts(fig) -> list[str]:
    return [a.text for a in fig.layout.annotations]


# --------------------------------------------------------------------------- band helpers


def test_band_colors_are_the_method_files():
    assert charts.band_colors(CAT) == YAML_COLOR
    assert list(charts.band_colors(CAT)) == [b["id"] for b in YAML_BANDS]
    assert charts.band_text_colors(CAT) == YAML_TEXT_COLOR


@pytest.mark.parametrize("band", YAML_BANDS[1:], ids=lambda b: b["id"])
def test_band_of_and_colour_at_exact_thresholds(band):
    below, at_min = band["min"] - 0.01, float(band["min"])
    previous = YAML_BANDS[YAML_BANDS.index(band) - 1]["id"]
    assert charts.band_of(below, CAT) == previous
    assert charts.band_of(at_min, CAT) == band["id"]
    idx = charts.band_index(np.array([below, at_min]), CAT)
    assert charts.color_of_index(idx[0], CAT) == YAML_COLOR[previous]
    assert charts.color_of_index(idx[1], CAT) == YAML_COLOR[band["id"]]


def test_band_of_vectorised_and_missing():
    ids = charts.band_of(np.array([4.99, 5.0, np.nan]), CAT)
    assert list(ids[:2]) == [band_for(4.99), band_for(5.0)]
    assert ids[2] is None
    assert charts.band_of(float("nan"), CAT) is None
    assert np.isnan(charts.band_index(np.array([np.nan]), CAT)[0])


def test_written_scores_never_cross_a_threshold():
    assert list(charts.format_scores([4.999, 5.0, 6.25, 16.0, 6.09375, 0.29])) == [
        "4.99",
        "5",
        "6.25",
        "16",
        "6.09",
        "0.29",
    ]
    assert charts.format_scores([np.nan])[0] == ""


# --------------------------------------------------------------------------- heat map


def test_heatmap_cells_equal_the_register():
    fig = charts.heatmap(REGISTER, CAT)
    trace, ys, xs = cells(fig)
    assert np.asarray(trace.z).shape == (4, 4)
    for row in REGISTER.itertuples():
        z, text, exact, _ = at(fig, row.unit, row.risk_id)
        assert exact == row.residual
        assert text == charts.format_scores([row.residual])[0]
        band = band_for(row.residual)
        assert charts.color_of_index(z, CAT) == YAML_COLOR[band]
    # Pairs not in the register (not applicable) are blank.
    z, text, exact, hover = at(fig, "Airport", LAST)
    assert np.isnan(z) and np.isnan(exact) and text == "" and hover == ""
    n_blank = np.isnan(np.asarray(trace.z, dtype=float)).sum()
    assert n_blank == 4 * 4 - len(REGISTER)
    json.loads(fig.to_json())  # serialisable


def test_heatmap_inherent_values():
    fig = charts.heatmap(REGISTER, CAT, value="inherent")
    for row in REGISTER.itertuples():
        z, text, exact, hover = at(fig, row.unit, row.risk_id)
        assert exact == row.inherent
        assert charts.color_of_index(z, CAT) == YAML_COLOR[band_for(row.inherent)]
        assert "Inherent score" in hover
    with pytest.raises(ValueError):
        charts.heatmap(REGISTER, CAT, value="maximum")


def test_heatmap_colours_at_exact_thresholds():
    mins = [float(b["min"]) for b in YAML_BANDS[1:]]
    scores = sorted({m - 0.01 for m in mins} | set(mins))
    risks = [r.id for r in CAT.risks][: len(scores)]
    reg = make_register(
        [("U1", "Unit one", TYPE_A, r, 5, 5, s) for r, s in zip(risks, scores, strict=True)]
    )
    fig = charts.heatmap(reg, CAT)
    for r, s in zip(risks, scores, strict=True):
        z, text, exact, hover = at(fig, "Unit one", r)
        assert exact == s
        assert charts.color_of_index(z, CAT) == YAML_COLOR[band_for(s)], s
        assert f"Band: {CAT.band_for(s).name}" in hover
    if any(b["min"] == 5 for b in YAML_BANDS):  # the brief's example: 4.99 low, 5.0 medium
        z_low = at(fig, "Unit one", risks[scores.index(4.99)])[0]
        z_mid = at(fig, "Unit one", risks[scores.index(5.0)])[0]
        assert charts.color_of_index(z_low, CAT) == YAML_COLOR[band_for(4.99)]
        assert charts.color_of_index(z_mid, CAT) == YAML_COLOR[band_for(5.0)]
        assert z_low != z_mid


def test_heatmap_colorscale_is_stepped_on_the_bands():
    scale, zmin, zmax = charts.band_colorscale(CAT)
    trace = charts.heatmap(REGISTER, CAT).data[0]
    assert [list(s) for s in trace.colorscale] == [list(s) for s in scale]
    assert (trace.zmin, trace.zmax) == (zmin, zmax) == (-0.5, len(YAML_BANDS) - 0.5)
    assert [c for _, c in scale] == [YAML_COLOR[b["id"]] for b in YAML_BANDS for _ in (0, 1)]


def test_heatmap_text_colour_is_the_bands():
    fig = charts.heatmap(REGISTER, CAT)
    layers = fig.data[1:]
    assert all(t.hoverinfo == "skip" and t.texttemplate == "%{text}" for t in layers)
    _, ys, xs = cells(fig)
    for row in REGISTER.itertuples():
        r, c = ys.index(row.unit), xs.index(row.risk_id)
        written = [t for t in layers if np.asarray(t.text, dtype=object)[r, c] != ""]
        assert len(written) == 1, "each score is written exactly once"
        assert written[0].textfont.color == YAML_TEXT_COLOR[band_for(row.residual)]
        assert np.asarray(written[0].text, dtype=object)[r, c] == at(fig, row.unit, row.risk_id)[1]


def test_heatmap_rows_grouped_by_type_and_sorted_by_exposure():
    fig = charts.heatmap(REGISTER, CAT)
    _, ys, _ = cells(fig)
    # TYPE_A comes before TYPE_B in the catalogue; within TYPE_A highest residual first.
    assert ys == ["Border post South", "Border post North", "Airport", "Consulate Abroad"]
    assert list(fig.layout.yaxis.categoryarray) == ys
    assert fig.layout.yaxis.autorange == "reversed"  # first row at the top
    rows, cols = charts.heatmap_order(REGISTER, CAT)
    assert rows == ["A2", "A1", "A3", "B1"]
    # Type names are shown beside their groups (cut to fit, whole on hover).
    full = [a.hovertext for a in fig.layout.annotations]
    assert TYPE_NAME[TYPE_A] in full and TYPE_NAME[TYPE_B] in full


def test_heatmap_exposure_ties_break_on_mean_then_name():
    reg = make_register(
        [
            ("X1", "Zeta", TYPE_A, FIRST, 5, 5, 10.0),
            ("X1", "Zeta", TYPE_A, LAST, 5, 5, 2.0),
            ("X2", "Alpha", TYPE_A, FIRST, 5, 5, 10.0),
            ("X2", "Alpha", TYPE_A, LAST, 5, 5, 2.0),
            ("X3", "Mid", TYPE_A, FIRST, 5, 5, 10.0),
            ("X3", "Mid", TYPE_A, LAST, 5, 5, 8.0),
        ]
    )
    assert charts.heatmap_order(reg, CAT)[0] == ["X3", "X2", "X1"]


def test_heatmap_columns_follow_the_stages():
    fig = charts.heatmap(REGISTER, CAT)
    _, _, xs = cells(fig)
    assert xs == [FIRST, SECOND, MIDDLE, LAST]
    stages = [CAT.risk_by_id[r].stage for r in xs]
    assert stages == sorted(stages, key=STAGE_ORDER.index)
    stage_names = {s.id: s.name for s in CAT.stages}
    # Each stage is named over its columns, cut to its span, whole on hover.
    heads = {a.hovertext: a.text for a in fig.layout.annotations if a.yref == "paper"}
    for s in set(stages):
        name = stage_names[s]
        text = heads[name].removeprefix("<b>").removesuffix("</b>")
        assert text == name or (text.endswith("…") and name.startswith(text[:-1]))


def test_heatmap_hover_in_words():
    missing = pd.DataFrame(
        {"unit_code": ["A1"], "risk_id": [LAST], "text": ["Staff rotation (1 -> 4)"]}
    )
    fig = charts.heatmap(REGISTER, CAT, top_missing=missing)
    hover = at(fig, "Border post North", LAST)[3]
    lik = CAT.method.likelihood.levels[4].name
    imp = CAT.method.impact.levels[4].name
    for words in (
        "Border post North",
        f"Unit type: {TYPE_NAME[TYPE_A]}",
        f"{LAST} {CAT.risk_by_id[LAST].title}",
        f"Likelihood: 4 ({lik})",
        f"Impact: 4 ({imp})",
        "Residual score: 16",
        f"Band: {CAT.band_for(16).name}",
        "Top missing controls: Staff rotation (1 -&gt; 4)",
    ):
        assert words in hover, words
    # Only the pair with a missing-controls text mentions it.
    assert "Top missing" not in at(fig, "Border post North", FIRST)[3]


def test_heatmap_escapes_user_text():
    reg = make_register([("E1", "<b>Evil</b> & co", TYPE_A, FIRST, 3, 3, 9.0)])
    fig = charts.heatmap(reg, CAT)
    _, ys, _ = cells(fig)
    assert ys == ["&lt;b&gt;Evil&lt;/b&gt; &amp; co"]
    hover = np.asarray(fig.data[0].hovertext, dtype=object)[0, 0]
    assert "<b>Evil</b>" not in hover and "&lt;b&gt;Evil" in hover


def test_heatmap_duplicate_unit_names_get_their_id():
    reg = make_register(
        [
            ("D1", "Field office", TYPE_A, FIRST, 3, 3, 9.0),
            ("D2", "Field office", TYPE_A, FIRST, 3, 3, 8.0),
        ]
    )
    _, ys, _ = cells(charts.heatmap(reg, CAT))
    assert ys == ["Field office (D1)", "Field office (D2)"]


def test_heatmap_explicit_order_selects_and_keeps_empty_rows():
    fig = charts.heatmap(REGISTER, CAT, row_order=["B1", "ZZ", "A3"], col_order=[LAST, MIDDLE])
    trace, ys, xs = cells(fig)
    assert ys == ["Consulate Abroad", "ZZ", "Airport"] and xs == [LAST, MIDDLE]
    z = np.asarray(trace.customdata, dtype=float)
    assert z[0, 0] == 4.5 and np.isnan(z[0, 1])
    assert np.isnan(z[1]).all()  # a listed unit absent from the register: an empty row
    assert z[2, 1] == 6.0


def test_heatmap_after_the_plan_lines_up_with_the_current_map():
    m = synthetic.ministry(CAT, units=30, seed=3)
    register = score(m.risk_ratings, m.control_ratings, m.units, CAT)
    p = plan(
        register,
        m.control_ratings,
        m.units,
        m.risk_ratings,
        CAT,
        budget_days=200,
        start=date(2025, 1, 1),
    )
    assert len(p.actions)
    before = charts.heatmap(p.register_before, CAT)
    after = charts.heatmap_after(p, CAT)
    assert list(after.data[0].y) == list(before.data[0].y)
    assert list(after.data[0].x) == list(before.data[0].x)
    rows, cols = charts.heatmap_order(p.register_before, CAT)
    got = np.asarray(after.data[0].customdata, dtype=float)
    want = (
        p.register_after.set_index(["unit_code", "risk_id"])["residual"]
        .unstack()
        .reindex(index=rows, columns=cols)
        .to_numpy(dtype=float)
    )
    np.testing.assert_array_equal(got, want)
    assert np.nansum(got) < np.nansum(np.asarray(before.data[0].customdata, dtype=float))
    # A filter on the current map carries over through its order.
    some = rows[:5]
    filtered = charts.heatmap_after(p, CAT, row_order=some, col_order=cols)
    assert len(filtered.data[0].y) == 5


def test_heatmap_empty_frame_gives_a_message():
    for fig in (
        charts.heatmap(REGISTER.iloc[:0], CAT),
        charts.heatmap(REGISTER, CAT, row_order=["nobody"]),
        charts.heatmap(None, CAT),
    ):
        assert len(fig.data) == 0
        assert any("No unit-risk pairs" in t for t in annotation_texts(fig))


def test_heatmap_of_a_national_ministry_has_the_right_shape():
    m = synthetic.ministry(CAT, units=1000, seed=7)
    register = score(m.risk_ratings, m.control_ratings, m.units, CAT)
    fig = charts.heatmap(register, CAT)
    trace = fig.data[0]
    shape = (register["unit_code"].nunique(), register["risk_id"].nunique())
    assert shape[0] >= 990 and shape[1] == len(CAT.risks)
    for arr in (trace.z, trace.text, trace.customdata, trace.hovertext):
        assert np.asarray(arr).shape == shape
    assert len(trace.y) == shape[0] and len(set(trace.y)) == shape[0]
    assert (~np.isnan(np.asarray(trace.z, dtype=float))).sum() == len(register)


# --------------------------------------------------------------------------- matrix


def test_matrix_counts_pairs_in_the_right_cells():
    fig = charts.matrix(REGISTER, CAT, which="inherent")
    trace = fig.data[0]
    counts = np.asarray(trace.customdata)
    assert counts.sum() == len(REGISTER)
    lmin, imin = CAT.method.likelihood.min, CAT.method.impact.min
    assert list(trace.y) == sorted(CAT.method.likelihood.levels)
    assert list(trace.x) == sorted(CAT.method.impact.levels)
    # (likelihood 5, impact 5) once (A2), (4, 4) once (A1), (2, 5) once (B1).
    assert counts[5 - lmin, 5 - imin] == 1
    assert counts[4 - lmin, 4 - imin] == 1
    assert counts[2 - lmin, 5 - imin] == 1
    assert np.asarray(trace.text, dtype=object)[4 - lmin, 4 - imin] == "1"
    # The background is the band of likelihood x impact.
    z = np.asarray(trace.z, dtype=float)
    for lv in CAT.method.likelihood.levels:
        for iv in CAT.method.impact.levels:
            color = charts.color_of_index(z[lv - lmin, iv - imin], CAT)
            assert color == YAML_COLOR[band_for(lv * iv)], (lv, iv)


def test_residual_matrix_rounds_half_up():
    reg = make_register(
        [
            ("U1", "One", TYPE_A, FIRST, 5, 4, 2.5 * 4),  # residual likelihood 2.5 -> 3
            ("U1", "One", TYPE_A, SECOND, 5, 4, 2.49 * 4),  # 2.49 -> 2
            ("U1", "One", TYPE_A, MIDDLE, 3, 2, 1.5 * 2),  # 1.5 -> 2
            ("U1", "One", TYPE_A, LAST, 2, 5, 1.0 * 5),  # 1 -> 1
        ]
    )
    counts = charts.matrix_counts(reg, CAT, "residual")
    assert counts.to_numpy().sum() == 4
    assert counts.loc[3, 4] == 1 and counts.loc[2, 4] == 1
    assert counts.loc[2, 2] == 1 and counts.loc[1, 5] == 1
    inherent = charts.matrix_counts(reg, CAT, "inherent")
    assert inherent.loc[5, 4] == 2 and inherent.loc[3, 2] == 1 and inherent.loc[2, 5] == 1
    assert list(charts.round_half_up([0.5, 1.49, 2.5, 2.4999999999999996, 3.5])) == [
        1,
        1,
        3,
        3,
        4,
    ]


def test_matrix_pair_puts_inherent_beside_residual():
    fig = charts.matrix_pair(REGISTER, CAT)
    left = [t for t in fig.data if t.xaxis == "x"]
    right = [t for t in fig.data if t.xaxis == "x2"]
    assert left and right
    np.testing.assert_array_equal(
        left[0].customdata, charts.matrix_counts(REGISTER, CAT, "inherent").to_numpy()
    )
    np.testing.assert_array_equal(
        right[0].customdata, charts.matrix_counts(REGISTER, CAT, "residual").to_numpy()
    )
    assert sum(bool(t.showscale) for t in fig.data) == 1


def test_matrix_of_an_empty_frame_is_the_empty_grid_with_a_note():
    fig = charts.matrix(REGISTER.iloc[:0], CAT)
    assert np.asarray(fig.data[0].customdata).sum() == 0
    assert any("No unit-risk pairs" in t for t in annotation_texts(fig))
    with pytest.raises(ValueError):
        charts.matrix(REGISTER, CAT, which="both")


# --------------------------------------------------------------------------- principles


def test_principle_heatmap_values_equal_maturity_by_principle():
    m = synthetic.ministry(CAT, units=45, seed=11)
    frame = maturity_by_principle(m.control_ratings, m.units, CAT, by="unit_type")
    fig = charts.principle_heatmap(frame, CAT)
    trace = fig.data[0]
    z = np.asarray(trace.z, dtype=float)
    ys = list(trace.y)
    principles = [p for p in CAT.principles if p.id in set(frame["principle"])]
    assert z.shape == (frame["unit_type"].nunique(), len(principles))
    # Rows in catalogue order of unit types, columns in catalogue order of principles.
    assert ys == [t.name for t in CAT.unit_types if t.id in set(frame["unit_type"])]
    cols = [p.id for p in principles]
    for row in frame.itertuples():
        r, c = ys.index(TYPE_NAME[row.unit_type]), cols.index(row.principle)
        assert z[r, c] == row.mean_maturity
        assert np.asarray(trace.text, dtype=object)[r, c] == f"{row.mean_maturity:.1f}"
    assert n_cells(z) == len(frame)
    assert (trace.zmin, trace.zmax) == (0.0, float(CAT.method.maturity.max))
    # Principle titles on the axis.
    assert principles[0].title.split()[0] in trace.x[0]


def n_cells(z) -> int:
    return int((~np.isnan(z)).sum())


def test_principle_heatmap_by_region_and_empty():
    m = synthetic.ministry(CAT, units=20, seed=5)
    frame = maturity_by_principle(m.control_ratings, m.units, CAT, by="region")
    trace = charts.principle_heatmap(frame, CAT).data[0]
    assert list(trace.y) == sorted(frame["region"].unique())
    empty = charts.principle_heatmap(frame.iloc[:0], CAT)
    assert len(empty.data) == 0 and annotation_texts(empty)


# --------------------------------------------------------------------------- gantt

TODAY = date(2025, 3, 1)
ACTIONS = pd.DataFrame(
    {
        "unit": ["Border post North", "Border post North", "Airport", "Consulate"],
        "control": ["Staff rotation", "Supervision", "Training", "Four eyes"],
        "owner": ["Head of unit", "Head of unit", "HR", "HR"],
        "due_date": [date(2025, 2, 1), date(2025, 2, 1), date(2025, 6, 1), date(2025, 3, 1)],
        "status": ["in_progress", "done", "planned", "planned"],
    }
)


def bars(fig) -> dict[int, dict]:
    """Per action position in the input: its trace name, label, overdue flag and dates."""
    out = {}
    for t in fig.data:
        for k, (pos, late, days) in enumerate(np.asarray(t.customdata).tolist()):
            out[int(pos)] = {
                "status": t.name,
                "label": t.y[k],
                "overdue": bool(late),
                "days": int(days),
                "base": t.base[k],
                "width_days": float(t.x[k]) / 86_400_000,
                "pattern": t.marker.pattern.shape[k],
                "hover": t.hovertext[k],
            }
    return out


def test_gantt_flags_an_overdue_action_and_not_a_done_one():
    assert list(charts.overdue(ACTIONS, TODAY)) == [True, False, False, False]
    fig = charts.gantt(ACTIONS, TODAY, start=date(2025, 1, 1))
    b = bars(fig)
    assert b[0]["overdue"] and b[0]["days"] == 28 and b[0]["pattern"] == "x"
    assert "Overdue by 28 days" in b[0]["hover"]
    assert not b[1]["overdue"] and b[1]["pattern"] == ""  # done, though past its due date
    assert not b[3]["overdue"]  # due today is not late
    assert b[1]["status"] == "done" and b[0]["status"] == "in progress"
    # Bars run from the start to the due date (inclusive).
    assert (
        b[2]["base"] == "2025-01-01"
        and b[2]["width_days"] == (date(2025, 6, 1) - date(2025, 1, 1)).days + 1
    )
    # Rows grouped by owner, then by due date.
    labels = list(fig.layout.yaxis.categoryarray)
    assert [lab.split(" | ")[0] for lab in labels] == ["HR", "HR", "Head of unit", "Head of unit"]
    assert labels[0].endswith("Four eyes") and labels[1].endswith("Training")
    assert any("1 overdue" in t for t in annotation_texts(fig))
    assert fig.layout.shapes[0].x0 == "2025-03-01"  # the today line
    json.loads(fig.to_json())


def test_gantt_takes_the_planners_actions():
    m = synthetic.ministry(CAT, units=10, seed=2)
    register = score(m.risk_ratings, m.control_ratings, m.units, CAT)
    p = plan(
        register,
        m.control_ratings,
        m.units,
        m.risk_ratings,
        CAT,
        budget_days=100,
        start=date(2025, 1, 1),
    )
    fig = charts.gantt(p.actions, today=date(2025, 1, 1), start=date(2025, 1, 1))
    b = bars(fig)
    assert len(b) == len(p.actions)
    assert all(v["status"] == "planned" and not v["overdue"] for v in b.values())
    late = charts.overdue(p.actions, date(2030, 1, 1))
    assert late.all()


def test_gantt_empty_and_undated():
    fig = charts.gantt(ACTIONS.iloc[:0], TODAY)
    assert len(fig.data) == 0 and annotation_texts(fig)
    undated = ACTIONS.assign(due_date=[None, date(2025, 5, 1), None, None])
    fig = charts.gantt(undated, TODAY)
    assert len(bars(fig)) == 1
    assert any("3 without a due date" in t for t in annotation_texts(fig))


# --------------------------------------------------------------------------- trend


TREND = pd.DataFrame(
    {
        "unit": ["Up", "Down", "Same", "New"],
        "residual_before": [10.0, 12.0, 5.0, np.nan],
        "residual_after": [14.0, 6.0, 5.0, 7.0],
    }
)


def test_trend_units_up_is_worse_in_the_critical_colour():
    fig = charts.trend_units(TREND, CAT)
    trace = fig.data[0]
    assert list(trace.y) == ["Up", "Same", "Down"]  # worst rise first; "New" has no before
    assert list(trace.x) == [4.0, 0.0, -6.0]
    critical = YAML_BANDS[-1]["color"]
    assert trace.marker.color[0] == critical
    assert trace.marker.color[2] != critical and trace.marker.color[1] != critical
    assert "worse" in trace.hovertext[0] and "better" in trace.hovertext[2]
    np.testing.assert_array_equal(np.asarray(trace.customdata)[0], [10.0, 14.0])


def test_movers_keeps_the_largest_changes():
    frame = pd.DataFrame(
        {
            "unit": list("abcdef"),
            "residual_before": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "residual_after": [6.0, 5.0, 3.0, 3.9, 2.0, 1.0],
        }
    )
    trace = charts.movers(frame, CAT, n=2).data[0]
    assert list(trace.y) == ["a", "b", "e", "f"]
    empty = charts.trend_units(TREND.iloc[:0], CAT)
    assert len(empty.data) == 0 and annotation_texts(empty)
    unchanged = charts.movers(TREND[TREND["unit"] == "Same"], CAT)
    assert len(unchanged.data) == 0 and annotation_texts(unchanged)
