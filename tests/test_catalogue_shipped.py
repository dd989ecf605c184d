"""The shipped catalogue loads, passes every cross-check, and says what it promises."""

from riskmap.catalogue import load_catalogue


def test_shipped_catalogue_loads_with_required_counts():
    cat = load_catalogue()
    assert len(cat.principles) == 6
    assert sum(len(p.statements) for p in cat.principles) == 18
    assert len(cat.unit_types) >= 10
    assert len(cat.risks) >= 24
    assert len(cat.controls) >= 35
    assert len(cat.version) == 16
