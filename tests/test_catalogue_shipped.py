"""The shipped catalogue loads, passes every cross-check, and says what it promises."""

import re
from pathlib import Path

from riskmap.catalogue import load_catalogue

README = Path(__file__).resolve().parents[1] / "README.md"


def test_shipped_catalogue_loads_with_required_counts():
    cat = load_catalogue()
    assert len(cat.principles) == 6
    assert sum(len(p.statements) for p in cat.principles) == 18
    # Catalogue v2 (issue 11): the sources' missing entry points and safeguards added.
    assert len(cat.unit_types) >= 18
    assert len(cat.risks) >= 39
    assert len(cat.controls) >= 62
    assert len(cat.version) == 16


def test_readme_states_the_catalogue_counts():
    cat = load_catalogue()
    box = README.read_text(encoding="utf-8").split("## What is in the box", 1)[1]
    box = " ".join(box.split("## ", 1)[0].split())
    stated = {
        "statements": r"with their (\d+) statements",
        "unit_types": r"(\d+) unit types",
        "risks": r"(\d+) corruption-risk scenarios",
        "controls": r"(\d+) controls each tied",
    }
    found = {k: int(re.search(p, box).group(1)) for k, p in stated.items()}
    assert found == {k: cat.summary()[k] for k in stated}
