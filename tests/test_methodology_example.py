"""The worked example of docs/methodology.md, recomputed by the scoring and planning cores.

If the rule or the method file changes, this test fails until the document is updated, so
the published example can never drift from what riskmap computes.
"""

import re
from datetime import date
from pathlib import Path

import pytest

import worked_example
from riskmap.catalogue import load_catalogue
from riskmap.planning import plan
from riskmap.scoring import score

DOC = Path(__file__).resolve().parents[1] / "docs" / "methodology.md"


@pytest.fixture(scope="module")
def example():
    cat = load_catalogue()
    units, risks, controls = worked_example.border_post(cat)
    register = score(risks, controls, units, cat).set_index("risk_id")
    result = plan(
        register.reset_index(), controls, units, risks, cat, budget_days=40, start=date(2026, 1, 1)
    )
    return cat, register, result


def doc_number(label: str) -> float:
    """A number the document states as `label = value` (in the example's result table)."""
    match = re.search(rf"`{re.escape(label)} = ([0-9.]+)`", DOC.read_text())
    assert match, f"docs/methodology.md no longer states {label}"
    return float(match.group(1))


def test_register_matches_document(example):
    _, register, _ = example
    for risk in ("BOR-01", "BOR-03"):
        row = register.loc[risk]
        assert row["inherent"] == doc_number(f"{risk} inherent")
        assert row["reduction"] == pytest.approx(doc_number(f"{risk} reduction"), abs=1e-9)
        assert row["residual"] == pytest.approx(doc_number(f"{risk} residual"), abs=1e-9)
    assert register.loc["BOR-01", "inherent_band"] == "critical"
    assert register.loc["BOR-01", "residual_band"] == "medium"
    assert register.loc["BOR-03", "controls"] == "supervision;victim_identification_training"


def test_plan_matches_document(example):
    _, _, result = example
    ranking = result.ranking.set_index("control_id")
    assert list(zip(ranking["from_level"], ranking["to_level"], strict=True)) == [
        (3, 4),
        (1, 2),
        (2, 3),
    ]
    assert list(ranking.index) == [
        "supervision",
        "victim_identification_training",
        "staff_rotation",
    ]
    for control in ranking.index:
        assert ranking.loc[control, "reduction"] == pytest.approx(
            doc_number(f"{control} reduction"), abs=1e-9
        )
    assert list(result.actions["control_id"]) == ["supervision", "victim_identification_training"]
    assert result.summary["residual_after"] == pytest.approx(doc_number("residual after"))
    assert result.summary["guarantee"] == pytest.approx(doc_number("guarantee"), abs=5e-5)
    assert set(result.actions["due_date"]) == {date(2027, 1, 1)}
