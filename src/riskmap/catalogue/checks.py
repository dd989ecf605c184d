"""Cross-checks between catalogue files: the rules no single item can check by itself.

Why they matter: a risk no control mitigates cannot be remediated, a control citing an
unknown principle cannot be traced, and a maturity description missing for one level
leaves an officer guessing. Each issue names file, item and field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from riskmap.catalogue.models import Citation

if TYPE_CHECKING:
    from riskmap.catalogue.loader import Catalogue, CatalogueIssue


def cross_check(cat: Catalogue) -> list[CatalogueIssue]:
    from riskmap.catalogue.loader import FILES, CatalogueIssue

    issues: list[CatalogueIssue] = []

    def add(kind: str, item: str, field: str, message: str) -> None:
        issues.append(CatalogueIssue(FILES[kind], item, field, message))

    source_ids = {s.id for s in cat.sources}
    unit_type_ids = {t.id for t in cat.unit_types}
    stage_ids = {s.id for s in cat.stages}
    form_ids = {f.id for f in cat.corruption_forms}
    risk_ids = {r.id for r in cat.risks}
    statement_ids: set[str] = set()
    factor_ids = [f.id for f in cat.method.exposure.factors]
    m = cat.method

    def check_sources(
        kind: str, item: str, citations: tuple[Citation, ...], quoted: bool = True
    ) -> None:
        for i, cite in enumerate(citations):
            if cite.source not in source_ids:
                add(kind, item, f"sources.{i}.source", f"unknown source {cite.source!r}")
            if quoted and cite.quote is None:
                # Without a quote nobody can check that the passage says what the item says.
                add(kind, item, f"sources.{i}.quote", "no quote: copy a few words of the passage")

    for p in cat.principles:
        check_sources("principles", p.id, p.sources)
        for s in p.statements:
            if s.id in statement_ids:
                add("principles", p.id, "statements", f"duplicate statement id {s.id!r}")
            statement_ids.add(s.id)

    for t in cat.unit_types:
        check_sources("unit_types", t.id, t.sources)
        missing = [f for f in factor_ids if f not in t.exposure]
        unknown = [f for f in t.exposure if f not in factor_ids]
        if missing:
            add("unit_types", t.id, "exposure", f"missing exposure factors {missing}")
        if unknown:
            add("unit_types", t.id, "exposure", f"unknown exposure factors {unknown}")
        for f, v in t.exposure.items():
            if v not in m.exposure.levels:
                add("unit_types", t.id, f"exposure.{f}", f"{v} is not on the exposure scale")

    mitigated: dict[str, set[str]] = {r: set() for r in risk_ids}
    for c in cat.controls:
        check_sources("controls", c.id, c.sources)
        # Every strength has its reason, and no reason is left for a link that is gone.
        for r in c.mitigates:
            if r not in c.reasons:
                add("controls", c.id, f"reasons.{r}", "no reason given for this strength")
        for r in c.reasons:
            if r not in c.mitigates:
                add("controls", c.id, f"reasons.{r}", f"reason for {r!r}, not mitigated")
        if c.principle not in statement_ids:
            add("controls", c.id, "principle", f"unknown principle statement {c.principle!r}")
        for t in c.unit_types:
            if t not in unit_type_ids:
                add("controls", c.id, "unit_types", f"unknown unit type {t!r}")
        if sorted(c.maturity) != sorted(m.maturity.levels):
            add(
                "controls",
                c.id,
                "maturity",
                f"must describe every maturity level {sorted(m.maturity.levels)}, "
                f"got {sorted(c.maturity)}",
            )
        for r in c.mitigates:
            if r not in risk_ids:
                add("controls", c.id, f"mitigates.{r}", f"unknown risk {r!r}")
            else:
                mitigated[r].update(c.unit_types)

    for r in cat.risks:
        check_sources("risks", r.id, r.sources)
        if r.stage not in stage_ids:
            add("risks", r.id, "stage", f"unknown stage {r.stage!r}")
        if r.corruption_form not in form_ids:
            add("risks", r.id, "corruption_form", f"unknown corruption form {r.corruption_form!r}")
        for t, d in r.defaults.items():
            if t not in unit_type_ids:
                add("risks", r.id, f"defaults.{t}", f"unknown unit type {t!r}")
            if d.likelihood not in m.likelihood.levels:
                add("risks", r.id, f"defaults.{t}.likelihood", "not on the likelihood scale")
            if d.impact not in m.impact.levels:
                add("risks", r.id, f"defaults.{t}.impact", "not on the impact scale")
        if not mitigated[r.id]:
            add("risks", r.id, "", "no control mitigates this risk")
            continue  # its key controls cannot be right either; one issue says it all
        uncovered = [t for t in r.defaults if t in unit_type_ids and t not in mitigated[r.id]]
        if uncovered:
            add(
                "risks",
                r.id,
                "defaults",
                f"no applicable control mitigates it in unit types {uncovered}",
            )
        if not 2 <= len(r.key_controls) <= 4:
            add(
                "risks",
                r.id,
                "key_controls",
                f"name two to four key controls, got {len(r.key_controls)}",
            )
        for i, k in enumerate(r.key_controls):
            key = cat.control_by_id.get(k)
            if key is None:
                add("risks", r.id, f"key_controls.{i}", f"unknown control {k!r}")
            elif r.id not in key.mitigates:
                add("risks", r.id, f"key_controls.{i}", f"control {k!r} does not mitigate it")
            elif not set(key.unit_types) & set(r.defaults):
                add(
                    "risks",
                    r.id,
                    f"key_controls.{i}",
                    f"control {k!r} applies to none of its unit types",
                )

    check_sources("method", "", m.sources)
    return issues
