#!/usr/bin/env python3
"""Rename `unit_id` to `unit_code` wherever the unit's code is meant (issue 13).

`unit_id` named two things: the unit's code in frames, CSV files, the workbook, charts and
pages, and the integer key of a unit in the store (`RiskRating.unit_id`, `units.id`). This
script renames the first and leaves the second, so the merger can run it again on a merged
tree (it is idempotent: a second run changes nothing) and read what it changed.

    python tools/rename_unit_code.py [--check] [ROOT]

ROOT defaults to the repository holding this script. `--check` changes nothing and exits 1
if anything would change. Every change is printed as `path:line: old -> new`.

What is renamed, in the Python files of src/, tests/, bench/ and app.py:
- the word `unit_id` in strings, f-strings, docstrings and comments ("unit_id" columns,
  `Unit.code.label("unit_id")`, help texts), unless the text speaks of the store's key
  (a model's attribute such as `RiskRating.unit_id`, `units.id`, a foreign key, SQL); in
  an f-string a bare `{unit_id}` is a local variable and stays;
- an attribute `.unit_id` of a frame's row (itertuples) or a dataclass of codes, unless
  its receiver is a model (a capitalised name), a table's columns (`.c.unit_id`) or a
  name this script knows is an ORM row (`FK_RECEIVERS`);
- a keyword argument `unit_id=` (`frame.assign(unit_id=...)`, `row.update(unit_id=...)`)
  unless its value is an integer key (`u.id`, `unit.id`, a number);
and the word in README.md and docs/*.md (unless the line speaks of the store's key).
Never touched: the store, its migrations, backups (their rows carry the store's column
names) and this script; lines that `KEEP` names (a dict of store columns for an insert).
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import tokenize
from pathlib import Path

OLD, NEW = "unit_id", "unit_code"
WORD = re.compile(r"\bunit_id\b")
# Text that speaks of the store's integer key keeps the word.
FK_TEXT = re.compile(
    r"\b[A-Z]\w*\.unit_id\b|\.c\.unit_id\b|\bunits\.id\b|foreign key|integer key|"
    r"store's (integer )?key|\bint(eger)? foreign|\bSELECT\b|\bFROM [a-z_]+\b|\bWHERE\b"
)
# In an f-string, `{unit_id}` is a local variable (kept); `{row.unit_id}` is renamed.
F_WORD = re.compile(r"(?<![{\w])(?<!\{ )unit_id\b")
F_PREFIX = re.compile(r"^[rRbB]?[fF][rRbB]?['\"]")
SKIP = (
    "src/riskmap/migrations/",
    "src/riskmap/store/",
    "src/riskmap/backup.py",
    "src/riskmap/backup_checks.py",
    "src/riskmap/backup_files.py",
    "src/riskmap/service/seeding.py",  # rows of store columns, for inserts
    "src/riskmap/demo.py",  # the seeding's rows
    "tests/make_bad_backups.py",
    "tests/data/",
    "tests/test_backup.py",
    "tests/test_backup_corpus.py",
    "tests/test_store.py",
    "tools/",
)
# Lines kept as they are: dicts of store columns (inserts), and the old CSV header alias.
KEEP_ANYWHERE = [
    re.compile(r"[\"']unit_id[\"']:\s*[\w.\[\]]*\bid\b"),  # "unit_id": unit.id / u.id
    re.compile(r"OLD_HEADERS|old header|before the rename|the store's key"),
    re.compile(r"\(\"unit\", \"unit_code\", \"unit_id\"\)"),  # old trails' word too
]
KEEP = {
    "src/riskmap/service/plans.py": [re.compile(r"[\"']unit_id[\"']:\s*unit_id\b")],
    "src/riskmap/demo_progress.py": [re.compile(r"[\"']unit_id[\"']:\s*c\.unit_id\b")],
    "tests/test_service_exports.py": [re.compile(r"[\"']unit_id[\"']:\s*ids\[")],
}
# Names that hold ORM rows, model classes or table columns (their `.unit_id` is the key).
FK_RECEIVERS = {"model", "e", "old", "table", "item", "action"}
FK_RECEIVERS_IN = {
    "src/riskmap/service/exports.py": {"r"},
    "src/riskmap/demo_progress.py": {"rr", "c"},
    "src/riskmap/service/seeding.py": {"row", "c"},
}
TEXT_FILES = ("README.md", "docs/*.md")
PY_DIRS = ("src", "tests", "bench")


def _skipped(rel: str) -> bool:
    return any(rel == s or rel.startswith(s) for s in SKIP)


def _kept(rel: str, line: str) -> bool:
    rules = KEEP_ANYWHERE + KEEP.get(rel, [])
    return any(r.search(line) for r in rules)


def _text(rel: str, value: str) -> str:
    """A string or comment renamed line by line (a docstring's line about the store's key,
    or one `KEEP` names, stays)."""
    if FK_TEXT.search(value):
        return value
    word = F_WORD if F_PREFIX.match(value) else WORD
    return "".join(
        line if _kept(rel, line) else word.sub(NEW, line)
        for line in value.splitlines(keepends=True)
    )


def _is_key_value(tokens: list[tokenize.TokenInfo], i: int) -> bool:
    """After `unit_id =` (token i is '='): is the value the store's key (u.id, a number)?"""
    rest = [t for t in tokens[i + 1 : i + 4] if t.type not in (tokenize.NL, tokenize.COMMENT)]
    if rest and rest[0].type == tokenize.NUMBER:
        return True
    return (
        len(rest) >= 3
        and rest[0].type == tokenize.NAME
        and rest[1].string == "."
        and rest[2].string == "id"
    )


def _python_edits(rel: str, source: str) -> list[tuple[int, int, str]]:
    """(start offset, end offset, new text) of every token to rewrite."""
    lines = source.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(pos: tuple[int, int]) -> int:
        return starts[pos[0] - 1] + pos[1]

    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    receivers = FK_RECEIVERS | FK_RECEIVERS_IN.get(rel, set())
    edits = []
    depth = 0
    for i, tok in enumerate(tokens):
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
        if OLD not in tok.string or _kept(rel, lines[tok.start[0] - 1]):
            continue
        new = None
        if tok.type in (tokenize.STRING, tokenize.COMMENT):
            column_key = (
                i >= 2
                and tokens[i - 1].string in ("==", "!=")
                and (
                    tokens[i - 2].string in ("key", "name")  # `c.key != "unit_id"`: a store column
                )
            )
            new = None if column_key else _text(rel, tok.string)
        elif tok.type == tokenize.NAME and tok.string == OLD:
            before = tokens[i - 1] if i else None
            after = tokens[i + 1] if i + 1 < len(tokens) else None
            if before is not None and before.string == ".":
                owner = tokens[i - 2] if i >= 2 else None
                ours = owner is not None and owner.type == tokenize.NAME
                key = ours and (
                    owner.string[:1].isupper()
                    or owner.string in receivers
                    or (owner.string == "c" and i >= 3 and tokens[i - 3].string == ".")
                )
                new = None if key else NEW
            elif after is not None and after.string == "=" and depth > 0:
                new = None if _is_key_value(tokens, i + 1) else NEW
        if new is not None and new != tok.string:
            edits.append((offset(tok.start), offset(tok.end), new))
    return edits


def _apply(source: str, edits: list[tuple[int, int, str]]) -> str:
    out = source
    for start, end, new in sorted(edits, reverse=True):
        out = out[:start] + new + out[end:]
    return out


def _report(rel: str, old: str, new: str) -> int:
    changed = 0
    for n, (a, b) in enumerate(zip(old.splitlines(), new.splitlines(), strict=True), start=1):
        if a != b:
            changed += 1
            print(f"{rel}:{n}: {a.strip()}  ->  {b.strip()}")
    return changed


def _files(root: Path) -> list[Path]:
    found = [root / "app.py"] if (root / "app.py").exists() else []
    for d in PY_DIRS:
        found += sorted((root / d).rglob("*.py"))
    for pattern in TEXT_FILES:
        found += sorted(root.glob(pattern))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", nargs="?", default=str(Path(__file__).resolve().parents[1]))
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if due")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    total = files = 0
    for path in _files(root):
        rel = path.relative_to(root).as_posix()
        if _skipped(rel):
            continue
        old = path.read_text(encoding="utf-8")
        if OLD not in old:
            continue
        if path.suffix == ".py":
            new = _apply(old, _python_edits(rel, old))
        else:
            new = "".join(
                line if FK_TEXT.search(line) or _kept(rel, line) else WORD.sub(NEW, line)
                for line in old.splitlines(keepends=True)
            )
        if new == old:
            continue
        files += 1
        total += _report(rel, old, new)
        if not args.check:
            path.write_text(new, encoding="utf-8")
    verb = "would change" if args.check else "changed"
    print(f"{verb} {total} line(s) in {files} file(s)")
    return 1 if args.check and total else 0


if __name__ == "__main__":
    sys.exit(main())
