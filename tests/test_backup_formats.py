"""The streamed backup (`riskmap.backup_write`) against the backups riskmap wrote before it.

`tests/data/old_backup/` holds a .json and a .zip backup written by the code before the
backup was streamed (`tests/make_old_backup.py`), sealed with the public test key beside
them: they must still restore and verify, and a backup of what they restored must be the
same data under the same digest, byte for byte of the digest's canonical JSON. The rows the
driver's cursor gives must be those SQLAlchemy's rows give, at any batch size.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from riskmap import audit, backup_write, keys
from riskmap.backup import _content, backup, digest, digest_problem, dumper, tables_in_order
from riskmap.backup_files import unpack
from riskmap.cli import main
from riskmap.store.engine import make_engine, session_factory
from riskmap.store.migrate import upgrade
from test_backup import populate

OLD = Path(__file__).resolve().parent / "data" / "old_backup"


@pytest.fixture
def old_key(tmp_path, monkeypatch) -> Path:
    """The test key that sealed the old backups, as this run's audit key."""
    key = tmp_path / "old.key"
    shutil.copyfile(OLD / "audit.key", key)
    key.chmod(0o600)
    monkeypatch.setenv(keys.ENV_FILE, str(key))
    monkeypatch.delenv("RISKMAP_EVIDENCE_DIR", raising=False)
    return key


def _old_data(name: str) -> dict:
    raw = (OLD / name).read_bytes()
    return unpack(raw)[0] if name.endswith(".zip") else json.loads(raw)


def _backup_of(url: str) -> dict:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            return backup(s)
    finally:
        engine.dispose()


@pytest.mark.parametrize("name", ["old.json", "old.zip"])
def test_a_backup_written_before_streaming_restores_verifies_and_backs_up_the_same(
    name, old_key, tmp_path
):
    target = f"sqlite:///{tmp_path / 'restored.sqlite'}"
    done = CliRunner().invoke(main, ["restore", str(OLD / name), "--db", target])
    assert done.exit_code == 0, done.output
    assert "digest" not in done.output  # it vouched for the content: no --accept-edited
    assert "audit chain intact: 5 events" in done.output
    old = _old_data(name)
    assert digest_problem(old, keys.keyring()) is None
    again = _backup_of(target)
    assert again == old  # every row, and the digest itself: the same key, the same content
    if name.endswith(".zip"):
        store = tmp_path / "evidence"
        (sha,) = [r["sha256"] for r in old["tables"]["evidence_items"]]
        assert (store / sha[:2] / sha).exists()
        out = tmp_path / "new.zip"
        made = CliRunner().invoke(main, ["backup", "-o", str(out), "--db", target])
        assert made.exit_code == 0, made.output
        data, files = unpack(out.read_bytes())
        assert data == old and list(files) == [sha]
        assert files[sha] == unpack((OLD / name).read_bytes())[1][sha]


def test_an_old_backup_edited_is_still_refused(old_key, tmp_path):
    old = _old_data("old.json")
    old["tables"]["risk_ratings"][0]["likelihood"] = 1
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(old), "utf-8")
    target = f"sqlite:///{tmp_path / 'restored.sqlite'}"
    refused = CliRunner().invoke(main, ["restore", str(edited), "--db", target])
    assert refused.exit_code == 1
    assert "does not match its digest: it was edited after it was made" in refused.output


@pytest.fixture
def source(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'source.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    populate(url)
    return url


def _written(url: str) -> bytes:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            out = io.BytesIO()
            backup_write.write(s, out)
            return out.getvalue()
    finally:
        engine.dispose()


def test_the_file_is_the_digests_canonical_json_with_line_breaks(source):
    body = _written(source)
    data = json.loads(body)
    assert list(data) == ["format", "format_version", "schema_revision", "tables", "digest"]
    assert data["digest"] == digest(data, keys.keyring())
    content, shown_digest = body.rsplit(b'\n},\n"digest":', 1)
    assert content.replace(b"\n", b"") + b"}}" == _content(data)  # no newline inside a row
    assert json.loads(shown_digest[:-2]) == data["digest"]
    rows = [line.rstrip(",") for line in body.decode().splitlines()[1:] if line[:1] == "{"]
    assert len(rows) == sum(len(t) for t in data["tables"].values())  # one row a line
    for row in rows:
        assert row == audit.canonical_json(json.loads(row))


@pytest.mark.parametrize("batch", [1, 2, 3])
def test_any_batch_size_writes_the_same_bytes(source, monkeypatch, batch):
    whole = _written(source)
    monkeypatch.setattr(backup_write, "_BATCH", batch)
    assert _written(source) == whole


def _through_sqlalchemy(url: str) -> dict[str, list[dict]]:
    """Every table read by SQLAlchemy's own rows, each value through `dumper`: what the
    backup wrote before it read the driver's cursor."""
    engine = make_engine(url)
    tables = {}
    try:
        with session_factory(engine)() as s:
            for table in tables_in_order():
                rows = s.connection().execute(select(table).order_by(*table.primary_key))
                dumps = [dumper(col) for col in table.columns]
                tables[table.name] = [
                    {
                        col.name: v if v is None or dump is None else dump(v)
                        for col, dump, v in zip(table.columns, dumps, row, strict=True)
                    }
                    for row in rows
                ]
    finally:
        engine.dispose()
    return tables


def test_the_drivers_rows_are_sqlalchemys_rows(source):
    engine = make_engine(source)
    try:  # a timestamp in another form than SQLAlchemy writes, and one without microseconds
        with engine.begin() as conn:
            conn.execute(text("UPDATE comments SET at = '2025-02-03 04:05:06'"))
            conn.execute(text("UPDATE cycles SET started_at = '2025-02-03 04:05:06.000000'"))
    finally:
        engine.dispose()
    data = _backup_of(source)
    assert data["tables"] == _through_sqlalchemy(source)
    assert {r["at"] for r in data["tables"]["comments"]} == {"2025-02-03T04:05:06+00:00"}
    assert {r["started_at"] for r in data["tables"]["cycles"]} == {"2025-02-03T04:05:06+00:00"}
    assert data["tables"]["cycles"][0]["locked_at"] == "2024-12-02T00:00:00+00:00"
    assert data["tables"]["actions"][0]["cost"] == 1e6 / 3
