"""Load the catalogue folder into one immutable `Catalogue`, reporting every error at once.

Why every error at once: whoever edits the catalogue (an admin, a methodologist) fixes a
file in one pass instead of discovering problems one run at a time. Each issue names the
file, the item id and the field, so it can be found without reading a traceback.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from riskmap.catalogue.models import (
    Band,
    Control,
    CorruptionForm,
    Method,
    Principle,
    Risk,
    Source,
    Stage,
    Statement,
    UnitType,
)
from riskmap.catalogue.overrides import Overrides, default_overrides
from riskmap.catalogue.overrides import apply as apply_overrides

FILES = {
    "sources": "sources.yaml",
    "principles": "principles.yaml",
    "unit_types": "unit_types.yaml",
    "risks": "risks.yaml",
    "controls": "controls.yaml",
    "method": "method.yaml",
}

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class CatalogueIssue:
    file: str
    item: str
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.item:
            where += f" [{self.item}]"
        if self.field:
            where += f" {self.field}"
        return f"{where}: {self.message}"


class CatalogueError(Exception):
    """The catalogue could not be loaded; `issues` lists every problem found."""

    def __init__(self, issues: list[CatalogueIssue]):
        self.issues = issues
        lines = "\n".join(f"  - {issue}" for issue in issues)
        super().__init__(f"catalogue has {len(issues)} error(s):\n{lines}")


def default_directory() -> Path:
    """Where the catalogue lives: $RISKMAP_CATALOGUE_DIR, ./controls_catalogue, or the repo's."""
    env = os.environ.get("RISKMAP_CATALOGUE_DIR")
    if env:
        return Path(env)
    here = Path.cwd() / "controls_catalogue"
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[3] / "controls_catalogue"


class Catalogue(BaseModel):
    """The catalogue in force: what is assessed, against what, and by which method."""

    model_config = {"frozen": True}

    version: str
    sources: tuple[Source, ...]
    principles: tuple[Principle, ...]
    unit_types: tuple[UnitType, ...]
    stages: tuple[Stage, ...]
    corruption_forms: tuple[CorruptionForm, ...]
    risks: tuple[Risk, ...]
    controls: tuple[Control, ...]
    method: Method
    # The local overrides file applied (see riskmap.catalogue.overrides), and the values it
    # changed as dotted paths; empty when the shipped catalogue is used as it is.
    overrides_file: str | None = None
    overridden: tuple[str, ...] = ()

    @cached_property
    def risk_by_id(self) -> dict[str, Risk]:
        return {r.id: r for r in self.risks}

    @cached_property
    def control_by_id(self) -> dict[str, Control]:
        return {c.id: c for c in self.controls}

    @cached_property
    def unit_type_by_id(self) -> dict[str, UnitType]:
        return {t.id: t for t in self.unit_types}

    @cached_property
    def statement_by_id(self) -> dict[str, Statement]:
        return {s.id: s for p in self.principles for s in p.statements}

    @cached_property
    def principle_of_statement(self) -> dict[str, Principle]:
        return {s.id: p for p in self.principles for s in p.statements}

    def band_for(
        self, score: float, likelihood: float | None = None, impact: float | None = None
    ) -> Band:
        """The band of one score: `riskmap.scoring.band_ids`, the one band rule (a declared
        matrix cell when likelihood and impact are given, else the thresholds)."""
        from riskmap.scoring.residual import band_ids

        lik = None if likelihood is None else [likelihood]
        imp = None if impact is None else [impact]
        band_id = band_ids(self, [score], lik, imp)[0]
        return next(b for b in self.method.bands if b.id == band_id)

    def risks_for(self, unit_type: str) -> list[Risk]:
        return [r for r in self.risks if unit_type in r.defaults]

    def controls_for(self, unit_type: str) -> list[Control]:
        return [c for c in self.controls if unit_type in c.unit_types]

    def summary(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "sources": len(self.sources),
            "principles": len(self.principles),
            "statements": sum(len(p.statements) for p in self.principles),
            "unit_types": len(self.unit_types),
            "stages": len(self.stages),
            "risks": len(self.risks),
            "controls": len(self.controls),
            "method": f"{self.method.name} {self.method.version}",
            "overrides": (
                f"{self.overrides_file} ({len(self.overridden)} values)"
                if self.overrides_file
                else "none"
            ),
        }


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """A safe loader that rejects duplicate mapping keys.

    PyYAML keeps the last of two equal keys silently, so a repeated key (say a risk listed
    twice under a control's `mitigates`) would lose data without any error. Built on
    libyaml's C parser where PyYAML has it (the same safe constructor, much faster parsing).
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read_yaml(directory: Path, kind: str, issues: list[CatalogueIssue]) -> Any:
    name = FILES[kind]
    path = directory / name
    if not path.is_file():
        issues.append(CatalogueIssue(name, "", "", f"file not found in {directory}"))
        return None
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        issues.append(CatalogueIssue(name, "", where, f"malformed YAML: {problem}"))
        return None
    except UnicodeDecodeError as exc:
        issues.append(CatalogueIssue(name, "", "", f"not UTF-8 text: {exc}"))
        return None
    if data is None:
        # An empty (or comment-only) file would otherwise load as "no items" and surface only
        # as a flood of unknown-reference errors elsewhere.
        issues.append(CatalogueIssue(name, "", "", "file is empty"))
    return data


def _field_path(loc: Iterable[Any]) -> str:
    return ".".join(str(part) for part in loc)


def _validate(
    model: type[M], raw: Any, file: str, item: str, issues: list[CatalogueIssue]
) -> M | None:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown field"
            elif err["type"] == "missing":
                msg = "required field is missing"
            issues.append(CatalogueIssue(file, item, _field_path(err["loc"]), msg))
        return None


def _items(model: type[M], data: Any, key: str, kind: str, issues: list[CatalogueIssue]) -> list[M]:
    """Validate a list of items one by one, so each error names the item it belongs to."""
    file = FILES[kind]
    if data is None:
        return []
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        issues.append(CatalogueIssue(file, "", key, f"expected a top-level list '{key}:'"))
        return []
    out: list[M] = []
    seen: set[str] = set()
    for index, raw in enumerate(data[key]):
        item = str(raw.get("id")) if isinstance(raw, dict) and raw.get("id") else f"#{index + 1}"
        parsed = _validate(model, raw, file, item, issues)
        if parsed is None:
            continue
        if parsed.id in seen:  # type: ignore[attr-defined]
            issues.append(CatalogueIssue(file, item, "id", "duplicate id"))
            continue
        seen.add(parsed.id)  # type: ignore[attr-defined]
        out.append(parsed)
    return out


def _version(raw: dict[str, Any]) -> str:
    """Hash of the parsed content: comments and layout do not change the version, data does."""
    canonical = json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def _read_overrides(path: Path, issues: list[CatalogueIssue]) -> tuple[Overrides | None, Any]:
    name = path.name
    if not path.is_file():
        issues.append(CatalogueIssue(name, "", "", f"overrides file {path} not found"))
        return None, None
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)  # noqa: S506
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        issues.append(CatalogueIssue(name, "", "", f"malformed overrides file: {exc}"))
        return None, None
    parsed = _validate(Overrides, data or {}, name, "", issues)
    return parsed, data


def load_catalogue(
    directory: str | Path | None = None, overrides: str | Path | bool | None = None
) -> Catalogue:
    """Load and cross-check the catalogue; raise `CatalogueError` listing every problem.

    `overrides`: a local overrides file to apply (riskmap.catalogue.overrides); None looks
    for the default one ($RISKMAP_CATALOGUE_OVERRIDES, else `<folder>.local.yaml`), False
    applies none.
    """
    directory = Path(directory) if directory is not None else default_directory()
    if overrides is None or overrides is True:
        overrides_path = default_overrides(directory)
    elif overrides is False:
        overrides_path = None
    else:
        overrides_path = Path(overrides)
    key = _content_key(directory, overrides_path)
    if key is not None and key in _LOADED:
        return _LOADED[key]
    catalogue = _load(directory, overrides_path)
    if key is not None:
        if len(_LOADED) >= 8:
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = catalogue
    return catalogue


# Catalogues already loaded, by the bytes of their files: the same files are never parsed
# and validated twice in one process (every command, page and test loads the catalogue).
_LOADED: dict[str, Catalogue] = {}


def _content_key(directory: Path, overrides_path: Path | None) -> str | None:
    """A hash of every file the catalogue is read from, or None if one cannot be read (the
    loader then reports it)."""
    digest = hashlib.sha256(str(directory.resolve()).encode())
    paths = [directory / FILES[kind] for kind in FILES]
    if overrides_path is not None:
        paths.append(overrides_path)
    for path in paths:
        try:
            digest.update(path.read_bytes() if path.is_file() else b"\0missing")
        except OSError:
            return None
        digest.update(b"\0" + path.name.encode())
    return digest.hexdigest()


def _load(directory: Path, overrides_path: Path | None) -> Catalogue:
    issues: list[CatalogueIssue] = []
    raw = {kind: _read_yaml(directory, kind, issues) for kind in FILES}

    overridden: list[str] = []
    hashed: dict[str, Any] = raw
    if overrides_path is not None:
        parsed, data = _read_overrides(overrides_path, issues)
        if parsed is not None:
            raw, overridden, unknown = apply_overrides(raw, parsed)
            for item, field, message in unknown:
                issues.append(CatalogueIssue(overrides_path.name, item, field, message))
            # The version covers the overrides themselves, so it changes whenever they apply.
            hashed = {**raw, "local overrides": data}

    sources = _items(Source, raw["sources"], "sources", "sources", issues)
    principles = _items(Principle, raw["principles"], "principles", "principles", issues)
    unit_types = _items(UnitType, raw["unit_types"], "unit_types", "unit_types", issues)
    stages = _items(Stage, raw["risks"], "stages", "risks", issues)
    forms = _items(CorruptionForm, raw["risks"], "corruption_forms", "risks", issues)
    risks = _items(Risk, raw["risks"], "risks", "risks", issues)
    controls = _items(Control, raw["controls"], "controls", "controls", issues)
    method = None
    if raw["method"] is not None:
        method = _validate(Method, raw["method"], FILES["method"], "", issues)

    if method is None or issues:
        # Cross-checks on a partly parsed catalogue would mostly repeat the errors above.
        if method is None and not issues:
            issues.append(CatalogueIssue(FILES["method"], "", "", "method is empty"))
        raise CatalogueError(issues)

    from riskmap.catalogue.checks import cross_check

    catalogue = Catalogue(
        version=_version(hashed),
        sources=tuple(sources),
        principles=tuple(principles),
        unit_types=tuple(unit_types),
        stages=tuple(stages),
        corruption_forms=tuple(forms),
        risks=tuple(risks),
        controls=tuple(controls),
        method=method,
        overrides_file=str(overrides_path) if overrides_path is not None else None,
        overridden=tuple(overridden),
    )
    issues.extend(cross_check(catalogue))
    if issues:
        raise CatalogueError(issues)
    return catalogue


def version_notice(cycle_version: str | None, catalogue: Catalogue) -> str | None:
    """What to tell the reader when a cycle was started under another catalogue version.

    A cycle keeps the version it was started under; when the catalogue in force has changed
    since (a new release, or local overrides), the sidebar and the workbook say so, because
    the scores they show are computed with the catalogue in force. None when they agree.
    """
    if not cycle_version or cycle_version == catalogue.version:
        return None
    return (
        f"This cycle was started under catalogue version {cycle_version}; the catalogue in "
        f"force is version {catalogue.version}. Scores, plan and exports use the catalogue "
        "in force."
    )
