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
    assert subheaders[0] == f"1. {cat.principles[0].title}"
    assert len(subheaders) == len(cat.principles)


def test_signed_out_is_refused(ui_db):
    at = page(PAGE, None).run()
    assert "Please sign in" in errors(at)[0]
    assert not at.metric
