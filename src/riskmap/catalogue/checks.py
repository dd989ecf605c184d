"""Cross-checks between catalogue files: the rules no single item can check by itself.

Why they matter: a risk no control mitigates cannot be remediated, a control citing an
unknown principle cannot be traced, and a maturity description missing for one level
leaves an officer guessing. Each issue names file, item and field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from riskmap.catalogue.models import Citation, Control, Principle, Risk, UnitType

if TYPE_CHECKING:
    from riskmap.catalogue.loader import Catalogue, CatalogueIssue


def cross_check(cat: Catalogue) -> list[CatalogueIssue]:
    """Every cross-file issue of `cat`, in file order (principles, unit types, controls,
    risks, method)."""
    checker = _Checker(cat)
    for principle in cat.principles:
        checker.principle(principle)
    for unit_type in cat.unit_types:
        checker.unit_type(unit_type)
    for control in cat.controls:
        checker.control(control)
    for risk in cat.risks:
        checker.risk(risk)
    checker.sources("method", "", cat.method.sources)
    return checker.issues


class _Checker:
    """One check per kind of item; each names file, item and field of what it finds."""

    def __init__(self, cat: Catalogue) -> None:
        self.cat = cat
        self.issues: list[CatalogueIssue] = []
        self.source_ids = {s.id for s in cat.sources}
        self.unit_type_ids = {t.id for t in cat.unit_types}
        self.risk_ids = {r.id for r in cat.risks}
        self.statement_ids: set[str] = set()
        self.factor_ids = [f.id for f in cat.method.exposure.factors]
        # Unit types in which some control mitigates each risk (filled by `control`).
        self.mitigated: dict[str, set[str]] = {r: set() for r in self.risk_ids}

    def add(self, kind: str, item: str, field: str, message: str) -> None:
        from riskmap.catalogue.loader import FILES, CatalogueIssue

        self.issues.append(CatalogueIssue(FILES[kind], item, field, message))

    def sources(self, kind: str, item: str, citations: tuple[Citation, ...]) -> None:
        for i, cite in enumerate(citations):
            if cite.source not in self.source_ids:
                self.add(kind, item, f"sources.{i}.source", f"unknown source {cite.source!r}")
            if cite.quote is None:
                # Without a quote nobody can check that the passage says what the item says.
                self.add(
                    kind, item, f"sources.{i}.quote", "no quote: copy a few words of the passage"
                )

    def principle(self, p: Principle) -> None:
        self.sources("principles", p.id, p.sources)
        for s in p.statements:
            if s.id in self.statement_ids:
                self.add("principles", p.id, "statements", f"duplicate statement id {s.id!r}")
            self.statement_ids.add(s.id)

    def unit_type(self, t: UnitType) -> None:
        self.sources("unit_types", t.id, t.sources)
        missing = [f for f in self.factor_ids if f not in t.exposure]
        unknown = [f for f in t.exposure if f not in self.factor_ids]
        if missing:
            self.add("unit_types", t.id, "exposure", f"missing exposure factors {missing}")
        if unknown:
            self.add("unit_types", t.id, "exposure", f"unknown exposure factors {unknown}")
        for f, v in t.exposure.items():
            if v not in self.cat.method.exposure.levels:
                self.add("unit_types", t.id, f"exposure.{f}", f"{v} is not on the exposure scale")

    def control(self, c: Control) -> None:
        add = self.add
        self.sources("controls", c.id, c.sources)
        # Every strength has its reason, and no reason is left for a link that is gone.
        for r in c.mitigates:
            if r not in c.reasons:
                add("controls", c.id, f"reasons.{r}", "no reason given for this strength")
        for r in c.reasons:
            if r not in c.mitigates:
                add("controls", c.id, f"reasons.{r}", f"reason for {r!r}, not mitigated")
        if c.principle not in self.statement_ids:
            add("controls", c.id, "principle", f"unknown principle statement {c.principle!r}")
        for t in c.unit_types:
            if t not in self.unit_type_ids:
                add("controls", c.id, "unit_types", f"unknown unit type {t!r}")
        levels = sorted(self.cat.method.maturity.levels)
        if sorted(c.maturity) != levels:
            add(
                "controls",
                c.id,
                "maturity",
                f"must describe every maturity level {levels}, got {sorted(c.maturity)}",
            )
        for r in c.mitigates:
            if r not in self.risk_ids:
                add("controls", c.id, f"mitigates.{r}", f"unknown risk {r!r}")
            else:
                self.mitigated[r].update(c.unit_types)

    def risk(self, r: Risk) -> None:
        add, m = self.add, self.cat.method
        self.sources("risks", r.id, r.sources)
        if r.stage not in {s.id for s in self.cat.stages}:
            add("risks", r.id, "stage", f"unknown stage {r.stage!r}")
        if r.corruption_form not in {f.id for f in self.cat.corruption_forms}:
            add("risks", r.id, "corruption_form", f"unknown corruption form {r.corruption_form!r}")
        for t, d in r.defaults.items():
            if t not in self.unit_type_ids:
                add("risks", r.id, f"defaults.{t}", f"unknown unit type {t!r}")
            if d.likelihood not in m.likelihood.levels:
                add("risks", r.id, f"defaults.{t}.likelihood", "not on the likelihood scale")
            if d.impact not in m.impact.levels:
                add("risks", r.id, f"defaults.{t}.impact", "not on the impact scale")
        if not self.mitigated[r.id]:
            add("risks", r.id, "", "no control mitigates this risk")
            return  # its key controls cannot be right either; one issue says it all
        uncovered = [
            t for t in r.defaults if t in self.unit_type_ids and t not in self.mitigated[r.id]
        ]
        if uncovered:
            add(
                "risks",
                r.id,
                "defaults",
                f"no applicable control mitigates it in unit types {uncovered}",
            )
        self.key_controls(r)

    def key_controls(self, r: Risk) -> None:
        if not 2 <= len(r.key_controls) <= 4:
            self.add(
                "risks",
                r.id,
                "key_controls",
                f"name two to four key controls, got {len(r.key_controls)}",
            )
        for i, k in enumerate(r.key_controls):
            key = self.cat.control_by_id.get(k)
            if key is None:
                problem = f"unknown control {k!r}"
            elif r.id not in key.mitigates:
                problem = f"control {k!r} does not mitigate it"
            elif not set(key.unit_types) & set(r.defaults):
                problem = f"control {k!r} applies to none of its unit types"
            else:
                continue
            self.add("risks", r.id, f"key_controls.{i}", problem)
