"""The whole bad-questionnaire corpus through `riskmap import`, and files no questionnaire is.

Each file of `tests/data/bad_questionnaires/cases.yaml` is imported with the command line
into a copy of the corpus's database: the exit status is 1, stderr holds exactly the case's
refusals (each naming its sheet and cell, or the part of the zip) and the closing line, no
traceback, and the database is unchanged. `/dev/zero` and a huge sparse file are refused
after reading one byte over the limit, never read whole.
"""

from __future__ import annotations

import resource
import shutil

import pytest
from click.testing import CliRunner

from riskmap.cli import main
from riskmap.reports.safety import MAX_UPLOAD_BYTES
from riskmap.service import Service
from test_service_exports import CASES, CAT, _expected, corpus, corpus_db, corpus_files, dump  # noqa: F401  # noqa: F401 - fixtures

TOO_LARGE = (
    "the file is over the 20 MB limit; a questionnaire is much smaller: upload the template "
    "you filled in"
)

SPARSE_TOO_LARGE = TOO_LARGE.replace("is over", "is 1536.0 MB, over")


def _import(path, db: str):
    args = ["import", str(path), "--cycle", corpus.CYCLE, "--user", "officer", "--db", db]
    return CliRunner().invoke(main, args)


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_every_bad_file_is_refused_by_the_command_line(corpus_db, corpus_files, case, tmp_path):  # noqa: F811
    path = tmp_path / "riskmap.sqlite"
    shutil.copyfile(corpus_db, path)
    db = f"sqlite:///{path}"
    with Service.open(db, catalogue=CAT) as svc:
        before = dump(svc)
    upload = tmp_path / case["file"]
    upload.write_bytes(corpus_files[case["file"]])
    result = _import(upload, db)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    expected = _expected(case["errors"])
    assert result.stderr.splitlines() == [
        *expected,
        f"refused: {len(expected)} problem(s) in {case['file']}; nothing was saved",
    ]
    with Service.open(db, catalogue=CAT) as svc:
        assert dump(svc) == before


@pytest.mark.parametrize("source", ["/dev/zero", "sparse"])
def test_an_endless_or_huge_file_is_refused_without_reading_it_whole(
    corpus_db,  # noqa: F811
    source,
    tmp_path,
):
    if source == "sparse":
        path = tmp_path / "sparse.xlsx"
        with path.open("wb") as fh:
            fh.truncate(1536 * 1024 * 1024)  # 1.5 GB, no blocks on disk
    else:
        path = "/dev/zero"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    result = _import(path, f"sqlite:///{corpus_db}")
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert result.exit_code == 1, result.output
    first = result.stderr.splitlines()[0]
    assert first == (TOO_LARGE if source == "/dev/zero" else SPARSE_TOO_LARGE)
    assert grown * 1024 < 4 * MAX_UPLOAD_BYTES  # far from the 1.5 GB the file holds


def test_a_good_file_is_imported_in_one_go_and_the_trail_verifies(demo_template, tmp_path):
    """`riskmap import` checks and applies in one transaction; `riskmap audit verify`
    passes after it (the import's events are chained in one batch)."""
    from riskmap import service
    from riskmap.service import CLI_ADMIN
    from test_service_exports import fill
    from test_service_imports import REFS, _levels_changed

    path = tmp_path / "riskmap.sqlite"
    shutil.copyfile(demo_template.path, path)
    db = f"sqlite:///{path}"
    with Service.open(db, catalogue=CAT) as svc:
        template = service.questionnaire_template(svc, CLI_ADMIN, "2026", units=["BC-001"])
    filled = fill(_levels_changed(template, 4), {("Controls", f"{REFS}2"): "1: REF-9, registry"})
    upload = tmp_path / "bc.xlsx"
    upload.write_bytes(filled)
    args = ["import", str(upload), "--cycle", "2026", "--user", "demo.officer", "--db", db]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert (
        "4 risk rating(s) and 0 control rating(s), 1 evidence reference(s) saved" in result.output
    )
    again = CliRunner().invoke(main, [*args, "--dry-run"])
    assert again.exit_code == 1 and "changed in riskmap after this file" in again.stderr
    verified = CliRunner().invoke(main, ["audit", "verify", "--db", db])
    assert verified.exit_code == 0, verified.output
    assert "intact" in verified.output
