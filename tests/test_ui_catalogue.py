"""The catalogue page renders the catalogue in force for every role, after sign-in."""

from __future__ import annotations

import pytest

from riskmap.catalogue import load_catalogue
from ui_harness import ROLES, errors, page

PAGE = "riskmap.ui.pages.catalogue"


@pytest.mark.parametrize("role", ROLES)
def test_catalogue_page_renders_counts_and_principles(ui_db, role):
    at = page(PAGE, role).run()
    assert not at.exception
    cat = load_catalogue()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Risk scenarios"] == str(len(cat.risks))
    assert metrics["Controls"] == str(len(cat.controls))
    subheaders = [s.value for s in at.subheader]
    principles = [h for h in subheaders if h[0].isdigit()]
    assert principles[0] == f"1. {cat.principles[0].title}"
    assert len(principles) == len(cat.principles)


def test_method_tab_shows_every_number_with_its_reason_and_the_sensitivity(ui_db):
    at = page(PAGE, "manager").run()
    assert not at.exception
    cat = load_catalogue()
    headers = [s.value for s in at.subheader]
    assert "Every number and why" in headers and "Sensitivity" in headers
    tables = [d.value for d in at.dataframe]
    params = next(t for t in tables if "rationale" in t.columns)
    assert len(params) == len(cat.method.parameters())
    assert params.set_index("path").loc["rule.max_reduction", "rationale"].startswith("Collusion")
    sens = next(t for t in tables if "parameter" in t.columns)
    assert sens.iloc[0]["parameter"] == "(method as shipped)"
    assert "rule.max_reduction" in set(sens["parameter"])
    bands = [f"n_{b.id}" for b in cat.method.bands]
    assert (sens[bands].sum(axis=1).dropna() == sens.iloc[0][bands].sum()).all()


def test_signed_out_is_refused(ui_db):
    at = page(PAGE, None).run()
    assert "Please sign in" in errors(at)[0]
    assert not at.metric
