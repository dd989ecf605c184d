"""Checks on the shipped catalogue's content: quotations, citations and the version hash.

The loader proves the catalogue is consistent with itself; these tests prove it is
consistent with the documents it cites (../shared/sources/ beside the repo, or
$RISKMAP_SOURCES_DIR), so that an auditor who follows a citation finds what the catalogue
says is there.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from riskmap.catalogue import Catalogue, load_catalogue
from riskmap.catalogue.models import Citation

SHIPPED = Path(__file__).resolve().parents[1] / "controls_catalogue"
# shared/ sits beside the repository (the developers' checkout and CI's clone alike).
SOURCES_DIR = Path(
    os.environ.get("RISKMAP_SOURCES_DIR")
    or Path(__file__).resolve().parents[2] / "shared" / "sources"
)
NO_SOURCES = f"source documents folder {SOURCES_DIR} is absent"


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return load_catalogue(SHIPPED)


def citations(cat: Catalogue) -> Iterator[tuple[str, Citation]]:
    """Every citation in the catalogue, with a label saying where it is."""
    groups = [
        ("principles", cat.principles),
        ("unit_types", cat.unit_types),
        ("risks", cat.risks),
        ("controls", cat.controls),
    ]
    for kind, items in groups:
        for item in items:
            for cite in item.sources:
                yield f"{kind}[{item.id}]", cite
    for cite in cat.method.sources:
        yield "method", cite


def normalise(text: str) -> str:
    return " ".join(text.split())


def source_text(cat: Catalogue, source_id: str) -> str:
    if not SOURCES_DIR.is_dir():
        pytest.skip(NO_SOURCES)
    source = next(s for s in cat.sources if s.id == source_id)
    assert source.file, f"source {source_id} declares no file"
    return (SOURCES_DIR / source.file).read_text(encoding="utf-8")


# --------------------------------------------------------------------------- sources


def test_every_cited_source_declares_a_file(cat):
    by_id = {s.id: s for s in cat.sources}
    cited = {cite.source for _, cite in citations(cat)}
    assert cited, "the catalogue cites nothing"
    assert {sid for sid in cited if not by_id[sid].file} == set()


def test_every_cited_source_file_exists(cat):
    if not SOURCES_DIR.is_dir():
        pytest.skip(NO_SOURCES)
    by_id = {s.id: s for s in cat.sources}
    missing = {
        (sid, by_id[sid].file)
        for sid in {cite.source for _, cite in citations(cat)}
        if not by_id[sid].file or not (SOURCES_DIR / by_id[sid].file).is_file()
    }
    assert missing == set()


def test_principle_statements_are_verbatim_quotes_of_the_oecd_text(cat):
    oecd = normalise(source_text(cat, "OECD-2016"))
    not_verbatim = [
        s.id for p in cat.principles for s in p.statements if normalise(s.text) not in oecd
    ]
    assert not_verbatim == []


def test_unodc_paragraph_locators_exist_in_the_source(cat):
    text = source_text(cat, "UNODC-2023")
    numbered = {int(n) for n in re.findall(r"^(\d+)\.\s", text, flags=re.MULTILINE)}
    assert len(numbered) > 50, "paragraph numbering not found: has the source file changed?"
    bad: list[tuple[str, str]] = []
    checked = 0
    for where, cite in citations(cat):
        if cite.source != "UNODC-2023":
            continue
        m = re.fullmatch(r"paras? (\d+)(?:[-–](\d+))?", cite.locator)
        if not m:
            bad.append((where, cite.locator))
            continue
        first = int(m.group(1))
        last = int(m.group(2) or first)
        if not (first <= last and set(range(first, last + 1)) <= numbered):
            bad.append((where, cite.locator))
        checked += 1
    assert checked > 0
    assert bad == []


def test_oecd_principle_locators_name_existing_principles_and_statements(cat):
    statement_ids = set(cat.statement_by_id)
    numbers = {p.number for p in cat.principles}
    bad = []
    for where, cite in citations(cat):
        if cite.source != "OECD-2016":
            continue
        m = re.fullmatch(r"Principle (\d+)(?:\.(\d+))?", cite.locator)
        if m is None:
            known = False
        elif m.group(2) is None:
            known = int(m.group(1)) in numbers
        else:
            known = f"P{m.group(1)}.{m.group(2)}" in statement_ids
        if not known:
            bad.append((where, cite.locator))
    assert bad == []


# --------------------------------------------------------------------------- items


def test_principles_are_numbered_one_to_six_and_statements_follow_their_principle(cat):
    assert [p.number for p in cat.principles] == list(range(1, len(cat.principles) + 1))
    for p in cat.principles:
        assert p.id == f"P{p.number}"
        for s in p.statements:
            assert s.id.startswith(f"{p.id}."), s.id


def test_every_control_cites_an_existing_principle_statement(cat):
    assert {c.id: c.principle for c in cat.controls if c.principle not in cat.statement_by_id} == {}


def test_every_risk_has_non_blank_red_flags(cat):
    assert {r.id for r in cat.risks if not [f for f in r.red_flags if f.strip()]} == set()


def test_every_control_maturity_level_has_its_own_description(cat):
    for c in cat.controls:
        texts = [normalise(t) for t in c.maturity.values()]
        assert len(set(texts)) == len(texts), f"{c.id}: two maturity levels share a text"


# --------------------------------------------------------------------------- version


def _copy(tmp_path: Path) -> Path:
    directory = tmp_path / "controls_catalogue"
    shutil.copytree(SHIPPED, directory)
    return directory


def test_version_is_stable_across_loads(cat):
    assert load_catalogue(SHIPPED).version == cat.version
    assert re.fullmatch(r"[0-9a-f]{16}", cat.version)


def test_version_ignores_comments_and_layout_but_not_values(tmp_path, cat):
    directory = _copy(tmp_path)
    method = directory / "method.yaml"
    original = method.read_text(encoding="utf-8")

    method.write_text("# a new comment at the top\n" + original + "\n# and one at the end\n")
    assert load_catalogue(directory).version == cat.version

    data = yaml.safe_load(original)
    method.write_text(yaml.safe_dump(data, sort_keys=True, width=60))  # no comments, new layout
    assert load_catalogue(directory).version == cat.version

    data["calibration"]["min_peers"] += 1
    method.write_text(yaml.safe_dump(data, sort_keys=True, width=60))
    changed = load_catalogue(directory).version
    assert changed != cat.version

    # A value in another file counts too, and the hash does not depend on the file edited.
    method.write_text(original)
    controls = directory / "controls.yaml"
    data = yaml.safe_load(controls.read_text(encoding="utf-8"))
    data["controls"][0]["effort_days"] += 1
    controls.write_text(yaml.safe_dump(data, sort_keys=False))
    assert load_catalogue(directory).version not in {cat.version, changed}


# --------------------------------------------------------------------------- v2 fields


def test_every_risk_names_two_to_four_key_controls_that_mitigate_it_where_it_applies(cat):
    for r in cat.risks:
        assert 2 <= len(r.key_controls) <= 4, r.id
        for k in r.key_controls:
            control = cat.control_by_id[k]
            assert r.id in control.mitigates, (r.id, k)
            assert set(control.unit_types) & set(r.defaults), (r.id, k)


def test_no_key_control_is_rated_low_where_enough_stronger_ones_apply(cat):
    # A "low" key control while stronger applicable controls are left out would tell the
    # method the wrong thing about what matters most against the scenario.
    for r in cat.risks:
        strong = {
            c.id
            for c in cat.controls
            if c.mitigates.get(r.id) in ("medium", "high") and set(c.unit_types) & set(r.defaults)
        }
        if len(strong) >= len(r.key_controls):
            assert set(r.key_controls) <= strong, (r.id, set(r.key_controls) - strong)


def test_every_strength_has_its_own_reason(cat):
    texts: dict[str, str] = {}
    for c in cat.controls:
        assert set(c.reasons) == set(c.mitigates), c.id
        for r, reason in c.reasons.items():
            line = normalise(reason)
            assert "\n" not in reason and 20 <= len(line) <= 200, (c.id, r)
            assert line not in texts, f"{c.id}/{r} repeats the reason of {texts.get(line)}"
            texts[line] = f"{c.id}/{r}"


def test_every_unit_type_has_risks_and_every_risk_reaches_each_of_its_unit_types(cat):
    for t in cat.unit_types:
        assert cat.risks_for(t.id), t.id
        assert cat.controls_for(t.id), t.id


def test_controls_file_says_effort_and_cost_are_estimates():
    header = (SHIPPED / "controls.yaml").read_text(encoding="utf-8").split("\ncontrols:", 1)[0]
    assert "estimate" in header.lower()
    assert "not sourced" in header.lower()
