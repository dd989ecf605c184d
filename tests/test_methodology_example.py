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
        register.reset_index(), controls, units, risks, cat, budget_days=70, start=date(2026, 1, 1)
    )
    return cat, register, result


def doc_number(label: str) -> float:
    """A number the document states as `label = value` (in the example's result table)."""
    match = re.search(rf"`{re.escape(label)} = ([0-9.]+)`", DOC.read_text())
    assert match, f"docs/methodology.md no longer states {label}"
    return float(match.group(1))


def doc_numbers(label: str) -> list[float]:
    return [float(m) for m in re.findall(rf"`{re.escape(label)} = ([0-9.]+)`", DOC.read_text())]


def test_register_matches_document(example):
    _, register, _ = example
    for risk in ("BOR-01", "BOR-03"):
        row = register.loc[risk]
        assert row["inherent"] == doc_number(f"{risk} inherent")
        assert row["reduction"] == pytest.approx(doc_number(f"{risk} reduction"), abs=1e-9)
        assert row["residual"] == pytest.approx(doc_number(f"{risk} residual"), abs=1e-9)
    assert register.loc["BOR-01", "inherent_band"] == "critical"
    assert register.loc["BOR-01", "residual_band"] == "critical"
    assert register.loc["BOR-03", "residual_band"] == "high"
    assert register.loc["BOR-03", "controls"] == "supervision;victim_identification_training"
    assert register.loc["BOR-01", "unevidenced"] == "supervision"


def test_plan_matches_document(example):
    _, _, result = example
    head = result.ranking.head(4)
    assert list(head["control_id"]) == [
        "supervision",
        "supervision",
        "staff_rotation",
        "victim_identification_training",
    ]
    assert list(zip(head["from_level"], head["to_level"], strict=True)) == [
        (1, 3),
        (3, 4),
        (2, 3),
        (1, 3),
    ]
    stated = doc_numbers("supervision residual_removed") + [
        doc_number("staff_rotation residual_removed"),
        doc_number("victim_identification_training residual_removed"),
    ]
    assert head["residual_removed"].tolist() == pytest.approx(stated, abs=1e-9)
    assert list(head["selected"]) == [True, True, True, False]
    actions = result.actions.set_index("control_id")
    assert list(actions.index) == ["supervision", "staff_rotation"]
    assert (actions.loc["supervision", "from_level"], actions.loc["supervision", "to_level"]) == (
        1,
        4,
    )
    assert result.summary["residual_after"] == pytest.approx(doc_number("residual after"))
    assert result.summary["best_possible_at_most"] == pytest.approx(doc_number("best possible"))
    assert set(result.actions["due_date"]) == {date(2026, 4, 1)}
