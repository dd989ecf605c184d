"""Two people saving the same record from stale copies: the second is refused, named, and
nothing is overwritten. On a real SQLite file and a real PostgreSQL database.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from riskmap import security
from riskmap import service as s
from riskmap.service import Service
from riskmap.store.models import RiskRating, Unit
from test_service_workflow import CAT, rating, setup_ministry


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch):
    monkeypatch.setattr(security, "N", 2**4)


@pytest.fixture
def svc(db_url):
    with Service.open(db_url, upgrade=False, catalogue=CAT) as svc:
        setup_ministry(svc)
        s.start_cycle(svc, "olga", "2026", how="empty")
        yield svc


def test_second_save_from_a_stale_copy_is_refused_naming_fields_and_people(svc):
    read_by_olga = rating(svc, "2026", "BC-N", "BOR-03")
    read_by_otto = rating(svc, "2026", "BC-N", "BOR-03")
    version = int(read_by_olga["version"])
    assert version == int(read_by_otto["version"])

    s.rate_risk(
        svc,
        "olga",
        "2026",
        "BC-N",
        "BOR-03",
        expected_version=version,
        likelihood=1,
        justification="Post closed since March",
    )
    with pytest.raises(s.ConflictError) as err:
        s.rate_risk(
            svc,
            "otto",
            "2026",
            "BC-N",
            "BOR-03",
            expected_version=version,
            impact=1,
            justification="Only small sums involved",
        )
    conflict = err.value
    assert {"likelihood", "justification"} <= set(conflict.fields)
    assert "impact" not in conflict.fields
    assert conflict.by == ("olga",)
    assert conflict.expected_version == version and conflict.current_version == version + 1
    assert "likelihood (by olga)" in str(conflict) and "Nothing was overwritten" in str(conflict)

    now = rating(svc, "2026", "BC-N", "BOR-03")
    assert now["likelihood"] == 1 and now["justification"] == "Post closed since March"
    assert now["impact"] == read_by_olga["impact"]
    assert now["updated_by"] == "olga"
    saves = s.audit_trail(svc, "aude", entity="risk_rating")
    assert saves["actor"].tolist() == ["olga"]

    # Reloaded, otto's save goes through on top of olga's.
    s.rate_risk(
        svc,
        "otto",
        "2026",
        "BC-N",
        "BOR-03",
        expected_version=int(now["version"]),
        impact=1,
        justification="Post closed since March; only small sums involved",
    )
    final = rating(svc, "2026", "BC-N", "BOR-03")
    assert (final["likelihood"], final["impact"]) == (1, 1)


def test_conflict_names_everyone_who_saved_since_the_copy_was_read(svc):
    c = s.control_ratings(svc, "aude", "2026", unit="HQ").set_index("control_id")
    v = int(c.loc["code_of_conduct", "version"])
    s.rate_control(svc, "olga", "2026", "HQ", "code_of_conduct", expected_version=v, maturity=2)
    s.rate_control(
        svc,
        "otto",
        "2026",
        "HQ",
        "code_of_conduct",
        expected_version=v + 1,
        evidence="Signed code 2026",
    )
    with pytest.raises(s.ConflictError) as err:
        s.rate_control(svc, "olga", "2026", "HQ", "code_of_conduct", expected_version=v, maturity=4)
    assert set(err.value.by) == {"olga", "otto"}
    assert {"maturity", "evidence"} <= set(err.value.fields)
    final = s.control_ratings(svc, "aude", "2026", unit="HQ").set_index("control_id")
    assert final.loc["code_of_conduct", "maturity"] == 2


def test_a_save_racing_between_read_and_write_is_caught_by_the_version_column(svc):
    """Otto's transaction read version v; olga commits v+1 before otto's UPDATE runs."""
    before = rating(svc, "2026", "PL-1", "EXP-03")
    v = int(before["version"])
    with pytest.raises(s.ConflictError) as err, svc.transaction("otto", "rate_risk") as tx:
        row = tx.session.scalar(
            select(RiskRating)
            .join(Unit, Unit.id == RiskRating.unit_id)
            .where(Unit.code == "PL-1", RiskRating.risk_id == "EXP-03")
        )
        assert row.version == v  # otto's copy passes the version check ...
        s.rate_risk(
            svc,
            "olga",
            "2026",
            "PL-1",
            "EXP-03",
            expected_version=v,
            likelihood=1,
            justification="Night shifts doubled",
        )
        # ... but the UPDATE is conditioned on that version, which is gone.
        tx.update(
            row,
            {"impact": 1, "justification": "x"},
            expected_version=v,
            what="the rating of risk EXP-03 in unit PL-1",
            entity="risk_rating",
            entity_id="2026/PL-1/EXP-03",
            action="risk_rating.save",
        )
    assert "likelihood" in err.value.fields and err.value.by == ("olga",)
    after = rating(svc, "2026", "PL-1", "EXP-03")
    assert after["likelihood"] == 1 and after["impact"] == before["impact"]
    assert after["version"] == v + 1
    assert s.verify_audit(svc, "aude").ok


def test_stale_action_edit_is_refused(svc):
    s.confirm_ratings(svc, "olga", "2026")
    s.build_plan(svc, "olga", "2026", budget_days=30)
    a = s.actions(svc, "olga", "2026").iloc[0]
    s.update_action(svc, "olga", int(a["id"]), expected_version=int(a["version"]), owner="Chief A")
    with pytest.raises(s.ConflictError) as err:
        s.update_action(
            svc, "otto", int(a["id"]), expected_version=int(a["version"]), status="done"
        )
    assert err.value.fields == ("owner",) and err.value.by == ("olga",)
    now = s.actions(svc, "aude", "2026").set_index("id").loc[int(a["id"])]
    assert now["owner"] == "Chief A" and now["status"] == "planned"
