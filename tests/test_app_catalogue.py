"""The first dashboard page renders the catalogue in force, without exceptions."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from riskmap.catalogue import load_catalogue

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def test_catalogue_page_renders_counts_and_principles():
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    cat = load_catalogue()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Risk scenarios"] == str(len(cat.risks))
    assert metrics["Controls"] == str(len(cat.controls))
    subheaders = [s.value for s in at.subheader]
    assert subheaders[0] == f"1. {cat.principles[0].title}"
    assert len(subheaders) == len(cat.principles)
