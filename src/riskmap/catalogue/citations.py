"""Hold every citation to its text: resolve a locator to a passage and find the quote in it.

Why: an auditor who opens the cited paragraph must find what the item says. A locator that
names no passage, or a quote that the passage does not contain, is a citation nobody can
verify, so `check_citations` reports both, item by item, like the loader's other issues.

Each source declares in `sources.yaml` how its passages are named (`locators`):

- ``numbered-paragraphs`` (the UNODC background paper): ``para 17`` or ``paras 23-24``, the
  numbered paragraph(s), without footnotes and section headings;
- ``guiding-principles`` (the OECD chapter): ``Principle 3`` (the whole principle) or
  ``Principle 3.2`` (the second statement of principle 3 with its commentary, up to the next
  statement); statements are found by the verbatim texts of `principles.yaml`;
- ``behaviours-and-recommendations`` (the AIAMP joint statement): ``behaviour (e)``, one item
  of the list of corrupt behaviours a-i; ``recommendation 1.3`` or ``recommendation 1.3(c)``
  (a lettered item; where the statement repeats a letter, every item with that letter);
  ``paragraph "opening words"`` for its other paragraphs;
- ``paragraphs`` (the State Department paper, the INTERPOL statement):
  ``recommendation "opening words"`` (the bullet that starts with those words) or
  ``paragraph "opening words"`` (the paragraph that starts with them).

Texts are compared after normalising whitespace, quotation marks, hyphens and dashes, and
dropping Markdown emphasis (the source files are Markdown conversions); nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from riskmap.catalogue.loader import Catalogue, CatalogueIssue
    from riskmap.catalogue.models import Citation

_TRANSLATE = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00a0": " ",
        "*": None,
    }
)
_SUPERSCRIPTS = "\u00b9\u00b2\u00b3\u2070\u2074\u2075\u2076\u2077\u2078\u2079"


def normalise(text: str) -> str:
    """Whitespace collapsed, curly quotes straight, dashes as hyphens, no Markdown emphasis."""
    return " ".join(text.translate(_TRANSLATE).split())


class LocatorError(ValueError):
    """The locator names no passage of the source."""


# --------------------------------------------------------------------------- schemes


def _is_heading(line: str) -> bool:
    """Section headings and page furniture: short lines that end without punctuation."""
    stripped = line.strip()
    return len(stripped) < 120 and not re.search(r"[.:;,)\d]$", stripped)


def _numbered_paragraphs(text: str) -> dict[int, str]:
    paragraphs: dict[int, list[str]] = {}
    current: int | None = None
    for line in text.splitlines():
        m = re.match(r"^(\d+)\.\s", line)
        if m and (current is None or int(m.group(1)) == current + 1):
            current = int(m.group(1))
            paragraphs[current] = [line[m.end() :]]
            continue
        if current is None or not line.strip():
            continue
        if _is_heading(line):
            continue  # a section heading or a page header, not the paragraph's text
        paragraphs[current].append(line)
    return {n: normalise(" ".join(lines)) for n, lines in paragraphs.items()}


def _resolve_numbered(text: str, locator: str) -> str:
    m = re.fullmatch(r"paras? (\d+)(?:\s*[-\u2013]\s*(\d+))?", locator.strip())
    if not m:
        raise LocatorError('expected "para N" or "paras N-M"')
    first, last = int(m.group(1)), int(m.group(2) or m.group(1))
    paragraphs = _numbered_paragraphs(text)
    if first > last or any(n not in paragraphs for n in range(first, last + 1)):
        raise LocatorError(f"no paragraph {locator.split(' ', 1)[1]} in the source")
    return " ".join(paragraphs[n] for n in range(first, last + 1))


def _find(haystack: str, needle: str, start: int = 0) -> int:
    return haystack.find(needle, start)


def _resolve_principles(text: str, locator: str, cat: Catalogue) -> str:
    m = re.fullmatch(r"Principle (\d+)(?:\.(\d+))?", locator.strip())
    if not m:
        raise LocatorError('expected "Principle N" or "Principle N.M"')
    body = normalise(text)
    principles = sorted(cat.principles, key=lambda p: p.number)
    heads = []
    for p in principles:
        at = _find(body, normalise(f"{p.number}. {p.title}"))
        if at < 0:
            raise LocatorError(f"heading of principle {p.number} not found in the source")
        heads.append(at)
    end_of_all = _find(body, "References", heads[-1])
    heads.append(end_of_all if end_of_all > 0 else len(body))
    number = int(m.group(1))
    index = next((i for i, p in enumerate(principles) if p.number == number), None)
    if index is None:
        raise LocatorError(f"no principle {number}")
    section = body[heads[index] : heads[index + 1]]
    if m.group(2) is None:
        return section
    principle = principles[index]
    starts = []
    for s in principle.statements:
        at = _find(section, normalise(s.text))
        if at < 0:
            raise LocatorError(f"statement {s.id} not found verbatim in the source")
        starts.append(at)
    starts.append(len(section))
    k = int(m.group(2))
    if not 1 <= k <= len(principle.statements):
        raise LocatorError(f"principle {number} has no statement {k}")
    return section[starts[k - 1] : starts[k]]


def _lettered(segment: str) -> dict[str, str]:
    """Items 'a) ...', 'b) ...' of a segment; items sharing a letter are joined."""
    marks = list(re.finditer(r"(?<![A-Za-z0-9])([a-z])\)\s", segment))
    items: dict[str, list[str]] = {}
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(segment)
        items.setdefault(mark.group(1), []).append(segment[mark.end() : end].strip())
    return {letter: " ".join(parts) for letter, parts in items.items()}


def _resolve_aiamp(text: str, locator: str) -> str:
    loc = locator.strip()
    if loc.startswith('paragraph "'):
        return _resolve_paragraphs(text, loc)
    body = normalise(text)
    m = re.fullmatch(r"behaviour \(([a-z])\)", loc)
    if m:
        start = _find(body, "Corruption occurs through behaviours including:")
        if start < 0:
            raise LocatorError("the list of behaviours was not found in the source")
        end = _find(body, "legal proceedings.", start)
        items = _lettered(body[start : end + len("legal proceedings.")])
        if m.group(1) not in items:
            raise LocatorError(f"no behaviour ({m.group(1)})")
        return items[m.group(1)]
    m = re.fullmatch(r"recommendation 1\.(\d)(?:\(([a-z])\))?", loc)
    if not m:
        raise LocatorError(
            'expected "behaviour (x)", "recommendation 1.N", "recommendation 1.N(x)" '
            'or paragraph "opening words"'
        )
    marks = {int(x.group(1)): x.start() for x in re.finditer(r"\b1\.(\d)\.\s", body)}
    number = int(m.group(1))
    if number not in marks:
        raise LocatorError(f"no recommendation 1.{number}")
    later = [at for n, at in marks.items() if at > marks[number]]
    stop = _find(body, "For more information", marks[number])
    end = min(later + ([stop] if stop > 0 else []) + [len(body)])
    passage = body[marks[number] : end]
    if m.group(2) is None:
        return passage
    items = _lettered(passage)
    if m.group(2) not in items:
        raise LocatorError(f"recommendation 1.{number} has no item ({m.group(2)})")
    return items[m.group(2)]


def _blocks(text: str) -> list[str]:
    """Paragraphs split by blank lines; one broken by a page break is joined again."""
    blocks: list[str] = []
    for raw in re.split(r"\n\s*\n", text):
        block = normalise(raw)
        if not block:
            continue
        if blocks and not re.search(r"[.:!?\"]$", blocks[-1]) and block[:1].islower():
            blocks[-1] += " " + block
        else:
            blocks.append(block)
    return blocks


def _bullets(text: str) -> list[str]:
    out: list[str] = []
    for line in text.splitlines():
        m = re.match(r"^\s*(?:[-\u2022\u25b6\u25ba]\s*)+(.*)$", line)
        if m and m.group(1).strip():
            out.append(normalise(m.group(1)))
    return out


def _resolve_paragraphs(text: str, locator: str) -> str:
    m = re.fullmatch(r'(recommendation|paragraph) "(.+)"', locator.strip())
    if not m:
        raise LocatorError('expected recommendation "opening words" or paragraph "opening words"')
    kind, opening = m.group(1), normalise(m.group(2))
    candidates = _bullets(text) if kind == "recommendation" else _blocks(text)
    found = [c for c in candidates if c.startswith(opening)]
    if not found:
        raise LocatorError(f"no {kind} of the source starts with {opening!r}")
    if len(found) > 1:
        raise LocatorError(f"{len(found)} {kind}s start with {opening!r}: quote more words")
    return found[0]


def _without_footnotes(text: str) -> str:
    """Footnote lines and footnote markers are apparatus, not the passage's words."""
    lines = [
        line
        for line in text.splitlines()
        if not line.lstrip()[:1] or line.lstrip()[0] not in _SUPERSCRIPTS
    ]
    return re.sub(f"[{_SUPERSCRIPTS}]+", "", "\n".join(lines))


def passage(scheme: str, text: str, locator: str, cat: Catalogue) -> str:
    """The normalised passage of `text` that `locator` names; `LocatorError` if none."""
    text = _without_footnotes(text)
    if scheme == "numbered-paragraphs":
        return _resolve_numbered(text, locator)
    if scheme == "guiding-principles":
        return _resolve_principles(text, locator, cat)
    if scheme == "behaviours-and-recommendations":
        return _resolve_aiamp(text, locator)
    if scheme == "paragraphs":
        return _resolve_paragraphs(text, locator)
    raise LocatorError(f"unknown locator scheme {scheme!r}")


# --------------------------------------------------------------------------- checking


@dataclass(frozen=True)
class Located:
    """One citation with where it sits: file kind, item id, field path."""

    kind: str
    item: str
    field: str
    citation: Citation


def every_citation(cat: Catalogue) -> Iterator[Located]:
    groups = [
        ("principles", cat.principles),
        ("unit_types", cat.unit_types),
        ("risks", cat.risks),
        ("controls", cat.controls),
    ]
    for kind, items in groups:
        for item in items:
            for i, cite in enumerate(item.sources):
                yield Located(kind, item.id, f"sources.{i}", cite)
    for i, cite in enumerate(cat.method.sources):
        yield Located("method", "", f"sources.{i}", cite)


def check_citations(cat: Catalogue, sources_dir: str | Path) -> list[CatalogueIssue]:
    """Every citation whose locator names no passage or whose quote is not in it."""
    from riskmap.catalogue.loader import FILES, CatalogueIssue

    sources_dir = Path(sources_dir)
    issues: list[CatalogueIssue] = []
    texts: dict[str, str | None] = {}
    by_id = {s.id: s for s in cat.sources}
    for at in every_citation(cat):
        cite = at.citation

        def add(field: str, message: str, at: Located = at) -> None:
            issues.append(CatalogueIssue(FILES[at.kind], at.item, f"{at.field}.{field}", message))

        source = by_id.get(cite.source)
        if source is None or not source.file or not source.locators:
            add("source", f"source {cite.source!r} declares no file or no locator scheme")
            continue
        if cite.source not in texts:
            path = sources_dir / source.file
            texts[cite.source] = path.read_text(encoding="utf-8") if path.is_file() else None
        text = texts[cite.source]
        if text is None:
            add("source", f"source file {source.file} not found in {sources_dir}")
            continue
        try:
            found = passage(source.locators, text, cite.locator, cat)
        except LocatorError as exc:
            add("locator", f"{cite.locator!r} does not resolve: {exc}")
            continue
        if cite.quote is None:
            if at.kind != "method":
                add("quote", "no quote: copy a few words of the passage")
            continue
        if normalise(cite.quote) not in found:
            add("quote", f"{cite.quote!r} is not in {cite.source} {cite.locator}")
    return issues


def grounds(item: object) -> str:
    """Where an item comes from, in one line: its citations with their quotes, or its
    practice basis (for the workbook's Catalogue sheet and the dashboard's Catalogue page)."""
    if getattr(item, "basis", "source") == "practice":
        return f"practice: {getattr(item, 'basis_note', '')}"
    return "; ".join(
        f"{c.source} {c.locator}" + (f' "{c.quote}"' if c.quote else "")
        for c in getattr(item, "sources", ())
    )
