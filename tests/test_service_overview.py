"""The manager's reads (riskmap.service.overview) on a real SQLite file.

Each read is checked against what the other use cases and the pure cores give for the same
data: key figures against the register and the action list, the map after the plan against
scoring with raised maturities, a unit's profile against the register, the planner's gaps
and the calibration flags, a previewed plan against the stored one.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

import worked_example
from demo_db import demo_file, private_copy
from riskmap import charts, security
from riskmap import service as s
from riskmap.catalogue import load_catalogue
from riskmap.demo import build_demo
from riskmap.planning import gaps
from riskmap.scoring import score
from riskmap.service import CLI_ADMIN, Service
from riskmap.service.overview import missing_controls, ratings_after_actions, with_overdue

CAT = load_catalogue()
MANAGER, OFFICER = "demo.manager", "demo.officer"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return demo_file(tmp_path_factory.mktemp("overview") / "template.sqlite", CAT, units=12)


@pytest.fixture
def svc(template, tmp_path):
    """A private copy of the demo ministry (12 units, 2025 locked, 2026 draft)."""
    with private_copy(template, tmp_path, CAT) as service:
        yield service


# --------------------------------------------------------------------------- data version


def test_data_version_moves_with_every_change_and_only_then(svc):
    v0 = s.data_version(svc, MANAGER)
    assert v0 == int(s.audit_trail(svc, CLI_ADMIN)["id"].max())
    s.register(svc, MANAGER, "2026")
    s.preview_plan(svc, MANAGER, "2026", budget_days=50)
    assert s.data_version(svc, MANAGER) == v0, "reads change nothing"
    a = s.actions(svc, OFFICER, "2026").iloc[0]
    s.update_action(svc, OFFICER, int(a["id"]), expected_version=int(a["version"]), notes="x")
    assert s.data_version(svc, MANAGER) > v0


# --------------------------------------------------------------------------- key figures


def test_key_figures_agree_with_the_register_and_the_actions(svc):
    kf = s.key_figures(svc, MANAGER, "2026", today=date(2026, 6, 1))
    assert (kf["cycle"], kf["previous"], kf["status"]) == ("2026", "2025", "draft")
    for label, fig in (("2026", kf["figures"]), ("2025", kf["previous_figures"])):
        reg = s.register(svc, MANAGER, label)
        counts = reg["residual_band"].value_counts()
        for band in CAT.method.bands:
            assert fig[f"n_{band.id}"] == counts.get(band.id, 0)
        assert sum(fig[f"n_{b.id}"] for b in CAT.method.bands) == fig["pairs"] == len(reg)
        assert fig["mean_residual"] == pytest.approx(reg["residual"].mean())
        worst = reg.groupby("unit_code")["residual_band"].apply(set)
        assert fig["units_critical"] == sum("critical" in b for b in worst)
        units = s.cycle_frames(svc, MANAGER, label).units
        assert fig["units_assessed"] == len(units)
        acts = s.actions(svc, MANAGER, label)
        assert fig["actions"] == len(acts)
        assert fig["actions_done"] == (acts["status"] == "done").sum()
        assert fig["actions_open"] == acts["status"].isin(["planned", "in_progress"]).sum()
    for key, value in kf["figures"].items():
        assert kf["change"][key] == pytest.approx(value - kf["previous_figures"][key])


def test_units_confirmed_counts_units_with_every_rating_confirmed(svc):
    rr = s.risk_ratings(svc, MANAGER, "2026")
    cr = s.control_ratings(svc, MANAGER, "2026")
    pending = set(rr.loc[~rr["confirmed"], "unit_code"]) | set(
        cr.loc[~cr["confirmed"], "unit_code"]
    )
    units = set(rr["unit_code"]) | set(cr["unit_code"])
    kf = s.key_figures(svc, MANAGER, "2026")
    assert kf["figures"]["units_confirmed"] == len(units - pending)
    assert kf["previous_figures"]["units_confirmed"] == len(units), "2025 was confirmed"


def test_overdue_counts_open_actions_past_due_as_of_the_day(svc):
    acts = s.actions(svc, MANAGER, "2026")
    open_ = acts["status"].isin(["planned", "in_progress"])
    far = s.key_figures(svc, MANAGER, "2026", today=date(2099, 1, 1))
    assert far["figures"]["actions_overdue"] == open_.sum()
    early = s.key_figures(svc, MANAGER, "2026", today=date(2000, 1, 1))
    assert early["figures"]["actions_overdue"] == 0


def test_first_cycle_has_no_previous_and_no_change(svc):
    kf = s.key_figures(svc, MANAGER, "2025")
    assert kf["previous"] is None and kf["previous_figures"] is None
    assert all(v is None for v in kf["change"].values())


def test_unknown_cycle_is_not_found(svc):
    with pytest.raises(s.NotFound):
        s.key_figures(svc, MANAGER, "1999")


# --------------------------------------------------------------------------- cycle map


def test_cycle_map_register_and_after_the_cycle_actions(svc):
    cm = s.cycle_map(svc, MANAGER, "2026")
    reg = s.register(svc, MANAGER, "2026")
    pd.testing.assert_frame_equal(cm.register, reg)
    assert len(cm.register_after) == len(reg)
    merged = reg.merge(cm.register_after, on=["unit_code", "risk_id"], suffixes=("", "_after"))
    assert (merged["residual_after"] <= merged["residual"] + 1e-9).all()
    acts = s.actions(svc, MANAGER, "2026")
    live = acts[acts["status"] != "cancelled"]
    assert cm.actions_applied == len(live)
    # Recompute "after" from the frames: every live action raises its control, never lowers.
    f = s.cycle_frames(svc, MANAGER, "2026")
    cr = f.control_ratings.copy()
    for a in live.itertuples():
        hit = (cr["unit_code"] == a.unit_code) & (cr["control_id"] == a.control_id)
        cr.loc[hit, "maturity"] = cr.loc[hit, "maturity"].clip(lower=a.to_level)
        cr.loc[hit, "applicable"] = True
        cr.loc[hit, "evidence"] = "the action's completion report"  # a done action shows it
    expected = score(f.risk_ratings, cr, f.units, CAT)
    pd.testing.assert_series_equal(cm.register_after["residual"], expected["residual"])
    assert set(cm.missing["unit_code"]) <= set(reg["unit_code"])
    assert {"unit_code", "principle", "mean_maturity", "controls"} <= set(cm.maturity.columns)


def test_cancelled_actions_do_not_count_after_the_plan(svc):
    for a in s.actions(svc, OFFICER, "2026").itertuples():
        s.update_action(
            svc, OFFICER, int(a.id), expected_version=int(a.version), status="cancelled"
        )
    cm = s.cycle_map(svc, MANAGER, "2026")
    assert cm.actions_applied == 0
    pd.testing.assert_series_equal(cm.register_after["residual"], cm.register["residual"])


def test_top_missing_are_the_controls_with_most_credit_still_to_gain(svc):
    """Recomputed by hand from the planner's gaps and the catalogue: per unit x risk, the
    three gap controls on the risk with the most weight x credit still to gain (then by
    name), from the credited level to the target."""
    got = s.top_missing(svc, MANAGER, "2026").set_index(["unit_code", "risk_id"])
    f = s.cycle_frames(svc, MANAGER, "2026")
    reg = score(f.risk_ratings, f.control_ratings, f.units, CAT)
    credit = CAT.method.rule.credit
    weight = CAT.method.strengths
    keys = {(r.id, c) for r in CAT.risks for c in getattr(r, "key_controls", ())}
    k = CAT.method.rule.key_control_weight
    want = {}
    for g in gaps(reg, f.control_ratings, f.units, CAT).itertuples():
        control = CAT.control_by_id[g.control_id]
        for risk_id in g.risks.split(";"):
            w = weight[control.mitigates[risk_id]] * (k if (risk_id, g.control_id) in keys else 1)
            potential = w * (credit[g.to_level] - credit[g.from_level])
            want.setdefault((g.unit_code, risk_id), []).append((-potential, control.name, g))
    assert set(got.index) == set(want)
    for pair, options in want.items():
        top = [o[2] for o in sorted(options, key=lambda o: (round(o[0], 12), o[1]))[:3]]
        assert got.loc[pair, "controls"] == ";".join(g.control_id for g in top), pair
        assert got.loc[pair, "text"] == "; ".join(
            f"{g.control} ({g.from_level}→{g.to_level})" for g in top
        )
    cm = s.cycle_map(svc, MANAGER, "2026")
    pd.testing.assert_frame_equal(s.top_missing(svc, MANAGER, "2026"), cm.missing)


# --------------------------------------------------------------------------- pure helpers


@pytest.fixture(scope="module")
def border_post():
    """The methodology's worked example: one border post, two risks, three rated controls."""
    units, risks, controls = worked_example.border_post(CAT)
    return units, risks, controls, score(risks, controls, units, CAT)


def test_missing_controls_of_the_worked_example(border_post):
    units, _, controls, reg = border_post
    out = missing_controls(reg, controls, units, CAT, n=3).set_index("risk_id")
    # Potential = weight x credit still to gain. BOR-01: staff rotation 0.75 x (1 - 0.4) =
    # 0.45 ties with supervision 0.5 x (1 - 0.1) = 0.45 (credited at 1: no evidence); the
    # control names break the tie ("Adequate supervision..." before "Compulsory rotation...").
    assert out.loc["BOR-01", "controls"] == "supervision;staff_rotation"
    assert out.loc["BOR-01", "text"] == (
        f"{CAT.control_by_id['supervision'].name} (1→4); "
        f"{CAT.control_by_id['staff_rotation'].name} (2→4)"
    )
    # BOR-03: training 0.75 x 0.9 = 0.675 before supervision 0.5 x 0.9 = 0.45.
    assert out.loc["BOR-03", "controls"] == "victim_identification_training;supervision"
    assert set(out.index) == {"BOR-01", "BOR-03"}


def test_missing_controls_are_the_planner_gaps_and_capped_at_n(svc):
    f = s.cycle_frames(svc, MANAGER, "2026")
    reg = score(f.risk_ratings, f.control_ratings, f.units, CAT)
    out = missing_controls(reg, f.control_ratings, f.units, CAT, n=2)
    g = gaps(reg, f.control_ratings, f.units, CAT)
    gap_pairs = set(zip(g["unit_code"], g["control_id"], strict=True))
    for row in out.itertuples():
        ids = row.controls.split(";")
        assert 1 <= len(ids) <= 2
        assert all((row.unit_code, c) in gap_pairs for c in ids)
        assert all(row.risk_id in CAT.control_by_id[c].mitigates for c in ids)
    assert missing_controls(reg.iloc[0:0], f.control_ratings, f.units, CAT).empty


def test_ratings_after_actions_raise_never_lower_and_add_missing_rows():
    ratings = pd.DataFrame(
        {
            "unit_code": ["U1", "U1", "U2", "U4"],
            "control_id": ["a", "b", "a", "d"],
            "applicable": [True, False, True, True],
            "maturity": [3, 0, 1, 4],
            "evidence": ["audit report", "", "", ""],
        }
    )
    actions = pd.DataFrame(
        {
            "unit_code": ["U1", "U1", "U2", "U2", "U3", "U4"],
            "control_id": ["a", "b", "a", "a", "c", "d"],
            "to_level": [2, 2, 2, 4, 3, 2],
        }
    )
    out = ratings_after_actions(ratings, actions, CAT).set_index(["unit_code", "control_id"])
    assert out.loc[("U1", "a"), "maturity"] == 3, "an action never lowers an evidenced level"
    assert out.loc[("U1", "b"), "maturity"] == 2 and out.loc[("U1", "b"), "applicable"]
    assert out.loc[("U2", "a"), "maturity"] == 4, "the highest target wins"
    assert out.loc[("U3", "c"), "maturity"] == 3
    # Claimed 4 without evidence (credited 1): the action shows 2, and 2 is what counts.
    assert out.loc[("U4", "d"), "maturity"] == 2
    assert (out.loc[[("U2", "a"), ("U4", "d")], "evidence"] == "action completed").all()
    same = ratings_after_actions(ratings, actions.iloc[0:0], CAT)
    pd.testing.assert_frame_equal(same, ratings)


def test_with_overdue_flags_open_actions_past_due():
    acts = pd.DataFrame(
        {
            "due_date": [date(2026, 1, 1), date(2026, 1, 1), date(2026, 3, 1), None],
            "status": ["planned", "done", "in_progress", "planned"],
        }
    )
    out = with_overdue(acts, date(2026, 2, 1))
    assert out["overdue"].tolist() == [True, False, False, False]
    assert out["days_overdue"].tolist() == [31, 0, 0, 0]
    # The same rule as the timeline's.
    assert out["overdue"].tolist() == charts.overdue(acts, date(2026, 2, 1)).tolist()
    assert with_overdue(acts.iloc[0:0], date(2026, 2, 1)).empty


# --------------------------------------------------------------------------- unit profile


def test_unit_profile_agrees_with_the_register_gaps_and_flags(svc):
    reg = s.register(svc, MANAGER, "2026")
    flags = s.calibration(svc, MANAGER, "2026")
    f = s.cycle_frames(svc, MANAGER, "2026")
    g_all = gaps(reg, f.control_ratings, f.units, CAT)
    acts = s.actions(svc, MANAGER, "2026")
    incidents = s.incidents(svc, MANAGER)
    reg_2025 = s.register(svc, MANAGER, "2025")
    for unit in reg["unit_code"].unique():
        p = s.unit_profile(svc, MANAGER, "2026", unit)
        own = reg[reg["unit_code"] == unit]
        assert p.unit["unit_code"] == unit
        assert sorted(p.risks["risk_id"]) == sorted(own["risk_id"])
        assert p.risks["residual"].is_monotonic_decreasing
        assert p.summary["max_residual"] == pytest.approx(own["residual"].max())
        assert set(p.gaps["control_id"]) == set(g_all.loc[g_all["unit_code"] == unit, "control_id"])
        assert (p.gaps["to_level"] > p.gaps["from_level"]).all()
        expected = flags[flags["unit_code"] == unit][["risk_id", "flag", "detail"]]
        got = p.flags[["risk_id", "flag", "detail"]]
        assert sorted(map(tuple, got.to_numpy())) == sorted(map(tuple, expected.to_numpy()))
        assert sorted(p.actions["id"]) == sorted(acts.loc[acts["unit_code"] == unit, "id"])
        assert len(p.incidents) == (incidents["unit_code"] == unit).sum()
        assert list(p.history["cycle"]) == ["2025", "2026"]
        now = p.history.set_index("cycle").loc["2026"]
        assert now["mean_residual"] == pytest.approx(own["residual"].mean())
        before = reg_2025[reg_2025["unit_code"] == unit]
        assert p.history.set_index("cycle").loc["2025", "pairs"] == len(before)


def test_unit_profile_of_a_unit_not_in_the_cycle(svc):
    with pytest.raises(s.NotFound):
        s.unit_profile(svc, MANAGER, "2026", "NOPE-1")
    s.add_unit(svc, CLI_ADMIN, "NEW-1", "A unit added after the cycle started", "customs")
    with pytest.raises(s.ValidationError, match="not assessed in cycle 2026"):
        s.unit_profile(svc, MANAGER, "2026", "NEW-1")


def test_unit_profile_flags_overdue_actions(svc):
    acts = s.actions(svc, MANAGER, "2026")
    a = acts.iloc[0]
    s.update_action(
        svc,
        OFFICER,
        int(a["id"]),
        expected_version=int(a["version"]),
        status="planned",
        due_date=date.today() - timedelta(days=10),
    )
    p = s.unit_profile(svc, MANAGER, "2026", a["unit_code"])
    row = p.actions.set_index("id").loc[int(a["id"])]
    assert row["overdue"] and row["days_overdue"] == 10
    assert p.summary["actions_overdue"] >= 1


# --------------------------------------------------------------------------- preview plan


def test_preview_plan_is_the_stored_plan_without_storing_it(svc):
    before_actions = s.actions(svc, MANAGER, "2026")
    version = s.data_version(svc, MANAGER)
    start = date(2026, 4, 1)
    preview = s.preview_plan(svc, MANAGER, "2026", budget_days=60, start=start)
    assert s.data_version(svc, MANAGER) == version
    pd.testing.assert_frame_equal(s.actions(svc, MANAGER, "2026"), before_actions)
    assert preview.actions["effort_days"].sum() <= 60
    assert preview.summary["residual_after"] <= preview.summary["residual_before"]
    stored = s.build_plan(svc, OFFICER, "2026", budget_days=60, start=start)
    pd.testing.assert_frame_equal(preview.ranking, stored.ranking)
    assert preview.summary == stored.summary


def test_preview_plan_refuses_a_negative_budget_and_respects_money(svc):
    with pytest.raises(s.ValidationError):
        s.preview_plan(svc, MANAGER, "2026", budget_days=-1)
    p = s.preview_plan(svc, MANAGER, "2026", budget_days=10_000, budget_money=20_000)
    assert p.actions["cost"].sum() <= 20_000
    # A preview works on a locked cycle too (nothing is stored).
    locked = s.preview_plan(svc, MANAGER, "2025", budget_days=30)
    assert locked.actions["effort_days"].sum() <= 30


# ------------------------------------------------------------------ reads for the pages


def test_the_lean_reads_give_what_the_full_map_gives(svc):
    """Overview's register alone and the Heat maps' first read (no gaps, no "after") are
    the full map's parts, and what they leave out is empty, never stale."""
    full = s.cycle_map(svc, MANAGER, "2026")
    pd.testing.assert_frame_equal(s.cycle_register(svc, MANAGER, "2026"), full.register)
    first = s.cycle_map(svc, MANAGER, "2026", missing_per_pair=0, after=False)
    pd.testing.assert_frame_equal(first.register, full.register)
    pd.testing.assert_frame_equal(first.maturity, full.maturity)
    assert first.actions_applied == full.actions_applied > 0
    assert first.missing.empty and list(first.missing.columns) == list(full.missing.columns)
    assert first.register_after.empty and not full.register_after.empty
    pd.testing.assert_frame_equal(s.top_missing(svc, MANAGER, "2026"), full.missing)


def _reads_counted(monkeypatch) -> list[str]:
    from riskmap.service import frames

    read, seen = frames.cycle_frames, []

    def counting(session, cycle, **kw):
        seen.append(cycle.label)
        return read(session, cycle, **kw)

    monkeypatch.setattr(frames, "cycle_frames", counting)
    return seen


def test_a_save_in_the_cycle_in_view_keeps_the_previous_cycles_scores(svc, monkeypatch):
    from riskmap.service.scored import forget_scored

    forget_scored()
    before = s.key_figures(svc, MANAGER, "2026")
    seen = _reads_counted(monkeypatch)
    s.comment(svc, MANAGER, "2026", "a save in the cycle in view")
    after = s.key_figures(svc, MANAGER, "2026")
    assert seen == ["2026"], "the locked 2025 is not read again"
    assert after["previous_figures"] == before["previous_figures"]


def test_a_change_of_no_cycle_rescores_every_cycle(svc, monkeypatch):
    """A unit's type moves the scores of every cycle that rated it, the locked one too."""
    from riskmap.service.scored import forget_scored

    forget_scored()
    before = s.key_figures(svc, MANAGER, "2026")
    seen = _reads_counted(monkeypatch)
    units = s.list_units(svc, CLI_ADMIN).set_index("code")
    code = units.index[0]
    other = next(t.id for t in CAT.unit_types if t.id != units.loc[code, "unit_type"])
    s.edit_unit(svc, CLI_ADMIN, code, expected_version=int(units.loc[code, "version"]),
                unit_type=other, reason="test")  # fmt: skip
    after = s.key_figures(svc, MANAGER, "2026")
    assert sorted(seen) == ["2025", "2026"]
    assert after["previous_figures"] != before["previous_figures"]


@pytest.fixture
def any_db(db_url):
    """The demo ministry (6 units) on SQLite and on PostgreSQL (where a server is)."""
    cost, security.N = security.N, 2**4
    try:
        with Service.open(db_url, catalogue=CAT) as service:
            build_demo(service, units=6, seed=5)
            yield service
    finally:
        security.N = cost


def test_plain_rows_are_the_rows_read_sql_gives(any_db):
    """The driver's own cursor (no SQLAlchemy row per record) gives the frame `pd.read_sql`
    gives, for every cycle, an empty one and one unit, on either database; a column that
    needs conversion (a timestamp) is left to read_sql."""
    from sqlalchemy.orm import Session

    from riskmap.service import frames
    from riskmap.store.models import ControlRating as C
    from riskmap.store.models import Cycle
    from riskmap.store.models import RiskRating as R

    bools = ("applicable", "confirmed")
    with Session(any_db.engine) as session:
        for cyc in [*session.query(Cycle).all(), Cycle(id=-1, label="none")]:
            for lean in (True, False):
                for stmt in (
                    frames._ratings(C, C.control_id, (C.maturity, C.evidence), cyc, None, lean),
                    frames._ratings(R, R.risk_id, (R.likelihood, R.impact), cyc, None, lean),
                    frames._ratings(R, R.risk_id, (R.likelihood, R.impact), cyc, "BC-001", lean),
                ):
                    plain = frames._plain_rows(session, stmt, bools)
                    assert (plain is None) == (not lean)
                    want = pd.read_sql(stmt, session.connection())
                    want[list(bools)] = want[list(bools)].astype(bool)
                    pd.testing.assert_frame_equal(frames.read(session, stmt, bools), want)
