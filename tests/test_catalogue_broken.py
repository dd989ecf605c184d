"""Broken catalogues are rejected with an issue that names the file, item and field at fault.

Each case in tests/data/broken_catalogues/<case>/case.yaml describes one mutation of the
shipped catalogue and the issue(s) it must produce, so the corpus stays small and follows
the shipped catalogue as it evolves. A case.yaml holds:

    description: what is broken
    file: the file to mutate (a mutation may name its own `file` instead)
    mutation: one mutation, or a list of them; `op` is one of
        set          {path, value}   set a key or list element (created if absent)
        delete       {path}          remove a key or list element
        append       {path, value}   append to a list
        rename       {path, to}      rename the key at path, keeping its value
        replace_text {old, new, count?}  edit the text (count absent: `old` occurs once)
        raw          {text, encoding?}   replace the whole file (e.g. malformed YAML)
        delete_file  {}              remove the file
    expect: one issue, or a list of them: {file, item, field | field_matches, message_contains}

Paths are dotted strings or lists of segments; a segment "@ID" picks the list element whose
`id` is ID, a number indexes a list, and a mapping key that is an integer in YAML (a scale
level) may be written as a string. Structural ops parse the YAML and dump it back with
yaml.safe_dump; replace_text and raw work on the text. The expected issues must be exactly
the ones produced: a case that also set off unrelated errors would not test what it says.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from riskmap.catalogue import CatalogueError, CatalogueIssue, load_catalogue

SHIPPED = Path(__file__).resolve().parents[1] / "controls_catalogue"
CORPUS = Path(__file__).resolve().parent / "data" / "broken_catalogues"
CASES = sorted(p.parent for p in CORPUS.glob("*/case.yaml"))
OPS = {"set", "delete", "append", "rename", "replace_text", "raw", "delete_file"}


# --------------------------------------------------------------------------- helper


def _segments(path: str | list[Any]) -> list[Any]:
    if isinstance(path, list):
        return path
    return path.split(".")


def _step(node: Any, segment: Any, where: str) -> Any:
    """One step down the tree; `where` only serves the error message."""
    if isinstance(node, list):
        return node[_index(node, segment, where)]
    if isinstance(node, dict):
        return node[_key(node, segment, where, must_exist=True)]
    raise KeyError(f"{where}: cannot descend into {type(node).__name__} with {segment!r}")


def _index(node: list[Any], segment: Any, where: str) -> int:
    if isinstance(segment, str) and segment.startswith("@"):
        wanted = segment[1:]
        for i, element in enumerate(node):
            if isinstance(element, dict) and str(element.get("id")) == wanted:
                return i
        raise KeyError(f"{where}: no element with id {wanted!r}")
    index = int(segment)
    if not -len(node) <= index < len(node):
        raise KeyError(f"{where}: index {index} out of range")
    return index


def _key(node: dict[Any, Any], segment: Any, where: str, must_exist: bool) -> Any:
    if segment in node:
        return segment
    if isinstance(segment, str) and re.fullmatch(r"-?\d+", segment) and int(segment) in node:
        return int(segment)
    if must_exist:
        raise KeyError(f"{where}: no key {segment!r}")
    return segment


def _apply_structural(data: Any, mutation: dict[str, Any]) -> None:
    op = mutation["op"]
    segments = _segments(mutation.get("path", []))
    where = str(mutation.get("path"))
    if op == "append":
        target = data
        for seg in segments:
            target = _step(target, seg, where)
        if not isinstance(target, list):
            raise TypeError(f"{where}: append needs a list, got {type(target).__name__}")
        target.append(mutation["value"])
        return
    parent = data
    for seg in segments[:-1]:
        parent = _step(parent, seg, where)
    last = segments[-1]
    if op == "set":
        if isinstance(parent, list):
            parent[_index(parent, last, where)] = mutation["value"]
        else:
            parent[_key(parent, last, where, must_exist=False)] = mutation["value"]
    elif op == "delete":
        if isinstance(parent, list):
            del parent[_index(parent, last, where)]
        else:
            del parent[_key(parent, last, where, must_exist=True)]
    elif op == "rename":
        key = _key(parent, last, where, must_exist=True)
        if mutation["to"] in parent:
            raise KeyError(f"{where}: cannot rename to existing key {mutation['to']!r}")
        parent[mutation["to"]] = parent.pop(key)
    else:
        raise ValueError(f"unknown op {op!r}")


def apply_mutation(directory: Path, mutation: dict[str, Any]) -> None:
    """Apply one mutation to the catalogue copy in `directory`; fail loudly if it misses."""
    op = mutation["op"]
    assert op in OPS, f"unknown op {op!r}"
    path = directory / mutation["file"]
    if op == "delete_file":
        path.unlink()
    elif op == "raw":
        path.write_bytes(mutation["text"].encode(mutation.get("encoding", "utf-8")))
    elif op == "replace_text":
        text = path.read_text(encoding="utf-8")
        old, count = mutation["old"], mutation.get("count")
        found = text.count(old)
        if count is None:
            assert found == 1, f"{path.name}: {old!r} occurs {found} times, expected once"
            count = 1
        assert found >= count, f"{path.name}: {old!r} occurs {found} times, expected {count}"
        path.write_text(text.replace(old, mutation["new"], count), encoding="utf-8")
    else:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        _apply_structural(data, mutation)
        path.write_text(
            yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000),
            encoding="utf-8",
        )


def mutations_of(case: dict[str, Any]) -> list[dict[str, Any]]:
    raw = case["mutation"]
    out = []
    for mutation in raw if isinstance(raw, list) else [raw]:
        mutation = dict(mutation)
        mutation.setdefault("file", case.get("file"))
        assert mutation["file"], "a mutation needs a file (its own or the case's)"
        out.append(mutation)
    return out


def broken_copy(tmp_path: Path, mutations: list[dict[str, Any]]) -> Path:
    """Copy the shipped catalogue into tmp_path and apply the mutations to the copy."""
    directory = tmp_path / "controls_catalogue"
    shutil.copytree(SHIPPED, directory)
    for mutation in mutations:
        apply_mutation(directory, mutation)
    return directory


def issues_of(directory: Path) -> list[CatalogueIssue]:
    with pytest.raises(CatalogueError) as info:
        load_catalogue(directory)
    assert info.value.issues, "CatalogueError raised without any issue"
    return info.value.issues


def matches(issue: CatalogueIssue, expected: dict[str, Any]) -> bool:
    if issue.file != expected["file"] or issue.item != str(expected["item"]):
        return False
    if "field_matches" in expected:
        if not re.search(expected["field_matches"], issue.field):
            return False
    elif issue.field != str(expected["field"]):
        return False
    return expected["message_contains"] in issue.message


def load_case(folder: Path) -> dict[str, Any]:
    return yaml.safe_load((folder / "case.yaml").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- corpus


def test_corpus_is_large_enough_and_well_formed():
    assert len(CASES) >= 14
    for folder in CASES:
        assert sorted(p.name for p in folder.iterdir()) == ["case.yaml"], folder.name
        case = load_case(folder)
        assert set(case) <= {"description", "file", "mutation", "expect"}, folder.name
        assert case.get("description"), folder.name
        for mutation in mutations_of(case):
            assert mutation["op"] in OPS, folder.name
        expected = case["expect"] if isinstance(case["expect"], list) else [case["expect"]]
        for exp in expected:
            assert {"file", "item", "message_contains"} <= set(exp), folder.name
            assert ("field" in exp) != ("field_matches" in exp), folder.name


def test_unmutated_copy_loads(tmp_path):
    """The helper's copy (and a structural no-op round trip) is itself a valid catalogue."""
    directory = broken_copy(tmp_path, [])
    for name in ("controls.yaml", "method.yaml"):  # dump back without a change
        path = directory / name
        path.write_text(yaml.safe_dump(yaml.safe_load(path.read_text(encoding="utf-8"))))
    # Parsed content is unchanged by the round trip, so the version hash must be too.
    assert load_catalogue(directory).version == load_catalogue().version


def test_helper_fails_loudly_when_a_mutation_misses(tmp_path):
    with pytest.raises(KeyError, match="no element with id"):
        broken_copy(
            tmp_path,
            [{"file": "controls.yaml", "op": "delete", "path": "controls.@no_such_control.id"}],
        )


@pytest.mark.parametrize("folder", CASES, ids=[c.name for c in CASES])
def test_broken_catalogue_reports_the_expected_issue(tmp_path, folder):
    case = load_case(folder)
    issues = issues_of(broken_copy(tmp_path, mutations_of(case)))
    expected = case["expect"] if isinstance(case["expect"], list) else [case["expect"]]
    listing = "\n".join(f"  {issue!r}" for issue in issues)
    for exp in expected:
        assert any(matches(issue, exp) for issue in issues), f"{exp} not in:\n{listing}"
    assert len(issues) == len(expected), f"unexpected extra issues:\n{listing}"


# --------------------------------------------------------------------------- all at once


def test_independent_errors_in_different_files_are_all_reported(tmp_path):
    """Validation errors in four files come back from one load, each naming its place."""
    directory = broken_copy(
        tmp_path,
        [
            {"file": "sources.yaml", "op": "delete", "path": "sources.@OECD-2016.title"},
            {"file": "risks.yaml", "op": "delete", "path": "risks.@REC-01.red_flags"},
            {
                "file": "controls.yaml",
                "op": "set",
                "path": "controls.@code_of_conduct.kind",
                "value": "punitive",
            },
            {"file": "method.yaml", "op": "set", "path": "bands.@low.color", "value": "yellow"},
            {"file": "unit_types.yaml", "op": "raw", "text": "unit_types: [\n"},
        ],
    )
    found = {(i.file, i.item, i.field) for i in issues_of(directory)}
    assert ("sources.yaml", "OECD-2016", "title") in found
    assert ("risks.yaml", "REC-01", "red_flags") in found
    assert ("controls.yaml", "code_of_conduct", "kind") in found
    assert ("method.yaml", "", "bands.0.color") in found
    assert any(f == "unit_types.yaml" and field.startswith("line ") for f, _, field in found)
    assert len(found) == 5


def test_independent_cross_check_errors_in_different_files_are_all_reported(tmp_path):
    directory = broken_copy(
        tmp_path,
        [
            {
                "file": "unit_types.yaml",
                "op": "set",
                "path": "unit_types.@border_control.exposure.contact",
                "value": 0,
            },
            {
                "file": "controls.yaml",
                "op": "set",
                "path": "controls.@code_of_conduct.principle",
                "value": "P9.9",
            },
            {"file": "risks.yaml", "op": "set", "path": "risks.@REC-01.stage", "value": "nowhere"},
            {
                "file": "principles.yaml",
                "op": "set",
                "path": "principles.@P1.sources.0.source",
                "value": "NOBODY",
            },
        ],
    )
    issues = issues_of(directory)
    found = {(i.file, i.item, i.field) for i in issues}
    assert found == {
        ("unit_types.yaml", "border_control", "exposure.contact"),
        ("controls.yaml", "code_of_conduct", "principle"),
        ("risks.yaml", "REC-01", "stage"),
        ("principles.yaml", "P1", "sources.0.source"),
    }
    # The exception text lists every issue, one line each, so a CLI or a log shows them all.
    with pytest.raises(CatalogueError) as info:
        load_catalogue(directory)
    text = str(info.value)
    assert f"catalogue has {len(issues)} error(s)" in text
    for issue in issues:
        assert f"  - {issue}" in text


def test_issue_string_names_file_item_and_field():
    issue = CatalogueIssue("controls.yaml", "code_of_conduct", "principle", "unknown thing")
    assert str(issue) == "controls.yaml [code_of_conduct] principle: unknown thing"
    assert str(CatalogueIssue("method.yaml", "", "", "method is empty")) == (
        "method.yaml: method is empty"
    )
