"""Every citation is held to its text: the locator names a passage, the quote is in it.

An auditor who opens the cited paragraph must find what the item says. These tests run the
check `riskmap catalogue validate --sources` runs (riskmap.catalogue.citations) on the
shipped catalogue and the source documents (../shared/sources/ beside the repo, or
$RISKMAP_SOURCES_DIR), and show that the check refuses a wrong quote or a locator that
names nothing, so that a green run means something.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from riskmap.catalogue import CatalogueError, load_catalogue
from riskmap.catalogue.citations import (
    LocatorError,
    check_citations,
    every_citation,
    normalise,
    passage,
)
from riskmap.cli import main

SHIPPED = Path(__file__).resolve().parents[1] / "controls_catalogue"
SOURCES_DIR = Path(
    os.environ.get("RISKMAP_SOURCES_DIR")
    or Path(__file__).resolve().parents[2] / "shared" / "sources"
)

pytestmark = pytest.mark.skipif(
    not SOURCES_DIR.is_dir(), reason=f"source documents folder {SOURCES_DIR} is absent"
)


@pytest.fixture(scope="module")
def cat():
    return load_catalogue(SHIPPED)


def text_of(cat, source_id: str) -> tuple[str, str]:
    source = next(s for s in cat.sources if s.id == source_id)
    return source.locators, (SOURCES_DIR / source.file).read_text(encoding="utf-8")


def resolve(cat, source_id: str, locator: str) -> str:
    scheme, text = text_of(cat, source_id)
    return passage(scheme, text, locator, cat)


def copy_with(tmp_path: Path, file: str, old: str, new: str) -> Path:
    """A copy of the shipped catalogue with `old` replaced by `new` once in `file`."""
    directory = tmp_path / "controls_catalogue"
    shutil.copytree(SHIPPED, directory)
    path = directory / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {file}"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return directory


# --------------------------------------------------------------------------- the catalogue


def test_every_citation_resolves_to_a_passage_holding_its_quote(cat):
    assert check_citations(cat, SOURCES_DIR) == []


def test_every_source_is_cited_and_every_item_cites_or_says_it_is_practice(cat):
    cited = {at.citation.source for at in every_citation(cat)}
    assert cited == {s.id for s in cat.sources}
    for items in (cat.principles, cat.unit_types, cat.risks, cat.controls):
        for item in items:
            assert bool(item.sources) != (item.basis == "practice"), item.id
            if item.basis == "practice":
                assert item.basis_note and len(item.basis_note) > 40, item.id


def test_every_item_citation_carries_a_quote_of_a_few_words(cat):
    for at in every_citation(cat):
        words = normalise(at.citation.quote or "").split()
        assert 1 <= len(words) <= 40, (at.item, at.citation)


# --------------------------------------------------------------------------- the resolver


def test_a_unodc_paragraph_is_that_paragraph_only(cat):
    para_22 = resolve(cat, "UNODC-2023", "para 22")
    assert para_22.startswith("Corruption does not necessarily involve public officials.")
    assert "labour recruiters and accommodation providers" in para_22
    assert "identity theft" not in para_22  # para 23
    # footnotes and the section heading between two paragraphs are not part of either
    para_19 = resolve(cat, "UNODC-2023", "para 19")
    assert "Corruption as a facilitator during exploitation" not in para_19
    assert "Issue paper" not in para_19
    both = resolve(cat, "UNODC-2023", "paras 23-24")
    assert "identity theft" in both and "close proximity of scam centres" in both


def test_a_paragraph_broken_by_a_page_of_footnotes_is_joined(cat):
    para_17 = resolve(cat, "UNODC-2023", "para 17")
    assert "has underlined this issue during country visits" in para_17
    assert "threats of reprisals against lawyers" in para_17


def test_an_oecd_statement_runs_to_the_next_statement(cat):
    p32 = resolve(cat, "OECD-2016", "Principle 3.2")
    assert p32.startswith("The activities of staff working in sectors at risk")
    assert "independent legal audit of trafficking cases" in p32
    assert "asset disclosure regime" not in p32  # the commentary of 3.3
    assert "asset disclosure regime" in resolve(cat, "OECD-2016", "Principle 3.3")
    assert "asset disclosure regime" in resolve(cat, "OECD-2016", "Principle 3")


def test_aiamp_behaviours_and_lettered_recommendations(cat):
    assert resolve(cat, "AIAMP-2020", "behaviour (e)") == (
        "granting of municipal licences for the operation of illegal premises;"
    )
    c = resolve(cat, "AIAMP-2020", "recommendation 1.3(c)")
    assert "termination of ownership" in c
    assert "Understood as the abuse of power" not in c  # the footnote inside it
    assert "criminal analysis" not in c  # the next item, (d)
    # 1.3 lists two items (d); the locator takes both rather than guess
    d = resolve(cat, "AIAMP-2020", "recommendation 1.3(d)")
    assert "criminal analysis" in d and "investigation protocols" in d


def test_state_department_recommendation_cited_by_its_words(cat):
    found = resolve(cat, "USDOS-TIP", 'recommendation "Conduct financial investigations"')
    assert "red flag indicators" in found
    assert "procurement" not in found


@pytest.mark.parametrize(
    ("source_id", "locator"),
    [
        ("UNODC-2023", "para 99"),
        ("UNODC-2023", "paragraph 17"),
        ("OECD-2016", "Principle 3.9"),
        ("OECD-2016", "Principle 7"),
        ("AIAMP-2020", "behaviour (k)"),
        ("AIAMP-2020", "recommendation 1.5(c)"),  # 1.5 skips from (b) to (d)
        ("AIAMP-2020", "recommendation 1.9"),
        ("USDOS-TIP", "recommendations"),
        ("USDOS-TIP", 'recommendation "Ban all recruitment fees"'),
        ("USDOS-TIP", "Linking Efforts to Combat Corruption and Trafficking in Persons"),
        ("INTERPOL-2023", "statement"),
    ],
)
def test_a_locator_naming_no_passage_is_refused(cat, source_id, locator):
    with pytest.raises(LocatorError):
        resolve(cat, source_id, locator)


def test_ambiguous_opening_words_are_refused(cat):
    with pytest.raises(LocatorError, match="start with"):
        resolve(cat, "INTERPOL-2023", 'recommendation "encourage Member States"')


# --------------------------------------------------------------------------- refusals


def quoted(cat, item_id: str) -> tuple[str, int, str, str]:
    """(kind, index, locator, quote) of the first citation of item `item_id`."""
    at = next(a for a in every_citation(cat) if a.item == item_id)
    return at.kind, int(at.field.split(".")[1]), at.citation.locator, at.citation.quote


def test_a_quote_from_another_paragraph_is_refused(tmp_path, cat):
    kind, index, locator, quote = quoted(cat, "EXP-01")
    assert locator == "para 47"
    # Verbatim UNODC words, but from para 22: the citation would not hold.
    directory = copy_with(
        tmp_path, "risks.yaml", f'"{quote}"', '"supervisors or internal inspectors are bribed"'
    )
    issues = check_citations(load_catalogue(directory), SOURCES_DIR)
    assert [(i.file, i.item, i.field) for i in issues] == [
        ("risks.yaml", "EXP-01", f"sources.{index}.quote")
    ]
    assert "is not in UNODC-2023 para 47" in issues[0].message


def test_a_quote_is_normalised_for_spacing_quotes_and_dashes_only(cat):
    para_19 = resolve(cat, "UNODC-2023", "para 19")
    assert "the cost of the bribe had been added to the victims' debt" in para_19
    # A curly apostrophe, a line break and a double space still match ...
    assert normalise("the cost of the  bribe had been\nadded to the victims\u2019 debt") in para_19
    # ... a changed word does not.
    assert normalise("the cost of the bribe was added to the victims' debt") not in para_19
    assert normalise("a judge\u2014convicted") == "a judge-convicted"


def test_an_unresolvable_locator_is_refused(tmp_path, cat):
    directory = copy_with(
        tmp_path,
        "controls.yaml",
        '{source: OECD-2016, locator: "Principle 6.1",',
        '{source: OECD-2016, locator: "Principle 6.2",',
    )
    issues = check_citations(load_catalogue(directory), SOURCES_DIR)
    assert [(i.file, i.item, i.field) for i in issues] == [
        ("controls.yaml", "immunity_lifting", "sources.0.locator")
    ]
    assert "principle 6 has no statement 2" in issues[0].message


def test_validate_with_sources_checks_every_citation(tmp_path, cat):
    runner = CliRunner()
    ok = runner.invoke(
        main, ["catalogue", "validate", "--dir", str(SHIPPED), "--sources", str(SOURCES_DIR)]
    )
    assert ok.exit_code == 0, ok.output
    count = sum(1 for _ in every_citation(cat))
    assert f"citations: {count} resolved and quoted" in ok.stdout

    kind, index, locator, quote = quoted(cat, "EXP-01")
    broken = copy_with(tmp_path, "risks.yaml", f'"{quote}"', '"bribes for their silence alone"')
    bad = runner.invoke(
        main, ["catalogue", "validate", "--dir", str(broken), "--sources", str(SOURCES_DIR)]
    )
    assert bad.exit_code == 1
    assert f"risks.yaml [EXP-01] sources.{index}.quote" in bad.stderr


def test_the_loader_refuses_a_citation_without_quote(tmp_path, cat):
    kind, index, locator, quote = quoted(cat, "EXP-01")
    directory = copy_with(tmp_path, "risks.yaml", f', quote: "{quote}"', "")
    with pytest.raises(CatalogueError) as exc:
        load_catalogue(directory)
    assert [(i.file, i.item, i.field) for i in exc.value.issues] == [
        ("risks.yaml", "EXP-01", f"sources.{index}.quote")
    ]
