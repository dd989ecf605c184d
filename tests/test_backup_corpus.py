"""The corpus of damaged and edited backups (`tests/make_bad_backups.py`) through `riskmap restore`.

For every case of `tests/data/bad_backups/cases.yaml`: `riskmap restore FILE` refuses it
(the digest's refusal first for an edited file), and `riskmap restore FILE --accept-edited`
prints exactly the case's lines on stderr, each row problem named by table, row id and
field; after a refusal the target database holds no row at all (all or nothing). The few
edits every rule accepts are restored with --accept-edited only, and that is audited.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import func, inspect, select

import make_bad_backups as corpus
from riskmap import backup_checks, keys
from riskmap.backup import EDITED_ACTION, RestoreError, restore
from riskmap.catalogue import load_catalogue
from riskmap.cli import main
from riskmap.store.engine import make_engine, session_factory
from riskmap.store.migrate import upgrade
from riskmap.store.models import AuditEvent, Base
from test_backup import _backup_of, populate

CASES = yaml.safe_load((corpus.CORPUS / "cases.yaml").read_text(encoding="utf-8"))["cases"]
DIGEST_REFUSALS = {
    "edited": "the backup's content does not match its digest: it was edited after it was made",
    "missing": "the backup carries no digest (made by an older riskmap, or the digest was removed)",
    "other key": "the backup's digest is made with key {attacker}, which this riskmap does not "
    "hold ({{key file}}): use the key file of the installation that made it",
}
ACCEPT_HINT = (
    "; nothing was written (an administrator who knows why may restore it with "
    "--accept-edited, which is recorded in the audit trail)"
)


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> dict:
    url = f"sqlite:///{tmp_path_factory.mktemp('source') / 'source.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    populate(url)
    corpus.add_history(url)
    return _backup_of(url)


def _rows(url: str) -> int:
    """Rows in every table of the database (0 for a table not created yet)."""
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            names = set(inspect(s.connection()).get_table_names())
            return sum(
                s.scalar(select(func.count()).select_from(t))
                for t in Base.metadata.sorted_tables
                if t.name in names
            )
    finally:
        engine.dispose()


def _restore(path: Path, url: str, *flags: str):
    return CliRunner().invoke(main, ["restore", str(path), "--db", url, *flags])


def test_the_corpus_covers_cases_yaml():
    assert [c["file"] for c in CASES] == list(corpus.CASES)
    assert len(CASES) >= 29


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_every_bad_backup_is_refused_naming_table_row_and_field(good, case, tmp_path):
    path = tmp_path / case["file"]
    path.write_bytes(corpus.build(case["file"], good))

    def shown(text: str) -> str:  # the file's folder and the test key file left out
        key_file = os.environ[keys.ENV_FILE]
        return text.replace(str(tmp_path) + "/", "").replace(key_file, "{key file}")

    plain = _restore(path, f"sqlite:///{tmp_path / 'plain.sqlite'}")
    assert plain.exit_code == 1, plain.output
    if "digest" in case:
        why = DIGEST_REFUSALS[case["digest"]].format(attacker=corpus.ATTACKER_KEY.current.id)
        assert shown(plain.stderr).startswith(f"restore refused: {why}")
        assert plain.stderr.rstrip().endswith(ACCEPT_HINT)
    else:  # damaged, not edited: the same refusal with or without --accept-edited
        assert shown(plain.stderr).splitlines() == case["errors"]
    assert _rows(f"sqlite:///{tmp_path / 'plain.sqlite'}") == 0

    target = f"sqlite:///{tmp_path / 'target.sqlite'}"
    forced = _restore(path, target, "--accept-edited")
    lines = shown(forced.stderr).splitlines()
    assert forced.exception is None or isinstance(forced.exception, SystemExit)
    if case.get("restored"):
        assert forced.exit_code == 0, forced.output
        assert lines == case["errors"]
        engine = make_engine(target)
        try:
            with session_factory(engine)() as s:
                last = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        finally:
            engine.dispose()
        assert (last.action, last.entity_id) == (EDITED_ACTION, case["file"])
    else:
        assert forced.exit_code == 1, forced.output
        assert lines == case["errors"]
        assert _rows(target) == 0


@pytest.mark.parametrize(
    "name",
    [
        "20_likelihood_99.json",
        "23_auditor_promoted_to_admin.json",
        "26_nul_in_a_justification.json",
    ],
)
def test_the_rows_are_refused_alike_on_sqlite_and_postgresql(good, name, db_url):
    """The checks run before any row is written, so a NUL never reaches psycopg."""
    data = json.loads(corpus.build(name, good))
    case = next(c for c in CASES if c["file"] == name)
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as s:
            with pytest.raises(RestoreError) as err:
                restore(s, data, accept_edited=True)
            s.rollback()
        assert [str(p) for p in err.value.problems] == case["errors"][1:]
    finally:
        engine.dispose()
    assert _rows(db_url) == 0


def test_the_checks_by_column_find_what_the_checks_by_row_find(good, monkeypatch):
    """`check_rows` skips a column it finds clean as a whole: on every bad backup whose
    rows reach the checks it must name the same problems, in the same order, as when
    every value is looked at (the others are refused for their shape before)."""
    catalogue = load_catalogue()
    tables_of = {}
    for case in CASES:
        try:
            data = json.loads(corpus.build(case["file"], good))
            tables = data["tables"]
            assert isinstance(tables, dict) and all(isinstance(r, list) for r in tables.values())
        except (ValueError, RecursionError, KeyError, TypeError, AssertionError):
            continue  # refused for its shape, before any row is checked
        tables_of[case["file"]] = tables
    assert len(tables_of) >= len(CASES) - 6, sorted(set(c["file"] for c in CASES) - set(tables_of))

    def found(tables):
        return [
            str(p) for p in backup_checks.check_rows(tables, Base.metadata.sorted_tables, catalogue)
        ]

    by_column = {name: found(tables) for name, tables in tables_of.items()}
    monkeypatch.setattr(backup_checks, "_column_clean", lambda *_: False)
    by_row = {name: found(tables) for name, tables in tables_of.items()}
    assert by_column == by_row
    assert sum(bool(v) for v in by_row.values()) >= len(tables_of) // 2  # most name a row
