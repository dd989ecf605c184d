"""Makes `tests/data/old_backup/`: backups written by an earlier riskmap, kept as files.

Run once with the code whose backups must stay readable (it was run on main at commit
bd09cab, before the backup was streamed), never to refresh the files with today's code:

    cd tests && RISKMAP_AUDIT_KEY_FILE=data/old_backup/audit.key \\
        PYTHONPATH=/work/main/src python make_old_backup.py

The database is `test_backup.populate` plus `make_bad_backups.add_history`, a unit's
scope and an evidence item with its file, so every column type is in the files (dates,
times with and without microseconds, JSON, booleans, floats, text in several scripts).
`test_backup_formats.py` restores both files and checks their digest, chain and rows.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from click.testing import CliRunner

import make_bad_backups
from riskmap.cli import main
from riskmap.store.engine import make_engine, session_factory
from riskmap.store.migrate import upgrade
from riskmap.store.models import Cycle, EvidenceItem, Unit, User, UserScope
from test_backup import populate

OUT = Path(__file__).resolve().parent / "data" / "old_backup"
FILE = b"%PDF-1.4\n% an evidence file kept in the old zip backup\n%%EOF\n"


def build(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    populate(url)
    make_bad_backups.add_history(url)
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s, s.begin():
            cycle = s.query(Cycle).filter_by(label="2025").one()
            unit = s.query(Unit).filter_by(code="BC-N").one()
            officer = s.query(User).filter_by(username="officer").one()
            s.add(UserScope(user_id=officer.id, kind="unit", value="BC"))
            import hashlib

            s.add(
                EvidenceItem(
                    cycle_id=cycle.id, unit_id=unit.id, control_id="staff_rotation",
                    kind="file", checklist_entry="Rotation plan 2025", file_name="plan.pdf",
                    media_type="application/pdf", size=len(FILE),
                    sha256=hashlib.sha256(FILE).hexdigest(), added_by="officer",
                )
            )  # fmt: skip
    finally:
        engine.dispose()


if __name__ == "__main__":
    assert os.environ.get("RISKMAP_AUDIT_KEY_FILE"), "set RISKMAP_AUDIT_KEY_FILE"
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/old.sqlite"
        os.environ["RISKMAP_EVIDENCE_DIR"] = f"{folder}/evidence"
        build(url)
        from riskmap.evidence_files import EvidenceStore

        EvidenceStore(Path(f"{folder}/evidence")).put(FILE)
        for name in ("old.json", "old.zip"):
            made = CliRunner().invoke(main, ["backup", "-o", str(OUT / name), "--db", url])
            print(made.output, file=sys.stderr)
            assert made.exit_code == 0
